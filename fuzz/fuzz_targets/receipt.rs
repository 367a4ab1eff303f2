//! Receipt body parsing and verification against a fixed pair of identities; a parsed
//! receipt re-encodes to its input.
#![no_main]

use bluetick::{IdentityKeyPair, Secret32};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(receipt) = bluetick::Receipt::parse(data) {
        assert_eq!(receipt.to_bytes(), data);
        let signer = IdentityKeyPair::from_seed(Secret32::from_slice(&[1; 32]).unwrap_or_else(|| unreachable!()));
        let receiver = IdentityKeyPair::from_seed(Secret32::from_slice(&[2; 32]).unwrap_or_else(|| unreachable!()));
        let _ = receipt.verify(signer.public(), receiver.public(), |id| id.as_bytes()[0] & 1 == 0);
    }
});
