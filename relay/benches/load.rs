//! Load measurements of the relay process on 127.0.0.1 (docs/performance.md, "Relay"):
//!
//! - idle pipes: N devices authenticated and idle; the relay's resident memory per pipe;
//! - throughput: messages routed through the SQLite queue (durable commits) between pairs
//!   of devices, with p50 and p99 latency from send to the recipient's acknowledgement;
//!   with `--nats`, the same through two relay nodes over one `nats-server -js` (each pair's
//!   sender on one node, its recipient on the other, so both nodes are busy);
//! - thundering herd: N connected clients lose the relay (SIGKILL), it restarts at once,
//!   and they come back with the backoff without jitter and with it: the peak connection
//!   rate and the time until all are back.
//!
//! `cargo bench -p bluetick-relay --bench load -- [--idle N] [--messages M] [--pairs P] [--herd N] [--nats]`
//! Every run is bounded: each phase gives up after a deadline and says so.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss
)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bluetick::relay_protocol::{AuthSigner, Backoff, ClientConfig, Event, Frame};
use bluetick::{Address, IdentityKeyPair, MessageId, Secret32};
use bluetick_relay::RelayClient;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const DEADLINE: Duration = Duration::from_secs(180);

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
    fn start(db: &Path, port: u16) -> Self {
        Self::start_with(&["--db".as_ref(), db.as_os_str()], port)
    }

    fn start_with(args: &[&std::ffi::OsStr], port: u16) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bluetick-relay"))
            .args(["--quiet", "--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().rsplit(':').next().unwrap().parse().unwrap();
        Self { child, port }
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }
}

fn key(i: u64, salt: u8) -> IdentityKeyPair {
    let mut seed = [salt; 32];
    seed[..8].copy_from_slice(&i.to_be_bytes());
    IdentityKeyPair::from_seed(Secret32::from_slice(&seed).unwrap())
}

type RawWs = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// A raw pipe: connect, answer the challenge, wait for the welcome.
async fn raw_pipe(port: u16, address: Address, key: IdentityKeyPair) -> RawWs {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://127.0.0.1:{port}"), tcp)
        .await
        .unwrap();
    let Some(Ok(Message::Binary(b))) = ws.next().await else {
        panic!("no challenge")
    };
    let Frame::Challenge { nonce, .. } = Frame::decode(&b).unwrap() else {
        panic!("not a challenge")
    };
    let auth = Frame::Authenticate {
        signature: key.sign_relay_auth(&nonce, &address),
        address,
        identity: key.public().to_bytes(),
        certificate: None,
    };
    ws.send(Message::binary(auth.encode())).await.unwrap();
    let Some(Ok(Message::Binary(b))) = ws.next().await else {
        panic!("no welcome")
    };
    assert!(matches!(Frame::decode(&b).unwrap(), Frame::Welcome { .. }));
    ws
}

async fn idle(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(&dir.path().join("relay.db"), 0);
    // A first pipe, so the runtime's threads and SQLite's caches are counted as the base.
    let warm = raw_pipe(relay.port, Address::new("warm", 1), key(0, 9)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = relay.rss_kib();
    let start = Instant::now();
    let mut pipes = Vec::with_capacity(n);
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in (0..n as u64).collect::<Vec<_>>().chunks(250) {
        for &i in chunk {
            let port = relay.port;
            tasks.spawn(async move {
                raw_pipe(port, Address::new(format!("idle{i}"), 1), key(i, 1)).await
            });
        }
        while let Some(ws) = tasks.join_next().await {
            pipes.push(ws.unwrap());
        }
    }
    let first = start.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = relay.rss_kib();
    println!(
        "idle pipes: {n} authenticated in {:.1} s (first binding, one durable commit each); relay RSS {} MiB -> {} MiB: {:.1} KiB per idle pipe",
        first.as_secs_f64(),
        before / 1024,
        after / 1024,
        (after.saturating_sub(before)) as f64 / n as f64
    );
    // The same devices again: their addresses are bound, no write on authentication.
    drop(pipes);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start = Instant::now();
    let mut pipes = Vec::with_capacity(n);
    for chunk in (0..n as u64).collect::<Vec<_>>().chunks(250) {
        for &i in chunk {
            let port = relay.port;
            tasks.spawn(async move {
                raw_pipe(port, Address::new(format!("idle{i}"), 1), key(i, 1)).await
            });
        }
        while let Some(ws) = tasks.join_next().await {
            pipes.push(ws.unwrap());
        }
    }
    println!(
        "idle pipes: the same {n} again in {:.1} s ({:.0} authentications per second)",
        start.elapsed().as_secs_f64(),
        n as f64 / start.elapsed().as_secs_f64()
    );
    drop((pipes, warm));
}

fn client(url: &str, address: Address, signer: IdentityKeyPair, backoff: Backoff) -> RelayClient {
    RelayClient::spawn(
        url.to_owned(),
        None,
        ClientConfig {
            address,
            certificate: None,
            backoff,
        },
        Arc::new(signer) as Arc<dyn AuthSigner + Send + Sync>,
    )
}

async fn ready(c: &mut RelayClient) {
    loop {
        if let Some(Event::Ready { .. }) = c.next_event().await {
            return;
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A `nats-server -js` on a free 127.0.0.1 port with its own store, killed when dropped.
struct NatsProcess {
    child: Child,
    url: String,
}

impl Drop for NatsProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl NatsProcess {
    fn start(dir: &Path) -> Option<Self> {
        let binary = [
            "/usr/sbin/nats-server",
            "/usr/local/bin/nats-server",
            "/usr/bin/nats-server",
        ]
        .into_iter()
        .find(|p| Path::new(p).is_file())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let conf = dir.join("nats.conf");
        std::fs::write(
            &conf,
            format!(
                "listen: 127.0.0.1:{port}\nmax_payload: 4MB\njetstream {{ store_dir: \"{}\" }}\n",
                dir.join("store").display()
            ),
        )
        .unwrap();
        let child = Command::new(binary)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self {
            child,
            url: format!("nats://127.0.0.1:{port}"),
        })
    }
}

/// Where the throughput phase runs.
#[derive(Clone, Copy, PartialEq)]
enum Backend {
    Sqlite,
    /// Two relay nodes over one NATS server.
    Nats,
}

async fn throughput(messages: usize, pairs: usize, backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (_nats, relays) = match backend {
        Backend::Sqlite => (
            None,
            vec![RelayProcess::start(&dir.path().join("relay.db"), 0)],
        ),
        Backend::Nats => {
            let Some(nats) = NatsProcess::start(dir.path()) else {
                println!("throughput over NATS: NOT run, nats-server is not installed");
                return;
            };
            let args = ["--backend".as_ref(), std::ffi::OsStr::new(&nats.url)];
            let nodes = vec![
                RelayProcess::start_with(&args, 0),
                RelayProcess::start_with(&args, 0),
            ];
            (Some(nats), nodes)
        }
    };
    let urls: Vec<String> = relays.iter().map(RelayProcess::url).collect();
    let backoff = Backoff::default();
    let sent_at: Arc<Mutex<HashMap<MessageId, Instant>>> = Arc::default();
    let per_pair = messages / pairs;
    let mut senders = Vec::new();
    let mut receivers = tokio::task::JoinSet::new();
    for p in 0..pairs as u64 {
        // With two nodes, each pair's sender and recipient are on different nodes, and
        // half the senders on each.
        let (on_s, on_r) = (p as usize % urls.len(), (p as usize + 1) % urls.len());
        let mut s = client(
            &urls[on_s],
            Address::new(format!("s{p}"), 1),
            key(p, 2),
            backoff,
        );
        let mut r = client(
            &urls[on_r],
            Address::new(format!("r{p}"), 1),
            key(p, 3),
            backoff,
        );
        ready(&mut s).await;
        ready(&mut r).await;
        let sent_at = Arc::clone(&sent_at);
        receivers.spawn(async move {
            let mut latencies = Vec::with_capacity(per_pair);
            while latencies.len() < per_pair {
                if let Some(Event::Delivery { id, .. }) = r.next_event().await {
                    r.committed(id);
                    let t0 = sent_at.lock().unwrap().get(&id).copied();
                    if let Some(t0) = t0 {
                        latencies.push(t0.elapsed());
                    }
                }
            }
            latencies
        });
        senders.push(s);
    }
    let start = Instant::now();
    let mut jobs = tokio::task::JoinSet::new();
    for (p, mut s) in senders.into_iter().enumerate() {
        let sent_at = Arc::clone(&sent_at);
        jobs.spawn(async move {
            let to = Address::new(format!("r{p}"), 1);
            // A window of 32 messages in flight per sender, as an app sending a burst.
            let mut in_flight = 0usize;
            let mut acked = 0usize;
            for i in 0..per_pair {
                let mut wire = vec![0x11u8; 200];
                wire[1..9].copy_from_slice(&(i as u64).to_be_bytes());
                wire[9..17].copy_from_slice(&(p as u64).to_be_bytes());
                sent_at
                    .lock()
                    .unwrap()
                    .insert(MessageId::of(&wire), Instant::now());
                s.send(vec![to.clone()], wire);
                in_flight += 1;
                while in_flight >= 32 {
                    if let Some(Event::Sent(_)) = s.next_event().await {
                        in_flight -= 1;
                        acked += 1;
                    }
                }
            }
            while acked < per_pair {
                if let Some(Event::Sent(_)) = s.next_event().await {
                    acked += 1;
                }
            }
            s
        });
    }
    let mut latencies = Vec::new();
    while let Some(l) = receivers.join_next().await {
        latencies.extend(l.unwrap());
    }
    let elapsed = start.elapsed();
    while jobs.join_next().await.is_some() {}
    latencies.sort();
    let over = match backend {
        Backend::Sqlite => "one relay, SQLite",
        Backend::Nats => "two relay nodes, NATS JetStream",
    };
    println!(
        "throughput ({over}): {} messages, {pairs} sender/recipient pairs, 200-byte wires: {:.0} messages/s; send -> recipient's acknowledgement p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
}

async fn herd(n: usize, jitter_ms: u64) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.db");
    let relay = RelayProcess::start(&db, 0);
    let (url, port) = (relay.url(), relay.port);
    let backoff = Backoff {
        base_ms: 100,
        max_ms: 5_000,
        jitter_ms,
    };
    let mut clients = Vec::with_capacity(n);
    for chunk in (0..n as u64).collect::<Vec<_>>().chunks(250) {
        let mut batch: Vec<RelayClient> = chunk
            .iter()
            .map(|&i| client(&url, Address::new(format!("h{i}"), 1), key(i, 4), backoff))
            .collect();
        for c in &mut batch {
            ready(c).await;
        }
        clients.extend(batch);
    }
    // Every client records when it is back.
    let back: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let mut watchers = tokio::task::JoinSet::new();
    for mut c in clients {
        let back = Arc::clone(&back);
        watchers.spawn(async move {
            ready(&mut c).await;
            back.lock().unwrap().push(Instant::now());
            c
        });
    }
    drop(relay); // SIGKILL
    let killed = Instant::now();
    let relay = RelayProcess::start(&db, port);
    let restarted = killed.elapsed();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut kept = Vec::with_capacity(n);
    while let Ok(Some(c)) = tokio::time::timeout_at(deadline, watchers.join_next()).await {
        kept.push(c.unwrap());
    }
    let times = back.lock().unwrap().clone();
    let mut per_window: HashMap<u128, usize> = HashMap::new();
    for t in &times {
        *per_window
            .entry(t.duration_since(killed).as_millis() / 100)
            .or_default() += 1;
    }
    let peak = per_window.values().max().copied().unwrap_or(0);
    let last = times
        .iter()
        .map(|t| t.duration_since(killed))
        .max()
        .unwrap_or_default();
    println!(
        "thundering herd, {n} clients, backoff base 100 ms, jitter {jitter_ms} ms: relay back after {} ms; {} of {n} back; peak {} authentications per 100 ms ({:.0}/s); all back {:.2} s after the kill",
        restarted.as_millis(),
        times.len(),
        peak,
        peak as f64 * 10.0,
        last.as_secs_f64()
    );
    drop((kept, relay));
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes only its own flags.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // A count of 0 skips that phase.
        let (n_idle, n_messages, n_herd) = (
            arg("--idle", 10_000),
            arg("--messages", 4_000),
            arg("--herd", 5_000),
        );
        if n_idle > 0 {
            bounded(idle(n_idle)).await;
        }
        if n_messages > 0 {
            let pairs = arg("--pairs", 16).max(1);
            bounded(throughput(n_messages, pairs, Backend::Sqlite)).await;
            if std::env::args().any(|a| a == "--nats") {
                bounded(throughput(n_messages, pairs, Backend::Nats)).await;
            }
        }
        if n_herd > 0 {
            bounded(herd(n_herd, 0)).await;
            bounded(herd(n_herd, 3_000)).await;
        }
    });
}

async fn bounded(f: impl std::future::Future<Output = ()>) {
    if tokio::time::timeout(DEADLINE, f).await.is_err() {
        println!("(phase stopped at its {} s deadline)", DEADLINE.as_secs());
    }
}
