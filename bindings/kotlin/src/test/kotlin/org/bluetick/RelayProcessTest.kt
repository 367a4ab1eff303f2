package org.bluetick

import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.fail
import java.io.ByteArrayOutputStream
import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.WebSocket
import java.nio.ByteBuffer
import java.nio.file.Files
import java.util.concurrent.CompletionStage
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/**
 * The relay client against the real relay: a `bluetick-relay` process on 127.0.0.1 and the
 * JDK's WebSocket, the app owning the socket as on Android. The relay verifies each
 * authentication signature the account made through the binding, and stores, delivers and
 * deletes as it would for any device.
 */
class RelayProcessTest {
    private lateinit var dir: File
    private lateinit var relay: Process
    private lateinit var url: URI

    private fun relayBinary(): File {
        val target = System.getenv("CARGO_TARGET_DIR")
        val bin = if (target != null) File(target, "release/bluetick-relay") else File(System.getProperty("bluetick.relay.bin"))
        if (!bin.canExecute()) fail("no relay binary at $bin: cargo build --release -p bluetick-relay")
        return bin
    }

    @BeforeEach
    fun startRelay() {
        dir = Files.createTempDirectory("bluetick-relay-kotlin").toFile()
        relay = ProcessBuilder(relayBinary().path, "--listen", "127.0.0.1:0", "--db", File(dir, "relay.db").path, "--quiet")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
        val line = relay.inputStream.bufferedReader().readLine() ?: fail("the relay exited before listening")
        assertTrue(line.startsWith("listening on ws://"), line)
        url = URI(line.removePrefix("listening on "))
    }

    @AfterEach
    fun stopRelay() {
        relay.destroy()
        relay.waitFor(5, TimeUnit.SECONDS)
        dir.deleteRecursively()
    }

    /** One WebSocket: binary messages received go to [frames], whole. */
    private class Pipe(url: URI) : WebSocket.Listener {
        val frames = LinkedBlockingQueue<ByteArray>()
        private var partial = ByteArrayOutputStream()
        val ws: WebSocket = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(url, this).get(5, TimeUnit.SECONDS)

        override fun onBinary(webSocket: WebSocket, data: ByteBuffer, last: Boolean): CompletionStage<*>? {
            val bytes = ByteArray(data.remaining())
            data.get(bytes)
            partial.write(bytes)
            if (last) {
                frames.put(partial.toByteArray())
                partial = ByteArrayOutputStream()
            }
            webSocket.request(1)
            return null
        }

        fun send(frame: ByteArray) {
            ws.sendBinary(ByteBuffer.wrap(frame), true).get(5, TimeUnit.SECONDS)
        }

        fun close() {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS)
        }
    }

    /** An app: its account, its relay client, and the socket it owns. */
    private inner class Device(val account: Account, address: Address) {
        val client = RelayClient(address, null, RelayBackoff(50uL, 1_000uL, 0uL))
        private val events = ArrayDeque<RelayEvent>()
        private var pipe: Pipe? = null

        fun flush() {
            client.drainTransmit().forEach { pipe!!.send(it) }
            events.addAll(client.drainEvents())
        }

        fun connect(): RelayEvent.Ready {
            pipe = Pipe(url)
            client.connected()
            return next { it is RelayEvent.Ready } as RelayEvent.Ready
        }

        fun disconnect() {
            pipe!!.close()
            pipe = null
            client.disconnected((System.nanoTime() / 1_000_000).toULong())
        }

        /** Feeds frames from the socket until an event matches; returns it. */
        fun next(matches: (RelayEvent) -> Boolean): RelayEvent {
            val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10)
            while (true) {
                events.firstOrNull(matches)?.let { events.remove(it); return it }
                val left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())
                if (left <= 0) fail("no matching event in 10 s; had $events")
                val frame = pipe!!.frames.poll(left, TimeUnit.MILLISECONDS) ?: continue
                client.receive(frame, account)
                flush()
            }
        }
    }

    @Test
    fun aConversationThroughTheRelayProcess() {
        val alice = Device(memoryAccount(SMALL, KEY_ALICE), ALICE)
        val bob = Device(memoryAccount(SMALL, KEY_BOB), BOB)
        try {
            // Authentication is checked by the relay: the account's signature verified there.
            assertEquals(0u, bob.connect().queued)
            val upload = bob.client.uploadPrekeys(bob.account.prekeyUpload().toBytes())
            bob.flush()
            bob.next { it is RelayEvent.Done && it.request == upload }
            alice.connect()

            // A bundle from the relay, a first message, the grey tick.
            val fetch = alice.client.fetchBundle(BOB)
            alice.flush()
            val bundle = alice.next { it is RelayEvent.Bundle && it.request == fetch } as RelayEvent.Bundle
            val first = alice.account.encrypt(BOB, "hello bob".utf8(), bundle.bundle, 1_000uL)
            alice.client.send(listOf(BOB), first.wire)
            alice.flush()
            alice.next { it is RelayEvent.Sent && it.id.contentEquals(first.id) }
            assertEquals(MessageStatus.SENT, alice.account.markSent(first.id))

            // Pushed to Bob at once; acknowledged after the commit.
            val got = bob.next { it is RelayEvent.Delivery } as RelayEvent.Delivery
            assertArrayEquals(first.id, got.id)
            assertArrayEquals(ALICE.user, got.sender.user)
            val message = bob.account.decrypt(got.sender, got.wire).received as Received.Message
            assertEquals("hello bob", String(message.body, Charsets.UTF_8))
            bob.account.acknowledge(message.id)
            bob.client.committed(got.id)
            bob.flush()

            // Bob offline: Alice's next message waits in the relay's queue. Alice's own pipe
            // drops too, and her outbox goes out after she reconnects.
            bob.disconnect()
            alice.disconnect()
            val second = alice.account.encrypt(BOB, "while you were away".utf8(), null, 2_000uL)
            alice.client.send(listOf(BOB), second.wire)
            assertEquals(1uL, alice.client.outboxLen())
            alice.connect()
            alice.next { it is RelayEvent.Sent && it.id.contentEquals(second.id) }
            assertEquals(0uL, alice.client.outboxLen())

            assertTrue(bob.connect().queued >= 1u)
            val later = bob.next { it is RelayEvent.Delivery && it.id.contentEquals(second.id) } as RelayEvent.Delivery
            val body = (bob.account.decrypt(later.sender, later.wire).received as Received.Message).body
            assertEquals("while you were away", String(body, Charsets.UTF_8))
            bob.client.committed(later.id)
            bob.flush()
        } finally {
            alice.client.close()
            bob.client.close()
        }
    }
}
