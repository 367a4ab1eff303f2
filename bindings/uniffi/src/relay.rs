//! The relay client (`docs/relay.md`): the core crate's sans-IO connection state machine
//! as a `RelayClient` object, for apps that own their sockets (iOS, Android). The app feeds
//! received frames to `receive`, writes what `poll_transmit` returns, and acts on
//! `poll_event`. Time comes from the app; the backoff's jitter from the operating system's
//! generator.

use std::sync::{Arc, Mutex, MutexGuard};

use bluetick::relay_protocol::{
    Backoff, ClientConfig, ClientConnection, ClientError, ConnectionState, ErrorCode, Event,
    MAX_FRAME_LEN, MAX_RECIPIENTS, MAX_USER_ID_LEN,
};

use crate::account::Account;
use crate::types::{message_id, Address};

/// The reconnection schedule: attempt `n` (0 for the first retry) waits
/// `min(2^n * base_ms, max_ms) + random(0, jitter_ms)` milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RelayBackoff {
    /// Delay of the first retry before jitter, in milliseconds.
    #[uniffi(default = 250)]
    pub base_ms: u64,
    /// Largest delay before jitter, in milliseconds.
    #[uniffi(default = 30000)]
    pub max_ms: u64,
    /// Largest random addition, in milliseconds (0 for none).
    #[uniffi(default = 1000)]
    pub jitter_ms: u64,
}

impl From<RelayBackoff> for Backoff {
    fn from(b: RelayBackoff) -> Self {
        Backoff {
            base_ms: b.base_ms,
            max_ms: b.max_ms,
            jitter_ms: b.jitter_ms,
        }
    }
}

/// What an error frame of the relay reports (`docs/relay.md`, "Error codes"). The first
/// seven are fatal: the relay closes the connection after sending them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum RelayErrorCode {
    /// The frame could not be parsed.
    Malformed,
    /// The frame exceeded 1 MiB.
    Oversize,
    /// A request before authentication.
    Unauthenticated,
    /// Bad signature, or the address is bound to another identity.
    AuthenticationFailed,
    /// Too many frames too fast.
    Flood,
    /// A frame this side never receives.
    UnexpectedFrame,
    /// The relay cannot serve now; reconnect later.
    Unavailable,
    /// A recipient is not a device the relay knows: refresh the device list.
    UnknownRecipient,
    /// A recipient's queue is full: send later.
    QueueFull,
    /// No prekeys stored for that address.
    NoBundle,
    /// Too many bundle fetches: wait.
    RateLimited,
    /// The prekey upload does not parse, verify or match the identity.
    InvalidUpload,
    /// The device list does not parse or verify.
    InvalidDeviceList,
    /// The device list's version is not above the stored one.
    StaleDeviceList,
    /// The certificate does not parse, match or verify.
    InvalidCertificate,
    /// The request concerns another user.
    Forbidden,
    /// The relay's storage failed for this request: try again.
    Internal,
}

impl From<ErrorCode> for RelayErrorCode {
    fn from(c: ErrorCode) -> Self {
        match c {
            ErrorCode::Malformed => Self::Malformed,
            ErrorCode::Oversize => Self::Oversize,
            ErrorCode::Unauthenticated => Self::Unauthenticated,
            ErrorCode::AuthenticationFailed => Self::AuthenticationFailed,
            ErrorCode::Flood => Self::Flood,
            ErrorCode::UnexpectedFrame => Self::UnexpectedFrame,
            ErrorCode::Unavailable => Self::Unavailable,
            ErrorCode::UnknownRecipient => Self::UnknownRecipient,
            ErrorCode::QueueFull => Self::QueueFull,
            ErrorCode::NoBundle => Self::NoBundle,
            ErrorCode::RateLimited => Self::RateLimited,
            ErrorCode::InvalidUpload => Self::InvalidUpload,
            ErrorCode::InvalidDeviceList => Self::InvalidDeviceList,
            ErrorCode::StaleDeviceList => Self::StaleDeviceList,
            ErrorCode::InvalidCertificate => Self::InvalidCertificate,
            ErrorCode::Forbidden => Self::Forbidden,
            ErrorCode::Internal => Self::Internal,
        }
    }
}

/// Where the connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum RelayState {
    /// No socket; the next attempt is due at this time (ms, on the app's clock).
    Disconnected {
        /// When to connect again.
        reconnect_at_ms: u64,
    },
    /// Socket open, waiting for the relay's challenge.
    AwaitingChallenge,
    /// Challenge answered, waiting for the relay's welcome.
    Authenticating,
    /// Authenticated: sends, requests and acknowledgements flow.
    Ready,
}

impl From<ConnectionState> for RelayState {
    fn from(s: ConnectionState) -> Self {
        match s {
            ConnectionState::Disconnected { reconnect_at_ms } => {
                Self::Disconnected { reconnect_at_ms }
            }
            ConnectionState::AwaitingChallenge => Self::AwaitingChallenge,
            ConnectionState::Authenticating => Self::Authenticating,
            ConnectionState::Ready => Self::Ready,
        }
    }
}

/// What happened on the relay pipe, for the app to act on.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum RelayEvent {
    /// Authenticated; `queued` deliveries follow.
    Ready {
        /// Messages waiting in this device's queue.
        queued: u32,
    },
    /// The relay stored the wire for every recipient: `Account.mark_sent(id)`.
    Sent {
        /// The wire's 16-byte id.
        id: Vec<u8>,
    },
    /// The relay refused the wire; it left the outbox.
    SendFailed {
        /// The wire's 16-byte id.
        id: Vec<u8>,
        /// Why.
        code: RelayErrorCode,
    },
    /// A wire from another device: `Account.decrypt(sender, wire)`, then `committed(id)`,
    /// also when the account reports a duplicate.
    Delivery {
        /// The authenticated sender.
        sender: Address,
        /// The wire's 16-byte id.
        id: Vec<u8>,
        /// The wire message.
        wire: Vec<u8>,
    },
    /// The answer to `fetch_bundle`.
    Bundle {
        /// The request answered.
        request: u32,
        /// `PreKeyBundle` bytes, for `Account.encrypt`.
        bundle: Vec<u8>,
        /// The device's certificate, if it has one.
        certificate: Option<Vec<u8>>,
        /// The user's signed device list, if one was published.
        device_list: Option<Vec<u8>>,
    },
    /// The answer to `fetch_devices`.
    Devices {
        /// The request answered.
        request: u32,
        /// Device ids with prekeys at the relay, ascending.
        devices: Vec<u32>,
        /// The user's signed device list, if one was published.
        device_list: Option<Vec<u8>>,
    },
    /// An upload or a device list publication succeeded.
    Done {
        /// The request answered.
        request: u32,
    },
    /// The relay refused a request.
    RequestFailed {
        /// The request.
        request: u32,
        /// Why.
        code: RelayErrorCode,
    },
    /// The relay closes the connection: close the socket and call `disconnected`.
    ConnectionFailed {
        /// Why.
        code: RelayErrorCode,
    },
}

impl From<Event> for RelayEvent {
    fn from(e: Event) -> Self {
        match e {
            Event::Ready { queued } => Self::Ready { queued },
            Event::Sent(id) => Self::Sent { id: id.0.to_vec() },
            Event::SendFailed { id, code } => Self::SendFailed {
                id: id.0.to_vec(),
                code: code.into(),
            },
            Event::Delivery { sender, id, wire } => Self::Delivery {
                sender: sender.into(),
                id: id.0.to_vec(),
                wire,
            },
            Event::Bundle {
                request,
                bundle,
                certificate,
                device_list,
            } => Self::Bundle {
                request,
                bundle,
                certificate,
                device_list,
            },
            Event::Devices {
                request,
                devices,
                device_list,
            } => Self::Devices {
                request,
                devices,
                device_list,
            },
            Event::Done { request } => Self::Done { request },
            Event::RequestFailed { request, code } => Self::RequestFailed {
                request,
                code: code.into(),
            },
            Event::ConnectionFailed { code } => Self::ConnectionFailed { code: code.into() },
        }
    }
}

/// A relay client operation failed; the client is unchanged (except that a refused frame
/// queued an error frame for the relay).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum RelayError {
    /// The relay sent a frame the client refuses (malformed, out of place, another protocol
    /// version): write what `poll_transmit` returns, close the socket, call `disconnected`.
    #[error("{detail}")]
    Protocol {
        /// What was wrong and what to do.
        detail: String,
    },
    /// A frame was fed with no socket open: call `connected` once the socket is open.
    #[error("{detail}")]
    NotConnected {
        /// What was wrong and what to do.
        detail: String,
    },
    /// An argument was refused before anything ran: a value the relay would refuse, an id
    /// that is not 16 bytes, a closed account.
    #[error("{detail}")]
    InvalidArgument {
        /// What was wrong and what to do.
        detail: String,
    },
}

impl From<ClientError> for RelayError {
    fn from(e: ClientError) -> Self {
        let detail = e.to_string();
        match e {
            ClientError::NotConnected => Self::NotConnected { detail },
            _ => Self::Protocol { detail },
        }
    }
}

fn invalid(detail: String) -> RelayError {
    RelayError::InvalidArgument { detail }
}

/// Bytes a frame takes around its payloads at most (type, tokens, counts, lengths).
const FRAME_OVERHEAD: usize = 64;

/// Refuses a user id the relay would refuse, before it enters the outbox or the requests
/// (where it would be sent again after every reconnect).
fn check_user(user: &[u8], what: &str) -> Result<(), RelayError> {
    if user.is_empty() || user.len() > MAX_USER_ID_LEN {
        return Err(invalid(format!(
            "{what} is {} bytes; the relay takes user ids of 1 to {MAX_USER_ID_LEN} bytes",
            user.len()
        )));
    }
    Ok(())
}

/// Refuses payloads that would pass the relay's frame limit.
fn check_size(len: usize, what: &str) -> Result<(), RelayError> {
    if len.saturating_add(FRAME_OVERHEAD) > MAX_FRAME_LEN {
        return Err(invalid(format!(
            "{what} takes {len} bytes; a relay frame holds at most {MAX_FRAME_LEN} bytes in all"
        )));
    }
    Ok(())
}

/// One device's connection to the relay, as a state machine without I/O. The app owns
/// the WebSocket: after opening it, `connected()`; for each binary message received,
/// `receive(frame, account)`; after every call, write each `poll_transmit()` frame and
/// handle each `poll_event()`; when the socket closes, `disconnected(now_ms)` and reopen
/// after the delay it returns. Thread-safe: a socket thread may drive it while another
/// sends. No call blocks.
#[derive(Debug, uniffi::Object)]
pub struct RelayClient {
    inner: Mutex<ClientConnection>,
}

impl RelayClient {
    fn lock(&self) -> MutexGuard<'_, ClientConnection> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[uniffi::export]
impl RelayClient {
    /// A client for this device's `address` (user id 1 to 64 bytes), with its certificate
    /// (spec §11) if it is a companion device. It starts disconnected, its first attempt
    /// due at once.
    #[uniffi::constructor]
    pub fn new(
        address: Address,
        certificate: Option<Vec<u8>>,
        backoff: RelayBackoff,
    ) -> Result<Arc<Self>, RelayError> {
        check_user(&address.user, "this device's user id")?;
        // The Authenticate frame carries the certificate with the address, the identity key
        // (32 bytes) and the signature (64).
        check_size(
            certificate.as_ref().map_or(0, Vec::len) + address.user.len() + 5 + 32 + 64,
            "the certificate",
        )?;
        Ok(Arc::new(Self {
            inner: Mutex::new(ClientConnection::new(ClientConfig {
                address: (&address).into(),
                certificate,
                backoff: backoff.into(),
            })),
        }))
    }

    /// This device's address.
    pub fn address(&self) -> Address {
        self.lock().address().clone().into()
    }

    /// The connection's state.
    pub fn state(&self) -> RelayState {
        self.lock().state().into()
    }

    /// Wires awaiting the relay's acknowledgement.
    pub fn outbox_len(&self) -> u64 {
        u64::try_from(self.lock().outbox_len()).unwrap_or(u64::MAX)
    }

    /// Whether to open a socket now (disconnected, and the attempt is due at `now_ms`).
    pub fn should_connect(&self, now_ms: u64) -> bool {
        self.lock().should_connect(now_ms)
    }

    /// While disconnected, when the next attempt is due (ms, on the app's clock).
    pub fn reconnect_at_ms(&self) -> Option<u64> {
        self.lock().reconnect_at_ms()
    }

    /// The socket is open: wait for the relay's challenge.
    pub fn connected(&self) {
        self.lock().connected();
    }

    /// The socket closed, or could not be opened, at `now_ms` (any monotonic clock in
    /// milliseconds): schedules the next attempt and returns its delay in milliseconds.
    pub fn disconnected(&self, now_ms: u64) -> u64 {
        self.lock().disconnected(now_ms, &mut bluetick::os_rng())
    }

    /// Feeds one frame from the relay (one whole binary WebSocket message). The relay's
    /// challenge is signed by `account`'s identity key, inside the account.
    pub fn receive(&self, frame: Vec<u8>, account: Arc<Account>) -> Result<(), RelayError> {
        let account = account.inner().map_err(|e| invalid(e.to_string()))?;
        Ok(self.lock().receive(&frame, account.as_ref())?)
    }

    /// The next frame to write to the socket, if any. Acknowledgements of committed
    /// deliveries go out here, batched.
    pub fn poll_transmit(&self) -> Option<Vec<u8>> {
        self.lock().poll_transmit()
    }

    /// The next event, if any.
    pub fn poll_event(&self) -> Option<RelayEvent> {
        self.lock().poll_event().map(Into::into)
    }

    /// Queues `wire` for `recipients` (one device, or up to 4096 for a group wire) and
    /// returns its 16-byte id. It stays in the outbox, and is sent again after every
    /// reconnect, until a `Sent` or `SendFailed` event names it.
    pub fn send(&self, recipients: Vec<Address>, wire: Vec<u8>) -> Result<Vec<u8>, RelayError> {
        if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
            return Err(invalid(format!(
                "{} recipients; a send names 1 to {MAX_RECIPIENTS}",
                recipients.len()
            )));
        }
        if wire.is_empty() {
            return Err(invalid(
                "the wire is empty; pass the bytes Account.encrypt returned".to_owned(),
            ));
        }
        let mut size = wire.len();
        for r in &recipients {
            check_user(&r.user, "a recipient's user id")?;
            size = size.saturating_add(r.user.len() + 5);
        }
        check_size(size, "the send")?;
        let recipients = recipients.iter().map(Into::into).collect();
        Ok(self.lock().send(recipients, wire).0.to_vec())
    }

    /// The account committed the delivery `id` (16 bytes): the relay may delete it. The
    /// acknowledgement goes out with the next `poll_transmit` while authenticated, else
    /// after the next authentication.
    pub fn committed(&self, id: Vec<u8>) -> Result<(), RelayError> {
        let id = message_id(&id, "the message id").map_err(invalid)?;
        self.lock().committed(id);
        Ok(())
    }

    /// Uploads prekeys (`PreKeyUpload.to_bytes()`); returns the request id a `Done` or
    /// `RequestFailed` event will carry.
    pub fn upload_prekeys(&self, upload: Vec<u8>) -> Result<u32, RelayError> {
        check_size(upload.len(), "the upload")?;
        Ok(self.lock().upload_prekeys(upload))
    }

    /// Fetches a bundle of `address`; answered by a `Bundle` event.
    pub fn fetch_bundle(&self, address: Address) -> Result<u32, RelayError> {
        check_user(&address.user, "the user id")?;
        Ok(self.lock().fetch_bundle((&address).into()))
    }

    /// Fetches the devices of `user`; answered by a `Devices` event.
    pub fn fetch_devices(&self, user: Vec<u8>) -> Result<u32, RelayError> {
        check_user(&user, "the user id")?;
        Ok(self.lock().fetch_devices(user))
    }

    /// Publishes a signed device list (spec §11) of this device's user; answered by
    /// `Done`.
    pub fn publish_device_list(&self, list: Vec<u8>) -> Result<u32, RelayError> {
        check_size(list.len(), "the device list")?;
        Ok(self.lock().publish_device_list(list))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use bluetick::relay_protocol::Frame;

    fn backoff() -> RelayBackoff {
        RelayBackoff {
            base_ms: 100,
            max_ms: 1_000,
            jitter_ms: 0,
        }
    }

    fn address(user: &str, device: u32) -> Address {
        Address {
            user: user.as_bytes().to_vec(),
            device,
        }
    }

    #[test]
    fn a_handshake_a_send_a_delivery_and_a_resend_after_reconnect() {
        let key = vec![1u8; 32];
        let config = crate::AccountConfig {
            one_time_prekeys: 1,
            one_time_pq_prekeys: 1,
            low_water_mark: 0,
        };
        let account = Account::create_memory(key, config).unwrap();
        let c = RelayClient::new(address("alice", 1), None, backoff()).unwrap();
        let id = c.send(vec![address("bob", 2)], b"wire".to_vec()).unwrap();
        assert_eq!(c.poll_transmit(), None);
        c.connected();
        let nonce = [4u8; 32];
        c.receive(
            Frame::Challenge { version: 1, nonce }.encode(),
            Arc::clone(&account),
        )
        .unwrap();
        let auth = Frame::decode(&c.poll_transmit().unwrap()).unwrap();
        let Frame::Authenticate {
            address: a,
            signature,
            ..
        } = auth
        else {
            panic!("expected Authenticate, got {auth:?}");
        };
        let ik =
            bluetick::IdentityKey::from_bytes(&account.identity().unwrap().try_into().unwrap())
                .unwrap();
        assert!(bluetick::relay_protocol::verify_auth(
            &ik, &nonce, &a, &signature
        ));
        c.receive(Frame::Welcome { queued: 0 }.encode(), Arc::clone(&account))
            .unwrap();
        assert_eq!(c.state(), RelayState::Ready);
        assert_eq!(c.poll_event(), Some(RelayEvent::Ready { queued: 0 }));
        let send = Frame::decode(&c.poll_transmit().unwrap()).unwrap();
        assert!(matches!(send, Frame::Send { ref wire, .. } if wire == b"wire"));
        assert_eq!(c.disconnected(10), 100);
        assert_eq!(
            c.state(),
            RelayState::Disconnected {
                reconnect_at_ms: 110
            }
        );
        assert!(matches!(
            c.receive(vec![0x03], Arc::clone(&account)),
            Err(RelayError::NotConnected { .. })
        ));
        c.connected();
        c.receive(
            Frame::Challenge { version: 1, nonce }.encode(),
            Arc::clone(&account),
        )
        .unwrap();
        c.receive(Frame::Welcome { queued: 1 }.encode(), Arc::clone(&account))
            .unwrap();
        let frames: Vec<_> = std::iter::from_fn(|| c.poll_transmit()).collect();
        assert_eq!(frames.len(), 2, "authentication, then the resent wire");
        assert_eq!(Frame::decode(&frames[1]).unwrap(), send);
        c.receive(
            Frame::Deliver {
                sender: bluetick::Address::new("bob", 2),
                wire: b"in".to_vec(),
            }
            .encode(),
            Arc::clone(&account),
        )
        .unwrap();
        let events: Vec<_> = std::iter::from_fn(|| c.poll_event()).collect();
        let delivered = bluetick::MessageId::of(b"in").0.to_vec();
        assert_eq!(
            events.last(),
            Some(&RelayEvent::Delivery {
                sender: address("bob", 2),
                id: delivered.clone(),
                wire: b"in".to_vec()
            })
        );
        c.committed(delivered.clone()).unwrap();
        assert_eq!(
            Frame::decode(&c.poll_transmit().unwrap()).unwrap(),
            Frame::Ack {
                ids: vec![bluetick::MessageId::of(b"in")]
            }
        );
        assert_eq!(id, bluetick::MessageId::of(b"wire").0.to_vec());
        assert!(matches!(
            c.receive(vec![0xFF], account),
            Err(RelayError::Protocol { .. })
        ));
    }

    #[test]
    fn values_the_relay_would_refuse_are_refused_here() {
        assert!(RelayClient::new(address("", 1), None, backoff()).is_err());
        let almost = vec![0u8; MAX_FRAME_LEN - 80];
        assert!(RelayClient::new(address("bob", 1), Some(almost), backoff()).is_err());
        let c = RelayClient::new(address("alice", 1), None, backoff()).unwrap();
        let long = Address {
            user: vec![b'a'; 65],
            device: 1,
        };
        for (recipients, wire) in [
            (vec![], b"w".to_vec()),
            (vec![long.clone()], b"w".to_vec()),
            (vec![address("bob", 1)], vec![]),
            (vec![address("bob", 1)], vec![0; MAX_FRAME_LEN]),
        ] {
            assert!(matches!(
                c.send(recipients, wire),
                Err(RelayError::InvalidArgument { .. })
            ));
        }
        assert!(c.fetch_bundle(long).is_err());
        assert!(c.fetch_devices(vec![]).is_err());
        assert!(c.committed(vec![0; 15]).is_err());
        assert_eq!(c.outbox_len(), 0);
        let r1 = c.fetch_devices(b"bob".to_vec()).unwrap();
        let r2 = c.upload_prekeys(vec![1]).unwrap();
        assert_ne!(r1, r2);
    }

    #[test]
    fn every_error_code_has_its_own_variant() {
        let names: std::collections::HashSet<String> = ErrorCode::ALL
            .into_iter()
            .map(|c| format!("{:?}", RelayErrorCode::from(c)))
            .collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for c in ErrorCode::ALL {
            assert_eq!(format!("{:?}", RelayErrorCode::from(c)), c.to_string());
        }
    }
}
