//! The constants of the protocol, named as `protocol-v1.md` names them.

/// Protocol version carried in the high nibble of every wire message's first byte.
pub const PROTOCOL_VERSION: u8 = 1;

/// Keys one message may skip in a chain (spec §4, §8).
pub const MAX_SKIP: u32 = 2000;
/// Skipped message keys a session stores at most; the oldest is dropped first (spec §4, §8).
pub const MAX_STORED_SKIPPED: usize = 2000;
/// Message ids one receipt may acknowledge (spec §7, §8).
pub const MAX_RECEIPT_IDS: usize = 1024;
/// Largest application body one message may carry (spec §8).
pub const MAX_PLAINTEXT: usize = 16 * 1024 * 1024;
/// Archived sessions kept per peer besides the current one.
pub const MAX_ARCHIVED_SESSIONS: usize = 40;
/// Skipped message keys an account stores for one peer over all its sessions: the current
/// session's 2000 and as many for the archived ones, whose oldest are dropped first. It
/// bounds what one peer can make the store hold (without it, 41 x 2000 keys).
pub const MAX_STORED_SKIPPED_PER_PEER: usize = 2 * MAX_STORED_SKIPPED;

/// Statuses of sent messages an account keeps; the oldest is forgotten first.
pub const MAX_OUTGOING_STATUSES: u64 = 10_000;
/// Tombstones of acknowledged messages an account keeps (to recognise redeliveries and to
/// send receipts later); the oldest is forgotten first.
pub const MAX_INBOX_TOMBSTONES: u64 = 10_000;
/// Logical messages (spec §11) an account keeps with the statuses of their wires; the
/// oldest is forgotten first, with its wires' statuses. One holds at most 31 wires (16
/// recipient devices and 15 own other devices).
pub const MAX_LOGICAL_MESSAGES: u64 = 10_000;

/// Plaintext is padded to a multiple of this many bytes (spec §5).
pub const PADDING_BLOCK: usize = 64;
/// Length of the AES-256-GCM tag appended to every ciphertext.
pub const TAG_LEN: usize = 16;
/// Length of a ratchet message header (revision 3, spec §14):
/// `DHs_pub (32) || PN (u32) || N (u32) || PE (u32)`.
pub const HEADER_LEN: usize = 44;
/// Length of an ML-KEM-1024 encapsulation key.
pub const KEM_PUBLIC_KEY_LEN: usize = 1568;
/// Length of an ML-KEM-1024 ciphertext.
pub const KEM_CIPHERTEXT_LEN: usize = 1568;
/// Length of an ML-KEM-768 encapsulation key, the PQ ratchet's `ek` (spec §14).
pub const PQ_EK_LEN: usize = 1184;
/// Length of an ML-KEM-768 ciphertext, the PQ ratchet's `ct` (spec §14).
pub const PQ_CT_LEN: usize = 1088;
/// Bytes of one chunk of `ek` or `ct` in a pq_block (spec §14).
pub const PQ_CHUNK_LEN: usize = 32;
/// Chunks of an `ek`: 1184 / 32.
pub const PQ_EK_CHUNKS: u8 = 37;
/// Chunks of a `ct`: 1088 / 32.
pub const PQ_CT_CHUNKS: u8 = 34;
/// pq_block kind of an `ek` chunk.
pub const PQ_KIND_EK: u8 = 0x01;
/// pq_block kind of a `ct` chunk.
pub const PQ_KIND_CT: u8 = 0x02;
/// pq_block that carries nothing.
pub const PQ_KIND_NONE: u8 = 0x00;
/// Length of a pq_block that carries a chunk: kind, epoch (u32), index, chunk.
pub const PQ_BLOCK_LEN: usize = 1 + 4 + 1 + PQ_CHUNK_LEN;
/// Length of the PQXDH associated data (spec §3 step 6).
pub const ASSOCIATED_DATA_LEN: usize = 96;
/// Length of a message id (spec §5).
pub const MESSAGE_ID_LEN: usize = 16;

/// `EncodeEC` prefix for an X25519 public key.
pub const EC_KEY_TYPE: u8 = 0x05;
/// `EncodeKEM` prefix for an ML-KEM-1024 encapsulation key.
pub const KEM_KEY_TYPE: u8 = 0x0A;

/// First byte of a `Message`.
pub const MESSAGE_TYPE: u8 = (PROTOCOL_VERSION << 4) | 0x01;
/// First byte of a `PreKeyMessage`.
pub const PREKEY_MESSAGE_TYPE: u8 = (PROTOCOL_VERSION << 4) | 0x02;
/// First byte of a `GroupMessage` (spec §12).
pub const GROUP_MESSAGE_TYPE: u8 = (PROTOCOL_VERSION << 4) | 0x03;

/// Content type of application data inside the plaintext framing.
pub const CONTENT_APPLICATION: u8 = 0x01;
/// Content type of a receipt inside the plaintext framing.
pub const CONTENT_RECEIPT: u8 = 0x02;
/// Content type of a sent transcript inside the plaintext framing (spec §11).
pub const CONTENT_TRANSCRIPT: u8 = 0x04;
/// Content type of a sender-key distribution inside the plaintext framing (spec §12).
pub const CONTENT_SENDER_KEY_DISTRIBUTION: u8 = 0x03;

/// Context of signed prekey signatures.
pub const SIGNED_PREKEY_CONTEXT: &[u8] = b"Bluetick_SignedPreKey_v1";
/// Context of PQ prekey signatures.
pub const PQ_PREKEY_CONTEXT: &[u8] = b"Bluetick_PqPreKey_v1";
/// Context of receipt signatures.
pub const RECEIPT_CONTEXT: &[u8] = b"Bluetick_Receipt_v1";
/// HKDF info of the PQXDH shared key.
pub const PQXDH_INFO: &[u8] = b"Bluetick_X25519_SHA-256_ML-KEM-1024";
/// HKDF info of `KDF_RK`.
pub const RATCHET_INFO: &[u8] = b"Bluetick_Ratchet_v1";
/// HKDF info prefix of `PQS_e` (spec §14).
pub const PQ_SECRET_INFO: &[u8] = b"Bluetick_PqRatchet_v1";
/// HKDF info of `KDF_RK_PQ` (spec §14).
pub const RATCHET_PQ_INFO: &[u8] = b"Bluetick_Ratchet_PQ_v1";
/// HKDF info of the message key expansion.
pub const MESSAGE_KEYS_INFO: &[u8] = b"Bluetick_MessageKeys_v1";
/// Prefix of the message id hash.
pub const MESSAGE_ID_CONTEXT: &[u8] = b"Bluetick_MessageId_v1";
/// Prefix of the safety number derivation (this crate's own, documented in `safety_number`).
pub const SAFETY_NUMBER_CONTEXT: &[u8] = b"Bluetick_SafetyNumber_v1";

/// Plaintext bytes per attachment chunk; the last chunk may be shorter (spec §13).
pub const ATTACHMENT_CHUNK_SIZE: usize = 65_536;
/// Bytes of one sealed attachment chunk that is not the last: the chunk and its tag.
pub const ATTACHMENT_SEALED_CHUNK_SIZE: usize = ATTACHMENT_CHUNK_SIZE + TAG_LEN;
/// Largest attachment, in plaintext bytes (spec §8, §13).
pub const MAX_ATTACHMENT_SIZE: u64 = 1 << 40;
/// Length of an attachment pointer: key (32) || size (u64) || SHA-256 of the ciphertext (32).
pub const ATTACHMENT_POINTER_LEN: usize = 72;
/// Length of the nonce prefix derived from an attachment key (spec §13).
pub const ATTACHMENT_NONCE_PREFIX_LEN: usize = 7;
/// HKDF info of the attachment key expansion.
pub const ATTACHMENT_INFO: &[u8] = b"Bluetick_Attachment_v1";

/// 32 zero bytes.
pub const ZERO32: [u8; 32] = [0u8; 32];
/// 32 bytes of 0xFF.
pub const FF32: [u8; 32] = [0xFFu8; 32];

/// Devices one user may have (spec §8, §11).
pub const MAX_DEVICES_PER_USER: usize = 16;
/// Longest user id in a device certificate or list (spec §11).
pub const MAX_USER_ID_LEN: usize = 64;
/// Context of device certificate signatures (spec §11).
pub const DEVICE_CERTIFICATE_CONTEXT: &[u8] = b"Bluetick_DeviceCertificate_v1";
/// Context of device list signatures (spec §11).
pub const DEVICE_LIST_CONTEXT: &[u8] = b"Bluetick_DeviceList_v1";

/// Most users in a group, this device's own user included (spec §8, §12).
pub const MAX_GROUP_USERS: usize = 1024;
/// Longest group id (spec §8, §12); the shortest is one byte.
pub const MAX_GROUP_ID_LEN: usize = 64;
/// Length of a sender key's `distribution_id` (spec §12).
pub const DISTRIBUTION_ID_LEN: usize = 16;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Length of a GroupMessage's header: `0x13 || distribution_id (16) || chain_id (u32) ||
/// iteration (u32)`; it is the AEAD's associated data (spec §12).
pub const GROUP_HEADER_LEN: usize = 1 + DISTRIBUTION_ID_LEN + 4 + 4;
/// Keys one group message may skip in a sender chain (spec §8, §12).
pub const MAX_GROUP_SKIP: u32 = 2000;
/// Skipped message keys stored per sender key; the oldest is dropped first (spec §8, §12).
pub const MAX_GROUP_STORED_SKIPPED: usize = 2000;
/// How long a replaced sender key's skipped message keys are kept, in milliseconds of the
/// receiving device's clock (spec §12: one hour).
pub const RETIRED_SENDER_KEY_MS: u64 = 60 * 60 * 1000;
/// Replaced sender keys kept per (group, sender device) during their hour; the oldest is
/// erased first. This crate's own bound: a sender that rotates again and again cannot make
/// a receiver hold more than this many retired keys for it.
pub const MAX_RETIRED_SENDER_KEYS: usize = 4;
/// A sender key is rotated at least this often, by the caller's clock (spec §12: 7 days).
pub const SENDER_KEY_MAX_AGE_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// A sender key is rotated after this many messages (spec §12).
pub const SENDER_KEY_MAX_MESSAGES: u32 = 10_000;
/// Context of group message signatures (spec §12).
pub const GROUP_MESSAGE_CONTEXT: &[u8] = b"Bluetick_GroupMessage_v1";
/// HKDF info of the group message key expansion (spec §12).
pub const GROUP_MESSAGE_KEYS_INFO: &[u8] = b"Bluetick_GroupMessageKeys_v1";
