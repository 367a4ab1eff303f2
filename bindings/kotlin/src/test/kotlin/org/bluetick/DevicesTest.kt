package org.bluetick

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** Users with several devices (spec §11): lists, sessions from bundles, logical messages. */
class DevicesTest {
    private fun name(a: Address): String = "${String(a.user, Charsets.UTF_8)}.${a.device}"

    @Test
    fun `a primary, a companion and a peer share one logical message and its statuses`() {
        val a1 = memoryAccount(SMALL)
        val a2 = memoryAccount(SMALL)
        val b1 = memoryAccount(SMALL)
        assertFails<AccountException.Device>(ErrorKind.INVALID_VALUE) { a1.signDeviceList(1uL, listOf()) }
        a1.setOwnAddress(Address("alice", 1))
        a2.setOwnAddress(Address("alice", 2))
        b1.setOwnAddress(Address("bob", 1))
        assertEquals("alice.2", name(a2.ownAddress()!!))

        val aliceList = a1.signDeviceList(1uL, listOf(DeviceEntry(2u, a2.identity())))
        val change = a2.acceptDeviceList(aliceList)
        assertEquals(listOf(1u, 2u), change.added)
        assertArrayEquals(a1.identity(), a2.userIdentity("alice".utf8()))
        b1.acceptDeviceList(aliceList)
        val bobList = b1.signDeviceList(1uL, listOf())
        a1.acceptDeviceList(bobList)
        a2.acceptDeviceList(bobList)
        assertFails<AccountException.Device>(ErrorKind.STALE_DEVICE_LIST) { a1.signDeviceList(1uL, listOf()) }
        assertNotNull(a1.userSafetyNumber("bob".utf8()))
        assertEquals(a1.userSafetyNumber("bob".utf8()), a2.userSafetyNumber("bob".utf8()))

        assertFails<AccountException.NoSession>(ErrorKind.NO_SESSION) { a1.sendToUser("bob".utf8(), "x".utf8(), 0uL) }
        assertEquals(listOf("bob.1", "alice.2"), a1.devicesWithoutSession("bob".utf8()).map { name(it) })
        val a2Relay = publish(a2)
        assertFails<AccountException.Device>(ErrorKind.DEVICE_NOT_LISTED) {
            a1.startSession(Address("alice", 9), a2Relay.takeBundle())
        }
        a1.startSession(Address("bob", 1), publish(b1).takeBundle())
        a1.startSession(Address("alice", 2), a2Relay.takeBundle())
        assertTrue(a1.devicesWithoutSession("bob".utf8()).isEmpty())

        val m = a1.sendToUser("bob".utf8(), "hello bob".utf8(), 77uL)
        assertEquals(1uL, m.lamport)
        val (toBob, transcript) = m.wires
        assertEquals("bob.1", name(toBob.to))
        assertTrue(transcript.transcript && !toBob.transcript)
        assertEquals(MessageStatus.PENDING, a1.logicalStatus(m.id))
        a1.markSent(toBob.id)
        assertEquals(MessageStatus.SENT, a1.logicalStatus(m.id))

        val got = a2.decrypt(Address("alice", 1), transcript.wire).received
        assertTrue(got is Received.Transcript, "expected a transcript, got $got")
        got as Received.Transcript
        assertEquals("bob", String(got.toUser, Charsets.UTF_8))
        assertEquals("hello bob", String(got.body, Charsets.UTF_8))
        val entry = a2.conversationInbox("bob".utf8()).single()
        assertEquals("bob", String(entry.transcriptTo!!, Charsets.UTF_8))

        expectMessageBody(b1, toBob.wire, "hello bob")
        val receipt = b1.createReceipt(Address("alice", 1), ReceiptKind.DELIVERED, listOf(toBob.id), 5uL)
        a1.decrypt(Address("bob", 1), receipt.wire)
        assertEquals(MessageStatus.DELIVERED, a1.logicalStatus(m.id))
        val info = a1.messageInfo(m.id)!!
        assertEquals(listOf(MessageStatus.DELIVERED, MessageStatus.PENDING), info.map { it.status })
        assertEquals(listOf(false, true), info.map { it.transcript })
        assertNull(a1.logicalStatus(ByteArray(16)))
    }

    private fun expectMessageBody(to: Account, wire: ByteArray, body: String) {
        val got = to.decrypt(Address("alice", 1), wire).received
        assertTrue(got is Received.Message, "expected a message, got $got")
        assertEquals(body, String((got as Received.Message).body, Charsets.UTF_8))
    }
}
