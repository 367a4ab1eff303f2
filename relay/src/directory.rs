//! The directory's rules: which device may take an address, present a certificate or
//! publish a device list (spec §11). The backend stores; these functions decide.

use bluetick::relay_protocol::ErrorCode;
use bluetick::{Address, DeviceCertificate, DeviceList, IdentityKey};

use crate::backend::{Binding, RelayBackend};

/// Admits an authenticated device (its signature already verified): a device the user's
/// signed list names must hold the key the list names; the address is bound to the key on
/// first use and refused to any other key; a certificate must name this address and key
/// and verify under the user identity of the stored list.
pub fn admit(
    b: &dyn RelayBackend,
    who: &Address,
    key: &IdentityKey,
    identity: &[u8; 32],
    certificate: Option<Vec<u8>>,
    max_devices: usize,
) -> Result<(), ErrorCode> {
    let internal = |_| ErrorCode::Internal;
    let list = b.device_list(&who.user).map_err(internal)?;
    let list = list.and_then(|l| DeviceList::from_bytes(&l).ok());
    // A device the user's signed list names must hold the key it names.
    if let Some(list) = &list {
        if list.device_key(who.device).is_some_and(|k| k != key) {
            return Err(ErrorCode::AuthenticationFailed);
        }
    }
    match b.bind(who, identity, max_devices).map_err(internal)? {
        Binding::New | Binding::Same => {}
        Binding::Other => return Err(ErrorCode::AuthenticationFailed),
        Binding::TooManyDevices => return Err(ErrorCode::Forbidden),
    }
    if let Some(cert) = certificate {
        let parsed =
            DeviceCertificate::from_bytes(&cert).map_err(|_| ErrorCode::InvalidCertificate)?;
        let user_identity = list
            .as_ref()
            .and_then(|l| l.user_identity().copied())
            .ok_or(ErrorCode::InvalidCertificate)?;
        if parsed.user != who.user || parsed.device != who.device || parsed.identity != *key {
            return Err(ErrorCode::InvalidCertificate);
        }
        parsed
            .verify(&user_identity)
            .map_err(|_| ErrorCode::InvalidCertificate)?;
        b.store_certificate(who, &cert).map_err(internal)?;
    }
    Ok(())
}

/// Accepts a device list from a device of its user: the first list of a user must be
/// published by its primary (the list's first entry, the key that signs it); a later list
/// must verify under the stored list's user identity and carry a higher version.
pub fn publish_device_list(
    b: &dyn RelayBackend,
    me: &Address,
    bytes: &[u8],
) -> Result<(), ErrorCode> {
    let list = DeviceList::from_bytes(bytes).map_err(|_| ErrorCode::InvalidDeviceList)?;
    if list.user != me.user {
        return Err(ErrorCode::Forbidden);
    }
    let stored = b.device_list(&me.user).map_err(|_| ErrorCode::Internal)?;
    match &stored {
        Some(current) => {
            let current = DeviceList::from_bytes(current).map_err(|_| ErrorCode::Internal)?;
            list.verify_update(&current).map_err(|e| match e {
                bluetick::DeviceError::StaleVersion { .. } => ErrorCode::StaleDeviceList,
                _ => ErrorCode::InvalidDeviceList,
            })?;
        }
        None => {
            let primary = list.primary_device().ok_or(ErrorCode::InvalidDeviceList)?;
            let identity = list.user_identity().ok_or(ErrorCode::InvalidDeviceList)?;
            let bound = b.identity(me).map_err(|_| ErrorCode::Internal)?;
            if primary != me.device || bound.as_ref() != Some(identity.as_bytes()) {
                return Err(ErrorCode::Forbidden);
            }
            list.verify(identity)
                .map_err(|_| ErrorCode::InvalidDeviceList)?;
        }
    }
    if b.replace_device_list(&me.user, stored.as_deref(), bytes)
        .map_err(|_| ErrorCode::Internal)?
    {
        Ok(())
    } else {
        // Another list was stored meanwhile; the device may fetch it and try again.
        Err(ErrorCode::StaleDeviceList)
    }
}
