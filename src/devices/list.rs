//! `DeviceList = user id len (u8) || user id || version (u64, strictly increasing) ||
//! count (u8, 1..=16) || count x (device id (u32) || IK_dev (32)) || Sig(IK_user,
//! "Bluetick_DeviceList_v1" || every byte before the signature)` (spec §11). The first
//! entry is the primary device, whose key is the user identity that signs the list.

use super::{check_user, DeviceError, Reader};
use crate::constants::{DEVICE_LIST_CONTEXT, MAX_DEVICES_PER_USER};
use crate::identity::{IdentityKey, IdentityKeyPair};

/// A user's signed list of devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceList {
    /// The user id.
    pub user: Vec<u8>,
    /// Strictly increasing with every new list of the user.
    pub version: u64,
    /// `(device id, IK_dev)`, the primary first.
    pub devices: Vec<(u32, IdentityKey)>,
    signature: [u8; 64],
}

impl DeviceList {
    /// Signs a list with the user identity. `devices` must start with the primary device,
    /// whose key is `user_identity`'s public key.
    pub fn sign(
        user_identity: &IdentityKeyPair,
        user: &[u8],
        version: u64,
        devices: Vec<(u32, IdentityKey)>,
    ) -> Result<Self, DeviceError> {
        check_user(user)?;
        check_devices(&devices)?;
        if devices.first().map(|(_, k)| k) != Some(user_identity.public()) {
            return Err(DeviceError::PrimaryMismatch);
        }
        let mut list = Self {
            user: user.to_vec(),
            version,
            devices,
            signature: [0u8; 64],
        };
        list.signature = user_identity.sign(&[DEVICE_LIST_CONTEXT, &list.signed_part()]);
        Ok(list)
    }

    fn signed_part(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(10 + self.user.len() + 36 * self.devices.len());
        out.push(u8::try_from(self.user.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&self.user);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.push(u8::try_from(self.devices.len()).unwrap_or(u8::MAX));
        for (id, key) in &self.devices {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(key.as_bytes());
        }
        out
    }

    /// The list's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.signed_part();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Strictly parses a list: 1 to 16 distinct devices with valid keys. The signature
    /// is checked by [`DeviceList::verify`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DeviceError> {
        let mut r = Reader { buf: bytes };
        let user = r.user()?;
        let version = r.u64()?;
        let count = usize::from(r.u8()?);
        if count == 0 || count > MAX_DEVICES_PER_USER {
            return Err(DeviceError::InvalidDeviceCount);
        }
        let mut devices = Vec::with_capacity(count);
        for _ in 0..count {
            let id = r.u32()?;
            let key = IdentityKey::from_bytes(&r.array()?)
                .map_err(|_| DeviceError::InvalidIdentityKey)?;
            devices.push((id, key));
        }
        check_devices(&devices)?;
        let signature = r.array()?;
        r.finish()?;
        Ok(Self {
            user,
            version,
            devices,
            signature,
        })
    }

    /// The user identity the list claims: the primary's key, its first entry.
    pub fn user_identity(&self) -> Option<&IdentityKey> {
        self.devices.first().map(|(_, k)| k)
    }

    /// The primary device's id.
    pub fn primary_device(&self) -> Option<u32> {
        self.devices.first().map(|(d, _)| *d)
    }

    /// The identity key of device `device`, if the list names it.
    pub fn device_key(&self, device: u32) -> Option<&IdentityKey> {
        self.devices
            .iter()
            .find(|(d, _)| *d == device)
            .map(|(_, k)| k)
    }

    /// Accepts `device` with `identity` only if this list names that device with that key:
    /// a relay cannot add a ghost device, and a changed device key is refused until a newer
    /// signed list names it. Call it on a list that verified under the pinned user identity.
    pub fn check_device(&self, device: u32, identity: &IdentityKey) -> Result<(), DeviceError> {
        match self.device_key(device) {
            None => Err(DeviceError::NotListed(device)),
            Some(listed) if listed != identity => Err(DeviceError::KeyChanged(device)),
            Some(_) => Ok(()),
        }
    }

    /// Verifies the list under the pinned user identity: its first entry must be that
    /// identity and the signature must verify under it (strict Ed25519).
    pub fn verify(&self, user_identity: &IdentityKey) -> Result<(), DeviceError> {
        if self.user_identity() != Some(user_identity) {
            return Err(DeviceError::PrimaryMismatch);
        }
        if user_identity.verify(&[DEVICE_LIST_CONTEXT, &self.signed_part()], &self.signature) {
            Ok(())
        } else {
            Err(DeviceError::BadSignature)
        }
    }

    /// Verifies the list as a replacement for `current` (the newest accepted list of the
    /// same user): same user, same user identity, strictly higher version.
    pub fn verify_update(&self, current: &DeviceList) -> Result<(), DeviceError> {
        let identity = current
            .user_identity()
            .ok_or(DeviceError::PrimaryMismatch)?;
        if self.user != current.user {
            return Err(DeviceError::InvalidUserId);
        }
        self.verify(identity)?;
        if self.version <= current.version {
            return Err(DeviceError::StaleVersion {
                found: self.version,
                newest: current.version,
            });
        }
        Ok(())
    }
}

fn check_devices(devices: &[(u32, IdentityKey)]) -> Result<(), DeviceError> {
    if devices.is_empty() || devices.len() > MAX_DEVICES_PER_USER {
        return Err(DeviceError::InvalidDeviceCount);
    }
    for (i, (id, _)) in devices.iter().enumerate() {
        if devices.iter().skip(i + 1).any(|(other, _)| other == id) {
            return Err(DeviceError::DuplicateDevice(*id));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::os_rng;

    fn keys(n: usize) -> Vec<IdentityKeyPair> {
        let mut rng = os_rng();
        (0..n)
            .map(|_| IdentityKeyPair::generate(&mut rng))
            .collect()
    }

    #[test]
    fn list_round_trips_verifies_and_refuses_every_change() {
        let k = keys(3);
        let devices = vec![(1, *k[0].public()), (7, *k[1].public())];
        let list = DeviceList::sign(&k[0], b"alice", 3, devices).unwrap();
        let bytes = list.to_bytes();
        assert_eq!(bytes.len(), 1 + 5 + 8 + 1 + 2 * 36 + 64);
        let back = DeviceList::from_bytes(&bytes).unwrap();
        assert_eq!(back, list);
        back.verify(k[0].public()).unwrap();
        assert_eq!(back.device_key(7), Some(k[1].public()));
        assert_eq!(back.primary_device(), Some(1));
        // Under another identity: refused.
        assert_eq!(
            back.verify(k[2].public()),
            Err(DeviceError::PrimaryMismatch)
        );
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            let ok = DeviceList::from_bytes(&b).and_then(|l| l.verify(k[0].public()));
            assert!(ok.is_err(), "byte {i} flipped and accepted");
        }
        for n in 0..bytes.len() {
            assert!(DeviceList::from_bytes(&bytes[..n]).is_err());
        }
    }

    #[test]
    fn only_listed_devices_with_their_listed_keys_are_accepted() {
        let k = keys(3);
        let list = DeviceList::sign(
            &k[0],
            b"alice",
            1,
            vec![(1, *k[0].public()), (2, *k[1].public())],
        )
        .unwrap();
        list.check_device(1, k[0].public()).unwrap();
        list.check_device(2, k[1].public()).unwrap();
        assert_eq!(
            list.check_device(3, k[2].public()),
            Err(DeviceError::NotListed(3))
        );
        assert_eq!(
            list.check_device(2, k[2].public()),
            Err(DeviceError::KeyChanged(2))
        );
        assert_eq!(
            DeviceError::NotListed(3).kind(),
            crate::ErrorKind::DeviceNotListed
        );
    }

    #[test]
    fn the_primary_signs_and_leads_the_list() {
        let k = keys(2);
        assert_eq!(
            DeviceList::sign(&k[0], b"alice", 1, vec![(1, *k[1].public())]),
            Err(DeviceError::PrimaryMismatch)
        );
        // A list signed by a companion for itself does not verify under the user identity.
        let forged = DeviceList::sign(&k[1], b"alice", 9, vec![(2, *k[1].public())]).unwrap();
        assert_eq!(
            forged.verify(k[0].public()),
            Err(DeviceError::PrimaryMismatch)
        );
    }

    #[test]
    fn limits_of_sixteen_devices_and_distinct_ids() {
        let k = keys(17);
        let seventeen: Vec<_> = k
            .iter()
            .zip(0u32..)
            .map(|(k, i)| (i, *k.public()))
            .collect();
        assert_eq!(
            DeviceList::sign(&k[0], b"u", 1, seventeen.clone()),
            Err(DeviceError::InvalidDeviceCount)
        );
        let sixteen = seventeen[..16].to_vec();
        let list = DeviceList::sign(&k[0], b"u", 1, sixteen).unwrap();
        assert_eq!(DeviceList::from_bytes(&list.to_bytes()).unwrap(), list);
        assert_eq!(
            DeviceList::sign(
                &k[0],
                b"u",
                1,
                vec![(1, *k[0].public()), (1, *k[1].public())]
            ),
            Err(DeviceError::DuplicateDevice(1))
        );
        assert_eq!(
            DeviceList::sign(&k[0], &[b'x'; 65], 1, vec![(1, *k[0].public())]),
            Err(DeviceError::InvalidUserId)
        );
        // A count byte of 17 on the wire.
        let mut bytes = DeviceList::sign(&k[0], b"u", 1, vec![(1, *k[0].public())])
            .unwrap()
            .to_bytes();
        bytes[10] = 17;
        assert_eq!(
            DeviceList::from_bytes(&bytes),
            Err(DeviceError::InvalidDeviceCount)
        );
    }

    #[test]
    fn only_a_higher_version_replaces_a_list() {
        let k = keys(3);
        let v1 = DeviceList::sign(&k[0], b"a", 1, vec![(1, *k[0].public())]).unwrap();
        let v2 = DeviceList::sign(
            &k[0],
            b"a",
            2,
            vec![(1, *k[0].public()), (2, *k[1].public())],
        )
        .unwrap();
        v2.verify_update(&v1).unwrap();
        assert_eq!(
            v1.verify_update(&v2),
            Err(DeviceError::StaleVersion {
                found: 1,
                newest: 2
            })
        );
        assert_eq!(
            v2.verify_update(&v2),
            Err(DeviceError::StaleVersion {
                found: 2,
                newest: 2
            })
        );
        // A ghost list by another key with a higher version: refused.
        let ghost = DeviceList::sign(&k[2], b"a", 9, vec![(1, *k[2].public())]).unwrap();
        assert_eq!(ghost.verify_update(&v2), Err(DeviceError::PrimaryMismatch));
    }
}
