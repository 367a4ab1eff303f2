//! Plaintext framing: unpadding never panics, and framing what it returns gives the input
//! back when the input is canonical (one padding block's worth of zeros at most).
#![no_main]

use bluetick::wire::plaintext::{pad, unpad};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((kind, body)) = unpad(data) {
        let again = pad(kind, body);
        assert!(again.len() <= data.len());
        assert_eq!(&data[..again.len()], &again[..]);
    }
});
