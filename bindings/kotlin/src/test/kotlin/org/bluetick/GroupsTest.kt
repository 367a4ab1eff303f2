package org.bluetick

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** Groups (spec §12): one send, its distributions and transcript, receipts per device. */
class GroupsTest {
    private fun name(a: Address): String = "${String(a.user, Charsets.UTF_8)}.${a.device}"

    @Test
    fun `a group of three users gets one wire and per-device receipts`() {
        val a1 = memoryAccount(SMALL)
        val a2 = memoryAccount(SMALL)
        val b1 = memoryAccount(SMALL)
        val c1 = memoryAccount(SMALL)
        a1.setOwnAddress(Address("alice", 1))
        a2.setOwnAddress(Address("alice", 2))
        b1.setOwnAddress(Address("bob", 1))
        c1.setOwnAddress(Address("carol", 1))
        val lists = listOf(
            a1.signDeviceList(1uL, listOf(DeviceEntry(2u, a2.identity()))),
            b1.signDeviceList(1uL, listOf()),
            c1.signDeviceList(1uL, listOf()),
        )
        val group = "friends".utf8()
        val all = listOf(a1, a2, b1, c1)
        for (acc in all) {
            for (l in lists) acc.acceptDeviceList(l)
            acc.setGroupMembers(group, listOf("alice".utf8(), "bob".utf8(), "carol".utf8()), 1000uL)
        }
        assertFails<AccountException.NoSession>(ErrorKind.NO_SESSION) { a1.sendToGroup(group, "x".utf8(), 0uL) }
        val relays = mapOf("alice.2" to publish(a2), "bob.1" to publish(b1), "carol.1" to publish(c1))
        for (addr in a1.groupDevicesWithoutSession(group)) {
            a1.startSession(addr, relays.getValue(name(addr)).takeBundle())
        }
        assertTrue(a1.groupDevicesWithoutSession(group).isEmpty())

        val sent = a1.sendToGroup(group, "hello group".utf8(), 2000uL)
        assertEquals(listOf("bob.1", "carol.1"), sent.recipients.map { name(it) })
        assertEquals(listOf("bob.1", "carol.1"), sent.distributions.map { name(it.to) })
        assertEquals(listOf("alice.2"), sent.transcripts.map { name(it.to) })
        val byName = mapOf("bob.1" to b1, "carol.1" to c1)
        for (d in sent.distributions) {
            val got = byName.getValue(name(d.to)).decrypt(Address("alice", 1), d.wire).received
            assertTrue(got is Received.Distribution, "expected a distribution, got $got")
        }
        for (acc in listOf(b1, c1)) {
            val got = acc.decrypt(Address("relay", 0), sent.groupWire).received
            assertTrue(got is Received.GroupMessage, "expected a group message, got $got")
            got as Received.GroupMessage
            assertEquals("alice.1", name(got.from))
            assertEquals("hello group", String(got.body, Charsets.UTF_8))
            assertEquals(1, acc.groupInbox(group).size)
        }
        a1.markSent(sent.groupWireId)
        assertEquals(MessageStatus.SENT, a1.logicalStatus(sent.id))
        for ((acc, addr) in listOf(b1 to Address("bob", 1), c1 to Address("carol", 1))) {
            val entry = acc.groupInbox(group).single()
            val r = acc.createReceipt(entry.from, ReceiptKind.READ, listOf(entry.id), 3000uL)
            a1.decrypt(addr, r.wire)
        }
        assertEquals(MessageStatus.READ, a1.logicalStatus(sent.id))
        val info = a1.messageInfo(sent.id)!!
        assertEquals(listOf("bob.1", "carol.1", "alice.2"), info.map { name(it.to) })
        assertTrue(info[2].transcript)
    }
}
