#![allow(missing_docs, clippy::unwrap_used)]
use bluetick::{Account, AccountConfig, Address, MemoryStore, PreKeyUpload, Secret32};
fn main() {
    let key = Secret32::from_slice(&[1; 32]).unwrap();
    let config = AccountConfig {
        one_time_prekeys: 2,
        one_time_pq_prekeys: 2,
        low_water_mark: 1,
    };
    let alice = Account::create(Box::new(MemoryStore::new()), &key, config).unwrap();
    let bob = Account::create(Box::new(MemoryStore::new()), &key, config).unwrap();
    let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
    let mut upload = PreKeyUpload::from_bytes(&bob.prekey_upload().unwrap().to_bytes()).unwrap();
    let first = alice
        .encrypt(&b, b"hello", Some(&upload.take_bundle()))
        .unwrap();
    bob.decrypt(&a, &first.wire).unwrap();
    let reply = bob.encrypt(&a, b"hi", None).unwrap();
    alice.decrypt(&b, &reply.wire).unwrap();
    let body = [0x42u8; 1024];
    let t = std::time::Instant::now();
    for _ in 0..50_000 {
        let m = alice.encrypt(&b, &body, None).unwrap();
        bob.decrypt(&a, &m.wire).unwrap();
        bob.acknowledge(&m.id).unwrap();
    }
    eprintln!("{:?} per round trip", t.elapsed() / 50_000);
}
