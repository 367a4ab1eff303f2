//! A tokio client over the core crate's sans-IO [`ClientConnection`]: it owns the socket,
//! reconnects with the state machine's jittered backoff, and hands events to the app.
//!
//! ```text
//! let mut client = RelayClient::spawn(url, None, config, signer);
//! let id = client.send(vec![bob], wire);          // Pending until Event::Sent(id)
//! while let Some(event) = client.next_event().await {
//!     if let Event::Delivery { sender, id, wire } = event {
//!         account.decrypt(&sender, &wire)?;           // committed
//!         client.committed(id);                      // only now may the relay delete it
//!     }
//! }
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bluetick::relay_protocol::{
    AuthSigner, ClientConfig, ClientConnection, ConnectionState, Event, RequestId,
};
use bluetick::{Address, MessageId};
use futures_util::{SinkExt, StreamExt};
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::server::{ws_config, Io};

struct Shared {
    conn: Mutex<ClientConnection>,
    wake: Notify,
}

impl Shared {
    fn with<T>(&self, f: impl FnOnce(&mut ClientConnection) -> T) -> T {
        let mut c = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let out = f(&mut c);
        drop(c);
        self.wake.notify_one();
        out
    }
}

/// A device's connection to the relay, kept open (and reopened) by a background task.
pub struct RelayClient {
    shared: Arc<Shared>,
    events: mpsc::UnboundedReceiver<Event>,
    task: tokio::task::JoinHandle<()>,
}

impl core::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RelayClient").finish_non_exhaustive()
    }
}

impl Drop for RelayClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RelayClient {
    /// Starts the connection task for `url` (`ws://host:port` or, with `tls`,
    /// `wss://host:port`).
    pub fn spawn(
        url: String,
        tls: Option<TlsConnector>,
        config: ClientConfig,
        signer: Arc<dyn AuthSigner + Send + Sync>,
    ) -> Self {
        Self::spawn_nodes(vec![url], tls, config, signer)
    }

    /// Like [`RelayClient::spawn`] with several relay nodes that share one backend (NATS):
    /// it connects to the first, and after a failed connection or a lost pipe it tries the
    /// next one, after the same jittered backoff.
    pub fn spawn_nodes(
        urls: Vec<String>,
        tls: Option<TlsConnector>,
        config: ClientConfig,
        signer: Arc<dyn AuthSigner + Send + Sync>,
    ) -> Self {
        let shared = Arc::new(Shared {
            conn: Mutex::new(ClientConnection::new(config)),
            wake: Notify::new(),
        });
        let (events_tx, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(Arc::clone(&shared), urls, tls, signer, events_tx));
        Self {
            shared,
            events,
            task,
        }
    }

    /// Queues a wire for `recipients`; it is resent after every reconnect until
    /// [`Event::Sent`] reports its id.
    pub fn send(&self, recipients: Vec<Address>, wire: Vec<u8>) -> MessageId {
        self.shared.with(|c| c.send(recipients, wire))
    }

    /// The account committed delivery `id`: acknowledge it to the relay.
    pub fn committed(&self, id: MessageId) {
        self.shared.with(|c| c.committed(id));
    }

    /// Uploads prekeys (`PreKeyUpload` bytes).
    pub fn upload_prekeys(&self, upload: Vec<u8>) -> RequestId {
        self.shared.with(|c| c.upload_prekeys(upload))
    }

    /// Fetches a bundle.
    pub fn fetch_bundle(&self, address: Address) -> RequestId {
        self.shared.with(|c| c.fetch_bundle(address))
    }

    /// Fetches a user's devices.
    pub fn fetch_devices(&self, user: Vec<u8>) -> RequestId {
        self.shared.with(|c| c.fetch_devices(user))
    }

    /// Publishes a device list of this device's user.
    pub fn publish_device_list(&self, list: Vec<u8>) -> RequestId {
        self.shared.with(|c| c.publish_device_list(list))
    }

    /// Wires not yet acknowledged by the relay.
    pub fn outbox_len(&self) -> usize {
        self.shared.with(|c| c.outbox_len())
    }

    /// The connection's state.
    pub fn state(&self) -> ConnectionState {
        self.shared.with(|c| c.state())
    }

    /// The next event; `None` once the task has stopped.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }
}

async fn run(
    shared: Arc<Shared>,
    urls: Vec<String>,
    tls: Option<TlsConnector>,
    signer: Arc<dyn AuthSigner + Send + Sync>,
    events: mpsc::UnboundedSender<Event>,
) {
    let start = Instant::now();
    let now_ms = move || u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut rng = bluetick::os_rng();
    let mut node = 0usize;
    loop {
        let due = shared.with(|c| c.reconnect_at_ms()).unwrap_or(0);
        let wait = due.saturating_sub(now_ms());
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        let url = urls
            .get(node % urls.len().max(1))
            .map_or("", String::as_str);
        if let Some(ws) = connect(url, tls.as_ref()).await {
            shared.with(|c| c.connected());
            pipe(&shared, ws, signer.as_ref(), &events).await;
        }
        // The next attempt goes to the next node (the same one when there is one).
        node = node.wrapping_add(1);
        if events.is_closed() {
            return;
        }
        shared.with(|c| c.disconnected(now_ms(), &mut rng));
    }
}

type Ws = tokio_tungstenite::WebSocketStream<Box<dyn Io>>;

async fn connect(url: &str, tls: Option<&TlsConnector>) -> Option<Ws> {
    let request = url.into_client_request().ok()?;
    let host = request.uri().host()?.to_owned();
    let port = request
        .uri()
        .port_u16()
        .unwrap_or(if tls.is_some() { 443 } else { 80 });
    let timeout = Duration::from_secs(5);
    let tcp = tokio::time::timeout(timeout, TcpStream::connect((host.as_str(), port)))
        .await
        .ok()?
        .ok()?;
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = match tls {
        Some(connector) => {
            let name = ServerName::try_from(host).ok()?;
            Box::new(
                tokio::time::timeout(timeout, connector.connect(name, tcp))
                    .await
                    .ok()?
                    .ok()?,
            )
        }
        None => Box::new(tcp),
    };
    let (ws, _) = tokio::time::timeout(
        timeout,
        tokio_tungstenite::client_async_with_config(request, io, Some(ws_config())),
    )
    .await
    .ok()?
    .ok()?;
    Some(ws)
}

/// Drives one open socket until it closes or the relay's frames are refused.
async fn pipe(
    shared: &Shared,
    ws: Ws,
    signer: &(dyn AuthSigner + Send + Sync),
    events: &mpsc::UnboundedSender<Event>,
) {
    let (mut tx, mut rx) = ws.split();
    loop {
        // Write what the state machine produced and hand its events on.
        let (out, evs) = {
            let mut c = shared.conn.lock().unwrap_or_else(|e| e.into_inner());
            let out: Vec<Vec<u8>> = std::iter::from_fn(|| c.poll_transmit()).collect();
            let evs: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
            (out, evs)
        };
        for frame in out {
            if tx.send(Message::binary(frame)).await.is_err() {
                return;
            }
        }
        let mut failed = false;
        for e in evs {
            failed |= matches!(e, Event::ConnectionFailed { .. });
            if events.send(e).is_err() {
                return;
            }
        }
        if failed {
            let _ = tx.close().await;
            return;
        }
        tokio::select! {
            msg = rx.next() => match msg {
                Some(Ok(Message::Binary(bytes))) => {
                    let refused = {
                        let mut c = shared.conn.lock().unwrap_or_else(|e| e.into_inner());
                        c.receive(&bytes, signer).is_err()
                    };
                    if refused {
                        let out: Vec<Vec<u8>> = {
                            let mut c = shared.conn.lock().unwrap_or_else(|e| e.into_inner());
                            std::iter::from_fn(|| c.poll_transmit()).collect()
                        };
                        for frame in out {
                            let _ = tx.send(Message::binary(frame)).await;
                        }
                        let _ = tx.close().await;
                        return;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Text(_) | Message::Close(_))) | Some(Err(_)) | None => return,
            },
            () = shared.wake.notified() => {}
        }
    }
}
