//! Tests across processes, with the Account over SQLite:
//!
//! - **crash**: a child process plays a long conversation between two accounts through a
//!   file-based relay and is killed with SIGKILL at random points, at least 200 times, then
//!   restarted on the same databases; at the end every message was read once, none twice,
//!   every status reached Read, and both sessions still work.
//! - **two processes**: two processes open Bob's database at once, both decrypting every
//!   message from Alice in their own order and both sending replies; neither rolls back the
//!   other's ratchet state.
//!
//! The test binary is its own child: `BLUETICK_CHILD` selects the child's role.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use bluetick::receipt::ReceiptKind;
use bluetick::{
    Account, AccountConfig, AccountError, Address, MemoryStore, MessageId, MessageStatus,
    PreKeyUpload, Received, Secret32, SqliteStore,
};

const KILLS: usize = 200;

fn key(b: u8) -> Secret32 {
    Secret32::from_slice(&[b; 32]).unwrap()
}

fn config() -> AccountConfig {
    AccountConfig {
        one_time_prekeys: 5,
        one_time_pq_prekeys: 5,
        low_water_mark: 1,
    }
}

fn open(path: &Path, k: u8) -> Account {
    Account::open(
        Box::new(SqliteStore::open(path).unwrap()),
        &key(k),
        config(),
    )
    .unwrap()
}

fn alice_addr() -> Address {
    Address::new("alice", 1)
}

fn bob_addr() -> Address {
    Address::new("bob", 1)
}

/// Writes a file so that it either exists whole or not at all.
fn write_atomic(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).unwrap();
    fs::rename(&tmp, path).unwrap();
}

/// Appends one line to an app log with a single write, so a kill leaves either the whole
/// line or a torn prefix of it. A torn tail is ended first, so it stays a line of its own,
/// which [`lines`] then skips.
fn append_line(path: &Path, line: &str) {
    let torn = fs::read(path)
        .ok()
        .is_some_and(|b| b.last().is_some_and(|&c| c != b'\n'));
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let record = if torn {
        format!("\n{line}\n")
    } else {
        format!("{line}\n")
    };
    f.write_all(record.as_bytes()).unwrap();
    f.sync_data().unwrap();
}

/// The well-formed lines of an app log: `<word> <field> <32 hex digits>`. A well-formed
/// last line without its newline is whole (the newline is the only byte after the 32 hex
/// digits), so it counts; a torn prefix is never well-formed.
fn lines(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            parts.len() == 3
                && parts[2].len() == 32
                && parts[2].bytes().all(|c| c.is_ascii_hexdigit())
        })
        .map(str::to_owned)
        .collect()
}

fn hex(id: &MessageId) -> String {
    id.to_string()
}

fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none())
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------- the crash child

/// One life of the crash child: recover, then run the conversation until `target` messages
/// are sent, delivered and acknowledged. Exit code 3 means a protocol failure.
fn crash_child(dir: &Path, target: usize) -> ExitCode {
    let alice = open(&dir.join("alice.db"), 1);
    let bob = open(&dir.join("bob.db"), 2);
    let (to_bob, to_alice, done) = (dir.join("to_bob"), dir.join("to_alice"), dir.join("done"));
    let (alice_log, bob_log) = (dir.join("alice.log"), dir.join("bob.log"));

    // Bob's app stores unacknowledged inbox entries first, idempotently by id.
    let logged: HashSet<String> = lines(&bob_log)
        .iter()
        .filter_map(|l| l.split(' ').nth(2).map(str::to_owned))
        .collect();
    for entry in bob.inbox().unwrap() {
        if !logged.contains(&hex(&entry.id)) {
            append_line(
                &bob_log,
                &format!(
                    "got {} {}",
                    String::from_utf8_lossy(&entry.body),
                    hex(&entry.id)
                ),
            );
        }
        bob.acknowledge(&entry.id).unwrap();
    }

    loop {
        // Alice sends the next message, unless the relay already has it.
        let sent = lines(&alice_log).len();
        if sent < target {
            let name = format!("{sent:06}");
            let existing = [to_bob.join(&name), done.join(&name)]
                .into_iter()
                .find(|p| p.exists());
            let id = match existing {
                Some(p) => MessageId::of(&fs::read(p).unwrap()),
                None => {
                    let bundle = if sent == 0 {
                        Some(
                            PreKeyUpload::from_bytes(&fs::read(dir.join("bob.upload")).unwrap())
                                .unwrap()
                                .take_bundle(),
                        )
                    } else {
                        None
                    };
                    let m = alice
                        .encrypt(
                            &bob_addr(),
                            format!("m{sent}").as_bytes(),
                            bundle.as_ref(),
                            0,
                        )
                        .unwrap();
                    write_atomic(&to_bob.join(&name), &m.wire);
                    m.id
                }
            };
            append_line(&alice_log, &format!("sent {sent} {}", hex(&id)));
            alice.mark_sent(&id).unwrap();
        }

        // Bob reads everything on the relay, in order.
        for path in sorted_files(&to_bob) {
            let wire = fs::read(&path).unwrap();
            match bob.decrypt(&alice_addr(), &wire) {
                Ok(incoming) => {
                    let Received::Message { id, body, .. } = incoming.received else {
                        return ExitCode::from(3);
                    };
                    append_line(
                        &bob_log,
                        &format!("got {} {}", String::from_utf8_lossy(&body), hex(&id)),
                    );
                    bob.acknowledge(&id).unwrap();
                }
                Err(AccountError::AlreadyReceived(_)) => {}
                Err(e) => {
                    eprintln!("bob could not decrypt {}: {e}", path.display());
                    return ExitCode::from(3);
                }
            }
            fs::rename(&path, done.join(path.file_name().unwrap())).unwrap();
        }

        // Bob acknowledges every complete triple of messages with one read receipt.
        let got: Vec<(usize, MessageId)> = lines(&bob_log)
            .iter()
            .map(|l| {
                let parts: Vec<&str> = l.split(' ').collect();
                let i: usize = parts[1][1..].parse().unwrap();
                let id: [u8; 16] = hex_decode(parts[2]).try_into().unwrap();
                (i, MessageId(id))
            })
            .collect();
        let by_index: BTreeMap<usize, MessageId> = got.iter().copied().collect();
        for triple in 0..by_index.len() / 3 {
            let name = format!("{triple:06}");
            if to_alice.join(&name).exists() || done.join(format!("r{name}")).exists() {
                continue;
            }
            let ids: Option<Vec<MessageId>> = (triple * 3..triple * 3 + 3)
                .map(|i| by_index.get(&i).copied())
                .collect();
            let Some(ids) = ids else { break };
            let r = bob
                .create_receipt(&alice_addr(), ReceiptKind::Read, &ids, 0)
                .unwrap();
            write_atomic(&to_alice.join(&name), &r.wire);
        }

        // Alice reads the receipts.
        for path in sorted_files(&to_alice) {
            match alice.decrypt(&bob_addr(), &fs::read(&path).unwrap()) {
                Ok(_) | Err(AccountError::AlreadyReceived(_)) => {}
                Err(e) => {
                    eprintln!("alice could not decrypt {}: {e}", path.display());
                    return ExitCode::from(3);
                }
            }
            fs::rename(
                &path,
                done.join(format!("r{}", path.file_name().unwrap().to_string_lossy())),
            )
            .unwrap();
        }

        if lines(&alice_log).len() >= target
            && sorted_files(&to_bob).is_empty()
            && sorted_files(&to_alice).is_empty()
        {
            return ExitCode::SUCCESS;
        }
    }
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn child(role: &str, dir: &Path) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.env("BLUETICK_CHILD", role)
        .env("BLUETICK_DIR", dir)
        .stdin(Stdio::null());
    c
}

/// A small xorshift generator for kill delays; the seed is printed to reproduce a run.
struct Delays(u64);

impl Delays {
    fn next_ms(&mut self, max: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % max
    }
}

fn crash_test() -> Result<String, String> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for d in ["to_bob", "to_alice", "done"] {
        fs::create_dir(dir.join(d)).unwrap();
    }
    drop(
        Account::create(
            Box::new(SqliteStore::open(dir.join("alice.db")).unwrap()),
            &key(1),
            config(),
        )
        .unwrap(),
    );
    let bob = Account::create(
        Box::new(SqliteStore::open(dir.join("bob.db")).unwrap()),
        &key(2),
        config(),
    )
    .unwrap();
    fs::write(
        dir.join("bob.upload"),
        bob.prekey_upload().unwrap().to_bytes(),
    )
    .unwrap();
    drop(bob);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seed = std::env::var("BLUETICK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(now.as_nanos() as u64 ^ u64::from(std::process::id()));
    let mut delays = Delays(seed | 1);
    let mut kills = 0;
    let started = Instant::now();
    while kills < KILLS {
        let mut c = child("crash", dir)
            .env("BLUETICK_TARGET", "1000000")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + delays.next_ms(60)));
        match c.try_wait().unwrap() {
            None => {
                c.kill().unwrap();
                c.wait().unwrap();
                kills += 1;
            }
            Some(status) => {
                let out = c.wait_with_output().unwrap();
                return Err(format!(
                    "child exited by itself with {status}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!("only {kills} kills in 10 minutes"));
        }
    }
    // Finish the conversation without interruption.
    let sent = lines(&dir.join("alice.log")).len();
    let target = sent + 6 - sent % 3;
    let out = child("crash", dir)
        .env("BLUETICK_TARGET", target.to_string())
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!(
            "final run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    // Every message read exactly once.
    let mut counts = BTreeMap::new();
    for l in lines(&dir.join("bob.log")) {
        *counts
            .entry(l.split(' ').nth(1).unwrap().to_owned())
            .or_insert(0) += 1;
    }
    for i in 0..target {
        match counts.get(&format!("m{i}")) {
            Some(1) => {}
            other => {
                return Err(format!(
                    "message m{i} was read {other:?} times (seed {seed})"
                ))
            }
        }
    }
    if counts.len() != target {
        return Err(format!(
            "unexpected messages read: {} distinct for {target} sent",
            counts.len()
        ));
    }
    // Every status reached Read, and both sessions still work.
    let alice = open(&dir.join("alice.db"), 1);
    let bob = open(&dir.join("bob.db"), 2);
    for l in lines(&dir.join("alice.log")) {
        let id = MessageId(hex_decode(l.split(' ').nth(2).unwrap()).try_into().unwrap());
        if alice.message_status(&id).unwrap() != Some(MessageStatus::Read) {
            return Err(format!(
                "{l} is {:?}, not Read",
                alice.message_status(&id).unwrap()
            ));
        }
    }
    let m = alice
        .encrypt(&bob_addr(), b"after the storm", None, 0)
        .unwrap();
    // Every message committed moved Alice's clock with it, crashes or not.
    if m.lamport <= target as u64 {
        return Err(format!(
            "alice's clock is {} after {target} messages: an increment was lost",
            m.lamport
        ));
    }
    bob.decrypt(&alice_addr(), &m.wire)
        .map_err(|e| format!("bob's session wedged: {e}"))?;
    let r = bob.encrypt(&alice_addr(), b"still here", None, 0).unwrap();
    if r.lamport <= m.lamport {
        return Err(format!(
            "bob's reply carries {} after receiving {}",
            r.lamport, m.lamport
        ));
    }
    alice
        .decrypt(&bob_addr(), &r.wire)
        .map_err(|e| format!("alice's session wedged: {e}"))?;
    Ok(format!(
        "{kills} kills, {target} messages each read once (seed {seed})"
    ))
}

// ---------------------------------------------------------------- two processes

const SHARED_MESSAGES: usize = 40;
const REPLIES_PER_PROCESS: usize = 10;

fn shared_bob_child(dir: &Path, which: u64) -> ExitCode {
    let bob = open(&dir.join("bob.db"), 2);
    let mut order: Vec<usize> = (0..SHARED_MESSAGES).collect();
    let mut d = Delays(which * 7919 + 13);
    for i in (1..order.len()).rev() {
        order.swap(i, d.next_ms(i as u64 + 1) as usize);
    }
    for (n, i) in order.into_iter().enumerate() {
        let wire = fs::read(dir.join(format!("m{i:03}"))).unwrap();
        match bob.decrypt(&alice_addr(), &wire) {
            Ok(incoming) => match incoming.received {
                Received::Message { body, .. } if body == format!("m{i}").as_bytes() => {}
                other => {
                    eprintln!("wrong content for m{i}: {other:?}");
                    return ExitCode::from(3);
                }
            },
            Err(e) => {
                eprintln!("process {which} could not decrypt m{i}: {e}");
                return ExitCode::from(3);
            }
        }
        if n % 4 == 0 && n / 4 < REPLIES_PER_PROCESS {
            let r = bob
                .encrypt(
                    &alice_addr(),
                    format!("reply {which}.{}", n / 4).as_bytes(),
                    None,
                    0,
                )
                .unwrap();
            fs::write(dir.join(format!("reply{which}_{:03}", n / 4)), r.wire).unwrap();
        }
    }
    ExitCode::SUCCESS
}

fn two_process_test() -> Result<String, String> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let alice = Account::create(Box::new(MemoryStore::new()), &key(1), config()).unwrap();
    let bob = Account::create(
        Box::new(SqliteStore::open(dir.join("bob.db")).unwrap()),
        &key(2),
        config(),
    )
    .unwrap();
    let mut upload = bob.prekey_upload().unwrap();
    drop(bob);
    let bundle = upload.take_bundle();
    for i in 0..SHARED_MESSAGES {
        let m = alice
            .encrypt(
                &bob_addr(),
                format!("m{i}").as_bytes(),
                (i == 0).then_some(&bundle),
                0,
            )
            .unwrap();
        fs::write(dir.join(format!("m{i:03}")), m.wire).unwrap();
    }
    let children: Vec<_> = (1..=2)
        .map(|w| {
            child(&format!("shared_bob{w}"), dir)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        if !out.status.success() {
            return Err(format!(
                "a Bob process failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    let bob = open(&dir.join("bob.db"), 2);
    let inbox = bob.inbox().unwrap();
    let bodies: HashSet<Vec<u8>> = inbox.iter().map(|e| e.body.clone()).collect();
    if inbox.len() != SHARED_MESSAGES || bodies.len() != SHARED_MESSAGES {
        return Err(format!(
            "inbox holds {} entries, {} distinct",
            inbox.len(),
            bodies.len()
        ));
    }
    // Alice wrote m0..m39 in order: that is their display order, whatever order the two
    // processes took them in.
    let shown: Vec<Vec<u8>> = bob
        .conversation_inbox(b"alice")
        .unwrap()
        .into_iter()
        .map(|e| e.body)
        .collect();
    let written: Vec<Vec<u8>> = (0..SHARED_MESSAGES)
        .map(|i| format!("m{i}").into_bytes())
        .collect();
    if shown != written {
        return Err("bob's conversation is not in the order alice wrote it".into());
    }
    // Both processes' replies decrypt, each once: neither reused the other's chain state,
    // and each took its own tick of the shared clock.
    let mut replies = 0;
    let mut reply_clocks = HashSet::new();
    for path in sorted_files(dir).into_iter().filter(|p| {
        p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("reply")
    }) {
        let got = alice
            .decrypt(&bob_addr(), &fs::read(&path).unwrap())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if let Received::Message { lamport, .. } = got.received {
            reply_clocks.insert(lamport);
        }
        replies += 1;
    }
    if replies != 2 * REPLIES_PER_PROCESS {
        return Err(format!("{replies} replies"));
    }
    if reply_clocks.len() != replies {
        return Err(format!(
            "{replies} replies carry only {} distinct clock values: the processes lost a tick",
            reply_clocks.len()
        ));
    }
    let m = alice.encrypt(&bob_addr(), b"one more", None, 0).unwrap();
    bob.decrypt(&alice_addr(), &m.wire)
        .map_err(|e| format!("bob's session was rolled back: {e}"))?;
    Ok(format!(
        "{SHARED_MESSAGES} messages and {replies} replies over two processes"
    ))
}

/// A named test returning a one-line summary or the failure.
type ProcessTest = (&'static str, fn() -> Result<String, String>);

fn main() -> ExitCode {
    if let Ok(role) = std::env::var("BLUETICK_CHILD") {
        let dir = PathBuf::from(std::env::var("BLUETICK_DIR").unwrap());
        return match role.as_str() {
            "crash" => crash_child(
                &dir,
                std::env::var("BLUETICK_TARGET").unwrap().parse().unwrap(),
            ),
            r if r.starts_with("shared_bob") => {
                shared_bob_child(&dir, r["shared_bob".len()..].parse().unwrap())
            }
            _ => ExitCode::from(2),
        };
    }
    let mut failed = 0;
    let tests: [ProcessTest; 2] = [
        ("two_processes_share_one_database", two_process_test),
        ("crash_at_random_points_loses_nothing", crash_test),
    ];
    for (name, test) in tests {
        match test() {
            Ok(detail) => println!("test {name} ... ok ({detail})"),
            Err(e) => {
                println!("test {name} ... FAILED: {e}");
                failed += 1;
            }
        }
    }
    println!(
        "processes: {} passed, {failed} failed",
        tests.len() - failed
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
