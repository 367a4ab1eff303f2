//! The relay: an accept loop, one task per device pipe, and the router that pushes a
//! stored message at once to a recipient that is online.
//!
//! Every send is committed to the backend before the relay acknowledges it (`Sent`), and
//! pushed from the backend, so the queue is the one source of truth: a relay killed at any
//! moment restarts with every acknowledged message and nothing twice.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bluetick::relay_protocol::{
    verify_auth, ErrorCode, Frame, FrameError, FrameType, MAX_FRAME_LEN, RELAY_PROTOCOL_VERSION,
};
use bluetick::{Address, IdentityKey, MessageId, PreKeyUpload};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use crate::backend::{BackendError, EnqueueError, RelayBackend};
use crate::limits::{Limits, TokenBucket};
use crate::log::Log;

/// A byte stream a pipe runs over: plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Ws = WebSocketStream<Box<dyn Io>>;

/// WebSocket settings for pipes: small buffers for idle connections, messages refused
/// beyond the frame limit (with room for the relay to answer `Oversize` itself first).
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(4 * MAX_FRAME_LEN)
        .max_message_size(Some(MAX_FRAME_LEN + 64 * 1024))
        .max_frame_size(Some(MAX_FRAME_LEN + 64 * 1024))
}

/// Milliseconds since the Unix epoch (stored with messages for the age limit).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// How long one write to a device may wait for the device to read.
const WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

struct Online {
    conn: u64,
    push: Arc<Notify>,
    replaced: Arc<Notify>,
}

/// The relay's shared state.
pub struct Relay {
    backend: Arc<dyn RelayBackend>,
    limits: Limits,
    log: Log,
    online: Mutex<HashMap<Address, Online>>,
    fetches: Mutex<HashMap<Address, TokenBucket>>,
    next_conn: AtomicU64,
}

impl core::fmt::Debug for Relay {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Relay")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Why a pipe is closed: the code sent to the device, if any.
type Fatal = ErrorCode;

impl Relay {
    /// A relay over `backend`.
    pub fn new(backend: Arc<dyn RelayBackend>, limits: Limits, log: Log) -> Arc<Self> {
        Arc::new(Self {
            backend,
            limits,
            log,
            online: Mutex::new(HashMap::new()),
            fetches: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
        })
    }

    /// Accepts connections until the listener fails; each one gets its own task, so one
    /// bad connection never stops the others.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, tls: Option<TlsAcceptor>) {
        let expiry = Arc::clone(&self);
        tokio::spawn(async move { expiry.expire_loop().await });
        loop {
            match listener.accept().await {
                Ok((tcp, _)) => {
                    let _ = tcp.set_nodelay(true);
                    let relay = Arc::clone(&self);
                    let tls = tls.clone();
                    tokio::spawn(async move { relay.connection(tcp, tls).await });
                }
                Err(e) => {
                    // Out of descriptors, say: wait a little and go on serving.
                    self.log.line(format_args!("accept failed: {e}"));
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    async fn expire_loop(&self) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let limits = self.limits.queue;
            if let Ok(Ok(n)) = self.blocking(move |b| b.expire(now_ms(), &limits)).await {
                if n > 0 {
                    self.log.line(format_args!("expired {n} queue entries"));
                }
            }
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn RelayBackend) -> T + Send + 'static,
    ) -> Result<T, ErrorCode> {
        let backend = Arc::clone(&self.backend);
        tokio::task::spawn_blocking(move || f(backend.as_ref()))
            .await
            .map_err(|_| ErrorCode::Internal)
    }

    async fn connection(self: Arc<Self>, tcp: TcpStream, tls: Option<TlsAcceptor>) {
        let timeout = self.limits.auth_timeout;
        let io: Box<dyn Io> = match tls {
            Some(acceptor) => match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => Box::new(s),
                _ => return,
            },
            None => Box::new(tcp),
        };
        let ws = match tokio::time::timeout(
            timeout,
            tokio_tungstenite::accept_async_with_config(io, Some(ws_config())),
        )
        .await
        {
            Ok(Ok(ws)) => ws,
            _ => return,
        };
        let (tx, rx) = ws.split();
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let mut pipe = Pipe {
            relay: &self,
            tx,
            conn,
            flood: TokenBucket::new(
                self.limits.frame_burst,
                self.limits.frames_per_second,
                Instant::now(),
            ),
            pushed_unacknowledged: 0,
        };
        pipe.run(rx).await;
    }

    fn go_online(&self, address: &Address, conn: u64) -> (Arc<Notify>, Arc<Notify>) {
        let push = Arc::new(Notify::new());
        let replaced = Arc::new(Notify::new());
        let mut online = self.online.lock().unwrap_or_else(|e| e.into_inner());
        let old = online.insert(
            address.clone(),
            Online {
                conn,
                push: Arc::clone(&push),
                replaced: Arc::clone(&replaced),
            },
        );
        if let Some(old) = old {
            // One pipe per device: the newer connection wins.
            old.replaced.notify_one();
        }
        (push, replaced)
    }

    fn go_offline(&self, address: &Address, conn: u64) {
        let mut online = self.online.lock().unwrap_or_else(|e| e.into_inner());
        if online.get(address).is_some_and(|o| o.conn == conn) {
            online.remove(address);
        }
    }

    fn notify(&self, recipients: &[Address]) {
        let online = self.online.lock().unwrap_or_else(|e| e.into_inner());
        for r in recipients {
            if let Some(o) = online.get(r) {
                o.push.notify_one();
            }
        }
    }

    fn may_fetch(&self, requester: &Address) -> bool {
        let now = Instant::now();
        let mut fetches = self.fetches.lock().unwrap_or_else(|e| e.into_inner());
        fetches
            .entry(requester.clone())
            .or_insert_with(|| {
                TokenBucket::new(
                    self.limits.bundle_burst,
                    self.limits.bundles_per_second,
                    now,
                )
            })
            .take(now)
    }
}

/// What reading the next frame gave.
enum Incoming {
    Frame(Frame),
    Closed,
}

struct Pipe<'a> {
    relay: &'a Relay,
    tx: SplitSink<Ws, Message>,
    conn: u64,
    flood: TokenBucket,
    /// Deliveries written on this pipe and not yet acknowledged.
    pushed_unacknowledged: u64,
}

impl Pipe<'_> {
    async fn run(&mut self, mut rx: SplitStream<Ws>) {
        let log = self.relay.log;
        let mut nonce = [0u8; 32];
        if getrandom::fill(&mut nonce).is_err() {
            self.close(Some(ErrorCode::Unavailable)).await;
            return;
        }
        let challenge = Frame::Challenge {
            version: RELAY_PROTOCOL_VERSION,
            nonce,
        };
        if self.write(&challenge).await.is_err() {
            return;
        }
        let first =
            match tokio::time::timeout(self.relay.limits.auth_timeout, self.read(&mut rx)).await {
                Ok(Ok(Incoming::Frame(f))) => f,
                Ok(Ok(Incoming::Closed)) => return,
                Ok(Err(code)) => return self.fail(None, code).await,
                Err(_) => return self.fail(None, ErrorCode::Unauthenticated).await,
            };
        let me = match self.authenticate(first, &nonce).await {
            Ok(me) => me,
            Err(code) => return self.fail(None, code).await,
        };
        let (push, replaced) = self.relay.go_online(&me, self.conn);
        log.line(format_args!("connected {me}"));
        // Wake-ups from other relay nodes (a shared backend), registered before the first
        // read of the queue; dropped with the pipe.
        let (who, wake) = (me.clone(), Arc::clone(&push));
        let watch = match self.relay.blocking(move |b| b.watch(&who, wake)).await {
            Ok(Ok(w)) => Ok(w),
            Ok(Err(e)) => {
                log.line(format_args!("cannot watch {me}: {e}"));
                Err(ErrorCode::Internal)
            }
            Err(code) => Err(code),
        };
        let outcome = match watch {
            Ok(_watch) => self.serve(&me, &mut rx, &push, &replaced).await,
            Err(code) => Err(code),
        };
        self.relay.go_offline(&me, self.conn);
        match outcome {
            Ok(()) => {
                log.line(format_args!("disconnected {me}"));
                self.close(None).await;
            }
            Err(code) => self.fail(Some(&me), code).await,
        }
    }

    async fn serve(
        &mut self,
        me: &Address,
        rx: &mut SplitStream<Ws>,
        push: &Notify,
        replaced: &Notify,
    ) -> Result<(), Fatal> {
        let who = me.clone();
        let queued = self
            .relay
            .blocking(move |b| b.queued(&who))
            .await?
            .map_err(|_| ErrorCode::Internal)?;
        self.write(&Frame::Welcome {
            queued: u32::try_from(queued).unwrap_or(u32::MAX),
        })
        .await
        .map_err(|_| ErrorCode::Unavailable)?;
        let mut last_seq = 0u64;
        self.push_pending(me, &mut last_seq).await?;
        loop {
            tokio::select! {
                incoming = self.read(rx) => match incoming? {
                    Incoming::Closed => return Ok(()),
                    Incoming::Frame(frame) => {
                        for answer in self.handle(me, frame).await? {
                            self.write(&answer).await.map_err(|_| ErrorCode::Unavailable)?;
                        }
                    }
                },
                () = push.notified() => self.push_pending(me, &mut last_seq).await?,
                () = replaced.notified() => {
                    self.relay.log.line(format_args!("replaced {me} by a newer connection"));
                    return Ok(());
                }
            }
        }
    }

    /// Writes every stored message after `last_seq`, in order, in small batches (each
    /// write waits for the socket, so a slow device holds back only its own queue).
    async fn push_pending(&mut self, me: &Address, last_seq: &mut u64) -> Result<(), Fatal> {
        const BATCH: usize = 64;
        loop {
            let (who, after, limits) = (me.clone(), *last_seq, self.relay.limits.queue);
            let batch = self
                .relay
                .blocking(move |b| b.pending(&who, after, BATCH, now_ms(), &limits))
                .await?
                .map_err(|_| ErrorCode::Internal)?;
            let n = batch.len();
            for q in batch {
                *last_seq = q.seq;
                self.relay.log.line(format_args!(
                    "deliver {:?} {} -> {me}, {} B",
                    q.id,
                    q.sender,
                    q.wire.len()
                ));
                let frame = Frame::Deliver {
                    sender: q.sender,
                    wire: q.wire,
                };
                self.write(&frame)
                    .await
                    .map_err(|_| ErrorCode::Unavailable)?;
                self.pushed_unacknowledged = self.pushed_unacknowledged.saturating_add(1);
            }
            if n < BATCH {
                return Ok(());
            }
        }
    }

    async fn read(&mut self, rx: &mut SplitStream<Ws>) -> Result<Incoming, Fatal> {
        loop {
            let bytes = match rx.next().await {
                None | Some(Ok(Message::Close(_))) => return Ok(Incoming::Closed),
                Some(Ok(Message::Binary(b))) => b,
                Some(Ok(Message::Text(_))) => return Err(ErrorCode::Malformed),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Err(WsError::Capacity(_))) => return Err(ErrorCode::Oversize),
                Some(Err(_)) => return Ok(Incoming::Closed),
            };
            let frame = match Frame::decode(&bytes) {
                Ok(f) => f,
                Err(FrameError::Oversize { .. }) => return Err(ErrorCode::Oversize),
                Err(_) => return Err(ErrorCode::Malformed),
            };
            // Acknowledgements of deliveries this pipe pushed are the relay's own doing and
            // cost no frame budget (a device catching up on a long queue acknowledges at
            // the rate it is fed); everything else does.
            let owed = match &frame {
                Frame::Ack { ids } => u64::try_from(ids.len())
                    .ok()
                    .filter(|n| *n <= self.pushed_unacknowledged),
                _ => None,
            };
            match owed {
                Some(n) => self.pushed_unacknowledged -= n,
                None if self.flood.take(Instant::now()) => {}
                None => return Err(ErrorCode::Flood),
            }
            return Ok(Incoming::Frame(frame));
        }
    }

    /// Writes one frame; a device that stops reading for 30 seconds loses its pipe, so
    /// it cannot hold the relay's task and buffers forever.
    async fn write(&mut self, frame: &Frame) -> Result<(), WsError> {
        let send = self.tx.send(Message::binary(frame.encode()));
        match tokio::time::timeout(WRITE_TIMEOUT, send).await {
            Ok(r) => r,
            Err(_) => Err(WsError::Io(std::io::ErrorKind::TimedOut.into())),
        }
    }

    /// Sends a fatal error frame and closes the pipe.
    async fn fail(&mut self, me: Option<&Address>, code: ErrorCode) {
        match me {
            Some(me) => self.relay.log.line(format_args!("closed {me}: {code}")),
            None => self
                .relay
                .log
                .line(format_args!("closed unauthenticated connection: {code}")),
        }
        self.close(Some(code)).await;
    }

    async fn close(&mut self, code: Option<ErrorCode>) {
        if let Some(code) = code {
            let _ = self.write(&Frame::connection_error(code)).await;
        }
        let _ = tokio::time::timeout(WRITE_TIMEOUT, async {
            let _ = self.tx.send(Message::Close(None)).await;
            let _ = self.tx.close().await;
        })
        .await;
    }

    async fn authenticate(&mut self, frame: Frame, nonce: &[u8; 32]) -> Result<Address, Fatal> {
        let Frame::Authenticate {
            address,
            identity,
            signature,
            certificate,
        } = frame
        else {
            return Err(ErrorCode::Unauthenticated);
        };
        let key =
            IdentityKey::from_bytes(&identity).map_err(|_| ErrorCode::AuthenticationFailed)?;
        if !verify_auth(&key, nonce, &address, &signature) {
            return Err(ErrorCode::AuthenticationFailed);
        }
        let (who, max_devices) = (address.clone(), self.relay.limits.max_devices);
        let checked = self
            .relay
            .blocking(move |b| {
                crate::directory::admit(b, &who, &key, &identity, certificate, max_devices)
            })
            .await?;
        checked?;
        Ok(address)
    }

    /// Answers one frame of an authenticated device. `Err` closes the pipe.
    async fn handle(&mut self, me: &Address, frame: Frame) -> Result<Vec<Frame>, Fatal> {
        let kind = frame.frame_type();
        if !kind.from_device() || kind == FrameType::Authenticate {
            return Err(ErrorCode::UnexpectedFrame);
        }
        let relay = self.relay;
        let log = relay.log;
        let answer = match frame {
            Frame::UploadPreKeys { request, upload } => {
                let (who, max) = (me.clone(), relay.limits.max_one_time_prekeys);
                let stored = relay
                    .blocking(move |b| -> Result<usize, ErrorCode> {
                        let upload = PreKeyUpload::from_bytes(&upload)
                            .map_err(|_| ErrorCode::InvalidUpload)?;
                        let bound = b.identity(&who).map_err(|_| ErrorCode::Internal)?;
                        if bound.as_ref() != Some(upload.identity.as_bytes()) {
                            return Err(ErrorCode::InvalidUpload);
                        }
                        upload.verify().map_err(|_| ErrorCode::InvalidUpload)?;
                        let n = upload.one_time_prekeys.len() + upload.one_time_pq_prekeys.len();
                        b.store_prekeys(&who, upload, max)
                            .map_err(|_| ErrorCode::Internal)?;
                        Ok(n)
                    })
                    .await?;
                match stored {
                    Ok(n) => {
                        log.line(format_args!("prekeys stored for {me}: {n} one-time"));
                        Frame::Done { request }
                    }
                    Err(code) => Frame::request_error(code, request),
                }
            }
            Frame::FetchBundle { request, address } => {
                if !relay.may_fetch(me) {
                    log.line(format_args!("bundle fetch by {me} rate-limited"));
                    return Ok(vec![Frame::request_error(ErrorCode::RateLimited, request)]);
                }
                let who = address.clone();
                let found = relay
                    .blocking(move |b| -> Result<_, BackendError> {
                        let Some(bundle) = b.take_bundle(&who)? else {
                            return Ok(None);
                        };
                        Ok(Some((
                            bundle,
                            b.certificate(&who)?,
                            b.device_list(&who.user)?,
                        )))
                    })
                    .await?;
                match found {
                    Ok(Some((bundle, certificate, device_list))) => {
                        log.line(format_args!(
                            "hands out {address}'s bundle to {me}: {} B",
                            bundle.len()
                        ));
                        Frame::Bundle {
                            request,
                            bundle,
                            certificate,
                            device_list,
                        }
                    }
                    Ok(None) => Frame::request_error(ErrorCode::NoBundle, request),
                    Err(_) => Frame::request_error(ErrorCode::Internal, request),
                }
            }
            Frame::FetchDevices { request, user } => {
                let found = relay
                    .blocking(move |b| -> Result<_, BackendError> {
                        Ok((b.devices(&user)?, b.device_list(&user)?))
                    })
                    .await?;
                match found {
                    Ok((mut devices, device_list)) => {
                        devices.truncate(bluetick::relay_protocol::MAX_DEVICES);
                        Frame::Devices {
                            request,
                            devices,
                            device_list,
                        }
                    }
                    Err(_) => Frame::request_error(ErrorCode::Internal, request),
                }
            }
            Frame::PublishDeviceList {
                request,
                device_list,
            } => {
                let who = me.clone();
                let published = relay
                    .blocking(move |b| crate::directory::publish_device_list(b, &who, &device_list))
                    .await?;
                match published {
                    Ok(()) => {
                        log.line(format_args!(
                            "device list of {} replaced",
                            String::from_utf8_lossy(&me.user)
                        ));
                        Frame::Done { request }
                    }
                    Err(code) => Frame::request_error(code, request),
                }
            }
            Frame::Send { recipients, wire } => {
                let id = MessageId::of(&wire);
                let (from, to, limits) = (me.clone(), recipients.clone(), relay.limits.queue);
                let len = wire.len();
                let stored = relay
                    .blocking(move |b| b.enqueue(&from, &to, &id, &wire, now_ms(), &limits))
                    .await?;
                match stored {
                    Ok(()) => {
                        log.line(format_args!(
                            "stored {id:?} {me} -> {} device(s), {len} B",
                            recipients.len()
                        ));
                        relay.notify(&recipients);
                        Frame::Sent { id }
                    }
                    Err(EnqueueError::UnknownRecipient(to)) => {
                        log.line(format_args!(
                            "refused {id:?} from {me}: unknown recipient {to}"
                        ));
                        Frame::message_error(ErrorCode::UnknownRecipient, &id)
                    }
                    Err(EnqueueError::QueueFull(to)) => {
                        log.line(format_args!("refused {id:?} from {me}: queue of {to} full"));
                        Frame::message_error(ErrorCode::QueueFull, &id)
                    }
                    Err(EnqueueError::Backend(e)) => {
                        log.line(format_args!("storing {id:?} failed: {e}"));
                        Frame::message_error(ErrorCode::Internal, &id)
                    }
                }
            }
            Frame::Ack { ids } => {
                let who = me.clone();
                let n = ids.len();
                let done = relay.blocking(move |b| b.acknowledge(&who, &ids)).await?;
                match done {
                    Ok(k) => log.line(format_args!("acknowledged by {me}: {k} of {n}")),
                    Err(e) => log.line(format_args!("acknowledgement by {me} failed: {e}")),
                }
                return Ok(Vec::new());
            }
            Frame::Error { code, .. } => {
                log.line(format_args!("{me} reports {code}"));
                return Ok(Vec::new());
            }
            _ => return Err(ErrorCode::UnexpectedFrame),
        };
        Ok(vec![answer])
    }
}

/// Binds `listen` and serves until the process ends. Returns the bound address (with the
/// port the system chose for port 0) and the serving task.
pub async fn start(
    listen: SocketAddr,
    relay: Arc<Relay>,
    tls: Option<TlsAcceptor>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(listen).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(relay.serve(listener, tls));
    Ok((local, task))
}
