//! Prekey bundle decoding and verification; a decoded bundle re-encodes to its input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = bluetick::PreKeyBundle::from_bytes(data) {
        assert_eq!(bundle.to_bytes(), data);
        let _ = bundle.verify();
    }
});
