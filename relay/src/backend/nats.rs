//! The NATS JetStream backend, for several relay nodes sharing one NATS server or cluster
//! (docs/relay.md, "Several nodes"):
//!
//! - the offline queue is the stream `BLUETICK_QUEUE` with work-queue retention, one
//!   subject per device (`bluetick.queue.<user hex>.<device>`); a send is published with a
//!   `Nats-Msg-Id` of its recipient and message id, so a resend inside the duplicate window
//!   is stored once; a message leaves the stream only when its device acknowledged it
//!   after its commit (or at the age limit);
//! - the directory is the key-value bucket `bluetick_directory`: address bindings per user,
//!   prekeys, certificates, device lists and per-device queue usage, each changed by
//!   revision-checked compare-and-set, so two nodes never hand out the same one-time
//!   prekey and a device list is replaced only by the one its writer verified against;
//! - a node holding a device's pipe subscribes to `bluetick.push.<user hex>.<device>`; a
//!   node that stores a message for that device publishes there, so the device gets it at
//!   once whichever node it is connected to.
//!
//! The trait is blocking; these methods run the NATS calls on the runtime whose handle
//! the backend keeps, and must be called from outside its async tasks (the server calls
//! every backend method on tokio's blocking pool).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use bluetick::{Address, MessageId, PreKeyUpload};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::Notify;

use super::{BackendError, Binding, EnqueueError, QueueLimits, Queued, RelayBackend, Watch};

/// The stream that holds the offline queue.
pub const QUEUE_STREAM: &str = "BLUETICK_QUEUE";
/// The key-value bucket that holds the directory.
pub const DIRECTORY_BUCKET: &str = "bluetick_directory";
/// How long a message id is remembered to drop a resend (the duplicate window is held in
/// the NATS server's memory, so it is shorter than the SQLite backend's 30 days; a resend
/// after it is one more delivery that the device's account refuses as a duplicate).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);
/// How long a send is tried again while NATS fails (a cluster electing a leader).
const RETRY_FOR: Duration = Duration::from_secs(10);
/// Compare-and-set attempts before a contended update gives up.
const CAS_ATTEMPTS: usize = 64;
/// Acknowledged ids looked for at the head of a device's queue when this node has not
/// read them itself (the device was served by another node before).
const ACK_SCAN: usize = 256;
/// Delivered-but-unacknowledged positions this node remembers (about 100 bytes each);
/// beyond that it forgets them all and finds acknowledged messages by a scan instead.
const MAX_TRACKED: usize = 1_000_000;

/// Stream position and wire length of each delivered message, by id.
type Positions = HashMap<MessageId, (u64, u64)>;

/// What this node delivered and awaits acknowledgements of, per device, and how many.
#[derive(Default)]
struct Delivered {
    devices: HashMap<Address, Positions>,
    total: usize,
}

/// How to reach NATS and how to lay out the stream and the bucket.
#[derive(Clone)]
pub struct NatsConfig {
    /// Server URLs (`nats://host:port`), any node of a cluster.
    pub servers: Vec<String>,
    /// Replicas of the stream and the bucket (1 on one server, 3 on a cluster).
    pub replicas: usize,
    /// The queue's limits; the age limit becomes the stream's maximum age.
    pub limits: QueueLimits,
}

impl core::fmt::Debug for NatsConfig {
    /// Server URLs may carry credentials (`nats://user:password@host`): only their number
    /// is shown.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            servers,
            replicas,
            limits,
        } = self;
        f.debug_struct("NatsConfig")
            .field("servers", &servers.len())
            .field("replicas", replicas)
            .field("limits", limits)
            .finish()
    }
}

/// The NATS JetStream backend. See the module documentation.
pub struct NatsBackend {
    rt: tokio::runtime::Handle,
    client: async_nats::Client,
    js: jetstream::Context,
    queue: stream::Stream,
    kv: kv::Store,
    /// Stream positions and sizes of messages this node delivered, until acknowledged.
    delivered: Mutex<Delivered>,
}

impl core::fmt::Debug for NatsBackend {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NatsBackend").finish_non_exhaustive()
    }
}

fn nats(e: impl core::fmt::Display) -> BackendError {
    BackendError::Nats(e.to_string())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn device_key(kind: &str, a: &Address) -> String {
    format!("{kind}.{}.{}", hex(&a.user), a.device)
}

fn queue_subject(a: &Address) -> String {
    format!("bluetick.queue.{}.{}", hex(&a.user), a.device)
}

fn push_subject(a: &Address) -> String {
    format!("bluetick.push.{}.{}", hex(&a.user), a.device)
}

/// The bound devices of a user: `(device u32 BE, identity 32)` each.
fn parse_user(b: &[u8]) -> Result<Vec<(u32, [u8; 32])>, BackendError> {
    if b.len() % 36 != 0 {
        return Err(BackendError::Corrupt("user"));
    }
    b.chunks_exact(36)
        .map(|c| {
            let (d, k) = c.split_at(4);
            let d = u32::from_be_bytes(d.try_into().map_err(|_| BackendError::Corrupt("user"))?);
            let k = <[u8; 32]>::try_from(k).map_err(|_| BackendError::Corrupt("user"))?;
            Ok((d, k))
        })
        .collect()
}

fn encode_user(devices: &[(u32, [u8; 32])]) -> Bytes {
    let mut out = Vec::with_capacity(devices.len() * 36);
    for (d, k) in devices {
        out.extend_from_slice(&d.to_be_bytes());
        out.extend_from_slice(k);
    }
    out.into()
}

/// A device's queue usage: `(count u64 BE, bytes u64 BE)`.
fn parse_usage(b: &[u8]) -> Result<(u64, u64), BackendError> {
    let b = <[u8; 16]>::try_from(b).map_err(|_| BackendError::Corrupt("usage"))?;
    let (c, n) = b.split_at(8);
    let c = u64::from_be_bytes(c.try_into().map_err(|_| BackendError::Corrupt("usage"))?);
    let n = u64::from_be_bytes(n.try_into().map_err(|_| BackendError::Corrupt("usage"))?);
    Ok((c, n))
}

fn encode_usage(count: u64, bytes: u64) -> Bytes {
    let mut out = count.to_be_bytes().to_vec();
    out.extend_from_slice(&bytes.to_be_bytes());
    out.into()
}

/// A queued message: `id (16) || sender device (u32 BE) || sender user len (u8) || user ||
/// wire`.
fn encode_queued(id: &MessageId, sender: &Address, wire: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(21 + sender.user.len() + wire.len());
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&sender.device.to_be_bytes());
    out.push(u8::try_from(sender.user.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(&sender.user);
    out.extend_from_slice(wire);
    out.into()
}

fn parse_queued(b: &[u8]) -> Result<(MessageId, Address, Vec<u8>), BackendError> {
    let corrupt = || BackendError::Corrupt("queue");
    let id = <[u8; 16]>::try_from(b.get(..16).ok_or_else(corrupt)?).map_err(|_| corrupt())?;
    let device = u32::from_be_bytes(
        <[u8; 4]>::try_from(b.get(16..20).ok_or_else(corrupt)?).map_err(|_| corrupt())?,
    );
    let len = usize::from(*b.get(20).ok_or_else(corrupt)?);
    let user = b.get(21..21 + len).ok_or_else(corrupt)?.to_vec();
    let wire = b.get(21 + len..).ok_or_else(corrupt)?.to_vec();
    Ok((MessageId(id), Address::new(user, device), wire))
}

/// Stops forwarding a device's pushes when dropped.
struct Subscription(tokio::task::JoinHandle<()>);

impl Drop for Subscription {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl NatsBackend {
    /// Connects to NATS and creates the stream and the bucket if they are missing (every
    /// node may do so; the first one creates them). Call it inside the runtime the relay
    /// runs on.
    pub async fn connect(config: &NatsConfig) -> Result<Self, BackendError> {
        let addrs = config
            .servers
            .iter()
            .map(|s| s.parse::<async_nats::ServerAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(nats)?;
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .request_timeout(Some(Duration::from_secs(5)))
            .retry_on_initial_connect()
            .connect(addrs)
            .await
            .map_err(nats)?;
        let js = jetstream::new(client.clone());
        let max_age = Duration::from_millis(config.limits.max_age_ms);
        let queue = js
            .get_or_create_stream(stream::Config {
                name: QUEUE_STREAM.to_owned(),
                subjects: vec!["bluetick.queue.>".to_owned()],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                max_age,
                duplicate_window: DUPLICATE_WINDOW.min(max_age),
                allow_direct: true,
                num_replicas: config.replicas,
                ..Default::default()
            })
            .await
            .map_err(nats)?;
        // The bucket's stream is laid out as the key-value convention says (what
        // `create_key_value` would make), created directly so that a 2.9 server, whose
        // account information this client version does not read, is served too.
        js.get_or_create_stream(stream::Config {
            name: format!("KV_{DIRECTORY_BUCKET}"),
            subjects: vec![format!("$KV.{DIRECTORY_BUCKET}.>")],
            max_messages_per_subject: 1,
            max_bytes: -1,
            max_message_size: -1,
            storage: stream::StorageType::File,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            num_replicas: config.replicas,
            ..Default::default()
        })
        .await
        .map_err(nats)?;
        let kv = js.get_key_value(DIRECTORY_BUCKET).await.map_err(nats)?;
        Ok(Self {
            rt: tokio::runtime::Handle::current(),
            client,
            js,
            queue,
            kv,
            delivered: Mutex::new(Delivered::default()),
        })
    }

    fn run<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(f)
    }

    /// The current value and revision of `key` (`None` if absent or deleted).
    async fn entry(&self, key: &str) -> Result<Option<(Bytes, u64)>, BackendError> {
        match self.kv.entry(key).await.map_err(nats)? {
            Some(e) if e.operation == kv::Operation::Put => Ok(Some((e.value, e.revision))),
            _ => Ok(None),
        }
    }

    /// Writes `value` if `key` is still at `revision` (`None`: still absent). Returns
    /// whether it was written; `false` means another writer came first.
    async fn compare_and_set(
        &self,
        key: &str,
        revision: Option<u64>,
        value: Bytes,
    ) -> Result<bool, BackendError> {
        match revision {
            Some(r) => match self.kv.update(key, value, r).await {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(false),
                Err(e) => Err(nats(e)),
            },
            None => match self.kv.create(key, value).await {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(nats(e)),
            },
        }
    }

    /// Applies `change` to `key` with compare-and-set, retrying when another node wrote in
    /// between. `change` gets the current value and returns the new one (or `None` to
    /// write nothing) and what to return.
    async fn update<T>(
        &self,
        key: &str,
        mut change: impl FnMut(Option<&[u8]>) -> Result<(Option<Bytes>, T), BackendError>,
    ) -> Result<T, BackendError> {
        for _ in 0..CAS_ATTEMPTS {
            let current = self.entry(key).await?;
            let (value, revision) = match &current {
                Some((v, r)) => (Some(v.as_ref()), Some(*r)),
                None => (None, None),
            };
            let (new, out) = change(value)?;
            let Some(new) = new else { return Ok(out) };
            if self.compare_and_set(key, revision, new).await? {
                return Ok(out);
            }
        }
        Err(BackendError::Nats(format!("{key}: too much contention")))
    }

    async fn usage_add(&self, who: &Address, count: i64, bytes: i64) -> Result<(), BackendError> {
        self.update(&device_key("usage", who), |old| {
            let (c, b) = old.map(parse_usage).transpose()?.unwrap_or((0, 0));
            let c = c.saturating_add_signed(count);
            let b = b.saturating_add_signed(bytes);
            Ok((Some(encode_usage(c, b)), ()))
        })
        .await
    }

    async fn user(&self, user: &[u8]) -> Result<Vec<(u32, [u8; 32])>, BackendError> {
        match self.entry(&format!("user.{}", hex(user))).await? {
            Some((v, _)) => parse_user(&v),
            None => Ok(Vec::new()),
        }
    }

    fn remember(&self, who: &Address, id: MessageId, seq: u64, len: u64) {
        let mut d = self.delivered.lock().unwrap_or_else(|e| e.into_inner());
        if d.total >= MAX_TRACKED {
            *d = Delivered::default(); // bounded memory; a miss falls back to a scan
        }
        let d = &mut *d;
        if d.devices
            .entry(who.clone())
            .or_default()
            .insert(id, (seq, len))
            .is_none()
        {
            d.total += 1;
        }
    }

    fn forget(&self, who: &Address, id: &MessageId) -> Option<(u64, u64)> {
        let mut d = self.delivered.lock().unwrap_or_else(|e| e.into_inner());
        let d = &mut *d;
        let mine = d.devices.get_mut(who)?;
        let found = mine.remove(id);
        if mine.is_empty() {
            d.devices.remove(who);
        }
        if found.is_some() {
            d.total = d.total.saturating_sub(1);
        }
        found
    }

    /// Finds the positions of `ids` at the head of `who`'s queue.
    async fn scan(&self, who: &Address, ids: &[MessageId]) -> Result<Positions, BackendError> {
        let subject = queue_subject(who);
        let mut found = HashMap::new();
        let mut after = 0u64;
        for _ in 0..ACK_SCAN {
            let msg = match self
                .queue
                .direct_get_next_for_subject(subject.clone(), Some(after.saturating_add(1)))
                .await
            {
                Ok(m) => m,
                Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => break,
                Err(e) => return Err(nats(e)),
            };
            after = msg.sequence;
            let (id, _, wire) = parse_queued(&msg.payload)?;
            if ids.contains(&id) {
                found.insert(id, (msg.sequence, wire.len() as u64));
                if found.len() == ids.len() {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// One attempt of [`RelayBackend::enqueue`].
    async fn enqueue_once(
        &self,
        sender: &Address,
        recipients: &[Address],
        id: &MessageId,
        wire: &[u8],
        limits: &QueueLimits,
    ) -> Result<(), EnqueueError> {
        let backend = |e: BackendError| EnqueueError::Backend(e.to_string());
        let len = wire.len() as u64;
        // Every recipient is checked before anything is stored, so a refused send is
        // stored for none. Past the checks, a failure leaves some copies stored: the
        // device resends, and the message ids make the resend store only the rest.
        let mut users: HashMap<&[u8], Vec<(u32, [u8; 32])>> = HashMap::new();
        for to in recipients {
            if !users.contains_key(to.user.as_slice()) {
                users.insert(&to.user, self.user(&to.user).await.map_err(backend)?);
            }
            let bound = users
                .get(to.user.as_slice())
                .is_some_and(|d| d.iter().any(|(d, _)| *d == to.device));
            if !bound {
                return Err(EnqueueError::UnknownRecipient(to.clone()));
            }
            let usage = self
                .entry(&device_key("usage", to))
                .await
                .map_err(backend)?
                .map(|(v, _)| parse_usage(&v))
                .transpose()
                .map_err(backend)?
                .unwrap_or((0, 0));
            if usage.0.saturating_add(1) > limits.max_count
                || usage.1.saturating_add(len) > limits.max_bytes
            {
                return Err(EnqueueError::QueueFull(to.clone()));
            }
        }
        let payload = encode_queued(id, sender, wire);
        for to in recipients {
            let publish = jetstream::message::PublishMessage::build()
                .payload(payload.clone())
                .message_id(format!("{}.{}", device_key("q", to), hex(id.as_bytes())));
            let ack = self
                .js
                .send_publish(queue_subject(to), publish)
                .await
                .map_err(|e| EnqueueError::Backend(e.to_string()))?
                .await
                .map_err(|e| EnqueueError::Backend(e.to_string()))?;
            // A resend is stored once and counted once.
            if !ack.duplicate {
                let counted = i64::try_from(len).unwrap_or(i64::MAX);
                self.usage_add(to, 1, counted).await.map_err(backend)?;
            }
            // Wake the node holding the device's pipe, wherever it is (also on a resend:
            // the attempt that stored it may have failed before its wake-up).
            let _ = self.client.publish(push_subject(to), Bytes::new()).await;
        }
        Ok(())
    }

    /// One attempt of [`RelayBackend::acknowledge`].
    async fn acknowledge_once(
        &self,
        recipient: &Address,
        ids: &[MessageId],
    ) -> Result<usize, BackendError> {
        let mut positions = Vec::new();
        let mut missing = Vec::new();
        for id in ids {
            match self.forget(recipient, id) {
                Some(p) => positions.push(p),
                None if !missing.contains(id) => missing.push(*id),
                None => {}
            }
        }
        if !missing.is_empty() {
            positions.extend(self.scan(recipient, &missing).await?.into_values());
        }
        let mut n = 0usize;
        for (seq, len) in positions {
            // Erased only now, after the device's commit; `false` when another node
            // erased it first.
            let erased = match self.queue.delete_message(seq).await {
                Ok(erased) => erased,
                Err(e) if matches!(e.kind(), stream::DeleteMessageErrorKind::JetStream(_)) => {
                    false // no such message any more
                }
                Err(e) => return Err(nats(e)),
            };
            if erased {
                let counted = i64::try_from(len).unwrap_or(i64::MAX);
                self.usage_add(recipient, -1, -counted).await?;
                n += 1;
            }
        }
        Ok(n)
    }
}

impl RelayBackend for NatsBackend {
    fn bind(
        &self,
        address: &Address,
        identity: &[u8; 32],
        max_devices: usize,
    ) -> Result<Binding, BackendError> {
        let key = format!("user.{}", hex(&address.user));
        self.run(self.update(&key, |old| {
            let mut devices = old.map(parse_user).transpose()?.unwrap_or_default();
            match devices.iter().find(|(d, _)| *d == address.device) {
                Some((_, k)) if k == identity => return Ok((None, Binding::Same)),
                Some(_) => return Ok((None, Binding::Other)),
                None => {}
            }
            if devices.len() >= max_devices {
                return Ok((None, Binding::TooManyDevices));
            }
            devices.push((address.device, *identity));
            devices.sort_by_key(|(d, _)| *d);
            Ok((Some(encode_user(&devices)), Binding::New))
        }))
    }

    fn identity(&self, address: &Address) -> Result<Option<[u8; 32]>, BackendError> {
        let devices = self.run(self.user(&address.user))?;
        Ok(devices
            .into_iter()
            .find(|(d, _)| *d == address.device)
            .map(|(_, k)| k))
    }

    fn devices(&self, user: &[u8]) -> Result<Vec<u32>, BackendError> {
        let devices = self.run(self.user(user))?;
        Ok(devices.into_iter().map(|(d, _)| d).collect())
    }

    fn store_prekeys(
        &self,
        address: &Address,
        upload: PreKeyUpload,
        max_one_time: usize,
    ) -> Result<(), BackendError> {
        self.run(self.update(&device_key("prekeys", address), |old| {
            let mut merged = match old {
                Some(bytes) => {
                    let mut stored = PreKeyUpload::from_bytes(bytes)
                        .map_err(|_| BackendError::Corrupt("prekeys"))?;
                    stored.merge(upload.clone());
                    stored
                }
                None => upload.clone(),
            };
            super::trim_front(&mut merged.one_time_prekeys, max_one_time);
            super::trim_front(&mut merged.one_time_pq_prekeys, max_one_time);
            Ok((Some(merged.to_bytes().into()), ()))
        }))
    }

    fn take_bundle(&self, address: &Address) -> Result<Option<Vec<u8>>, BackendError> {
        // The one-time keys handed out leave the record in the same compare-and-set: if
        // another node took keys meanwhile, this one reads the record again.
        self.run(self.update(&device_key("prekeys", address), |old| {
            let Some(bytes) = old else {
                return Ok((None, None));
            };
            let mut upload =
                PreKeyUpload::from_bytes(bytes).map_err(|_| BackendError::Corrupt("prekeys"))?;
            let bundle = upload.take_bundle().to_bytes();
            Ok((Some(upload.to_bytes().into()), Some(bundle)))
        }))
    }

    fn store_certificate(&self, address: &Address, certificate: &[u8]) -> Result<(), BackendError> {
        self.run(
            self.kv
                .put(device_key("cert", address), certificate.to_vec().into()),
        )
        .map_err(nats)?;
        Ok(())
    }

    fn certificate(&self, address: &Address) -> Result<Option<Vec<u8>>, BackendError> {
        let e = self.run(self.entry(&device_key("cert", address)))?;
        Ok(e.map(|(v, _)| v.to_vec()))
    }

    fn device_list(&self, user: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        let e = self.run(self.entry(&format!("list.{}", hex(user))))?;
        Ok(e.map(|(v, _)| v.to_vec()))
    }

    fn replace_device_list(
        &self,
        user: &[u8],
        expected: Option<&[u8]>,
        list: &[u8],
    ) -> Result<bool, BackendError> {
        let key = format!("list.{}", hex(user));
        self.run(async {
            let current = self.entry(&key).await?;
            if current.as_ref().map(|(v, _)| v.as_ref()) != expected {
                return Ok(false);
            }
            // Written only if nobody wrote since the read the caller verified against.
            self.compare_and_set(&key, current.map(|(_, r)| r), list.to_vec().into())
                .await
        })
    }

    fn enqueue(
        &self,
        sender: &Address,
        recipients: &[Address],
        id: &MessageId,
        wire: &[u8],
        _now_ms: u64,
        limits: &QueueLimits,
    ) -> Result<(), EnqueueError> {
        // While a NATS cluster elects a new leader for the stream or the bucket (a NATS
        // node died), requests fail for a few seconds: the send is tried again, which
        // the message ids make safe, before the device is told it failed.
        // A wire NATS would refuse whatever the retries is refused at once. (The routing
        // prefix and the headers take well under 1 KiB.)
        let max_payload = self.client.server_info().max_payload;
        if max_payload > 0 && wire.len().saturating_add(1024) > max_payload {
            return Err(EnqueueError::Backend(format!(
                "a {} B wire exceeds the NATS server's max_payload ({max_payload} B)",
                wire.len()
            )));
        }
        let deadline = std::time::Instant::now() + RETRY_FOR;
        loop {
            match self.run(self.enqueue_once(sender, recipients, id, wire, limits)) {
                Err(EnqueueError::Backend(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                outcome => return outcome,
            }
        }
    }

    fn pending(
        &self,
        recipient: &Address,
        after: u64,
        limit: usize,
        now_ms: u64,
        limits: &QueueLimits,
    ) -> Result<Vec<Queued>, BackendError> {
        let subject = queue_subject(recipient);
        let cutoff_ms = now_ms.saturating_sub(limits.max_age_ms);
        self.run(async {
            let mut out = Vec::new();
            let mut next = after.saturating_add(1);
            while out.len() < limit {
                let msg = match self
                    .queue
                    .direct_get_next_for_subject(subject.clone(), Some(next))
                    .await
                {
                    Ok(m) => m,
                    Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => break,
                    Err(e) => return Err(nats(e)),
                };
                next = msg.sequence.saturating_add(1);
                let stored_ms =
                    u64::try_from(msg.time.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
                let (id, sender, wire) = parse_queued(&msg.payload)?;
                if stored_ms < cutoff_ms {
                    continue; // the stream's age limit drops it
                }
                self.remember(recipient, id, msg.sequence, wire.len() as u64);
                out.push(Queued {
                    seq: msg.sequence,
                    id,
                    sender,
                    wire,
                });
            }
            Ok(out)
        })
    }

    fn acknowledge(&self, recipient: &Address, ids: &[MessageId]) -> Result<usize, BackendError> {
        // Tried again while NATS fails, as sends are: an acknowledgement lost here would
        // leave the message to be delivered once more.
        let deadline = std::time::Instant::now() + RETRY_FOR;
        loop {
            match self.run(self.acknowledge_once(recipient, ids)) {
                Err(BackendError::Nats(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                outcome => return outcome,
            }
        }
    }

    fn queued(&self, recipient: &Address) -> Result<u64, BackendError> {
        let subject = queue_subject(recipient);
        self.run(async {
            let mut counts = self
                .queue
                .info_with_subjects(subject.clone())
                .await
                .map_err(nats)?;
            let mut n = 0u64;
            while let Some(entry) = counts.next().await {
                let (s, count) = entry.map_err(nats)?;
                if s == subject {
                    n = n.saturating_add(count as u64);
                }
            }
            if n == 0 {
                // Messages the stream dropped at the age limit never passed through
                // `acknowledge`: an empty queue sets the usage straight.
                self.update(&device_key("usage", recipient), |old| {
                    let stale = old.map(parse_usage).transpose()?.unwrap_or((0, 0)) != (0, 0);
                    Ok((stale.then(|| encode_usage(0, 0)), ()))
                })
                .await?;
            }
            Ok(n)
        })
    }

    fn expire(&self, _now_ms: u64, _limits: &QueueLimits) -> Result<usize, BackendError> {
        // The stream's maximum age drops old messages on the server.
        Ok(0)
    }

    fn watch(&self, address: &Address, wake: Arc<Notify>) -> Result<Option<Watch>, BackendError> {
        let subject = push_subject(address);
        let mut sub = self.run(async {
            let sub = self.client.subscribe(subject).await.map_err(nats)?;
            // The subscription is registered on the server before the first read of the
            // queue, so no store after that read goes unnoticed.
            self.client.flush().await.map_err(nats)?;
            Ok::<_, BackendError>(sub)
        })?;
        let task = self.rt.spawn(async move {
            while sub.next().await.is_some() {
                wake.notify_one();
            }
        });
        Ok(Some(Box::new(Subscription(task))))
    }
}
