//! Groups in the Account (spec §12): three users with one or two devices each, random
//! delivery orders, membership changes, refused distributions and wires, receipts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::account::{AccountConfig, DeviceStatus};
use crate::clock::DisplayKey;
use crate::group::Distribution;
use crate::primitives::secret::Secret32;
use crate::receipt::ReceiptKind;
use crate::store::MemoryStore;
use crate::PreKeyUpload;

const GROUP: &[u8] = b"friends";

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
    store: Arc<MemoryStore>,
}

fn account() -> (Account, Arc<MemoryStore>) {
    let key = Secret32::from_slice(&[7; 32]).unwrap();
    let config = AccountConfig {
        one_time_prekeys: 12,
        one_time_pq_prekeys: 12,
        low_water_mark: 1,
    };
    let store = Arc::new(MemoryStore::new());
    let account = Account::create(Box::new(Arc::clone(&store)), &key, config).unwrap();
    (account, store)
}

/// Users of the given device counts; every device knows every list.
fn world(users: &[(&str, u32)]) -> (Vec<Device>, HashMap<Address, PreKeyUpload>) {
    let mut devices = Vec::new();
    let mut lists = Vec::new();
    for (name, n) in users {
        let mine: Vec<Device> = (1..=*n)
            .map(|d| {
                let (account, store) = account();
                let addr = Address::new(*name, d);
                account.set_own_address(&addr).unwrap();
                Device {
                    addr,
                    account,
                    store,
                }
            })
            .collect();
        let companions: Vec<_> = mine[1..]
            .iter()
            .map(|d| (d.addr.device, *d.account.identity()))
            .collect();
        lists.push(mine[0].account.sign_device_list(1, &companions).unwrap());
        devices.extend(mine);
    }
    for d in &devices {
        for l in &lists {
            d.account.accept_device_list(l).unwrap();
        }
    }
    let directory = devices
        .iter()
        .map(|d| {
            let up = d.account.prekey_upload().unwrap();
            (
                d.addr.clone(),
                PreKeyUpload::from_bytes(&up.to_bytes()).unwrap(),
            )
        })
        .collect();
    (devices, directory)
}

fn members(names: &[&str]) -> Vec<Vec<u8>> {
    names.iter().map(|n| n.as_bytes().to_vec()).collect()
}

fn connect(d: &Device, directory: &mut HashMap<Address, PreKeyUpload>) {
    for addr in d.account.group_devices_without_session(GROUP).unwrap() {
        let bundle = directory.get_mut(&addr).unwrap().take_bundle();
        d.account.start_session(&addr, &bundle).unwrap();
    }
}

fn device<'a>(all: &'a [Device], addr: &Address) -> &'a Device {
    all.iter().find(|d| d.addr == *addr).unwrap()
}

/// Wires on their way: `(to, address the relay attaches, wire)`.
type Network = Vec<(Address, Address, Vec<u8>)>;

fn post(network: &mut Network, from: &Address, sent: &GroupSend) {
    for w in sent.distributions.iter().chain(sent.transcripts.iter()) {
        network.push((w.to.clone(), from.clone(), w.wire.clone()));
    }
    for to in &sent.recipients {
        network.push((to.clone(), from.clone(), sent.group_wire.clone()));
    }
}

/// Delivers everything in a random order; a group wire that arrives before its key waits.
fn deliver(all: &[Device], network: &mut Network, rng: &mut Shuffle) -> HashMap<Address, usize> {
    let mut opened = HashMap::new();
    let mut stuck = 0;
    while !network.is_empty() {
        let i = rng.below(network.len());
        let (to, from, wire) = network[i].clone();
        match device(all, &to).account.decrypt(&from, &wire) {
            Ok(incoming) => {
                network.swap_remove(i);
                stuck = 0;
                if matches!(incoming.received, Received::GroupMessage { .. }) {
                    *opened.entry(to).or_insert(0) += 1;
                }
            }
            Err(AccountError::Group(GroupError::UnknownDistribution)) => {
                stuck += 1;
                assert!(stuck < 10_000, "a group wire never found its key");
            }
            Err(e) => panic!("{to} could not open a wire from {from}: {e}"),
        }
    }
    opened
}

/// Every device in `group` with alice, bob and carol, at 1,000 ms.
fn everyone_in(all: &[Device], group: &[u8]) {
    for d in all {
        d.account
            .set_group_members(group, &members(&["alice", "bob", "carol"]), 1_000)
            .unwrap();
    }
}

fn setup() -> (Vec<Device>, HashMap<Address, PreKeyUpload>) {
    let (all, mut directory) = world(&[("alice", 2), ("bob", 1), ("carol", 2)]);
    everyone_in(&all, GROUP);
    for d in &all {
        connect(d, &mut directory);
    }
    (all, directory)
}

#[test]
fn every_device_opens_every_message_once_in_the_same_display_order() {
    for seed in [3u64, 0x5eed, 0xfeed_beef] {
        let (all, _) = setup();
        let mut rng = Shuffle(seed);
        let mut network = Network::new();
        let mut written: Vec<(u64, Address, Vec<u8>)> = Vec::new();
        for n in 0..15u64 {
            let d = &all[rng.below(all.len())];
            let body = format!("{} #{n}", d.addr).into_bytes();
            let sent = d.account.send_to_group(GROUP, &body, 2_000 + n).unwrap();
            let others = all.iter().filter(|o| o.addr.user != d.addr.user).count();
            assert_eq!(sent.recipients.len(), others);
            written.push((sent.lamport, d.addr.clone(), body));
            post(&mut network, &d.addr, &sent);
            // Some deliveries between sends, so clocks move.
            for _ in 0..rng.below(6) {
                if network.is_empty() {
                    break;
                }
                let i = rng.below(network.len());
                let (to, from, wire) = network[i].clone();
                if device(&all, &to).account.decrypt(&from, &wire).is_ok() {
                    network.swap_remove(i);
                }
            }
        }
        deliver(&all, &mut network, &mut rng);
        written.sort_by(|a, b| DisplayKey::new(a.0, &a.1).cmp(&DisplayKey::new(b.0, &b.1)));
        for d in &all {
            let inbox = d.account.group_inbox(GROUP).unwrap();
            let got: Vec<_> = inbox
                .iter()
                .map(|e| (e.lamport, e.from.clone(), e.body.clone()))
                .collect();
            let expected: Vec<_> = written.iter().filter(|w| w.1 != d.addr).cloned().collect();
            assert_eq!(got, expected, "{} with seed {seed}", d.addr);
            assert!(inbox.iter().all(|e| e.group.as_deref() == Some(GROUP)));
            // Nothing of the group leaks into a 1:1 conversation.
            assert!(d.account.conversation_inbox(b"bob").unwrap().is_empty());
        }
    }
}

#[test]
fn a_late_joiner_reads_nothing_earlier_and_a_removed_member_nothing_later() {
    let (all, mut directory) = world(&[("alice", 2), ("bob", 1), ("carol", 2), ("dave", 1)]);
    let set = |names: &[&str], now| {
        for d in &all {
            d.account
                .set_group_members(GROUP, &members(names), now)
                .unwrap();
        }
    };
    set(&["alice", "bob", "carol"], 1_000);
    for d in &all {
        connect(d, &mut directory);
    }
    let mut rng = Shuffle(9);
    let alice = &all[0];
    let dave = &all[5];
    let mut network = Network::new();
    let first = alice.account.send_to_group(GROUP, b"one", 2_000).unwrap();
    assert_eq!(first.distributions.len(), 3, "bob and carol's two devices");
    assert_eq!(first.transcripts.len(), 1);
    post(&mut network, &alice.addr, &first);
    deliver(&all, &mut network, &mut rng);
    // The same key goes on: no distribution.
    let second = alice.account.send_to_group(GROUP, b"two", 2_001).unwrap();
    assert!(second.distributions.is_empty());
    post(&mut network, &alice.addr, &second);
    deliver(&all, &mut network, &mut rng);

    // Dave joins: no rotation, he alone gets the key, at its current iteration.
    set(&["alice", "bob", "carol", "dave"], 2_500);
    connect(alice, &mut directory);
    let third = alice.account.send_to_group(GROUP, b"three", 2_600).unwrap();
    let to: Vec<&Address> = third.distributions.iter().map(|w| &w.to).collect();
    assert_eq!(to, [&Address::new("dave", 1)]);
    post(&mut network, &alice.addr, &third);
    deliver(&all, &mut network, &mut rng);
    for old in [&first, &second] {
        assert!(matches!(
            dave.account.decrypt(&alice.addr, &old.group_wire),
            Err(AccountError::Group(_))
        ));
    }
    let inbox = dave.account.group_inbox(GROUP).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].body, b"three");

    // Carol leaves: the key rotates, and only Bob and Dave get the new one.
    set(&["alice", "bob", "dave"], 3_000);
    let fourth = alice.account.send_to_group(GROUP, b"four", 3_001).unwrap();
    let to: Vec<&Address> = fourth.distributions.iter().map(|w| &w.to).collect();
    assert_eq!(to, [&Address::new("bob", 1), &Address::new("dave", 1)]);
    assert_eq!(
        fourth.recipients,
        [Address::new("bob", 1), Address::new("dave", 1)]
    );
    // Carol's devices get nothing from the relay, and the wire would not open for them.
    for carol in &all[3..5] {
        let before = carol.account.group_inbox(GROUP).unwrap();
        let refused = carol.account.decrypt(&alice.addr, &fourth.group_wire);
        assert!(
            matches!(
                refused,
                Err(AccountError::Group(GroupError::UnknownDistribution))
            ),
            "{refused:?}"
        );
        assert_eq!(carol.account.group_inbox(GROUP).unwrap(), before);
    }
    post(&mut network, &alice.addr, &fourth);
    deliver(&all, &mut network, &mut rng);
    assert_eq!(dave.account.group_inbox(GROUP).unwrap().len(), 2);
}

#[test]
fn receipts_give_per_device_statuses_and_the_aggregate() {
    let (all, _) = setup();
    let mut rng = Shuffle(11);
    let alice = &all[0];
    let mut network = Network::new();
    let sent = alice
        .account
        .send_to_group(GROUP, b"read me", 2_000)
        .unwrap();
    post(&mut network, &alice.addr, &sent);
    deliver(&all, &mut network, &mut rng);
    assert_eq!(
        alice.account.logical_status(&sent.id).unwrap(),
        Some(MessageStatus::Pending)
    );
    assert_eq!(
        alice.account.mark_sent(&sent.group_wire_id).unwrap(),
        MessageStatus::Sent
    );
    for t in &sent.transcripts {
        alice.account.mark_sent(&t.id).unwrap();
    }
    assert_eq!(
        alice.account.logical_status(&sent.id).unwrap(),
        Some(MessageStatus::Sent)
    );
    let receipt = |from: &Device, kind| {
        let entry = from.account.group_inbox(GROUP).unwrap().pop().unwrap();
        assert_eq!(entry.from, alice.addr);
        let r = from
            .account
            .create_receipt(&entry.from, kind, &[entry.id], 3_000)
            .unwrap();
        alice.account.decrypt(&from.addr, &r.wire).unwrap()
    };
    // Bob reads: Carol has not even received it, so the aggregate waits.
    let bob = &all[2];
    receipt(bob, ReceiptKind::Read);
    assert_eq!(
        alice.account.logical_status(&sent.id).unwrap(),
        Some(MessageStatus::Sent)
    );
    // Carol's second device receives it: delivered to every user.
    receipt(&all[4], ReceiptKind::Delivered);
    assert_eq!(
        alice.account.logical_status(&sent.id).unwrap(),
        Some(MessageStatus::Delivered)
    );
    // Carol reads on her first device: blue.
    receipt(&all[3], ReceiptKind::Read);
    assert_eq!(
        alice.account.logical_status(&sent.id).unwrap(),
        Some(MessageStatus::Read)
    );
    let info = alice.account.message_info(&sent.id).unwrap().unwrap();
    let status_of = |user: &str, device: u32| -> &DeviceStatus {
        info.iter()
            .find(|s| s.to == Address::new(user, device))
            .unwrap()
    };
    assert_eq!(status_of("bob", 1).status, MessageStatus::Read);
    assert_eq!(status_of("carol", 1).status, MessageStatus::Read);
    assert_eq!(status_of("carol", 2).status, MessageStatus::Delivered);
    assert!(status_of("alice", 2).transcript);
    assert_eq!(info.len(), 4);
    // A repeated receipt moves nothing.
    let again = receipt(bob, ReceiptKind::Read);
    assert!(matches!(again.received, Received::Receipt { ref updated, .. } if updated.is_empty()));
    // Alice's other device holds the transcript, in the group's conversation.
    let t = all[1].account.group_inbox(GROUP).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].from.clone(), t[0].body.as_slice()),
        (alice.addr.clone(), &b"read me"[..])
    );
    assert_eq!(t[0].lamport, sent.lamport);
    assert_eq!(
        all[1].account.group_members(GROUP).unwrap(),
        members(&["bob", "carol"])
    );
}

#[test]
fn forged_replayed_and_foreign_wires_change_nothing() {
    let (all, _) = setup();
    let mut rng = Shuffle(5);
    let alice = &all[0];
    let carol = &all[3];
    let mut network = Network::new();
    let sent = alice.account.send_to_group(GROUP, b"hello", 2_000).unwrap();
    post(&mut network, &alice.addr, &sent);
    deliver(&all, &mut network, &mut rng);
    let inbox = carol.account.group_inbox(GROUP).unwrap();
    let clock = carol.account.group_clock(GROUP).unwrap();

    // A redelivery returns the same message; after acknowledging, it is refused.
    let again = carol
        .account
        .decrypt(&alice.addr, &sent.group_wire)
        .unwrap();
    assert!(matches!(again.received, Received::GroupMessage { ref body, .. } if body == b"hello"));
    // Every flipped byte of the next wire is refused and changes nothing.
    let next = alice.account.send_to_group(GROUP, b"next", 2_001).unwrap();
    for i in (0..next.group_wire.len()).step_by(7) {
        let mut forged = next.group_wire.clone();
        forged[i] ^= 0x20;
        assert!(carol.account.decrypt(&alice.addr, &forged).is_err());
        assert_eq!(carol.account.group_inbox(GROUP).unwrap(), inbox);
        assert_eq!(carol.account.group_clock(GROUP).unwrap(), clock);
    }
    let opened = carol
        .account
        .decrypt(&bob_addr(), &next.group_wire)
        .unwrap();
    // The sender is the device that distributed the key, whatever the relay attached.
    assert_eq!(opened.from, alice.addr);
    carol.account.acknowledge(&inbox[0].id).unwrap();
    assert!(matches!(
        carol.account.decrypt(&alice.addr, &sent.group_wire),
        Err(AccountError::AlreadyReceived(_))
    ));

    // A member forwarding Alice's key over its own session: refused, the id is Alice's.
    let bob = &all[2];
    let alice_key = load_own_key(alice);
    let forwarded = raw_pairwise(bob, &carol.addr, &alice_key);
    assert!(matches!(
        carol.account.decrypt(&bob.addr, &forwarded),
        Err(AccountError::Group(GroupError::DistributionConflict))
    ));
    // A non-member's distribution is refused.
    alice
        .account
        .set_group_members(GROUP, &members(&["alice", "carol"]), 3_000)
        .unwrap();
    let own_key = Distribution::parse(&load_own_key(bob)).unwrap();
    let own_key = own_key.to_bytes();
    let foreign = raw_pairwise(bob, &alice.addr, &own_key);
    let before = alice.account.group_inbox(GROUP).unwrap();
    assert!(matches!(
        alice.account.decrypt(&bob.addr, &foreign),
        Err(AccountError::NotGroupMember(a)) if a == bob.addr
    ));
    assert_eq!(alice.account.group_inbox(GROUP).unwrap(), before);
}

fn bob_addr() -> Address {
    Address::new("bob", 1)
}

/// The distribution of `d`'s current sender key (it must have sent to the group).
fn load_own_key(d: &Device) -> Vec<u8> {
    let group = GroupId::new(GROUP).unwrap();
    d.account
        .transaction(|tx| {
            let state = load_state(tx, &group)?;
            let key = state.key.ok_or(AccountError::InvalidAddress)?;
            Ok(key.distribution(&group).to_bytes().to_vec())
        })
        .unwrap_or_else(|_| {
            // A device that never sent: make it send once.
            d.account.send_to_group(GROUP, b"x", 2_500).unwrap();
            load_own_key(d)
        })
}

/// A distribution body sent by `from` over its session with `to`, as a faulty or hostile
/// member could.
fn raw_pairwise(from: &Device, to: &Address, body: &[u8]) -> Vec<u8> {
    let key = *device_key(from, to).as_bytes();
    from.account
        .transaction(|tx| pairwise(tx, to, &key, ContentType::Distribution, body))
        .unwrap()
        .wire
}

fn device_key(from: &Device, to: &Address) -> IdentityKey {
    let list = from.account.device_list(&to.user).unwrap().unwrap();
    *list.device_key(to.device).unwrap()
}

#[test]
fn fifty_members_with_two_devices_each_open_every_message_once_in_one_order() {
    let names: Vec<String> = (0..50).map(|i| format!("user{i:02}")).collect();
    let spec: Vec<(&str, u32)> = names.iter().map(|n| (n.as_str(), 2)).collect();
    let (all, mut directory) = world(&spec);
    let everyone: Vec<Vec<u8>> = names.iter().map(|n| n.as_bytes().to_vec()).collect();
    for d in &all {
        d.account
            .set_group_members(GROUP, &everyone, 1_000)
            .unwrap();
    }
    // Five senders, one device of each of the first five users.
    let senders: Vec<&Device> = all.iter().step_by(2).take(5).collect();
    for s in &senders {
        connect(s, &mut directory);
    }
    let mut rng = Shuffle(50);
    let mut network = Network::new();
    let mut written = Vec::new();
    for n in 0..20u64 {
        let s = senders[rng.below(senders.len())];
        let body = format!("{} #{n}", s.addr).into_bytes();
        let sent = s.account.send_to_group(GROUP, &body, 2_000 + n).unwrap();
        assert_eq!(sent.recipients.len(), 98);
        written.push((sent.lamport, s.addr.clone(), body));
        post(&mut network, &s.addr, &sent);
    }
    let opened = deliver(&all, &mut network, &mut rng);
    written.sort_by(|a, b| DisplayKey::new(a.0, &a.1).cmp(&DisplayKey::new(b.0, &b.1)));
    for d in &all {
        let mine = written.iter().filter(|w| w.1 == d.addr).count();
        assert_eq!(opened.get(&d.addr).copied().unwrap_or(0), 20 - mine);
        let got: Vec<_> = d
            .account
            .group_inbox(GROUP)
            .unwrap()
            .into_iter()
            .map(|e| (e.lamport, e.from, e.body))
            .collect();
        let expected: Vec<_> = written.iter().filter(|w| w.1 != d.addr).cloned().collect();
        assert_eq!(got, expected, "{}", d.addr);
    }
}

#[test]
fn a_member_sending_key_after_key_leaves_the_store_bounded() {
    let (all, _) = setup();
    let bob = &all[2];
    let carol = &all[3];
    let group = GroupId::new(GROUP).unwrap();
    let rows = |d: &Device| {
        d.account
            .transaction(|tx| {
                let all = tx.scan(Table::GroupKeys)?;
                Ok(all
                    .iter()
                    .filter(|(k, _)| k.first() == Some(&KEYS_INDEX))
                    .count())
            })
            .unwrap()
    };
    let mut rng = crate::rng::os_rng();
    let before = rows(carol);
    for i in 0..20 {
        let key = SenderKey::generate(&mut rng, 2_000 + i);
        let wire = raw_pairwise(bob, &carol.addr, &key.distribution(&group).to_bytes());
        carol.account.decrypt(&bob.addr, &wire).unwrap();
    }
    // Bob's current key and the replaced ones kept: each with one index row (there were
    // twenty).
    let kept = 1 + crate::constants::MAX_RETIRED_SENDER_KEYS;
    assert!(
        rows(carol) <= before + kept,
        "{} rows after 20 keys, {before} before",
        rows(carol)
    );
}

/// What `d` stores of `group` in the group tables: its `groups` row, its `GroupKeys`
/// record, the index rows pointing at it, and its conversation clock.
fn group_rows(d: &Device, group: &[u8]) -> (bool, Option<GroupKeys>, usize, bool) {
    d.account
        .transaction(|tx| {
            let row = tx.get(Table::Groups, group)?.is_some();
            let keys = tx
                .get(Table::GroupKeys, &keys_key(group))?
                .map(|b| GroupKeys::from_bytes(&b).unwrap());
            let index = tx
                .scan(Table::GroupKeys)?
                .iter()
                .filter(|(k, v)| k.first() == Some(&KEYS_INDEX) && v.as_slice() == group)
                .count();
            let clock = tx
                .get(Table::Conversations, &group_conversation(group))?
                .is_some();
            Ok((row, keys, index, clock))
        })
        .unwrap()
}

fn unknown_distribution(r: Result<Incoming, AccountError>) -> bool {
    matches!(r, Err(AccountError::Group(GroupError::UnknownDistribution)))
}

#[test]
fn a_forgotten_group_leaves_no_row_refuses_its_wires_and_can_be_made_again() {
    const OTHER: &[u8] = b"others";
    let (all, _) = setup();
    everyone_in(&all, OTHER);
    let mut rng = Shuffle(21);
    let mut network = Network::new();
    let (alice, bob, carol) = (&all[0], &all[2], &all[3]);
    for (d, group) in [(alice, GROUP), (bob, GROUP), (alice, OTHER), (bob, OTHER)] {
        let sent = d.account.send_to_group(group, b"before", 2_000).unwrap();
        post(&mut network, &d.addr, &sent);
    }
    deliver(&all, &mut network, &mut rng);
    let old_key = Distribution::parse(&load_own_key(carol)).unwrap();
    // Sent under the keys Carol holds, not delivered yet.
    let later = alice.account.send_to_group(GROUP, b"later", 2_100).unwrap();
    let other_later = alice.account.send_to_group(OTHER, b"later", 2_100).unwrap();
    let (row, keys, index, clock) = group_rows(carol, GROUP);
    assert!(row && clock);
    assert_eq!(keys.unwrap().len(), 2, "Alice's key and Bob's");
    assert_eq!(index, 2);
    let inbox = carol.account.group_inbox(GROUP).unwrap();
    assert_eq!(inbox.len(), 2);
    let other_rows = group_rows(carol, OTHER);

    carol.account.forget_group(GROUP).unwrap();
    let (row, keys, index, clock) = group_rows(carol, GROUP);
    assert!(!row && keys.is_none() && index == 0 && !clock);
    // No row of any group table names it any more (the index rows checked above).
    let left = carol
        .account
        .transaction(|tx| {
            let mut n = 0;
            for table in [Table::Groups, Table::GroupKeys, Table::Conversations] {
                n += tx
                    .scan(table)?
                    .iter()
                    .filter(|(k, _)| k.ends_with(GROUP) && k.len() <= GROUP.len() + 1)
                    .count();
            }
            Ok(n)
        })
        .unwrap();
    assert_eq!(left, 0);
    // The other group is untouched, and its wires still open.
    let bytes = |(row, keys, index, clock): (bool, Option<GroupKeys>, usize, bool)| {
        (row, keys.map(|k| k.to_bytes().to_vec()), index, clock)
    };
    assert_eq!(bytes(group_rows(carol, OTHER)), bytes(other_rows));
    let opened = carol
        .account
        .decrypt(&alice.addr, &other_later.group_wire)
        .unwrap();
    assert!(matches!(opened.received, Received::GroupMessage { ref body, .. } if body == b"later"));
    // The unacknowledged messages stay until the app acknowledges them.
    assert_eq!(carol.account.group_inbox(GROUP).unwrap(), inbox);

    // A message under the old key, a distribution and the calls of the group are refused
    // as for a group never had, and change nothing.
    let before = carol.store.dump();
    assert!(unknown_distribution(
        carol.account.decrypt(&alice.addr, &later.group_wire)
    ));
    let again = raw_pairwise(alice, &carol.addr, &load_own_key(alice));
    assert!(matches!(
        carol.account.decrypt(&alice.addr, &again),
        Err(AccountError::UnknownGroup(g)) if g == GROUP
    ));
    assert!(matches!(
        carol.account.send_to_group(GROUP, b"x", 2_200),
        Err(AccountError::UnknownGroup(_))
    ));
    assert!(matches!(
        carol.account.group_members(GROUP),
        Err(AccountError::UnknownGroup(_))
    ));
    assert_eq!(carol.account.group_clock(GROUP).unwrap(), 0);
    // Forgetting it again (or a group never had) is Ok and changes nothing.
    carol.account.forget_group(GROUP).unwrap();
    carol.account.forget_group(b"never").unwrap();
    assert_eq!(carol.store.dump(), before);
    assert!(matches!(
        carol.account.forget_group(&[0; 65]),
        Err(AccountError::Group(GroupError::InvalidGroupId { len: 65 }))
    ));

    // Made again from scratch: a new key, distributed to every member device, and a
    // clock that starts over.
    carol
        .account
        .set_group_members(GROUP, &members(&["alice", "bob"]), 3_000)
        .unwrap();
    let fresh = carol.account.send_to_group(GROUP, b"back", 3_001).unwrap();
    assert_eq!(fresh.lamport, 1);
    let to: Vec<&Address> = fresh.distributions.iter().map(|w| &w.to).collect();
    assert_eq!(to, [&alice.addr, &all[1].addr, &bob.addr]);
    let new_key = Distribution::parse(&load_own_key(carol)).unwrap();
    assert_ne!(new_key.distribution_id, old_key.distribution_id);
    for w in &fresh.distributions {
        device(&all, &w.to)
            .account
            .decrypt(&carol.addr, &w.wire)
            .unwrap();
    }
    let got = alice
        .account
        .decrypt(&carol.addr, &fresh.group_wire)
        .unwrap();
    assert!(matches!(got.received, Received::GroupMessage { ref body, .. } if body == b"back"));
}

#[test]
fn a_removed_member_and_a_dropped_device_lose_their_keys_at_once() {
    let (all, _) = setup();
    let mut rng = Shuffle(33);
    let mut network = Network::new();
    let (alice, bob, carol, carol2) = (&all[0], &all[2], &all[3], &all[4]);
    for d in [bob, carol, carol2] {
        let sent = d.account.send_to_group(GROUP, b"hi", 2_000).unwrap();
        post(&mut network, &d.addr, &sent);
    }
    deliver(&all, &mut network, &mut rng);
    let group = GroupId::new(GROUP).unwrap();
    let held = |d: &Device, from: &Address| {
        group_rows(d, GROUP)
            .1
            .and_then(|k| k.current(&group, from))
            .is_some()
    };
    assert!(held(alice, &bob.addr) && held(alice, &carol.addr) && held(alice, &carol2.addr));
    assert_eq!(group_rows(alice, GROUP).2, 3);
    let bob_later = bob.account.send_to_group(GROUP, b"later", 2_100).unwrap();
    let carol2_later = carol2
        .account
        .send_to_group(GROUP, b"later", 2_100)
        .unwrap();
    let carol_later = carol.account.send_to_group(GROUP, b"later", 2_100).unwrap();

    // Alice removes Bob: his key and its index row go in that transaction.
    alice
        .account
        .set_group_members(GROUP, &members(&["carol"]), 2_200)
        .unwrap();
    assert!(!held(alice, &bob.addr));
    assert_eq!(group_rows(alice, GROUP).1.unwrap().len(), 2);
    assert_eq!(group_rows(alice, GROUP).2, 2);
    let before = alice.store.dump();
    assert!(unknown_distribution(
        alice.account.decrypt(&bob.addr, &bob_later.group_wire)
    ));
    assert_eq!(alice.store.dump(), before);

    // Carol's list drops her second device: its key goes when Alice accepts the list,
    // Carol's first device's stays.
    let list = carol.account.sign_device_list(2, &[]).unwrap();
    let change = alice.account.accept_device_list(&list).unwrap();
    assert_eq!(change.removed, [2]);
    assert!(!held(alice, &carol2.addr));
    assert!(held(alice, &carol.addr));
    assert_eq!(group_rows(alice, GROUP).2, 1);
    let before = alice.store.dump();
    assert!(unknown_distribution(
        alice
            .account
            .decrypt(&carol2.addr, &carol2_later.group_wire)
    ));
    assert_eq!(alice.store.dump(), before);
    let got = alice
        .account
        .decrypt(&carol.addr, &carol_later.group_wire)
        .unwrap();
    assert!(matches!(got.received, Received::GroupMessage { ref from, .. } if from == &carol.addr));

    // Carol's second device held Bob's key alone (its own user's devices send it
    // transcripts): removing Bob leaves no record and no index row there.
    assert!(held(carol2, &bob.addr));
    carol2
        .account
        .set_group_members(GROUP, &members(&["alice"]), 2_300)
        .unwrap();
    let (_, keys, index, _) = group_rows(carol2, GROUP);
    assert!(keys.is_none() && index == 0);
    assert!(unknown_distribution(
        carol2.account.decrypt(&bob.addr, &bob_later.group_wire)
    ));
}

#[test]
fn a_group_holds_at_most_1024_users_the_own_user_included() {
    let (account, store) = account();
    account.set_own_address(&Address::new("me", 1)).unwrap();
    let names: Vec<Vec<u8>> = (0..=MAX_GROUP_MEMBERS)
        .map(|i| format!("user{i}").into_bytes())
        .collect();
    let before = store.dump();
    // 1024 others and the own user: one too many, refused before anything is read.
    assert!(matches!(
        account.set_group_members(b"big", &names, 0),
        Err(AccountError::TooManyMembers(1024))
    ));
    assert_eq!(store.dump(), before);
    // Naming the own user does not count twice; 1023 others pass the count and stop at
    // the first member without a device list.
    let mut fits = names[..MAX_GROUP_MEMBERS].to_vec();
    fits.push(b"me".to_vec());
    assert!(matches!(
        account.set_group_members(b"big", &fits, 0),
        Err(AccountError::NoDeviceList(_))
    ));
}

/// A wall clock in the receiver's own time, far from the senders' clocks.
const T: u64 = 1_800_000_000_000;
const MINUTE: u64 = 60_000;

/// What bob's sends give carol: his first key and four group wires under it, then a
/// second key (the first is 8 days old, so it rotates) and two group wires under that.
struct Rotation {
    first: Vec<u8>,
    old: Vec<Vec<u8>>,
    second: Vec<u8>,
    new: Vec<Vec<u8>>,
}

fn rotation(bob: &Device, carol: &Address) -> Rotation {
    let to_carol = |sent: &GroupSend| {
        sent.distributions
            .iter()
            .find(|w| w.to == *carol)
            .map(|w| w.wire.clone())
    };
    let later = 2_000 + 8 * 24 * 60 * MINUTE;
    let mut sends = Vec::new();
    for n in 0..4 {
        sends.push(bob.account.send_to_group(GROUP, b"old", 2_000 + n).unwrap());
    }
    for n in 0..2 {
        sends.push(bob.account.send_to_group(GROUP, b"new", later + n).unwrap());
    }
    let distributions: Vec<Vec<u8>> = sends.iter().filter_map(to_carol).collect();
    assert_eq!(distributions.len(), 2, "a first key and one rotation");
    let mut wires: Vec<Vec<u8>> = sends.into_iter().map(|s| s.group_wire).collect();
    let new = wires.split_off(4);
    Rotation {
        first: distributions[0].clone(),
        old: wires,
        second: distributions[1].clone(),
        new,
    }
}

/// Carol holds bob's first key with the keys of its wires 1 and 2 skipped, and his second
/// key replaced it at `T` of her clock.
fn replaced_at_t(bob: &Device, carol: &Device) -> Rotation {
    let r = rotation(bob, &carol.addr);
    let open = |wire: &[u8], now| carol.account.decrypt_at(&bob.addr, wire, now).unwrap();
    open(&r.first, T - 10 * MINUTE);
    open(&r.old[0], T - 10 * MINUTE);
    open(&r.old[3], T - 5 * MINUTE);
    assert!(matches!(
        open(&r.second, T).received,
        Received::Distribution { .. }
    ));
    r
}

fn body_of(incoming: &Incoming) -> &[u8] {
    match &incoming.received {
        Received::GroupMessage { body, .. } => body,
        other => panic!("not a group message: {other:?}"),
    }
}

#[test]
fn a_device_that_only_receives_counts_a_replaced_keys_hour_on_the_clock_it_decrypts_at() {
    let (all, _) = setup();
    let (bob, carol) = (&all[2], &all[3]);
    // Carol's last group call was at 1_000 (in `setup`); from here on she only decrypts.
    let r = replaced_at_t(bob, carol);
    let open = |wire: &[u8], now| carol.account.decrypt_at(&bob.addr, wire, now);
    assert_eq!(body_of(&open(&r.new[0], T + MINUTE).unwrap()), b"new");
    // A late message under the replaced key, 59 minutes after the replacement: its
    // skipped key is still there.
    assert_eq!(body_of(&open(&r.old[1], T + 59 * MINUTE).unwrap()), b"old");
    // 61 minutes after: the hour has passed, and the refusal changes nothing.
    let before = carol.store.dump();
    assert!(unknown_distribution(open(&r.old[2], T + 61 * MINUTE)));
    assert_eq!(carol.store.dump(), before);
    // The next message that opens erases the replaced key with its index row.
    let (_, keys, index, _) = group_rows(carol, GROUP);
    assert_eq!((keys.unwrap().len(), index), (2, 2));
    assert_eq!(body_of(&open(&r.new[1], T + 62 * MINUTE).unwrap()), b"new");
    let (_, keys, index, _) = group_rows(carol, GROUP);
    assert_eq!((keys.unwrap().len(), index), (1, 1));
    // A plain `decrypt` counts on the newest clock given, so it refuses the wire too.
    assert!(unknown_distribution(
        carol.account.decrypt(&bob.addr, &r.old[2])
    ));
}

#[test]
fn a_clock_that_goes_back_extends_no_hour() {
    const OTHER: &[u8] = b"others";
    let (all, _) = setup();
    everyone_in(&all, OTHER);
    let (alice, bob, carol) = (&all[0], &all[2], &all[3]);
    let r = replaced_at_t(bob, carol);
    // Two hours after the replacement, in a batch, carol receives alice's key for another
    // group (which leaves bob's keys in this group as they are).
    let sent = alice
        .account
        .send_to_group(OTHER, b"elsewhere", 3_000)
        .unwrap();
    let to_carol = sent
        .distributions
        .iter()
        .find(|w| w.to == carol.addr)
        .unwrap();
    let results = carol
        .account
        .decrypt_batch_at(
            &[(alice.addr.clone(), to_carol.wire.clone())],
            T + 120 * MINUTE,
        )
        .unwrap();
    assert!(matches!(
        results[0],
        Ok(Incoming {
            received: Received::Distribution { .. },
            ..
        })
    ));
    let (_, keys, _, _) = group_rows(carol, GROUP);
    assert_eq!(keys.unwrap().len(), 2, "bob's replaced key is still stored");
    // Then her clock goes back to half an hour after the replacement: the hour has passed
    // on the newest clock she was given, and the skipped key stays refused.
    for (i, now) in [(1, T + 30 * MINUTE), (2, T)] {
        let before = carol.store.dump();
        assert!(unknown_distribution(
            carol.account.decrypt_at(&bob.addr, &r.old[i], now)
        ));
        assert_eq!(carol.store.dump(), before);
    }
    // The current key opens whatever the clock; that does not bring the old one back.
    let got = carol.account.decrypt_at(&bob.addr, &r.new[0], T).unwrap();
    assert_eq!(body_of(&got), b"new");
    let (_, keys, index, _) = group_rows(carol, GROUP);
    assert_eq!((keys.unwrap().len(), index), (1, 1));
    assert!(unknown_distribution(carol.account.decrypt_at(
        &bob.addr,
        &r.old[1],
        T + 30 * MINUTE
    )));
}
