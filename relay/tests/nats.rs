//! The NATS JetStream backend with a `nats-server -js` of each test's own (on a free
//! 127.0.0.1 port, its own store directory, killed at the end): two backends (two relay
//! nodes) share the directory and the queue under compare-and-set; two relay processes
//! route between each other, and when one is killed mid-stream its devices move to the
//! other and every message is committed exactly once; a NATS restart loses nothing that was
//! acknowledged. Each test says SKIPPED and passes only when nats-server is not installed.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bluetick::relay_protocol::Event;
use bluetick::{Account, Address, MessageId, Received};
use bluetick_relay::backend::{Binding, EnqueueError, QueueLimits};
use bluetick_relay::{NatsBackend, NatsConfig, RelayBackend, RelayClient};
use common::nats::{nats_or_skip, NatsServer, RelayNode};
use common::*;

const RELAY: &str = env!("CARGO_BIN_EXE_bluetick-relay");

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(90), f)
        .await
        .expect("test exceeded its time bound");
}

async fn backend(url: &str, limits: QueueLimits) -> Arc<NatsBackend> {
    let config = NatsConfig {
        servers: vec![url.to_owned()],
        replicas: 1,
        limits,
    };
    Arc::new(NatsBackend::connect(&config).await.unwrap())
}

/// Runs blocking backend calls off the async tasks, as the server does.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_backends_share_bindings_queue_limits_and_one_time_keys() {
    let Some(bin) = nats_or_skip("two_backends_share_bindings_queue_limits_and_one_time_keys")
    else {
        return;
    };
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let server = NatsServer::start(&bin, dir.path());
        let limits = QueueLimits {
            max_count: 3,
            max_bytes: 1_000,
            ..QueueLimits::default()
        };
        let (n1, n2) = (
            backend(&server.url(), limits).await,
            backend(&server.url(), limits).await,
        );
        let bob_account = account();
        let upload = bob_account.prekey_upload().unwrap();
        let (m1, m2) = (Arc::clone(&n1), Arc::clone(&n2));
        blocking(move || {
            let (n1, n2) = (m1, m2);
            // Bindings: first come, the same key again, another key refused, per-user bound.
            let a = Address::new("alice", 1);
            assert_eq!(n1.bind(&a, &[1; 32], 2).unwrap(), Binding::New);
            assert_eq!(n2.bind(&a, &[1; 32], 2).unwrap(), Binding::Same);
            assert_eq!(n2.bind(&a, &[9; 32], 2).unwrap(), Binding::Other);
            assert_eq!(
                n2.bind(&Address::new("alice", 2), &[2; 32], 2).unwrap(),
                Binding::New
            );
            assert_eq!(
                n1.bind(&Address::new("alice", 3), &[3; 32], 2).unwrap(),
                Binding::TooManyDevices
            );
            assert_eq!(n1.devices(b"alice").unwrap(), [1, 2]);
            assert_eq!(n2.identity(&a).unwrap(), Some([1; 32]));
            // Two nodes binding one free address to two keys at once: one wins.
            let racers: Vec<_> = [(Arc::clone(&n1), 5u8), (Arc::clone(&n2), 6u8)]
                .into_iter()
                .map(|(n, k)| {
                    std::thread::spawn(move || n.bind(&Address::new("race", 1), &[k; 32], 16))
                })
                .collect();
            let outcomes: Vec<Binding> = racers
                .into_iter()
                .map(|t| t.join().unwrap().unwrap())
                .collect();
            assert_eq!(
                outcomes.iter().filter(|b| **b == Binding::New).count(),
                1,
                "{outcomes:?}"
            );

            let (bob, carol, dave) = (
                Address::new("bob", 1),
                Address::new("carol", 1),
                Address::new("dave", 1),
            );
            for (x, k) in [(&bob, 4u8), (&carol, 5), (&dave, 6)] {
                n1.bind(x, &[k; 32], 16).unwrap();
            }
            // A group send stored once per device; the resend through the other node is
            // deduplicated by its message id.
            let w1 = b"wire one".to_vec();
            let id1 = MessageId::of(&w1);
            let group = [bob.clone(), carol.clone()];
            n1.enqueue(&a, &group, &id1, &w1, 1, &limits).unwrap();
            n2.enqueue(&a, &group, &id1, &w1, 2, &limits).unwrap();
            assert_eq!(n2.queued(&bob).unwrap(), 1);
            assert_eq!(n1.queued(&carol).unwrap(), 1);
            let got = n2.pending(&bob, 0, 10, 3, &limits).unwrap();
            assert_eq!(got.len(), 1);
            assert_eq!((got[0].id, &got[0].sender, &got[0].wire), (id1, &a, &w1));
            // An unknown recipient: stored for none.
            let w2 = b"wire two".to_vec();
            let id2 = MessageId::of(&w2);
            assert_eq!(
                n1.enqueue(
                    &a,
                    &[bob.clone(), Address::new("x", 1)],
                    &id2,
                    &w2,
                    4,
                    &limits
                ),
                Err(EnqueueError::UnknownRecipient(Address::new("x", 1)))
            );
            assert_eq!(n1.queued(&bob).unwrap(), 1);
            // The count limit...
            let w3 = b"wire three".to_vec();
            let id3 = MessageId::of(&w3);
            n1.enqueue(&a, std::slice::from_ref(&bob), &id2, &w2, 5, &limits)
                .unwrap();
            n2.enqueue(&a, std::slice::from_ref(&bob), &id3, &w3, 5, &limits)
                .unwrap();
            let w4 = b"wire four".to_vec();
            assert_eq!(
                n1.enqueue(
                    &a,
                    std::slice::from_ref(&bob),
                    &MessageId::of(&w4),
                    &w4,
                    6,
                    &limits
                ),
                Err(EnqueueError::QueueFull(bob.clone()))
            );
            // ...and the byte limit.
            let big = vec![7u8; 600];
            n2.enqueue(
                &a,
                std::slice::from_ref(&dave),
                &MessageId::of(&big),
                &big,
                6,
                &limits,
            )
            .unwrap();
            let big2 = vec![8u8; 600];
            assert_eq!(
                n1.enqueue(
                    &a,
                    std::slice::from_ref(&dave),
                    &MessageId::of(&big2),
                    &big2,
                    6,
                    &limits
                ),
                Err(EnqueueError::QueueFull(dave.clone()))
            );
            // Acknowledged through the node that delivered it, and through the other one:
            // erased once each; a late resend is not stored again.
            assert_eq!(n2.acknowledge(&bob, &[id1, id1]).unwrap(), 1);
            assert_eq!(n1.acknowledge(&bob, &[id2]).unwrap(), 1);
            assert_eq!(n2.acknowledge(&bob, &[id2]).unwrap(), 0);
            assert_eq!(n1.queued(&bob).unwrap(), 1);
            n1.enqueue(&a, std::slice::from_ref(&bob), &id1, &w1, 7, &limits)
                .unwrap();
            let left: Vec<MessageId> = n1
                .pending(&bob, 0, 10, 8, &limits)
                .unwrap()
                .iter()
                .map(|q| q.id)
                .collect();
            assert_eq!(left, [id3]);
            // Room again after the acknowledgements.
            n2.enqueue(
                &a,
                std::slice::from_ref(&bob),
                &MessageId::of(&w4),
                &w4,
                9,
                &limits,
            )
            .unwrap();

            // Device lists: replaced only if unchanged since the writer read them.
            assert!(n1.replace_device_list(b"u", None, b"v1").unwrap());
            assert!(!n2.replace_device_list(b"u", None, b"v2").unwrap());
            assert!(n2.replace_device_list(b"u", Some(b"v1"), b"v2").unwrap());
            assert!(!n1.replace_device_list(b"u", Some(b"v1"), b"v3").unwrap());
            assert_eq!(n1.device_list(b"u").unwrap().as_deref(), Some(&b"v2"[..]));

            // One-time prekeys: two nodes taking bundles at once never hand out one twice.
            n1.bind(&Address::new("keys", 1), upload.identity.as_bytes(), 16)
                .unwrap();
            let one_time = upload.one_time_prekeys.len();
            assert!(one_time >= 2);
            n1.store_prekeys(&Address::new("keys", 1), upload, 500)
                .unwrap();
            let takers: Vec<_> = [n1, n2]
                .into_iter()
                .map(|n| {
                    std::thread::spawn(move || {
                        (0..one_time)
                            .map(|_| n.take_bundle(&Address::new("keys", 1)).unwrap().unwrap())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let bundles: Vec<Vec<u8>> =
                takers.into_iter().flat_map(|t| t.join().unwrap()).collect();
            let ids: Vec<u32> = bundles
                .iter()
                .filter_map(|b| {
                    bluetick::PreKeyBundle::from_bytes(b)
                        .unwrap()
                        .one_time_prekey
                        .map(|k| k.id)
                })
                .collect();
            let distinct: HashSet<u32> = ids.iter().copied().collect();
            assert_eq!(ids.len(), one_time, "every one-time key handed out");
            assert_eq!(distinct.len(), one_time, "a one-time key handed out twice");
        })
        .await;

        // A store on one node wakes the pipe of its device on the other.
        let wake = Arc::new(tokio::sync::Notify::new());
        let (m2, w) = (Arc::clone(&n2), Arc::clone(&wake));
        let watch = blocking(move || m2.watch(&Address::new("carol", 1), w))
            .await
            .unwrap();
        assert!(watch.is_some());
        let m1 = Arc::clone(&n1);
        blocking(move || {
            let w = b"wake".to_vec();
            m1.enqueue(
                &Address::new("alice", 1),
                &[Address::new("carol", 1)],
                &MessageId::of(&w),
                &w,
                10,
                &limits,
            )
            .unwrap();
        })
        .await;
        tokio::time::timeout(WAIT, wake.notified())
            .await
            .expect("the other node was not woken");
        drop((watch, server));
    })
    .await;
}

async fn queued(b: &Arc<NatsBackend>, who: &Address) -> u64 {
    let (b, who) = (Arc::clone(b), who.clone());
    blocking(move || b.queued(&who).unwrap()).await
}

async fn wait_drained(b: &Arc<NatsBackend>, who: &Address) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let n = queued(b, who).await;
        if n == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{who} still has {n} queued"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The inbox's ids and bodies, the number of redeliveries, and the client.
type Inbox = (Vec<(MessageId, String)>, usize, RelayClient);

/// Commits what arrives until `n` distinct messages are in the account's inbox. A
/// redelivery (its acknowledgement was lost with a killed node) finds its id already in
/// the inbox (the account hands the stored entry back) and is acknowledged again; it is
/// not counted twice. Returns the inbox's ids and bodies, in arrival order, and the number
/// of redeliveries.
fn receive(mut c: RelayClient, account: Arc<Account>, n: usize) -> tokio::task::JoinHandle<Inbox> {
    tokio::spawn(async move {
        let mut bodies = Vec::new();
        let mut seen = HashSet::new();
        let mut redelivered = 0usize;
        while bodies.len() < n {
            let (from, id, wire) = delivery(&mut c).await;
            match account.decrypt(&from, &wire).map(|inc| inc.received) {
                Ok(Received::Message { id: got, body, .. }) => {
                    assert_eq!(got, id);
                    if seen.insert(id) {
                        bodies.push((id, String::from_utf8(body).unwrap()));
                    } else {
                        redelivered += 1;
                    }
                }
                Ok(other) => panic!("unexpected {other:?}"),
                Err(e) => panic!("a delivery did not open: {e}"),
            }
            c.committed(id);
        }
        (bodies, redelivered, c)
    })
}

/// Waits until the relay acknowledged every id in `ids`, each once.
async fn all_sent(c: &mut RelayClient, account: &Account, ids: &[MessageId]) {
    let mut waiting: HashSet<MessageId> = ids.iter().copied().collect();
    while !waiting.is_empty() {
        let id = wait_for(c, "Sent", |e| match e {
            Event::Sent(id) => Some(*id),
            _ => None,
        })
        .await;
        if waiting.remove(&id) {
            account.mark_sent(&id).unwrap();
        }
    }
}

fn check_exactly_once(got: &[(MessageId, String)], ids: &[MessageId], prefix: &str) {
    let distinct: HashSet<MessageId> = got.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        distinct.len(),
        got.len(),
        "a message committed twice: {:?}",
        got.iter().map(|(_, t)| t).collect::<Vec<_>>()
    );
    assert_eq!(
        distinct,
        ids.iter().copied().collect::<HashSet<_>>(),
        "a message lost"
    );
    let mut texts: Vec<String> = got.iter().map(|(_, t)| t.clone()).collect();
    texts.sort_by_key(|t| t[prefix.len()..].parse::<usize>().unwrap());
    let want: Vec<String> = (0..ids.len()).map(|i| format!("{prefix}{i}")).collect();
    assert_eq!(texts, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relay_nodes_route_and_fail_over_with_every_message_once() {
    let Some(bin) = nats_or_skip("two_relay_nodes_route_and_fail_over_with_every_message_once")
    else {
        return;
    };
    bounded(async {
        const N: usize = 30;
        let dir = tempfile::tempdir().unwrap();
        let server = NatsServer::start(&bin, &dir.path().join("nats"));
        let (log1, log2) = (dir.path().join("relay1.log"), dir.path().join("relay2.log"));
        let node1 = RelayNode::start(RELAY, &server.url(), 1, &log1);
        let node2 = RelayNode::start(RELAY, &server.url(), 1, &log2);
        let (u1, u2) = (node1.url(), node2.url());
        // Alice and Carol start on node 1, Bob and Dave on node 2; each moves to the other
        // node when its pipe is lost.
        let one_then_two = [u1.clone(), u2.clone()];
        let two_then_one = [u2.clone(), u1.clone()];
        let (alice, bob, carol, dave) = (account(), account(), account(), account());
        let (a, b, c, d) = (
            Address::new("alice", 1),
            Address::new("bob", 1),
            Address::new("carol", 1),
            Address::new("dave", 1),
        );
        let mut ca = client_nodes(&one_then_two, &a, &alice);
        let mut cc = client_nodes(&one_then_two, &c, &carol);
        let mut cb = client_nodes(&two_then_one, &b, &bob);
        let mut cd = client_nodes(&two_then_one, &d, &dave);
        for x in [&mut ca, &mut cb, &mut cc, &mut cd] {
            ready(x).await;
        }
        // Prekeys uploaded on one node, bundles fetched on the other.
        upload(&mut cb, &bob).await;
        upload(&mut cc, &carol).await;
        let bundle_b = bundle(&mut ca, &b).await;
        let bundle_c = bundle(&mut cd, &c).await;

        let to_bob = receive(cb, Arc::clone(&bob), N);
        let to_carol = receive(cc, Arc::clone(&carol), N);
        let mut node1 = Some(node1);
        let (mut ids_ab, mut ids_dc) = (Vec::new(), Vec::new());
        for i in 0..N {
            let out = alice
                .encrypt(
                    &b,
                    format!("a{i}").as_bytes(),
                    (i == 0).then_some(&bundle_b),
                    1_000 + i as u64,
                )
                .unwrap();
            ids_ab.push(ca.send(vec![b.clone()], out.wire));
            let out = dave
                .encrypt(
                    &c,
                    format!("d{i}").as_bytes(),
                    (i == 0).then_some(&bundle_c),
                    1_000 + i as u64,
                )
                .unwrap();
            ids_dc.push(cd.send(vec![c.clone()], out.wire));
            if i == N / 2 {
                // Node 1 dies mid-stream: Alice (a sender) and Carol (a recipient) come
                // back on node 2 after their backoff.
                node1.take().unwrap().kill();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        all_sent(&mut ca, &alice, &ids_ab).await;
        all_sent(&mut cd, &dave, &ids_dc).await;
        assert_eq!((ca.outbox_len(), cd.outbox_len()), (0, 0));
        let (got_b, redelivered_b, cb) = tokio::time::timeout(WAIT, to_bob)
            .await
            .expect("Bob did not get every message")
            .unwrap();
        let (got_c, _, cc) = tokio::time::timeout(WAIT, to_carol)
            .await
            .expect("Carol did not get every message")
            .unwrap();
        check_exactly_once(&got_b, &ids_ab, "a");
        // Bob's pipe (node 2) never broke: Alice's resends after node 1 died were
        // deduplicated by message id, so nothing reached him twice. Carol may get again
        // what she acknowledged to node 1 just before it died.
        assert_eq!(redelivered_b, 0, "a resend was stored twice");
        check_exactly_once(&got_c, &ids_dc, "d");
        // Alice and Carol did move: each authenticated on node 1, then on node 2.
        // Each node has a log of its own: the nodes are two processes, and lines of two
        // writers in one file could interleave.
        let (text1, text2) = (
            std::fs::read_to_string(&log1).unwrap(),
            std::fs::read_to_string(&log2).unwrap(),
        );
        for who in ["alice.1", "carol.1"] {
            let line = format!("connected {who}");
            let on = |text: &str| text.lines().filter(|l| *l == line).count();
            let (n1, n2) = (on(&text1), on(&text2));
            assert!(
                n1 >= 1 && n2 >= 1,
                "{who} connected {n1} time(s) on node 1 and {n2} on node 2"
            );
        }
        // Everything acknowledged is erased from the stream.
        let probe = backend(&server.url(), QueueLimits::default()).await;
        wait_drained(&probe, &b).await;
        wait_drained(&probe, &c).await;
        drop((cb, cc, ca, cd, node2, server));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_loses_nothing_acknowledged() {
    let Some(bin) = nats_or_skip("a_nats_restart_loses_nothing_acknowledged") else {
        return;
    };
    bounded(async {
        const N: usize = 10;
        let dir = tempfile::tempdir().unwrap();
        let mut server = NatsServer::start(&bin, &dir.path().join("nats"));
        let log = dir.path().join("relay.log");
        let node = RelayNode::start(RELAY, &server.url(), 1, &log);
        let url = node.url();
        let (alice, bob) = (account(), account());
        let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
        let mut ca = client(&url, &a, &alice);
        let mut cb = client(&url, &b, &bob);
        ready(&mut ca).await;
        ready(&mut cb).await;
        upload(&mut cb, &bob).await;
        let bundle_b = bundle(&mut ca, &b).await;
        drop(cb); // Bob offline: the messages wait in the stream
        let mut ids = Vec::new();
        for i in 0..N {
            let out = alice
                .encrypt(
                    &b,
                    format!("m{i}").as_bytes(),
                    (i == 0).then_some(&bundle_b),
                    1_000 + i as u64,
                )
                .unwrap();
            ids.push(ca.send(vec![b.clone()], out.wire));
        }
        all_sent(&mut ca, &alice, &ids).await;

        // SIGKILL and restart on the same store directory and port.
        server.restart();

        // The relay node's NATS client reconnects by itself; Bob gets every acknowledged
        // message.
        let cb = client(&url, &b, &bob);
        let (got, redelivered, _cb) = tokio::time::timeout(WAIT, receive(cb, Arc::clone(&bob), N))
            .await
            .expect("acknowledged messages lost in the NATS restart")
            .unwrap();
        check_exactly_once(&got, &ids, "m");
        assert_eq!(redelivered, 0);
        let probe = backend(&server.url(), QueueLimits::default()).await;
        wait_drained(&probe, &b).await;
        // And the relay goes on storing after the restart.
        let out = alice.encrypt(&b, b"after", None, 9_000).unwrap();
        let id = ca.send(vec![b.clone()], out.wire);
        all_sent(&mut ca, &alice, &[id]).await;
        assert_eq!(queued(&probe, &b).await, 1);
        drop((node, server));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_node_nats_cluster_keeps_serving_when_one_nats_node_dies() {
    let Some(bin) = nats_or_skip("three_node_nats_cluster_keeps_serving_when_one_nats_node_dies")
    else {
        return;
    };
    bounded(async {
        const N: usize = 20;
        let dir = tempfile::tempdir().unwrap();
        let routes: Vec<u16> = (0..3).map(|_| common::nats::free_port()).collect();
        let mut servers: Vec<NatsServer> = (0..3)
            .map(|i| {
                NatsServer::start_node(
                    &bin,
                    &dir.path().join(format!("nats{i}")),
                    &format!("n{i}"),
                    Some(routes[i]),
                    routes.clone(),
                )
            })
            .collect();
        // Until the cluster has elected its JetStream leader, creating the replicated
        // stream fails: wait for it.
        let config = NatsConfig {
            servers: servers.iter().map(NatsServer::url).collect(),
            replicas: 3,
            limits: QueueLimits::default(),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let probe = loop {
            match NatsBackend::connect(&config).await {
                Ok(b) => break Arc::new(b),
                Err(e) => {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "the cluster did not form: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        let log = dir.path().join("relay.log");
        // Each relay node knows every NATS node and starts on a different one.
        let nats_a = format!("{},{}", servers[0].url(), servers[1].url());
        let nats_b = format!("{},{}", servers[1].url(), servers[0].url());
        let node1 = RelayNode::start(RELAY, &nats_a, 3, &log);
        let node2 = RelayNode::start(RELAY, &nats_b, 3, &log);
        let (alice, bob) = (account(), account());
        let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
        let mut ca = client(&node1.url(), &a, &alice);
        let mut cb = client(&node2.url(), &b, &bob);
        ready(&mut ca).await;
        ready(&mut cb).await;
        upload(&mut cb, &bob).await;
        let bundle_b = bundle(&mut ca, &b).await;
        let to_bob = receive(cb, Arc::clone(&bob), N);
        let mut ids = Vec::new();
        for i in 0..N {
            let out = alice
                .encrypt(
                    &b,
                    format!("c{i}").as_bytes(),
                    (i == 0).then_some(&bundle_b),
                    1_000 + i as u64,
                )
                .unwrap();
            ids.push(ca.send(vec![b.clone()], out.wire));
            if i == N / 2 {
                // One of three NATS nodes dies: the others hold a quorum of every replica.
                servers[2].kill();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        all_sent(&mut ca, &alice, &ids).await;
        let (got, redelivered, mut cb) = tokio::time::timeout(WAIT, to_bob)
            .await
            .expect("Bob did not get every message")
            .unwrap();
        check_exactly_once(&got, &ids, "c");
        assert_eq!(redelivered, 0);
        // An acknowledgement NATS could not take during the election (past the relay's
        // retries, on a busy machine) leaves its message queued: Bob reconnects, gets it
        // again and acknowledges it; it must be one his inbox already holds.
        let sent: HashSet<MessageId> = ids.iter().copied().collect();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
        while queued(&probe, &b).await > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "Bob's queue is not drained"
            );
            drop(cb);
            cb = client(&node2.url(), &b, &bob);
            ready(&mut cb).await;
            while let Ok(Some(e)) =
                tokio::time::timeout(Duration::from_millis(500), cb.next_event()).await
            {
                if let Event::Delivery { id, .. } = e {
                    assert!(sent.contains(&id), "delivered a message never sent");
                    cb.committed(id);
                }
            }
        }
        drop((node1, node2, probe));
        servers.clear();
    })
    .await;
}
