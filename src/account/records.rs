//! The encodings of the account's records and the helpers that read and write them.
//! Every value here is sealed by the store layer before it reaches a backend.

use super::{AccountError, Address};
use crate::codec::{Reader, Writer};
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
    match tx.get(Table::PeerIdentities, &peer.to_bytes())? {
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
    let Some(bytes) = tx.get(Table::Outgoing, id.as_bytes())? else {
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
    let mut v = vec![record.status.to_byte()];
    v.extend_from_slice(&record.peer.to_bytes());
    tx.put(Table::Outgoing, id.as_bytes(), &v)?;
    Ok(())
}

/// `acknowledged (flag) || peer address || [body]`: the body is dropped on acknowledgement,
/// leaving a tombstone that recognises a redelivery.
pub(crate) struct InboxRecord {
    pub(crate) peer: Address,
    pub(crate) body: Option<Vec<u8>>,
}

pub(crate) fn load_inbox(
    tx: &mut SealedTx<'_>,
    id: &MessageId,
) -> Result<Option<InboxRecord>, AccountError> {
    match tx.get(Table::Inbox, id.as_bytes())? {
        None => Ok(None),
        Some(bytes) => decode_inbox(&bytes).map(Some),
    }
}

pub(crate) fn decode_inbox(bytes: &[u8]) -> Result<InboxRecord, AccountError> {
    let mut r = Reader::new(bytes, "inbox record");
    let acknowledged = r.flag().map_err(|_| corrupt(Table::Inbox))?;
    let peer = Address::read(&mut r).map_err(|_| corrupt(Table::Inbox))?;
    let body = (!acknowledged).then(|| r.rest().to_vec());
    Ok(InboxRecord { peer, body })
}

pub(crate) fn save_inbox(
    tx: &mut SealedTx<'_>,
    id: &MessageId,
    record: &InboxRecord,
) -> Result<(), AccountError> {
    let mut v = zeroize::Zeroizing::new(vec![u8::from(record.body.is_none())]);
    v.put(&record.peer.to_bytes());
    if let Some(body) = &record.body {
        v.put(body);
    }
    tx.put(Table::Inbox, id.as_bytes(), &v)?;
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
