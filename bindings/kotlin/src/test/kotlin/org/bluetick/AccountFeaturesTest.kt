package org.bluetick

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicBoolean

/** Prekey upkeep, batches, the identity policy, threads and coroutines. */
class AccountFeaturesTest {
    @Test
    fun `one-time prekeys run low, are replenished, and rotated keys work until pruned`() {
        val bob = memoryAccount(SMALL)
        val relay = publish(bob)
        assertEquals(PreKeyCounts(3u, 3u, false), bob.prekeyCounts())
        var replenishSeen = false
        for (i in 0 until 3) {
            val sent = sendFirst(memoryAccount(TINY), BOB, relay, "x")
            val got = bob.decrypt(Address("alice$i", 1), sent.wire)
            replenishSeen = replenishSeen || got.replenishPrekeys
        }
        assertTrue(replenishSeen)
        assertEquals(PreKeyCounts(0u, 0u, true), bob.prekeyCounts())
        val lastResort = relay.takeBundle()
        assertEquals(1770, lastResort.size)
        val inFlight = memoryAccount(TINY).encrypt(BOB, "sent before rotation".utf8(), lastResort, 0uL)
        relay.merge(bob.replenishPrekeys())
        assertEquals(3u, bob.prekeyCounts().oneTimePrekeys)
        relay.merge(bob.rotateSignedPrekey(1000u))
        relay.merge(bob.rotateLastResortPqPrekey(1000u))
        relay.verify()
        // (now, keep), as in Rust: retired at 1000 and kept 1000 ms.
        assertEquals(0uL, bob.pruneRetiredPrekeys(1500u, 1000u))
        expectMessage(bob, Address("late", 1), inFlight, "sent before rotation")
        val stale = memoryAccount(TINY).encrypt(BOB, "too late".utf8(), lastResort, 0uL)
        assertEquals(2uL, bob.pruneRetiredPrekeys(2000u, 1000u))
        assertFails<AccountException.Decryption>(ErrorKind.UNKNOWN_PRE_KEY) { bob.decrypt(Address("later", 1), stale.wire) }
        expectMessage(bob, Address("newer", 1), sendFirst(memoryAccount(TINY), BOB, relay, "new keys"), "new keys")
    }

    @Test
    fun `the relay helpers verify, hand out and merge`() {
        val bob = memoryAccount(SMALL)
        val upload = bob.prekeyUpload()
        upload.verify()
        assertArrayEquals(bob.identity(), upload.identity())
        val encoded = upload.toBytes()
        assertEquals(1806, upload.takeBundle().size)
        assertEquals(2u, upload.oneTimePrekeyCount())
        assertFails<ProtocolException.Decode>(ErrorKind.TRUNCATED) { PreKeyUpload.fromBytes(encoded.copyOf(encoded.size - 1)) }
        val forged = encoded.copyOf().also { it[1 + 32 + 4 + 32] = (it[1 + 32 + 4 + 32].toInt() xor 0x80).toByte() }
        assertFails<ProtocolException.Key>(ErrorKind.BAD_SIGNATURE) { PreKeyUpload.fromBytes(forged).verify() }
        upload.merge(upload) // with itself: no deadlock
        assertEquals(4u, upload.oneTimePrekeyCount())
    }

    @Test
    fun `a batch commits once and each message succeeds or fails on its own`() {
        val alice = memoryAccount(TINY, KEY_ALICE)
        val bob = memoryAccount(SMALL)
        val relay = publish(bob)
        val sent = listOf(sendFirst(alice, BOB, relay, "one")) +
            listOf("two", "three").map { alice.encrypt(BOB, it.utf8(), null, 0uL) }
        val tampered = sent[1].wire.copyOf().also { it[it.size - 1] = (it[it.size - 1].toInt() xor 1).toByte() }
        val results = bob.decryptBatch(
            listOf(
                BatchMessage(ALICE, sent[0].wire),
                BatchMessage(ALICE, sent[2].wire),
                BatchMessage(ALICE, tampered),
                BatchMessage(Address("mallory", 1), sent[0].wire),
            ),
        )
        val one = (results[0] as BatchOutcome.Decrypted).incoming.received as Received.Message
        assertEquals("one", String(one.body))
        val three = (results[1] as BatchOutcome.Decrypted).incoming.received as Received.Message
        assertArrayEquals(sent[2].id, three.id)
        val failed = (results[2] as BatchOutcome.Failed).error
        assertTrue(failed is AccountException.Decryption && failed.kind == ErrorKind.AUTHENTICATION_FAILED, "$failed")
        val replay = (results[3] as BatchOutcome.Failed).error
        assertTrue(replay is AccountException.Decryption && replay.kind == ErrorKind.PRE_KEY_REPLAY, "$replay")
        expectMessage(bob, ALICE, sent[1], "two")
        bob.acknowledge(sent[0].id)
        val again = bob.decryptBatch(listOf(BatchMessage(ALICE, sent[0].wire)))
        assertTrue((again[0] as BatchOutcome.Failed).error is AccountException.AlreadyReceived)
        assertEquals(emptyList<BatchOutcome>(), bob.decryptBatch(listOf()))
    }

    @Test
    fun `the identity policy is asked with both keys and can trust the new one`() {
        val alice = memoryAccount(TINY, KEY_ALICE)
        val bob1 = memoryAccount(SMALL)
        val bob2 = memoryAccount(SMALL)
        val relay1 = publish(bob1)
        val relay2 = publish(bob2)
        sendFirst(alice, BOB, relay1, "x")
        assertFails<AccountException.UntrustedIdentity>(ErrorKind.UNTRUSTED_IDENTITY) { sendFirst(alice, BOB, relay2, "y") }

        val calls = mutableListOf<Triple<Address, ByteArray, ByteArray>>()
        var answer = false
        alice.setIdentityPolicy(object : IdentityPolicy {
            override fun trust(peer: Address, trusted: ByteArray, new: ByteArray): Boolean {
                calls.add(Triple(peer, trusted, new))
                return answer
            }
        })
        assertFails<AccountException.UntrustedIdentity>(ErrorKind.UNTRUSTED_IDENTITY) { sendFirst(alice, BOB, relay2, "y") }
        assertEquals(1, calls.size)
        assertArrayEquals(bob1.identity(), calls[0].second)
        assertArrayEquals(bob2.identity(), calls[0].third)
        answer = true
        expectMessage(bob2, ALICE, sendFirst(alice, BOB, relay2, "y"), "y")
        assertArrayEquals(bob2.identity(), alice.peerIdentity(BOB))

        answer = false
        assertFails<AccountException.UntrustedIdentity>(ErrorKind.UNTRUSTED_IDENTITY) { sendFirst(alice, BOB, relay1, "z") }
        alice.trustIdentity(BOB, bob1.identity())
        expectMessage(bob1, ALICE, sendFirst(alice, BOB, relay1, "z"), "z")

        // A policy that throws refuses.
        alice.setIdentityPolicy(object : IdentityPolicy {
            override fun trust(peer: Address, trusted: ByteArray, new: ByteArray): Boolean = throw IllegalStateException("no contact")
        })
        assertFails<AccountException.UntrustedIdentity>(ErrorKind.UNTRUSTED_IDENTITY) { sendFirst(alice, BOB, relay2, "w") }
    }

    @Test
    fun `four threads encrypt on one account and every message decrypts once`() {
        val alice = memoryAccount(TINY, KEY_ALICE)
        val bob = memoryAccount(SMALL)
        expectMessage(bob, ALICE, sendFirst(alice, BOB, publish(bob), "start"), "start")
        val pool = Executors.newFixedThreadPool(4)
        val futures = (0 until 4).map { t -> pool.submit<List<Outgoing>> { (0 until 10).map { i -> alice.encrypt(BOB, "t$t m$i".utf8(), null, 0uL) } } }
        val perThread = futures.map { it.get() }
        pool.shutdown()
        val bodies = mutableSetOf<String>()
        for (sent in perThread.reversed()) for (m in sent.reversed()) {
            bodies.add(String((bob.decrypt(ALICE, m.wire).received as Received.Message).body))
        }
        assertEquals(40, bodies.size)
    }

    @Test
    fun `close lets calls in flight finish and later calls fail cleanly`() {
        val alice = memoryAccount(TINY, KEY_ALICE)
        val stop = AtomicBoolean(false)
        val errors = java.util.Collections.synchronizedList(mutableListOf<Throwable>())
        val threads = (0 until 3).map {
            Thread {
                try {
                    while (!stop.get()) alice.prekeyCounts()
                } catch (e: AccountException.InvalidArgument) {
                    if (e.kind != ErrorKind.CLOSED) errors.add(e)
                } catch (e: Throwable) {
                    errors.add(e)
                }
            }.also { it.start() }
        }
        Thread.sleep(20)
        alice.closeStore()
        stop.set(true)
        threads.forEach { it.join() }
        assertEquals(listOf<Throwable>(), errors)
        assertFails<AccountException.InvalidArgument>(ErrorKind.CLOSED) { alice.identity() }
        alice.close() // frees the native object; closing twice is harmless
        alice.close()
    }

    @Test
    fun `suspend helpers run the blocking calls on the IO dispatcher`() = runBlocking {
        val dir = kotlin.io.path.createTempDirectory()
        val account = createSqliteAccount(dir.resolve("a.db").toString(), KEY_ALICE, TINY)
        account.use {
            val thread = it.io { Thread.currentThread().name }
            assertTrue(thread.contains("DefaultDispatcher"), thread)
            assertEquals(32, it.io { identity() }.size)
        }
        openSqliteAccount(dir.resolve("a.db").toString(), KEY_ALICE, TINY).use { assertEquals(32, it.identity().size) }
    }
}
