//! Bluetick end to end: two accounts with SQLite stores in a temporary folder, and a blind
//! relay in the same process that holds only prekey uploads and an offline queue of opaque
//! messages. It plays a scripted conversation and prints each status change as ticks, with
//! what the relay saw beside it: sizes and message ids, never content. It exits non-zero
//! if any step misbehaves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashMap, VecDeque};
use std::io::IsTerminal;
use std::process::ExitCode;

use bluetick::receipt::ReceiptKind;
use bluetick::{
    Account, AccountConfig, AccountError, Address, ErrorKind, MessageId, MessageStatus,
    PreKeyUpload, Received, Secret32, SqliteStore,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Terminal styling: colour on a terminal, plain text when piped or with NO_COLOR set.
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
}

/// The relay: routes opaque bytes and learns nothing but routing.
#[derive(Default)]
struct Relay {
    uploads: HashMap<Address, PreKeyUpload>,
    queues: HashMap<Address, VecDeque<(Address, Vec<u8>)>>,
}

impl Relay {
    fn upload(&mut self, who: &Address, bytes: &[u8]) -> Result<String> {
        let upload = PreKeyUpload::from_bytes(bytes)?;
        upload.verify()?;
        let note = format!(
            "stores {who}'s prekeys: {} B ({} one-time EC, {} one-time PQ)",
            bytes.len(),
            upload.one_time_prekeys.len(),
            upload.one_time_pq_prekeys.len()
        );
        self.uploads.insert(who.clone(), upload);
        Ok(note)
    }

    fn bundle(&mut self, who: &Address) -> Result<(Vec<u8>, String)> {
        let upload = self.uploads.get_mut(who).ok_or("no prekeys published")?;
        let bundle = upload.take_bundle().to_bytes();
        let note = format!(
            "hands out {who}'s bundle: {} B, {} one-time keys left",
            bundle.len(),
            upload.one_time_prekeys.len()
        );
        Ok((bundle, note))
    }

    fn accept(&mut self, from: &Address, to: &Address, wire: Vec<u8>) -> (MessageId, String) {
        // The relay computes the same id as both ends, from the bytes alone.
        let id = MessageId::of(&wire);
        let note = format!("queues {} B {from} → {to}, id {}", wire.len(), short(&id));
        self.queues
            .entry(to.clone())
            .or_default()
            .push_back((from.clone(), wire));
        (id, note)
    }

    fn fetch(&mut self, to: &Address) -> Vec<(Address, Vec<u8>)> {
        self.queues.remove(to).map(Vec::from).unwrap_or_default()
    }
}

fn short(id: &MessageId) -> String {
    id.to_string()[..8].to_owned()
}

/// Fails the demo with a message when an expectation does not hold.
fn expect(ok: bool, what: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(format!("step misbehaved: {what}").into())
    }
}

struct Demo {
    style: Style,
    relay: Relay,
    alice: Account,
    bob: Account,
    a: Address,
    b: Address,
    /// Alice's outgoing messages and their text, for status lines.
    texts: HashMap<MessageId, String>,
}

impl Demo {
    fn say(&self, who: &str, text: &str) {
        println!("{} │ {text}", self.style.who(who));
    }

    fn relay_note(&self, note: &str) {
        println!(
            "{} │ {}",
            self.style.who("relay"),
            self.style.paint("2", note)
        );
    }

    fn status_line(&self, owner: &Account, who: &str, id: &MessageId) -> Result<MessageStatus> {
        let status = owner.message_status(id)?.ok_or("unknown message")?;
        let text = self.texts.get(id).cloned().unwrap_or_default();
        self.say(who, &format!("\"{text}\"  {}", self.style.ticks(status)));
        Ok(status)
    }

    /// `sender` encrypts and hands the message to the relay; returns its id.
    fn send(&mut self, from_alice: bool, text: &str, bundle: Option<&[u8]>) -> Result<MessageId> {
        let (account, from, to, who) = if from_alice {
            (&self.alice, &self.a, &self.b, "alice")
        } else {
            (&self.bob, &self.b, &self.a, "bob")
        };
        let bundle = bundle.map(bluetick::PreKeyBundle::from_bytes).transpose()?;
        let out = account.encrypt(to, text.as_bytes(), bundle.as_ref())?;
        self.texts.insert(out.id, text.to_owned());
        self.status_line(
            if from_alice { &self.alice } else { &self.bob },
            who,
            &out.id,
        )?;
        let (relay_id, note) = self.relay.accept(&from.clone(), &to.clone(), out.wire);
        self.relay_note(&note);
        expect(
            relay_id == out.id,
            "the relay computes the sender's message id",
        )?;
        let account = if from_alice { &self.alice } else { &self.bob };
        expect(
            account.mark_sent(&out.id)? == MessageStatus::Sent,
            "the relay's acknowledgement makes it Sent",
        )?;
        self.status_line(account, who, &out.id)?;
        Ok(out.id)
    }

    /// The recipient fetches its queue (in the order given) and decrypts everything.
    /// Returns the ids of application messages received, acknowledged after "storing".
    fn receive(&mut self, to_alice: bool, reorder: bool) -> Result<Vec<MessageId>> {
        let (me, who, other) = if to_alice {
            (self.a.clone(), "alice", "bob")
        } else {
            (self.b.clone(), "bob", "alice")
        };
        let mut queue = self.relay.fetch(&me);
        if reorder {
            queue.reverse();
            self.relay_note(&format!(
                "delivers {} messages to {me}, newest first",
                queue.len()
            ));
        }
        let mut got = Vec::new();
        for (from, wire) in queue {
            let account = if to_alice { &self.alice } else { &self.bob };
            let incoming = account.decrypt(&from, &wire)?;
            match incoming.received {
                Received::Message { id, body } => {
                    account.acknowledge(&id)?;
                    self.say(
                        who,
                        &format!("reads \"{}\" from {other}", String::from_utf8_lossy(&body)),
                    );
                    got.push(id);
                }
                Received::Receipt { kind, updated, .. } => {
                    let sender = if to_alice { &self.alice } else { &self.bob };
                    let signed = if kind.is_signed() {
                        "signed"
                    } else {
                        "deniable"
                    };
                    self.say(who, &format!("gets a {signed} receipt from {other}"));
                    for (id, _) in updated {
                        self.status_line(sender, who, &id)?;
                    }
                }
            }
            self.relay_note(&format!("drops {} B for {me}", wire.len()));
        }
        Ok(got)
    }

    fn receipt(&mut self, from_alice: bool, kind: ReceiptKind, ids: &[MessageId]) -> Result<()> {
        let (account, from, to) = if from_alice {
            (&self.alice, &self.a, &self.b)
        } else {
            (&self.bob, &self.b, &self.a)
        };
        let out = account.create_receipt(to, kind, ids, now_ms())?;
        let (_, note) = self.relay.accept(&from.clone(), &to.clone(), out.wire);
        self.relay_note(&note);
        Ok(())
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn run() -> Result<()> {
    let style = Style {
        colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let dir = tempfile::tempdir()?;
    let mut rng_key = [0u8; 32];
    bluetick::rand_core::Rng::fill_bytes(&mut bluetick::os_rng(), &mut rng_key);
    // In an app this key comes from the Keychain or the Keystore.
    let storage_key = Secret32::from_array(&mut rng_key);
    let config = AccountConfig::default();
    let alice = Account::create(
        Box::new(SqliteStore::open(dir.path().join("alice.db"))?),
        &storage_key,
        config,
    )?;
    let bob = Account::create(
        Box::new(SqliteStore::open(dir.path().join("bob.db"))?),
        &storage_key,
        config,
    )?;
    let mut d = Demo {
        style,
        relay: Relay::default(),
        alice,
        bob,
        a: Address::new("alice", 1),
        b: Address::new("bob", 1),
        texts: HashMap::new(),
    };
    println!(
        "{}",
        d.style
            .paint("1", "Bluetick demo: two devices, one blind relay")
    );

    // Bob publishes prekeys, then goes offline.
    let upload = d.bob.prekey_upload()?.to_bytes();
    let note = d.relay.upload(&d.b.clone(), &upload)?;
    d.relay_note(&note);
    d.say("bob", "goes offline");

    // Alice fetches Bob's bundle and sends: PQXDH, then one grey tick.
    let (bundle, note) = d.relay.bundle(&d.b.clone())?;
    d.relay_note(&note);
    let hello = d.send(true, "Hi Bob! Lunch tomorrow?", Some(&bundle))?;

    // Bob comes online: two grey ticks.
    d.say("bob", "comes online");
    let got = d.receive(false, false)?;
    expect(got == vec![hello], "Bob receives Alice's first message")?;
    d.receipt(false, ReceiptKind::Delivered, &got)?;
    d.receive(true, false)?;
    expect(
        d.alice.message_status(&hello)? == Some(MessageStatus::Delivered),
        "two grey ticks",
    )?;

    // Bob opens the chat: blue ticks.
    d.say("bob", "opens the chat");
    d.receipt(false, ReceiptKind::Read, &got)?;
    d.receive(true, false)?;
    expect(
        d.alice.message_status(&hello)? == Some(MessageStatus::Read),
        "blue ticks",
    )?;

    // Replies both ways.
    let reply = d.send(false, "Sure! 12:30 at the usual place?", None)?;
    let got = d.receive(true, false)?;
    expect(got == vec![reply], "Alice receives Bob's reply")?;
    d.receipt(true, ReceiptKind::Read, &got)?;
    d.receive(false, false)?;
    expect(
        d.bob.message_status(&reply)? == Some(MessageStatus::Read),
        "Bob's reply is read",
    )?;

    // A burst, delivered out of order.
    let mut burst = Vec::new();
    for text in [
        "Perfect.",
        "I'll bring the tickets.",
        "And the umbrella.",
        "See you!",
    ] {
        burst.push(d.send(true, text, None)?);
    }
    let got = d.receive(false, true)?;
    let mut expected = burst.clone();
    expected.reverse();
    expect(
        got == expected,
        "the whole burst arrives, in the order delivered",
    )?;
    d.receipt(false, ReceiptKind::Read, &got)?;
    d.receive(true, false)?;
    for id in &burst {
        expect(
            d.alice.message_status(id)? == Some(MessageStatus::Read),
            "every burst message is read",
        )?;
    }

    // A tampered message is rejected and changes nothing.
    let out = d.alice.encrypt(&d.b, b"Transfer 10 EUR", None)?;
    let mut tampered = out.wire.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    d.relay_note(&format!(
        "(compromised) flips one bit of {} B id {}",
        tampered.len(),
        short(&out.id)
    ));
    match d.bob.decrypt(&d.a, &tampered) {
        Err(AccountError::Decryption(e)) if e.kind() == ErrorKind::AuthenticationFailed => {
            d.say(
                "bob",
                &d.style
                    .paint("31", "rejects a tampered message; nothing changed"),
            );
        }
        other => return Err(format!("step misbehaved: tampered message gave {other:?}").into()),
    }
    let m = d.bob.decrypt(&d.a, &out.wire)?;
    expect(
        matches!(m.received, Received::Message { .. }),
        "the genuine message still decrypts",
    )?;
    d.say("bob", "reads the genuine \"Transfer 10 EUR\"");

    let (na, nb) = (d.alice.safety_number(&d.b)?, d.bob.safety_number(&d.a)?);
    expect(
        na.is_some() && na == nb,
        "both sides show the same safety number",
    )?;
    println!(
        "safety number │ {}",
        na.map(|n| n.to_string()).unwrap_or_default()
    );
    println!(
        "{}",
        d.style.paint("1;32", "demo complete: every step behaved")
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}
