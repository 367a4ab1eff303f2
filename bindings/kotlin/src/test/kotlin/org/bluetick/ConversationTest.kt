package org.bluetick

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path

/** The whole conversation of ffi/tests/c/conversation.c, through the Kotlin API. */
class ConversationTest {
    @TempDir
    lateinit var dir: Path

    @Test
    fun `two accounts converse on SQLite and everything persists across reopen`() {
        val aliceDb = dir.resolve("alice.db").toString()
        val bobDb = dir.resolve("bob.db").toString()
        var alice = Account.createSqlite(aliceDb, KEY_ALICE, SMALL)
        var bob = Account.createSqlite(bobDb, KEY_BOB, SMALL)
        val aliceKey = alice.identityKey
        val bobKey = bob.identityKey
        assertEquals(32, aliceKey.size)
        assertFalse(aliceKey.contentEquals(bobKey))

        // Bob publishes; Alice fetches a bundle and starts a session (PQXDH).
        val relay = Relay(bob)
        val bundle = relay.fetch()
        assertEquals(1806, bundle.size) // with a one-time prekey
        val m1 = alice.encrypt(BOB, "hi bob".utf8(), bundle)
        assertEquals(MessageStatus.Pending, alice.messageStatus(m1.id))
        assertEquals(MessageStatus.Sent, alice.markSent(m1.id))
        assertEquals(m1.id, Bluetick.messageIdOf(m1.wire))
        val m2 = alice.encrypt(BOB, "second".utf8())
        val m3 = alice.encrypt(BOB, "third".utf8())
        alice.markSent(m2.id)
        alice.markSent(m3.id)

        // Bob receives the first, then the third before the second.
        val first = expectMessage(bob, ALICE, m1, "hi bob")
        assertBytes(aliceKey, first.sender)
        expectMessage(bob, ALICE, m3, "third")
        expectMessage(bob, ALICE, m2, "second")

        // The inbox holds all three until acknowledged.
        val inbox = bob.inbox()
        assertEquals(3, inbox.size)
        assertEquals(setOf(m1.id, m2.id, m3.id), inbox.map { it.id }.toSet())
        for (entry in inbox) {
            assertEquals(ALICE, entry.peer)
            assertTrue(String(entry.body, Charsets.UTF_8) in setOf("hi bob", "second", "third"))
        }

        // Receipts: delivered for all three, read for the first; the read one arrives first
        // and the delivery receipt must not move it back.
        val delivered = bob.createReceipt(ALICE, ReceiptKind.Delivered, listOf(m3.id, m1.id, m2.id), 1000)
        val read = bob.createReceipt(ALICE, ReceiptKind.Read, listOf(m1.id), 2000)
        val gotRead = alice.decrypt(BOB, read.wire)
        assertTrue(gotRead is Incoming.Receipt)
        gotRead as Incoming.Receipt
        assertEquals(ReceiptKind.Read, gotRead.kind)
        assertEquals(2000L, gotRead.timestampMs)
        assertEquals(listOf(m1.id to MessageStatus.Read), gotRead.updates)
        assertEquals(read.id, gotRead.id)
        assertBytes(bobKey, gotRead.sender)
        val gotDelivered = alice.decrypt(BOB, delivered.wire) as Incoming.Receipt
        assertEquals(ReceiptKind.Delivered, gotDelivered.kind)
        assertEquals(1000L, gotDelivered.timestampMs)
        assertEquals(
            mapOf(m2.id to MessageStatus.Delivered, m3.id to MessageStatus.Delivered),
            gotDelivered.updates.toMap(),
        )
        assertEquals(MessageStatus.Read, alice.messageStatus(m1.id))
        assertEquals(MessageStatus.Delivered, alice.messageStatus(m2.id))
        // The same receipt again is a duplicate; a relay ack after Read changes nothing.
        val dup = assertThrows<DuplicateMessageException> { alice.decrypt(BOB, read.wire) }
        assertEquals(Status.DuplicateMessage, dup.status)
        assertFalse(dup.alreadyReceived)
        assertEquals(MessageStatus.Read, alice.markSent(m1.id))

        // A reply the other way, and safety numbers that agree.
        expectMessage(alice, BOB, bob.encrypt(ALICE, "yes!".utf8()), "yes!")
        val snAlice = alice.safetyNumber(BOB)
        val snBob = bob.safetyNumber(ALICE)
        assertEquals(60, snAlice!!.length)
        assertTrue(snAlice.all { it in '0'..'9' })
        assertEquals(snAlice, snBob)
        assertNull(bob.safetyNumber(Peer("carol", 1)))
        assertBytes(bobKey, alice.peerIdentity(BOB))
        assertNull(alice.peerIdentity(Peer("carol", 1)))

        // Close both and reopen: identities, sessions, statuses and the inbox persist.
        alice.close()
        bob.close()
        alice.close() // idempotent
        assertTrue(alice.isClosed)
        assertThrows<IllegalStateException> { alice.identityKey }
        val wrongKey = assertThrows<StoreException> { Account.openSqlite(bobDb, KEY_ALICE, SMALL) }
        assertTrue(wrongKey.wrongStorageKey)
        assertEquals(28, wrongKey.code)
        assertEquals("BT_WRONG_STORAGE_KEY", wrongKey.statusName)
        assertTrue("storage key" in wrongKey.detail, wrongKey.detail)
        val exists = assertThrows<StoreException> { Account.createSqlite(bobDb, KEY_BOB, SMALL) }
        assertEquals(Status.AccountExists, exists.status)
        alice = Account.openSqlite(aliceDb, KEY_ALICE, SMALL)
        bob = Account.openSqlite(bobDb, KEY_BOB)
        alice.use {
            bob.use {
                assertBytes(bobKey, bob.identityKey)
                assertEquals(MessageStatus.Read, alice.messageStatus(m1.id))
                assertEquals(MessageStatus.Delivered, alice.messageStatus(m3.id))
                assertEquals(3, bob.inbox().size)

                // A redelivery comes back from the inbox; after acknowledgement it is refused.
                expectMessage(bob, ALICE, m1, "hi bob")
                bob.acknowledge(m1.id)
                bob.acknowledge(m2.id)
                assertEquals(listOf(m3.id), bob.inbox().map { it.id })
                val again = assertThrows<DuplicateMessageException> { bob.decrypt(ALICE, m1.wire) }
                assertTrue(again.alreadyReceived)
                assertEquals("BT_ALREADY_RECEIVED", again.statusName)
                expectMessage(alice, BOB, bob.encrypt(ALICE, "after reopen".utf8()), "after reopen")

                // Unknown ids and peers.
                val unknown = MessageId(ByteArray(16) { 0xee.toByte() })
                assertThrows<UnknownMessageException> { bob.acknowledge(unknown) }
                assertThrows<UnknownMessageException> { alice.markSent(unknown) }
                assertNull(alice.messageStatus(unknown))
                assertThrows<UnknownMessageException> { bob.createReceipt(ALICE, ReceiptKind.Read, listOf(unknown), 5) }
                val none = assertThrows<MalformedInputException> { bob.createReceipt(ALICE, ReceiptKind.Read, emptyList(), 5) }
                assertEquals(Status.InvalidIdCount, none.status)
                val noSession = assertThrows<SessionException> { alice.encrypt(Peer("carol", 1), "x".utf8()) }
                assertEquals(Status.NoSession, noSession.status)
                assertTrue("bundle" in noSession.detail)

                // A deniable read receipt moves the third to Read.
                val deniable = bob.createReceipt(ALICE, ReceiptKind.DeniableRead, listOf(m3.id), 7)
                val got = alice.decrypt(BOB, deniable.wire) as Incoming.Receipt
                assertEquals(ReceiptKind.DeniableRead, got.kind)
                assertEquals(listOf(m3.id to MessageStatus.Read), got.updates)
                val deniableDelivered = bob.createReceipt(ALICE, ReceiptKind.DeniableDelivered, listOf(m3.id), 8)
                val late = alice.decrypt(BOB, deniableDelivered.wire) as Incoming.Receipt
                assertEquals(ReceiptKind.DeniableDelivered, late.kind)
                assertTrue(late.updates.isEmpty()) // already Read
            }
        }
        assertTrue(alice.isClosed && bob.isClosed)
    }

    @Test
    fun `a message body round-trips byte for byte, empty and large`() {
        memoryAccount(TINY).use { alice ->
            memoryAccount().use { bob ->
                val relay = Relay(bob)
                expectMessage(bob, ALICE, alice.encrypt(BOB, ByteArray(0), relay.fetch()), "")
                val big = ByteArray(200_000) { (it * 31).toByte() }
                val sent = alice.encrypt(BOB, big)
                val got = bob.decrypt(ALICE, sent.wire) as Incoming.Message
                assertBytes(big, got.body)
                assertNotEquals(0, got.id.hashCode() or 1)
            }
        }
    }

    @Test
    fun `message ids compare by content, unsigned, and print as hex`() {
        val low = MessageId.fromHex("00".repeat(15) + "7f")
        val high = MessageId.fromHex("00".repeat(15) + "80")
        assertEquals(listOf(low, high), listOf(high, low).sorted())
        assertEquals(low, MessageId(low.toByteArray()))
        assertEquals(low.hashCode(), MessageId(low.toByteArray()).hashCode())
        assertEquals("00".repeat(15) + "80", high.toString())
        assertEquals(Peer("bob", 1), Peer("bob".utf8(), 1))
    }

    @Test
    fun `the library reports its versions`() {
        assertEquals(Bluetick.ABI_VERSION, Bluetick.abiVersion)
        assertTrue(Bluetick.version.isNotEmpty())
        assertEquals(AccountConfig(50, 50, 10), AccountConfig.DEFAULT)
    }
}
