//! Relay frames: the codec never panics, a parsed frame re-encodes to its input, and the
//! client's connection state machine takes any bytes in every state without panicking.
#![no_main]

use bluetick::relay_protocol::{Backoff, ClientConfig, ClientConnection, Frame};
use bluetick::{Address, IdentityKeyPair, Secret32};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = Frame::decode(data) {
        assert_eq!(frame.encode(), data);
    }
    let key = IdentityKeyPair::from_seed(Secret32::from_slice(&[1; 32]).unwrap_or_else(|| unreachable!()));
    let mut c = ClientConnection::new(ClientConfig {
        address: Address::new("fuzz", 1),
        certificate: None,
        backoff: Backoff::default(),
    });
    c.connected();
    // Awaiting the challenge, then (after a valid challenge and welcome) ready.
    let _ = c.receive(data, &key);
    let mut c = ClientConnection::new(ClientConfig {
        address: Address::new("fuzz", 1),
        certificate: None,
        backoff: Backoff::default(),
    });
    c.connected();
    let challenge = Frame::Challenge { version: 1, nonce: [0; 32] }.encode();
    let welcome = Frame::Welcome { queued: 0 }.encode();
    if c.receive(&challenge, &key).is_ok() && c.receive(&welcome, &key).is_ok() {
        let _ = c.receive(data, &key);
        while c.poll_transmit().is_some() {}
        while c.poll_event().is_some() {}
    }
});
