//! The cost of one send to a 1024-member group (the sender's user and 1023 others, spec
//! §8's most) through the Account (spec §12): the first send (a new sender key: 1023
//! pairwise distributions), a steady send (one group wire and one status row per member
//! device), and the send after a member is removed (a rotation: 1022 distributions). One device per member, a memory store. Wall-clock medians rather
//! than criterion: each send changes the group's state (a first send happens once per key),
//! so the repeated sampling of one unchanged operation does not fit.
//!
//! Run: `cargo bench --bench group_send`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use bluetick::{Account, AccountConfig, Address, MemoryStore, PreKeyUpload, Secret32};

/// The other member users of a group of 1024 users (spec §8's most), one device each.
const MEMBERS: usize = 1023;
const GROUP: &[u8] = b"big group";

fn account() -> Account {
    let key = Secret32::from_slice(&[7; 32]).unwrap();
    let config = AccountConfig {
        one_time_prekeys: 1,
        one_time_pq_prekeys: 1,
        low_water_mark: 0,
    };
    Account::create(Box::new(MemoryStore::new()), &key, config).unwrap()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let sender = account();
    sender.set_own_address(&Address::new("sender", 1)).unwrap();
    let own_list = sender.sign_device_list(1, &[]).unwrap();
    sender.accept_device_list(&own_list).unwrap();
    let mut names = Vec::with_capacity(MEMBERS);
    for i in 0..MEMBERS {
        let member = account();
        let name = format!("member{i:04}");
        let addr = Address::new(name.as_str(), 1);
        member.set_own_address(&addr).unwrap();
        let list = member.sign_device_list(1, &[]).unwrap();
        sender.accept_device_list(&list).unwrap();
        let mut up = PreKeyUpload::from_bytes(&member.prekey_upload().unwrap().to_bytes()).unwrap();
        sender.start_session(&addr, &up.take_bundle()).unwrap();
        names.push(name.into_bytes());
    }
    sender.set_group_members(GROUP, &names, 1_000).unwrap();

    let start = Instant::now();
    let first = sender.send_to_group(GROUP, &[0x42; 100], 2_000).unwrap();
    let first_time = start.elapsed();
    assert_eq!(first.distributions.len(), MEMBERS);

    let mut steady = Vec::new();
    for n in 0..15 {
        let start = Instant::now();
        let s = sender
            .send_to_group(GROUP, &[0x42; 100], 3_000 + n)
            .unwrap();
        steady.push(start.elapsed());
        assert!(s.distributions.is_empty());
    }

    let mut rotations = Vec::new();
    for n in 0..3u64 {
        let keep = &names[..MEMBERS - 1 - n as usize];
        sender.set_group_members(GROUP, keep, 4_000 + n).unwrap();
        let start = Instant::now();
        let s = sender
            .send_to_group(GROUP, &[0x42; 100], 4_000 + n)
            .unwrap();
        rotations.push(start.elapsed());
        assert_eq!(s.distributions.len(), keep.len());
    }
    println!(
        "send to a {}-member group (the sender and {MEMBERS} others, one device each), Account, memory store:",
        MEMBERS + 1
    );
    println!("  first send (new key, {MEMBERS} distributions): {first_time:?}");
    println!(
        "  steady send (group wire only), median of 15:  {:?}",
        median(steady)
    );
    println!(
        "  send after a removal (rotation), median of 3: {:?}",
        median(rotations)
    );
}
