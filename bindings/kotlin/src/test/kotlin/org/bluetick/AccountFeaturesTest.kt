package org.bluetick

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/** Prekey upkeep, batches, the identity policy callback, threads and handle lifetime. */
class AccountFeaturesTest {
    @Test
    fun `one-time prekeys run low, are replenished, and rotated keys work until pruned`() {
        memoryAccount(SMALL).use { bob ->
            val relay = Relay(bob)
            assertEquals(PreKeyCounts(3, 3, false), bob.prekeyCounts())
            var replenishSeen = false
            for (i in 0 until 3) {
                memoryAccount(TINY).use { alice ->
                    val sent = alice.encrypt(BOB, "x".utf8(), relay.fetch())
                    val got = bob.decrypt(Peer("alice$i", 1), sent.wire)
                    replenishSeen = replenishSeen || got.replenishPrekeys
                }
            }
            assertTrue(replenishSeen)
            assertEquals(PreKeyCounts(0, 0, true), bob.prekeyCounts())

            // With no one-time keys left the relay hands out the last-resort PQ prekey.
            val lastResort = relay.fetch()
            assertEquals(1770, lastResort.size)
            val inFlight = memoryAccount(TINY).use { it.encrypt(BOB, "sent before rotation".utf8(), lastResort) }

            relay.merge(bob.replenishPrekeys())
            assertEquals(3, bob.prekeyCounts().oneTimePrekeys)
            assertFalse(bob.prekeyCounts().low)
            relay.merge(bob.rotateSignedPrekey(1000))
            relay.merge(bob.rotateLastResortPqPrekey(1000))
            assertEquals(0L, bob.pruneRetiredPrekeys(1500, 1000))
            expectMessage(bob, Peer("late", 1), inFlight, "sent before rotation")

            val stale = memoryAccount(TINY).use { it.encrypt(BOB, "too late".utf8(), lastResort) }
            assertEquals(2L, bob.pruneRetiredPrekeys(2000, 1000))
            val e = assertThrows<SessionException> { bob.decrypt(Peer("later", 1), stale.wire) }
            assertEquals(Status.UnknownPreKey, e.status)
            memoryAccount(TINY).use { newer ->
                expectMessage(bob, Peer("newer", 1), newer.encrypt(BOB, "new keys".utf8(), relay.fetch()), "new keys")
            }
        }
    }

    @Test
    fun `a batch commits once and each message succeeds or fails on its own`() {
        memoryAccount(TINY).use { alice ->
            memoryAccount().use { bob ->
                val w0 = alice.encrypt(BOB, "one".utf8(), Relay(bob).fetch())
                val w1 = alice.encrypt(BOB, "two".utf8())
                val w2 = alice.encrypt(BOB, "three".utf8())
                val tampered = w1.wire.copyOf().also { it[it.size - 1] = (it[it.size - 1].toInt() xor 1).toByte() }
                val results = bob.decryptBatch(
                    listOf(
                        BatchMessage(ALICE, w0.wire),
                        BatchMessage(ALICE, w2.wire),
                        BatchMessage(ALICE, tampered),
                        BatchMessage(Peer("mallory", 1), w2.wire),
                    ),
                )
                assertEquals(4, results.size)
                assertEquals("one", String((results[0].getOrThrow() as Incoming.Message).body))
                val third = results[1].getOrThrow() as Incoming.Message
                assertEquals("three", String(third.body))
                assertEquals(w2.id, third.id)
                val auth = results[2].exceptionOrNull()
                assertTrue(auth is AuthenticationException, "$auth")
                assertEquals(Status.AuthenticationFailed, (auth as BluetickException).status)
                assertEquals(Status.PreKeyReplay, (results[3].exceptionOrNull() as SessionException).status)
                // The failed one changed nothing: the genuine second message still decrypts.
                expectMessage(bob, ALICE, w1, "two")
                assertTrue(bob.decryptBatch(emptyList()).isEmpty())
                // A whole-batch failure throws: an over-long user id is checked before any work.
                val long = Peer(ByteArray(1025), 1)
                assertThrows<InvalidArgumentException> { bob.decryptBatch(listOf(BatchMessage(long, w1.wire))) }
                // A redelivery in a batch is reported as already received once acknowledged.
                bob.acknowledge(w1.id)
                val again = bob.decryptBatch(listOf(BatchMessage(ALICE, w1.wire)))[0].exceptionOrNull()
                assertTrue((again as DuplicateMessageException).alreadyReceived)
            }
        }
    }

    @Test
    fun `the identity policy is asked with both keys and can trust the new one`() {
        memoryAccount(TINY).use { alice ->
            memoryAccount().use { bob1 ->
                memoryAccount().use { bob2 ->
                    val key1 = bob1.identityKey
                    val key2 = bob2.identityKey
                    val relay1 = Relay(bob1)
                    val relay2 = Relay(bob2)
                    alice.encrypt(BOB, "x".utf8(), relay1.fetch())
                    assertThrows<UntrustedIdentityException> { alice.encrypt(BOB, "y".utf8(), relay2.fetch()) }

                    val calls = AtomicInteger()
                    var answer = false
                    var seen: Triple<Peer, ByteArray, ByteArray>? = null
                    alice.setIdentityPolicy { peer, trusted, offered ->
                        calls.incrementAndGet()
                        seen = Triple(peer, trusted, offered)
                        answer
                    }
                    assertThrows<UntrustedIdentityException> { alice.encrypt(BOB, "y".utf8(), relay2.fetch()) }
                    assertEquals(1, calls.get())
                    assertEquals(BOB, seen!!.first)
                    assertBytes(key1, seen.second)
                    assertBytes(key2, seen.third)

                    answer = true
                    // Collect garbage between install and use: the callback must stay reachable.
                    System.gc()
                    val sent = alice.encrypt(BOB, "y".utf8(), relay2.fetch())
                    assertEquals(2, calls.get())
                    assertBytes(key2, alice.peerIdentity(BOB))
                    expectMessage(bob2, ALICE, sent, "y")

                    // A policy that throws refuses.
                    alice.setIdentityPolicy { _, _, _ -> throw IllegalStateException("boom") }
                    assertThrows<UntrustedIdentityException> { alice.encrypt(BOB, "z".utf8(), relay1.fetch()) }

                    // Removing the policy refuses again; trusting explicitly lets it in.
                    alice.setIdentityPolicy(null)
                    assertThrows<UntrustedIdentityException> { alice.encrypt(BOB, "z".utf8(), relay1.fetch()) }
                    assertEquals(2, calls.get())
                    alice.trustIdentity(BOB, key1)
                    expectMessage(bob1, ALICE, alice.encrypt(BOB, "z".utf8(), relay1.fetch()), "z")
                }
            }
        }
    }

    @Test
    fun `four threads encrypt on one account and every message decrypts once`() {
        val threads = 4
        val perThread = 10
        memoryAccount(TINY).use { alice ->
            memoryAccount().use { bob ->
                expectMessage(bob, ALICE, alice.encrypt(BOB, "start".utf8(), Relay(bob).fetch()), "start")
                val pool = Executors.newFixedThreadPool(threads)
                val go = CountDownLatch(1)
                val futures = (0 until threads).map { t ->
                    pool.submit<List<OutgoingMessage>> {
                        go.await()
                        List(perThread) { i -> alice.encrypt(BOB, "t$t m$i".utf8()) }
                    }
                }
                go.countDown()
                val sent = futures.flatMap { it.get(60, TimeUnit.SECONDS) }
                pool.shutdown()
                assertEquals(threads * perThread, sent.map { it.id }.toSet().size)
                // Deliver in reverse order: later messages first.
                for (message in sent.reversed()) {
                    assertEquals(message.id, bob.decrypt(ALICE, message.wire).id)
                }
                assertEquals(threads * perThread + 1, bob.inbox().size)
            }
        }
    }

    @Test
    fun `close waits for calls in flight and later calls fail cleanly`() {
        val account = memoryAccount(TINY)
        val entered = CountDownLatch(1)
        val release = CountDownLatch(1)
        val worker = Thread {
            account.withHandle {
                entered.countDown()
                release.await()
            }
        }
        worker.start()
        entered.await()
        val closer = Thread { account.close() }
        closer.start()
        closer.join(200)
        assertTrue(closer.isAlive, "close must wait for the call in flight")
        assertFalse(account.isClosed)
        release.countDown()
        closer.join(10_000)
        worker.join(10_000)
        assertTrue(account.isClosed)
        assertThrows<IllegalStateException> { account.prekeyCounts() }
        account.close()
    }

    @Test
    fun `the cleaner frees a handle that was never closed`() {
        val states = (0 until 3).map { memoryAccount(TINY).state } + listOf(PreKeys().state, Session().state)
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20)
        while (states.any { it.pointer != null } && System.nanoTime() < deadline) {
            System.gc()
            Thread.sleep(20)
        }
        assertTrue(states.all { it.pointer == null }, "the cleaner did not free every handle")
    }
}
