//! The protocol's key derivations as plain functions over byte arrays, for test vectors and
//! second implementations. Applications use [`crate::SessionRecord`]; nothing here erases
//! its outputs, which are secrets.

use crate::primitives::secret::Secret32;
use crate::ratchet::chain_key::ChainKey;
use crate::ratchet::root_key::RootKey;

pub use crate::pqxdh::{associated_data, initiate_with, respond, Initiation, PqxdhTranscript};

/// `KDF_RK(RK, dh)`: `(new root key, chain key)`.
pub fn kdf_rk(root_key: &[u8; 32], dh_output: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let rk = RootKey(Secret32::from_slice(root_key).unwrap_or_else(Secret32::zeroed));
    let dh = Secret32::from_slice(dh_output).unwrap_or_else(Secret32::zeroed);
    let (root, chain) = rk.advance(&dh);
    (*root.0.expose(), *chain.key.expose())
}

/// `KDF_CK(CK)`: `(message key, next chain key)`.
pub fn kdf_ck(chain_key: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let ck = ChainKey::new(
        Secret32::from_slice(chain_key).unwrap_or_else(Secret32::zeroed),
        0,
    );
    let mk = ck.message_key();
    let next = ck.next().map(|c| *c.key.expose()).unwrap_or_default();
    (*mk.key.expose(), next)
}

/// The message key expansion: `(AES-256 key, 96-bit nonce)`.
pub fn message_keys(message_key: &[u8; 32]) -> ([u8; 32], [u8; 12]) {
    let mk = crate::ratchet::message_key::MessageKey::new(
        Secret32::from_slice(message_key).unwrap_or_else(Secret32::zeroed),
        0,
    );
    let e = mk.expand();
    (*e.aes_key(), e.nonce())
}

/// `PQS_e = HKDF(ZERO32, ss, "Bluetick_PqRatchet_v1" || u32(e) || SHA-256(ek) || SHA-256(ct), 32)`
/// (spec §14); `None` unless `ek` is 1184 bytes and `ct` 1088.
pub fn pq_secret(shared_secret: &[u8; 32], epoch: u32, ek: &[u8], ct: &[u8]) -> Option<[u8; 32]> {
    let ek: &[u8; crate::constants::PQ_EK_LEN] = ek.try_into().ok()?;
    let ct: &[u8; crate::constants::PQ_CT_LEN] = ct.try_into().ok()?;
    let ss = Secret32::from_slice(shared_secret)?;
    Some(*crate::ratchet::pq_ratchet::pq_secret(&ss, epoch, ek, ct).expose())
}

/// `KDF_RK_PQ(RK, dh, pqs)` (spec §14): `(new root key, chain key)`.
pub fn kdf_rk_pq(
    root_key: &[u8; 32],
    dh_output: &[u8; 32],
    pq_secret: &[u8; 32],
) -> ([u8; 32], [u8; 32]) {
    let rk = RootKey(Secret32::from_slice(root_key).unwrap_or_else(Secret32::zeroed));
    let dh = Secret32::from_slice(dh_output).unwrap_or_else(Secret32::zeroed);
    let pqs = Secret32::from_slice(pq_secret).unwrap_or_else(Secret32::zeroed);
    let (root, chain) = rk.advance_pq(&dh, &pqs);
    (*root.0.expose(), *chain.key.expose())
}

/// A session's root key `RK`, for tests that check both sides agree on the root chain.
pub fn root_key(session: &crate::session::Session) -> [u8; 32] {
    *session.ratchet.root.0.expose()
}

/// The root key a `Message` (or the Message inside a PreKeyMessage) on a new ratchet key
/// would derive at `session`'s receiving step (`KDF_RK` or `KDF_RK_PQ`), which is the root
/// key the sender derived when it made that chain. Nothing is changed; `None` when the
/// message is on a known chain or does not decrypt.
pub fn receiving_root(session: &crate::session::Session, wire: &[u8]) -> Option<[u8; 32]> {
    let message = match crate::wire::WireMessage::parse(wire).ok()? {
        crate::wire::WireMessage::Message(m) => m,
        crate::wire::WireMessage::PreKey(p) => p.message,
    };
    let (_, change) = session
        .ratchet
        .decrypt(
            &session.associated_data,
            &message.header,
            message.header_bytes,
            message.ciphertext,
        )
        .ok()?;
    match change {
        crate::ratchet::double_ratchet::Change::Stepped { root, .. } => Some(*root.0.expose()),
        _ => None,
    }
}

/// Test vectors only: encrypts, in `record`'s current session, a Message whose header
/// carries `pq_epoch` (or the session's own `PE`) and whose padded plaintext starts with the
/// given `pq_block` bytes, whatever they are; the sending chain advances, the PQ state does
/// not. It makes the messages of a peer that breaks spec §14's rules, which the vectors
/// show being refused.
pub fn encrypt_forged(
    record: &mut crate::SessionRecord,
    pq_block: &[u8],
    pq_epoch: Option<u32>,
    content_type: crate::ContentType,
    body: &[u8],
) -> Result<crate::OutgoingMessage, crate::EncryptionError> {
    let session = record
        .current
        .as_mut()
        .ok_or(crate::EncryptionError::NoSession)?;
    let mut wire = Vec::new();
    if let Some(prefix) = &session.pending_prekey {
        prefix.write(&mut wire);
    }
    let pe = pq_epoch.unwrap_or(session.ratchet.pq.mixed);
    session
        .ratchet
        .encrypt_forged(&session.associated_data, &mut wire, pe, |buf| {
            let end = buf.len()
                + (pq_block.len() + body.len() + 2).div_ceil(crate::constants::PADDING_BLOCK)
                    * crate::constants::PADDING_BLOCK;
            buf.extend_from_slice(pq_block);
            buf.push(content_type.to_byte());
            buf.extend_from_slice(body);
            buf.push(0x80);
            buf.resize(end, 0);
        })?;
    Ok(crate::OutgoingMessage { wire })
}
