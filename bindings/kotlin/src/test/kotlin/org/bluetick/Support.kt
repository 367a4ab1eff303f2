package org.bluetick

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue

val KEY_ALICE = ByteArray(32) { 0x11 }
val KEY_BOB = ByteArray(32) { 0x22 }
val SMALL = AccountConfig(3, 3, 2)
val TINY = AccountConfig(0, 0, 0)

val ALICE = Peer("alice", 1)
val BOB = Peer("bob", 1)

fun memoryAccount(config: AccountConfig = SMALL): Account = Account.createInMemory(ByteArray(32) { 0x5a }, config)

fun String.utf8(): ByteArray = toByteArray(Charsets.UTF_8)

/** A relay's copy of one device's published prekeys, as in the C suite's check.h. */
class Relay(account: Account) {
    var upload: ByteArray = account.prekeyUpload().also { PreKeyUpload.verify(it) }
        private set

    /** Hands out one bundle, keeping the rest. */
    fun fetch(): ByteArray {
        val taken = PreKeyUpload.takeBundle(upload)
        upload = taken.remaining
        return taken.bundle
    }

    /** Applies a replenish or rotation upload. */
    fun merge(newer: ByteArray) {
        PreKeyUpload.verify(newer)
        upload = PreKeyUpload.merge(upload, newer)
    }
}

/** Decrypts what must be an application message with this body and id. */
fun expectMessage(to: Account, from: Peer, sent: OutgoingMessage, body: String): Incoming.Message {
    val got = to.decrypt(from, sent.wire)
    assertTrue(got is Incoming.Message, "expected a message, got $got")
    got as Incoming.Message
    assertEquals(body, String(got.body, Charsets.UTF_8))
    assertEquals(sent.id, got.id)
    return got
}

fun assertBytes(expected: ByteArray, actual: ByteArray?, message: String? = null) {
    assertArrayEquals(expected, actual, message)
}
