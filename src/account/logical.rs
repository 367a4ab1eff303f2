//! Logical messages (spec §11): one send to a user encrypts the same application body once
//! per device of that user and once per other device of the own user (a sent transcript);
//! the statuses of its wires give the message's status. Also the receiving side of sent
//! transcripts.
//!
//! ```text
//! logical_messages (key = logical id) = lamport (u64) || group (flag) || count (u16)
//!                                       || (wire id (16) || transcript (flag) || address)*
//! ```
//!
//! A group message (spec §12) is one wire fanned out to every member device: its status at
//! each device is kept under `wire id || address` (the transcripts to own devices keep
//! their own wire ids).
//!
//! Each wire's status is an outgoing record keyed by its wire id, as for a message sent
//! with `encrypt`, so `mark_sent` and receipts (which must name only wires sent to the
//! device that signs them) apply to it unchanged. A logical message and its wires'
//! records are kept together in the ring of [`MAX_LOGICAL_MESSAGES`](crate::constants::MAX_LOGICAL_MESSAGES), outside the ring of
//! single outgoing statuses, and forgotten together.

use zeroize::Zeroizing;

use super::devices::{fanout, load_own_address, load_stored_list};
use super::records::{
    direct_conversation, group_status_key, load_clock, load_outgoing_at, retain, save_clock,
    save_inbox, save_pending, InboxRecord, Ring,
};
use super::session_rows::PeerSessions;
use super::{Account, AccountError, Address, Received};
use crate::codec::{Reader, Writer};
use crate::identity::IdentityKey;
use crate::primitives::kdf::sha256;
use crate::status::MessageStatus;
use crate::store::{SealedTx, StoreError, Table};
use crate::wire::{ApplicationBody, ContentType, MessageId};

/// Context of a logical message id: `SHA-256(context || wire ids)[0..16]`.
const LOGICAL_ID_CONTEXT: &[u8] = b"Bluetick_LogicalMessageId_v1";

fn corrupt() -> AccountError {
    StoreError::Corrupt {
        table: Table::LogicalMessages.name(),
    }
    .into()
}

/// One wire of a logical message, for the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceWire {
    /// The device it is for.
    pub to: Address,
    /// Its message id (the relay computes the same from the bytes); pass it to
    /// [`Account::mark_sent`] when the relay acknowledges it.
    pub id: MessageId,
    /// The wire bytes.
    pub wire: Vec<u8>,
    /// Set for a sent transcript to an own other device; clear for a recipient device.
    pub transcript: bool,
}

/// The result of [`Account::send_to_user`]: one message for the app, many wires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogicalMessage {
    /// The id the app tracks it by ([`Account::logical_status`],
    /// [`Account::message_info`]).
    pub id: MessageId,
    /// The Lamport value it carries: its place in the conversation (spec §10).
    pub lamport: u64,
    /// One wire per recipient device, then one sent transcript per own other device.
    pub wires: Vec<DeviceWire>,
}

/// The status of one wire of a logical message, for a "message info" screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceStatus {
    /// The device the wire went to.
    pub to: Address,
    /// The wire's message id.
    pub id: MessageId,
    /// The wire's status (spec §6).
    pub status: MessageStatus,
    /// Set for a sent transcript, which does not count toward the logical status.
    pub transcript: bool,
}

pub(super) struct LogicalRecord {
    pub(super) lamport: u64,
    /// Set for a group message: its recipient wires share one id.
    pub(super) group: bool,
    pub(super) wires: Vec<(MessageId, bool, Address)>,
}

impl LogicalRecord {
    /// The key of the status of wire `(id, transcript, to)`.
    pub(super) fn status_key(&self, id: &MessageId, transcript: bool, to: &Address) -> Vec<u8> {
        if self.group && !transcript {
            group_status_key(id, to)
        } else {
            id.as_bytes().to_vec()
        }
    }
}

/// The id of a logical message from its wires' ids.
pub(super) fn logical_id(wires: &[DeviceWire]) -> MessageId {
    let mut hash_input = Vec::with_capacity(16 * wires.len());
    for w in wires {
        hash_input.extend_from_slice(w.id.as_bytes());
    }
    let digest = sha256(&[LOGICAL_ID_CONTEXT, &hash_input]);
    MessageId(digest.first_chunk::<16>().copied().unwrap_or_default())
}

/// Stores a logical message and enters it into its retention ring.
pub(super) fn save_logical(
    tx: &mut SealedTx<'_>,
    id: &MessageId,
    record: &LogicalRecord,
) -> Result<(), AccountError> {
    tx.put(Table::LogicalMessages, id.as_bytes(), &encode(record))?;
    retain(tx, Ring::Logical, id)
}

fn encode(record: &LogicalRecord) -> Vec<u8> {
    let mut v = Vec::with_capacity(11 + record.wires.len() * 96);
    v.put_u64(record.lamport);
    v.put_u8(u8::from(record.group));
    // A group's member devices are bounded by the caller's group; a 1:1 message has at
    // most 31 wires.
    v.put_u16(u16::try_from(record.wires.len()).unwrap_or(u16::MAX));
    for (id, transcript, to) in &record.wires {
        v.put(id.as_bytes());
        v.put_u8(u8::from(*transcript));
        v.put(&to.to_bytes());
    }
    v
}

pub(super) fn load(
    tx: &mut SealedTx<'_>,
    id: &MessageId,
) -> Result<Option<LogicalRecord>, AccountError> {
    let Some(bytes) = tx.get(Table::LogicalMessages, id.as_bytes())? else {
        return Ok(None);
    };
    let mut r = Reader::new(&bytes, "logical message");
    let lamport = r.u64().map_err(|_| corrupt())?;
    let group = r.flag().map_err(|_| corrupt())?;
    let count = r.u16().map_err(|_| corrupt())?;
    let mut wires = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let wire = MessageId(r.array().map_err(|_| corrupt())?);
        let transcript = r.flag().map_err(|_| corrupt())?;
        let to = Address::read(&mut r).map_err(|_| corrupt())?;
        wires.push((wire, transcript, to));
    }
    r.finish().map_err(|_| corrupt())?;
    Ok(Some(LogicalRecord {
        lamport,
        group,
        wires,
    }))
}

/// The status of a logical message from its wires' statuses (spec §11): `Read` when every
/// recipient user has a device whose wire is read, else `Delivered` likewise, else `Sent`
/// when the relay acknowledged every recipient wire, else `Pending`. Transcripts do not
/// count. Each wire's status only moves forward, so this one does too.
fn aggregate(wires: &[DeviceStatus]) -> MessageStatus {
    let recipients: Vec<&DeviceStatus> = wires.iter().filter(|w| !w.transcript).collect();
    let mut users: Vec<&[u8]> = recipients.iter().map(|w| w.to.user.as_slice()).collect();
    users.sort_unstable();
    users.dedup();
    let every_user_reached = |level: MessageStatus| {
        users.iter().all(|user| {
            recipients
                .iter()
                .any(|w| w.to.user == *user && w.status >= level)
        })
    };
    if every_user_reached(MessageStatus::Read) {
        MessageStatus::Read
    } else if every_user_reached(MessageStatus::Delivered) {
        MessageStatus::Delivered
    } else if recipients.iter().all(|w| w.status >= MessageStatus::Sent) {
        MessageStatus::Sent
    } else {
        MessageStatus::Pending
    }
}

/// `len (u8) || recipient user id || application body` (spec §11, a 1:1 message).
fn transcript_body(user: &[u8], app_body: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(1 + user.len() + app_body.len()));
    // The user id of a device list is 1..=64 bytes.
    out.push(u8::try_from(user.len()).unwrap_or(0));
    out.extend_from_slice(user);
    out.extend_from_slice(app_body);
    out
}

impl Account {
    /// Sends `body` to the user `user` (spec §11): one wire for every device of the
    /// user's newest accepted device list, and a sent transcript for every other device of
    /// this account's own user, all carrying one step of the conversation's Lamport clock
    /// and `now_ms`, committed in one transaction. A device without a usable session gives
    /// [`AccountError::NoSession`] naming it and nothing is committed: see
    /// [`Account::devices_without_session`] and [`Account::start_session`]. Removed
    /// devices get nothing. Every wire starts `Pending`; the app passes each wire's id to
    /// [`Account::mark_sent`] when the relay acknowledges it.
    pub fn send_to_user(
        &self,
        user: &[u8],
        body: &[u8],
        now_ms: u64,
    ) -> Result<LogicalMessage, AccountError> {
        super::messaging::check_address(&Address::new(user, 0))?;
        let peers = self.transaction(|tx| fanout(tx, user))?;
        let _guards = self.peer_locks.lock_all(peers.iter().map(|(a, _, _)| a));
        self.transaction(|tx| self.send_in(tx, user, body, now_ms))
    }

    fn send_in(
        &self,
        tx: &mut SealedTx<'_>,
        user: &[u8],
        body: &[u8],
        now_ms: u64,
    ) -> Result<LogicalMessage, AccountError> {
        let targets = fanout(tx, user)?;
        let conversation = direct_conversation(user);
        let mut clock = load_clock(tx, &conversation)?;
        let lamport = clock.send();
        let app_body = ApplicationBody {
            lamport,
            sent_at_ms: now_ms,
            data: body,
        }
        .to_bytes();
        let transcript = transcript_body(user, &app_body);
        let mut wires = Vec::with_capacity(targets.len());
        for (to, key, is_transcript) in targets {
            let (content_type, plaintext) = if is_transcript {
                (ContentType::Transcript, transcript.as_slice())
            } else {
                (ContentType::Application, app_body.as_slice())
            };
            wires.push(pairwise(tx, &to, &key, content_type, plaintext)?);
        }
        save_clock(tx, &conversation, clock)?;
        let id = logical_id(&wires);
        let record = LogicalRecord {
            lamport,
            group: false,
            wires: wires
                .iter()
                .map(|w| (w.id, w.transcript, w.to.clone()))
                .collect(),
        };
        save_logical(tx, &id, &record)?;
        Ok(LogicalMessage { id, lamport, wires })
    }

    /// The status of a logical message (spec §11): `Sent` once the relay acknowledged
    /// every wire to a recipient device, `Delivered` (`Read`) once every recipient user has
    /// at least one device that sent a delivery (read) receipt. Transcripts do not count.
    /// `None` for an id this account does not know (or forgot: it keeps the newest
    /// [`MAX_LOGICAL_MESSAGES`](crate::constants::MAX_LOGICAL_MESSAGES)).
    pub fn logical_status(&self, id: &MessageId) -> Result<Option<MessageStatus>, AccountError> {
        Ok(self.message_info(id)?.map(|wires| aggregate(&wires)))
    }

    /// The per-device statuses of a logical message, in the order of its wires, for a
    /// "message info" screen; `None` for an unknown id.
    pub fn message_info(&self, id: &MessageId) -> Result<Option<Vec<DeviceStatus>>, AccountError> {
        self.transaction(|tx| {
            let Some(record) = load(tx, id)? else {
                return Ok(None);
            };
            let mut out = Vec::with_capacity(record.wires.len());
            for (wire, transcript, to) in &record.wires {
                let (wire, transcript, to) = (*wire, *transcript, to.clone());
                let key = record.status_key(&wire, transcript, &to);
                let status = load_outgoing_at(tx, &key)?
                    .map(|r| r.status)
                    .ok_or_else(corrupt)?;
                out.push(DeviceStatus {
                    to,
                    id: wire,
                    status,
                    transcript,
                });
            }
            Ok(Some(out))
        })
    }

    /// Accepts a sent transcript from `peer` (spec §11): only from a device the own
    /// user's newest accepted list names with the session's key `sender`. It lands in the
    /// inbox in the conversation with its recipient user, whose clock it merges.
    pub(crate) fn receive_transcript(
        &self,
        tx: &mut SealedTx<'_>,
        peer: &Address,
        sender: &IdentityKey,
        id: MessageId,
        body: &[u8],
    ) -> Result<Received, AccountError> {
        let own = load_own_address(tx)?;
        let own_device = match &own {
            Some(own) if own.user == peer.user && own.device != peer.device => {
                load_stored_list(tx, &own.user)?
                    .and_then(|list| list.key_of(peer.device).copied())
                    .is_some_and(|key| key == *sender.as_bytes())
            }
            _ => false,
        };
        if !own_device {
            return Err(AccountError::ForeignTranscript(peer.clone()));
        }
        let (&len, rest) = body
            .split_first()
            .ok_or(AccountError::InvalidTranscript("it is empty"))?;
        if len == 0 {
            return self.receive_group_transcript(tx, peer, sender, id, rest);
        }
        let (to_user, app_body) =
            rest.split_at_checked(usize::from(len))
                .ok_or(AccountError::InvalidTranscript(
                    "its recipient user id is cut",
                ))?;
        let app = ApplicationBody::parse(app_body)?;
        let conversation = direct_conversation(to_user);
        let mut clock = load_clock(tx, &conversation)?;
        let before = clock;
        clock.receive(app.lamport);
        if clock != before {
            save_clock(tx, &conversation, clock)?;
        }
        let record = InboxRecord {
            peer: peer.clone(),
            sender: *sender,
            lamport: app.lamport,
            sent_at_ms: app.sent_at_ms,
            transcript_to: Some(to_user.to_vec()),
            group: None,
            data: Some(Zeroizing::new(app.data.to_vec())),
        };
        save_inbox(tx, &id, &record)?;
        Ok(Received::Transcript {
            id,
            to_user: to_user.to_vec(),
            lamport: app.lamport,
            sent_at_ms: app.sent_at_ms,
            body: app.data.to_vec(),
        })
    }
}

/// Encrypts `body` as `content_type` on the session with `to`, which must have been made
/// with `key`, the key its user's list names.
pub(super) fn pairwise(
    tx: &mut SealedTx<'_>,
    to: &Address,
    key: &[u8; 32],
    content_type: ContentType,
    body: &[u8],
) -> Result<DeviceWire, AccountError> {
    let mut sessions = PeerSessions::load(tx, to)?;
    // Only a session made with the key the list names is used (spec §11).
    if sessions.current_identity() != Some(key) {
        return Err(AccountError::NoSession(to.clone()));
    }
    let position = sessions
        .current()
        .ok_or_else(|| AccountError::NoSession(to.clone()))?;
    let mut loaded = sessions.read(tx, position, false)?;
    let out = loaded
        .session
        .encrypt(content_type, body, &mut *tx.rng, None)?;
    sessions.commit(tx, loaded)?;
    let id = out.id();
    save_pending(tx, id.as_bytes(), to)?;
    Ok(DeviceWire {
        to: to.clone(),
        id,
        wire: out.wire,
        transcript: content_type == ContentType::Transcript,
    })
}

/// Deletes a logical message the retention ring forgot, with its wires' statuses.
pub(super) fn forget(tx: &mut SealedTx<'_>, id: &MessageId) -> Result<(), AccountError> {
    if let Some(old) = load(tx, id)? {
        for (wire, transcript, to) in &old.wires {
            tx.delete(Table::Outgoing, &old.status_key(wire, *transcript, to))?;
            if old.group && !*transcript {
                tx.delete(Table::GroupSends, wire.as_bytes())?;
            }
        }
    }
    tx.delete(Table::LogicalMessages, id.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(user: &str, device: u32, status: MessageStatus, transcript: bool) -> DeviceStatus {
        DeviceStatus {
            to: Address::new(user, device),
            id: MessageId([device as u8; 16]),
            status,
            transcript,
        }
    }

    #[test]
    fn the_aggregate_follows_every_user_and_ignores_transcripts() {
        use MessageStatus::*;
        let bob = |one, two| {
            vec![
                wire("bob", 1, one, false),
                wire("bob", 2, two, false),
                wire("alice", 2, Pending, true),
            ]
        };
        assert_eq!(aggregate(&bob(Sent, Pending)), Pending);
        assert_eq!(aggregate(&bob(Sent, Sent)), Sent);
        assert_eq!(aggregate(&bob(Sent, Delivered)), Delivered);
        assert_eq!(aggregate(&bob(Read, Delivered)), Read);
        // Two recipient users: each needs a device of its own.
        let mut w = bob(Read, Delivered);
        w.push(wire("carol", 3, Delivered, false));
        assert_eq!(aggregate(&w), Delivered);
        w.push(wire("dave", 4, Sent, false));
        assert_eq!(aggregate(&w), Sent);
        // A transcript's status never counts, even when it is the only one acknowledged.
        let mut t = bob(Pending, Pending);
        t.iter_mut().for_each(|w| {
            if w.transcript {
                w.status = Read;
            }
        });
        assert_eq!(aggregate(&t), Pending);
    }
}
