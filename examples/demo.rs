//! Bluetick end to end over the real relay: the demo starts the relay as a process of its
//! own (the `bluetick-relay` server code, listening on 127.0.0.1 with its SQLite queue in a
//! temporary folder), then plays a scripted conversation between two accounts with SQLite
//! stores, each device on its own WebSocket pipe. It prints each status change as ticks,
//! and the relay's own log lines beside them: addresses, ids and sizes, never content. Bob
//! is offline for the first message and gets it when he comes back. It exits non-zero if
//! any step misbehaves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bluetick::receipt::ReceiptKind;
use bluetick::relay_protocol::{AuthSigner, Backoff, ClientConfig, Event};
use bluetick::{
    Account, AccountConfig, AccountError, Address, ErrorKind, MessageId, MessageStatus, Received,
    Secret32, SqliteStore,
};
use bluetick_relay::RelayClient;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The flag that makes this executable run the relay instead of the demo.
const RELAY_FLAG: &str = "--run-relay";
/// Every wait for the relay ends within this.
const WAIT: Duration = Duration::from_secs(20);

/// Terminal styling: colour on a terminal, plain text when piped or with NO_COLOR set.
#[derive(Clone, Copy)]
struct Style {
    colour: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn ticks(&self, status: MessageStatus) -> String {
        match status {
            MessageStatus::Pending => self.paint("2", "🕓 pending"),
            MessageStatus::Sent => self.paint("90", "✓ sent"),
            MessageStatus::Delivered => self.paint("90", "✓✓ delivered"),
            MessageStatus::Read => self.paint("1;34", "✓✓ read"),
        }
    }

    fn who(&self, name: &str) -> String {
        let code = match name {
            "alice" => "35",
            "bob" => "32",
            _ => "33",
        };
        self.paint(code, &format!("{name:>5}"))
    }

    fn line(&self, who: &str, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{} │ {text}", self.who(who));
    }
}

/// The relay process, killed when the demo ends.
struct RelayProcess(Child);

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts this executable again as the relay; its log lines are printed as they come.
fn start_relay(db: &std::path::Path, style: Style) -> Result<(RelayProcess, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args([RELAY_FLAG, "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no relay stdout")?;
    let stderr = child.stderr.take().ok_or("no relay stderr")?;
    let relay = RelayProcess(child);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr)
            .lines()
            .map_while(std::io::Result::ok)
        {
            style.line("relay", &style.paint("2", &line));
        }
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(WAIT)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected relay output {line:?}"))?
        .to_owned();
    Ok((relay, url))
}

/// Fails the demo with a message when an expectation does not hold.
fn expect(ok: bool, what: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(format!("step misbehaved: {what}").into())
    }
}

struct Device {
    name: &'static str,
    address: Address,
    account: Arc<Account>,
    client: Option<RelayClient>,
}

impl Device {
    fn connect(&mut self, url: &str) {
        let signer: Arc<dyn AuthSigner + Send + Sync> = self.account.clone();
        self.client = Some(RelayClient::spawn(
            url.to_owned(),
            None,
            ClientConfig {
                address: self.address.clone(),
                certificate: None,
                backoff: Backoff {
                    base_ms: 50,
                    max_ms: 1_000,
                    jitter_ms: 50,
                },
            },
            signer,
        ));
    }

    fn client(&mut self) -> Result<&mut RelayClient> {
        self.client
            .as_mut()
            .ok_or_else(|| "device is offline".into())
    }

    /// Waits for the first event `pick` accepts.
    async fn wait<T>(&mut self, what: &str, mut pick: impl FnMut(Event) -> Option<T>) -> Result<T> {
        let client = self.client()?;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let event = tokio::time::timeout_at(deadline, client.next_event())
                .await
                .map_err(|_| format!("timed out waiting for {what}"))?
                .ok_or("the client stopped")?;
            if let Event::ConnectionFailed { code } = event {
                return Err(format!("the relay closed the pipe: {code}").into());
            }
            if let Some(t) = pick(event) {
                return Ok(t);
            }
        }
    }

    async fn ready(&mut self) -> Result<u32> {
        self.wait("the relay's welcome", |e| match e {
            Event::Ready { queued } => Some(queued),
            _ => None,
        })
        .await
    }

    async fn delivery(&mut self) -> Result<(Address, MessageId, Vec<u8>)> {
        self.wait("a delivery", |e| match e {
            Event::Delivery { sender, id, wire } => Some((sender, id, wire)),
            _ => None,
        })
        .await
    }
}

struct Demo {
    style: Style,
    url: String,
    alice: Device,
    bob: Device,
    /// Outgoing messages and their text, for status lines.
    texts: HashMap<MessageId, String>,
    /// The last burst as the receiver shows it, in display order.
    shown: Vec<MessageId>,
}

impl Demo {
    fn device(&mut self, alice: bool) -> &mut Device {
        if alice {
            &mut self.alice
        } else {
            &mut self.bob
        }
    }

    fn status_line(&mut self, alice: bool, id: &MessageId) -> Result<MessageStatus> {
        let d = self.device(alice);
        let (name, status) = (
            d.name,
            d.account.message_status(id)?.ok_or("unknown message")?,
        );
        let text = self.texts.get(id).cloned().unwrap_or_default();
        self.style
            .line(name, &format!("\"{text}\"  {}", self.style.ticks(status)));
        Ok(status)
    }

    /// Encrypts `text` to the other device, hands it to the relay and waits for the grey
    /// tick.
    async fn send(&mut self, from_alice: bool, text: &str) -> Result<MessageId> {
        let to = self.device(!from_alice).address.clone();
        let bundle = if self
            .device(from_alice)
            .account
            .peer_identity(&to)?
            .is_none()
        {
            let d = self.device(from_alice);
            let r = d.client()?.fetch_bundle(to.clone());
            let bytes = d
                .wait("a bundle", |e| match e {
                    Event::Bundle {
                        request, bundle, ..
                    } if request == r => Some(bundle),
                    _ => None,
                })
                .await?;
            Some(bluetick::PreKeyBundle::from_bytes(&bytes)?)
        } else {
            None
        };
        let out = self.device(from_alice).account.encrypt(
            &to,
            text.as_bytes(),
            bundle.as_ref(),
            now_ms(),
        )?;
        self.texts.insert(out.id, text.to_owned());
        self.status_line(from_alice, &out.id)?;
        let d = self.device(from_alice);
        let id = d.client()?.send(vec![to], out.wire);
        expect(id == out.id, "the client computes the account's message id")?;
        d.wait("the relay's acknowledgement", |e| match e {
            Event::Sent(got) if got == id => Some(()),
            _ => None,
        })
        .await?;
        expect(
            d.account.mark_sent(&id)? == MessageStatus::Sent,
            "the relay's acknowledgement makes it Sent",
        )?;
        self.status_line(from_alice, &id)?;
        Ok(id)
    }

    /// Receives `n` messages; with `reorder`, decrypts them newest first and then shows
    /// the conversation in the order it was written (spec §10: by the clock each message
    /// carries, never by arrival or wall time). Each is acknowledged to the relay only
    /// after the account committed it.
    async fn receive(&mut self, to_alice: bool, n: usize, reorder: bool) -> Result<Vec<MessageId>> {
        let mut batch = Vec::new();
        for _ in 0..n {
            batch.push(self.device(to_alice).delivery().await?);
        }
        let (name, other) = if to_alice {
            ("alice", "bob")
        } else {
            ("bob", "alice")
        };
        if reorder {
            batch.reverse();
            self.style.line(
                name,
                &format!("processes {} messages newest first", batch.len()),
            );
        }
        let mut got = Vec::new();
        for (from, relay_id, wire) in batch {
            let d = self.device(to_alice);
            let incoming = d.account.decrypt(&from, &wire)?;
            match incoming.received {
                Received::Message { id, body, .. } if !reorder => {
                    d.account.acknowledge(&id)?;
                    self.style.line(
                        name,
                        &format!("reads \"{}\" from {other}", String::from_utf8_lossy(&body)),
                    );
                    got.push(id);
                }
                Received::Message {
                    id, body, lamport, ..
                } => {
                    self.style.line(
                        name,
                        &format!(
                            "decrypts \"{}\" (clock {lamport})",
                            String::from_utf8_lossy(&body)
                        ),
                    );
                    got.push(id);
                }
                Received::Receipt { kind, updated, .. } => {
                    let signed = if kind.is_signed() {
                        "signed"
                    } else {
                        "deniable"
                    };
                    self.style
                        .line(name, &format!("gets a {signed} receipt from {other}"));
                    for (id, _) in updated {
                        self.status_line(to_alice, &id)?;
                    }
                }
                // The demo's devices have no companions, so no transcript arrives, and it
                // has no groups.
                Received::Transcript { id, .. } | Received::GroupMessage { id, .. } => got.push(id),
                Received::Distribution { .. } => {}
            }
            // Committed: only now may the relay delete it.
            self.device(to_alice).client()?.committed(relay_id);
        }
        if reorder {
            // The chat as drawn: the conversation's inbox in display order.
            let shown = self
                .device(to_alice)
                .account
                .conversation_inbox(other.as_bytes())?;
            self.style
                .line(name, "shows the conversation in the order it was written:");
            for entry in &shown {
                self.style.line(
                    name,
                    &format!(
                        "  {} \"{}\" (clock {}, sent at {} ms)",
                        entry.from,
                        String::from_utf8_lossy(&entry.body),
                        entry.lamport,
                        entry.sent_at_ms
                    ),
                );
            }
            for entry in &shown {
                self.device(to_alice).account.acknowledge(&entry.id)?;
            }
            self.shown = shown.iter().map(|e| e.id).collect();
        }
        Ok(got)
    }

    async fn receipt(
        &mut self,
        from_alice: bool,
        kind: ReceiptKind,
        ids: &[MessageId],
    ) -> Result<()> {
        let to = self.device(!from_alice).address.clone();
        let d = self.device(from_alice);
        let out = d.account.create_receipt(&to, kind, ids, now_ms())?;
        let id = d.client()?.send(vec![to], out.wire);
        d.wait("the relay's acknowledgement", |e| match e {
            Event::Sent(got) if got == id => Some(()),
            _ => None,
        })
        .await
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

async fn run() -> Result<()> {
    let style = Style {
        colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let dir = tempfile::tempdir()?;
    println!(
        "{}",
        style.paint("1", "Bluetick demo: two devices, one blind relay")
    );
    let (relay, url) = start_relay(&dir.path().join("relay.db"), style)?;
    style.line("relay", &style.paint("2", &format!("listening on {url}")));

    let mut rng_key = [0u8; 32];
    bluetick::rand_core::Rng::fill_bytes(&mut bluetick::os_rng(), &mut rng_key);
    // In an app this key comes from the Keychain or the Keystore.
    let storage_key = Secret32::from_array(&mut rng_key);
    let config = AccountConfig::default();
    let account = |name: &str| -> Result<Arc<Account>> {
        let store = SqliteStore::open(dir.path().join(format!("{name}.db")))?;
        Ok(Arc::new(Account::create(
            Box::new(store),
            &storage_key,
            config,
        )?))
    };
    let mut d = Demo {
        style,
        url,
        alice: Device {
            name: "alice",
            address: Address::new("alice", 1),
            account: account("alice")?,
            client: None,
        },
        bob: Device {
            name: "bob",
            address: Address::new("bob", 1),
            account: account("bob")?,
            client: None,
        },
        texts: HashMap::new(),
        shown: Vec::new(),
    };

    // Both open their pipes; Bob publishes prekeys, then goes offline.
    let url = d.url.clone();
    d.alice.connect(&url);
    d.alice.ready().await?;
    d.bob.connect(&url);
    d.bob.ready().await?;
    let upload = d.bob.account.prekey_upload()?.to_bytes();
    let r = d.bob.client()?.upload_prekeys(upload);
    d.bob
        .wait("the upload", |e| match e {
            Event::Done { request } if request == r => Some(()),
            _ => None,
        })
        .await?;
    d.bob.client = None;
    style.line("bob", "goes offline");

    // Alice fetches Bob's bundle and sends: PQXDH, then one grey tick.
    let hello = d.send(true, "Hi Bob! Lunch tomorrow?").await?;

    // Bob comes back: the relay delivers what waited; two grey ticks.
    d.bob.connect(&url);
    let queued = d.bob.ready().await?;
    style.line("bob", &format!("comes online: {queued} message waiting"));
    expect(queued == 1, "the message waited for Bob")?;
    let got = d.receive(false, 1, false).await?;
    expect(got == vec![hello], "Bob receives Alice's first message")?;
    d.receipt(false, ReceiptKind::Delivered, &got).await?;
    d.receive(true, 1, false).await?;
    expect(
        d.alice.account.message_status(&hello)? == Some(MessageStatus::Delivered),
        "two grey ticks",
    )?;

    // Bob opens the chat: blue ticks.
    style.line("bob", "opens the chat");
    d.receipt(false, ReceiptKind::Read, &got).await?;
    d.receive(true, 1, false).await?;
    expect(
        d.alice.account.message_status(&hello)? == Some(MessageStatus::Read),
        "blue ticks",
    )?;

    // Replies both ways.
    let reply = d.send(false, "Sure! 12:30 at the usual place?").await?;
    let got = d.receive(true, 1, false).await?;
    expect(got == vec![reply], "Alice receives Bob's reply")?;
    d.receipt(true, ReceiptKind::Read, &got).await?;
    d.receive(false, 1, false).await?;
    expect(
        d.bob.account.message_status(&reply)? == Some(MessageStatus::Read),
        "Bob's reply is read",
    )?;

    // A burst, decrypted out of order.
    let mut burst = Vec::new();
    for text in [
        "Perfect.",
        "I'll bring the tickets.",
        "And the umbrella.",
        "See you!",
    ] {
        burst.push(d.send(true, text).await?);
    }
    let got = d.receive(false, 4, true).await?;
    let mut expected = burst.clone();
    expected.reverse();
    expect(got == expected, "the whole burst arrives, newest first")?;
    expect(
        d.shown == burst,
        "the burst is shown in the order it was written",
    )?;
    d.receipt(false, ReceiptKind::Read, &got).await?;
    d.receive(true, 1, false).await?;
    for id in &burst {
        expect(
            d.alice.account.message_status(id)? == Some(MessageStatus::Read),
            "every burst message is read",
        )?;
    }

    // A tampered message is rejected and changes nothing.
    d.send(true, "Transfer 10 EUR").await?;
    let (from, relay_id, wire) = d.bob.delivery().await?;
    let mut tampered = wire.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    style.line(
        "relay",
        &style.paint(
            "2",
            &format!("(if compromised) flips one bit of {} B", tampered.len()),
        ),
    );
    match d.bob.account.decrypt(&from, &tampered) {
        Err(AccountError::Decryption(e)) if e.kind() == ErrorKind::AuthenticationFailed => {
            style.line(
                "bob",
                &style.paint("31", "rejects a tampered message; nothing changed"),
            );
        }
        other => return Err(format!("step misbehaved: tampered message gave {other:?}").into()),
    }
    let m = d.bob.account.decrypt(&from, &wire)?;
    let Received::Message { id, .. } = m.received else {
        return Err("step misbehaved: the genuine message does not decrypt".into());
    };
    d.bob.account.acknowledge(&id)?;
    d.bob.client()?.committed(relay_id);
    style.line("bob", "reads the genuine \"Transfer 10 EUR\"");

    let (na, nb) = (
        d.alice.account.safety_number(&d.bob.address)?,
        d.bob.account.safety_number(&d.alice.address)?,
    );
    expect(
        na.is_some() && na == nb,
        "both sides show the same safety number",
    )?;
    println!(
        "safety number │ {}",
        na.map(|n| n.to_string()).unwrap_or_default()
    );
    // Let the last acknowledgements reach the relay before it stops.
    tokio::time::sleep(Duration::from_millis(100)).await;
    d.alice.client = None;
    d.bob.client = None;
    drop(relay);
    println!(
        "{}",
        style.paint("1;32", "demo complete: every step behaved")
    );
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some(RELAY_FLAG) {
        // The relay process: the same code as the `bluetick-relay` binary.
        return bluetick_relay::cli::main_with_args(args.skip(1));
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("demo failed: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}
