//! Groups in the Account (spec §12): the member users the app gives, this device's own
//! sender key per group, the keys received from the other member devices, and one send
//! that returns the group wire with the pairwise distributions and transcripts it needs.
//!
//! ```text
//! groups     (key = group id)             = members count (u16) || (len (u8) || user id)*
//!                                           || holders count (u16) || (address || IK_dev (32))*
//!                                           || rotate (flag) || key len (u16) || [sender key]
//! group_keys (key = 0x01 || group id)     = the GroupKeys record of the group
//! group_keys (key = 0x02 || distribution) = the group id the distribution belongs to
//! group_sends (key = group wire id)       = the logical message id of that send
//! meta "group_clock"                      = the newest caller clock a group call gave
//! ```
//!
//! The clock of a replaced key's hour (spec §12) is the newest clock the caller gave:
//! `set_group_members`, `send_to_group`, and `decrypt_at` / `decrypt_batch_at` of a
//! distribution or a group message. Each call counts the hour on the newest of its own
//! clock and the stored one, so a clock that goes back extends no hour, and a call that
//! succeeds stores its clock when it is newer. A refused message changes nothing, its clock
//! included.
//!
//! The *holders* are the member devices this device's current sender key was distributed
//! to: a holder that is no longer a listed device of a member user (a member removed, or a
//! device gone from its user's list) makes the key rotate before the next group message,
//! and a listed device that is not a holder gets the current key.
//!
//! The keys received from a device go when it stops being a sender of the group: when
//! `set_group_members` no longer names its user, or when its user's accepted device list
//! drops it or changes its key ([`forget_devices`]). `forget_group` deletes the group's
//! row, its `GroupKeys` record with every index row, and its conversation clock.

use zeroize::Zeroizing;

use super::devices::{load_own_address, load_stored_list};
use super::logical::{logical_id, pairwise, save_logical, DeviceWire, LogicalRecord};
use super::messaging::read_inbox;
use super::records::{
    group_conversation, group_status_key, load_clock, load_inbox, load_outgoing_at, retain,
    save_clock, save_inbox, save_outgoing_at, save_pending, InboxRecord, Ring,
};
use super::session_rows::PeerSessions;
use super::{Account, AccountError, Address, InboxEntry, Incoming, Received};
use crate::codec::{Reader, Writer};
use crate::constants::DISTRIBUTION_ID_LEN;
use crate::group::{Distribution, GroupError, GroupId, GroupKeys, SenderKey};
use crate::identity::IdentityKey;
use crate::status::MessageStatus;
use crate::store::{SealedTx, StoreError, Table};
use crate::wire::{ApplicationBody, ContentType, MessageId};

const GROUP_CLOCK_KEY: &[u8] = b"group_clock";
/// The most member users a group may name besides this device's own user (spec §8: 1024
/// users in all); with 16 devices each, the holders of a sender key fit the record's `u16`
/// count.
pub(crate) const MAX_GROUP_MEMBERS: usize = crate::constants::MAX_GROUP_USERS - 1;
const KEYS_RECORD: u8 = 0x01;
const KEYS_INDEX: u8 = 0x02;

fn corrupt(table: Table) -> AccountError {
    StoreError::Corrupt {
        table: table.name(),
    }
    .into()
}

/// The result of [`Account::send_to_group`]: one group wire for the relay to fan out, the
/// pairwise wires that must reach their devices first, and one logical message id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSend {
    /// The id the app tracks it by ([`Account::logical_status`],
    /// [`Account::message_info`]).
    pub id: MessageId,
    /// The Lamport value it carries: its place in the group's conversation (spec §10).
    pub lamport: u64,
    /// The `GroupMessage` (`0x13`) wire: the relay delivers it to every device of
    /// `recipients`. Pass `group_wire_id` to [`Account::mark_sent`] when it acknowledges.
    pub group_wire: Vec<u8>,
    /// The group wire's message id (receipts name it).
    pub group_wire_id: MessageId,
    /// The member devices the group wire is for.
    pub recipients: Vec<Address>,
    /// Pairwise distributions (content type `0x03`) of the sender key, to send before the
    /// group wire: to every recipient on a new or rotated key, else to new devices only.
    pub distributions: Vec<DeviceWire>,
    /// Pairwise sent transcripts (`0x04`, spec §11) to this account's own other devices.
    pub transcripts: Vec<DeviceWire>,
}

/// What the account keeps about a group.
#[derive(Default)]
struct GroupState {
    members: Vec<Vec<u8>>,
    holders: Vec<(Address, [u8; 32])>,
    rotate: bool,
    key: Option<SenderKey>,
}

fn encode_state(state: &GroupState) -> Zeroizing<Vec<u8>> {
    let mut v = Zeroizing::new(Vec::new());
    v.put_u16(u16::try_from(state.members.len()).unwrap_or(u16::MAX));
    for m in &state.members {
        // A user id of a device list is 1..=64 bytes.
        v.put_u8(u8::try_from(m.len()).unwrap_or(0));
        v.put(m);
    }
    v.put_u16(u16::try_from(state.holders.len()).unwrap_or(u16::MAX));
    for (addr, key) in &state.holders {
        v.put(&addr.to_bytes());
        v.put(key);
    }
    v.put_u8(u8::from(state.rotate));
    match &state.key {
        Some(key) => {
            let bytes = key.to_bytes();
            v.put_u16(u16::try_from(bytes.len()).unwrap_or(u16::MAX));
            v.put(&bytes);
        }
        None => v.put_u16(0),
    }
    v
}

fn decode_state(bytes: &[u8]) -> Option<GroupState> {
    let mut r = Reader::new(bytes, "group record");
    let count = r.u16().ok()?;
    let mut members = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let len = usize::from(r.u8().ok()?);
        members.push(r.take(len).ok()?.to_vec());
    }
    let count = r.u16().ok()?;
    let mut holders = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        holders.push((Address::read(&mut r).ok()?, r.array::<32>().ok()?));
    }
    let rotate = r.flag().ok()?;
    let len = usize::from(r.u16().ok()?);
    let key = match len {
        0 => None,
        n => Some(SenderKey::from_bytes(r.take(n).ok()?).ok()?),
    };
    r.finish().ok()?;
    Some(GroupState {
        members,
        holders,
        rotate,
        key,
    })
}

fn load_state(tx: &mut SealedTx<'_>, group: &GroupId) -> Result<GroupState, AccountError> {
    let bytes = tx
        .get(Table::Groups, group.as_bytes())?
        .ok_or_else(|| AccountError::UnknownGroup(group.as_bytes().to_vec()))?;
    decode_state(&bytes).ok_or_else(|| corrupt(Table::Groups))
}

fn save_state(
    tx: &mut SealedTx<'_>,
    group: &GroupId,
    state: &GroupState,
) -> Result<(), AccountError> {
    tx.put(Table::Groups, group.as_bytes(), &encode_state(state))?;
    Ok(())
}

fn keys_key(group: &[u8]) -> Vec<u8> {
    [&[KEYS_RECORD][..], group].concat()
}

fn index_key(distribution_id: &[u8]) -> Vec<u8> {
    [&[KEYS_INDEX][..], distribution_id].concat()
}

fn load_keys(tx: &mut SealedTx<'_>, group: &[u8]) -> Result<GroupKeys, AccountError> {
    match tx.get(Table::GroupKeys, &keys_key(group))? {
        None => Ok(GroupKeys::new()),
        Some(b) => GroupKeys::from_bytes(&b).map_err(|_| corrupt(Table::GroupKeys)),
    }
}

fn save_keys(tx: &mut SealedTx<'_>, group: &[u8], keys: &GroupKeys) -> Result<(), AccountError> {
    tx.put(Table::GroupKeys, &keys_key(group), &keys.to_bytes())?;
    Ok(())
}

/// Erases the keys of `keys` (the record of `group`) whose sender device `keep` refuses,
/// with their index rows, and writes the record back (or deletes it, once empty) when
/// anything went.
fn prune_keys(
    tx: &mut SealedTx<'_>,
    group: &[u8],
    mut keys: GroupKeys,
    mut keep: impl FnMut(&Address) -> bool,
) -> Result<(), AccountError> {
    let gone = keys.retain_senders(|_, sender| keep(sender));
    if gone.is_empty() {
        return Ok(());
    }
    delete_index_rows(tx, &gone)?;
    if keys.is_empty() {
        tx.delete(Table::GroupKeys, &keys_key(group))?;
        Ok(())
    } else {
        save_keys(tx, group, &keys)
    }
}

/// Erases, in every group, the keys received from the devices `devices` of `user`: its
/// accepted device list dropped them (or changed their keys), so they are no longer
/// senders of any group. Reads every `GroupKeys` record: a device list change is rare,
/// and the records are as many as the groups the app set.
pub(super) fn forget_devices(
    tx: &mut SealedTx<'_>,
    user: &[u8],
    devices: &[u32],
) -> Result<(), AccountError> {
    if devices.is_empty() {
        return Ok(());
    }
    for (key, value) in tx.scan(Table::GroupKeys)? {
        let Some((&KEYS_RECORD, group)) = key.split_first() else {
            continue;
        };
        let keys = GroupKeys::from_bytes(&value).map_err(|_| corrupt(Table::GroupKeys))?;
        prune_keys(tx, group, keys, |sender| {
            sender.user != user || !devices.contains(&sender.device)
        })?;
    }
    Ok(())
}

/// The newest caller clock a group call gave: the clock of a replaced key's hour.
fn group_clock(tx: &mut SealedTx<'_>) -> Result<u64, AccountError> {
    match tx.get(Table::Meta, GROUP_CLOCK_KEY)? {
        None => Ok(0),
        Some(b) => Ok(u64::from_be_bytes(
            b.as_slice().try_into().map_err(|_| corrupt(Table::Meta))?,
        )),
    }
}

fn advance_group_clock(tx: &mut SealedTx<'_>, now_ms: u64) -> Result<(), AccountError> {
    if now_ms > group_clock(tx)? {
        tx.put(Table::Meta, GROUP_CLOCK_KEY, &now_ms.to_be_bytes())?;
    }
    Ok(())
}

/// The clock a decryption given `now_ms` counts a replaced key's hour on: the newest of
/// `now_ms` and the stored clock, so that a clock gone back neither extends an hour nor
/// brings back a key that has passed it. `now_ms` 0 (a plain `decrypt`) is the stored clock.
fn clock_at(tx: &mut SealedTx<'_>, now_ms: u64) -> Result<u64, AccountError> {
    Ok(group_clock(tx)?.max(now_ms))
}

/// Deletes the index rows of the keys among `before` that `keys` no longer holds (past
/// their hour, or beyond the replaced keys kept): a member sending key after key leaves
/// the index no larger.
fn drop_index_rows(
    tx: &mut SealedTx<'_>,
    before: &[[u8; DISTRIBUTION_ID_LEN]],
    keys: &GroupKeys,
) -> Result<(), AccountError> {
    delete_index_rows(tx, before.iter().filter(|id| !keys.holds(id)))
}

/// Deletes the index rows of the keys `ids`.
fn delete_index_rows<'a>(
    tx: &mut SealedTx<'_>,
    ids: impl IntoIterator<Item = &'a [u8; DISTRIBUTION_ID_LEN]>,
) -> Result<(), AccountError> {
    for id in ids {
        tx.delete(Table::GroupKeys, &index_key(id))?;
    }
    Ok(())
}

/// Every listed device of the member users (the own user excluded: its other devices get
/// sent transcripts), with its listed key.
fn member_devices(
    tx: &mut SealedTx<'_>,
    members: &[Vec<u8>],
) -> Result<Vec<(Address, [u8; 32])>, AccountError> {
    let mut out = Vec::new();
    for user in members {
        let list =
            load_stored_list(tx, user)?.ok_or_else(|| AccountError::NoDeviceList(user.clone()))?;
        for (device, key) in list.devices {
            out.push((Address::new(user.clone(), device), key));
        }
    }
    Ok(out)
}

/// The own user's other listed devices.
fn own_others(
    tx: &mut SealedTx<'_>,
    own: &Address,
) -> Result<Vec<(Address, [u8; 32])>, AccountError> {
    Ok(load_stored_list(tx, &own.user)?
        .map(|list| {
            list.devices
                .into_iter()
                .filter(|(d, _)| *d != own.device)
                .map(|(d, k)| (Address::new(own.user.clone(), d), k))
                .collect()
        })
        .unwrap_or_default())
}

/// Marks the group wire `id` as acknowledged by the relay at every member device it was
/// fanned out to; `None` when `id` is not a group wire.
pub(super) fn mark_group_sent(
    tx: &mut SealedTx<'_>,
    id: &MessageId,
) -> Result<Option<MessageStatus>, AccountError> {
    let Some(logical) = tx.get(Table::GroupSends, id.as_bytes())? else {
        return Ok(None);
    };
    let logical = MessageId(
        logical
            .as_slice()
            .try_into()
            .map_err(|_| corrupt(Table::GroupSends))?,
    );
    let record = super::logical::load(tx, &logical)?.ok_or_else(|| corrupt(Table::GroupSends))?;
    let mut lowest = MessageStatus::Read;
    for (wire, transcript, to) in &record.wires {
        if *transcript || wire != id {
            continue;
        }
        let key = group_status_key(wire, to);
        let mut status = load_outgoing_at(tx, &key)?.ok_or_else(|| corrupt(Table::Outgoing))?;
        status.status = status.status.advance(MessageStatus::Sent);
        save_outgoing_at(tx, &key, &status)?;
        lowest = lowest.min(status.status);
    }
    Ok(Some(lowest))
}

impl Account {
    /// Sets the member users of `group` (spec §12); each must have an accepted device
    /// list, and this account's own user is a member without being named (spec §8: 1024
    /// users in all, so at most 1023 others: [`AccountError::TooManyMembers`]). A device that
    /// held this device's sender key and is no longer a listed device of a member makes
    /// the key rotate before the next group message; devices that lack the current key get
    /// it with the next one.
    pub fn set_group_members(
        &self,
        group: &[u8],
        members: &[Vec<u8>],
        now_ms: u64,
    ) -> Result<(), AccountError> {
        let group = GroupId::new(group)?;
        self.transaction(|tx| {
            let own = load_own_address(tx)?.ok_or(AccountError::NoOwnAddress)?;
            let mut users: Vec<Vec<u8>> = members
                .iter()
                .filter(|m| **m != own.user)
                .cloned()
                .collect();
            users.sort();
            users.dedup();
            if users.len() > MAX_GROUP_MEMBERS {
                return Err(AccountError::TooManyMembers(users.len()));
            }
            let current = member_devices(tx, &users)?;
            let mut state = match tx.get(Table::Groups, group.as_bytes())? {
                None => GroupState::default(),
                Some(b) => decode_state(&b).ok_or_else(|| corrupt(Table::Groups))?,
            };
            state.members = users;
            if state.holders.iter().any(|h| !current.contains(h)) {
                state.rotate = true;
            }
            save_state(tx, &group, &state)?;
            // The keys of devices that are no longer senders of the group go now: their
            // later messages are unknown distributions, and nothing of them is kept.
            // A set: a large group holds thousands of keys, each checked against it.
            let mut senders: std::collections::HashSet<Address> =
                current.into_iter().map(|(a, _)| a).collect();
            senders.extend(own_others(tx, &own)?.into_iter().map(|(a, _)| a));
            let keys = load_keys(tx, group.as_bytes())?;
            prune_keys(tx, group.as_bytes(), keys, |sender| {
                senders.contains(sender)
            })?;
            advance_group_clock(tx, now_ms)
        })
    }

    /// Deletes everything this device keeps for `group`, in one transaction: its members,
    /// the holders of this device's sender key and that key, every sender key received
    /// from the other member devices with its index row, and the group's Lamport clock.
    /// Leaving a group is the app's act (it tells the other members); this is the local
    /// deletion that follows it. Afterwards a group message or distribution for the group
    /// is refused as for a group this device never had (`UnknownDistribution`,
    /// `UnknownGroup`), and [`Account::set_group_members`] makes it again from scratch: a
    /// new sender key, distributed to every member device with the next send.
    ///
    /// Kept: the group's unacknowledged inbox entries (the app's messages, still listed by
    /// [`Account::group_inbox`] until [`Account::acknowledge`]) and the tombstones of
    /// acknowledged ones; the statuses of the messages sent to it, whose logical messages
    /// and group-send records go with the ring of
    /// [`MAX_LOGICAL_MESSAGES`](crate::constants::MAX_LOGICAL_MESSAGES) (they do not name
    /// their group). A sent transcript from an own other device is still accepted, as for
    /// any group. Forgetting a group this device does not have is `Ok` and changes nothing.
    pub fn forget_group(&self, group: &[u8]) -> Result<(), AccountError> {
        let group = GroupId::new(group)?;
        self.transaction(|tx| {
            tx.delete(Table::Groups, group.as_bytes())?;
            let keys = load_keys(tx, group.as_bytes())?;
            delete_index_rows(tx, keys.distribution_ids())?;
            tx.delete(Table::GroupKeys, &keys_key(group.as_bytes()))?;
            tx.delete(Table::Conversations, &group_conversation(group.as_bytes()))?;
            Ok(())
        })
    }

    /// The member users of `group` as last set (the own user not among them).
    pub fn group_members(&self, group: &[u8]) -> Result<Vec<Vec<u8>>, AccountError> {
        let group = GroupId::new(group)?;
        self.transaction(|tx| Ok(load_state(tx, &group)?.members))
    }

    /// The devices a send to `group` may need a pairwise session with that lack a usable
    /// one: every listed device of the member users, then the own user's other devices.
    /// Fetch their bundles and call [`Account::start_session`].
    pub fn group_devices_without_session(
        &self,
        group: &[u8],
    ) -> Result<Vec<Address>, AccountError> {
        let group = GroupId::new(group)?;
        self.transaction(|tx| {
            let own = load_own_address(tx)?.ok_or(AccountError::NoOwnAddress)?;
            let state = load_state(tx, &group)?;
            let mut devices = member_devices(tx, &state.members)?;
            devices.extend(own_others(tx, &own)?);
            let mut out = Vec::new();
            for (to, key) in devices {
                if PeerSessions::load(tx, &to)?.current_identity() != Some(&key) {
                    out.push(to);
                }
            }
            Ok(out)
        })
    }

    /// Sends `body` to `group` (spec §12): one step of the group's Lamport clock, one
    /// `GroupMessage` for every member device, the sender key's distribution to the devices
    /// that need it (all of them on a new or rotated key), and a sent transcript to each
    /// own other device, committed in one transaction. The key rotates first when a device
    /// was removed, or at 7 days or 10,000 messages. A device that needs a pairwise wire
    /// and has no usable session gives [`AccountError::NoSession`] naming it, and nothing
    /// is committed.
    pub fn send_to_group(
        &self,
        group: &[u8],
        body: &[u8],
        now_ms: u64,
    ) -> Result<GroupSend, AccountError> {
        let group = GroupId::new(group)?;
        let peers = self.transaction(|tx| {
            let own = load_own_address(tx)?.ok_or(AccountError::NoOwnAddress)?;
            let state = load_state(tx, &group)?;
            let mut devices = member_devices(tx, &state.members)?;
            devices.extend(own_others(tx, &own)?);
            Ok(devices.into_iter().map(|(a, _)| a).collect::<Vec<_>>())
        })?;
        let _guards = self.peer_locks.lock_all(peers.iter());
        self.transaction(|tx| send_in(tx, &group, body, now_ms))
    }

    /// The unacknowledged messages of `group` (its members' group messages and the own
    /// other devices' transcripts of theirs), in the display order of spec §10.
    pub fn group_inbox(&self, group: &[u8]) -> Result<Vec<InboxEntry>, AccountError> {
        let group = GroupId::new(group)?;
        self.transaction(|tx| {
            let mut entries = read_inbox(tx, |_, _, g| g == Some(group.as_bytes()))?;
            entries.sort_by(|a, b| {
                a.display_key()
                    .cmp(&b.display_key())
                    .then_with(|| a.id.cmp(&b.id))
            });
            Ok(entries)
        })
    }

    /// The Lamport counter of `group`'s conversation (spec §10).
    pub fn group_clock(&self, group: &[u8]) -> Result<u64, AccountError> {
        let group = GroupId::new(group)?;
        self.transaction(|tx| Ok(load_clock(tx, &group_conversation(group.as_bytes()))?.value()))
    }

    /// Accepts a distribution (content type `0x03`) that arrived over the session with
    /// `peer`, whose identity is `sender` (spec §12): only from a device its user's
    /// accepted list names with that key, of a member user of the group or of the own
    /// user. It is stored under `(group, peer)`; nothing in the body can claim another
    /// sender. A key it replaces is kept for one hour of the newest of `now_ms` and the
    /// stored clock, which it advances.
    pub(crate) fn receive_distribution(
        &self,
        tx: &mut SealedTx<'_>,
        peer: &Address,
        sender: &IdentityKey,
        body: &[u8],
        now_ms: u64,
    ) -> Result<Received, AccountError> {
        let d = Distribution::parse(body)?;
        let group = d.group_id.clone();
        let state = load_state(tx, &group)?;
        let own = load_own_address(tx)?.ok_or(AccountError::NoOwnAddress)?;
        let is_member = (peer.user == own.user && peer.device != own.device)
            || state.members.contains(&peer.user);
        let listed = is_member
            && load_stored_list(tx, &peer.user)?
                .and_then(|list| list.key_of(peer.device).copied())
                .is_some_and(|key| key == *sender.as_bytes());
        if !listed {
            return Err(AccountError::NotGroupMember(peer.clone()));
        }
        let index = index_key(&d.distribution_id);
        if let Some(owner) = tx.get(Table::GroupKeys, &index)? {
            if owner.as_slice() != group.as_bytes() {
                return Err(GroupError::DistributionConflict.into());
            }
        }
        let now = clock_at(tx, now_ms)?;
        let mut keys = load_keys(tx, group.as_bytes())?;
        let before: Vec<[u8; DISTRIBUTION_ID_LEN]> = keys.distribution_ids().copied().collect();
        keys.accept(peer, &d, now)?;
        save_keys(tx, group.as_bytes(), &keys)?;
        drop_index_rows(tx, &before, &keys)?;
        tx.put(Table::GroupKeys, &index, group.as_bytes())?;
        advance_group_clock(tx, now)?;
        Ok(Received::Distribution {
            group: group.as_bytes().to_vec(),
        })
    }

    /// Decrypts a `GroupMessage` (`0x13`) inside a transaction: the key is found by its
    /// distribution id, the sender is the device that distributed it, which must still be
    /// a listed device of a member user. A redelivery still in the inbox returns it again.
    /// A replaced key opens only within its hour of the newest of `now_ms` and the stored
    /// clock; a message that opens advances that clock and erases the group's replaced
    /// keys past their hour.
    pub(crate) fn decrypt_group_in(
        &self,
        tx: &mut SealedTx<'_>,
        wire: &[u8],
        now_ms: u64,
    ) -> Result<Incoming, AccountError> {
        let id = MessageId::of(wire);
        let distribution_id = wire
            .get(1..1 + DISTRIBUTION_ID_LEN)
            .ok_or(GroupError::UnknownDistribution)?;
        let group = tx
            .get(Table::GroupKeys, &index_key(distribution_id))?
            .ok_or(GroupError::UnknownDistribution)?;
        let group = GroupId::new(&group).map_err(|_| corrupt(Table::GroupKeys))?;
        let now = clock_at(tx, now_ms)?;
        let mut keys = load_keys(tx, group.as_bytes())?;
        let got = match keys.decrypt(wire, now) {
            Ok(got) => got,
            Err(e @ GroupError::DuplicateMessage { .. }) => {
                return match load_inbox(tx, &id)? {
                    Some(entry) if entry.group.as_deref() == Some(group.as_bytes()) => {
                        let body = entry.data.ok_or(AccountError::AlreadyReceived(id))?;
                        Ok(Incoming {
                            from: entry.peer.clone(),
                            sender: entry.sender,
                            received: Received::GroupMessage {
                                id,
                                group: group.as_bytes().to_vec(),
                                from: entry.peer,
                                lamport: entry.lamport,
                                sent_at_ms: entry.sent_at_ms,
                                body: body.to_vec(),
                            },
                            replenish_prekeys: false,
                        })
                    }
                    Some(_) => Err(AccountError::AlreadyReceived(id)),
                    None => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        };
        let own = load_own_address(tx)?.ok_or(AccountError::NoOwnAddress)?;
        let state = load_state(tx, &group)?;
        let sender = &got.sender;
        let is_member = (sender.user == own.user && sender.device != own.device)
            || state.members.contains(&sender.user);
        let key = if is_member {
            load_stored_list(tx, &sender.user)?.and_then(|list| list.key_of(sender.device).copied())
        } else {
            None
        };
        let key = key.ok_or_else(|| AccountError::NotGroupMember(sender.clone()))?;
        let identity = IdentityKey::from_bytes(&key).map_err(|_| corrupt(Table::DeviceLists))?;
        let body = Zeroizing::new(got.body);
        let app = ApplicationBody::parse(&body)?;
        let conversation = group_conversation(group.as_bytes());
        let mut clock = load_clock(tx, &conversation)?;
        let before = clock;
        clock.receive(app.lamport);
        if clock != before {
            save_clock(tx, &conversation, clock)?;
        }
        // Replaced keys past their hour go, with their index rows (usually none: nothing
        // is collected or deleted then).
        let expired = keys.expire_ids(now);
        save_keys(tx, group.as_bytes(), &keys)?;
        delete_index_rows(tx, &expired)?;
        advance_group_clock(tx, now)?;
        let record = InboxRecord {
            peer: sender.clone(),
            sender: identity,
            lamport: app.lamport,
            sent_at_ms: app.sent_at_ms,
            transcript_to: None,
            group: Some(group.as_bytes().to_vec()),
            data: Some(Zeroizing::new(app.data.to_vec())),
        };
        save_inbox(tx, &id, &record)?;
        Ok(Incoming {
            from: sender.clone(),
            sender: identity,
            received: Received::GroupMessage {
                id,
                group: group.as_bytes().to_vec(),
                from: sender.clone(),
                lamport: app.lamport,
                sent_at_ms: app.sent_at_ms,
                body: app.data.to_vec(),
            },
            replenish_prekeys: false,
        })
    }

    /// A group message's sent transcript from the own device `peer` (already checked):
    /// `group id len (u8) || group id || application body` after the leading `0x00`.
    pub(crate) fn receive_group_transcript(
        &self,
        tx: &mut SealedTx<'_>,
        peer: &Address,
        sender: &IdentityKey,
        id: MessageId,
        rest: &[u8],
    ) -> Result<Received, AccountError> {
        let (&len, rest) = rest
            .split_first()
            .ok_or(AccountError::InvalidTranscript("its group id is cut"))?;
        let (group, app_body) = rest
            .split_at_checked(usize::from(len))
            .ok_or(AccountError::InvalidTranscript("its group id is cut"))?;
        let group = GroupId::new(group)
            .map_err(|_| AccountError::InvalidTranscript("its group id is invalid"))?;
        let app = ApplicationBody::parse(app_body)?;
        let conversation = group_conversation(group.as_bytes());
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
            transcript_to: None,
            group: Some(group.as_bytes().to_vec()),
            data: Some(Zeroizing::new(app.data.to_vec())),
        };
        save_inbox(tx, &id, &record)?;
        Ok(Received::GroupMessage {
            id,
            group: group.as_bytes().to_vec(),
            from: peer.clone(),
            lamport: app.lamport,
            sent_at_ms: app.sent_at_ms,
            body: app.data.to_vec(),
        })
    }
}

/// One group send inside a transaction; see [`Account::send_to_group`].
fn send_in(
    tx: &mut SealedTx<'_>,
    group: &GroupId,
    body: &[u8],
    now_ms: u64,
) -> Result<GroupSend, AccountError> {
    let own = load_own_address(tx)?.ok_or(AccountError::NoOwnAddress)?;
    let mut state = load_state(tx, group)?;
    let current = member_devices(tx, &state.members)?;
    let removed = state.holders.iter().any(|h| !current.contains(h));
    let rotate = state.rotate
        || removed
        || state
            .key
            .as_ref()
            .is_none_or(|k| k.rotation_due(now_ms).is_some());
    let (mut key, needing): (SenderKey, Vec<&(Address, [u8; 32])>) = match state.key.take() {
        Some(key) if !rotate => {
            let needing = current
                .iter()
                .filter(|d| !state.holders.contains(d))
                .collect();
            (key, needing)
        }
        _ => (
            SenderKey::generate(&mut *tx.rng, now_ms),
            current.iter().collect(),
        ),
    };
    // The distribution carries the key at its current iteration: this message is the
    // first a new holder reads.
    let distribution = key.distribution(group).to_bytes();
    let mut distributions = Vec::with_capacity(needing.len());
    for (to, listed) in needing {
        let wire = pairwise(tx, to, listed, ContentType::Distribution, &distribution)?;
        retain(tx, Ring::Outgoing, &wire.id)?;
        distributions.push(wire);
    }
    let conversation = group_conversation(group.as_bytes());
    let mut clock = load_clock(tx, &conversation)?;
    let lamport = clock.send();
    let app_body = ApplicationBody {
        lamport,
        sent_at_ms: now_ms,
        data: body,
    }
    .to_bytes();
    let out = key.encrypt(&app_body)?;
    let mut transcript = Zeroizing::new(Vec::with_capacity(2 + 64 + app_body.len()));
    transcript.push(0);
    // A group id is 1..=64 bytes.
    transcript.push(u8::try_from(group.as_bytes().len()).unwrap_or(0));
    transcript.extend_from_slice(group.as_bytes());
    transcript.extend_from_slice(&app_body);
    let mut transcripts = Vec::new();
    for (to, listed) in own_others(tx, &own)? {
        transcripts.push(pairwise(
            tx,
            &to,
            &listed,
            ContentType::Transcript,
            &transcript,
        )?);
    }
    let recipients: Vec<Address> = current.iter().map(|(a, _)| a.clone()).collect();
    for to in &recipients {
        save_pending(tx, &group_status_key(&out.message_id, to), to)?;
    }
    let mut record_wires: Vec<(MessageId, bool, Address)> = recipients
        .iter()
        .map(|to| (out.message_id, false, to.clone()))
        .collect();
    record_wires.extend(transcripts.iter().map(|w| (w.id, true, w.to.clone())));
    let mut id_input = vec![DeviceWire {
        to: own.clone(),
        id: out.message_id,
        wire: Vec::new(),
        transcript: false,
    }];
    id_input.extend(transcripts.iter().cloned());
    let id = logical_id(&id_input);
    save_logical(
        tx,
        &id,
        &LogicalRecord {
            lamport,
            group: true,
            wires: record_wires,
        },
    )?;
    tx.put(Table::GroupSends, out.message_id.as_bytes(), id.as_bytes())?;
    save_clock(tx, &conversation, clock)?;
    state.holders = current;
    state.rotate = false;
    state.key = Some(key);
    save_state(tx, group, &state)?;
    advance_group_clock(tx, now_ms)?;
    Ok(GroupSend {
        id,
        lamport,
        group_wire: out.wire,
        group_wire_id: out.message_id,
        recipients,
        distributions,
        transcripts,
    })
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;
