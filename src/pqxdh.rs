//! PQXDH key agreement (spec §3): the initiator's computation from a peer's bundle and the
//! responder's from a PreKeyMessage, giving the shared key `SK` and associated data `AD`.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::bundle::PreKeyBundle;
use crate::constants::{
    ASSOCIATED_DATA_LEN, FF32, KEM_CIPHERTEXT_LEN, KEM_KEY_TYPE, PQXDH_INFO, ZERO32,
};
use crate::error::{BundleError, KeyError};
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::prekey::{OneTimePreKey, PqPreKey, SignedPreKey};
use crate::primitives::kdf::{hkdf_sha256, sha256};
use crate::primitives::kem;
use crate::primitives::secret::Secret32;
use crate::primitives::x25519::{PeerKey, X25519KeyPair};

/// Every intermediate value of one PQXDH run. Only the test-vector generator and second
/// implementations need it; everything in it is erased on drop.
#[derive(Debug)]
pub struct PqxdhTranscript {
    /// `X25519(IKx_A, SPK_B)`.
    pub dh1: Secret32,
    /// `X25519(EK_A, IKx_B)`.
    pub dh2: Secret32,
    /// `X25519(EK_A, SPK_B)`.
    pub dh3: Secret32,
    /// `X25519(EK_A, OPK_B)`, when an OPK was used.
    pub dh4: Option<Secret32>,
    /// The ML-KEM shared secret `SS`.
    pub kem_shared_secret: Secret32,
    /// `SK`.
    pub shared_key: Secret32,
    /// `AD`.
    pub associated_data: [u8; ASSOCIATED_DATA_LEN],
}

/// The initiator's result: what goes in every PreKeyMessage and the keys the session starts from.
#[derive(Debug)]
pub struct Initiation {
    /// `EK_A` public.
    pub base_key: [u8; 32],
    /// The ML-KEM ciphertext `CT`.
    pub kem_ciphertext: Box<[u8; KEM_CIPHERTEXT_LEN]>,
    /// The signed prekey id used.
    pub signed_prekey_id: u32,
    /// The PQ prekey id used.
    pub pq_prekey_id: u32,
    /// The one-time prekey id used, if any.
    pub one_time_prekey_id: Option<u32>,
    /// The signed prekey's public key (Alice's first `DHr`).
    pub signed_prekey_public: [u8; 32],
    /// All intermediate values, including `SK` and `AD`.
    pub transcript: PqxdhTranscript,
}

fn low_order(what: &'static str) -> impl Fn(crate::primitives::x25519::LowOrder) -> KeyError {
    move |_| KeyError::LowOrderKey { what }
}

/// `SK = HKDF(ZERO32, FF32 || DH1 || DH2 || DH3 || [DH4] || SS, info, 32)`.
fn shared_key(
    dh1: &Secret32,
    dh2: &Secret32,
    dh3: &Secret32,
    dh4: Option<&Secret32>,
    ss: &Secret32,
) -> Secret32 {
    let mut ikm = Zeroizing::new(Vec::with_capacity(32 * 6));
    ikm.extend_from_slice(&FF32);
    for dh in [Some(dh1), Some(dh2), Some(dh3), dh4].into_iter().flatten() {
        ikm.extend_from_slice(dh.expose());
    }
    ikm.extend_from_slice(ss.expose());
    let mut sk = Secret32::zeroed();
    hkdf_sha256(&ZERO32, &ikm, PQXDH_INFO, sk.expose_mut());
    sk
}

/// `AD = IK_A || IK_B || SHA-256(EncodeKEM(PQPK_B))` with the 32-byte Ed25519 identity
/// keys (spec §3 step 6, revision 2): binding the Ed25519 form binds its sign bit, which the
/// Montgomery form used for the DHs does not carry.
pub fn associated_data(
    initiator: &IdentityKey,
    responder: &IdentityKey,
    pq_prekey: &[u8],
) -> [u8; ASSOCIATED_DATA_LEN] {
    let mut ad = [0u8; ASSOCIATED_DATA_LEN];
    let hash = sha256(&[&[KEM_KEY_TYPE], pq_prekey]);
    let parts: [&[u8]; 3] = [initiator.as_bytes(), responder.as_bytes(), &hash];
    let mut at = 0;
    for p in parts {
        if let Some(dst) = ad.get_mut(at..at + p.len()) {
            dst.copy_from_slice(p);
        }
        at += p.len();
    }
    ad
}

/// The initiator's side. Randomness is drawn in this order: `EK` (32 bytes), then the
/// encapsulation randomness `m` (32 bytes).
pub fn initiate<R: CryptoRng + ?Sized>(
    identity: &IdentityKeyPair,
    bundle: &PreKeyBundle,
    rng: &mut R,
) -> Result<Initiation, BundleError> {
    bundle.verify()?;
    let ephemeral = X25519KeyPair::generate(rng);
    let mut m = Secret32::zeroed();
    rng.fill_bytes(m.expose_mut());
    derive(identity, bundle, ephemeral, &m)
}

/// [`initiate`] with the ephemeral key and encapsulation randomness given, for test vectors.
/// It verifies the bundle first, as [`initiate`] does.
pub fn initiate_with(
    identity: &IdentityKeyPair,
    bundle: &PreKeyBundle,
    ephemeral: X25519KeyPair,
    m: &Secret32,
) -> Result<Initiation, BundleError> {
    bundle.verify()?;
    derive(identity, bundle, ephemeral, m)
}

/// The initiator's computation on a bundle that already passed [`PreKeyBundle::verify`].
fn derive(
    identity: &IdentityKeyPair,
    bundle: &PreKeyBundle,
    ephemeral: X25519KeyPair,
    m: &Secret32,
) -> Result<Initiation, BundleError> {
    let spk = &bundle.signed_prekey.public;
    let (ciphertext, ss) =
        kem::encapsulate(&bundle.pq_prekey.public, m).map_err(|_| KeyError::InvalidKemKey)?;
    let spk_point = PeerKey::new(spk);
    let dh1 = identity
        .dh()
        .dh_with(&spk_point)
        .map_err(low_order("signed prekey"))?;
    let dh2 = ephemeral
        .dh(bundle.identity.x25519())
        .map_err(low_order("identity key"))?;
    let dh3 = ephemeral
        .dh_with(&spk_point)
        .map_err(low_order("signed prekey"))?;
    let dh4 = match &bundle.one_time_prekey {
        Some(opk) => Some(
            ephemeral
                .dh(&opk.public)
                .map_err(low_order("one-time prekey"))?,
        ),
        None => None,
    };
    let sk = shared_key(&dh1, &dh2, &dh3, dh4.as_ref(), &ss);
    let ad = associated_data(
        identity.public(),
        &bundle.identity,
        &bundle.pq_prekey.public[..],
    );
    // `ephemeral` is dropped (and erased) here: only its public half leaves.
    Ok(Initiation {
        base_key: *ephemeral.public(),
        kem_ciphertext: ciphertext,
        signed_prekey_id: bundle.signed_prekey.id,
        pq_prekey_id: bundle.pq_prekey.id,
        one_time_prekey_id: bundle.one_time_prekey.map(|k| k.id),
        signed_prekey_public: *spk,
        transcript: PqxdhTranscript {
            dh1,
            dh2,
            dh3,
            dh4,
            kem_shared_secret: ss,
            shared_key: sk,
            associated_data: ad,
        },
    })
}

/// The responder's side: the same `SK` and `AD` from its private keys and the initiator's
/// public values.
pub fn respond(
    identity: &IdentityKeyPair,
    signed_prekey: &SignedPreKey,
    pq_prekey: &PqPreKey,
    one_time_prekey: Option<&OneTimePreKey>,
    initiator: &IdentityKey,
    base_key: &[u8; 32],
    kem_ciphertext: &[u8; KEM_CIPHERTEXT_LEN],
) -> Result<PqxdhTranscript, KeyError> {
    let ss = pq_prekey.key_pair().decapsulate(kem_ciphertext);
    let dh1 = signed_prekey
        .key_pair()
        .dh(initiator.x25519())
        .map_err(low_order("identity key"))?;
    let base_point = PeerKey::new(base_key);
    let dh2 = identity
        .dh()
        .dh_with(&base_point)
        .map_err(low_order("base key"))?;
    let dh3 = signed_prekey
        .key_pair()
        .dh_with(&base_point)
        .map_err(low_order("base key"))?;
    let dh4 = match one_time_prekey {
        Some(opk) => Some(
            opk.key_pair()
                .dh_with(&base_point)
                .map_err(low_order("base key"))?,
        ),
        None => None,
    };
    let sk = shared_key(&dh1, &dh2, &dh3, dh4.as_ref(), &ss);
    let ad = associated_data(initiator, identity.public(), pq_prekey.key_pair().public());
    Ok(PqxdhTranscript {
        dh1,
        dh2,
        dh3,
        dh4,
        kem_shared_secret: ss,
        shared_key: sk,
        associated_data: ad,
    })
}
