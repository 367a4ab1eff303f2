// `Account`: one device's identity, prekeys, sessions, message statuses and inbox in a
// sealed store, over `bt_account` of the C ABI.
//
// Each method names the C call it makes. Conventions kept throughout (bluetick.h, top):
// - inputs are borrowed for the call only: `Data.withBytes` gives the pointer for exactly
//   that long; an empty `Data` passes (NULL, 0);
// - fixed-size inputs (ids 16 bytes, keys 32) are length-checked before the call, since C
//   reads that many bytes;
// - every output `bt_buffer` / `bt_incoming` / `bt_inbox` lives in a local freed by a
//   `defer` declared before the call, so it is freed exactly once, on success or failure
//   (outputs are written first, so a failed call leaves them empty and safe to free);
// - `check` runs right after each call, before any other `bt_*` call on the thread, so the
//   message it reads is that call's.

import CBluetick
import Foundation

/// The app's decision on a peer whose identity key changed: return true to trust
/// `newKey` (it replaces `trustedKey`), false to refuse (`BluetickError.untrustedIdentity`).
///
/// It runs inside the `encrypt` / `decrypt` call that needs it, on that call's thread,
/// while the library holds the peer's lock: it must return promptly and must not use the
/// account (that would deadlock). With several threads it may run on several at once.
public typealias IdentityPolicy = (_ peer: Peer, _ trustedKey: Data, _ newKey: Data) -> Bool

/// A message for `decryptBatch`.
public struct BatchMessage: Sendable {
    public let peer: Peer
    public let wire: Data

    public init(peer: Peer, wire: Data) {
        self.peer = peer
        self.wire = wire
    }
}

/// One device's account. Thread-safe: several threads may use one account at once (the
/// library locks inside). The handle is freed when the last reference goes (`deinit`),
/// which cannot overlap a call in flight, since a call holds a reference.
public final class Account: @unchecked Sendable {
    private let handle: OpaquePointer
    /// The installed policy, kept alive while the library may call it; guarded by
    /// `policyLock`.
    private var policyBox: PolicyBox?
    private let policyLock = NSLock()

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        // C: bt_account_free(account). Everything was committed when each call returned.
        // `policyBox` is released after this, once the library can no longer call it.
        bt_account_free(handle)
    }

    // MARK: Opening

    /// Creates a new account in the SQLite database at `path` (created if missing; throws
    /// `.accountExists` if it holds one). `storageKey`: 32 bytes from the Keychain.
    ///
    /// C: `bt_account_create_sqlite(path, storage_key, storage_key_len, config, &out)`.
    public static func createSqlite(path: String, storageKey: Data, config: AccountConfig? = nil) throws -> Account {
        try withPath(path) { cPath in
            try storageKey.withBytes { key, keyLen in
                try make(config) { cfg, out in
                    bt_account_create_sqlite(cPath, key, keyLen, cfg, out)
                }
            }
        }
    }

    /// Opens the account at `path`: `.wrongStorageKey`, `.noAccount`, `.storeCorrupt` or
    /// `.database` when it cannot.
    ///
    /// C: `bt_account_open_sqlite(path, storage_key, storage_key_len, config, &out)`.
    public static func openSqlite(path: String, storageKey: Data, config: AccountConfig? = nil) throws -> Account {
        try withPath(path) { cPath in
            try storageKey.withBytes { key, keyLen in
                try make(config) { cfg, out in
                    bt_account_open_sqlite(cPath, key, keyLen, cfg, out)
                }
            }
        }
    }

    /// A new account held in memory only (tests, previews): gone when freed.
    ///
    /// C: `bt_account_create_memory(storage_key, storage_key_len, config, &out)`.
    public static func createInMemory(storageKey: Data, config: AccountConfig? = nil) throws -> Account {
        try storageKey.withBytes { key, keyLen in
            try make(config) { cfg, out in
                bt_account_create_memory(key, keyLen, cfg, out)
            }
        }
    }

    private static func withPath<R>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> R) throws -> R {
        // withCString would silently cut the path at an embedded NUL.
        guard !path.utf8.contains(0) else { throw invalidArgument("path contains a NUL byte") }
        return try path.withCString(body)
    }

    /// Runs a constructor with the config (NULL for the defaults) and an out-handle.
    private static func make(
        _ config: AccountConfig?,
        _ call: (UnsafePointer<bt_account_config>?, UnsafeMutablePointer<OpaquePointer?>) -> bt_status
    ) throws -> Account {
        var out: OpaquePointer? = nil
        let status: bt_status = withUnsafeMutablePointer(to: &out) { outPtr in
            guard let config else { return call(nil, outPtr) }
            return withUnsafePointer(to: config.native) { call($0, outPtr) }
        }
        try check(status)
        guard let handle = out else {
            throw BluetickError.internalError(message: "the library returned BT_OK and no account")
        }
        return Account(handle: handle)
    }

    // MARK: Identity

    /// This account's 32-byte identity key (Ed25519 public key).
    ///
    /// C: `bt_account_identity(account, out_key[32])`.
    public func identity() throws -> Data {
        var key = [UInt8](repeating: 0, count: Int(BT_KEY_LEN))
        try check(bt_account_identity(handle, &key))
        return Data(key)
    }

    /// The identity key trusted for `peer`, or nil if the account knows none.
    ///
    /// C: `bt_account_peer_identity(account, user, user_len, device, out_key[32], &found)`.
    public func peerIdentity(_ peer: Peer) throws -> Data? {
        var key = [UInt8](repeating: 0, count: Int(BT_KEY_LEN))
        var found = false
        try peer.user.withBytes { user, userLen in
            try check(bt_account_peer_identity(handle, user, userLen, peer.device, &key, &found))
        }
        return found ? Data(key) : nil
    }

    /// Trusts `key` (32 bytes) for `peer`, after the users compared safety numbers.
    ///
    /// C: `bt_account_trust_identity(account, user, user_len, device, key[32])`.
    public func trustIdentity(_ peer: Peer, key: Data) throws {
        let key = try fixed(key, BT_KEY_LEN, "key")
        try peer.user.withBytes { user, userLen in
            try key.withBytes { keyPtr, _ in
                try check(bt_account_trust_identity(handle, user, userLen, peer.device, keyPtr))
            }
        }
    }

    /// The 60-digit safety number with `peer` (show it in twelve groups of five), or nil
    /// while the peer's identity is unknown.
    ///
    /// C: `bt_account_safety_number(account, user, user_len, device, out, out_len, &found)`
    /// with `out` a `char[BT_SAFETY_NUMBER_SIZE]`.
    public func safetyNumber(with peer: Peer) throws -> String? {
        let size = Int(BT_SAFETY_NUMBER_SIZE)
        var digits = [CChar](repeating: 0, count: size)
        var found = false
        try peer.user.withBytes { user, userLen in
            try check(bt_account_safety_number(handle, user, userLen, peer.device, &digits, size, &found))
        }
        guard found else { return nil }
        let ascii = digits.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: ascii, as: UTF8.self)
    }

    /// Installs the policy asked when a peer's identity key changed; nil removes it (a
    /// change is then refused until `trustIdentity`). See `IdentityPolicy` for where it
    /// runs. It must not call `setIdentityPolicy` itself.
    ///
    /// C: `bt_account_set_identity_policy(account, callback, user_data)`; `user_data` is an
    /// unretained pointer to a box this account keeps until the policy is replaced or the
    /// account freed, as the header requires. The library calls the old policy under a
    /// lock that setting a new one waits for, so the old box may go once the call returns.
    public func setIdentityPolicy(_ policy: IdentityPolicy?) throws {
        policyLock.lock()
        defer { policyLock.unlock() }
        guard let policy else {
            try check(bt_account_set_identity_policy(handle, nil, nil))
            policyBox = nil
            return
        }
        let box = PolicyBox(policy)
        try check(bt_account_set_identity_policy(handle, policyTrampoline, Unmanaged.passUnretained(box).toOpaque()))
        policyBox = box
    }

    // MARK: Prekeys

    /// Everything to publish, as upload bytes for the relay; upload once after creating.
    ///
    /// C: `bt_account_prekey_upload(account, &upload)`.
    public func prekeyUpload() throws -> Data {
        var upload = bt_buffer()
        defer { bt_buffer_free(&upload) }
        try check(bt_account_prekey_upload(handle, &upload))
        return upload.bytes
    }

    /// New one-time prekeys up to the configured counts, as upload bytes for the relay to
    /// merge. Call it when `Message.replenishPrekeys` or `prekeyCounts().low` says so.
    ///
    /// C: `bt_account_replenish_prekeys(account, &upload)`.
    public func replenishPrekeys() throws -> Data {
        var upload = bt_buffer()
        defer { bt_buffer_free(&upload) }
        try check(bt_account_replenish_prekeys(handle, &upload))
        return upload.bytes
    }

    /// Makes a new signed prekey current (the old one retires at `nowMs`, default now);
    /// upload bytes.
    ///
    /// C: `bt_account_rotate_signed_prekey(account, now_ms, &upload)`.
    public func rotateSignedPrekey(nowMs: UInt64? = nil) throws -> Data {
        var upload = bt_buffer()
        defer { bt_buffer_free(&upload) }
        try check(bt_account_rotate_signed_prekey(handle, nowMs ?? currentTimeMs(), &upload))
        return upload.bytes
    }

    /// Makes a new last-resort PQ prekey current; upload bytes.
    ///
    /// C: `bt_account_rotate_last_resort_pq_prekey(account, now_ms, &upload)`.
    public func rotateLastResortPqPrekey(nowMs: UInt64? = nil) throws -> Data {
        var upload = bt_buffer()
        defer { bt_buffer_free(&upload) }
        try check(bt_account_rotate_last_resort_pq_prekey(handle, nowMs ?? currentTimeMs(), &upload))
        return upload.bytes
    }

    /// Deletes signed and last-resort prekeys retired at least `keepForMs` before `nowMs`
    /// (default now); returns how many.
    ///
    /// C: `bt_account_prune_retired_prekeys(account, now_ms, keep_for_ms, &deleted)`.
    public func pruneRetiredPrekeys(keepForMs: UInt64, nowMs: UInt64? = nil) throws -> Int {
        var deleted: Int = 0
        try check(bt_account_prune_retired_prekeys(handle, nowMs ?? currentTimeMs(), keepForMs, &deleted))
        return deleted
    }

    /// How many one-time prekeys are left, and whether to replenish.
    ///
    /// C: `bt_account_prekey_counts(account, &counts)`.
    public func prekeyCounts() throws -> PrekeyCounts {
        var counts = bt_prekey_counts()
        try check(bt_account_prekey_counts(handle, &counts))
        return PrekeyCounts(
            oneTimePrekeys: counts.one_time_prekeys,
            oneTimePqPrekeys: counts.one_time_pq_prekeys,
            low: counts.low)
    }

    // MARK: Messages

    /// Encrypts `body` for `peer`. With `bundle` (from the relay) it starts a new session
    /// first (PQXDH); without, it uses the current one (`.noSession` if none). The message
    /// is `.pending` until `markSent`.
    ///
    /// C: `bt_account_encrypt(account, user, user_len, device, body, body_len, bundle,
    /// bundle_len, out_id[16], &wire)`; no bundle is (NULL, 0).
    public func encrypt(to peer: Peer, body: Data, bundle: Data? = nil) throws -> Sent {
        var id = [UInt8](repeating: 0, count: Int(BT_MESSAGE_ID_LEN))
        var wire = bt_buffer()
        defer { bt_buffer_free(&wire) }
        try peer.user.withBytes { user, userLen in
            try body.withBytes { bodyPtr, bodyLen in
                try (bundle ?? Data()).withBytes { bundlePtr, bundleLen in
                    try check(bt_account_encrypt(
                        handle, user, userLen, peer.device, bodyPtr, bodyLen, bundlePtr, bundleLen,
                        &id, &wire))
                }
            }
        }
        return Sent(id: Data(id), wire: wire.bytes)
    }

    /// Records the relay's acknowledgement of an outgoing message; returns its status now
    /// (at least `.sent`). `.unknownMessage` for an id never sent.
    ///
    /// C: `bt_account_mark_sent(account, id[16], &status)`.
    public func markSent(_ id: Data) throws -> MessageStatus {
        let id = try fixed(id, BT_MESSAGE_ID_LEN, "id")
        var status: UInt8 = 0
        try id.withBytes { idPtr, _ in
            try check(bt_account_mark_sent(handle, idPtr, &status))
        }
        return try messageStatus(byte: status)
    }

    /// The status of an outgoing message, or nil if the account never sent it.
    ///
    /// C: `bt_account_message_status(account, id[16], &status, &found)`.
    public func messageStatus(_ id: Data) throws -> MessageStatus? {
        let id = try fixed(id, BT_MESSAGE_ID_LEN, "id")
        var status: UInt8 = 0
        var found = false
        try id.withBytes { idPtr, _ in
            try check(bt_account_message_status(handle, idPtr, &status, &found))
        }
        guard found else { return nil }
        return try messageStatus(byte: status)
    }

    /// Decrypts a wire message from `peer`: a message (now in the inbox until
    /// `acknowledge`) or a receipt (already applied). Everything is committed when this
    /// returns; only then tell the relay to drop the message. A failure changes nothing.
    ///
    /// C: `bt_account_decrypt(account, user, user_len, device, wire, wire_len, &incoming)`,
    /// then one `bt_incoming_free(&incoming)`.
    public func decrypt(from peer: Peer, wire: Data) throws -> Incoming {
        var incoming = bt_incoming()
        defer { bt_incoming_free(&incoming) }
        try peer.user.withBytes { user, userLen in
            try wire.withBytes { wirePtr, wireLen in
                try check(bt_account_decrypt(handle, user, userLen, peer.device, wirePtr, wireLen, &incoming))
            }
        }
        return try Incoming(native: incoming, peer: peer)
    }

    /// Decrypts many messages with one durable commit. Each succeeds or fails on its own:
    /// one `Result` per message, in order. The relay may then drop every message whose
    /// result is a success or `.alreadyReceived`. Throws only when nothing was committed.
    ///
    /// C: `bt_account_decrypt_batch(account, messages, count, results, statuses)`, then
    /// `bt_incoming_free` on each of the `count` results. The user ids and wires are
    /// copied into one array whose storage the `bt_batch_message`s point into for the call.
    public func decryptBatch(_ messages: [BatchMessage]) throws -> [Result<Incoming, BluetickError>] {
        let count = messages.count
        if count == 0 { return [] }
        var storage = [UInt8]()
        var spans: [(user: Range<Int>, wire: Range<Int>)] = []
        spans.reserveCapacity(count)
        for message in messages {
            let userStart = storage.count
            storage.append(contentsOf: message.peer.user)
            let wireStart = storage.count
            storage.append(contentsOf: message.wire)
            spans.append((userStart..<wireStart, wireStart..<storage.count))
        }
        var results = [bt_incoming](repeating: bt_incoming(), count: count)
        var statuses = [bt_status](repeating: BT_OK, count: count)
        defer {
            for i in 0..<count { bt_incoming_free(&results[i]) }
        }
        let status: bt_status = storage.withUnsafeBufferPointer { buffer in
            func pointer(_ span: Range<Int>) -> UnsafePointer<UInt8>? {
                span.isEmpty ? nil : buffer.baseAddress.map { $0 + span.lowerBound }
            }
            var batch = zip(messages, spans).map { message, span in
                bt_batch_message(
                    user: pointer(span.user), user_len: span.user.count, device: message.peer.device,
                    wire: pointer(span.wire), wire_len: span.wire.count)
            }
            return bt_account_decrypt_batch(handle, &batch, count, &results, &statuses)
        }
        try check(status)
        return try (0..<count).map { i -> Result<Incoming, BluetickError> in
            if statuses[i] == BT_OK {
                return .success(try Incoming(native: results[i], peer: messages[i].peer))
            }
            // Per-message failures carry only their status (no message).
            return .failure(BluetickError(status: Int32(truncatingIfNeeded: statuses[i].rawValue), message: ""))
        }
    }

    /// Marks an inbox message as stored by the app: its body leaves the account's store
    /// and a redelivery throws `.alreadyReceived`. Call it before telling the relay to drop
    /// the message.
    ///
    /// C: `bt_account_acknowledge(account, id[16])`.
    public func acknowledge(_ id: Data) throws {
        let id = try fixed(id, BT_MESSAGE_ID_LEN, "id")
        try id.withBytes { idPtr, _ in
            try check(bt_account_acknowledge(handle, idPtr))
        }
    }

    /// The received messages not yet acknowledged (after a crash, store these first).
    ///
    /// C: `bt_account_inbox(account, &inbox)`, `bt_inbox_len`, `bt_inbox_get(inbox, i,
    /// &entry)` for each (entries borrow from the snapshot: copied here), then one
    /// `bt_inbox_free(inbox)`.
    public func inbox() throws -> [InboxEntry] {
        var inbox: OpaquePointer? = nil
        defer { bt_inbox_free(inbox) }
        try check(bt_account_inbox(handle, &inbox))
        let count = bt_inbox_len(inbox)
        var entries: [InboxEntry] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            var entry = bt_inbox_entry()
            try check(bt_inbox_get(inbox, index, &entry))
            entries.append(InboxEntry(
                id: bytes(ofTuple: entry.id),
                peer: Peer(user: copyBytes(entry.user, entry.user_len), device: entry.device),
                body: copyBytes(entry.body, entry.body_len)))
        }
        return entries
    }

    /// Encrypts a receipt of `kind` to `peer` for messages received from it (1 to 1024
    /// ids of 16 bytes, any order); send the wire bytes like any message.
    ///
    /// C: `bt_account_create_receipt(account, user, user_len, device, kind, ids, id_count,
    /// now_ms, out_id[16], &wire)`.
    public func createReceipt(to peer: Peer, kind: ReceiptKind, ids: [Data], nowMs: UInt64? = nil) throws -> Sent {
        let joined = try joinedIds(ids, "ids")
        let idCount = ids.count
        let now = nowMs ?? currentTimeMs()
        var id = [UInt8](repeating: 0, count: Int(BT_MESSAGE_ID_LEN))
        var wire = bt_buffer()
        defer { bt_buffer_free(&wire) }
        try peer.user.withBytes { user, userLen in
            try joined.withBytes { idsPtr, _ in
                try check(bt_account_create_receipt(
                    handle, user, userLen, peer.device, kind.rawValue, idsPtr, idCount, now,
                    &id, &wire))
            }
        }
        return Sent(id: Data(id), wire: wire.bytes)
    }

    private func messageStatus(byte: UInt8) throws -> MessageStatus {
        guard let status = MessageStatus(rawValue: byte) else {
            throw BluetickError.internalError(message: "unknown message status \(byte)")
        }
        return status
    }
}

// MARK: - The identity policy across the C boundary

/// Holds the Swift closure; passed to C as an unretained `user_data` pointer.
private final class PolicyBox {
    let decide: IdentityPolicy

    init(_ decide: @escaping IdentityPolicy) {
        self.decide = decide
    }
}

/// The C callback (captures nothing, as `@convention(c)` requires): recovers the box from
/// `user_data` and copies the borrowed arguments before calling the closure.
private let policyTrampoline: bt_identity_policy = { userData, user, userLen, device, trustedKey, newKey in
    guard let userData, let trustedKey, let newKey else { return false }
    let box = Unmanaged<PolicyBox>.fromOpaque(userData).takeUnretainedValue()
    let keyLen = Int(BT_KEY_LEN)
    return box.decide(
        Peer(user: copyBytes(user, userLen), device: device),
        copyBytes(trustedKey, keyLen),
        copyBytes(newKey, keyLen))
}

// MARK: - Reading a bt_incoming

extension Incoming {
    /// Copies a filled `bt_incoming` (the caller still frees it).
    init(native: bt_incoming, peer: Peer) throws {
        let id = bytes(ofTuple: native.id)
        let sender = bytes(ofTuple: native.sender)
        switch native.kind {
        case UInt32(BT_INCOMING_MESSAGE):
            self = .message(Message(
                id: id, peer: peer, sender: sender, body: native.body.bytes,
                replenishPrekeys: native.replenish_prekeys))
        case UInt32(BT_INCOMING_RECEIPT):
            guard let kind = ReceiptKind(rawValue: native.receipt_kind) else {
                throw BluetickError.internalError(message: "unknown receipt kind \(native.receipt_kind)")
            }
            // `updates.len / BT_UPDATE_LEN` records of id (16) || status (1).
            let raw = [UInt8](native.updates.bytes)
            let record = Int(BT_UPDATE_LEN)
            let idLen = Int(BT_MESSAGE_ID_LEN)
            var updates: [StatusUpdate] = []
            for offset in stride(from: 0, to: raw.count - record + 1, by: record) {
                guard let status = MessageStatus(rawValue: raw[offset + idLen]) else {
                    throw BluetickError.internalError(message: "unknown message status \(raw[offset + idLen])")
                }
                updates.append(StatusUpdate(id: Data(raw[offset..<offset + idLen]), status: status))
            }
            self = .receipt(Receipt(
                id: id, peer: peer, sender: sender, kind: kind, timestampMs: native.timestamp_ms,
                updates: updates, replenishPrekeys: native.replenish_prekeys))
        default:
            throw BluetickError.internalError(message: "unknown bt_incoming kind \(native.kind)")
        }
    }
}
