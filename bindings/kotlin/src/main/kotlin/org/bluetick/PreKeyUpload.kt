package org.bluetick

/**
 * Relay helpers over upload bytes (from [Account.prekeyUpload], [Account.replenishPrekeys]
 * and the rotations): what a relay does with a device's published prekeys. Also handy in
 * tests, to hand one account's bundle to another. Stateless and thread-safe.
 */
object PreKeyUpload {
    /**
     * Strictly parses [upload] and checks every signature and key in it; throws
     * ([MalformedInputException], [AuthenticationException], ...) if a relay should refuse it.
     */
    @JvmStatic
    fun verify(upload: ByteArray) {
        checkStatus(Lib.bt.bt_prekey_upload_verify(upload, upload.cLen()))
    }

    /** One bundle handed out of an upload, and the upload without the keys it consumed. */
    class Taken(
        /** The upload bytes to store in place of the old ones. */
        val remaining: ByteArray,
        /** The bundle to give the peer (for [Account.encrypt]). */
        val bundle: ByteArray,
    )

    /**
     * Hands out one bundle, as a relay does for each peer that asks: consumes one one-time
     * prekey of each kind if any is left (else the bundle carries the last-resort PQ prekey
     * and no one-time X25519 key).
     */
    @JvmStatic
    fun takeBundle(upload: ByteArray): Taken {
        val remaining = BtBuffer()
        val bundle = BtBuffer()
        try {
            checkStatus(Lib.bt.bt_prekey_upload_take_bundle(upload, upload.cLen(), remaining, bundle))
            return Taken(remaining.bytes(), bundle.bytes())
        } finally {
            Lib.bt.bt_buffer_free(remaining)
            Lib.bt.bt_buffer_free(bundle)
        }
    }

    /**
     * Applies a later upload from the same device ([newer]: a replenish or a rotation) to
     * the stored one ([older]); the result replaces [older].
     */
    @JvmStatic
    fun merge(older: ByteArray, newer: ByteArray): ByteArray =
        bufferCall { Lib.bt.bt_prekey_upload_merge(older, older.cLen(), newer, newer.cLen(), it) }
}
