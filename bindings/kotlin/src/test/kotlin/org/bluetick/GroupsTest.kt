package org.bluetick

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** Groups (spec §12): one send, its distributions and transcript, receipts per device. */
class GroupsTest {
    private fun name(a: Address): String = "${String(a.user, Charsets.UTF_8)}.${a.device}"

    private val group = "friends".utf8()
    private val relay = Address("relay", 0)

    /** Alice (two devices), Bob and Carol in `group`, the relay's prekeys of each device. */
    private class Users(val a1: Account, val a2: Account, val b1: Account, val c1: Account) {
        val byName = mapOf("alice.1" to a1, "alice.2" to a2, "bob.1" to b1, "carol.1" to c1)
        val relays = byName.mapValues { publish(it.value) }
    }

    private fun threeUsers(): Users {
        val u = Users(memoryAccount(SMALL), memoryAccount(SMALL), memoryAccount(SMALL), memoryAccount(SMALL))
        u.a1.setOwnAddress(Address("alice", 1))
        u.a2.setOwnAddress(Address("alice", 2))
        u.b1.setOwnAddress(Address("bob", 1))
        u.c1.setOwnAddress(Address("carol", 1))
        val lists = listOf(
            u.a1.signDeviceList(1uL, listOf(DeviceEntry(2u, u.a2.identity()))),
            u.b1.signDeviceList(1uL, listOf()),
            u.c1.signDeviceList(1uL, listOf()),
        )
        for (acc in u.byName.values) {
            for (l in lists) acc.acceptDeviceList(l)
            acc.setGroupMembers(group, listOf("alice".utf8(), "bob".utf8(), "carol".utf8()), 1000uL)
        }
        return u
    }

    private fun connect(u: Users, acc: Account) {
        for (addr in acc.groupDevicesWithoutSession(group)) {
            acc.startSession(addr, u.relays.getValue(name(addr)).takeBundle())
        }
        assertTrue(acc.groupDevicesWithoutSession(group).isEmpty())
    }

    /** Delivers every wire of a send from `from`. */
    private fun deliver(u: Users, from: Address, sent: GroupSend) {
        for (w in sent.distributions + sent.transcripts) u.byName.getValue(name(w.to)).decrypt(from, w.wire)
        for (to in sent.recipients) u.byName.getValue(name(to)).decrypt(relay, sent.groupWire)
    }

    @Test
    fun `a group of three users gets one wire and per-device receipts`() {
        val u = threeUsers()
        val (a1, b1, c1) = Triple(u.a1, u.b1, u.c1)
        assertFails<AccountException.NoSession>(ErrorKind.NO_SESSION) { a1.sendToGroup(group, "x".utf8(), 0uL) }
        connect(u, a1)

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

    @Test
    fun `a removed member loses its key and a forgotten group refuses its wires`() {
        val u = threeUsers()
        val (a1, b1, c1) = Triple(u.a1, u.b1, u.c1)
        connect(u, a1)
        deliver(u, Address("alice", 1), a1.sendToGroup(group, "hello".utf8(), 2000uL))
        connect(u, b1)
        deliver(u, Address("bob", 1), b1.sendToGroup(group, "from bob".utf8(), 2100uL))
        // Not delivered yet: one message from each.
        val bobLater = b1.sendToGroup(group, "bob later".utf8(), 2200uL)
        val aliceLater = a1.sendToGroup(group, "alice later".utf8(), 2200uL)

        // Alice removes Bob: his key goes with that call, so his next message is an unknown
        // distribution, and Alice's inbox does not move.
        a1.setGroupMembers(group, listOf("carol".utf8()), 2300uL)
        assertFails<AccountException.Decryption>(ErrorKind.UNKNOWN_DISTRIBUTION) {
            a1.decrypt(relay, bobLater.groupWire)
        }
        assertEquals(listOf("from bob"), a1.groupInbox(group).map { String(it.body, Charsets.UTF_8) })

        // Carol forgets the group: Alice's message under the key Carol held no longer opens,
        // the unacknowledged messages stay, the group is unknown and its clock is gone.
        val inbox = c1.groupInbox(group)
        assertEquals(2, inbox.size)
        assertEquals(2uL, c1.groupClock(group))
        c1.forgetGroup(group)
        assertFails<AccountException.Decryption>(ErrorKind.UNKNOWN_DISTRIBUTION) {
            c1.decrypt(relay, aliceLater.groupWire)
        }
        val bodies = { e: List<InboxEntry> -> e.map { it.id.toList() to String(it.body, Charsets.UTF_8) } }
        assertEquals(bodies(inbox), bodies(c1.groupInbox(group)))
        assertEquals(0uL, c1.groupClock(group))
        assertFails<AccountException.InvalidArgument>(ErrorKind.INVALID_VALUE) { c1.groupMembers(group) }
        c1.forgetGroup(group)

        // Made again: a new key for every member device, and a clock from the start.
        c1.setGroupMembers(group, listOf("alice".utf8(), "bob".utf8()), 2500uL)
        connect(u, c1)
        val back = c1.sendToGroup(group, "back".utf8(), 2600uL)
        assertEquals(1uL, back.lamport)
        assertEquals(listOf("alice.1", "alice.2", "bob.1"), back.distributions.map { name(it.to) })
        deliver(u, Address("carol", 1), back)
        assertTrue(b1.groupInbox(group).any { String(it.body, Charsets.UTF_8) == "back" })
    }

    @Test
    fun `a receiving device counts a replaced key's hour on the clock it decrypts at`() {
        val u = threeUsers()
        val (b1, c1) = u.b1 to u.c1
        val bob = Address("bob", 1)
        val minute = 60_000uL
        val t = 1_800_000_000_000uL
        connect(u, b1)
        // Four under Bob's first key, two under the next (the first is 8 days old by then).
        val later = 2000uL + 8uL * 24uL * 60uL * minute
        val sends = (0 until 6).map { i ->
            val at = (if (i < 4) 2000uL else later) + i.toULong()
            b1.sendToGroup(group, (if (i < 4) "old" else "new").utf8(), at)
        }
        val keys = sends.mapNotNull { s -> s.distributions.find { name(it.to) == "carol.1" }?.wire }
        assertEquals(2, keys.size)
        val wires = sends.map { it.groupWire }
        val body = { got: Incoming -> String((got.received as Received.GroupMessage).body, Charsets.UTF_8) }

        // Carol only receives: her last group call was at 1000.
        c1.decryptAt(bob, keys[0], t - 10uL * minute)
        c1.decryptAt(relay, wires[0], t - 10uL * minute)
        c1.decryptAt(relay, wires[3], t - 5uL * minute)
        // The replacement at T, in a batch.
        val out = c1.decryptBatchAt(listOf(BatchMessage(bob, keys[1])), t)
        assertTrue(out.single() is BatchOutcome.Decrypted, "expected a decrypted outcome, got $out")
        assertEquals("new", body(c1.decryptAt(relay, wires[4], t + minute)))
        assertEquals("old", body(c1.decryptAt(relay, wires[1], t + 59uL * minute)))
        val inbox = c1.groupInbox(group).size
        assertFails<AccountException.Decryption>(ErrorKind.UNKNOWN_DISTRIBUTION) {
            c1.decryptAt(relay, wires[2], t + 61uL * minute)
        }
        assertEquals(inbox, c1.groupInbox(group).size)
        // Once a message opens after the hour the old key is erased: a clock gone back
        // does not bring it back.
        assertEquals("new", body(c1.decryptAt(relay, wires[5], t + 62uL * minute)))
        assertFails<AccountException.Decryption>(ErrorKind.UNKNOWN_DISTRIBUTION) {
            c1.decryptAt(relay, wires[2], t + 30uL * minute)
        }
    }
}
