package org.bluetick

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The relay's side of the frame layout of docs/relay.md, written here by hand (not with the
 * library's codec), for a relay in miniature inside the tests.
 */
private object Frames {
    fun u32(v: Long): ByteArray = byteArrayOf((v shr 24).toByte(), (v shr 16).toByte(), (v shr 8).toByte(), v.toByte())
    fun u32At(b: ByteArray, at: Int): Long =
        ((b[at].toLong() and 0xFF) shl 24) or ((b[at + 1].toLong() and 0xFF) shl 16) or
            ((b[at + 2].toLong() and 0xFF) shl 8) or (b[at + 3].toLong() and 0xFF)
    fun address(a: Address): ByteArray = byteArrayOf(a.user.size.toByte()) + a.user + u32(a.device.toLong())

    val NONCE = ByteArray(32) { (0x40 + it).toByte() }
    fun challenge(): ByteArray = byteArrayOf(0x01, 0x01, 0x01, 0x02) + NONCE
    fun welcome(queued: Long): ByteArray = byteArrayOf(0x03, 0x07) + u32(queued)
    fun sent(id: ByteArray): ByteArray = byteArrayOf(0x0C, 0x10) + id
    fun deliver(sender: Address, wire: ByteArray): ByteArray =
        byteArrayOf(0x0D, 0x11) + address(sender) + byteArrayOf(0x0F) + u32(wire.size.toLong()) + wire
    fun bundle(request: UInt, bundle: ByteArray): ByteArray =
        byteArrayOf(0x06, 0x08) + u32(request.toLong()) + byteArrayOf(0x0A) + u32(bundle.size.toLong()) + bundle +
            byteArrayOf(0x06, 0x00, 0x0B, 0x00)

    /** The recipient and the wire of a Send frame to one device. */
    fun parseSend(f: ByteArray): Pair<Address, ByteArray> {
        assertEquals(0x0B, f[0].toInt(), "a Send frame")
        assertEquals(1L, (f[2].toLong() shl 8) or f[3].toLong(), "one recipient")
        val n = f[4].toInt()
        val to = Address(f.copyOfRange(5, 5 + n), u32At(f, 5 + n).toUInt())
        val at = 9 + n
        assertEquals(0x0F, f[at].toInt())
        val len = u32At(f, at + 1).toInt()
        assertEquals(f.size, at + 5 + len, "nothing after the wire")
        return to to f.copyOfRange(at + 5, at + 5 + len)
    }

    /** The ids of an Ack frame. */
    fun parseAck(f: ByteArray): List<ByteArray> {
        assertEquals(0x0E, f[0].toInt(), "an Ack frame")
        val count = (f[2].toInt() shl 8) or f[3].toInt()
        assertEquals(4 + 16 * count, f.size)
        return (0 until count).map { f.copyOfRange(4 + 16 * it, 20 + 16 * it) }
    }
}

/** Address equality by content (a generated record compares its byte arrays by identity). */
private fun assertSameAddress(want: Address, got: Address) {
    assertArrayEquals(want.user, got.user)
    assertEquals(want.device, got.device)
}

class RelayClientTest {
    private val noJitter = RelayBackoff(100uL, 1_000uL, 0uL)

    /** Connects and authenticates as the relay would, checking the Authenticate frame. */
    private fun handshake(client: RelayClient, account: Account, queued: Long = 0) {
        client.connected()
        assertEquals(RelayState.AwaitingChallenge, client.state())
        client.receive(Frames.challenge(), account)
        val auth = client.drainTransmit().single()
        val me = client.address()
        assertEquals(0x02, auth[0].toInt(), "an Authenticate frame")
        assertArrayEquals(Frames.address(me), auth.copyOfRange(2, 2 + 5 + me.user.size))
        val ik = 2 + 5 + me.user.size + 1
        assertArrayEquals(account.identity(), auth.copyOfRange(ik, ik + 32))
        client.receive(Frames.welcome(queued), account)
        assertEquals(RelayState.Ready, client.state())
        assertEquals(listOf<RelayEvent>(RelayEvent.Ready(queued.toUInt())), client.drainEvents())
    }

    @Test
    fun twoClientsThroughAFakeRelay() {
        val alice = memoryAccount(SMALL, KEY_ALICE)
        val bob = memoryAccount(SMALL, KEY_BOB)
        val bobAtRelay = publish(bob)
        RelayClient(ALICE, null, noJitter).use { a ->
            RelayClient(BOB, null, noJitter).use { b ->
                handshake(a, alice)
                handshake(b, bob)

                // Alice fetches Bob's bundle and sends him a first message.
                val request = a.fetchBundle(BOB)
                assertEquals(0x05, a.drainTransmit().single()[0].toInt())
                a.receive(Frames.bundle(request, bobAtRelay.takeBundle()), alice)
                val bundle = a.drainEvents().single() as RelayEvent.Bundle
                assertEquals(request, bundle.request)
                assertEquals(null, bundle.certificate)
                val first = alice.encrypt(BOB, "hello bob".utf8(), bundle.bundle, 1_000uL)
                assertArrayEquals(first.id, a.send(listOf(BOB), first.wire))
                val (to, wire) = Frames.parseSend(a.drainTransmit().single())
                assertSameAddress(BOB, to)
                assertArrayEquals(first.wire, wire)

                // The relay's Sent: the grey tick.
                a.receive(Frames.sent(first.id), alice)
                val sent = a.drainEvents().single() as RelayEvent.Sent
                assertArrayEquals(first.id, sent.id)
                assertEquals(MessageStatus.SENT, alice.markSent(sent.id))
                assertEquals(0uL, a.outboxLen())

                // Bob's delivery: decrypted, acknowledged only after the commit.
                b.receive(Frames.deliver(ALICE, wire), bob)
                val delivery = b.drainEvents().single() as RelayEvent.Delivery
                assertSameAddress(ALICE, delivery.sender)
                assertArrayEquals(first.id, delivery.id)
                assertTrue(b.drainTransmit().isEmpty(), "no acknowledgement before the commit")
                val got = bob.decrypt(delivery.sender, delivery.wire).received as Received.Message
                assertEquals("hello bob", String(got.body, Charsets.UTF_8))
                b.committed(delivery.id)
                assertArrayEquals(first.id, Frames.parseAck(b.drainTransmit().single()).single())

                // A second send lost with the pipe goes out again after the reconnect.
                val second = alice.encrypt(BOB, "again".utf8(), null, 2_000uL)
                a.send(listOf(BOB), second.wire)
                a.drainTransmit()
                assertEquals(100uL, a.disconnected(1_000uL))
                assertEquals(RelayState.Disconnected(1_100uL), a.state())
                assertEquals(false, a.shouldConnect(1_099uL))
                assertEquals(true, a.shouldConnect(1_100uL))
                assertEquals(1uL, a.outboxLen())
                handshake(a, alice)
                val (_, again) = Frames.parseSend(a.drainTransmit().single())
                assertArrayEquals(second.wire, again)
                a.receive(Frames.sent(second.id), alice)
                assertTrue(a.drainEvents().single() is RelayEvent.Sent)
                assertEquals(0uL, a.outboxLen())
            }
        }
    }

    @Test
    fun refusalsAndBadFrames() {
        val carol = memoryAccount(TINY, KEY_ALICE)
        RelayClient(Address("carol", 1)).use { c ->
            assertThrows<RelayException.NotConnected> { c.receive(Frames.welcome(0), carol) }
            assertThrows<RelayException.InvalidArgument> { c.send(listOf(), "w".utf8()) }
            assertThrows<RelayException.InvalidArgument> { c.send(listOf(Address("x".repeat(65), 1)), "w".utf8()) }
            assertThrows<RelayException.InvalidArgument> { c.committed(ByteArray(15)) }
            handshake(c, carol)
            // A refused send leaves the outbox.
            val id = c.send(listOf(Address("nobody", 1)), "opaque".utf8())
            c.drainTransmit()
            c.receive(byteArrayOf(0x0F, 0x13, 0x10, 0x14, 16) + id, carol)
            val failed = c.drainEvents().single() as RelayEvent.SendFailed
            assertEquals(RelayErrorCode.UNKNOWN_RECIPIENT, failed.code)
            assertEquals(0uL, c.outboxLen())
            // A malformed frame: refused, with an error frame for the relay.
            assertThrows<RelayException.Protocol> { c.receive(byteArrayOf(0xFF.toByte()), carol) }
            assertArrayEquals(byteArrayOf(0x0F, 0x13, 0x01, 0x14, 0x00), c.drainTransmit().single())
            // A fatal error from the relay.
            c.receive(byteArrayOf(0x0F, 0x13, 0x05, 0x14, 0x00), carol)
            assertEquals(listOf<RelayEvent>(RelayEvent.ConnectionFailed(RelayErrorCode.FLOOD)), c.drainEvents())
        }
    }
}
