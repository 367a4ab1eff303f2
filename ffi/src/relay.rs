//! The relay client for C: the core crate's sans-IO connection state machine
//! ([`ClientConnection`], `docs/relay.md`) behind a `bt_relay_client` handle. The app owns
//! the socket: it feeds received frames in, writes the frames the client produces, and
//! acts on the events. Time comes from the caller; the jitter of the reconnection backoff
//! comes from the OS random generator here, so the core stays sans-IO.

use core::ffi::{c_char, CStr};
use std::sync::{Mutex, MutexGuard};

use bluetick::relay_protocol::{
    Backoff, ClientConfig, ClientConnection, ClientError, ConnectionState, ErrorCode, Event,
    MAX_DEVICES, MAX_FRAME_LEN, MAX_RECIPIENTS, MAX_USER_ID_LEN,
};
use bluetick::MessageId;

use crate::account::bt_account;
use crate::boundary::{boundary, guard, FfiError};
use crate::buffer::bt_buffer;
use crate::messaging::BT_MESSAGE_ID_LEN;
use crate::ptr::{self, Handle};
use crate::status::bt_status;

/// One device's connection to the relay, as a state machine without I/O: made by
/// `bt_relay_client_new`, freed by `bt_relay_client_free`. It keeps the outbox (wires
/// awaiting the relay's `Sent`, resent after every reconnect), the acknowledgements of
/// committed deliveries, the pending requests and the reconnection schedule.
///
/// Thread-safe: it locks inside, so a socket thread may feed and drain it while another
/// thread sends. Only `bt_relay_client_free` must not overlap any other use.
pub struct bt_relay_client {
    conn: Mutex<ClientConnection>,
}

impl Handle for bt_relay_client {
    const NAME: &'static str = "client";
}

/// The reconnection schedule: the delay before attempt `n` (0 for the first retry) is
/// `min(2^n * base_ms, max_ms) + random(0, jitter_ms)` milliseconds. Pass null for the
/// defaults (250 ms, 30 s, 1 s); `bt_relay_backoff_default` fills one in.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct bt_relay_backoff {
    /// Delay of the first retry before jitter, in milliseconds.
    pub base_ms: u64,
    /// Largest delay before jitter, in milliseconds.
    pub max_ms: u64,
    /// Largest random addition, in milliseconds (0 for none).
    pub jitter_ms: u64,
}

impl From<bt_relay_backoff> for Backoff {
    fn from(b: bt_relay_backoff) -> Self {
        Backoff {
            base_ms: b.base_ms,
            max_ms: b.max_ms,
            jitter_ms: b.jitter_ms,
        }
    }
}

impl From<Backoff> for bt_relay_backoff {
    fn from(b: Backoff) -> Self {
        bt_relay_backoff {
            base_ms: b.base_ms,
            max_ms: b.max_ms,
            jitter_ms: b.jitter_ms,
        }
    }
}

/// `bt_relay_client_state`: no socket; the next attempt is due at
/// `bt_relay_client_reconnect_at_ms`.
pub const BT_RELAY_DISCONNECTED: u32 = 0;
/// `bt_relay_client_state`: socket open, waiting for the relay's challenge.
pub const BT_RELAY_AWAITING_CHALLENGE: u32 = 1;
/// `bt_relay_client_state`: challenge answered, waiting for the relay's welcome.
pub const BT_RELAY_AUTHENTICATING: u32 = 2;
/// `bt_relay_client_state`: authenticated; sends, requests and acknowledgements flow.
pub const BT_RELAY_READY: u32 = 3;

/// `bt_relay_event.kind`: no event is waiting.
pub const BT_RELAY_EVENT_NONE: u32 = 0;
/// Authenticated; `queued` deliveries follow.
pub const BT_RELAY_EVENT_READY: u32 = 1;
/// The relay stored the wire `id` for every recipient: `bt_account_mark_sent` it.
pub const BT_RELAY_EVENT_SENT: u32 = 2;
/// The relay refused the wire `id` (`code`); it left the outbox.
pub const BT_RELAY_EVENT_SEND_FAILED: u32 = 3;
/// A wire from `(sender_user, sender_device)`: decrypt it, then
/// `bt_relay_client_committed(id)`.
pub const BT_RELAY_EVENT_DELIVERY: u32 = 4;
/// The answer to `bt_relay_client_fetch_bundle` number `request`.
pub const BT_RELAY_EVENT_BUNDLE: u32 = 5;
/// The answer to `bt_relay_client_fetch_devices` number `request`.
pub const BT_RELAY_EVENT_DEVICES: u32 = 6;
/// An upload or a device list publication (`request`) succeeded.
pub const BT_RELAY_EVENT_DONE: u32 = 7;
/// The relay refused request `request` (`code`).
pub const BT_RELAY_EVENT_REQUEST_FAILED: u32 = 8;
/// The relay closed the connection with error `code`: close the socket and call
/// `bt_relay_client_disconnected`.
pub const BT_RELAY_EVENT_CONNECTION_FAILED: u32 = 9;

/// Relay error code: the frame could not be parsed (fatal).
pub const BT_RELAY_ERROR_MALFORMED: u8 = 0x01;
/// Relay error code: the frame exceeded 1 MiB (fatal).
pub const BT_RELAY_ERROR_OVERSIZE: u8 = 0x02;
/// Relay error code: a request before authentication (fatal).
pub const BT_RELAY_ERROR_UNAUTHENTICATED: u8 = 0x03;
/// Relay error code: bad signature, or the address is bound to another identity (fatal).
pub const BT_RELAY_ERROR_AUTHENTICATION_FAILED: u8 = 0x04;
/// Relay error code: too many frames too fast (fatal).
pub const BT_RELAY_ERROR_FLOOD: u8 = 0x05;
/// Relay error code: a frame this side never receives (fatal).
pub const BT_RELAY_ERROR_UNEXPECTED_FRAME: u8 = 0x06;
/// Relay error code: the relay cannot serve now; reconnect later (fatal).
pub const BT_RELAY_ERROR_UNAVAILABLE: u8 = 0x07;
/// Relay error code: a recipient is not a device the relay knows.
pub const BT_RELAY_ERROR_UNKNOWN_RECIPIENT: u8 = 0x10;
/// Relay error code: a recipient's queue is full; send later.
pub const BT_RELAY_ERROR_QUEUE_FULL: u8 = 0x11;
/// Relay error code: no prekeys stored for that address.
pub const BT_RELAY_ERROR_NO_BUNDLE: u8 = 0x12;
/// Relay error code: too many bundle fetches; wait.
pub const BT_RELAY_ERROR_RATE_LIMITED: u8 = 0x13;
/// Relay error code: the prekey upload does not parse, verify or match the identity.
pub const BT_RELAY_ERROR_INVALID_UPLOAD: u8 = 0x14;
/// Relay error code: the device list does not parse or verify.
pub const BT_RELAY_ERROR_INVALID_DEVICE_LIST: u8 = 0x15;
/// Relay error code: the device list's version is not above the stored one.
pub const BT_RELAY_ERROR_STALE_DEVICE_LIST: u8 = 0x16;
/// Relay error code: the certificate does not parse, match or verify.
pub const BT_RELAY_ERROR_INVALID_CERTIFICATE: u8 = 0x17;
/// Relay error code: the request concerns another user.
pub const BT_RELAY_ERROR_FORBIDDEN: u8 = 0x18;
/// Relay error code: the relay's storage failed for this request; try again.
pub const BT_RELAY_ERROR_INTERNAL: u8 = 0x19;

/// One event of the relay client, tagged by `kind` (a `BT_RELAY_EVENT_*` value). Only the
/// fields the kind names are set; the others are zero or empty. The caller owns the
/// buffers inside and frees them with one `bt_relay_event_free`.
#[repr(C)]
#[derive(Debug)]
pub struct bt_relay_event {
    /// One of `BT_RELAY_EVENT_*`.
    pub kind: u32,
    /// `READY`: messages waiting in this device's queue (they follow as deliveries).
    pub queued: u32,
    /// `SENT`, `SEND_FAILED`, `DELIVERY`: the wire's message id.
    pub id: [u8; 16],
    /// `BUNDLE`, `DEVICES`, `DONE`, `REQUEST_FAILED`: the request answered.
    pub request: u32,
    /// `SEND_FAILED`, `REQUEST_FAILED`, `CONNECTION_FAILED`: a `BT_RELAY_ERROR_*` code.
    pub code: u8,
    /// `DELIVERY`: the authenticated sender's user id. Owned.
    pub sender_user: bt_buffer,
    /// `DELIVERY`: the sender's device.
    pub sender_device: u32,
    /// `DELIVERY`: the wire message, for `bt_account_decrypt`. Owned.
    pub wire: bt_buffer,
    /// `BUNDLE`: `PreKeyBundle` bytes, for `bt_account_encrypt`. Owned.
    pub bundle: bt_buffer,
    /// `BUNDLE`: the device's certificate; empty when it has none. Owned.
    pub certificate: bt_buffer,
    /// `BUNDLE`, `DEVICES`: the user's signed device list; empty when none was
    /// published. Owned.
    pub device_list: bt_buffer,
    /// `DEVICES`: the device ids with prekeys at the relay, ascending.
    pub devices: [u32; 16],
    /// `DEVICES`: how many of `devices` are set (at most 16).
    pub device_count: usize,
}

const _: () = assert!(MAX_DEVICES == 16 && BT_MESSAGE_ID_LEN == 16);

impl bt_relay_event {
    const EMPTY: Self = Self {
        kind: BT_RELAY_EVENT_NONE,
        queued: 0,
        id: [0; 16],
        request: 0,
        code: 0,
        sender_user: bt_buffer::EMPTY,
        sender_device: 0,
        wire: bt_buffer::EMPTY,
        bundle: bt_buffer::EMPTY,
        certificate: bt_buffer::EMPTY,
        device_list: bt_buffer::EMPTY,
        devices: [0; 16],
        device_count: 0,
    };

    fn of(event: Event) -> Self {
        let optional = |b: Option<Vec<u8>>| b.map_or(bt_buffer::EMPTY, bt_buffer::from_vec);
        match event {
            Event::Ready { queued } => Self {
                kind: BT_RELAY_EVENT_READY,
                queued,
                ..Self::EMPTY
            },
            Event::Sent(id) => Self {
                kind: BT_RELAY_EVENT_SENT,
                id: id.0,
                ..Self::EMPTY
            },
            Event::SendFailed { id, code } => Self {
                kind: BT_RELAY_EVENT_SEND_FAILED,
                id: id.0,
                code: code.to_byte(),
                ..Self::EMPTY
            },
            Event::Delivery { sender, id, wire } => Self {
                kind: BT_RELAY_EVENT_DELIVERY,
                id: id.0,
                sender_user: bt_buffer::from_vec(sender.user),
                sender_device: sender.device,
                wire: bt_buffer::from_vec(wire),
                ..Self::EMPTY
            },
            Event::Bundle {
                request,
                bundle,
                certificate,
                device_list,
            } => Self {
                kind: BT_RELAY_EVENT_BUNDLE,
                request,
                bundle: bt_buffer::from_vec(bundle),
                certificate: optional(certificate),
                device_list: optional(device_list),
                ..Self::EMPTY
            },
            Event::Devices {
                request,
                devices,
                device_list,
            } => {
                let mut out = Self {
                    kind: BT_RELAY_EVENT_DEVICES,
                    request,
                    device_list: optional(device_list),
                    ..Self::EMPTY
                };
                // The codec refuses more than 16 device ids, so none is dropped here.
                for (slot, d) in out.devices.iter_mut().zip(&devices) {
                    *slot = *d;
                    out.device_count += 1;
                }
                out
            }
            Event::Done { request } => Self {
                kind: BT_RELAY_EVENT_DONE,
                request,
                ..Self::EMPTY
            },
            Event::RequestFailed { request, code } => Self {
                kind: BT_RELAY_EVENT_REQUEST_FAILED,
                request,
                code: code.to_byte(),
                ..Self::EMPTY
            },
            Event::ConnectionFailed { code } => Self {
                kind: BT_RELAY_EVENT_CONNECTION_FAILED,
                code: code.to_byte(),
                ..Self::EMPTY
            },
        }
    }
}

/// A recipient of `bt_relay_client_send`: a device address, borrowed for the call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct bt_relay_recipient {
    /// The user id (`user_len` bytes, 1 to 64; null only when `user_len` is 0).
    pub user: *const u8,
    /// The length of `user`.
    pub user_len: usize,
    /// The device number.
    pub device: u32,
}

impl From<ClientError> for FfiError {
    fn from(e: ClientError) -> Self {
        let status = match e {
            ClientError::NotConnected => bt_status::BT_RELAY_NOT_CONNECTED,
            _ => bt_status::BT_RELAY_PROTOCOL,
        };
        Self::Status {
            status,
            message: e.to_string(),
        }
    }
}

fn lock(client: &bt_relay_client) -> Result<MutexGuard<'_, ClientConnection>, FfiError> {
    client.conn.lock().map_err(|_| {
        FfiError::InvalidArgument(
            "the relay client is unusable after a failure inside the library; free it and make a new one"
                .to_owned(),
        )
    })
}

/// Bytes a frame takes around its payloads at most (type, tokens, counts, lengths, a
/// request id, a device number).
const FRAME_OVERHEAD: usize = 64;

/// Refuses a user id the relay would refuse (1 to 64 bytes) before it enters the outbox or
/// the requests, where it would be resent after every reconnect.
fn check_user(user: &[u8], what: &str) -> Result<(), FfiError> {
    if user.is_empty() || user.len() > MAX_USER_ID_LEN {
        return Err(FfiError::InvalidArgument(format!(
            "{what} is {} bytes; the relay takes user ids of 1 to {MAX_USER_ID_LEN} bytes",
            user.len()
        )));
    }
    Ok(())
}

/// Refuses a frame whose payloads (`len` bytes) would pass the relay's frame limit.
fn check_size(len: usize, what: &str) -> Result<(), FfiError> {
    if len.saturating_add(FRAME_OVERHEAD) > MAX_FRAME_LEN {
        return Err(FfiError::InvalidArgument(format!(
            "{what} takes {len} bytes; a relay frame holds at most {MAX_FRAME_LEN} bytes in all"
        )));
    }
    Ok(())
}

/// Writes the default backoff to `*out` (250 ms doubling up to 30 s, plus up to 1 s of
/// jitter).
///
/// # Safety
/// `out` null or a writable `bt_relay_backoff`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_backoff_default(out: *mut bt_relay_backoff) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantee on `out`.
        unsafe { ptr::out(out, "out", Backoff::default().into()) }?;
        Ok(())
    })
}

/// Makes a relay client for this device `(user, user_len, device)` (user 1 to 64 bytes,
/// else `BT_INVALID_ARGUMENT`) into a new handle `*out` (null on failure). `certificate`
/// is the device's certificate (spec §11) for a companion device, or null with length 0
/// for none; `backoff` null for the defaults. The client starts disconnected, its first
/// attempt due at once.
///
/// # Safety
/// `(user, user_len)` and `(certificate, certificate_len)` byte inputs; `backoff` null or
/// a readable `bt_relay_backoff`; `out` null or a writable `bt_relay_client *`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_new(
    user: *const u8,
    user_len: usize,
    device: u32,
    certificate: *const u8,
    certificate_len: usize,
    backoff: *const bt_relay_backoff,
    out: *mut *mut bt_relay_client,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, address, certificate) = unsafe {
            (
                ptr::out(out, "out", core::ptr::null_mut())?,
                ptr::address(user, user_len, device)?,
                ptr::bytes(certificate, certificate_len, "certificate")?,
            )
        };
        // SAFETY: null or a readable, aligned `bt_relay_backoff` (three `uint64_t`, valid
        // for any bits).
        let backoff = unsafe { backoff.as_ref() }.map_or_else(Backoff::default, |b| (*b).into());
        check_user(&address.user, "this device's user id")?;
        // The Authenticate frame carries the certificate with the address, the identity key
        // (32 bytes) and the signature (64).
        check_size(
            certificate.len() + address.user.len() + 5 + 32 + 64,
            "the certificate",
        )?;
        let certificate = (!certificate.is_empty()).then(|| certificate.to_vec());
        let conn = ClientConnection::new(ClientConfig {
            address,
            certificate,
            backoff,
        });
        *out = bt_relay_client {
            conn: Mutex::new(conn),
        }
        .into_raw();
        Ok(())
    })
}

/// Frees the client (its outbox with it: wires not yet acknowledged are gone; the account
/// still holds them as `BT_MESSAGE_PENDING`). Null is a no-op.
///
/// # Safety
/// `client` null or a live handle that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_free(client: *mut bt_relay_client) {
    // SAFETY: the caller's guarantee.
    guard((), || unsafe { bt_relay_client::free(client) });
}

/// Borrows and locks a client.
///
/// # Safety
/// As [`Handle::borrow`].
unsafe fn with<T>(
    client: *const bt_relay_client,
    f: impl FnOnce(&mut ClientConnection) -> T,
) -> Result<T, FfiError> {
    // SAFETY: forwarded from the caller.
    let client = unsafe { bt_relay_client::borrow(client) }?;
    let mut conn = lock(client)?;
    Ok(f(&mut conn))
}

/// The socket is open: the client waits for the relay's challenge. Frames not yet written
/// from an earlier connection are dropped (what matters is sent again after
/// authentication).
///
/// # Safety
/// `client` null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_connected(client: *const bt_relay_client) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantee.
        unsafe { with(client, |c| c.connected()) }
    })
}

/// The socket closed, or could not be opened, at `now_ms` (any monotonic clock in
/// milliseconds, the same for every call): the next attempt is scheduled with the jittered
/// backoff (jitter from the OS random generator). `*out_delay_ms` receives the delay.
///
/// # Safety
/// `client` null or a live handle; `out_delay_ms` null or a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_disconnected(
    client: *const bt_relay_client,
    now_ms: u64,
    out_delay_ms: *mut u64,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let out = unsafe { ptr::out(out_delay_ms, "out_delay_ms", 0) }?;
        // SAFETY: as above.
        *out = unsafe { with(client, |c| c.disconnected(now_ms, &mut bluetick::os_rng())) }?;
        Ok(())
    })
}

/// Feeds one frame received from the relay (one binary WebSocket message, whole). The
/// relay's challenge is answered with a signature by `account`'s identity key, which never
/// leaves the account. Afterwards write every `bt_relay_client_poll_transmit` frame and
/// handle every `bt_relay_client_poll_event`.
///
/// `BT_RELAY_PROTOCOL` when the frame is malformed, out of place or of another protocol
/// version: an error frame for the relay is queued; write it, close the socket and call
/// `bt_relay_client_disconnected`. `BT_RELAY_NOT_CONNECTED` before
/// `bt_relay_client_connected`.
///
/// # Safety
/// `client` and `account` null or live handles; `(frame, frame_len)` a byte input.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_receive(
    client: *const bt_relay_client,
    account: *const bt_account,
    frame: *const u8,
    frame_len: usize,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (account, frame) = unsafe {
            (
                bt_account::borrow(account)?,
                ptr::bytes(frame, frame_len, "frame")?,
            )
        };
        // SAFETY: as above.
        unsafe { with(client, |c| c.receive(frame, &account.account)) }??;
        Ok(())
    })
}

/// Takes the next frame to write to the socket into `*out_frame` (free it with
/// `bt_buffer_free`), or leaves it empty when there is none. Frames are never empty, so
/// `out_frame->len == 0` means "nothing to write now". Committed deliveries are
/// acknowledged here, batched into one frame.
///
/// # Safety
/// `client` null or a live handle; `out_frame` null or a writable `bt_buffer`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_poll_transmit(
    client: *const bt_relay_client,
    out_frame: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let out = unsafe { ptr::out(out_frame, "out_frame", bt_buffer::EMPTY) }?;
        // SAFETY: as above.
        if let Some(frame) = unsafe { with(client, |c| c.poll_transmit()) }? {
            *out = bt_buffer::from_vec(frame);
        }
        Ok(())
    })
}

/// Takes the next event into `*out` (see `bt_relay_event`); `out->kind` is
/// `BT_RELAY_EVENT_NONE` when there is none. Free it with `bt_relay_event_free`.
///
/// # Safety
/// `client` null or a live handle; `out` null or a writable `bt_relay_event`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_poll_event(
    client: *const bt_relay_client,
    out: *mut bt_relay_event,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let out = unsafe { ptr::out(out, "out", bt_relay_event::EMPTY) }?;
        // SAFETY: as above.
        if let Some(event) = unsafe { with(client, |c| c.poll_event()) }? {
            *out = bt_relay_event::of(event);
        }
        Ok(())
    })
}

/// Frees the buffers inside `*event` and zeroes them, so a second call does nothing. The
/// struct itself belongs to the caller. Null is a no-op.
///
/// # Safety
/// `event` null or a `bt_relay_event` written by `bt_relay_client_poll_event` whose buffers
/// were not freed through another copy.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_event_free(event: *mut bt_relay_event) {
    guard((), || {
        if event.is_null() {
            return;
        }
        // Only the buffers are touched, through raw field pointers.
        // SAFETY: `event` is non-null and points to a caller-owned `bt_relay_event`.
        let buffers = unsafe {
            [
                &mut *core::ptr::addr_of_mut!((*event).sender_user),
                &mut *core::ptr::addr_of_mut!((*event).wire),
                &mut *core::ptr::addr_of_mut!((*event).bundle),
                &mut *core::ptr::addr_of_mut!((*event).certificate),
                &mut *core::ptr::addr_of_mut!((*event).device_list),
            ]
        };
        for b in buffers {
            // SAFETY: written by `bt_relay_client_poll_event` and unfreed.
            unsafe { b.release() };
        }
    });
}

/// Queues `wire` (1 byte to under 1 MiB) for `recipient_count` devices (1 to 4096: one
/// for a pairwise wire, many for a group wire; user ids 1 to 64 bytes), and writes its
/// 16-byte id to `out_id`. It stays in the outbox, and is sent again after every reconnect,
/// until `BT_RELAY_EVENT_SENT` or `BT_RELAY_EVENT_SEND_FAILED` names the id. Sending the
/// same wire twice queues it once. Values the relay would refuse are `BT_INVALID_ARGUMENT`.
///
/// # Safety
/// `client` null or a live handle; `recipients` null only when `recipient_count` is 0,
/// else that many readable `bt_relay_recipient`s whose user pointers are byte inputs;
/// `(wire, wire_len)` a byte input; `out_id` null or 16 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_send(
    client: *const bt_relay_client,
    recipients: *const bt_relay_recipient,
    recipient_count: usize,
    wire: *const u8,
    wire_len: usize,
    out_id: *mut u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out_id, list, wire) = unsafe {
            (
                ptr::out_array::<BT_MESSAGE_ID_LEN>(out_id, "out_id")?,
                ptr::slice(recipients, recipient_count, "recipients")?,
                ptr::bytes(wire, wire_len, "wire")?,
            )
        };
        if list.is_empty() || list.len() > MAX_RECIPIENTS {
            return Err(FfiError::InvalidArgument(format!(
                "{} recipients; a send names 1 to {MAX_RECIPIENTS}",
                list.len()
            )));
        }
        if wire.is_empty() {
            return Err(FfiError::InvalidArgument(
                "the wire is empty; pass the bytes bt_account_encrypt returned".to_owned(),
            ));
        }
        let mut size = wire.len();
        let mut recipients = Vec::with_capacity(list.len());
        for r in list {
            // SAFETY: each recipient's user is a byte input, per the caller's guarantee.
            let address = unsafe { ptr::address(r.user, r.user_len, r.device) }?;
            check_user(&address.user, "a recipient's user id")?;
            size = size.saturating_add(address.user.len() + 5);
            recipients.push(address);
        }
        check_size(size, "the send")?;
        let wire = wire.to_vec();
        // SAFETY: as above.
        *out_id = unsafe { with(client, |c| c.send(recipients, wire)) }?.0;
        Ok(())
    })
}

/// The account committed the delivery `id` (16 bytes; after `bt_account_decrypt`
/// returned, also when it reported a duplicate or `BT_ALREADY_RECEIVED`): only now may
/// the relay delete it. The acknowledgement goes out with the next
/// `bt_relay_client_poll_transmit` while authenticated, else after the next
/// authentication.
///
/// # Safety
/// `client` null or a live handle; `id` null or 16 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_committed(
    client: *const bt_relay_client,
    id: *const u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let id = MessageId(*unsafe { ptr::array::<BT_MESSAGE_ID_LEN>(id, "id") }?);
        // SAFETY: as above.
        unsafe { with(client, |c| c.committed(id)) }
    })
}

/// Queues a request with `send` and writes its id to `*out_request`.
///
/// # Safety
/// As [`with`] for `client`.
unsafe fn request(
    client: *const bt_relay_client,
    out: &mut u32,
    send: impl FnOnce(&mut ClientConnection) -> u32,
) -> Result<(), FfiError> {
    // SAFETY: forwarded from the caller.
    *out = unsafe { with(client, send) }?;
    Ok(())
}

/// Uploads prekeys (`PreKeyUpload` bytes from `bt_account_prekey_upload` or a
/// replenishment); `*out_request` receives the request id that `BT_RELAY_EVENT_DONE` or
/// `BT_RELAY_EVENT_REQUEST_FAILED` will name. Sent once authenticated, and again after a
/// reconnect until answered.
///
/// # Safety
/// `client` null or a live handle; `(upload, upload_len)` a byte input; `out_request` null
/// or a writable `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_upload_prekeys(
    client: *const bt_relay_client,
    upload: *const u8,
    upload_len: usize,
    out_request: *mut u32,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, upload) = unsafe {
            (
                ptr::out(out_request, "out_request", 0)?,
                ptr::bytes(upload, upload_len, "upload")?,
            )
        };
        check_size(upload.len(), "the upload")?;
        let upload = upload.to_vec();
        // SAFETY: as above.
        unsafe { request(client, out, |c| c.upload_prekeys(upload)) }
    })
}

/// Fetches a bundle of the device `(user, user_len, device)`; answered by
/// `BT_RELAY_EVENT_BUNDLE` (or `REQUEST_FAILED`) naming `*out_request`.
///
/// # Safety
/// `client` null or a live handle; `(user, user_len)` a byte input; `out_request` null or
/// a writable `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_fetch_bundle(
    client: *const bt_relay_client,
    user: *const u8,
    user_len: usize,
    device: u32,
    out_request: *mut u32,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, address) = unsafe {
            (
                ptr::out(out_request, "out_request", 0)?,
                ptr::address(user, user_len, device)?,
            )
        };
        check_user(&address.user, "the user id")?;
        // SAFETY: as above.
        unsafe { request(client, out, |c| c.fetch_bundle(address)) }
    })
}

/// Fetches the devices of the user `(user, user_len)`; answered by
/// `BT_RELAY_EVENT_DEVICES` (or `REQUEST_FAILED`) naming `*out_request`.
///
/// # Safety
/// As `bt_relay_client_fetch_bundle`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_fetch_devices(
    client: *const bt_relay_client,
    user: *const u8,
    user_len: usize,
    out_request: *mut u32,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, user) = unsafe {
            (
                ptr::out(out_request, "out_request", 0)?,
                ptr::bytes(user, user_len, "user")?,
            )
        };
        check_user(user, "the user id")?;
        let user = user.to_vec();
        // SAFETY: as above.
        unsafe { request(client, out, |c| c.fetch_devices(user)) }
    })
}

/// Publishes a new signed device list (`DeviceList` bytes, spec §11) of this device's
/// user; answered by `BT_RELAY_EVENT_DONE` (or `REQUEST_FAILED`) naming `*out_request`.
///
/// # Safety
/// As `bt_relay_client_upload_prekeys`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_publish_device_list(
    client: *const bt_relay_client,
    list: *const u8,
    list_len: usize,
    out_request: *mut u32,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, list) = unsafe {
            (
                ptr::out(out_request, "out_request", 0)?,
                ptr::bytes(list, list_len, "list")?,
            )
        };
        check_size(list.len(), "the device list")?;
        let list = list.to_vec();
        // SAFETY: as above.
        unsafe { request(client, out, |c| c.publish_device_list(list)) }
    })
}

/// The connection's state: `*out_state` one of `BT_RELAY_DISCONNECTED`,
/// `BT_RELAY_AWAITING_CHALLENGE`, `BT_RELAY_AUTHENTICATING`, `BT_RELAY_READY`.
///
/// # Safety
/// `client` null or a live handle; `out_state` null or a writable `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_state(
    client: *const bt_relay_client,
    out_state: *mut u32,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let out = unsafe { ptr::out(out_state, "out_state", BT_RELAY_DISCONNECTED) }?;
        // SAFETY: as above.
        *out = match unsafe { with(client, |c| c.state()) }? {
            ConnectionState::Disconnected { .. } => BT_RELAY_DISCONNECTED,
            ConnectionState::AwaitingChallenge => BT_RELAY_AWAITING_CHALLENGE,
            ConnectionState::Authenticating => BT_RELAY_AUTHENTICATING,
            ConnectionState::Ready => BT_RELAY_READY,
        };
        Ok(())
    })
}

/// While disconnected, when the next connection attempt is due (`*out_at_ms`, on the
/// clock of `bt_relay_client_disconnected`) with `*out_disconnected` true; otherwise
/// `*out_disconnected` false and `*out_at_ms` 0.
///
/// # Safety
/// `client` null or a live handle; `out_at_ms` null or a writable `uint64_t`;
/// `out_disconnected` null or a writable `bool`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_reconnect_at_ms(
    client: *const bt_relay_client,
    out_at_ms: *mut u64,
    out_disconnected: *mut bool,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (at, disconnected) = unsafe {
            (
                ptr::out(out_at_ms, "out_at_ms", 0)?,
                ptr::out(out_disconnected, "out_disconnected", false)?,
            )
        };
        // SAFETY: as above.
        if let Some(t) = unsafe { with(client, |c| c.reconnect_at_ms()) }? {
            *at = t;
            *disconnected = true;
        }
        Ok(())
    })
}

/// Whether to open a socket now: `*out` true when disconnected and the attempt is due at
/// `now_ms`.
///
/// # Safety
/// `client` null or a live handle; `out` null or a writable `bool`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_should_connect(
    client: *const bt_relay_client,
    now_ms: u64,
    out: *mut bool,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let out = unsafe { ptr::out(out, "out", false) }?;
        // SAFETY: as above.
        *out = unsafe { with(client, |c| c.should_connect(now_ms)) }?;
        Ok(())
    })
}

/// How many wires await the relay's acknowledgement: `*out_len`.
///
/// # Safety
/// `client` null or a live handle; `out_len` null or a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn bt_relay_client_outbox_len(
    client: *const bt_relay_client,
    out_len: *mut usize,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let out = unsafe { ptr::out(out_len, "out_len", 0) }?;
        // SAFETY: as above.
        *out = unsafe { with(client, |c| c.outbox_len()) }?;
        Ok(())
    })
}

/// The name of a relay error code (a `BT_RELAY_ERROR_*` value), such as `"QueueFull"`, or
/// `"Unknown"` for a byte that names none: a static NUL-terminated string, never null,
/// never freed.
#[no_mangle]
pub extern "C" fn bt_relay_error_name(code: u8) -> *const c_char {
    guard(c"Unknown".as_ptr(), || {
        ErrorCode::from_byte(code)
            .map_or(c"Unknown", error_name)
            .as_ptr()
    })
}

fn error_name(code: ErrorCode) -> &'static CStr {
    match code {
        ErrorCode::Malformed => c"Malformed",
        ErrorCode::Oversize => c"Oversize",
        ErrorCode::Unauthenticated => c"Unauthenticated",
        ErrorCode::AuthenticationFailed => c"AuthenticationFailed",
        ErrorCode::Flood => c"Flood",
        ErrorCode::UnexpectedFrame => c"UnexpectedFrame",
        ErrorCode::Unavailable => c"Unavailable",
        ErrorCode::UnknownRecipient => c"UnknownRecipient",
        ErrorCode::QueueFull => c"QueueFull",
        ErrorCode::NoBundle => c"NoBundle",
        ErrorCode::RateLimited => c"RateLimited",
        ErrorCode::InvalidUpload => c"InvalidUpload",
        ErrorCode::InvalidDeviceList => c"InvalidDeviceList",
        ErrorCode::StaleDeviceList => c"StaleDeviceList",
        ErrorCode::InvalidCertificate => c"InvalidCertificate",
        ErrorCode::Forbidden => c"Forbidden",
        ErrorCode::Internal => c"Internal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bt_buffer_free;
    use bluetick::relay_protocol::Frame;
    use bluetick::Address;

    fn client() -> *mut bt_relay_client {
        let backoff = bt_relay_backoff {
            base_ms: 100,
            max_ms: 1_000,
            jitter_ms: 0,
        };
        let mut c = core::ptr::null_mut();
        // SAFETY: valid inputs and a writable out-pointer.
        let s = unsafe {
            bt_relay_client_new(
                b"alice".as_ptr(),
                5,
                1,
                core::ptr::null(),
                0,
                &backoff,
                &mut c,
            )
        };
        assert_eq!(s, bt_status::BT_OK);
        c
    }

    fn transmit(c: *mut bt_relay_client) -> Vec<Frame> {
        let mut out = Vec::new();
        loop {
            let mut b = bt_buffer::EMPTY;
            // SAFETY: a live client and a writable buffer, freed below.
            let status = unsafe { bt_relay_client_poll_transmit(c, &mut b) };
            assert_eq!(status, bt_status::BT_OK);
            if b.len == 0 {
                return out;
            }
            // SAFETY: written by the library, not yet freed.
            let bytes = unsafe { core::slice::from_raw_parts(b.ptr, b.len) };
            out.push(Frame::decode(bytes).unwrap());
            // SAFETY: freed once.
            unsafe { bt_buffer_free(&mut b) };
        }
    }

    fn state(c: *mut bt_relay_client) -> u32 {
        let mut s = 99;
        // SAFETY: a live client.
        let status = unsafe { bt_relay_client_state(c, &mut s) };
        assert_eq!(status, bt_status::BT_OK);
        s
    }

    #[test]
    fn offline_sends_wait_in_the_outbox_and_disconnects_back_off() {
        let c = client();
        let bob = bt_relay_recipient {
            user: b"bob".as_ptr(),
            user_len: 3,
            device: 2,
        };
        let mut id = [0u8; 16];
        let mut len = 0usize;
        let mut delay = 0u64;
        let mut at = 0u64;
        let mut disconnected = false;
        let mut due = false;
        // SAFETY: a live client and valid, writable arguments; freed once at the end.
        unsafe {
            assert_eq!(state(c), BT_RELAY_DISCONNECTED);
            assert_eq!(
                bt_relay_client_send(c, &bob, 1, b"wire".as_ptr(), 4, id.as_mut_ptr()),
                bt_status::BT_OK
            );
            assert_eq!(id, MessageId::of(b"wire").0);
            // The same wire again is queued once.
            assert_eq!(
                bt_relay_client_send(c, &bob, 1, b"wire".as_ptr(), 4, id.as_mut_ptr()),
                bt_status::BT_OK
            );
            assert_eq!(bt_relay_client_outbox_len(c, &mut len), bt_status::BT_OK);
            assert_eq!(len, 1);
            // Nothing goes out before authentication.
            assert!(transmit(c).is_empty());
            assert_eq!(bt_relay_client_connected(c), bt_status::BT_OK);
            assert_eq!(state(c), BT_RELAY_AWAITING_CHALLENGE);
            assert_eq!(
                bt_relay_client_disconnected(c, 1_000, &mut delay),
                bt_status::BT_OK
            );
            assert_eq!(delay, 100);
            assert_eq!(
                bt_relay_client_reconnect_at_ms(c, &mut at, &mut disconnected),
                bt_status::BT_OK
            );
            assert!(disconnected);
            assert_eq!(at, 1_100);
            assert_eq!(
                bt_relay_client_should_connect(c, 1_099, &mut due),
                bt_status::BT_OK
            );
            assert!(!due);
            assert_eq!(
                bt_relay_client_should_connect(c, 1_100, &mut due),
                bt_status::BT_OK
            );
            assert!(due);
            let mut ev = bt_relay_event::EMPTY;
            assert_eq!(bt_relay_client_poll_event(c, &mut ev), bt_status::BT_OK);
            assert_eq!(ev.kind, BT_RELAY_EVENT_NONE);
            bt_relay_event_free(&mut ev);
            bt_relay_client_free(c);
        }
    }

    #[test]
    fn values_the_relay_would_refuse_are_refused_here() {
        let c = client();
        let long = [b'a'; 65];
        let mut id = [0u8; 16];
        let mut request = 7u32;
        let ok = bt_relay_recipient {
            user: b"bob".as_ptr(),
            user_len: 3,
            device: 1,
        };
        let too_long = bt_relay_recipient {
            user: long.as_ptr(),
            user_len: 65,
            device: 1,
        };
        // SAFETY: a live client; every pointer valid for its length or null as tested.
        unsafe {
            for (recipients, count, wire_len) in [
                (&ok as *const _, 0, 1),
                (&too_long as *const _, 1, 1),
                (&ok as *const _, 1, 0),
            ] {
                assert_eq!(
                    bt_relay_client_send(
                        c,
                        recipients,
                        count,
                        b"w".as_ptr(),
                        wire_len,
                        id.as_mut_ptr()
                    ),
                    bt_status::BT_INVALID_ARGUMENT
                );
            }
            assert_eq!(
                bt_relay_client_send(c, core::ptr::null(), 1, b"w".as_ptr(), 1, id.as_mut_ptr()),
                bt_status::BT_NULL_ARGUMENT
            );
            let big = vec![0u8; MAX_FRAME_LEN];
            let mut none = core::ptr::null_mut();
            let almost = vec![0u8; MAX_FRAME_LEN - 80];
            assert_eq!(
                bt_relay_client_new(
                    b"bob".as_ptr(),
                    3,
                    1,
                    almost.as_ptr(),
                    almost.len(),
                    core::ptr::null(),
                    &mut none
                ),
                bt_status::BT_INVALID_ARGUMENT
            );
            assert!(none.is_null());
            assert_eq!(
                bt_relay_client_send(c, &ok, 1, big.as_ptr(), big.len(), id.as_mut_ptr()),
                bt_status::BT_INVALID_ARGUMENT
            );
            assert_eq!(
                bt_relay_client_upload_prekeys(c, big.as_ptr(), big.len(), &mut request),
                bt_status::BT_INVALID_ARGUMENT
            );
            assert_eq!(request, 0);
            assert_eq!(
                bt_relay_client_fetch_devices(c, long.as_ptr(), 65, &mut request),
                bt_status::BT_INVALID_ARGUMENT
            );
            assert_eq!(
                bt_relay_client_fetch_bundle(c, core::ptr::null(), 0, 1, &mut request),
                bt_status::BT_INVALID_ARGUMENT
            );
            let mut outbox = 9usize;
            assert_eq!(bt_relay_client_outbox_len(c, &mut outbox), bt_status::BT_OK);
            assert_eq!(outbox, 0);
            // Requests queue while offline and get distinct ids.
            let mut r1 = 0u32;
            let mut r2 = 0u32;
            assert_eq!(
                bt_relay_client_fetch_devices(c, b"bob".as_ptr(), 3, &mut r1),
                bt_status::BT_OK
            );
            assert_eq!(
                bt_relay_client_publish_device_list(c, b"l".as_ptr(), 1, &mut r2),
                bt_status::BT_OK
            );
            assert_ne!(r1, r2);
            // A frame before the socket is open.
            assert_eq!(
                bt_relay_client_receive(c, core::ptr::null(), b"x".as_ptr(), 1),
                bt_status::BT_NULL_ARGUMENT
            );
            assert_eq!(
                bt_relay_client_state(core::ptr::null(), &mut request),
                bt_status::BT_NULL_ARGUMENT
            );
            assert_eq!(
                bt_relay_client_connected(core::ptr::null()),
                bt_status::BT_NULL_ARGUMENT
            );
            let mut none = core::ptr::null_mut();
            assert_eq!(
                bt_relay_client_new(
                    long.as_ptr(),
                    65,
                    1,
                    core::ptr::null(),
                    0,
                    core::ptr::null(),
                    &mut none
                ),
                bt_status::BT_INVALID_ARGUMENT
            );
            assert!(none.is_null());
            bt_relay_client_free(c);
            bt_relay_client_free(core::ptr::null_mut());
            bt_relay_event_free(core::ptr::null_mut());
        }
    }

    #[test]
    fn events_carry_their_fields_and_free_their_buffers() {
        let mut ev = bt_relay_event::of(Event::Delivery {
            sender: Address::new("bob", 3),
            id: MessageId([5; 16]),
            wire: b"wire".to_vec(),
        });
        assert_eq!(ev.kind, BT_RELAY_EVENT_DELIVERY);
        assert_eq!(ev.sender_device, 3);
        // SAFETY: written by the library, not yet freed.
        unsafe {
            assert_eq!(
                core::slice::from_raw_parts(ev.sender_user.ptr, ev.sender_user.len),
                b"bob"
            );
            bt_relay_event_free(&mut ev);
            bt_relay_event_free(&mut ev);
        }
        assert!(ev.wire.ptr.is_null() && ev.sender_user.ptr.is_null());
        let ev = bt_relay_event::of(Event::Devices {
            request: 4,
            devices: vec![1, 2, 7],
            device_list: None,
        });
        assert_eq!(ev.device_count, 3);
        assert_eq!(&ev.devices[..3], &[1, 2, 7]);
        assert!(ev.device_list.ptr.is_null());
        let ev = bt_relay_event::of(Event::SendFailed {
            id: MessageId([1; 16]),
            code: ErrorCode::QueueFull,
        });
        assert_eq!(ev.code, BT_RELAY_ERROR_QUEUE_FULL);
    }

    #[test]
    fn error_codes_and_their_names_match_the_core() {
        for code in ErrorCode::ALL {
            // SAFETY: a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(bt_relay_error_name(code.to_byte())) };
            assert_eq!(name.to_str().unwrap(), code.to_string());
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(bt_relay_error_name(0xEE)) };
        assert_eq!(unknown.to_str().unwrap(), "Unknown");
        let consts = [
            BT_RELAY_ERROR_MALFORMED,
            BT_RELAY_ERROR_OVERSIZE,
            BT_RELAY_ERROR_UNAUTHENTICATED,
            BT_RELAY_ERROR_AUTHENTICATION_FAILED,
            BT_RELAY_ERROR_FLOOD,
            BT_RELAY_ERROR_UNEXPECTED_FRAME,
            BT_RELAY_ERROR_UNAVAILABLE,
            BT_RELAY_ERROR_UNKNOWN_RECIPIENT,
            BT_RELAY_ERROR_QUEUE_FULL,
            BT_RELAY_ERROR_NO_BUNDLE,
            BT_RELAY_ERROR_RATE_LIMITED,
            BT_RELAY_ERROR_INVALID_UPLOAD,
            BT_RELAY_ERROR_INVALID_DEVICE_LIST,
            BT_RELAY_ERROR_STALE_DEVICE_LIST,
            BT_RELAY_ERROR_INVALID_CERTIFICATE,
            BT_RELAY_ERROR_FORBIDDEN,
            BT_RELAY_ERROR_INTERNAL,
        ];
        assert_eq!(consts, ErrorCode::ALL.map(ErrorCode::to_byte));
        let mut b = bt_relay_backoff {
            base_ms: 0,
            max_ms: 0,
            jitter_ms: 0,
        };
        // SAFETY: a writable backoff.
        let status = unsafe { bt_relay_backoff_default(&mut b) };
        assert_eq!(status, bt_status::BT_OK);
        assert_eq!(Backoff::from(b), Backoff::default());
    }

    /// The handshake signed by a real account (not under Miri: creating an account
    /// generates an ML-KEM key, and libcrux detects the CPU with inline assembly).
    #[test]
    #[cfg_attr(
        miri,
        ignore = "creating an account generates an ML-KEM key; libcrux detects the CPU with inline assembly, which Miri cannot run"
    )]
    fn the_account_answers_the_challenge_and_bad_frames_are_refused() {
        let key = [3u8; 32];
        let mut acc = core::ptr::null_mut();
        let c = client();
        // SAFETY: valid pointers throughout; every handle is freed once.
        unsafe {
            assert_eq!(
                crate::bt_account_create_memory(key.as_ptr(), 32, core::ptr::null(), &mut acc),
                bt_status::BT_OK
            );
            assert_eq!(
                bt_relay_client_receive(c, acc, b"x".as_ptr(), 1),
                bt_status::BT_RELAY_NOT_CONNECTED
            );
            bt_relay_client_connected(c);
            let nonce = [9u8; 32];
            let challenge = Frame::Challenge { version: 1, nonce }.encode();
            assert_eq!(
                bt_relay_client_receive(c, acc, challenge.as_ptr(), challenge.len()),
                bt_status::BT_OK
            );
            let identity = *bt_account::borrow(acc).unwrap().account.identity();
            match transmit(c).as_slice() {
                [Frame::Authenticate {
                    address,
                    identity: ik,
                    signature,
                    certificate: None,
                }] => {
                    assert_eq!(address, &Address::new("alice", 1));
                    assert_eq!(ik, identity.as_bytes());
                    assert!(bluetick::relay_protocol::verify_auth(
                        &identity, &nonce, address, signature
                    ));
                }
                other => panic!("expected one Authenticate, got {other:?}"),
            }
            assert_eq!(state(c), BT_RELAY_AUTHENTICATING);
            assert_eq!(
                bt_relay_client_receive(c, acc, [0xFFu8].as_ptr(), 1),
                bt_status::BT_RELAY_PROTOCOL
            );
            assert_eq!(transmit(c), [Frame::connection_error(ErrorCode::Malformed)]);
            crate::bt_account_free(acc);
            bt_relay_client_free(c);
        }
    }
}
