//! pq_blocks (spec §14): the parser and the pairwise framing never panic and round-trip;
//! and a live session fed authentic messages whose pq_blocks and `PE` the fuzzer chooses
//! (among genuine messages that carry real chunks) either accepts a message or refuses it
//! with the session left byte for byte as it was.
#![no_main]

use bluetick::rand_core::SeedableRng;
use bluetick::wire::{plaintext, pq_block};
use bluetick::{
    hazmat, ContentType, IdentityKeyPair, InMemoryPreKeyStore, OneTimePreKey, PqPreKey,
    PqPreKeyKind, SessionRecord, SignedPreKey,
};
use chacha20::ChaCha20Rng;
use libfuzzer_sys::fuzz_target;

struct Side {
    identity: IdentityKeyPair,
    prekeys: InMemoryPreKeyStore,
    record: SessionRecord,
    rng: ChaCha20Rng,
}

fn side(seed: u64) -> Side {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let identity = IdentityKeyPair::generate(&mut rng);
    let mut prekeys = InMemoryPreKeyStore::new();
    prekeys.add_signed_prekey(SignedPreKey::generate(&identity, 1, &mut rng));
    prekeys.add_pq_prekey(PqPreKey::generate(&identity, 2, PqPreKeyKind::LastResort, &mut rng));
    prekeys.add_one_time_prekey(OneTimePreKey::generate(3, &mut rng));
    Side { identity, prekeys, record: SessionRecord::new(), rng }
}

impl Side {
    /// Receives `wire`: accepted (with `body`, when the message is genuine), or refused
    /// with nothing changed. A forged pq_block's bytes may read as the start of a body that
    /// frames validly: the sender chose them, so that body is the sender's.
    fn receive(&mut self, wire: &[u8], body: Option<&[u8]>) -> bool {
        let before = self.record.to_bytes().to_vec();
        match self.record.decrypt(&self.identity, &mut self.prekeys, wire, &mut self.rng) {
            Ok(got) => {
                if let Some(body) = body {
                    assert_eq!(got.body, body);
                }
                true
            }
            Err(_) => {
                assert!(self.record.to_bytes().to_vec() == before, "a refused message changed the session");
                false
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The parser and the framing alone.
    if let Ok((Some(chunk), _)) = pq_block::parse(data) {
        let mut again = Vec::new();
        chunk.write(&mut again);
        assert_eq!(&again[..], &data[..again.len()]);
    }
    if let Ok((chunk, content_type, body)) = plaintext::unpad_pq(data) {
        if let Some(kind) = ContentType::from_byte(content_type) {
            let padded = plaintext::pad_pq(chunk.as_ref(), kind, body);
            assert_eq!(plaintext::unpad_pq(&padded).ok(), Some((chunk, content_type, body)));
        }
    }

    // A live session. Each step: who sends (bit 7), whether genuinely (bit 6), and for a
    // forged message a PE override (bits 4-5) and the pq_block's length (the next byte).
    let (mut alice, mut bob) = (side(1), side(2));
    let bundle = bob.prekeys.bundle(&bob.identity).unwrap_or_else(|| panic!("no bundle"));
    alice.record.start_session(&alice.identity, &bundle, &mut alice.rng).unwrap_or_else(|e| panic!("{e}"));
    let hello = alice.record.encrypt(ContentType::Application, b"hello", &mut alice.rng).unwrap_or_else(|e| panic!("{e}"));
    assert!(bob.receive(&hello.wire, Some(b"hello")));
    let mut bytes = data.iter().copied();
    let mut steps = 0;
    while let Some(op) = bytes.next() {
        steps += 1;
        if steps > 300 {
            break;
        }
        let (me, peer) = if op & 0x80 == 0 { (&mut alice, &mut bob) } else { (&mut bob, &mut alice) };
        let genuine = op & 0x40 != 0;
        let wire = if genuine {
            match me.record.encrypt(ContentType::Application, b"x", &mut me.rng) {
                Ok(m) => m.wire,
                Err(_) => continue,
            }
        } else {
            let len = usize::from(bytes.next().unwrap_or(0) % 48);
            let block: Vec<u8> = bytes.by_ref().take(len).collect();
            let pe = match (op >> 4) & 3 {
                0 => None,
                n => me.record.current_session().map(|s| s.pq_last_mixed() + u32::from(n) - 1),
            };
            match hazmat::encrypt_forged(&mut me.record, &block, pe, ContentType::Application, b"x") {
                Ok(m) => m.wire,
                Err(_) => continue,
            }
        };
        peer.receive(&wire, genuine.then_some(&b"x"[..]));
    }
});
