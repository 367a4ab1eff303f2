package org.bluetick

import com.sun.jna.Memory
import com.sun.jna.Pointer
import com.sun.jna.ptr.PointerByReference

/**
 * One device's account: its identity, prekeys, sessions, message statuses and inbox, in a
 * sealed store (SQLite, or memory for tests). Wraps `bt_account`.
 *
 * Threads: an account may be used from several threads at once. The native account locks
 * inside (operations on one peer are serialised, the store serialises commits), so there
 * is no need to add locks around it. [close] waits for calls in flight and then frees the
 * handle; calls after it throw [IllegalStateException].
 *
 * Lifetime: close it (`use { }`). A cleaner frees the handle if it becomes unreachable
 * unclosed, but only when the GC runs, and the SQLite file stays open until then.
 * Everything the account did was committed when each call returned.
 *
 * Errors: every failure throws a [BluetickException] subclass; byte arrays passed in are
 * copied for the call only, and arrays returned are the caller's.
 */
class Account private constructor(handle: Pointer) :
    NativeObject(handle, { Lib.bt.bt_account_free(it) }, "Account") {

    companion object {
        /**
         * Creates a new account in the SQLite database at [path] (created if missing; it
         * must not hold an account yet, else [StoreException] `AccountExists`), sealed with
         * [storageKey] (32 bytes; keep it in the Android Keystore). Null [config]: defaults.
         */
        @JvmStatic
        @JvmOverloads
        fun createSqlite(path: String, storageKey: ByteArray, config: AccountConfig? = null): Account =
            Account(newHandle { Lib.bt.bt_account_create_sqlite(path.cString(), storageKey, storageKey.cLen(), config?.toNative(), it) })

        /**
         * Opens the account in the SQLite database at [path]. A wrong [storageKey] throws
         * [StoreException] with [StoreException.wrongStorageKey]; a file with no account,
         * `NoAccount`; a file that is not a database, `Database`.
         */
        @JvmStatic
        @JvmOverloads
        fun openSqlite(path: String, storageKey: ByteArray, config: AccountConfig? = null): Account =
            Account(newHandle { Lib.bt.bt_account_open_sqlite(path.cString(), storageKey, storageKey.cLen(), config?.toNative(), it) })

        /** Creates an account held in memory only (tests, demos): gone when closed. */
        @JvmStatic
        @JvmOverloads
        fun createInMemory(storageKey: ByteArray, config: AccountConfig? = null): Account =
            Account(newHandle { Lib.bt.bt_account_create_memory(storageKey, storageKey.cLen(), config?.toNative(), it) })

        private fun String.cString(): ByteArray {
            val utf8 = toByteArray(Charsets.UTF_8)
            if (utf8.contains(0)) throw invalidArgument("the path contains a NUL character")
            return utf8.copyOf(utf8.size + 1)
        }
    }

    /** This account's identity key (Ed25519 public key, 32 bytes). */
    val identityKey: ByteArray
        get() = withHandle { h ->
            val key = ByteArray(Bluetick.KEY_LENGTH)
            checkStatus(Lib.bt.bt_account_identity(h, key))
            key
        }

    // ---- prekeys ----

    /** Everything to publish (identity, signed and last-resort PQ prekeys, one-time prekeys). */
    fun prekeyUpload(): ByteArray = withHandle { h -> bufferCall { Lib.bt.bt_account_prekey_upload(h, it) } }

    /** Tops one-time prekeys up to the configured counts; upload the result (only the new ones). */
    fun replenishPrekeys(): ByteArray = withHandle { h -> bufferCall { Lib.bt.bt_account_replenish_prekeys(h, it) } }

    /** How many one-time prekeys are left, and whether to replenish. */
    fun prekeyCounts(): PreKeyCounts = withHandle { h ->
        val c = BtPrekeyCounts()
        checkStatus(Lib.bt.bt_account_prekey_counts(h, c))
        PreKeyCounts(c.one_time_prekeys, c.one_time_pq_prekeys, c.low.toInt() != 0)
    }

    /** Makes a new signed prekey current, retiring the old one at [nowMs]; upload the result. */
    fun rotateSignedPrekey(nowMs: Long = System.currentTimeMillis()): ByteArray =
        withHandle { h -> bufferCall { Lib.bt.bt_account_rotate_signed_prekey(h, nowMs, it) } }

    /** Makes a new last-resort PQ prekey current, retiring the old one; upload the result. */
    fun rotateLastResortPqPrekey(nowMs: Long = System.currentTimeMillis()): ByteArray =
        withHandle { h -> bufferCall { Lib.bt.bt_account_rotate_last_resort_pq_prekey(h, nowMs, it) } }

    /** Deletes prekeys retired at least [keepForMs] before [nowMs]; returns how many. */
    fun pruneRetiredPrekeys(nowMs: Long, keepForMs: Long): Long = withHandle { h ->
        val deleted = SizeTByReference()
        checkStatus(Lib.bt.bt_account_prune_retired_prekeys(h, nowMs, keepForMs, deleted))
        deleted.value
    }

    // ---- messages ----

    /**
     * Encrypts [body] for [peer]. With a [bundle] (from the relay, or
     * [PreKeyUpload.takeBundle]) it starts a new session first (PQXDH); without, it uses the
     * current one ([SessionException] `NoSession` if there is none: fetch a bundle). The
     * message is [MessageStatus.Pending] until [markSent].
     */
    @JvmOverloads
    fun encrypt(peer: Peer, body: ByteArray, bundle: ByteArray? = null): OutgoingMessage = withHandle { h ->
        val id = ByteArray(MessageId.LENGTH)
        val wire = bufferCall {
            Lib.bt.bt_account_encrypt(h, peer.raw(), peer.raw().cLen(), peer.device, body, body.cLen(), bundle, bundle.cLen(), id, it)
        }
        OutgoingMessage(MessageId(id), wire)
    }

    /** Records the relay's acknowledgement of [id]; returns its status now (at least Sent). */
    fun markSent(id: MessageId): MessageStatus = withHandle { h ->
        val status = ByteArray(1)
        checkStatus(Lib.bt.bt_account_mark_sent(h, id.raw(), status))
        MessageStatus.of(status[0])
    }

    /** The status of the outgoing message [id], or null if this account never sent it. */
    fun messageStatus(id: MessageId): MessageStatus? = withHandle { h ->
        val status = ByteArray(1)
        val found = ByteArray(1)
        checkStatus(Lib.bt.bt_account_message_status(h, id.raw(), status, found))
        if (found[0].toInt() != 0) MessageStatus.of(status[0]) else null
    }

    /**
     * Decrypts [wire] from [peer]. A message lands in the inbox until [acknowledge] (a
     * redelivery returns it again; after acknowledgement [DuplicateMessageException] with
     * `alreadyReceived`); a receipt's status changes are applied. Everything is committed
     * before this returns; any failure changes nothing.
     */
    fun decrypt(peer: Peer, wire: ByteArray): Incoming = withHandle { h ->
        val incoming = BtIncoming()
        try {
            checkStatus(Lib.bt.bt_account_decrypt(h, peer.raw(), peer.raw().cLen(), peer.device, wire, wire.cLen(), incoming))
            incoming.toIncoming()
        } finally {
            Lib.bt.bt_incoming_free(incoming)
        }
    }

    /**
     * Decrypts many messages with one durable commit (much faster than one [decrypt] each
     * on a phone). Each succeeds or fails on its own: the result at index i is the
     * [Incoming] or the [BluetickException] of message i (per-message failures carry their
     * status only; [BluetickException.detail] is empty). The relay may drop every message
     * whose result is a success or an `alreadyReceived` [DuplicateMessageException].
     * Throws if the batch as a whole fails (nothing committed).
     */
    fun decryptBatch(messages: List<BatchMessage>): List<Result<Incoming>> {
        if (messages.isEmpty()) return emptyList()
        return withHandle { h ->
            val count = messages.size
            // The inputs as native memory the structs can point to, alive for the call.
            val memories = ArrayList<Memory>(2 * count)
            fun copy(bytes: ByteArray): Pointer? {
                if (bytes.isEmpty()) return null
                val m = Memory(bytes.size.toLong())
                m.write(0, bytes, 0, bytes.size)
                memories.add(m)
                return m
            }
            @Suppress("UNCHECKED_CAST")
            val inputs = BtBatchMessage().toArray(count) as Array<BtBatchMessage>
            messages.forEachIndexed { i, msg ->
                inputs[i].user = copy(msg.peer.raw())
                inputs[i].user_len = msg.peer.raw().cLen()
                inputs[i].device = msg.peer.device
                inputs[i].wire = copy(msg.wire)
                inputs[i].wire_len = msg.wire.cLen()
            }
            @Suppress("UNCHECKED_CAST")
            val results = BtIncoming().toArray(count) as Array<BtIncoming>
            val statuses = IntArray(count)
            try {
                checkStatus(Lib.bt.bt_account_decrypt_batch(h, inputs, SizeT(count), results, statuses))
                List(count) { i ->
                    if (statuses[i] == 0) {
                        Result.success(results[i].toIncoming())
                    } else {
                        Result.failure(exceptionFor(statuses[i], ""))
                    }
                }
            } finally {
                results.forEach { Lib.bt.bt_incoming_free(it) }
                memories.forEach { it.close() }
            }
        }
    }

    /**
     * Marks the inbox message [id] as stored by the app (its body is erased from the store;
     * a redelivery is recognised). Call it before telling the relay to drop the message.
     */
    fun acknowledge(id: MessageId) = withHandle { h -> checkStatus(Lib.bt.bt_account_acknowledge(h, id.raw())) }

    /** A snapshot of the inbox: received messages not yet acknowledged. */
    fun inbox(): List<InboxEntry> = withHandle { h ->
        val out = PointerByReference()
        try {
            checkStatus(Lib.bt.bt_account_inbox(h, out))
            val inbox = out.value
            val len = Lib.bt.bt_inbox_len(inbox).toLong()
            val entry = BtInboxEntry()
            List(Math.toIntExact(len)) { i ->
                checkStatus(Lib.bt.bt_inbox_get(inbox, SizeT(i), entry))
                InboxEntry(
                    MessageId(entry.id),
                    Peer(entry.user.read(entry.user_len), entry.device),
                    entry.body.read(entry.body_len),
                )
            }
        } finally {
            Lib.bt.bt_inbox_free(out.value)
        }
    }

    /**
     * Encrypts a receipt of [kind] to [peer] for the messages [ids] received from it (1 to
     * 1024; any order). Send it like any message.
     */
    @JvmOverloads
    fun createReceipt(
        peer: Peer,
        kind: ReceiptKind,
        ids: Collection<MessageId>,
        nowMs: Long = System.currentTimeMillis(),
    ): OutgoingMessage = withHandle { h ->
        val id = ByteArray(MessageId.LENGTH)
        val all = ids.concat()
        val wire = bufferCall {
            Lib.bt.bt_account_create_receipt(
                h, peer.raw(), peer.raw().cLen(), peer.device, kind.code,
                all.takeIf { it.isNotEmpty() }, SizeT(ids.size), nowMs, id, it,
            )
        }
        OutgoingMessage(MessageId(id), wire)
    }

    // ---- identities ----

    /** The identity key trusted for [peer], or null if the account knows none yet. */
    fun peerIdentity(peer: Peer): ByteArray? = withHandle { h ->
        val key = ByteArray(Bluetick.KEY_LENGTH)
        val found = ByteArray(1)
        checkStatus(Lib.bt.bt_account_peer_identity(h, peer.raw(), peer.raw().cLen(), peer.device, key, found))
        if (found[0].toInt() != 0) key else null
    }

    /**
     * The 60-digit safety number of this account and [peer], for the users to compare
     * (show it in twelve groups of five), or null if the peer's identity is not known yet.
     */
    fun safetyNumber(peer: Peer): String? = withHandle { h ->
        val digits = ByteArray(Bluetick.SAFETY_NUMBER_DIGITS + 1)
        val found = ByteArray(1)
        checkStatus(Lib.bt.bt_account_safety_number(h, peer.raw(), peer.raw().cLen(), peer.device, digits, digits.cLen(), found))
        if (found[0].toInt() != 0) String(digits, 0, digits.indexOf(0), Charsets.US_ASCII) else null
    }

    /** Trusts [key] (32 bytes) as [peer]'s identity, replacing any key trusted before. */
    fun trustIdentity(peer: Peer, key: ByteArray) = withHandle { h ->
        requireLength(key, Bluetick.KEY_LENGTH, "an identity key")
        checkStatus(Lib.bt.bt_account_trust_identity(h, peer.raw(), peer.raw().cLen(), peer.device, key))
    }

    /**
     * Installs the policy consulted when a peer's identity key changes (see
     * [IdentityPolicy] for its threading rules); null removes it, so a changed identity is
     * refused until [trustIdentity]. The binding keeps the policy reachable for as long as
     * the native account can call it.
     */
    fun setIdentityPolicy(policy: IdentityPolicy?) = withHandle { h ->
        // One trampoline per account, registered once and kept in the handle state until the
        // handle is freed: replacing the policy never frees a callback a call in flight on
        // another thread may still be running.
        val trampoline = synchronized(state) {
            (state.attachment as PolicyTrampoline?) ?: PolicyTrampoline().also { state.attachment = it }
        }
        trampoline.policy = policy
        checkStatus(Lib.bt.bt_account_set_identity_policy(h, if (policy == null) null else trampoline, null))
    }

    /** The C callback: forwards to the current Kotlin policy; refuses on any exception. */
    private class PolicyTrampoline : BtIdentityPolicy {
        @Volatile
        var policy: IdentityPolicy? = null

        override fun invoke(
            userData: Pointer?,
            user: Pointer?,
            userLen: SizeT,
            device: Int,
            trustedKey: Pointer?,
            newKey: Pointer?,
        ): Byte {
            val p = policy ?: return 0
            if (trustedKey == null || newKey == null) return 0
            return try {
                val peer = Peer(user.read(userLen), device)
                val trust = p.trustNewIdentity(
                    peer,
                    trustedKey.getByteArray(0, Bluetick.KEY_LENGTH),
                    newKey.getByteArray(0, Bluetick.KEY_LENGTH),
                )
                if (trust) 1 else 0
            } catch (_: Throwable) {
                0
            }
        }
    }
}

/** Copies `len` bytes borrowed from the library (null only when `len` is 0). */
internal fun Pointer?.read(len: SizeT): ByteArray {
    val n = len.toLong()
    return if (this == null || n == 0L) ByteArray(0) else getByteArray(0, Math.toIntExact(n))
}

/** Converts a filled `bt_incoming` (its buffers still to be freed by the caller). */
internal fun BtIncoming.toIncoming(): Incoming {
    val id = MessageId(id)
    val sender = sender.copyOf()
    val replenish = replenish_prekeys.toInt() != 0
    return when (kind) {
        1 -> Incoming.Message(id, body.bytes(), sender, replenish)
        2 -> {
            val raw = updates.bytes()
            val record = MessageId.LENGTH + 1
            val list = List(raw.size / record) { i ->
                val off = i * record
                MessageId(raw.copyOfRange(off, off + MessageId.LENGTH)) to MessageStatus.of(raw[off + MessageId.LENGTH])
            }
            Incoming.Receipt(id, ReceiptKind.known(receipt_kind), timestamp_ms, list, sender, replenish)
        }
        else -> throw InternalException(Status.Internal.code, "BT_INTERNAL", "unknown incoming kind $kind")
    }
}
