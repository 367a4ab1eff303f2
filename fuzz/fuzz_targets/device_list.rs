//! Device lists and certificates (spec §11): parsing never panics, a parsed value
//! re-encodes to its input, and verification under a fixed identity never panics.
#![no_main]

use bluetick::{DeviceCertificate, DeviceList, IdentityKeyPair, Secret32};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let user = IdentityKeyPair::from_seed(Secret32::from_slice(&[1; 32]).unwrap_or_else(|| unreachable!()));
    if let Ok(list) = DeviceList::from_bytes(data) {
        assert_eq!(list.to_bytes(), data);
        let _ = list.verify(user.public());
    }
    if let Ok(cert) = DeviceCertificate::from_bytes(data) {
        assert_eq!(cert.to_bytes(), data);
        let _ = cert.verify(user.public());
    }
});
