//! The relay as a process (`bluetick-relay`): killed with SIGKILL mid-conversation and
//! restarted, it loses and doubles nothing; after a conversation its database and its log
//! hold none of the plaintext and no key material.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use bluetick::rand_core::{Rng, SeedableRng};
use bluetick::receipt::ReceiptKind;
use bluetick::relay_protocol::Event;
use bluetick::{
    Account, AccountConfig, AccountError, Address, IdentityKeyPair, MemoryStore, MessageId,
    Received, Secret32,
};
use chacha20::ChaCha20Rng;
use common::*;

struct RelayProcess {
    child: Child,
    port: u16,
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RelayProcess {
    /// Starts the relay binary on `port` (0: any) and waits for it to listen.
    fn start(db: &Path, port: u16, log: &Path) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bluetick-relay"));
        command
            .args(["--listen", &format!("127.0.0.1:{port}"), "--db"])
            .arg(db);
        let (child, port) = spawn_relay(command, log);
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(mut self) -> u16 {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.port
    }
}

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test exceeded its time bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_killed_mid_conversation_and_restarted_loses_and_doubles_nothing() {
    bounded(async {
        const N: usize = 30;
        let dir = tempfile::tempdir().unwrap();
        let (db, log) = (dir.path().join("relay.db"), dir.path().join("relay.log"));
        let relay = RelayProcess::start(&db, 0, &log);
        let url = relay.url();
        let (alice, bob) = (account(), account());
        let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
        let mut ca = client(&url, &a, &alice);
        let mut cb = client(&url, &b, &bob);
        ready(&mut ca).await;
        ready(&mut cb).await;
        upload(&mut cb, &bob).await;
        let bundle = bundle(&mut ca, &b).await;

        // Bob commits and acknowledges whatever arrives, counting redeliveries.
        let receiver = {
            let bob = Arc::clone(&bob);
            tokio::spawn(async move {
                let (mut bodies, mut redelivered) = (Vec::new(), Vec::new());
                while bodies.len() < N {
                    let (from, id, wire) = delivery(&mut cb).await;
                    match bob.decrypt(&from, &wire) {
                        // As an app does: store the message, then acknowledge it to the
                        // account, and only then to the relay.
                        Ok(inc) => match inc.received {
                            Received::Message {
                                id: stored, body, ..
                            } => {
                                assert_eq!(stored, id, "the relay's id is the message's id");
                                bodies.push((id, body));
                                bob.acknowledge(&stored).unwrap();
                            }
                            other => panic!("unexpected {other:?}"),
                        },
                        // Delivered again because its acknowledgement was lost with the
                        // relay: the account knows it was received; acknowledge it.
                        Err(AccountError::AlreadyReceived(_)) => redelivered.push(id),
                        Err(e) => panic!("Bob could not decrypt a delivery: {e}"),
                    }
                    cb.committed(id);
                }
                (bodies, redelivered, cb)
            })
        };

        let mut relay = Some(relay);
        let mut ids = Vec::new();
        for i in 0..N {
            let out = alice
                .encrypt(
                    &b,
                    format!("message {i}").as_bytes(),
                    (i == 0).then_some(&bundle),
                    0,
                )
                .unwrap();
            ids.push(ca.send(vec![b.clone()], out.wire));
            if i == N / 2 {
                let port = relay.take().unwrap().kill();
                tokio::time::sleep(Duration::from_millis(100)).await;
                relay = Some(RelayProcess::start(&db, port, &log));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Every message is acknowledged by the relay (resent from the outbox if needed).
        let mut waiting: HashSet<MessageId> = ids.iter().copied().collect();
        while !waiting.is_empty() {
            let id = wait_for(&mut ca, "Sent", |e| match e {
                Event::Sent(id) => Some(*id),
                _ => None,
            })
            .await;
            assert!(waiting.remove(&id), "Sent reported twice for {id:?}");
            alice.mark_sent(&id).unwrap();
        }
        assert_eq!(ca.outbox_len(), 0);

        let (bodies, redelivered, cb) = tokio::time::timeout(WAIT, receiver)
            .await
            .expect("Bob did not get every message")
            .unwrap();
        let got: HashSet<MessageId> = bodies.iter().map(|(id, _)| *id).collect();
        assert_eq!(got.len(), N, "a message was committed twice");
        assert_eq!(got, ids.iter().copied().collect(), "a message was lost");
        let mut texts: Vec<String> = bodies
            .iter()
            .map(|(_, b)| String::from_utf8(b.clone()).unwrap())
            .collect();
        texts.sort_by_key(|t| t[8..].parse::<usize>().unwrap());
        assert_eq!(
            texts,
            (0..N).map(|i| format!("message {i}")).collect::<Vec<_>>()
        );
        for id in &redelivered {
            assert!(got.contains(id), "redelivered an id never sent");
        }
        // The relay stored each message once for Bob, and once acknowledged it keeps no
        // wire.
        wait_queued(&db, &b, 0).await;
        drop(cb);
        let mut cb = client(&url, &b, &bob);
        assert_eq!(
            ready(&mut cb).await,
            0,
            "acknowledged messages still queued"
        );
        let conn = rusqlite::Connection::open(&db).unwrap();
        let (rows, distinct, wires): (i64, i64, i64) = conn
            .query_row(
                "SELECT COUNT(*), COUNT(DISTINCT id), COUNT(wire) FROM queue WHERE user = ?1",
                [b"bob".as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((rows, distinct, wires), (N as i64, N as i64, 0));
        drop(relay);
    })
    .await;
}

/// An account whose generator the test can replay, and its identity seed found in that
/// stream (so the scan below looks for the real private key).
fn replayable_account(seed: u64) -> (Arc<Account>, [u8; 32]) {
    let config = AccountConfig {
        one_time_prekeys: 5,
        one_time_pq_prekeys: 5,
        low_water_mark: 1,
    };
    let account = Account::create_with_rng(
        Box::new(MemoryStore::new()),
        &storage_key(),
        config,
        Box::new(ChaCha20Rng::seed_from_u64(seed)),
    )
    .unwrap();
    let mut stream = vec![0u8; 4096];
    ChaCha20Rng::seed_from_u64(seed).fill_bytes(&mut stream);
    let found = stream.windows(32).find_map(|w| {
        let seed: [u8; 32] = w.try_into().unwrap();
        let pair = IdentityKeyPair::from_seed(Secret32::from_slice(&seed).unwrap());
        (pair.public() == account.identity()).then_some(seed)
    });
    (
        Arc::new(account),
        found.expect("identity seed not found in the generator's stream"),
    )
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_database_and_log_hold_no_plaintext_and_no_key_material() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let (db, log) = (dir.path().join("relay.db"), dir.path().join("relay.log"));
        let relay = RelayProcess::start(&db, 0, &log);
        let url = relay.url();
        let ((alice, alice_seed), (bob, bob_seed)) = (replayable_account(1), replayable_account(2));
        let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
        let bodies: Vec<String> = (0..4)
            .map(|i| format!("confidential plaintext number {i}: meet at the old mill"))
            .collect();

        let mut cb = client(&url, &b, &bob);
        ready(&mut cb).await;
        upload(&mut cb, &bob).await;
        drop(cb); // offline: the first messages wait in the queue
        let mut ca = client(&url, &a, &alice);
        ready(&mut ca).await;
        upload(&mut ca, &alice).await;
        let bundle = bundle(&mut ca, &b).await;
        let mut wires = Vec::new();
        for (i, text) in bodies[..3].iter().enumerate() {
            let out = alice
                .encrypt(&b, text.as_bytes(), (i == 0).then_some(&bundle), 0)
                .unwrap();
            wires.push(out.wire.clone());
            let id = ca.send(vec![b.clone()], out.wire);
            sent(&mut ca, id).await;
        }
        let mut cb = client(&url, &b, &bob);
        assert_eq!(ready(&mut cb).await, 3);
        let mut ids = Vec::new();
        for _ in 0..3 {
            let (from, id, wire) = delivery(&mut cb).await;
            bob.decrypt(&from, &wire).unwrap();
            cb.committed(id);
            ids.push(id);
        }
        let read = bob.create_receipt(&a, ReceiptKind::Read, &ids, 9).unwrap();
        let reply = bob.encrypt(&a, bodies[3].as_bytes(), None, 0).unwrap();
        wires.push(reply.wire.clone());
        for w in [read.wire, reply.wire] {
            let id = cb.send(vec![a.clone()], w);
            sent(&mut cb, id).await;
        }
        // Alice stays away from the reply: its ciphertext is still in the queue.
        let (from, _, wire) = delivery(&mut ca).await;
        alice.decrypt(&from, &wire).unwrap();
        wait_queued(&db, &b, 0).await;
        // SIGKILL: the write-ahead log is left as it was.
        drop((ca, cb));
        relay.kill();

        let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
        let all: Vec<u8> = files.iter().flat_map(|(_, b)| b.clone()).collect();
        let log_text = std::fs::read_to_string(&log).unwrap();
        // Not a vacuous scan: the files hold the routing data and public keys they should.
        assert!(
            contains(&all, bob.identity().as_bytes()),
            "scanned the wrong files"
        );
        assert!(
            contains(&all, &wires[3][..64]),
            "the queued reply is not in the files"
        );
        assert!(
            log_text.contains("stored") && log_text.contains("bob.1"),
            "{log_text}"
        );

        let mut secrets: Vec<(&str, Vec<u8>)> = vec![
            ("alice's identity seed", alice_seed.to_vec()),
            ("bob's identity seed", bob_seed.to_vec()),
            ("the storage key", [7u8; 32].to_vec()),
        ];
        for (i, body) in bodies.iter().enumerate() {
            secrets.push((
                ["body 0", "body 1", "body 2", "body 3"][i],
                body.as_bytes().to_vec(),
            ));
            // A distinctive part of each body on its own.
            secrets.push(("a body fragment", b"old mill".to_vec()));
        }
        for (what, s) in &secrets {
            for (path, bytes) in &files {
                assert!(!contains(bytes, s), "{what} found in {}", path.display());
            }
            assert!(
                !log_text.contains(&hex(s)),
                "{what} found in the log as hex"
            );
        }
        // The log carries routing data only: no wire bytes, in hex or raw.
        for w in &wires {
            assert!(
                !log_text.contains(&hex(&w[w.len() - 32..])),
                "wire bytes in the log"
            );
        }
        for line in log_text.lines() {
            assert!(line.len() < 200, "an unexpectedly long log line: {line}");
        }
    })
    .await;
}
