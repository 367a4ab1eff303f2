//! Users with several devices (spec §11): this account's own address, the pinned user
//! identities, the newest accepted device list of each user, and the checks that bind a
//! session to the identity accepted for its device.
//!
//! A user is *list-bound* once its user identity is pinned (the first accepted list pins
//! it, or [`Account::trust_user_identity`] does): from then on a device of that user is
//! accepted only as its newest accepted list names it, and a peer without a pinned user
//! identity keeps the per-address trust of [`Account::trust_identity`].
//!
//! ```text
//! user_identities (key = user id) = IK_user (32)
//! device_lists    (key = user id) = the DeviceList bytes, as signed
//! meta "own_address"              = the address bytes of this device
//! ```

use super::session_rows::PeerSessions;
use super::{Account, AccountError, Address};
use crate::bundle::PreKeyBundle;
use crate::codec::Reader;
use crate::constants::{MAX_DEVICES_PER_USER, MAX_USER_ID_LEN};
use crate::devices::{DeviceCertificate, DeviceError, DeviceList};
use crate::identity::IdentityKey;
use crate::safety_number::SafetyNumber;
use crate::session::Session;
use crate::store::{SealedTx, StoreError, Table};

const OWN_ADDRESS_KEY: &[u8] = b"own_address";

fn corrupt(table: Table) -> AccountError {
    StoreError::Corrupt {
        table: table.name(),
    }
    .into()
}

/// What accepting a device list changed, by device id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceListChange {
    /// Devices the new list names and the previous one did not (all of them for a first
    /// list): each gets a session from its bundle on the next send.
    pub added: Vec<u32>,
    /// Devices the previous list named and the new one does not: their sessions are
    /// archived and they are sent nothing more.
    pub removed: Vec<u32>,
    /// Devices named by both with another identity key: their sessions under the old key
    /// are archived and never used again.
    pub changed: Vec<u32>,
}

impl DeviceListChange {
    /// Whether the list changed nothing (the same list again).
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// A stored device list read without validating its keys again (they were validated when
/// the list was accepted): `(device id, IK_dev bytes)`, the primary first.
pub(crate) struct StoredList {
    pub(crate) devices: Vec<(u32, [u8; 32])>,
}

impl StoredList {
    fn parse(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader::new(bytes, "stored device list");
        let len = usize::from(r.u8().ok()?);
        r.take(len).ok()?;
        r.u64().ok()?;
        let count = usize::from(r.u8().ok()?);
        if count == 0 || count > MAX_DEVICES_PER_USER {
            return None;
        }
        let mut devices = Vec::with_capacity(count);
        for _ in 0..count {
            devices.push((r.u32().ok()?, r.array::<32>().ok()?));
        }
        r.array::<64>().ok()?;
        r.finish().ok()?;
        Some(Self { devices })
    }

    pub(crate) fn key_of(&self, device: u32) -> Option<&[u8; 32]> {
        self.devices
            .iter()
            .find(|(d, _)| *d == device)
            .map(|(_, k)| k)
    }
}

pub(crate) fn load_own_address(tx: &mut SealedTx<'_>) -> Result<Option<Address>, AccountError> {
    match tx.get(Table::Meta, OWN_ADDRESS_KEY)? {
        None => Ok(None),
        Some(b) => Address::from_bytes(&b)
            .map(Some)
            .map_err(|_| corrupt(Table::Meta)),
    }
}

pub(crate) fn load_user_identity(
    tx: &mut SealedTx<'_>,
    user: &[u8],
) -> Result<Option<IdentityKey>, AccountError> {
    match tx.get(Table::UserIdentities, user)? {
        None => Ok(None),
        Some(b) => IdentityKey::from_slice(&b)
            .map(Some)
            .map_err(|_| corrupt(Table::UserIdentities)),
    }
}

fn load_list(tx: &mut SealedTx<'_>, user: &[u8]) -> Result<Option<DeviceList>, AccountError> {
    match tx.get(Table::DeviceLists, user)? {
        None => Ok(None),
        Some(b) => DeviceList::from_bytes(&b)
            .map(Some)
            .map_err(|_| corrupt(Table::DeviceLists)),
    }
}

pub(crate) fn load_stored_list(
    tx: &mut SealedTx<'_>,
    user: &[u8],
) -> Result<Option<StoredList>, AccountError> {
    match tx.get(Table::DeviceLists, user)? {
        None => Ok(None),
        Some(b) => StoredList::parse(&b)
            .map(Some)
            .ok_or_else(|| corrupt(Table::DeviceLists)),
    }
}

/// The devices one send to `user` reaches (spec §11): every device of the user's newest
/// accepted list but this one, then every other device of this account's own user as a
/// sent transcript (none when writing to the own user): `(device, listed key,
/// transcript)`.
pub(crate) type Fanout = Vec<(Address, [u8; 32], bool)>;

pub(crate) fn fanout(tx: &mut SealedTx<'_>, user: &[u8]) -> Result<Fanout, AccountError> {
    let own = load_own_address(tx)?.ok_or(AccountError::NoOwnAddress)?;
    let list =
        load_stored_list(tx, user)?.ok_or_else(|| AccountError::NoDeviceList(user.to_vec()))?;
    let mut targets = Vec::with_capacity(2 * MAX_DEVICES_PER_USER);
    for (device, key) in &list.devices {
        let to = Address::new(user, *device);
        if to != own {
            targets.push((to, *key, false));
        }
    }
    if own.user != user {
        if let Some(own_list) = load_stored_list(tx, &own.user)? {
            for (device, key) in &own_list.devices {
                if *device != own.device {
                    targets.push((Address::new(own.user.clone(), *device), *key, true));
                }
            }
        }
    }
    Ok(targets)
}

fn check_user(user: &[u8]) -> Result<(), AccountError> {
    if user.is_empty() || user.len() > MAX_USER_ID_LEN {
        Err(DeviceError::InvalidUserId.into())
    } else {
        Ok(())
    }
}

fn change_between(old: Option<&DeviceList>, new: &DeviceList) -> DeviceListChange {
    let mut change = DeviceListChange::default();
    for (device, key) in &new.devices {
        match old.and_then(|o| o.device_key(*device)) {
            None => change.added.push(*device),
            Some(k) if k != key => change.changed.push(*device),
            Some(_) => {}
        }
    }
    if let Some(old) = old {
        for (device, _) in &old.devices {
            if new.device_key(*device).is_none() {
                change.removed.push(*device);
            }
        }
    }
    change
}

/// Archives the current session with `peer` unless it was made with `keep`.
fn archive_unless(
    tx: &mut SealedTx<'_>,
    peer: &Address,
    keep: Option<&[u8; 32]>,
) -> Result<(), AccountError> {
    let mut sessions = PeerSessions::load(tx, peer)?;
    match (sessions.current_identity(), keep) {
        (None, _) => Ok(()),
        (Some(current), Some(keep)) if current == keep => Ok(()),
        _ => sessions.archive_current(tx),
    }
}

impl Account {
    /// Sets this device's own address: its user id (1 to 64 bytes, as device lists carry
    /// it) and device id. Sending to users ([`Account::send_to_user`]) and accepting sent
    /// transcripts need it.
    pub fn set_own_address(&self, address: &Address) -> Result<(), AccountError> {
        check_user(&address.user)?;
        self.transaction(|tx| {
            tx.put(Table::Meta, OWN_ADDRESS_KEY, &address.to_bytes())?;
            Ok(())
        })
    }

    /// This device's own address, once set.
    pub fn own_address(&self) -> Result<Option<Address>, AccountError> {
        self.transaction(load_own_address)
    }

    /// Accepts a user's signed device list (spec §11), the own user's included (a
    /// companion accepts its primary's lists). The first list of a user pins its user
    /// identity (trust on first use; compare [`Account::user_safety_number`] later); a
    /// list signed by another identity goes through the identity policy and is otherwise
    /// refused with [`AccountError::UntrustedIdentity`]. A list must verify under the
    /// pinned identity; a lower version than the newest accepted, or the same version with
    /// other contents, is refused ([`crate::ErrorKind::StaleDeviceList`]) and changes
    /// nothing; the same list again changes nothing. Sessions with removed devices and
    /// with devices whose key changed are archived and never used to send again.
    pub fn accept_device_list(&self, list: &DeviceList) -> Result<DeviceListChange, AccountError> {
        self.transaction(|tx| self.accept_list_in(tx, list))
    }

    fn accept_list_in(
        &self,
        tx: &mut SealedTx<'_>,
        list: &DeviceList,
    ) -> Result<DeviceListChange, AccountError> {
        let user = list.user.as_slice();
        let claimed = *list
            .user_identity()
            .ok_or(DeviceError::InvalidDeviceCount)?;
        let mut old = load_list(tx, user)?;
        let previous = old.clone();
        match load_user_identity(tx, user)? {
            None => {
                list.verify(&claimed)?;
                tx.put(Table::UserIdentities, user, claimed.as_bytes())?;
            }
            Some(pinned) if pinned == claimed => list.verify(&pinned)?,
            Some(pinned) => {
                let primary = Address::new(user, list.primary_device().unwrap_or(0));
                if !self.policy_trusts(&primary, &pinned, &claimed) {
                    return Err(AccountError::UntrustedIdentity(primary));
                }
                list.verify(&claimed)?;
                self.replace_user_identity(tx, user, &claimed, old.as_ref())?;
                old = None;
            }
        }
        if let Some(old) = &old {
            if list.version < old.version || (list.version == old.version && list != old) {
                return Err(DeviceError::StaleVersion {
                    found: list.version,
                    newest: old.version,
                }
                .into());
            }
            if list == old {
                return Ok(DeviceListChange::default());
            }
        }
        let change = change_between(old.as_ref(), list);
        for device in change.removed.iter().chain(&change.changed) {
            archive_unless(tx, &Address::new(user, *device), None)?;
        }
        // A first list also retires sessions made before it under keys it does not name.
        if old.is_none() {
            for (device, key) in &list.devices {
                archive_unless(tx, &Address::new(user, *device), Some(key.as_bytes()))?;
            }
        }
        // The sender keys received from a device the list no longer names with the same key
        // go with it (spec §12): its later group messages are unknown distributions.
        let gone: Vec<u32> = previous
            .iter()
            .flat_map(|p| &p.devices)
            .filter(|(device, key)| list.device_key(*device) != Some(key))
            .map(|(device, _)| *device)
            .collect();
        super::groups::forget_devices(tx, user, &gone)?;
        tx.put(Table::DeviceLists, user, &list.to_bytes())?;
        Ok(change)
    }

    /// Pins `key` as the user identity of `user` in place of another: the old identity's
    /// list no longer holds, so every session with a device it named is archived, and the
    /// user's devices are refused until a list signed by the new identity is accepted.
    fn replace_user_identity(
        &self,
        tx: &mut SealedTx<'_>,
        user: &[u8],
        key: &IdentityKey,
        old: Option<&DeviceList>,
    ) -> Result<(), AccountError> {
        tx.put(Table::UserIdentities, user, key.as_bytes())?;
        if let Some(old) = old {
            for (device, _) in &old.devices {
                archive_unless(tx, &Address::new(user, *device), None)?;
            }
            tx.delete(Table::DeviceLists, user)?;
        }
        Ok(())
    }

    /// Whether the identity policy trusts `new` in place of `known` for `peer`.
    pub(crate) fn policy_trusts(
        &self,
        peer: &Address,
        known: &IdentityKey,
        new: &IdentityKey,
    ) -> bool {
        self.policy
            .read()
            .map(|p| p.as_ref().is_some_and(|f| f(peer, known, new)))
            .unwrap_or(false)
    }

    /// As the primary device of the own user: certifies `identity` as device `device` of
    /// this account's user (spec §11), signed with this account's identity (the user
    /// identity). Needs the own address.
    pub fn certify_device(
        &self,
        device: u32,
        identity: &IdentityKey,
        issued_at_ms: u64,
    ) -> Result<DeviceCertificate, AccountError> {
        let own = self.own_address()?.ok_or(AccountError::NoOwnAddress)?;
        Ok(DeviceCertificate::sign(
            &self.identity,
            &own.user,
            device,
            identity,
            issued_at_ms,
        )?)
    }

    /// As the primary device of the own user: signs the user's device list of `version`
    /// (spec §11) with this account first and then `companions` (the other devices, in
    /// the order given), and accepts it as the own user's list in the same transaction
    /// (the first one pins this account's identity as the own user identity). Linking a
    /// device is a new list with it, removing one a new list without it. Publish the list
    /// on the relay and send it to the companions. A companion (whose own user identity is
    /// another key) cannot sign: [`crate::ErrorKind::UntrustedIdentity`].
    pub fn sign_device_list(
        &self,
        version: u64,
        companions: &[(u32, IdentityKey)],
    ) -> Result<DeviceList, AccountError> {
        self.transaction(|tx| {
            let own = load_own_address(tx)?.ok_or(AccountError::NoOwnAddress)?;
            // Only the primary signs: a companion, whose own user identity is its
            // primary's, may not replace it with its own key, whatever the policy says.
            if load_user_identity(tx, &own.user)?.is_some_and(|k| k != *self.identity.public()) {
                return Err(DeviceError::PrimaryMismatch.into());
            }
            let mut devices = Vec::with_capacity(companions.len() + 1);
            devices.push((own.device, *self.identity.public()));
            devices.extend_from_slice(companions);
            let list = DeviceList::sign(&self.identity, &own.user, version, devices)?;
            self.accept_list_in(tx, &list)?;
            Ok(list)
        })
    }

    /// The newest device list accepted for `user`, if any.
    pub fn device_list(&self, user: &[u8]) -> Result<Option<DeviceList>, AccountError> {
        check_user(user)?;
        self.transaction(|tx| load_list(tx, user))
    }

    /// The user identity pinned for `user`, if any.
    pub fn user_identity(&self, user: &[u8]) -> Result<Option<IdentityKey>, AccountError> {
        check_user(user)?;
        self.transaction(|tx| load_user_identity(tx, user))
    }

    /// Trusts `key` as the user identity of `user` (after the people compared
    /// [`Account::user_safety_number`]). If it replaces another, the old identity's device
    /// list no longer holds: sessions with the devices it named are archived (never used
    /// to send again) and the user's devices are refused until a list signed by `key` is
    /// accepted.
    pub fn trust_user_identity(&self, user: &[u8], key: &IdentityKey) -> Result<(), AccountError> {
        check_user(user)?;
        self.transaction(|tx| match load_user_identity(tx, user)? {
            Some(pinned) if pinned == *key => Ok(()),
            None => Ok(tx.put(Table::UserIdentities, user, key.as_bytes())?),
            Some(_) => {
                let old = load_list(tx, user)?;
                self.replace_user_identity(tx, user, key, old.as_ref())
            }
        })
    }

    /// The safety number of this account's user and `user`, over user identities (spec
    /// §11): this side's is the own user's pinned identity (a companion's primary), or this
    /// account's identity when none is pinned; `None` until `user`'s identity is pinned.
    pub fn user_safety_number(&self, user: &[u8]) -> Result<Option<SafetyNumber>, AccountError> {
        check_user(user)?;
        self.transaction(|tx| {
            let Some(peer) = load_user_identity(tx, user)? else {
                return Ok(None);
            };
            let own = match load_own_address(tx)? {
                Some(own) => load_user_identity(tx, &own.user)?,
                None => None,
            };
            let own = own.unwrap_or(*self.identity.public());
            Ok(Some(SafetyNumber::new(&own, &peer)))
        })
    }

    /// Starts a session with `peer` from its prekey bundle without sending anything, for
    /// [`Account::send_to_user`]. For a list-bound user the bundle's identity must be the
    /// key the accepted list names for that device; otherwise the per-address identity
    /// trust applies.
    pub fn start_session(&self, peer: &Address, bundle: &PreKeyBundle) -> Result<(), AccountError> {
        super::messaging::check_address(peer)?;
        let _guard = self.peer_locks.lock(peer);
        self.transaction(|tx| {
            self.check_peer(tx, peer, &bundle.identity)?;
            let mut sessions = PeerSessions::load(tx, peer)?;
            let session = Session::initiate(&self.identity, bundle, &mut *tx.rng)?;
            let loaded = sessions.insert_new(tx, session)?;
            sessions.commit(tx, loaded)
        })
    }

    /// The devices a send to `user` would reach that lack a usable session (none, or one
    /// made with a key the accepted list no longer names): the user's listed devices, then
    /// the own user's other devices. Fetch their bundles and call [`Account::start_session`].
    pub fn devices_without_session(&self, user: &[u8]) -> Result<Vec<Address>, AccountError> {
        check_user(user)?;
        self.transaction(|tx| {
            let targets = fanout(tx, user)?;
            let mut out = Vec::new();
            for (to, key, _) in targets {
                let sessions = PeerSessions::load(tx, &to)?;
                if sessions.current_identity() != Some(&key) {
                    out.push(to);
                }
            }
            Ok(out)
        })
    }

    /// Accepts `key` as the identity of `peer` for a new session or a received message:
    /// for a list-bound user, the device must be on the newest accepted list with that key
    /// (a ghost device or a changed key without a new list is refused); otherwise the
    /// per-address trust (first use, then the identity policy) applies.
    pub(crate) fn check_peer(
        &self,
        tx: &mut SealedTx<'_>,
        peer: &Address,
        key: &IdentityKey,
    ) -> Result<(), AccountError> {
        match self.listed_key(tx, peer)? {
            Some(listed) if listed == *key.as_bytes() => Ok(()),
            Some(_) => Err(DeviceError::KeyChanged(peer.device).into()),
            None => self.trust_check(tx, peer, key),
        }
    }

    /// Checks, before sending on an existing session, that its identity `key` is still the
    /// one accepted for `peer`; no policy is consulted.
    pub(crate) fn require_accepted(
        &self,
        tx: &mut SealedTx<'_>,
        peer: &Address,
        key: &IdentityKey,
    ) -> Result<(), AccountError> {
        let accepted = match self.listed_key(tx, peer)? {
            Some(listed) => listed == *key.as_bytes(),
            // The stored bytes are compared as they are: no point decoding per message.
            None => tx
                .get_shared(Table::PeerIdentities, &peer.to_bytes())?
                .is_some_and(|stored| stored.as_slice() == key.as_bytes()),
        };
        if accepted {
            Ok(())
        } else {
            Err(AccountError::SessionNotAccepted(peer.clone()))
        }
    }

    /// For a list-bound user, the key its newest list names for the device (an unlisted
    /// device is refused); `None` for a user whose identity is not pinned.
    pub(crate) fn listed_key(
        &self,
        tx: &mut SealedTx<'_>,
        peer: &Address,
    ) -> Result<Option<[u8; 32]>, AccountError> {
        if tx.get_shared(Table::UserIdentities, &peer.user)?.is_none() {
            return Ok(None);
        }
        let list = load_stored_list(tx, &peer.user)?
            .ok_or_else(|| AccountError::NoDeviceList(peer.user.clone()))?;
        list.key_of(peer.device)
            .copied()
            .map(Some)
            .ok_or_else(|| DeviceError::NotListed(peer.device).into())
    }
}
