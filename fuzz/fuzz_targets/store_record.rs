//! The store's record parsers behind the seal: the fuzzer's bytes are sealed with the right
//! key into a chosen table and key of a real account's store, so every record decoder sees
//! them; then the account is reopened and used. Errors are fine; panics are not.
#![no_main]

use std::sync::Arc;

use bluetick::store::{seal_record, RawTransaction, Table};
use bluetick::{Account, AccountConfig, Address, MemoryStore, MessageId, Secret32, Store};
use chacha20::ChaCha20Rng;
use bluetick::rand_core::SeedableRng;
use libfuzzer_sys::fuzz_target;

const TABLES: [Table; Table::ALL.len()] = Table::ALL;

fn config() -> AccountConfig {
    AccountConfig { one_time_prekeys: 1, one_time_pq_prekeys: 1, low_water_mark: 1 }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Some((&key_len, rest)) = rest.split_first() else { return };
    let key_len = usize::from(key_len % 24).min(rest.len());
    let (key, value) = rest.split_at(key_len);
    let table = TABLES[usize::from(selector) % TABLES.len()];
    // Keys the account actually reads, so the decoders run: well-known meta keys, ids.
    let key: Vec<u8> = match selector / 16 {
        0 => b"identity".to_vec(),
        1 => b"current_signed_prekey_id".to_vec(),
        2 => 1u32.to_be_bytes().to_vec(),
        3 => Address::new("peer", 1).to_bytes(),
        4 => [7u8; 16].to_vec(),
        5 => [Address::new("peer", 1).to_bytes(), 0u32.to_be_bytes().to_vec()].concat(),
        _ => key.to_vec(),
    };

    let storage_key = Secret32::from_slice(&[9; 32]).unwrap_or_else(|| unreachable!());
    let store = Arc::new(MemoryStore::new());
    let rng = Box::new(ChaCha20Rng::seed_from_u64(1));
    let Ok(account) = Account::create_with_rng(Box::new(store.clone()), &storage_key, config(), rng) else { return };
    drop(account);
    let mut seal_rng = ChaCha20Rng::seed_from_u64(2);
    let Ok((row, sealed)) = seal_record(&storage_key, table, &key, value, &mut seal_rng) else { return };
    let _ = store.write(&mut |tx: &mut dyn RawTransaction| tx.put(table, &row, &sealed));

    let rng = Box::new(ChaCha20Rng::seed_from_u64(3));
    let Ok(account) = Account::open_with_rng(Box::new(store.clone()), &storage_key, config(), rng) else { return };
    let peer = Address::new("peer", 1);
    let _ = account.inbox();
    let _ = account.conversation_inbox(b"peer");
    let _ = account.conversation_clock(b"peer");
    let _ = account.prekey_upload();
    let _ = account.prekey_counts();
    let _ = account.message_status(&MessageId([7; 16]));
    let _ = account.peer_identity(&peer);
    let _ = account.encrypt(&peer, b"x", None, 0);
    let _ = account.replenish_prekeys();
    let _ = account.rotate_signed_prekey(5);
    let _ = account.prune_retired_prekeys(10, 1);
    let _ = account.acknowledge(&MessageId([7; 16]));
});
