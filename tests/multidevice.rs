//! Users with several devices (spec §11): device lists and user identities, one logical
//! message per send with transcripts for the own other devices, statuses per §11, and the
//! refusals a relay cannot get around (ghost devices, stale lists, changed keys, receipts
//! from the wrong device, transcripts from another user).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bluetick::receipt::signed_payload;
use bluetick::{
    Account, AccountConfig, AccountError, Address, DeviceList, DisplayKey, ErrorKind, IdentityKey,
    IdentityKeyPair, InMemoryPreKeyStore, LogicalMessage, MemoryStore, MessageStatus, PqPreKey,
    PqPreKeyKind, PreKeyBundle, PreKeyUpload, ReceiptKind, Received, Secret32, SessionRecord,
    SignedPreKey,
};

fn key() -> Secret32 {
    Secret32::from_slice(&[7; 32]).unwrap()
}

fn account() -> Account {
    let config = AccountConfig {
        one_time_prekeys: 8,
        one_time_pq_prekeys: 8,
        low_water_mark: 1,
    };
    Account::create(Box::new(MemoryStore::new()), &key(), config).unwrap()
}

fn bundle_of(account: &Account) -> PreKeyBundle {
    PreKeyUpload::from_bytes(&account.prekey_upload().unwrap().to_bytes())
        .unwrap()
        .take_bundle()
}

/// A small seeded generator for delivery orders (xorshift64*).
struct Shuffle(u64);

impl Shuffle {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

struct Device {
    addr: Address,
    account: Account,
}

/// A user of `n` devices (ids 1..=n, the first the primary), each knowing its own user's
/// list (version 1). Returns the devices and the list.
fn user(name: &str, n: u32) -> (Vec<Device>, DeviceList) {
    let devices: Vec<Device> = (1..=n)
        .map(|d| {
            let account = account();
            let addr = Address::new(name, d);
            account.set_own_address(&addr).unwrap();
            Device { addr, account }
        })
        .collect();
    let companions: Vec<(u32, IdentityKey)> = devices[1..]
        .iter()
        .map(|d| (d.addr.device, *d.account.identity()))
        .collect();
    let list = devices[0].account.sign_device_list(1, &companions).unwrap();
    for d in &devices[1..] {
        let change = d.account.accept_device_list(&list).unwrap();
        assert_eq!(change.added.len(), n as usize);
    }
    (devices, list)
}

/// Each device's published prekeys, as a relay hands them out: every bundle taken once.
type Directory = HashMap<Address, PreKeyUpload>;

/// Gives `from` a session with every device a send to `to_user` reaches, from bundles.
fn connect(from: &Device, to_user: &[u8], directory: &mut Directory) {
    for addr in from.account.devices_without_session(to_user).unwrap() {
        let bundle = directory.get_mut(&addr).unwrap().take_bundle();
        from.account.start_session(&addr, &bundle).unwrap();
    }
    assert!(from
        .account
        .devices_without_session(to_user)
        .unwrap()
        .is_empty());
}

/// Alice with `a` devices and Bob with `b`, every device knowing both lists and holding a
/// session with every device it sends to.
fn world(a: u32, b: u32) -> (Vec<Device>, Vec<Device>, DeviceList, DeviceList) {
    let (alice, alice_list) = user("alice", a);
    let (bob, bob_list) = user("bob", b);
    for d in &alice {
        d.account.accept_device_list(&bob_list).unwrap();
    }
    for d in &bob {
        d.account.accept_device_list(&alice_list).unwrap();
    }
    let mut directory: Directory = alice
        .iter()
        .chain(bob.iter())
        .map(|d| {
            let upload = d.account.prekey_upload().unwrap();
            (
                d.addr.clone(),
                PreKeyUpload::from_bytes(&upload.to_bytes()).unwrap(),
            )
        })
        .collect();
    for d in &alice {
        connect(d, b"bob", &mut directory);
    }
    for d in &bob {
        connect(d, b"alice", &mut directory);
    }
    (alice, bob, alice_list, bob_list)
}

/// A message as a device shows it: `(lamport, sender, body)`.
type Shown = (u64, Address, Vec<u8>);

fn display_sort(v: &mut [Shown]) {
    v.sort_by(|a, b| DisplayKey::new(a.0, &a.1).cmp(&DisplayKey::new(b.0, &b.1)));
}

#[test]
fn two_users_with_two_and_three_devices_agree_on_the_order_in_any_delivery_order() {
    for seed in [1u64, 0x5eed, 0xdead_beef] {
        let (alice, bob, _, _) = world(2, 3);
        let everyone: Vec<&Device> = alice.iter().chain(bob.iter()).collect();
        let mut rng = Shuffle(seed);
        // Wires on their way: (to, from, wire).
        let mut network: Vec<(Address, Address, Vec<u8>)> = Vec::new();
        // What each device has written or received, and what it knew when it wrote.
        let mut seen: HashMap<Address, Vec<Shown>> = HashMap::new();
        let mut causes: Vec<(Shown, Vec<Shown>)> = Vec::new();
        let mut written = 0;
        while written < 24 || !network.is_empty() {
            let send = written < 24 && (network.is_empty() || rng.below(3) == 0);
            if send {
                let d = everyone[rng.below(everyone.len())];
                let to: &[u8] = if d.addr.user == b"alice" {
                    b"bob"
                } else {
                    b"alice"
                };
                let text = format!("{} #{written}", d.addr).into_bytes();
                let m = d.account.send_to_user(to, &text, 1_000 + written).unwrap();
                assert_eq!(
                    m.wires.len(),
                    everyone.len() - 1,
                    "one wire per other device"
                );
                let mine = (m.lamport, d.addr.clone(), text);
                let known = seen.entry(d.addr.clone()).or_default();
                causes.push((mine.clone(), known.clone()));
                known.push(mine);
                for w in m.wires {
                    network.push((w.to, d.addr.clone(), w.wire));
                }
                written += 1;
            } else {
                let (to, from, wire) = network.swap_remove(rng.below(network.len()));
                let device = everyone.iter().find(|d| d.addr == to).unwrap();
                let incoming = device.account.decrypt(&from, &wire).unwrap();
                let shown = match incoming.received {
                    Received::Message { lamport, body, .. } => {
                        assert_ne!(from.user, to.user);
                        (lamport, from.clone(), body)
                    }
                    Received::Transcript {
                        lamport,
                        body,
                        to_user,
                        ..
                    } => {
                        assert_eq!(from.user, to.user, "a transcript comes from the own user");
                        assert_ne!(to_user, to.user);
                        (lamport, from.clone(), body)
                    }
                    other => panic!("unexpected {other:?}"),
                };
                seen.entry(to).or_default().push(shown);
            }
        }
        // Every device shows the same conversation in the same order: its own messages and
        // its inbox (messages of the other user and transcripts of its own user).
        let mut views = Vec::new();
        for d in &everyone {
            let other: &[u8] = if d.addr.user == b"alice" {
                b"bob"
            } else {
                b"alice"
            };
            let mut view: Vec<Shown> = d
                .account
                .conversation_inbox(other)
                .unwrap()
                .into_iter()
                .map(|e| (e.lamport, e.from, e.body))
                .collect();
            let inbox_order = view.clone();
            view.extend(
                seen[&d.addr]
                    .iter()
                    .filter(|(_, from, _)| *from == d.addr)
                    .cloned(),
            );
            display_sort(&mut view);
            // The inbox alone is already in display order.
            let mut sorted_inbox = inbox_order.clone();
            display_sort(&mut sorted_inbox);
            assert_eq!(inbox_order, sorted_inbox);
            assert_eq!(view.len(), 24, "{} misses messages", d.addr);
            views.push(view);
        }
        for v in &views[1..] {
            assert_eq!(v, &views[0], "seed {seed}: devices disagree");
        }
        // Causality: whatever a device knew when it wrote comes before what it wrote.
        let position = |m: &Shown| views[0].iter().position(|x| x == m).unwrap();
        for (message, known) in &causes {
            for k in known {
                assert!(
                    position(k) < position(message),
                    "seed {seed}: {k:?} after {message:?}"
                );
            }
        }
        // Every device's clock ends at the largest lamport written.
        let top = views[0].iter().map(|m| m.0).max().unwrap();
        for d in &everyone {
            let other: &[u8] = if d.addr.user == b"alice" {
                b"bob"
            } else {
                b"alice"
            };
            assert_eq!(d.account.conversation_clock(other).unwrap(), top);
        }
    }
}

fn wire_to<'a>(m: &'a LogicalMessage, to: &Address) -> &'a bluetick::DeviceWire {
    m.wires.iter().find(|w| w.to == *to).unwrap()
}

fn statuses(account: &Account, m: &LogicalMessage) -> Vec<(Address, MessageStatus, bool)> {
    account
        .message_info(&m.id)
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|s| (s.to, s.status, s.transcript))
        .collect()
}

#[test]
fn the_logical_status_follows_every_recipient_wire_and_one_device_per_user() {
    let (alice, bob, _, _) = world(2, 3);
    let a1 = &alice[0];
    let m = a1.account.send_to_user(b"bob", b"hello", 5).unwrap();
    assert_eq!(m.wires.len(), 4);
    assert_eq!(m.wires.iter().filter(|w| w.transcript).count(), 1);
    assert!(wire_to(&m, &alice[1].addr).transcript);
    assert_eq!(
        a1.account.logical_status(&m.id).unwrap(),
        Some(MessageStatus::Pending)
    );
    // Sent only once every recipient wire is acknowledged; the transcript does not count.
    for b in &bob[..2] {
        a1.account.mark_sent(&wire_to(&m, &b.addr).id).unwrap();
        assert_eq!(
            a1.account.logical_status(&m.id).unwrap(),
            Some(MessageStatus::Pending)
        );
    }
    a1.account.mark_sent(&wire_to(&m, &bob[2].addr).id).unwrap();
    assert_eq!(
        a1.account.logical_status(&m.id).unwrap(),
        Some(MessageStatus::Sent)
    );
    // Every Bob device receives it; one delivery receipt makes it Delivered.
    for b in &bob {
        b.account
            .decrypt(&a1.addr, &wire_to(&m, &b.addr).wire)
            .unwrap();
    }
    let b2 = &bob[1];
    let receipt = b2
        .account
        .create_receipt(
            &a1.addr,
            ReceiptKind::Delivered,
            &[wire_to(&m, &b2.addr).id],
            9,
        )
        .unwrap();
    a1.account.decrypt(&b2.addr, &receipt.wire).unwrap();
    assert_eq!(
        a1.account.logical_status(&m.id).unwrap(),
        Some(MessageStatus::Delivered)
    );
    let info = statuses(&a1.account, &m);
    assert_eq!(
        info,
        vec![
            (bob[0].addr.clone(), MessageStatus::Sent, false),
            (bob[1].addr.clone(), MessageStatus::Delivered, false),
            (bob[2].addr.clone(), MessageStatus::Sent, false),
            (alice[1].addr.clone(), MessageStatus::Pending, true),
        ]
    );
    // A read receipt from another device of the same user: Read.
    let b3 = &bob[2];
    let read = b3
        .account
        .create_receipt(&a1.addr, ReceiptKind::Read, &[wire_to(&m, &b3.addr).id], 10)
        .unwrap();
    a1.account.decrypt(&b3.addr, &read.wire).unwrap();
    assert_eq!(
        a1.account.logical_status(&m.id).unwrap(),
        Some(MessageStatus::Read)
    );
    assert_eq!(statuses(&a1.account, &m)[2].1, MessageStatus::Read);
    assert_eq!(statuses(&a1.account, &m)[0].1, MessageStatus::Sent);
    // Unknown ids have no status.
    assert_eq!(
        a1.account
            .logical_status(&bluetick::MessageId([0; 16]))
            .unwrap(),
        None
    );
}

#[test]
fn a_device_without_a_session_stops_the_send_and_commits_nothing() {
    let (alice, bob) = (user("alice", 1).0, user("bob", 2));
    let a1 = &alice[0];
    a1.account.accept_device_list(&bob.1).unwrap();
    a1.account
        .start_session(&bob.0[0].addr, &bundle_of(&bob.0[0].account))
        .unwrap();
    assert_eq!(
        a1.account.devices_without_session(b"bob").unwrap(),
        vec![bob.0[1].addr.clone()]
    );
    match a1.account.send_to_user(b"bob", b"x", 0) {
        Err(AccountError::NoSession(addr)) => assert_eq!(addr, bob.0[1].addr),
        other => panic!("{other:?}"),
    }
    assert_eq!(a1.account.conversation_clock(b"bob").unwrap(), 0);
    // Without the user's list or the own address, a send says what is missing.
    assert!(matches!(
        a1.account.send_to_user(b"carol", b"x", 0),
        Err(AccountError::NoDeviceList(_))
    ));
    let anonymous = account();
    assert!(matches!(
        anonymous.send_to_user(b"bob", b"x", 0),
        Err(AccountError::NoOwnAddress)
    ));
}

/// A device built from the protocol layer, so a test can make it send any receipt body.
struct RawDevice {
    identity: IdentityKeyPair,
    prekeys: InMemoryPreKeyStore,
    record: SessionRecord,
    rng: bluetick::OsRng,
}

impl RawDevice {
    fn new() -> Self {
        let mut rng = bluetick::os_rng();
        let identity = IdentityKeyPair::generate(&mut rng);
        let mut prekeys = InMemoryPreKeyStore::new();
        prekeys.add_signed_prekey(SignedPreKey::generate(&identity, 1, &mut rng));
        prekeys.add_pq_prekey(PqPreKey::generate(
            &identity,
            1,
            PqPreKeyKind::LastResort,
            &mut rng,
        ));
        Self {
            identity,
            prekeys,
            record: SessionRecord::new(),
            rng,
        }
    }

    fn bundle(&self) -> PreKeyBundle {
        self.prekeys.bundle(&self.identity).unwrap()
    }

    fn receive(&mut self, wire: &[u8]) {
        self.record
            .decrypt(&self.identity, &mut self.prekeys, wire, &mut self.rng)
            .unwrap();
    }

    /// A signed read receipt naming any ids, sent on its session.
    fn receipt(&mut self, addressee: &IdentityKey, ids: &[bluetick::MessageId]) -> Vec<u8> {
        let payload = signed_payload(self.identity.public(), addressee, ReceiptKind::Read, 9, ids);
        let mut body = payload[bluetick::constants::RECEIPT_CONTEXT.len() + 64..].to_vec();
        body.extend_from_slice(&self.identity.sign(&[&payload]));
        self.record
            .encrypt(bluetick::ContentType::Receipt, &body, &mut self.rng)
            .unwrap()
            .wire
    }
}

#[test]
fn a_receipt_naming_a_wire_sent_to_another_device_changes_nothing() {
    let (alice, _) = user("alice", 1);
    let a1 = &alice[0];
    // Bob: a primary account, a raw companion (device 2) and an account companion (3).
    let bob1 = account();
    bob1.set_own_address(&Address::new("bob", 1)).unwrap();
    let mut raw = RawDevice::new();
    let bob3 = account();
    let list = bob1
        .sign_device_list(1, &[(2, *raw.identity.public()), (3, *bob3.identity())])
        .unwrap();
    a1.account.accept_device_list(&list).unwrap();
    let (b1, b2, b3) = (
        Address::new("bob", 1),
        Address::new("bob", 2),
        Address::new("bob", 3),
    );
    a1.account.start_session(&b1, &bundle_of(&bob1)).unwrap();
    a1.account.start_session(&b2, &raw.bundle()).unwrap();
    a1.account.start_session(&b3, &bundle_of(&bob3)).unwrap();
    let m = a1.account.send_to_user(b"bob", b"hi", 1).unwrap();
    raw.receive(&wire_to(&m, &b2).wire);
    let before = statuses(&a1.account, &m);
    // Device 2 acknowledges the wire sent to device 3, alone or with its own: refused.
    let to3 = wire_to(&m, &b3).id;
    let to2 = wire_to(&m, &b2).id;
    let mut both = vec![to2, to3];
    both.sort();
    for ids in [vec![to3], both] {
        let wire = raw.receipt(a1.account.identity(), &ids);
        let err = a1.account.decrypt(&b2, &wire).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownMessageId, "{err}");
        assert_eq!(statuses(&a1.account, &m), before);
        assert_eq!(
            a1.account.logical_status(&m.id).unwrap(),
            Some(MessageStatus::Pending)
        );
    }
    // Its receipt for its own wire is applied.
    let wire = raw.receipt(a1.account.identity(), &[to2]);
    a1.account.decrypt(&b2, &wire).unwrap();
    assert_eq!(
        a1.account.logical_status(&m.id).unwrap(),
        Some(MessageStatus::Read)
    );
}

#[test]
fn transcripts_are_accepted_only_from_listed_devices_of_the_own_user() {
    let (alice, alice_list) = user("alice", 2);
    let (a1, a2) = (&alice[0], &alice[1]);
    // Bob: a primary account and a raw companion (device 2) that can send any content.
    let bob1 = account();
    bob1.set_own_address(&Address::new("bob", 1)).unwrap();
    let mut raw = RawDevice::new();
    let bob_list = bob1
        .sign_device_list(1, &[(2, *raw.identity.public())])
        .unwrap();
    for a in &alice {
        a.account.accept_device_list(&bob_list).unwrap();
    }
    bob1.accept_device_list(&alice_list).unwrap();
    let b2 = Address::new("bob", 2);
    // Bob's device 2, a listed device of another user, sends Alice's device 2 a sent
    // transcript "to bob": refused, and nothing changes.
    let mut body = vec![3u8];
    body.extend_from_slice(b"bob");
    body.extend_from_slice(
        &bluetick::ApplicationBody {
            lamport: 50,
            sent_at_ms: 1,
            data: b"fake",
        }
        .to_bytes(),
    );
    raw.record
        .start_session(&raw.identity, &bundle_of(&a2.account), &mut raw.rng)
        .unwrap();
    let forged = raw
        .record
        .encrypt(bluetick::ContentType::Transcript, &body, &mut raw.rng)
        .unwrap()
        .wire;
    let err = a2.account.decrypt(&b2, &forged).unwrap_err();
    assert!(
        matches!(err, AccountError::ForeignTranscript(ref a) if *a == b2),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::ForeignTranscript);
    assert!(a2.account.inbox().unwrap().is_empty());
    assert_eq!(a2.account.conversation_clock(b"bob").unwrap(), 0);

    // Alice's device 1 sends to Bob: device 2 gets the transcript in the Bob conversation.
    a1.account
        .start_session(&Address::new("bob", 1), &bundle_of(&bob1))
        .unwrap();
    a1.account.start_session(&b2, &raw.bundle()).unwrap();
    a1.account
        .start_session(&a2.addr, &bundle_of(&a2.account))
        .unwrap();
    let sent = a1
        .account
        .send_to_user(b"bob", b"from my phone", 7)
        .unwrap();
    assert_eq!(sent.wires.len(), 3);
    let transcript = sent.wires.iter().find(|w| w.transcript).unwrap();
    assert_eq!(transcript.to, a2.addr);
    let got = a2.account.decrypt(&a1.addr, &transcript.wire).unwrap();
    match got.received {
        Received::Transcript {
            to_user,
            lamport,
            sent_at_ms,
            body,
            ..
        } => {
            assert_eq!(to_user, b"bob");
            assert_eq!(lamport, sent.lamport);
            assert_eq!(sent_at_ms, 7);
            assert_eq!(body, b"from my phone");
        }
        other => panic!("{other:?}"),
    }
    let conversation = a2.account.conversation_inbox(b"bob").unwrap();
    assert_eq!(conversation.len(), 1);
    assert_eq!(conversation[0].from, a1.addr);
    assert_eq!(conversation[0].transcript_to.as_deref(), Some(&b"bob"[..]));
    assert!(a2.account.conversation_inbox(b"alice").unwrap().is_empty());
    assert_eq!(a2.account.conversation_clock(b"bob").unwrap(), sent.lamport);
    // The same wire again is returned from the inbox, still a transcript.
    let again = a2.account.decrypt(&a1.addr, &transcript.wire).unwrap();
    assert!(matches!(again.received, Received::Transcript { .. }));
}

#[test]
fn ghost_devices_stale_lists_and_changed_keys_are_refused() {
    let (alice, _) = user("alice", 1);
    let a1 = &alice[0];
    let bob_key = IdentityKeyPair::generate(&mut bluetick::os_rng());
    let bob2 = account();
    let ghost = account();
    let sign = |version, devices: Vec<(u32, IdentityKey)>| {
        DeviceList::sign(&bob_key, b"bob", version, devices).unwrap()
    };
    let primary = (1, *bob_key.public());
    let v1 = sign(1, vec![primary, (2, *bob2.identity())]);
    let v2 = sign(2, vec![primary, (2, *bob2.identity())]);
    a1.account.accept_device_list(&v2).unwrap();
    assert_eq!(
        a1.account.user_identity(b"bob").unwrap(),
        Some(*bob_key.public())
    );

    // A ghost device: a relay hands out a bundle for device 9, which no list names.
    let err = a1
        .account
        .start_session(&Address::new("bob", 9), &bundle_of(&ghost))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeviceNotListed, "{err}");
    // A message from the ghost is refused too, and changes nothing.
    let from_ghost = ghost
        .encrypt(&a1.addr, b"hello", Some(&bundle_of(&a1.account)), 0)
        .unwrap();
    let err = a1
        .account
        .decrypt(&Address::new("bob", 9), &from_ghost.wire)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeviceNotListed, "{err}");
    assert!(a1.account.inbox().unwrap().is_empty());
    assert_eq!(a1.account.conversation_clock(b"bob").unwrap(), 0);

    // A changed device key without a new list: device 2 presents another identity.
    let impostor = account();
    let err = a1
        .account
        .start_session(&Address::new("bob", 2), &bundle_of(&impostor))
        .unwrap_err();
    assert!(
        matches!(
            err,
            AccountError::Device(bluetick::DeviceError::KeyChanged(2))
        ),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::DeviceNotListed);
    let from_impostor = impostor
        .encrypt(&a1.addr, b"it is me", Some(&bundle_of(&a1.account)), 0)
        .unwrap();
    let err = a1
        .account
        .decrypt(&Address::new("bob", 2), &from_impostor.wire)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeviceNotListed, "{err}");
    assert!(a1.account.inbox().unwrap().is_empty());

    // A stale list (a lower version) changes nothing; nor does one of the same version
    // with other contents (here naming the ghost).
    let err = a1.account.accept_device_list(&v1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StaleDeviceList, "{err}");
    let other_v2 = sign(2, vec![primary, (9, *ghost.identity())]);
    let err = a1.account.accept_device_list(&other_v2).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StaleDeviceList, "{err}");
    assert_eq!(a1.account.device_list(b"bob").unwrap(), Some(v2.clone()));
    assert!(a1.account.accept_device_list(&v2).unwrap().is_empty());
    // A list signed by another identity: the policy (none set) does not trust it.
    let other_key = IdentityKeyPair::generate(&mut bluetick::os_rng());
    let forged = DeviceList::sign(
        &other_key,
        b"bob",
        9,
        vec![(1, *other_key.public()), (9, *ghost.identity())],
    )
    .unwrap();
    let err = a1.account.accept_device_list(&forged).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UntrustedIdentity, "{err}");
    assert_eq!(a1.account.device_list(b"bob").unwrap(), Some(v2.clone()));
    assert_eq!(
        a1.account.user_identity(b"bob").unwrap(),
        Some(*bob_key.public())
    );
    // A policy that trusts it makes it the user's identity and list.
    a1.account.set_identity_policy(Box::new(|_, _, _| true));
    let change = a1.account.accept_device_list(&forged).unwrap();
    assert_eq!(change.added, vec![1, 9]);
    assert_eq!(
        a1.account.user_identity(b"bob").unwrap(),
        Some(*other_key.public())
    );
}

#[test]
fn a_removed_device_gets_nothing_and_a_new_one_gets_a_session_on_the_next_send() {
    let (alice, bob, _, _) = world(1, 3);
    let a1 = &alice[0];
    let (b1, b3) = (&bob[0], &bob[2]);
    // Bob removes device 2 and links device 4.
    let b4 = account();
    b4.set_own_address(&Address::new("bob", 4)).unwrap();
    let v2 = b1
        .account
        .sign_device_list(2, &[(3, *b3.account.identity()), (4, *b4.identity())])
        .unwrap();
    let change = a1.account.accept_device_list(&v2).unwrap();
    assert_eq!(change.added, vec![4]);
    assert_eq!(change.removed, vec![2]);
    assert!(change.changed.is_empty());
    // The next send needs device 4's bundle; device 2 is not asked for.
    assert_eq!(
        a1.account.devices_without_session(b"bob").unwrap(),
        vec![Address::new("bob", 4)]
    );
    assert!(matches!(
        a1.account.send_to_user(b"bob", b"x", 0),
        Err(AccountError::NoSession(a)) if a == Address::new("bob", 4)
    ));
    a1.account
        .start_session(&Address::new("bob", 4), &bundle_of(&b4))
        .unwrap();
    let m = a1.account.send_to_user(b"bob", b"after", 0).unwrap();
    let to: BTreeSet<u32> = m.wires.iter().map(|w| w.to.device).collect();
    assert_eq!(to, BTreeSet::from([1, 3, 4]));
    // The removed device's old session is never used again, even directly.
    assert!(a1
        .account
        .encrypt(&bob[1].addr, b"direct", None, 0)
        .is_err());
    // And what it sends is refused.
    let from_removed = bob[1]
        .account
        .send_to_user(b"alice", b"still here", 0)
        .unwrap();
    let err = a1
        .account
        .decrypt(&bob[1].addr, &from_removed.wires[0].wire)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeviceNotListed, "{err}");
    // Device 4 reads the new message.
    let got = b4.decrypt(&a1.addr, &wire_to(&m, &Address::new("bob", 4)).wire);
    // Device 4 has not accepted Alice's list: Alice is trusted on first use per address.
    assert!(
        matches!(got.unwrap().received, Received::Message { ref body, .. } if body == b"after")
    );
}

#[test]
fn a_changed_user_identity_archives_old_sessions_which_are_never_used_again() {
    let (alice, bob, _, _) = world(1, 2);
    let a1 = &alice[0];
    let before = a1.account.user_safety_number(b"bob").unwrap().unwrap();
    // Bob reinstalls: a new primary identity and a new list.
    let new_bob1 = account();
    new_bob1.set_own_address(&Address::new("bob", 1)).unwrap();
    let new_list = new_bob1
        .sign_device_list(1, &[(2, *bob[1].account.identity())])
        .unwrap();
    // Without the user's decision, the list is refused and the old sessions stay.
    let err = a1.account.accept_device_list(&new_list).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UntrustedIdentity);
    a1.account.send_to_user(b"bob", b"still old", 0).unwrap();
    // After comparing safety numbers, Alice trusts the new user identity.
    a1.account
        .trust_user_identity(b"bob", new_bob1.identity())
        .unwrap();
    let after = a1.account.user_safety_number(b"bob").unwrap().unwrap();
    assert_ne!(before, after);
    assert_eq!(
        after,
        bluetick::SafetyNumber::new(a1.account.identity(), new_bob1.identity())
    );
    // Until the new identity's list arrives, Bob's devices are not reached at all.
    assert!(a1.account.send_to_user(b"bob", b"x", 0).is_err());
    assert!(a1.account.encrypt(&bob[0].addr, b"x", None, 0).is_err());
    let change = a1.account.accept_device_list(&new_list).unwrap();
    assert_eq!(change.added, vec![1, 2]);
    // Every old session is archived: both devices need a bundle, including device 2 whose
    // key did not change (its session was authorised by the old identity).
    assert_eq!(
        a1.account.devices_without_session(b"bob").unwrap(),
        vec![Address::new("bob", 1), Address::new("bob", 2)]
    );
    assert!(matches!(
        a1.account.send_to_user(b"bob", b"x", 0),
        Err(AccountError::NoSession(_))
    ));
    // A message from the old primary's session is refused.
    let old = bob[0]
        .account
        .send_to_user(b"alice", b"old key", 0)
        .unwrap();
    let err = a1
        .account
        .decrypt(&bob[0].addr, &old.wires[0].wire)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeviceNotListed, "{err}");
    // New sessions from bundles work.
    a1.account
        .start_session(&Address::new("bob", 1), &bundle_of(&new_bob1))
        .unwrap();
    a1.account
        .start_session(&Address::new("bob", 2), &bundle_of(&bob[1].account))
        .unwrap();
    let m = a1.account.send_to_user(b"bob", b"new", 0).unwrap();
    let got = new_bob1
        .decrypt(&a1.addr, &wire_to(&m, &Address::new("bob", 1)).wire)
        .unwrap();
    assert!(matches!(got.received, Received::Message { ref body, .. } if body == b"new"));
}

#[test]
fn trust_identity_archives_the_session_under_the_old_key() {
    // Per-address trust (no device lists): trusting a new key retires the old session.
    let alice = account();
    let bob = account();
    let b = Address::new("bob", 1);
    alice
        .encrypt(&b, b"one", Some(&bundle_of(&bob)), 0)
        .unwrap();
    alice.encrypt(&b, b"two", None, 0).unwrap();
    let new_bob = account();
    alice.trust_identity(&b, new_bob.identity()).unwrap();
    let err = alice.encrypt(&b, b"three", None, 0).unwrap_err();
    assert!(matches!(err, AccountError::NoSession(_)), "{err}");
    alice
        .encrypt(&b, b"three", Some(&bundle_of(&new_bob)), 0)
        .unwrap();
    // Trusting the old key back does not revive the session made with it for sending.
    alice.trust_identity(&b, bob.identity()).unwrap();
    assert!(alice.encrypt(&b, b"four", None, 0).is_err());
}

#[test]
fn a_companion_pins_its_primary_and_compares_user_identities() {
    let (alice, alice_list) = user("alice", 2);
    let (bob, bob_list) = user("bob", 1);
    let a2 = &alice[1];
    assert_eq!(
        a2.account.user_identity(b"alice").unwrap(),
        Some(*alice[0].account.identity())
    );
    a2.account.accept_device_list(&bob_list).unwrap();
    bob[0].account.accept_device_list(&alice_list).unwrap();
    // Both of Alice's devices and Bob show the same number: it is over user identities.
    alice[0].account.accept_device_list(&bob_list).unwrap();
    let n1 = alice[0]
        .account
        .user_safety_number(b"bob")
        .unwrap()
        .unwrap();
    let n2 = a2.account.user_safety_number(b"bob").unwrap().unwrap();
    let nb = bob[0]
        .account
        .user_safety_number(b"alice")
        .unwrap()
        .unwrap();
    assert_eq!(n1, n2);
    assert_eq!(n1, nb);
    // A companion cannot sign its user's list, even with a policy that trusts anything.
    a2.account.set_identity_policy(Box::new(|_, _, _| true));
    let err = a2.account.sign_device_list(2, &[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UntrustedIdentity, "{err}");
    assert_eq!(
        a2.account.user_identity(b"alice").unwrap(),
        Some(*alice[0].account.identity())
    );
    // A certificate the primary signs verifies under the user identity.
    let cert = alice[0]
        .account
        .certify_device(2, a2.account.identity(), 42)
        .unwrap();
    cert.verify(alice[0].account.identity()).unwrap();
    assert!(cert.verify(a2.account.identity()).is_err());
    // The stored lists survive as accepted.
    let mut lists = BTreeMap::new();
    lists.insert("alice", a2.account.device_list(b"alice").unwrap());
    assert_eq!(lists["alice"], Some(alice_list));
}

#[test]
fn logical_messages_are_bounded_and_forgotten_with_their_wires() {
    use std::sync::Arc;
    let store = Arc::new(MemoryStore::new());
    let config = AccountConfig {
        one_time_prekeys: 1,
        one_time_pq_prekeys: 1,
        low_water_mark: 0,
    };
    let alice = Account::create(Box::new(Arc::clone(&store)), &key(), config).unwrap();
    alice.set_own_address(&Address::new("alice", 1)).unwrap();
    let (bob, bob_list) = user("bob", 1);
    alice.accept_device_list(&bob_list).unwrap();
    alice
        .start_session(&bob[0].addr, &bundle_of(&bob[0].account))
        .unwrap();
    let first = alice.send_to_user(b"bob", b"first", 0).unwrap();
    let first_wire = first.wires[0].id;
    for _ in 0..10_000 {
        alice.send_to_user(b"bob", b"more", 0).unwrap();
    }
    // The oldest logical message and its wire's status are forgotten (in pages of 20);
    // the store holds between 9,980 and 9,999 logical messages, and one wire status each.
    assert_eq!(alice.logical_status(&first.id).unwrap(), None);
    assert_eq!(alice.message_info(&first.id).unwrap(), None);
    assert_eq!(alice.message_status(&first_wire).unwrap(), None);
    let rows = |table: &str| store.dump().iter().filter(|(t, _)| *t == table).count();
    let logical = rows("logical_messages");
    assert!(
        (9_980..10_000).contains(&logical),
        "{logical} logical messages kept"
    );
    assert_eq!(rows("outgoing"), logical);
}
