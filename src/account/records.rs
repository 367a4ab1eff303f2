//! The encodings of the account's records and the helpers that read and write them.
//! Every value here is sealed by the store layer before it reaches a backend.

use super::{AccountError, Address};
use zeroize::Zeroizing;

use crate::clock::LamportClock;
use crate::codec::{Reader, Writer};
use crate::constants::{MAX_INBOX_TOMBSTONES, MAX_LOGICAL_MESSAGES, MAX_OUTGOING_STATUSES};
use crate::identity::IdentityKey;
use crate::status::MessageStatus;
use crate::store::{SealedTx, StoreError, Table};
use crate::wire::MessageId;

fn corrupt(table: Table) -> AccountError {
    StoreError::Corrupt {
        table: table.name(),
    }
    .into()
}

pub(crate) fn peer_identity(
    tx: &mut SealedTx<'_>,
    peer: &Address,
) -> Result<Option<IdentityKey>, AccountError> {
    match tx.get_shared(Table::PeerIdentities, &peer.to_bytes())? {
        None => Ok(None),
        Some(bytes) => IdentityKey::from_slice(&bytes)
            .map(Some)
            .map_err(|_| corrupt(Table::PeerIdentities)),
    }
}

/// `status (1) || peer address`.
pub(crate) struct OutgoingRecord {
    pub(crate) status: MessageStatus,
    pub(crate) peer: Address,
}

pub(crate) fn load_outgoing(
    tx: &mut SealedTx<'_>,
    id: &MessageId,
) -> Result<Option<OutgoingRecord>, AccountError> {
    load_outgoing_at(tx, id.as_bytes())
}

/// The outgoing record under `key`: a wire id, or for a group message sent to many
/// devices, [`group_status_key`].
pub(crate) fn load_outgoing_at(
    tx: &mut SealedTx<'_>,
    key: &[u8],
) -> Result<Option<OutgoingRecord>, AccountError> {
    let Some(bytes) = tx.get(Table::Outgoing, key)? else {
        return Ok(None);
    };
    let mut r = Reader::new(&bytes, "outgoing record");
    let status = r
        .u8()
        .ok()
        .and_then(MessageStatus::from_byte)
        .ok_or_else(|| corrupt(Table::Outgoing))?;
    let peer = Address::read(&mut r).map_err(|_| corrupt(Table::Outgoing))?;
    Ok(Some(OutgoingRecord { status, peer }))
}

pub(crate) fn save_outgoing(
    tx: &mut SealedTx<'_>,
    id: &MessageId,
    record: &OutgoingRecord,
) -> Result<(), AccountError> {
    save_outgoing_at(tx, id.as_bytes(), record)
}

pub(crate) fn save_outgoing_at(
    tx: &mut SealedTx<'_>,
    key: &[u8],
    record: &OutgoingRecord,
) -> Result<(), AccountError> {
    write_outgoing(tx, key, record.status, &record.peer)
}

/// Records a wire just encrypted for `peer` as `Pending` under `key` (a wire id, or
/// [`group_status_key`]).
pub(crate) fn save_pending(
    tx: &mut SealedTx<'_>,
    key: &[u8],
    peer: &Address,
) -> Result<(), AccountError> {
    write_outgoing(tx, key, MessageStatus::Pending, peer)
}

fn write_outgoing(
    tx: &mut SealedTx<'_>,
    key: &[u8],
    status: MessageStatus,
    peer: &Address,
) -> Result<(), AccountError> {
    let mut v = Zeroizing::new(Vec::with_capacity(1 + 6 + peer.user.len()));
    v.push(status.to_byte());
    peer.write(&mut v);
    tx.put_owned(Table::Outgoing, key, v)?;
    Ok(())
}

/// The key of the status of one group message (spec §12) at one member device: the group
/// wire is one id for every device it was fanned out to, `wire id (16) || address`.
pub(crate) fn group_status_key(id: &MessageId, to: &Address) -> Vec<u8> {
    let mut key = id.as_bytes().to_vec();
    key.extend_from_slice(&to.to_bytes());
    key
}

/// `acknowledged (flag) || sender IK (32) || sender IKx (32) || peer address || lamport (u64)
/// || sent_at_ms (u64) || to_len (u8) || to user id || group_len (u8) || group id || [data]`,
/// where `to_len` is 0 for a message from a peer and the recipient user of a sent
/// transcript (spec §11) otherwise, and `group_len` is 0 outside a group (spec §12):
/// the data is dropped on acknowledgement, leaving a
/// tombstone that recognises a redelivery and lets the app send receipts for the message
/// later; tombstones are bounded by [`Ring::Tombstones`].
pub(crate) struct InboxRecord {
    pub(crate) peer: Address,
    /// The identity of the session that delivered the message.
    pub(crate) sender: IdentityKey,
    /// The Lamport value the message carried (spec §10).
    pub(crate) lamport: u64,
    /// The sender's wall clock when it sent the message.
    pub(crate) sent_at_ms: u64,
    /// For a sent transcript from an own other device: the user it was sent to, whose
    /// conversation it belongs to (spec §11).
    pub(crate) transcript_to: Option<Vec<u8>>,
    /// For a group message, or the sent transcript of one: the group (spec §12).
    pub(crate) group: Option<Vec<u8>>,
    /// The application data (the body without its clock), until acknowledged.
    pub(crate) data: Option<Zeroizing<Vec<u8>>>,
}

pub(crate) fn load_inbox(
    tx: &mut SealedTx<'_>,
    id: &MessageId,
) -> Result<Option<InboxRecord>, AccountError> {
    match tx.get(Table::Inbox, id.as_bytes())? {
        None => Ok(None),
        Some(bytes) => decode_inbox_in(bytes).map(Some),
    }
}

/// The inbox record of `id` without its data (nothing is copied): for the checks that need
/// only its sender.
pub(crate) fn load_inbox_fields(
    tx: &mut SealedTx<'_>,
    id: &MessageId,
) -> Result<Option<InboxRecord>, AccountError> {
    match tx.get_shared(Table::Inbox, id.as_bytes())? {
        None => Ok(None),
        Some(bytes) => inbox_fields(&bytes).map(|(record, _, _)| Some(record)),
    }
}

/// Turns the inbox entry of `id` into a tombstone: its fields are kept, its data dropped.
/// `None` if there is no entry, `Some(false)` if it already was one.
pub(crate) fn acknowledge_inbox(
    tx: &mut SealedTx<'_>,
    id: &MessageId,
) -> Result<Option<bool>, AccountError> {
    let Some(bytes) = tx.get_shared(Table::Inbox, id.as_bytes())? else {
        return Ok(None);
    };
    let (_, acknowledged, fields) = inbox_fields(&bytes)?;
    if acknowledged {
        return Ok(Some(false));
    }
    // The record's fields as they are, with the flag set and no data after them.
    let mut tombstone = Zeroizing::new(
        bytes
            .get(..fields)
            .ok_or_else(|| corrupt(Table::Inbox))?
            .to_vec(),
    );
    if let Some(flag) = tombstone.first_mut() {
        *flag = 1;
    }
    tx.put_once(Table::Inbox, id.as_bytes(), tombstone)?;
    Ok(Some(true))
}

pub(crate) fn decode_inbox(bytes: &[u8]) -> Result<InboxRecord, AccountError> {
    decode_inbox_in(Zeroizing::new(bytes.to_vec()))
}

/// Decodes an inbox record, leaving the data in the buffer it was opened in (a body is
/// neither copied nor erased twice).
fn decode_inbox_in(mut bytes: Zeroizing<Vec<u8>>) -> Result<InboxRecord, AccountError> {
    let (mut record, acknowledged, fields) = inbox_fields(&bytes)?;
    if !acknowledged {
        bytes.drain(..fields);
        record.data = Some(bytes);
    }
    Ok(record)
}

/// An inbox record's fields before its data: the record without data, whether it is a
/// tombstone, and the length of the fields (where the data begins).
fn inbox_fields(bytes: &[u8]) -> Result<(InboxRecord, bool, usize), AccountError> {
    let mut r = Reader::new(bytes, "inbox record");
    let acknowledged = r.flag().map_err(|_| corrupt(Table::Inbox))?;
    let ed = r.array::<32>().map_err(|_| corrupt(Table::Inbox))?;
    let x = r.array::<32>().map_err(|_| corrupt(Table::Inbox))?;
    // The identity was validated when its session was made; it is kept with its X25519
    // form, as sessions keep it, so reading it back costs no point decoding.
    let sender = IdentityKey::from_stored(ed, x);
    let peer = Address::read(&mut r).map_err(|_| corrupt(Table::Inbox))?;
    let lamport = r.u64().map_err(|_| corrupt(Table::Inbox))?;
    let sent_at_ms = r.u64().map_err(|_| corrupt(Table::Inbox))?;
    let to_len = usize::from(r.u8().map_err(|_| corrupt(Table::Inbox))?);
    let transcript_to = match to_len {
        0 => None,
        n => Some(r.take(n).map_err(|_| corrupt(Table::Inbox))?.to_vec()),
    };
    let group_len = usize::from(r.u8().map_err(|_| corrupt(Table::Inbox))?);
    let group = match group_len {
        0 => None,
        n => Some(r.take(n).map_err(|_| corrupt(Table::Inbox))?.to_vec()),
    };
    let fields = bytes.len() - r.rest().len();
    Ok((
        InboxRecord {
            peer,
            sender,
            lamport,
            sent_at_ms,
            transcript_to,
            group,
            data: None,
        },
        acknowledged,
        fields,
    ))
}

pub(crate) fn save_inbox(
    tx: &mut SealedTx<'_>,
    id: &MessageId,
    record: &InboxRecord,
) -> Result<(), AccountError> {
    let peer = record.peer.to_bytes();
    let data = record.data.as_deref().map(Vec::as_slice);
    let to = record.transcript_to.as_deref().unwrap_or_default();
    let group = record.group.as_deref().unwrap_or_default();
    let len = 1 + 64 + peer.len() + 18 + to.len() + group.len() + data.map_or(0, <[u8]>::len);
    let mut v = Zeroizing::new(Vec::with_capacity(len));
    v.push(u8::from(data.is_none()));
    v.put(record.sender.as_bytes());
    v.put(record.sender.x25519());
    v.put(&peer);
    v.put_u64(record.lamport);
    v.put_u64(record.sent_at_ms);
    // A transcript's recipient is a user id of 1..=64 bytes (spec §11).
    v.put_u8(u8::try_from(to.len()).unwrap_or(0));
    v.put(to);
    // A group id is 1..=64 bytes (spec §12).
    v.put_u8(u8::try_from(group.len()).unwrap_or(0));
    v.put(group);
    if let Some(data) = data {
        v.put(data);
    }
    tx.put_owned(Table::Inbox, id.as_bytes(), v)?;
    Ok(())
}

/// The key of the conversation between this account's user and `peer_user` (spec §10):
/// `0x01 || user id`; a group's (§12) is [`group_conversation`].
pub(crate) fn direct_conversation(peer_user: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + peer_user.len());
    key.push(CONVERSATION_DIRECT);
    key.put(peer_user);
    key
}

const CONVERSATION_DIRECT: u8 = 0x01;
const CONVERSATION_GROUP: u8 = 0x02;

/// The key of a group's conversation (spec §10, §12): `0x02 || group id`.
pub(crate) fn group_conversation(group: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + group.len());
    key.push(CONVERSATION_GROUP);
    key.put(group);
    key
}

/// The Lamport clock of a conversation (zero before its first message): `lamport (u64)`.
pub(crate) fn load_clock(
    tx: &mut SealedTx<'_>,
    conversation: &[u8],
) -> Result<LamportClock, AccountError> {
    match tx.get_shared(Table::Conversations, conversation)? {
        None => Ok(LamportClock::default()),
        Some(b) => Ok(LamportClock::new(u64::from_be_bytes(
            b.as_slice()
                .try_into()
                .map_err(|_| corrupt(Table::Conversations))?,
        ))),
    }
}

/// Stores a conversation's clock, in the transaction of the message that moved it.
pub(crate) fn save_clock(
    tx: &mut SealedTx<'_>,
    conversation: &[u8],
    clock: LamportClock,
) -> Result<(), AccountError> {
    tx.put(
        Table::Conversations,
        conversation,
        &clock.value().to_be_bytes(),
    )?;
    Ok(())
}

/// The records the account keeps only for a while: at most `capacity` of each kind, the
/// newest, and adding one more forgets the oldest.
///
/// The ids are kept in pages of [`PAGE`], so that entering one costs one row written: the
/// ring's row in the meta table holds the count of ids ever entered and the page being
/// filled; a full page moves to a slot of the retention table, taking the place of the
/// oldest full page, whose records are deleted then (one page read and `PAGE` deletes every
/// `PAGE` entries). There are `capacity / PAGE - 1` slots, so the ring holds between
/// `capacity - PAGE` and `capacity - 1` ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ring {
    /// Statuses of sent messages.
    Outgoing,
    /// Inbox tombstones of acknowledged messages.
    Tombstones,
    /// Logical messages (spec §11), each with its wires' statuses.
    Logical,
}

/// Ids per page of a ring.
const PAGE: usize = 20;

impl Ring {
    fn tag(self) -> u8 {
        match self {
            Self::Outgoing => 1,
            Self::Tombstones => 2,
            Self::Logical => 3,
        }
    }

    /// Full pages kept (the page being filled is the last).
    fn slots(self) -> u64 {
        let capacity = match self {
            Self::Outgoing => MAX_OUTGOING_STATUSES,
            Self::Tombstones => MAX_INBOX_TOMBSTONES,
            Self::Logical => MAX_LOGICAL_MESSAGES,
        };
        (capacity / PAGE as u64).saturating_sub(1).max(1)
    }

    /// Deletes a forgotten record: a status, a tombstone, or a logical message with its
    /// wires' statuses.
    fn forget(self, tx: &mut SealedTx<'_>, id: &MessageId) -> Result<(), AccountError> {
        match self {
            Self::Outgoing => Ok(tx.delete(Table::Outgoing, id.as_bytes())?),
            Self::Tombstones => Ok(tx.delete(Table::Inbox, id.as_bytes())?),
            Self::Logical => super::logical::forget(tx, id),
        }
    }
}

/// `count (u64) || id (16) * (count % PAGE)`: the count and the ids' bytes.
fn decode_ring(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let (count, ids) = bytes.split_first_chunk::<8>()?;
    let count = u64::from_be_bytes(*count);
    (ids.len() % 16 == 0 && (ids.len() / 16) as u64 == count % PAGE as u64).then_some((count, ids))
}

fn decode_page(bytes: &[u8]) -> Option<Vec<MessageId>> {
    if bytes.len() % 16 != 0 {
        return None;
    }
    bytes
        .chunks_exact(16)
        .map(|id| id.try_into().ok().map(MessageId))
        .collect()
}

/// Enters `id` into `ring`; when that fills a page, deletes the records of the oldest page.
pub(crate) fn retain(
    tx: &mut SealedTx<'_>,
    ring: Ring,
    id: &MessageId,
) -> Result<(), AccountError> {
    let name = [b'r', b'i', b'n', b'g', ring.tag()];
    let stored = tx.get_shared(Table::Meta, &name)?;
    let (count, filled) = match stored.as_deref() {
        None => (0, 0),
        Some(b) => {
            let (count, ids) = decode_ring(b).ok_or_else(|| corrupt(Table::Meta))?;
            (count, ids.len() / 16)
        }
    };
    let count = count.wrapping_add(1);
    // The page being filled, as stored, with `id` after it.
    let ids = stored
        .as_deref()
        .and_then(|b| b.get(8..))
        .unwrap_or_default();
    if filled + 1 >= PAGE {
        let number = (count / PAGE as u64).wrapping_sub(1);
        let mut slot = vec![ring.tag()];
        slot.put_u64(number % ring.slots());
        if let Some(old) = tx.get(Table::Retention, &slot)? {
            let old = decode_page(&old).ok_or_else(|| corrupt(Table::Retention))?;
            for forgotten in old.iter().filter(|f| *f != id) {
                ring.forget(tx, forgotten)?;
            }
        }
        let mut full = Zeroizing::new(Vec::with_capacity(PAGE * 16));
        full.put(ids);
        full.put(id.as_bytes());
        tx.put_owned(Table::Retention, &slot, full)?;
        let mut row = Zeroizing::new(Vec::with_capacity(8));
        row.put_u64(count);
        tx.put_owned(Table::Meta, &name, row)?;
    } else {
        let mut row = Zeroizing::new(Vec::with_capacity(8 + ids.len() + 16));
        row.put_u64(count);
        row.put(ids);
        row.put(id.as_bytes());
        tx.put_owned(Table::Meta, &name, row)?;
    }
    Ok(())
}

/// A `u32` counter in the meta table, returned and then incremented.
pub(crate) fn next_counter(tx: &mut SealedTx<'_>, name: &[u8]) -> Result<u32, AccountError> {
    let current = match tx.get(Table::Meta, name)? {
        None => 1,
        Some(b) => u32::from_be_bytes(b.as_slice().try_into().map_err(|_| corrupt(Table::Meta))?),
    };
    tx.put(
        Table::Meta,
        name,
        &current.wrapping_add(1).max(1).to_be_bytes(),
    )?;
    Ok(current)
}

pub(crate) fn get_u32(tx: &mut SealedTx<'_>, name: &[u8]) -> Result<Option<u32>, AccountError> {
    match tx.get(Table::Meta, name)? {
        None => Ok(None),
        Some(b) => Ok(Some(u32::from_be_bytes(
            b.as_slice().try_into().map_err(|_| corrupt(Table::Meta))?,
        ))),
    }
}

pub(crate) fn put_u32(tx: &mut SealedTx<'_>, name: &[u8], v: u32) -> Result<(), AccountError> {
    tx.put(Table::Meta, name, &v.to_be_bytes())?;
    Ok(())
}
