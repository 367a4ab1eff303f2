//! Prekey upload decoding, verification and the relay's bundle hand-out.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut upload) = bluetick::PreKeyUpload::from_bytes(data) {
        assert_eq!(upload.to_bytes(), data);
        let _ = upload.verify();
        let bundle = upload.take_bundle();
        let _ = bluetick::PreKeyBundle::from_bytes(&bundle.to_bytes());
    }
});
