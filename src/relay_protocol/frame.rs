//! Relay frames and their codec (`docs/relay.md` gives the layout byte for byte).
//!
//! A frame is `type (1) || fields`, one frame per binary WebSocket message. Each field is
//! `token (1) || value`, in the order the frame type fixes; an optional field keeps its
//! token and carries a presence byte, so no truncation of a frame is itself a frame. Values are fixed-size (integers big-endian, keys, ids) or
//! length-prefixed byte strings. Parsing is strict: the size limit first, then every
//! token, length and range, and nothing may follow the last field.

use super::error::{ErrorCode, FrameError};
use super::{MAX_ACK_IDS, MAX_DEVICES, MAX_FRAME_LEN, MAX_RECIPIENTS, MAX_USER_ID_LEN, NONCE_LEN};
use crate::account::Address;
use crate::wire::MessageId;

/// The one-byte token of each frame type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// Relay to device: the protocol version and a fresh nonce to sign.
    Challenge = 0x01,
    /// Device to relay: its address and identity, and its signature over the nonce.
    Authenticate = 0x02,
    /// Relay to device: authenticated; the queue will follow.
    Welcome = 0x03,
    /// Device to relay: a prekey upload (`PreKeyUpload` bytes).
    UploadPreKeys = 0x04,
    /// Device to relay: a bundle of another device, please.
    FetchBundle = 0x05,
    /// Relay to device: the bundle, with the device's certificate and the user's list.
    Bundle = 0x06,
    /// Device to relay: the devices of a user, please.
    FetchDevices = 0x07,
    /// Relay to device: a user's devices.
    Devices = 0x08,
    /// Device to relay: a new signed device list of its own user.
    PublishDeviceList = 0x09,
    /// Relay to device: a request succeeded.
    Done = 0x0A,
    /// Device to relay: one wire for one or more devices.
    Send = 0x0B,
    /// Relay to device: a wire is stored for every recipient (the grey tick).
    Sent = 0x0C,
    /// Relay to device: a wire from another device.
    Deliver = 0x0D,
    /// Device to relay: these deliveries are committed; delete them.
    Ack = 0x0E,
    /// Either way: an error, fatal or about one request.
    Error = 0x0F,
}

impl FrameType {
    const ALL: [FrameType; 15] = [
        Self::Challenge,
        Self::Authenticate,
        Self::Welcome,
        Self::UploadPreKeys,
        Self::FetchBundle,
        Self::Bundle,
        Self::FetchDevices,
        Self::Devices,
        Self::PublishDeviceList,
        Self::Done,
        Self::Send,
        Self::Sent,
        Self::Deliver,
        Self::Ack,
        Self::Error,
    ];

    /// The type named by a byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| *t as u8 == b)
    }

    /// Whether devices send this frame type (the relay refuses the others from devices).
    pub fn from_device(self) -> bool {
        matches!(
            self,
            Self::Authenticate
                | Self::UploadPreKeys
                | Self::FetchBundle
                | Self::FetchDevices
                | Self::PublishDeviceList
                | Self::Send
                | Self::Ack
                | Self::Error
        )
    }
}

/// Field tokens: each field of a frame is introduced by one of these bytes.
mod token {
    pub(super) const VERSION: u8 = 0x01;
    pub(super) const NONCE: u8 = 0x02;
    pub(super) const ADDRESS: u8 = 0x03;
    pub(super) const IDENTITY: u8 = 0x04;
    pub(super) const SIGNATURE: u8 = 0x05;
    pub(super) const CERTIFICATE: u8 = 0x06;
    pub(super) const QUEUED: u8 = 0x07;
    pub(super) const REQUEST: u8 = 0x08;
    pub(super) const UPLOAD: u8 = 0x09;
    pub(super) const BUNDLE: u8 = 0x0A;
    pub(super) const DEVICE_LIST: u8 = 0x0B;
    pub(super) const USER: u8 = 0x0C;
    pub(super) const DEVICE_IDS: u8 = 0x0D;
    pub(super) const RECIPIENTS: u8 = 0x0E;
    pub(super) const WIRE: u8 = 0x0F;
    pub(super) const MESSAGE_ID: u8 = 0x10;
    pub(super) const SENDER: u8 = 0x11;
    pub(super) const MESSAGE_IDS: u8 = 0x12;
    pub(super) const CODE: u8 = 0x13;
    pub(super) const REFERENCE: u8 = 0x14;
}

/// The longest reference an error frame carries (a message id).
pub const MAX_REFERENCE_LEN: usize = 16;

/// One frame of the relay protocol.
#[derive(Clone, PartialEq, Eq)]
pub enum Frame {
    /// Relay to device, first frame on every connection.
    Challenge {
        /// The relay protocol version.
        version: u8,
        /// Fresh random bytes the device signs.
        nonce: [u8; NONCE_LEN],
    },
    /// Device to relay, answering the challenge.
    Authenticate {
        /// The device's address.
        address: Address,
        /// The device's identity key `IK`.
        identity: [u8; 32],
        /// `Sig(IK, "Bluetick_RelayAuth_v1" || nonce || address)`.
        signature: [u8; 64],
        /// A companion device's certificate (spec §11), if it has one.
        certificate: Option<Vec<u8>>,
    },
    /// Relay to device: authenticated.
    Welcome {
        /// How many messages wait in the device's queue (they follow as `Deliver`).
        queued: u32,
    },
    /// Device to relay: store these prekeys (`PreKeyUpload` bytes).
    UploadPreKeys {
        /// Chosen by the device, echoed in the answer.
        request: u32,
        /// The upload's bytes.
        upload: Vec<u8>,
    },
    /// Device to relay: hand out a bundle of `address`.
    FetchBundle {
        /// Chosen by the device, echoed in the answer.
        request: u32,
        /// Whose bundle.
        address: Address,
    },
    /// Relay to device: a bundle (one one-time prekey of each kind consumed, if any).
    Bundle {
        /// The request answered.
        request: u32,
        /// `PreKeyBundle` bytes.
        bundle: Vec<u8>,
        /// The device's certificate, if it presented one.
        certificate: Option<Vec<u8>>,
        /// The user's newest device list, if one was published.
        device_list: Option<Vec<u8>>,
    },
    /// Device to relay: list the devices of `user`.
    FetchDevices {
        /// Chosen by the device, echoed in the answer.
        request: u32,
        /// The user id.
        user: Vec<u8>,
    },
    /// Relay to device: the devices of a user.
    Devices {
        /// The request answered.
        request: u32,
        /// The device ids the relay holds prekeys for, ascending.
        devices: Vec<u32>,
        /// The user's newest signed device list, if one was published.
        device_list: Option<Vec<u8>>,
    },
    /// Device to relay: a new device list of the device's own user.
    PublishDeviceList {
        /// Chosen by the device, echoed in the answer.
        request: u32,
        /// `DeviceList` bytes (spec §11).
        device_list: Vec<u8>,
    },
    /// Relay to device: the request succeeded.
    Done {
        /// The request answered.
        request: u32,
    },
    /// Device to relay: queue `wire` for each recipient.
    Send {
        /// One device for a pairwise wire, several for a group wire.
        recipients: Vec<Address>,
        /// The wire message, opaque to the relay.
        wire: Vec<u8>,
    },
    /// Relay to device: the wire with this id is stored for every recipient.
    Sent {
        /// `MessageId::of(wire)`.
        id: MessageId,
    },
    /// Relay to device: a wire from another device.
    Deliver {
        /// The authenticated address of the device that sent it.
        sender: Address,
        /// The wire message.
        wire: Vec<u8>,
    },
    /// Device to relay: these deliveries are committed and may be deleted.
    Ack {
        /// Their ids (1 to 1024).
        ids: Vec<MessageId>,
    },
    /// An error.
    Error {
        /// What went wrong.
        code: ErrorCode,
        /// What it is about: a request id (4 bytes), a message id (16), or nothing.
        reference: Vec<u8>,
    },
}

impl core::fmt::Debug for Frame {
    /// Routing data only: sizes of opaque payloads, never their bytes.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Challenge { version, nonce: _ } => write!(f, "Challenge(v{version})"),
            Self::Authenticate {
                address,
                identity: _,
                signature: _,
                certificate,
            } => write!(
                f,
                "Authenticate({address}, certificate: {})",
                certificate.is_some()
            ),
            Self::Welcome { queued } => write!(f, "Welcome(queued {queued})"),
            Self::UploadPreKeys { request, upload } => {
                write!(f, "UploadPreKeys(#{request}, {} B)", upload.len())
            }
            Self::FetchBundle { request, address } => {
                write!(f, "FetchBundle(#{request}, {address})")
            }
            Self::Bundle {
                request,
                bundle,
                certificate,
                device_list,
            } => write!(
                f,
                "Bundle(#{request}, {} B, certificate: {}, list: {})",
                bundle.len(),
                certificate.is_some(),
                device_list.is_some()
            ),
            Self::FetchDevices { request, user } => write!(
                f,
                "FetchDevices(#{request}, {})",
                String::from_utf8_lossy(user)
            ),
            Self::Devices {
                request,
                devices,
                device_list,
            } => write!(
                f,
                "Devices(#{request}, {devices:?}, list: {})",
                device_list.is_some()
            ),
            Self::PublishDeviceList {
                request,
                device_list,
            } => write!(f, "PublishDeviceList(#{request}, {} B)", device_list.len()),
            Self::Done { request } => write!(f, "Done(#{request})"),
            Self::Send { recipients, wire } => {
                write!(f, "Send({} recipients, {} B)", recipients.len(), wire.len())
            }
            Self::Sent { id } => write!(f, "Sent({id:?})"),
            Self::Deliver { sender, wire } => write!(f, "Deliver({sender}, {} B)", wire.len()),
            Self::Ack { ids } => write!(f, "Ack({} ids)", ids.len()),
            Self::Error { code, reference } => {
                write!(f, "Error({code}, {} B reference)", reference.len())
            }
        }
    }
}

impl Frame {
    /// The frame's type.
    pub fn frame_type(&self) -> FrameType {
        match self {
            Self::Challenge { .. } => FrameType::Challenge,
            Self::Authenticate { .. } => FrameType::Authenticate,
            Self::Welcome { .. } => FrameType::Welcome,
            Self::UploadPreKeys { .. } => FrameType::UploadPreKeys,
            Self::FetchBundle { .. } => FrameType::FetchBundle,
            Self::Bundle { .. } => FrameType::Bundle,
            Self::FetchDevices { .. } => FrameType::FetchDevices,
            Self::Devices { .. } => FrameType::Devices,
            Self::PublishDeviceList { .. } => FrameType::PublishDeviceList,
            Self::Done { .. } => FrameType::Done,
            Self::Send { .. } => FrameType::Send,
            Self::Sent { .. } => FrameType::Sent,
            Self::Deliver { .. } => FrameType::Deliver,
            Self::Ack { .. } => FrameType::Ack,
            Self::Error { .. } => FrameType::Error,
        }
    }

    /// An error frame about a request.
    pub fn request_error(code: ErrorCode, request: u32) -> Self {
        Self::Error {
            code,
            reference: request.to_be_bytes().to_vec(),
        }
    }

    /// An error frame about a sent wire.
    pub fn message_error(code: ErrorCode, id: &MessageId) -> Self {
        Self::Error {
            code,
            reference: id.as_bytes().to_vec(),
        }
    }

    /// An error frame about the connection itself.
    pub fn connection_error(code: ErrorCode) -> Self {
        Self::Error {
            code,
            reference: Vec::new(),
        }
    }

    /// The frame's bytes. A frame built from values that break a limit (an over-long
    /// user id, too many recipients) encodes, but its parse fails: check with
    /// [`Frame::decode`] when the values come from elsewhere.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = FieldWriter(Vec::with_capacity(self.encoded_len_hint()));
        w.0.push(self.frame_type() as u8);
        match self {
            Self::Challenge { version, nonce } => {
                w.token(token::VERSION).u8(*version);
                w.token(token::NONCE).raw(nonce);
            }
            Self::Authenticate {
                address,
                identity,
                signature,
                certificate,
            } => {
                w.token(token::ADDRESS).address(address);
                w.token(token::IDENTITY).raw(identity);
                w.token(token::SIGNATURE).raw(signature);
                w.token(token::CERTIFICATE).optional(certificate.as_deref());
            }
            Self::Welcome { queued } => {
                w.token(token::QUEUED).u32(*queued);
            }
            Self::UploadPreKeys { request, upload } => {
                w.token(token::REQUEST).u32(*request);
                w.token(token::UPLOAD).long(upload);
            }
            Self::FetchBundle { request, address } => {
                w.token(token::REQUEST).u32(*request);
                w.token(token::ADDRESS).address(address);
            }
            Self::Bundle {
                request,
                bundle,
                certificate,
                device_list,
            } => {
                w.token(token::REQUEST).u32(*request);
                w.token(token::BUNDLE).long(bundle);
                w.token(token::CERTIFICATE).optional(certificate.as_deref());
                w.token(token::DEVICE_LIST).optional(device_list.as_deref());
            }
            Self::FetchDevices { request, user } => {
                w.token(token::REQUEST).u32(*request);
                w.token(token::USER).short(user);
            }
            Self::Devices {
                request,
                devices,
                device_list,
            } => {
                w.token(token::REQUEST).u32(*request);
                w.token(token::DEVICE_IDS)
                    .u8(u8::try_from(devices.len()).unwrap_or(u8::MAX));
                for d in devices.iter().take(usize::from(u8::MAX)) {
                    w.u32(*d);
                }
                w.token(token::DEVICE_LIST).optional(device_list.as_deref());
            }
            Self::PublishDeviceList {
                request,
                device_list,
            } => {
                w.token(token::REQUEST).u32(*request);
                w.token(token::DEVICE_LIST).long(device_list);
            }
            Self::Done { request } => {
                w.token(token::REQUEST).u32(*request);
            }
            Self::Send { recipients, wire } => {
                w.token(token::RECIPIENTS)
                    .u16(u16::try_from(recipients.len()).unwrap_or(u16::MAX));
                for r in recipients.iter().take(usize::from(u16::MAX)) {
                    w.address(r);
                }
                w.token(token::WIRE).long(wire);
            }
            Self::Sent { id } => {
                w.token(token::MESSAGE_ID).raw(id.as_bytes());
            }
            Self::Deliver { sender, wire } => {
                w.token(token::SENDER).address(sender);
                w.token(token::WIRE).long(wire);
            }
            Self::Ack { ids } => {
                w.token(token::MESSAGE_IDS)
                    .u16(u16::try_from(ids.len()).unwrap_or(u16::MAX));
                for id in ids.iter().take(usize::from(u16::MAX)) {
                    w.raw(id.as_bytes());
                }
            }
            Self::Error { code, reference } => {
                w.token(token::CODE).u8(code.to_byte());
                w.token(token::REFERENCE).short(reference);
            }
        }
        w.0
    }

    fn encoded_len_hint(&self) -> usize {
        64 + match self {
            Self::UploadPreKeys { upload, .. } => upload.len(),
            Self::Bundle { bundle, .. } => bundle.len() + 512,
            Self::Send { recipients, wire } => recipients.len() * 16 + wire.len(),
            Self::Deliver { wire, .. } => wire.len(),
            Self::Ack { ids } => ids.len() * 16,
            _ => 128,
        }
    }

    /// Parses one frame, strictly. Refuses frames over [`MAX_FRAME_LEN`] before reading.
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        if bytes.len() > MAX_FRAME_LEN {
            return Err(FrameError::Oversize {
                len: bytes.len(),
                max: MAX_FRAME_LEN,
            });
        }
        let (&kind, rest) = bytes.split_first().ok_or(FrameError::Empty)?;
        let kind = FrameType::from_byte(kind).ok_or(FrameError::UnknownFrameType(kind))?;
        let mut r = FieldReader { buf: rest };
        let frame = match kind {
            FrameType::Challenge => Self::Challenge {
                version: r.field(token::VERSION, "version")?.u8("version")?,
                nonce: r.field(token::NONCE, "nonce")?.array("nonce")?,
            },
            FrameType::Authenticate => Self::Authenticate {
                address: r.field(token::ADDRESS, "address")?.address("address")?,
                identity: r.field(token::IDENTITY, "identity")?.array("identity")?,
                signature: r.field(token::SIGNATURE, "signature")?.array("signature")?,
                certificate: r.optional_long(token::CERTIFICATE, "certificate")?,
            },
            FrameType::Welcome => Self::Welcome {
                queued: r.field(token::QUEUED, "queued")?.u32("queued")?,
            },
            FrameType::UploadPreKeys => Self::UploadPreKeys {
                request: r.request()?,
                upload: r.field(token::UPLOAD, "upload")?.long("upload")?,
            },
            FrameType::FetchBundle => Self::FetchBundle {
                request: r.request()?,
                address: r.field(token::ADDRESS, "address")?.address("address")?,
            },
            FrameType::Bundle => Self::Bundle {
                request: r.request()?,
                bundle: r.field(token::BUNDLE, "bundle")?.long("bundle")?,
                certificate: r.optional_long(token::CERTIFICATE, "certificate")?,
                device_list: r.optional_long(token::DEVICE_LIST, "device list")?,
            },
            FrameType::FetchDevices => Self::FetchDevices {
                request: r.request()?,
                user: r.field(token::USER, "user")?.user("user")?,
            },
            FrameType::Devices => {
                let request = r.request()?;
                let n = usize::from(r.field(token::DEVICE_IDS, "device ids")?.u8("device ids")?);
                if n > MAX_DEVICES {
                    return Err(FrameError::InvalidValue { what: "device ids" });
                }
                let mut devices = Vec::with_capacity(n);
                for _ in 0..n {
                    devices.push(r.u32("device ids")?);
                }
                if devices.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
                    return Err(FrameError::InvalidValue { what: "device ids" });
                }
                Self::Devices {
                    request,
                    devices,
                    device_list: r.optional_long(token::DEVICE_LIST, "device list")?,
                }
            }
            FrameType::PublishDeviceList => Self::PublishDeviceList {
                request: r.request()?,
                device_list: r
                    .field(token::DEVICE_LIST, "device list")?
                    .long("device list")?,
            },
            FrameType::Done => Self::Done {
                request: r.request()?,
            },
            FrameType::Send => {
                let n = usize::from(
                    r.field(token::RECIPIENTS, "recipients")?
                        .u16("recipients")?,
                );
                if n == 0 || n > MAX_RECIPIENTS {
                    return Err(FrameError::InvalidValue { what: "recipients" });
                }
                // Each address takes at least 6 bytes: refuse a count the frame cannot
                // hold before reserving room for it.
                if n.saturating_mul(6) > r.buf.len() {
                    return Err(FrameError::Truncated { what: "recipients" });
                }
                let mut recipients = Vec::with_capacity(n);
                for _ in 0..n {
                    recipients.push(r.address("recipients")?);
                }
                let wire = r.field(token::WIRE, "wire")?.long("wire")?;
                if wire.is_empty() {
                    return Err(FrameError::InvalidValue { what: "wire" });
                }
                Self::Send { recipients, wire }
            }
            FrameType::Sent => Self::Sent {
                id: MessageId(
                    r.field(token::MESSAGE_ID, "message id")?
                        .array("message id")?,
                ),
            },
            FrameType::Deliver => {
                let sender = r.field(token::SENDER, "sender")?.address("sender")?;
                let wire = r.field(token::WIRE, "wire")?.long("wire")?;
                if wire.is_empty() {
                    return Err(FrameError::InvalidValue { what: "wire" });
                }
                Self::Deliver { sender, wire }
            }
            FrameType::Ack => {
                let n = usize::from(
                    r.field(token::MESSAGE_IDS, "message ids")?
                        .u16("message ids")?,
                );
                if n == 0 || n > MAX_ACK_IDS {
                    return Err(FrameError::InvalidValue {
                        what: "message ids",
                    });
                }
                let mut ids = Vec::with_capacity(n.min(r.buf.len() / 16));
                for _ in 0..n {
                    ids.push(MessageId(r.array("message ids")?));
                }
                Self::Ack { ids }
            }
            FrameType::Error => {
                let byte = r.field(token::CODE, "code")?.u8("code")?;
                let code =
                    ErrorCode::from_byte(byte).ok_or(FrameError::InvalidValue { what: "code" })?;
                let reference = r.field(token::REFERENCE, "reference")?.short("reference")?;
                if reference.len() > MAX_REFERENCE_LEN {
                    return Err(FrameError::InvalidValue { what: "reference" });
                }
                Self::Error { code, reference }
            }
        };
        if !r.buf.is_empty() {
            return Err(FrameError::TrailingBytes);
        }
        Ok(frame)
    }
}

struct FieldWriter(Vec<u8>);

impl FieldWriter {
    fn token(&mut self, t: u8) -> &mut Self {
        self.0.push(t);
        self
    }
    fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }
    /// `len (u8) || bytes`; longer inputs are cut (and then refused by the parser's
    /// range checks, as every user id over 64 bytes is).
    fn short(&mut self, b: &[u8]) -> &mut Self {
        let n = b.len().min(usize::from(u8::MAX));
        self.u8(u8::try_from(n).unwrap_or(u8::MAX));
        self.raw(b.get(..n).unwrap_or_default())
    }
    /// `len (u32) || bytes`.
    fn long(&mut self, b: &[u8]) -> &mut Self {
        self.u32(u32::try_from(b.len()).unwrap_or(u32::MAX));
        self.raw(b)
    }
    /// `0x00` when absent, `0x01 || len (u32) || bytes` when present: an optional field
    /// always keeps its token, so no truncation of a frame parses as a shorter frame.
    fn optional(&mut self, b: Option<&[u8]>) -> &mut Self {
        match b {
            Some(b) => self.u8(1).long(b),
            None => self.u8(0),
        }
    }
    fn address(&mut self, a: &Address) -> &mut Self {
        self.short(&a.user);
        self.u32(a.device)
    }
}

struct FieldReader<'a> {
    buf: &'a [u8],
}

impl<'a> FieldReader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], FrameError> {
        if self.buf.len() < n {
            return Err(FrameError::Truncated { what });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Consumes the token of a required field.
    fn field(&mut self, expected: u8, what: &'static str) -> Result<&mut Self, FrameError> {
        let found = self.u8(what)?;
        if found != expected {
            return Err(FrameError::UnexpectedField {
                what,
                expected,
                found,
            });
        }
        Ok(self)
    }

    /// An optional long byte string under `tok`: a presence byte, then the string.
    fn optional_long(
        &mut self,
        tok: u8,
        what: &'static str,
    ) -> Result<Option<Vec<u8>>, FrameError> {
        match self.field(tok, what)?.u8(what)? {
            0 => Ok(None),
            1 => Ok(Some(self.long(what)?)),
            _ => Err(FrameError::InvalidValue { what }),
        }
    }

    fn request(&mut self) -> Result<u32, FrameError> {
        self.field(token::REQUEST, "request")?.u32("request")
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], FrameError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, FrameError> {
        Ok(u8::from_be_bytes(self.array(what)?))
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, FrameError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, FrameError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    fn short(&mut self, what: &'static str) -> Result<Vec<u8>, FrameError> {
        let n = usize::from(self.u8(what)?);
        Ok(self.take(n, what)?.to_vec())
    }

    fn long(&mut self, what: &'static str) -> Result<Vec<u8>, FrameError> {
        let n = usize::try_from(self.u32(what)?).unwrap_or(usize::MAX);
        // `take` checks the length against the bytes left, so a claimed length never
        // allocates more than the frame holds.
        Ok(self.take(n, what)?.to_vec())
    }

    fn user(&mut self, what: &'static str) -> Result<Vec<u8>, FrameError> {
        let user = self.short(what)?;
        if user.is_empty() || user.len() > MAX_USER_ID_LEN {
            return Err(FrameError::InvalidValue { what });
        }
        Ok(user)
    }

    fn address(&mut self, what: &'static str) -> Result<Address, FrameError> {
        let user = self.user(what)?;
        Ok(Address::new(user, self.u32(what)?))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn address() -> impl Strategy<Value = Address> {
        (
            proptest::collection::vec(any::<u8>(), 1..=MAX_USER_ID_LEN),
            any::<u32>(),
        )
            .prop_map(|(u, d)| Address::new(u, d))
    }

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
    }

    fn id() -> impl Strategy<Value = MessageId> {
        any::<[u8; 16]>().prop_map(MessageId)
    }

    pub(crate) fn frame() -> impl Strategy<Value = Frame> {
        let code = proptest::sample::select(ErrorCode::ALL.to_vec());
        prop_oneof![
            (any::<u8>(), any::<[u8; 32]>())
                .prop_map(|(version, nonce)| Frame::Challenge { version, nonce }),
            (
                address(),
                any::<[u8; 32]>(),
                any::<[u8; 32]>(),
                any::<[u8; 32]>(),
                proptest::option::of(bytes(200))
            )
                .prop_map(|(address, identity, s1, s2, certificate)| {
                    let mut signature = [0u8; 64];
                    signature[..32].copy_from_slice(&s1);
                    signature[32..].copy_from_slice(&s2);
                    Frame::Authenticate {
                        address,
                        identity,
                        signature,
                        certificate,
                    }
                }),
            any::<u32>().prop_map(|queued| Frame::Welcome { queued }),
            (any::<u32>(), bytes(300))
                .prop_map(|(request, upload)| Frame::UploadPreKeys { request, upload }),
            (any::<u32>(), address())
                .prop_map(|(request, address)| Frame::FetchBundle { request, address }),
            (
                any::<u32>(),
                bytes(300),
                proptest::option::of(bytes(100)),
                proptest::option::of(bytes(100))
            )
                .prop_map(|(request, bundle, certificate, device_list)| {
                    Frame::Bundle {
                        request,
                        bundle,
                        certificate,
                        device_list,
                    }
                }),
            (
                any::<u32>(),
                proptest::collection::vec(any::<u8>(), 1..=MAX_USER_ID_LEN)
            )
                .prop_map(|(request, user)| Frame::FetchDevices { request, user }),
            (
                any::<u32>(),
                proptest::collection::btree_set(any::<u32>(), 0..=MAX_DEVICES),
                proptest::option::of(bytes(100))
            )
                .prop_map(|(request, devices, device_list)| Frame::Devices {
                    request,
                    devices: devices.into_iter().collect(),
                    device_list
                }),
            (any::<u32>(), bytes(200)).prop_map(|(request, device_list)| {
                Frame::PublishDeviceList {
                    request,
                    device_list,
                }
            }),
            any::<u32>().prop_map(|request| Frame::Done { request }),
            (
                proptest::collection::vec(address(), 1..20),
                proptest::collection::vec(any::<u8>(), 1..300)
            )
                .prop_map(|(recipients, wire)| Frame::Send { recipients, wire }),
            id().prop_map(|id| Frame::Sent { id }),
            (address(), proptest::collection::vec(any::<u8>(), 1..300))
                .prop_map(|(sender, wire)| Frame::Deliver { sender, wire }),
            proptest::collection::vec(id(), 1..50).prop_map(|ids| Frame::Ack { ids }),
            (code, bytes(MAX_REFERENCE_LEN + 1))
                .prop_map(|(code, reference)| Frame::Error { code, reference }),
        ]
    }

    proptest! {
        #[test]
        fn every_frame_round_trips(f in frame()) {
            let bytes = f.encode();
            prop_assert_eq!(Frame::decode(&bytes), Ok(f));
        }

        #[test]
        fn every_truncation_is_refused(f in frame()) {
            let bytes = f.encode();
            for n in 0..bytes.len() {
                prop_assert!(Frame::decode(&bytes[..n]).is_err(), "accepted {} of {} bytes", n, bytes.len());
            }
        }

        #[test]
        fn an_appended_byte_is_refused(f in frame(), extra in any::<u8>()) {
            let mut bytes = f.encode();
            bytes.push(extra);
            prop_assert!(Frame::decode(&bytes).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in bytes(400)) {
            let _ = Frame::decode(&bytes);
        }
    }

    #[test]
    fn oversize_is_refused_before_parsing() {
        let big = vec![FrameType::Send as u8; MAX_FRAME_LEN + 1];
        assert_eq!(
            Frame::decode(&big),
            Err(FrameError::Oversize {
                len: MAX_FRAME_LEN + 1,
                max: MAX_FRAME_LEN
            })
        );
    }

    #[test]
    fn known_bytes_of_a_send_frame() {
        let f = Frame::Send {
            recipients: vec![Address::new("bob", 2)],
            wire: vec![0x11, 0xAA],
        };
        assert_eq!(
            f.encode(),
            [
                0x0B, 0x0E, 0x00, 0x01, 0x03, b'b', b'o', b'b', 0, 0, 0, 2, 0x0F, 0, 0, 0, 2, 0x11,
                0xAA
            ]
        );
    }

    #[test]
    fn typed_errors_for_each_kind_of_bad_frame() {
        assert_eq!(Frame::decode(&[]), Err(FrameError::Empty));
        assert_eq!(
            Frame::decode(&[0x7F]),
            Err(FrameError::UnknownFrameType(0x7F))
        );
        assert_eq!(
            Frame::decode(&[0x0A, 0x09, 0, 0, 0, 1]),
            Err(FrameError::UnexpectedField {
                what: "request",
                expected: 0x08,
                found: 0x09
            })
        );
        assert_eq!(
            Frame::decode(&[0x0A, 0x08, 0, 0, 0, 1, 0]),
            Err(FrameError::TrailingBytes)
        );
        // An empty user id, and a count of zero recipients.
        assert_eq!(
            Frame::decode(&[0x07, 0x08, 0, 0, 0, 1, 0x0C, 0]),
            Err(FrameError::InvalidValue { what: "user" })
        );
        assert_eq!(
            Frame::decode(&[0x0B, 0x0E, 0, 0]),
            Err(FrameError::InvalidValue { what: "recipients" })
        );
        // A long string claiming 4 GiB in a short frame.
        assert_eq!(
            Frame::decode(&[0x04, 0x08, 0, 0, 0, 1, 0x09, 0xFF, 0xFF, 0xFF, 0xFF, 1]),
            Err(FrameError::Truncated { what: "upload" })
        );
        assert_eq!(
            Frame::decode(&[0x0F, 0x13, 0xEE, 0x14, 0]),
            Err(FrameError::InvalidValue { what: "code" })
        );
    }

    #[test]
    fn debug_shows_sizes_not_payloads() {
        let f = Frame::Deliver {
            sender: Address::new("alice", 1),
            wire: b"secret body".to_vec(),
        };
        let s = format!("{f:?}");
        assert!(s.contains("11 B") && !s.contains("secret"), "{s}");
    }
}
