package org.bluetick

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail

val KEY_ALICE = ByteArray(32) { 0x11 }
val KEY_BOB = ByteArray(32) { 0x22 }
val SMALL = AccountConfig(3u, 3u, 2u)
val TINY = AccountConfig(0u, 0u, 0u)

val ALICE = Address("alice", 1)
val BOB = Address("bob", 1)

fun memoryAccount(config: AccountConfig = SMALL, key: ByteArray = KEY_BOB): Account = Account.createMemory(key, config)

fun String.utf8(): ByteArray = toByteArray(Charsets.UTF_8)

/** The relay's copy of an account's prekeys, as after its first upload. */
fun publish(account: Account): PreKeyUpload =
    PreKeyUpload.fromBytes(account.prekeyUpload().toBytes()).also { it.verify() }

/** Encrypts the first message to a peer from a bundle the relay hands out. */
fun sendFirst(from: Account, to: Address, relay: PreKeyUpload, body: String): Outgoing =
    from.encrypt(to, body.utf8(), relay.takeBundle(), 0uL)

/** Decrypts what must be an application message with this body and id. */
fun expectMessage(to: Account, from: Address, sent: Outgoing, body: String): Received.Message {
    val got = to.decrypt(from, sent.wire).received
    assertTrue(got is Received.Message, "expected a message, got $got")
    got as Received.Message
    assertEquals(body, String(got.body, Charsets.UTF_8))
    assertArrayEquals(sent.id, got.id)
    return got
}

/** The error of [block], which must be exactly [T] with [kind]. */
inline fun <reified T : Throwable> assertFails(kind: ErrorKind, block: () -> Unit): T {
    try {
        block()
    } catch (e: Throwable) {
        if (e !is T) fail<Unit>("expected ${T::class.qualifiedName}, got $e")
        val got = when (e) {
            is AccountException.Store -> e.kind
            is AccountException.Bundle -> e.kind
            is AccountException.Encryption -> e.kind
            is AccountException.Decryption -> e.kind
            is AccountException.Receipt -> e.kind
            is AccountException.Decode -> e.kind
            is AccountException.Device -> e.kind
            is AccountException.NoSession -> e.kind
            is AccountException.UntrustedIdentity -> e.kind
            is AccountException.AlreadyReceived -> e.kind
            is AccountException.UnknownMessage -> e.kind
            is AccountException.InvalidArgument -> e.kind
            is ProtocolException.Decode -> e.kind
            is ProtocolException.Key -> e.kind
            is ProtocolException.Encryption -> e.kind
            is ProtocolException.Decryption -> e.kind
            is ProtocolException.Receipt -> e.kind
            is ProtocolException.InvalidArgument -> e.kind
            is AttachmentException.Pointer -> e.kind
            is AttachmentException.Blob -> e.kind
            is AttachmentException.TooLarge -> e.kind
            is AttachmentException.InvalidArgument -> e.kind
            else -> null
        }
        assertEquals(kind, got, e.message)
        return e as T
    }
    fail<Unit>("expected ${T::class.simpleName} ($kind), nothing was thrown")
    throw IllegalStateException()
}
