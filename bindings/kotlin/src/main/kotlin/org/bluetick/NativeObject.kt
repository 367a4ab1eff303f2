package org.bluetick

import com.sun.jna.Pointer
import java.util.concurrent.locks.ReentrantReadWriteLock

/**
 * Frees native handles whose Kotlin owner became unreachable without `close()`: the safety
 * net, not the way to free (native memory and the SQLite file stay held until the GC runs).
 *
 * `java.lang.ref.Cleaner` where it exists (JVM 9+, Android API 33+); otherwise JNA's own
 * PhantomReference cleaner (the same fallback UniFFI's generated Kotlin uses), so the
 * binding also runs on older Android versions.
 */
internal object NativeCleaner {
    fun interface Cleanable {
        fun clean()
    }

    private val register: (Any, Runnable) -> Cleanable = try {
        val cleaner = java.lang.ref.Cleaner.create()
        val r: (Any, Runnable) -> Cleanable = { obj, action ->
            val c = cleaner.register(obj, action)
            Cleanable { c.clean() }
        }
        r
    } catch (_: LinkageError) {
        val cleaner = com.sun.jna.internal.Cleaner.getCleaner()
        val r: (Any, Runnable) -> Cleanable = { obj, action ->
            val c = cleaner.register(obj, action)
            Cleanable { c.clean() }
        }
        r
    }

    fun register(owner: Any, action: Runnable): Cleanable = register.invoke(owner, action)

    /** `Reference.reachabilityFence` where it exists (Android API 28+), else a monitor. */
    private val fence: (Any) -> Unit = try {
        java.lang.ref.Reference::class.java.getMethod("reachabilityFence", Any::class.java)
        val f: (Any) -> Unit = { java.lang.ref.Reference.reachabilityFence(it) }
        f
    } catch (_: ReflectiveOperationException) {
        val f: (Any) -> Unit = { synchronized(it) {} }
        f
    }

    /** Keeps [owner] reachable up to this point, so its cleaner cannot run during a call. */
    fun keepAlive(owner: Any) = fence.invoke(owner)
}

/**
 * The native side of a handle: the pointer, the lock that keeps `*_free` from overlapping
 * other calls, and anything that must live as long as the pointer (an identity policy
 * callback). It is the cleaner's action, so it holds no reference to its owner.
 */
internal class HandleState(
    pointer: Pointer,
    private val free: (Pointer) -> Unit,
) : Runnable {
    @Volatile
    var pointer: Pointer? = pointer
        private set

    /** Calls share the read lock; freeing takes the write lock (waits for calls in flight). */
    val lock = ReentrantReadWriteLock()

    /** Objects the native side points to (the policy trampoline): kept until freed. */
    @Volatile
    var attachment: Any? = null

    override fun run() {
        val write = lock.writeLock()
        write.lock()
        try {
            val p = pointer ?: return
            pointer = null
            free(p)
            attachment = null
        } finally {
            write.unlock()
        }
    }
}

/**
 * A Kotlin owner of one native handle: [close] frees it (once; later calls do nothing), a
 * cleaner frees it if [close] is forgotten, and every use runs under a read lock, so
 * several threads may call at once while `*_free` never overlaps a call. A call after
 * [close] throws [IllegalStateException].
 */
abstract class NativeObject internal constructor(
    pointer: Pointer,
    free: (Pointer) -> Unit,
    internal val kind: String,
) : AutoCloseable {
    internal val state = HandleState(pointer, free)
    private val cleanable = NativeCleaner.register(this, state)

    /** Whether [close] was called. */
    val isClosed: Boolean get() = state.pointer == null

    /**
     * Frees the native handle; waits for calls in flight on other threads. Idempotent.
     * Must not be called from inside a call on this object (an [IdentityPolicy]).
     */
    override fun close() {
        check(state.lock.readHoldCount == 0) { "close() inside a call on this $kind (an identity policy?)" }
        cleanable.clean()
    }

    /** Runs [block] with the live pointer, holding the read lock. */
    internal inline fun <T> withHandle(block: (Pointer) -> T): T {
        val read = state.lock.readLock()
        read.lock()
        try {
            val p = state.pointer ?: throw IllegalStateException("this $kind is closed")
            return block(p)
        } finally {
            read.unlock()
            NativeCleaner.keepAlive(this)
        }
    }

    override fun toString(): String = if (isClosed) "$kind(closed)" else "$kind(open)"
}

/** Allocates a handle through a `bt_*_new`-style call and returns it (never null). */
internal inline fun newHandle(call: (com.sun.jna.ptr.PointerByReference) -> Int): Pointer {
    val out = com.sun.jna.ptr.PointerByReference()
    checkStatus(call(out))
    return out.value ?: throw InternalException(Status.Internal.code, "BT_INTERNAL", "the library returned a null handle")
}

/** Calls a function that writes a `bt_buffer`, copies the bytes out, and frees it. */
internal inline fun bufferCall(call: (BtBuffer) -> Int): ByteArray {
    val buf = BtBuffer()
    try {
        checkStatus(call(buf))
        return buf.bytes()
    } finally {
        Lib.bt.bt_buffer_free(buf)
    }
}
