//! Ed25519 (RFC 8032) with strict verification, and validation of identity points.

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// The point is not a valid identity key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidPoint;

/// Checks that `bytes` encode a valid, canonical, torsion-free point of full order, and
/// returns the verifying key with its Montgomery u-coordinate.
pub fn validate_public(bytes: &[u8; 32]) -> Result<(VerifyingKey, [u8; 32]), InvalidPoint> {
    let compressed = CompressedEdwardsY(*bytes);
    let point = compressed.decompress().ok_or(InvalidPoint)?;
    // decompress() accepts some non-canonical encodings (y >= p, or x = 0 with the sign
    // bit set); re-encoding catches both.
    if point.compress().to_bytes() != *bytes {
        return Err(InvalidPoint);
    }
    if point.is_small_order() || !point.is_torsion_free() {
        return Err(InvalidPoint);
    }
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| InvalidPoint)?;
    Ok((key, point.to_montgomery().to_bytes()))
}

/// Signs `context || message` with `key`.
pub fn sign(key: &SigningKey, parts: &[&[u8]]) -> [u8; 64] {
    let msg = parts.concat();
    key.sign(&msg).to_bytes()
}

/// Strictly verifies `signature` over the concatenation of `parts`.
pub fn verify(key: &VerifyingKey, parts: &[&[u8]], signature: &[u8; 64]) -> bool {
    let msg = parts.concat();
    let sig = Signature::from_bytes(signature);
    key.verify_strict(&msg, &sig).is_ok()
}
