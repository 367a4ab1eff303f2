//! Session record deserialization; a record that reads re-serializes to its input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = bluetick::SessionRecord::from_bytes(data) {
        assert_eq!(record.to_bytes().as_slice(), data);
    }
});
