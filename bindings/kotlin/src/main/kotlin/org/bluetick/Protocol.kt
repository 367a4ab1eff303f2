// The protocol layer without an account (`bt_identity_*`, `bt_prekeys_*`, `bt_session_*`,
// `bt_receipt_*`): for servers, tools and known-answer tests that drive PQXDH and the ratchet
// themselves. Apps use [Account].
//
// Functions taking `randomness` use the system's generator when it is null, or exactly those
// bytes, in the order the protocol draws them, to reproduce test vectors (too few bytes:
// [InvalidArgumentException], nothing changed).
package org.bluetick

/** An identity key pair (`bt_identity`). Secrets are erased when closed. Thread-safe. */
class Identity private constructor(handle: com.sun.jna.Pointer) :
    NativeObject(handle, { Lib.bt.bt_identity_free(it) }, "Identity") {

    companion object {
        /** The identity of a 32-byte Ed25519 seed. */
        @JvmStatic
        fun fromSeed(seed: ByteArray): Identity {
            requireLength(seed, 32, "an identity seed")
            return Identity(newHandle { Lib.bt.bt_identity_from_seed(seed, it) })
        }
    }

    /** The public identity key `IK` (32 bytes). */
    val publicKey: ByteArray
        get() = withHandle { h ->
            val key = ByteArray(Bluetick.KEY_LENGTH)
            checkStatus(Lib.bt.bt_identity_public(h, key))
            key
        }
}

/** Private prekeys held in memory (`bt_prekeys`). Secrets are erased when closed. Thread-safe. */
class PreKeys : NativeObject(newHandle { Lib.bt.bt_prekeys_new(it) }, { Lib.bt.bt_prekeys_free(it) }, "PreKeys") {
    /** Adds a signed prekey: id and 32-byte X25519 private key, signed by [identity]. */
    fun addSigned(identity: Identity, id: Int, privateKey: ByteArray) {
        requireLength(privateKey, 32, "an X25519 private key")
        withHandle { h -> identity.withHandle { i -> checkStatus(Lib.bt.bt_prekeys_add_signed(h, i, id, privateKey)) } }
    }

    /** Adds a one-time X25519 prekey: id and 32-byte private key. */
    fun addOneTime(id: Int, privateKey: ByteArray) {
        requireLength(privateKey, 32, "an X25519 private key")
        withHandle { h -> checkStatus(Lib.bt.bt_prekeys_add_one_time(h, id, privateKey)) }
    }

    /** Adds an ML-KEM-1024 prekey from a 64-byte seed `d || z`, last-resort or one-time. */
    fun addPq(identity: Identity, id: Int, lastResort: Boolean, seed: ByteArray) {
        requireLength(seed, 64, "an ML-KEM seed")
        withHandle { h ->
            identity.withHandle { i ->
                checkStatus(Lib.bt.bt_prekeys_add_pq(h, i, id, if (lastResort) 1 else 0, seed))
            }
        }
    }

    /** The bundle these prekeys give (nothing is consumed). */
    fun bundle(identity: Identity): ByteArray =
        withHandle { h -> identity.withHandle { i -> bufferCall { Lib.bt.bt_prekeys_bundle(h, i, it) } } }
}

/** What [Session.decrypt] returns. */
class Decrypted(
    val contentType: ContentType,
    val body: ByteArray,
    /** The sender's identity key (32 bytes). */
    val sender: ByteArray,
    /** How many bytes of scripted randomness the call used (0 or 32). */
    val randomnessUsed: Int,
)

/**
 * All sessions with one peer (`bt_session`, a session record). Every call either completes
 * or changes nothing. Thread-safe. [serialized] bytes: [Session] of a [toBytes] output;
 * null or empty for a new, empty record.
 */
class Session @JvmOverloads constructor(serialized: ByteArray? = null) :
    NativeObject(
        newHandle { Lib.bt.bt_session_new(serialized?.takeIf { it.isNotEmpty() }, serialized.cLen(), it) },
        { Lib.bt.bt_session_free(it) },
        "Session",
    ) {

    /** The record's bytes (they hold secrets: store them encrypted). */
    fun toBytes(): ByteArray = withHandle { h -> bufferCall { Lib.bt.bt_session_to_bytes(h, it) } }

    /**
     * Starts a session as the initiator from a peer's [bundle] (PQXDH). Scripted
     * [randomness] is drawn as ephemeral key (32), encapsulation randomness (32), first
     * ratchet key (32). Returns how many bytes of it were used.
     */
    @JvmOverloads
    fun start(identity: Identity, bundle: ByteArray, randomness: ByteArray? = null): Int =
        withHandle { h ->
            identity.withHandle { i ->
                val used = SizeTByReference()
                checkStatus(Lib.bt.bt_session_start(h, i, bundle, bundle.cLen(), randomness, randomness.cLen(), used))
                Math.toIntExact(used.value)
            }
        }

    /** Encrypts [body] as [contentType] in the current session. */
    fun encrypt(contentType: ContentType, body: ByteArray): OutgoingMessage = withHandle { h ->
        val id = ByteArray(MessageId.LENGTH)
        val wire = bufferCall { Lib.bt.bt_session_encrypt(h, contentType.code, body, body.cLen(), it, id) }
        OutgoingMessage(MessageId(id), wire)
    }

    /**
     * Decrypts a wire message from the session's peer; a PreKeyMessage may start a new
     * session from [prekeys] (consuming its one-time keys). Scripted [randomness] is drawn
     * only when the message completes a DH ratchet step: one ratchet key (32).
     */
    @JvmOverloads
    fun decrypt(identity: Identity, prekeys: PreKeys, wire: ByteArray, randomness: ByteArray? = null): Decrypted =
        withHandle { h ->
            identity.withHandle { i ->
                prekeys.withHandle { p ->
                    val used = SizeTByReference()
                    val type = ByteArray(1)
                    val sender = ByteArray(Bluetick.KEY_LENGTH)
                    val body = bufferCall {
                        Lib.bt.bt_session_decrypt(h, i, p, wire, wire.cLen(), randomness, randomness.cLen(), used, type, it, sender)
                    }
                    val contentType = ContentType.of(type[0])
                        ?: throw InternalException(Status.Internal.code, "BT_INTERNAL", "unknown content type ${type[0]}")
                    Decrypted(contentType, body, sender, Math.toIntExact(used.value))
                }
            }
        }
}

/** A verified receipt's kind and the signer's clock (ms since the Unix epoch). */
data class VerifiedReceipt(val kind: ReceiptKind, val timestampMs: Long)

/** Receipt bodies without an account (`bt_receipt_create`, `bt_receipt_verify`). */
object Receipts {
    /**
     * A receipt body of [kind] signed by [identity] for messages [ids] sent by the peer
     * whose identity key is [peerKey] (sorted and deduplicated here).
     */
    @JvmStatic
    fun create(identity: Identity, peerKey: ByteArray, kind: ReceiptKind, timestampMs: Long, ids: Collection<MessageId>): ByteArray {
        requireLength(peerKey, Bluetick.KEY_LENGTH, "an identity key")
        val all = ids.concat()
        return identity.withHandle { i ->
            bufferCall {
                Lib.bt.bt_receipt_create(i, peerKey, kind.code, timestampMs, all.takeIf { a -> a.isNotEmpty() }, SizeT(ids.size), it)
            }
        }
    }

    /**
     * Verifies [body] as its receiver: signed by [signerKey], addressed to [receiverKey],
     * ids in canonical order, each among [sentIds] (what the receiver sent the signer).
     */
    @JvmStatic
    fun verify(body: ByteArray, signerKey: ByteArray, receiverKey: ByteArray, sentIds: Collection<MessageId>): VerifiedReceipt {
        requireLength(signerKey, Bluetick.KEY_LENGTH, "an identity key")
        requireLength(receiverKey, Bluetick.KEY_LENGTH, "an identity key")
        val sent = sentIds.concat()
        val kind = ByteArray(1)
        val timestamp = com.sun.jna.ptr.LongByReference()
        checkStatus(
            Lib.bt.bt_receipt_verify(
                body, body.cLen(), signerKey, receiverKey,
                sent.takeIf { it.isNotEmpty() }, SizeT(sentIds.size), kind, timestamp,
            ),
        )
        return VerifiedReceipt(ReceiptKind.known(kind[0]), timestamp.value)
    }
}
