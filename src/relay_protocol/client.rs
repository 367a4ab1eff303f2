//! The device's side of the relay pipe as a state machine with no I/O of its own: the
//! caller opens the socket, feeds received frames to [`ClientConnection::receive`], writes
//! what [`ClientConnection::poll_transmit`] returns, and acts on
//! [`ClientConnection::poll_event`]. Time (milliseconds on any monotonic clock) and
//! randomness come from the caller.
//!
//! What it guarantees:
//! - every wire handed to [`ClientConnection::send`] stays in the outbox until the relay
//!   acknowledges its id (`Sent`, the grey tick), and is sent again after each reconnect
//!   (the relay stores a resent id once);
//! - a delivery is acknowledged to the relay only when the caller reports, with
//!   [`ClientConnection::committed`], that its account committed it; acknowledgements
//!   that could not be sent before a disconnect are sent after the next authentication;
//! - requests (uploads, fetches) unanswered at a disconnect are sent again;
//! - reconnects wait `min(2^attempt * base, max) + random(0, jitter)` ([`Backoff`]).

use std::collections::{BTreeMap, HashMap, VecDeque};

use rand_core::Rng;
use thiserror::Error;

use super::auth::AuthSigner;
use super::backoff::Backoff;
use super::error::{ErrorCode, FrameError};
use super::frame::{Frame, FrameType};
use super::{MAX_ACK_IDS, RELAY_PROTOCOL_VERSION};
use crate::account::Address;
use crate::wire::MessageId;

/// Sends written and not yet answered by the relay, at most, on one connection.
pub const MAX_SENDS_IN_FLIGHT: usize = 256;

/// The id a device gives a request; the relay's answer carries it back.
pub type RequestId = u32;

/// How a client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// This device's address.
    pub address: Address,
    /// This device's certificate (spec §11), for a companion device.
    pub certificate: Option<Vec<u8>>,
    /// The reconnection schedule.
    pub backoff: Backoff,
}

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// No socket; the next attempt is due at this time (ms).
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

/// What happened, for the app.
#[derive(Clone, PartialEq, Eq)]
pub enum Event {
    /// Authenticated; `queued` deliveries follow.
    Ready {
        /// Messages waiting in this device's queue.
        queued: u32,
    },
    /// The relay stored the wire for every recipient: mark it `Sent` in the account.
    Sent(MessageId),
    /// The relay refused a wire; it left the outbox. Send it again only after fixing the
    /// cause (`QueueFull`: later; `UnknownRecipient`: refresh the device list).
    SendFailed {
        /// The wire's id.
        id: MessageId,
        /// Why.
        code: ErrorCode,
    },
    /// A wire from another device. Decrypt it with the account, then call
    /// [`ClientConnection::committed`] with `id` — also when the account reports it as a
    /// duplicate (the relay delivers again whatever was not acknowledged before a
    /// disconnect).
    Delivery {
        /// The authenticated sender.
        sender: Address,
        /// `MessageId::of(wire)`.
        id: MessageId,
        /// The wire message.
        wire: Vec<u8>,
    },
    /// A bundle fetched.
    Bundle {
        /// The request.
        request: RequestId,
        /// `PreKeyBundle` bytes.
        bundle: Vec<u8>,
        /// The device's certificate, if any.
        certificate: Option<Vec<u8>>,
        /// The user's device list, if any.
        device_list: Option<Vec<u8>>,
    },
    /// A user's devices.
    Devices {
        /// The request.
        request: RequestId,
        /// Device ids with prekeys at the relay.
        devices: Vec<u32>,
        /// The user's signed device list, if any.
        device_list: Option<Vec<u8>>,
    },
    /// An upload or a device list publication succeeded.
    Done {
        /// The request.
        request: RequestId,
    },
    /// The relay refused a request.
    RequestFailed {
        /// The request.
        request: RequestId,
        /// Why.
        code: ErrorCode,
    },
    /// The relay closed the connection with this error; the caller should close the
    /// socket and call [`ClientConnection::disconnected`].
    ConnectionFailed {
        /// Why.
        code: ErrorCode,
    },
}

impl core::fmt::Debug for Event {
    /// Routing data only: wire sizes, never their bytes.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Ready { queued } => write!(f, "Ready(queued {queued})"),
            Self::Sent(id) => write!(f, "Sent({id:?})"),
            Self::SendFailed { id, code } => write!(f, "SendFailed({id:?}, {code})"),
            Self::Delivery { sender, id, wire } => {
                write!(f, "Delivery({sender}, {id:?}, {} B)", wire.len())
            }
            Self::Bundle { request, .. } => write!(f, "Bundle(#{request})"),
            Self::Devices {
                request, devices, ..
            } => write!(f, "Devices(#{request}, {devices:?})"),
            Self::Done { request } => write!(f, "Done(#{request})"),
            Self::RequestFailed { request, code } => {
                write!(f, "RequestFailed(#{request}, {code})")
            }
            Self::ConnectionFailed { code } => write!(f, "ConnectionFailed({code})"),
        }
    }
}

/// Why the client refused what the relay sent. The connection must be closed (an error
/// frame for the relay is already queued in [`ClientConnection::poll_transmit`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClientError {
    /// The bytes are not a frame.
    #[error("the relay sent a malformed frame: {0}")]
    Frame(#[from] FrameError),
    /// A frame that does not belong in this state (or never comes from a relay).
    #[error("the relay sent a {frame:?} frame while the connection is {state:?}; reconnect")]
    UnexpectedFrame {
        /// The frame's type.
        frame: FrameType,
        /// The connection's state.
        state: ConnectionState,
    },
    /// The relay speaks another protocol version.
    #[error("the relay speaks relay protocol version {0}; this build speaks version 1")]
    UnsupportedVersion(u8),
    /// No socket is open.
    #[error("no connection is open; call connected() after opening the socket")]
    NotConnected,
}

struct OutboxEntry {
    recipients: Vec<Address>,
    wire: Vec<u8>,
}

/// The connection state machine of one device. See the module documentation.
pub struct ClientConnection {
    config: ClientConfig,
    state: ConnectionState,
    attempt: u32,
    /// Wires awaiting the relay's acknowledgement, in the order they were sent.
    outbox: BTreeMap<u64, OutboxEntry>,
    outbox_index: HashMap<MessageId, u64>,
    next_outbox_seq: u64,
    /// The last outbox entry written on this connection.
    cursor: Option<u64>,
    /// Entries written on this connection and not yet answered.
    in_flight: usize,
    /// Requests awaiting their answer.
    requests: BTreeMap<RequestId, Frame>,
    next_request: RequestId,
    /// Committed deliveries whose acknowledgement is not yet written.
    pending_acks: Vec<MessageId>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
}

impl core::fmt::Debug for ClientConnection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientConnection")
            .field("address", &self.config.address)
            .field("state", &self.state)
            .field("outbox", &self.outbox.len())
            .field("requests", &self.requests.len())
            .finish_non_exhaustive()
    }
}

impl ClientConnection {
    /// A client that has not connected yet (its first attempt is due at once).
    pub fn new(config: ClientConfig) -> Self {
        Self {
            config,
            state: ConnectionState::Disconnected { reconnect_at_ms: 0 },
            attempt: 0,
            outbox: BTreeMap::new(),
            outbox_index: HashMap::new(),
            next_outbox_seq: 0,
            cursor: None,
            in_flight: 0,
            requests: BTreeMap::new(),
            next_request: 1,
            pending_acks: Vec::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The connection's state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// This device's address.
    pub fn address(&self) -> &Address {
        &self.config.address
    }

    /// Wires awaiting the relay's acknowledgement.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// Whether the caller should open a socket now.
    pub fn should_connect(&self, now_ms: u64) -> bool {
        matches!(self.state, ConnectionState::Disconnected { reconnect_at_ms } if now_ms >= reconnect_at_ms)
    }

    /// When the next connection attempt is due, while disconnected.
    pub fn reconnect_at_ms(&self) -> Option<u64> {
        match self.state {
            ConnectionState::Disconnected { reconnect_at_ms } => Some(reconnect_at_ms),
            _ => None,
        }
    }

    /// The socket is open: wait for the relay's challenge.
    pub fn connected(&mut self) {
        self.transmit.clear();
        self.cursor = None;
        self.in_flight = 0;
        self.state = ConnectionState::AwaitingChallenge;
    }

    /// The socket closed (or could not be opened): schedule the next attempt with the
    /// jittered backoff. Returns the delay in milliseconds.
    pub fn disconnected<R: Rng + ?Sized>(&mut self, now_ms: u64, rng: &mut R) -> u64 {
        let delay = self.config.backoff.delay_ms(self.attempt, rng);
        self.attempt = self.attempt.saturating_add(1);
        self.transmit.clear();
        self.state = ConnectionState::Disconnected {
            reconnect_at_ms: now_ms.saturating_add(delay),
        };
        delay
    }

    /// The next frame to write, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.state == ConnectionState::Ready {
            self.flush_acks();
        }
        self.transmit.pop_front()
    }

    /// The next event for the app, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Queues `wire` for `recipients` (one device, or many for a group wire) and returns
    /// its id. It stays in the outbox until the relay acknowledges it.
    pub fn send(&mut self, recipients: Vec<Address>, wire: Vec<u8>) -> MessageId {
        let id = MessageId::of(&wire);
        if self.outbox_index.contains_key(&id) {
            return id;
        }
        let seq = self.next_outbox_seq;
        self.next_outbox_seq = seq.saturating_add(1);
        self.outbox.insert(seq, OutboxEntry { recipients, wire });
        self.outbox_index.insert(id, seq);
        self.pump();
        id
    }

    /// Writes outbox entries not yet written on this connection, keeping at most
    /// [`MAX_SENDS_IN_FLIGHT`] unanswered: a long outbox after a reconnect flows at the
    /// pace of the relay's answers instead of as one burst.
    fn pump(&mut self) {
        if self.state != ConnectionState::Ready {
            return;
        }
        while self.in_flight < MAX_SENDS_IN_FLIGHT {
            let next = match self.cursor {
                Some(c) => self.outbox.range(c.saturating_add(1)..).next(),
                None => self.outbox.iter().next(),
            };
            let Some((&seq, entry)) = next else { return };
            if self.cursor.is_some_and(|c| c == u64::MAX) {
                return;
            }
            self.transmit.push_back(send_frame(entry));
            self.cursor = Some(seq);
            self.in_flight += 1;
        }
    }

    /// Removes an answered entry from the outbox.
    fn answered(&mut self, id: &MessageId) -> bool {
        let Some(seq) = self.outbox_index.remove(id) else {
            return false;
        };
        self.outbox.remove(&seq);
        if self.cursor.is_some_and(|c| seq <= c) {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        self.pump();
        true
    }

    /// The account committed the delivery `id`: the relay may delete it. Commits are
    /// batched: the next [`ClientConnection::poll_transmit`] sends every pending one in
    /// one frame (up to 1024 ids per frame).
    pub fn committed(&mut self, id: MessageId) {
        self.pending_acks.push(id);
    }

    /// Uploads prekeys (`PreKeyUpload` bytes); answered by [`Event::Done`].
    pub fn upload_prekeys(&mut self, upload: Vec<u8>) -> RequestId {
        self.request(|request| Frame::UploadPreKeys { request, upload })
    }

    /// Fetches a bundle of `address`; answered by [`Event::Bundle`].
    pub fn fetch_bundle(&mut self, address: Address) -> RequestId {
        self.request(|request| Frame::FetchBundle { request, address })
    }

    /// Fetches the devices of `user`; answered by [`Event::Devices`].
    pub fn fetch_devices(&mut self, user: Vec<u8>) -> RequestId {
        self.request(|request| Frame::FetchDevices { request, user })
    }

    /// Publishes a new device list of this device's user; answered by [`Event::Done`].
    pub fn publish_device_list(&mut self, device_list: Vec<u8>) -> RequestId {
        self.request(|request| Frame::PublishDeviceList {
            request,
            device_list,
        })
    }

    fn request(&mut self, make: impl FnOnce(RequestId) -> Frame) -> RequestId {
        let request = self.next_request;
        self.next_request = self.next_request.wrapping_add(1).max(1);
        let frame = make(request);
        if self.state == ConnectionState::Ready {
            self.transmit.push_back(frame.encode());
        }
        self.requests.insert(request, frame);
        request
    }

    fn flush_acks(&mut self) {
        while !self.pending_acks.is_empty() {
            let n = self.pending_acks.len().min(MAX_ACK_IDS);
            let ids: Vec<MessageId> = self.pending_acks.drain(..n).collect();
            self.transmit.push_back(Frame::Ack { ids }.encode());
        }
    }

    /// Handles one frame from the relay. On an error, close the socket after writing
    /// what [`ClientConnection::poll_transmit`] returns, then call
    /// [`ClientConnection::disconnected`].
    pub fn receive(&mut self, bytes: &[u8], signer: &dyn AuthSigner) -> Result<(), ClientError> {
        if matches!(self.state, ConnectionState::Disconnected { .. }) {
            return Err(ClientError::NotConnected);
        }
        let frame = match Frame::decode(bytes) {
            Ok(f) => f,
            Err(e) => {
                let code = match e {
                    FrameError::Oversize { .. } => ErrorCode::Oversize,
                    _ => ErrorCode::Malformed,
                };
                self.transmit
                    .push_back(Frame::connection_error(code).encode());
                return Err(e.into());
            }
        };
        let kind = frame.frame_type();
        match (self.state, frame) {
            (ConnectionState::AwaitingChallenge, Frame::Challenge { version, nonce }) => {
                if version != RELAY_PROTOCOL_VERSION {
                    self.transmit
                        .push_back(Frame::connection_error(ErrorCode::UnexpectedFrame).encode());
                    return Err(ClientError::UnsupportedVersion(version));
                }
                let address = self.config.address.clone();
                let signature = signer.sign_relay_auth(&nonce, &address);
                let auth = Frame::Authenticate {
                    address,
                    identity: signer.identity().to_bytes(),
                    signature,
                    certificate: self.config.certificate.clone(),
                };
                self.transmit.push_back(auth.encode());
                self.state = ConnectionState::Authenticating;
            }
            (ConnectionState::Authenticating, Frame::Welcome { queued }) => {
                self.state = ConnectionState::Ready;
                self.attempt = 0;
                let requests: Vec<Vec<u8>> = self.requests.values().map(Frame::encode).collect();
                self.transmit.extend(requests);
                self.cursor = None;
                self.in_flight = 0;
                self.pump();
                self.events.push_back(Event::Ready { queued });
            }
            (_, Frame::Error { code, reference }) if code.is_fatal() || reference.is_empty() => {
                self.events.push_back(Event::ConnectionFailed { code });
            }
            (ConnectionState::Ready, Frame::Error { code, reference }) => {
                self.refused(code, &reference);
            }
            (ConnectionState::Ready, Frame::Sent { id }) => {
                if self.answered(&id) {
                    self.events.push_back(Event::Sent(id));
                }
            }
            (ConnectionState::Ready, Frame::Deliver { sender, wire }) => {
                let id = MessageId::of(&wire);
                self.events.push_back(Event::Delivery { sender, id, wire });
            }
            (
                ConnectionState::Ready,
                Frame::Bundle {
                    request,
                    bundle,
                    certificate,
                    device_list,
                },
            ) if self.requests.remove(&request).is_some() => {
                self.events.push_back(Event::Bundle {
                    request,
                    bundle,
                    certificate,
                    device_list,
                });
            }
            (
                ConnectionState::Ready,
                Frame::Devices {
                    request,
                    devices,
                    device_list,
                },
            ) if self.requests.remove(&request).is_some() => {
                self.events.push_back(Event::Devices {
                    request,
                    devices,
                    device_list,
                });
            }
            (ConnectionState::Ready, Frame::Done { request })
                if self.requests.remove(&request).is_some() =>
            {
                self.events.push_back(Event::Done { request });
            }
            (state, _) => {
                self.transmit
                    .push_back(Frame::connection_error(ErrorCode::UnexpectedFrame).encode());
                return Err(ClientError::UnexpectedFrame { frame: kind, state });
            }
        }
        Ok(())
    }

    /// A non-fatal error about one send or one request.
    fn refused(&mut self, code: ErrorCode, reference: &[u8]) {
        if let Ok(id) = <[u8; 16]>::try_from(reference) {
            let id = MessageId(id);
            if self.answered(&id) {
                self.events.push_back(Event::SendFailed { id, code });
            }
        } else if let Ok(request) = <[u8; 4]>::try_from(reference) {
            let request = u32::from_be_bytes(request);
            if self.requests.remove(&request).is_some() {
                self.events
                    .push_back(Event::RequestFailed { request, code });
            }
        }
    }
}

fn send_frame(e: &OutboxEntry) -> Vec<u8> {
    Frame::Send {
        recipients: e.recipients.clone(),
        wire: e.wire.clone(),
    }
    .encode()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::identity::IdentityKeyPair;
    use crate::os_rng;
    use crate::relay_protocol::auth::verify_auth;

    fn client() -> (ClientConnection, IdentityKeyPair) {
        let ik = IdentityKeyPair::generate(&mut os_rng());
        let c = ClientConnection::new(ClientConfig {
            address: Address::new("alice", 1),
            certificate: None,
            backoff: Backoff {
                base_ms: 100,
                max_ms: 1_000,
                jitter_ms: 0,
            },
        });
        (c, ik)
    }

    fn frames(c: &mut ClientConnection) -> Vec<Frame> {
        std::iter::from_fn(|| c.poll_transmit())
            .map(|b| Frame::decode(&b).unwrap())
            .collect()
    }

    fn events(c: &mut ClientConnection) -> Vec<Event> {
        std::iter::from_fn(|| c.poll_event()).collect()
    }

    /// Connects and authenticates, checking the signature as the relay would.
    fn handshake(c: &mut ClientConnection, ik: &IdentityKeyPair, queued: u32) {
        c.connected();
        let nonce = [9u8; 32];
        c.receive(&Frame::Challenge { version: 1, nonce }.encode(), ik)
            .unwrap();
        match frames(c).as_slice() {
            [Frame::Authenticate {
                address,
                identity,
                signature,
                certificate: None,
            }] => {
                assert_eq!(address, &Address::new("alice", 1));
                assert_eq!(identity, ik.public().as_bytes());
                assert!(verify_auth(ik.public(), &nonce, address, signature));
            }
            other => panic!("expected one Authenticate, got {other:?}"),
        }
        c.receive(&Frame::Welcome { queued }.encode(), ik).unwrap();
        assert_eq!(c.state(), ConnectionState::Ready);
    }

    #[test]
    fn outbox_is_resent_after_reconnect_until_acknowledged() {
        let (mut c, ik) = client();
        let bob = Address::new("bob", 1);
        // Queued while offline: nothing goes out before authentication.
        let id1 = c.send(vec![bob.clone()], b"wire one".to_vec());
        assert!(frames(&mut c).is_empty());
        handshake(&mut c, &ik, 0);
        assert_eq!(events(&mut c), [Event::Ready { queued: 0 }]);
        let id2 = c.send(vec![bob.clone()], b"wire two".to_vec());
        let sent = frames(&mut c);
        assert_eq!(sent.len(), 2, "{sent:?}");
        c.receive(&Frame::Sent { id: id1 }.encode(), &ik).unwrap();
        assert_eq!(events(&mut c), [Event::Sent(id1)]);
        assert_eq!(c.outbox_len(), 1);

        // The pipe breaks before id2's acknowledgement: it is sent again, id1 is not.
        let delay = c.disconnected(1_000, &mut os_rng());
        assert_eq!(delay, 100);
        assert!(!c.should_connect(1_099) && c.should_connect(1_100));
        handshake(&mut c, &ik, 0);
        let again = frames(&mut c);
        assert_eq!(
            again,
            [Frame::Send {
                recipients: vec![bob],
                wire: b"wire two".to_vec()
            }]
        );
        // A duplicate acknowledgement reports nothing twice.
        c.receive(&Frame::Sent { id: id2 }.encode(), &ik).unwrap();
        c.receive(&Frame::Sent { id: id2 }.encode(), &ik).unwrap();
        assert_eq!(
            events(&mut c),
            [Event::Ready { queued: 0 }, Event::Sent(id2)]
        );
        assert_eq!(c.outbox_len(), 0);
    }

    #[test]
    fn a_long_outbox_flows_at_the_pace_of_the_relays_answers() {
        let (mut c, ik) = client();
        let ids: Vec<MessageId> = (0..600u32)
            .map(|i| c.send(vec![Address::new("bob", 1)], i.to_be_bytes().to_vec()))
            .collect();
        handshake(&mut c, &ik, 0);
        assert_eq!(frames(&mut c).len(), MAX_SENDS_IN_FLIGHT);
        // Each answer lets one more out, in order.
        for (k, id) in ids.iter().take(10).enumerate() {
            c.receive(&Frame::Sent { id: *id }.encode(), &ik).unwrap();
            let next = (MAX_SENDS_IN_FLIGHT + k) as u32;
            assert_eq!(
                frames(&mut c),
                [Frame::Send {
                    recipients: vec![Address::new("bob", 1)],
                    wire: next.to_be_bytes().to_vec()
                }]
            );
        }
        // After a reconnect the window starts again from the oldest unanswered entry.
        c.disconnected(0, &mut os_rng());
        handshake(&mut c, &ik, 0);
        let again = frames(&mut c);
        assert_eq!(again.len(), MAX_SENDS_IN_FLIGHT);
        assert_eq!(
            again.first(),
            Some(&Frame::Send {
                recipients: vec![Address::new("bob", 1)],
                wire: 10u32.to_be_bytes().to_vec()
            })
        );
        for id in &ids[10..] {
            c.receive(&Frame::Sent { id: *id }.encode(), &ik).unwrap();
        }
        let rest = frames(&mut c);
        assert_eq!(rest.len(), 600 - 10 - MAX_SENDS_IN_FLIGHT);
        assert_eq!(c.outbox_len(), 0);
    }

    #[test]
    fn deliveries_are_acknowledged_only_after_commit() {
        let (mut c, ik) = client();
        handshake(&mut c, &ik, 1);
        let wire = b"opaque".to_vec();
        c.receive(
            &Frame::Deliver {
                sender: Address::new("bob", 1),
                wire: wire.clone(),
            }
            .encode(),
            &ik,
        )
        .unwrap();
        let id = MessageId::of(&wire);
        assert_eq!(
            events(&mut c),
            [
                Event::Ready { queued: 1 },
                Event::Delivery {
                    sender: Address::new("bob", 1),
                    id,
                    wire
                }
            ]
        );
        assert!(frames(&mut c).is_empty(), "acknowledged before the commit");
        c.committed(id);
        assert_eq!(frames(&mut c), [Frame::Ack { ids: vec![id] }]);
    }

    #[test]
    fn commits_between_two_writes_go_in_one_acknowledgement() {
        let (mut c, ik) = client();
        handshake(&mut c, &ik, 0);
        let ids: Vec<MessageId> = (0..1500u16)
            .map(|i| {
                let mut b = [0u8; 16];
                b[..2].copy_from_slice(&i.to_be_bytes());
                MessageId(b)
            })
            .collect();
        for id in &ids {
            c.committed(*id);
        }
        assert_eq!(
            frames(&mut c),
            [
                Frame::Ack {
                    ids: ids[..1024].to_vec()
                },
                Frame::Ack {
                    ids: ids[1024..].to_vec()
                }
            ]
        );
    }

    #[test]
    fn commits_made_while_disconnected_are_acknowledged_after_reconnect() {
        let (mut c, ik) = client();
        handshake(&mut c, &ik, 0);
        c.disconnected(0, &mut os_rng());
        let id = MessageId([3; 16]);
        c.committed(id);
        assert!(frames(&mut c).is_empty());
        handshake(&mut c, &ik, 0);
        assert_eq!(frames(&mut c), [Frame::Ack { ids: vec![id] }]);
    }

    #[test]
    fn requests_are_answered_once_and_resent_after_reconnect() {
        let (mut c, ik) = client();
        handshake(&mut c, &ik, 0);
        let r = c.fetch_bundle(Address::new("bob", 1));
        assert_eq!(frames(&mut c).len(), 1);
        c.disconnected(0, &mut os_rng());
        handshake(&mut c, &ik, 0);
        assert_eq!(
            frames(&mut c),
            [Frame::FetchBundle {
                request: r,
                address: Address::new("bob", 1)
            }]
        );
        c.receive(&Frame::request_error(ErrorCode::NoBundle, r).encode(), &ik)
            .unwrap();
        let ev = events(&mut c);
        assert_eq!(
            ev.last(),
            Some(&Event::RequestFailed {
                request: r,
                code: ErrorCode::NoBundle
            })
        );
        // An answer to a request that is no longer pending is refused.
        assert!(c
            .receive(&Frame::Done { request: r }.encode(), &ik)
            .is_err());
    }

    #[test]
    fn a_refused_send_leaves_the_outbox() {
        let (mut c, ik) = client();
        handshake(&mut c, &ik, 0);
        let id = c.send(vec![Address::new("nobody", 1)], b"w".to_vec());
        c.receive(
            &Frame::message_error(ErrorCode::UnknownRecipient, &id).encode(),
            &ik,
        )
        .unwrap();
        assert_eq!(
            events(&mut c).last(),
            Some(&Event::SendFailed {
                id,
                code: ErrorCode::UnknownRecipient
            })
        );
        assert_eq!(c.outbox_len(), 0);
    }

    #[test]
    fn out_of_order_and_malformed_frames_are_refused_with_an_error_frame() {
        let (mut c, ik) = client();
        c.connected();
        // A delivery before authentication.
        let deliver = Frame::Deliver {
            sender: Address::new("bob", 1),
            wire: b"x".to_vec(),
        };
        assert!(matches!(
            c.receive(&deliver.encode(), &ik),
            Err(ClientError::UnexpectedFrame { .. })
        ));
        assert_eq!(
            frames(&mut c),
            [Frame::connection_error(ErrorCode::UnexpectedFrame)]
        );
        assert!(matches!(
            c.receive(&[0xFF], &ik),
            Err(ClientError::Frame(FrameError::UnknownFrameType(0xFF)))
        ));
        assert_eq!(
            frames(&mut c),
            [Frame::connection_error(ErrorCode::Malformed)]
        );
        // A fatal error from the relay is reported to the app.
        c.receive(
            &Frame::connection_error(ErrorCode::AuthenticationFailed).encode(),
            &ik,
        )
        .unwrap();
        assert_eq!(
            events(&mut c),
            [Event::ConnectionFailed {
                code: ErrorCode::AuthenticationFailed
            }]
        );
    }

    #[test]
    fn backoff_grows_per_failed_attempt_and_resets_after_welcome() {
        let (mut c, ik) = client();
        let mut rng = os_rng();
        let delays: Vec<u64> = (0..5)
            .map(|_| {
                c.connected();
                c.disconnected(0, &mut rng)
            })
            .collect();
        assert_eq!(delays, [100, 200, 400, 800, 1_000]);
        handshake(&mut c, &ik, 0);
        assert_eq!(c.disconnected(0, &mut rng), 100);
    }
}
