// The raw C ABI of ffi/include/bluetick.h, declared for JNA: one line per C function, C
// structs as JNA Structures. Nothing here is public: the rest of the package wraps it.
//
// Type mapping (the header's types on the left):
//   bt_status, uint32_t     -> Int          uint64_t        -> Long
//   uint8_t, bool (by value) -> Byte        size_t          -> SizeT (pointer-sized)
//   const uint8_t *         -> ByteArray    (copied in, and back out for output arrays)
//   bool *, uint8_t * (out) -> ByteArray(1) size_t * (out)  -> SizeTByReference
//   handle **               -> PointerByReference           bt_buffer * -> BtBuffer
// `bool` is never mapped to Boolean: JNA would pass a 4-byte int.
@file:Suppress("FunctionName", "LocalVariableName")

package org.bluetick

import com.sun.jna.Callback
import com.sun.jna.IntegerType
import com.sun.jna.Library
import com.sun.jna.Native
import com.sun.jna.Pointer
import com.sun.jna.Structure
import com.sun.jna.ptr.ByReference
import com.sun.jna.ptr.LongByReference
import com.sun.jna.ptr.PointerByReference

/** C `size_t`: 8 bytes on 64-bit targets, 4 on armeabi-v7a. */
internal class SizeT(value: Long = 0) : IntegerType(Native.SIZE_T_SIZE, value, true) {
    constructor(value: Int) : this(value.toLong())

    // java.lang.Number's concrete methods, which Kotlin's Number declares abstract.
    override fun toByte(): Byte = toInt().toByte()
    override fun toShort(): Short = toInt().toShort()
}

/** A `size_t *` output. */
internal class SizeTByReference : ByReference(Native.SIZE_T_SIZE) {
    val value: Long
        get() = if (Native.SIZE_T_SIZE == 8) pointer.getLong(0) else pointer.getInt(0).toLong() and 0xffff_ffffL
}

/** `bt_buffer`: bytes the library returns, freed once with `bt_buffer_free`. */
@Structure.FieldOrder("ptr", "len")
internal open class BtBuffer : Structure() {
    @JvmField var ptr: Pointer? = null
    @JvmField var len: SizeT = SizeT()

    /** A copy of the bytes (the buffer itself is still to be freed). */
    fun bytes(): ByteArray {
        val n = len.toLong()
        val p = ptr
        return if (n == 0L || p == null) ByteArray(0) else p.getByteArray(0, Math.toIntExact(n))
    }
}

/** `bt_account_config`. */
@Structure.FieldOrder("one_time_prekeys", "one_time_pq_prekeys", "low_water_mark")
internal class BtAccountConfig : Structure() {
    @JvmField var one_time_prekeys: Int = 0
    @JvmField var one_time_pq_prekeys: Int = 0
    @JvmField var low_water_mark: Int = 0
}

/** `bt_prekey_counts`. */
@Structure.FieldOrder("one_time_prekeys", "one_time_pq_prekeys", "low")
internal class BtPrekeyCounts : Structure() {
    @JvmField var one_time_prekeys: Int = 0
    @JvmField var one_time_pq_prekeys: Int = 0
    @JvmField var low: Byte = 0
}

/** `bt_incoming`: what `bt_account_decrypt` received; freed once with `bt_incoming_free`. */
@Structure.FieldOrder(
    "kind", "id", "sender", "body", "receipt_kind", "timestamp_ms", "updates", "replenish_prekeys",
)
internal class BtIncoming : Structure() {
    @JvmField var kind: Int = 0
    @JvmField var id: ByteArray = ByteArray(MessageId.LENGTH)
    @JvmField var sender: ByteArray = ByteArray(Bluetick.KEY_LENGTH)
    @JvmField var body: BtBuffer = BtBuffer()
    @JvmField var receipt_kind: Byte = 0
    @JvmField var timestamp_ms: Long = 0
    @JvmField var updates: BtBuffer = BtBuffer()
    @JvmField var replenish_prekeys: Byte = 0
}

/** `bt_batch_message`: one input of `bt_account_decrypt_batch` (pointers borrowed). */
@Structure.FieldOrder("user", "user_len", "device", "wire", "wire_len")
internal class BtBatchMessage : Structure() {
    @JvmField var user: Pointer? = null
    @JvmField var user_len: SizeT = SizeT()
    @JvmField var device: Int = 0
    @JvmField var wire: Pointer? = null
    @JvmField var wire_len: SizeT = SizeT()
}

/** `bt_inbox_entry`: borrowed from its `bt_inbox` until `bt_inbox_free`. */
@Structure.FieldOrder("id", "user", "user_len", "device", "body", "body_len")
internal class BtInboxEntry : Structure() {
    @JvmField var id: ByteArray = ByteArray(MessageId.LENGTH)
    @JvmField var user: Pointer? = null
    @JvmField var user_len: SizeT = SizeT()
    @JvmField var device: Int = 0
    @JvmField var body: Pointer? = null
    @JvmField var body_len: SizeT = SizeT()
}

/** `bt_identity_policy`. Returns a C `bool` (0 or 1). */
internal interface BtIdentityPolicy : Callback {
    fun invoke(
        userData: Pointer?,
        user: Pointer?,
        userLen: SizeT,
        device: Int,
        trustedKey: Pointer?,
        newKey: Pointer?,
    ): Byte
}

/** Every function of bluetick.h, in the header's order. */
internal interface BluetickLibrary : Library {
    fun bt_abi_version(): Int
    fun bt_version(): Pointer
    fun bt_test_panic(): Int
    fun bt_account_config_default(out: BtAccountConfig?): Int

    fun bt_account_create_sqlite(path: ByteArray?, storage_key: ByteArray?, storage_key_len: SizeT, config: BtAccountConfig?, out: PointerByReference?): Int
    fun bt_account_open_sqlite(path: ByteArray?, storage_key: ByteArray?, storage_key_len: SizeT, config: BtAccountConfig?, out: PointerByReference?): Int
    fun bt_account_create_memory(storage_key: ByteArray?, storage_key_len: SizeT, config: BtAccountConfig?, out: PointerByReference?): Int
    fun bt_account_free(account: Pointer?)

    fun bt_account_identity(account: Pointer?, out_key: ByteArray?): Int
    fun bt_account_trust_identity(account: Pointer?, user: ByteArray?, user_len: SizeT, device: Int, key: ByteArray?): Int
    fun bt_account_peer_identity(account: Pointer?, user: ByteArray?, user_len: SizeT, device: Int, out_key: ByteArray?, out_found: ByteArray?): Int
    fun bt_account_safety_number(account: Pointer?, user: ByteArray?, user_len: SizeT, device: Int, out: ByteArray?, out_len: SizeT, out_found: ByteArray?): Int
    fun bt_account_set_identity_policy(account: Pointer?, callback: BtIdentityPolicy?, user_data: Pointer?): Int

    fun bt_last_error_message(): Pointer
    fun bt_buffer_free(buf: BtBuffer?)

    fun bt_account_inbox(account: Pointer?, out: PointerByReference?): Int
    fun bt_inbox_len(inbox: Pointer?): SizeT
    fun bt_inbox_get(inbox: Pointer?, index: SizeT, out: BtInboxEntry?): Int
    fun bt_inbox_free(inbox: Pointer?)

    fun bt_account_encrypt(account: Pointer?, user: ByteArray?, user_len: SizeT, device: Int, body: ByteArray?, body_len: SizeT, bundle: ByteArray?, bundle_len: SizeT, out_id: ByteArray?, out_wire: BtBuffer?): Int
    fun bt_account_mark_sent(account: Pointer?, id: ByteArray?, out_status: ByteArray?): Int
    fun bt_account_message_status(account: Pointer?, id: ByteArray?, out_status: ByteArray?, out_found: ByteArray?): Int
    fun bt_account_decrypt(account: Pointer?, user: ByteArray?, user_len: SizeT, device: Int, wire: ByteArray?, wire_len: SizeT, out: BtIncoming?): Int
    fun bt_account_decrypt_batch(account: Pointer?, messages: Array<BtBatchMessage>?, count: SizeT, out_results: Array<BtIncoming>?, out_statuses: IntArray?): Int
    fun bt_incoming_free(incoming: BtIncoming?)
    fun bt_account_acknowledge(account: Pointer?, id: ByteArray?): Int
    fun bt_account_create_receipt(account: Pointer?, user: ByteArray?, user_len: SizeT, device: Int, kind: Byte, ids: ByteArray?, id_count: SizeT, now_ms: Long, out_id: ByteArray?, out_wire: BtBuffer?): Int
    fun bt_message_id_of(wire: ByteArray?, wire_len: SizeT, out_id: ByteArray?): Int

    fun bt_account_prekey_upload(account: Pointer?, out_upload: BtBuffer?): Int
    fun bt_account_replenish_prekeys(account: Pointer?, out_upload: BtBuffer?): Int
    fun bt_account_rotate_signed_prekey(account: Pointer?, now_ms: Long, out_upload: BtBuffer?): Int
    fun bt_account_rotate_last_resort_pq_prekey(account: Pointer?, now_ms: Long, out_upload: BtBuffer?): Int
    fun bt_account_prune_retired_prekeys(account: Pointer?, now_ms: Long, keep_for_ms: Long, out_deleted: SizeTByReference?): Int
    fun bt_account_prekey_counts(account: Pointer?, out: BtPrekeyCounts?): Int

    fun bt_prekey_upload_verify(upload: ByteArray?, upload_len: SizeT): Int
    fun bt_prekey_upload_take_bundle(upload: ByteArray?, upload_len: SizeT, out_remaining: BtBuffer?, out_bundle: BtBuffer?): Int
    fun bt_prekey_upload_merge(older: ByteArray?, older_len: SizeT, newer: ByteArray?, newer_len: SizeT, out_merged: BtBuffer?): Int

    fun bt_identity_from_seed(seed: ByteArray?, out: PointerByReference?): Int
    fun bt_identity_public(identity: Pointer?, out_key: ByteArray?): Int
    fun bt_identity_free(identity: Pointer?)

    fun bt_prekeys_new(out: PointerByReference?): Int
    fun bt_prekeys_add_signed(prekeys: Pointer?, identity: Pointer?, id: Int, private_key: ByteArray?): Int
    fun bt_prekeys_add_one_time(prekeys: Pointer?, id: Int, private_key: ByteArray?): Int
    fun bt_prekeys_add_pq(prekeys: Pointer?, identity: Pointer?, id: Int, last_resort: Byte, seed: ByteArray?): Int
    fun bt_prekeys_bundle(prekeys: Pointer?, identity: Pointer?, out_bundle: BtBuffer?): Int
    fun bt_prekeys_free(prekeys: Pointer?)

    fun bt_session_new(bytes: ByteArray?, bytes_len: SizeT, out: PointerByReference?): Int
    fun bt_session_to_bytes(session: Pointer?, out_bytes: BtBuffer?): Int
    fun bt_session_start(session: Pointer?, identity: Pointer?, bundle: ByteArray?, bundle_len: SizeT, randomness: ByteArray?, randomness_len: SizeT, out_used: SizeTByReference?): Int
    fun bt_session_encrypt(session: Pointer?, content_type: Byte, body: ByteArray?, body_len: SizeT, out_wire: BtBuffer?, out_id: ByteArray?): Int
    fun bt_session_decrypt(session: Pointer?, identity: Pointer?, prekeys: Pointer?, wire: ByteArray?, wire_len: SizeT, randomness: ByteArray?, randomness_len: SizeT, out_used: SizeTByReference?, out_content_type: ByteArray?, out_body: BtBuffer?, out_sender: ByteArray?): Int
    fun bt_session_free(session: Pointer?)

    fun bt_receipt_create(identity: Pointer?, peer_key: ByteArray?, kind: Byte, timestamp_ms: Long, ids: ByteArray?, id_count: SizeT, out_body: BtBuffer?): Int
    fun bt_receipt_verify(body: ByteArray?, body_len: SizeT, signer_key: ByteArray?, receiver_key: ByteArray?, sent_ids: ByteArray?, sent_count: SizeT, out_kind: ByteArray?, out_timestamp_ms: LongByReference?): Int

    fun bt_status_name(status: Int): Pointer
}

/** The loaded library, checked against the ABI version this binding was written for. */
internal object Lib {
    /** The library's base name: `libbluetick_ffi.so` on Linux and Android. */
    const val NAME = "bluetick_ffi"

    @JvmField
    val bt: BluetickLibrary = load()

    private fun load(): BluetickLibrary {
        val lib = try {
            Native.load(NAME, BluetickLibrary::class.java)
        } catch (e: UnsatisfiedLinkError) {
            val err = UnsatisfiedLinkError(
                "cannot load lib$NAME (jna.library.path=${System.getProperty("jna.library.path")}): " +
                    "build it with `cargo build --release -p bluetick-ffi` and point " +
                    "-Dbluetick.lib.dir (Maven) or jna.library.path at its folder; ${e.message}",
            )
            err.initCause(e)
            throw err
        }
        val abi = lib.bt_abi_version()
        if (abi != Bluetick.ABI_VERSION) {
            throw UnsatisfiedLinkError(
                "lib$NAME has C ABI version $abi, this binding needs ${Bluetick.ABI_VERSION}",
            )
        }
        return lib
    }
}

/** Length of a byte input as the C `size_t` beside it. */
internal fun ByteArray?.cLen(): SizeT = SizeT((this?.size ?: 0).toLong())

/** Reads a static or thread-local NUL-terminated UTF-8 string from the library. */
internal fun Pointer.utf8(): String = getString(0, "UTF-8")
