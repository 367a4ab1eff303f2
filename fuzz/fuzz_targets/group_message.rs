//! Groups (spec §12): GroupMessages, sender-key distributions and stored group-key records
//! from arbitrary bytes never panic; a decryption or distribution that fails changes
//! nothing in the receiver's keys; a genuine message decrypts once, and any change to one
//! of its bytes is refused.
//!
//! The first byte picks the mode: 0 parses and accepts a distribution, 1 decrypts the rest
//! as a GroupMessage against a receiver holding one sender key (with skipped keys), 2
//! encrypts the rest under that sender key and flips one byte (position from bytes 1-2,
//! mask from byte 3) before decrypting, 3 reads the rest as a stored record.
#![no_main]

use bluetick::group::{Distribution, GroupId, GroupKeys, SenderKey};
use bluetick::wire::GroupMessage;
use bluetick::{Address, ErrorKind, Secret32};
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_764_000_000_000;

/// Built once: every run starts from a copy.
static SETUP: std::sync::OnceLock<(SenderKey, GroupKeys)> = std::sync::OnceLock::new();

fn secret(b: u8) -> Secret32 {
    Secret32::from_slice(&[b; 32]).unwrap_or_else(|| unreachable!())
}

/// The fixed sender key, a receiver that got it at iteration 0 and read iteration 2 (so
/// iterations 0 and 1 are held as skipped keys), and the sender at iteration 3.
fn setup() -> (SenderKey, GroupKeys) {
    let group = GroupId::new(b"fuzz").unwrap_or_else(|_| unreachable!());
    let mut key = SenderKey::from_parts([0x42; 16], 0x0102_0304, 0, secret(1), secret(2), NOW);
    let mut keys = GroupKeys::new();
    let alice = Address::new(b"alice".to_vec(), 1);
    keys.accept(&alice, &key.distribution(&group), NOW)
        .unwrap_or_else(|_| unreachable!());
    let mut last = Vec::new();
    for _ in 0..3 {
        last = key
            .encrypt(b"0123456789abcdef")
            .unwrap_or_else(|_| unreachable!())
            .wire;
    }
    keys.decrypt(&last, NOW).unwrap_or_else(|_| unreachable!());
    (key, keys)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let _ = GroupMessage::parse(rest);
    let (mut key, mut keys) = SETUP.get_or_init(setup).clone();
    let before = keys.to_bytes();
    match mode % 4 {
        0 => {
            if let Ok(d) = Distribution::parse(rest) {
                assert_eq!(&d.to_bytes()[..], rest);
            }
            let sender = Address::new(b"bob".to_vec(), 1);
            if keys.process_distribution(&sender, rest, NOW).is_err() {
                assert_eq!(keys.to_bytes(), before);
            }
        }
        1 => match keys.decrypt(rest, NOW) {
            Ok(_) => {
                // Only the sender's own messages decrypt, and only once.
                let again = keys.to_bytes();
                let err = keys.decrypt(rest, NOW).err().map(|e| e.kind());
                assert_eq!(err, Some(ErrorKind::DuplicateMessage));
                assert_eq!(keys.to_bytes(), again);
            }
            Err(_) => assert_eq!(keys.to_bytes(), before),
        },
        2 => {
            let (Some(&hi), Some(&lo), Some(&mask)) = (rest.first(), rest.get(1), rest.get(2))
            else {
                return;
            };
            let body = rest.get(3..).unwrap_or_default();
            let Ok(sent) = key.encrypt(body) else {
                return;
            };
            let mut wire = sent.wire.clone();
            let at = usize::from(u16::from_be_bytes([hi, lo])) % wire.len();
            if let Some(b) = wire.get_mut(at) {
                *b ^= mask;
            }
            match keys.decrypt(&wire, NOW) {
                Ok(got) => {
                    assert_eq!(mask, 0, "a changed byte at {at} was accepted");
                    assert_eq!(got.body, body);
                    assert_eq!(got.message_id, sent.message_id);
                }
                Err(_) => {
                    assert_ne!(mask, 0, "a genuine message was refused");
                    assert_eq!(keys.to_bytes(), before);
                }
            }
        }
        _ => {
            if let Ok(record) = GroupKeys::from_bytes(rest) {
                let bytes = record.to_bytes();
                let again = GroupKeys::from_bytes(&bytes).unwrap_or_else(|_| unreachable!());
                assert_eq!(again.to_bytes(), bytes);
            }
        }
    }
});
