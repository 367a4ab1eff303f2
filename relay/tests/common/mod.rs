//! Shared pieces of the relay's socket tests: a relay on 127.0.0.1, accounts, clients,
//! and waiting for events with a deadline.
#![allow(dead_code, unreachable_pub)]

pub mod nats;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bluetick::relay_protocol::{Backoff, ClientConfig, Event};
use bluetick::{Account, AccountConfig, Address, MemoryStore, Secret32};
use bluetick_relay::{Limits, Log, Relay, RelayClient, SqliteBackend};

/// Every wait in these tests ends within this.
pub const WAIT: Duration = Duration::from_secs(15);

pub struct TestRelay {
    pub url: String,
    pub db: PathBuf,
    pub dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A relay in this process, on a port the system picks.
pub async fn relay(limits: Limits) -> TestRelay {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.db");
    let backend = SqliteBackend::open(&db).unwrap();
    let relay = Relay::new(Arc::new(backend), limits, Log::Off);
    let (addr, task) = bluetick_relay::start("127.0.0.1:0".parse().unwrap(), relay, None)
        .await
        .unwrap();
    TestRelay {
        url: format!("ws://{addr}"),
        db,
        dir,
        task,
    }
}

pub fn storage_key() -> Secret32 {
    Secret32::from_slice(&[7; 32]).unwrap()
}

pub fn account() -> Arc<Account> {
    let config = AccountConfig {
        one_time_prekeys: 5,
        one_time_pq_prekeys: 5,
        low_water_mark: 1,
    };
    Arc::new(Account::create(Box::new(MemoryStore::new()), &storage_key(), config).unwrap())
}

pub fn fast_backoff() -> Backoff {
    Backoff {
        base_ms: 20,
        max_ms: 300,
        jitter_ms: 30,
    }
}

pub fn client(url: &str, address: &Address, account: &Arc<Account>) -> RelayClient {
    RelayClient::spawn(
        url.to_owned(),
        None,
        ClientConfig {
            address: address.clone(),
            certificate: None,
            backoff: fast_backoff(),
        },
        Arc::clone(account) as Arc<dyn bluetick::relay_protocol::AuthSigner + Send + Sync>,
    )
}

/// A client given several relay nodes: it moves to the next one when its pipe is lost.
pub fn client_nodes(urls: &[String], address: &Address, account: &Arc<Account>) -> RelayClient {
    RelayClient::spawn_nodes(
        urls.to_vec(),
        None,
        ClientConfig {
            address: address.clone(),
            certificate: None,
            backoff: fast_backoff(),
        },
        Arc::clone(account) as Arc<dyn bluetick::relay_protocol::AuthSigner + Send + Sync>,
    )
}

/// Waits for the first event `pick` accepts, skipping the others; fails after [`WAIT`].
pub async fn wait_for<T>(
    c: &mut RelayClient,
    what: &str,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let e = tokio::time::timeout_at(deadline, c.next_event())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .unwrap_or_else(|| panic!("client stopped while waiting for {what}"));
        if let Some(t) = pick(&e) {
            return t;
        }
    }
}

pub async fn ready(c: &mut RelayClient) -> u32 {
    wait_for(c, "Ready", |e| match e {
        Event::Ready { queued } => Some(*queued),
        _ => None,
    })
    .await
}

/// Uploads the account's prekeys and waits for the relay's answer.
pub async fn upload(c: &mut RelayClient, account: &Account) {
    let r = c.upload_prekeys(account.prekey_upload().unwrap().to_bytes());
    wait_for(c, "upload Done", |e| match e {
        Event::Done { request } if *request == r => Some(()),
        Event::RequestFailed { request, code } if *request == r => {
            panic!("upload refused: {code}")
        }
        _ => None,
    })
    .await;
}

pub async fn bundle(c: &mut RelayClient, of: &Address) -> bluetick::PreKeyBundle {
    let r = c.fetch_bundle(of.clone());
    let bytes = wait_for(c, "Bundle", |e| match e {
        Event::Bundle {
            request, bundle, ..
        } if *request == r => Some(bundle.clone()),
        Event::RequestFailed { request, code } if *request == r => {
            panic!("bundle refused: {code}")
        }
        _ => None,
    })
    .await;
    bluetick::PreKeyBundle::from_bytes(&bytes).unwrap()
}

pub async fn sent(c: &mut RelayClient, id: bluetick::MessageId) {
    wait_for(c, "Sent", |e| match e {
        Event::Sent(got) if *got == id => Some(()),
        Event::SendFailed { id: got, code } if *got == id => panic!("send refused: {code}"),
        _ => None,
    })
    .await;
}

/// The next delivery.
pub async fn delivery(c: &mut RelayClient) -> (Address, bluetick::MessageId, Vec<u8>) {
    wait_for(c, "Delivery", |e| match e {
        Event::Delivery { sender, id, wire } => Some((sender.clone(), *id, wire.clone())),
        _ => None,
    })
    .await
}

/// Waits until the relay's database counts `want` messages waiting for `who` (the relay
/// takes acknowledgements asynchronously, each in a durable commit).
pub async fn wait_queued(db: &std::path::Path, who: &Address, want: i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let n: i64 = conn
            .query_row(
                "SELECT queued_count FROM devices WHERE user = ?1 AND device = ?2",
                rusqlite::params![who.user, who.device],
                |r| r.get(0),
            )
            .unwrap();
        if n == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{who} still has {n} queued, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts a `bluetick-relay` process whose stderr goes to `log`, and returns it with the
/// port it announces on its first line of stdout; fails after [`WAIT`].
pub fn spawn_relay(mut command: Command, log: &std::path::Path) -> (Child, u16) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(WAIT).expect("relay did not start");
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (child, port)
}
