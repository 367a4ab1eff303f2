package org.bluetick

/** Library-wide facts and functions that need no account. */
object Bluetick {
    /** The C ABI version this binding was written for (`BT_ABI_VERSION`). */
    const val ABI_VERSION: Int = 1

    /** Length of storage keys, identity keys and seeds of identities (`BT_KEY_LEN`). */
    const val KEY_LENGTH: Int = 32

    /** Length of a safety number: 60 digits. */
    const val SAFETY_NUMBER_DIGITS: Int = 60

    /** The loaded library's crate version, such as `"0.1.0"`. */
    val version: String get() = Lib.bt.bt_version().utf8()

    /** The loaded library's C ABI version (checked equal to [ABI_VERSION] when loaded). */
    val abiVersion: Int get() = Lib.bt.bt_abi_version()

    /** The C name of a status number, such as `"BT_WRONG_STORAGE_KEY"` (`bt_status_name`). */
    fun statusName(code: Int): String = Lib.bt.bt_status_name(code).utf8()

    /** The id of a wire message, as sender, recipient and relay each compute it. */
    fun messageIdOf(wire: ByteArray): MessageId {
        val id = ByteArray(MessageId.LENGTH)
        checkStatus(Lib.bt.bt_message_id_of(wire, wire.cLen(), id))
        return MessageId(id)
    }

    /** Makes the library panic on purpose: always throws [PanicException] (for tests). */
    fun testPanic() {
        checkStatus(Lib.bt.bt_test_panic())
    }
}

/** A 16-byte message id: compared by content, printed as hex. */
class MessageId(bytes: ByteArray) : Comparable<MessageId> {
    private val bytes: ByteArray = bytes.copyOf()

    init {
        requireLength(bytes, LENGTH, "a message id")
    }

    /** A copy of the 16 bytes. */
    fun toByteArray(): ByteArray = bytes.copyOf()

    internal fun raw(): ByteArray = bytes

    override fun equals(other: Any?): Boolean = other is MessageId && bytes.contentEquals(other.bytes)

    override fun hashCode(): Int = bytes.contentHashCode()

    /** Unsigned lexicographic order, the order receipts list ids in. */
    override fun compareTo(other: MessageId): Int {
        for (i in 0 until LENGTH) {
            val c = (bytes[i].toInt() and 0xff) - (other.bytes[i].toInt() and 0xff)
            if (c != 0) return c
        }
        return 0
    }

    override fun toString(): String = bytes.toHex()

    companion object {
        /** `BT_MESSAGE_ID_LEN`. */
        const val LENGTH: Int = 16

        /** Parses 32 hex digits. */
        fun fromHex(hex: String): MessageId = MessageId(hex.hexToBytes())
    }
}

/**
 * A peer device: the app's user id (any bytes, at most 1024) and a device number (an
 * unsigned 32-bit value carried in an [Int]).
 */
class Peer(user: ByteArray, val device: Int) {
    /** A user id given as text, stored as its UTF-8 bytes. */
    constructor(user: String, device: Int) : this(user.toByteArray(Charsets.UTF_8), device)

    private val userBytes: ByteArray = user.copyOf()

    /** A copy of the user id bytes. */
    val user: ByteArray get() = userBytes.copyOf()

    /** The user id decoded as UTF-8. */
    val userString: String get() = String(userBytes, Charsets.UTF_8)

    internal fun raw(): ByteArray = userBytes

    override fun equals(other: Any?): Boolean =
        other is Peer && device == other.device && userBytes.contentEquals(other.userBytes)

    override fun hashCode(): Int = 31 * userBytes.contentHashCode() + device

    override fun toString(): String = "Peer(${userString}, ${Integer.toUnsignedString(device)})"
}

/** The delivery status of an outgoing message; it only moves forward. */
enum class MessageStatus(val code: Byte) {
    /** Encrypted, not yet acknowledged by the relay (`BT_MESSAGE_PENDING`). */
    Pending(0),

    /** The relay acknowledged it: one grey tick (`BT_MESSAGE_SENT`). */
    Sent(1),

    /** A delivery receipt arrived: two grey ticks (`BT_MESSAGE_DELIVERED`). */
    Delivered(2),

    /** A read receipt arrived: two blue ticks (`BT_MESSAGE_READ`). */
    Read(3),
    ;

    companion object {
        internal fun of(code: Byte): MessageStatus =
            entries.firstOrNull { it.code == code }
                ?: throw InternalException(Status.Internal.code, "BT_INTERNAL", "unknown message status $code")
    }
}

/** The kind of a receipt. Signed kinds prove who sent them; deniable ones only the session. */
enum class ReceiptKind(val code: Byte) {
    /** Signed delivery receipt (`BT_RECEIPT_DELIVERED`). */
    Delivered(1),

    /** Signed read receipt (`BT_RECEIPT_READ`). */
    Read(2),

    /** Deniable delivery receipt, authenticated by the session alone. */
    DeniableDelivered(0x81.toByte()),

    /** Deniable read receipt. */
    DeniableRead(0x82.toByte()),
    ;

    companion object {
        /** The kind of a `BT_RECEIPT_*` byte, or null. */
        fun of(code: Byte): ReceiptKind? = entries.firstOrNull { it.code == code }

        internal fun known(code: Byte): ReceiptKind =
            of(code) ?: throw InternalException(Status.Internal.code, "BT_INTERNAL", "unknown receipt kind $code")
    }
}

/** The content type of a protocol-layer plaintext (`BT_CONTENT_*`). */
enum class ContentType(val code: Byte) {
    Application(1),
    Receipt(2),
    ;

    companion object {
        /** The type of a `BT_CONTENT_*` byte, or null. */
        fun of(code: Byte): ContentType? = entries.firstOrNull { it.code == code }
    }
}

/** A message ready for the relay: its id and wire bytes. */
class OutgoingMessage(val id: MessageId, val wire: ByteArray) {
    override fun toString(): String = "OutgoingMessage($id, ${wire.size} bytes)"
}

/** What [Account.decrypt] received: an application message or a receipt. */
sealed class Incoming {
    /** The id of the wire message. */
    abstract val id: MessageId

    /** The sender's identity key (32 bytes). */
    abstract val sender: ByteArray

    /**
     * Set when this message used up one-time prekeys and fewer than the low-water mark
     * remain: call [Account.replenishPrekeys] and upload the result.
     */
    abstract val replenishPrekeys: Boolean

    /**
     * An application message, now in the inbox: store [body], then [Account.acknowledge]
     * [id], then tell the relay to drop it. Put [id] in receipts.
     */
    class Message(
        override val id: MessageId,
        val body: ByteArray,
        override val sender: ByteArray,
        override val replenishPrekeys: Boolean,
    ) : Incoming() {
        override fun toString(): String = "Message($id, ${body.size} bytes)"
    }

    /**
     * A receipt, already applied: [updates] lists the messages whose status moved forward
     * (empty for a late or repeated receipt).
     */
    class Receipt(
        override val id: MessageId,
        val kind: ReceiptKind,
        val timestampMs: Long,
        val updates: List<Pair<MessageId, MessageStatus>>,
        override val sender: ByteArray,
        override val replenishPrekeys: Boolean,
    ) : Incoming() {
        override fun toString(): String = "Receipt($kind, $timestampMs, $updates)"
    }
}

/** One message of [Account.decryptBatch]. */
class BatchMessage(val peer: Peer, val wire: ByteArray)

/** An inbox entry: a received message not yet acknowledged. */
class InboxEntry(val id: MessageId, val peer: Peer, val body: ByteArray) {
    override fun toString(): String = "InboxEntry($id, $peer, ${body.size} bytes)"
}

/** How many one-time prekeys are left, and whether to replenish. */
data class PreKeyCounts(val oneTimePrekeys: Int, val oneTimePqPrekeys: Int, val low: Boolean)

/** How many prekeys an account keeps published; [DEFAULT] is (50, 50, 10). */
data class AccountConfig(val oneTimePrekeys: Int, val oneTimePqPrekeys: Int, val lowWaterMark: Int) {
    internal fun toNative(): BtAccountConfig = BtAccountConfig().also {
        it.one_time_prekeys = oneTimePrekeys
        it.one_time_pq_prekeys = oneTimePqPrekeys
        it.low_water_mark = lowWaterMark
    }

    companion object {
        /** The library's defaults (`bt_account_config_default`). */
        val DEFAULT: AccountConfig by lazy {
            val c = BtAccountConfig()
            checkStatus(Lib.bt.bt_account_config_default(c))
            AccountConfig(c.one_time_prekeys, c.one_time_pq_prekeys, c.low_water_mark)
        }
    }
}

/**
 * The app's decision on a peer whose identity key changed: return true to trust [newKey]
 * (it replaces [trustedKey]), false to refuse (the call fails with
 * [UntrustedIdentityException]).
 *
 * It runs on the thread that called [Account.encrypt] or [Account.decrypt], inside that
 * call, while the account holds its store transaction and the peer's lock: return
 * promptly, never call the same [Account] from it (that deadlocks), and make it thread-safe
 * if the account is used from several threads. An exception thrown from it counts as a
 * refusal.
 */
fun interface IdentityPolicy {
    fun trustNewIdentity(peer: Peer, trustedKey: ByteArray, newKey: ByteArray): Boolean
}

internal fun ByteArray.toHex(): String {
    val digits = "0123456789abcdef"
    val out = StringBuilder(size * 2)
    for (b in this) {
        out.append(digits[(b.toInt() shr 4) and 0xf]).append(digits[b.toInt() and 0xf])
    }
    return out.toString()
}

internal fun String.hexToBytes(): ByteArray {
    if (length % 2 != 0) throw invalidArgument("odd number of hex digits")
    return ByteArray(length / 2) { i ->
        val hi = Character.digit(this[2 * i], 16)
        val lo = Character.digit(this[2 * i + 1], 16)
        if (hi < 0 || lo < 0) throw invalidArgument("not a hex digit at ${2 * i}")
        ((hi shl 4) or lo).toByte()
    }
}

/** Concatenates message ids for a C `ids` input (`16 * count` bytes). */
internal fun Collection<MessageId>.concat(): ByteArray {
    val out = ByteArray(size * MessageId.LENGTH)
    forEachIndexed { i, id -> id.raw().copyInto(out, i * MessageId.LENGTH) }
    return out
}
