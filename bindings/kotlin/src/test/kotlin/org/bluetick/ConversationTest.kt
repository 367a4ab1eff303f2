package org.bluetick

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path

/**
 * A whole conversation between two SQLite accounts through the generated layer: bundles from
 * the upload, PQXDH, messages both ways and out of order, receipts and statuses, close and
 * reopen, the inbox and acknowledgements, and the errors on the way.
 */
class ConversationTest {
    @Test
    fun `two accounts converse, persist and reopen`(@TempDir dir: Path) {
        val aliceDb = dir.resolve("alice.db").toString()
        val bobDb = dir.resolve("bob.db").toString()
        lateinit var ids: List<ByteArray>
        lateinit var first: Outgoing
        lateinit var bobKey: ByteArray
        Account.createSqlite(aliceDb, KEY_ALICE, SMALL).use { alice ->
            Account.createSqlite(bobDb, KEY_BOB, SMALL).use { bob ->
                val aliceKey = alice.identity()
                bobKey = bob.identity()
                assertEquals(32, aliceKey.size)
                assertTrue(!aliceKey.contentEquals(bobKey))

                val relay = publish(bob)
                val bundle = relay.takeBundle()
                assertEquals(1806, bundle.size)

                first = alice.encrypt(BOB, "hi bob".utf8(), bundle, 1001uL)
                assertEquals(1uL, first.lamport)
                assertEquals(MessageStatus.PENDING, alice.messageStatus(first.id))
                assertEquals(MessageStatus.SENT, alice.markSent(first.id))
                assertArrayEquals(first.id, messageIdOf(first.wire))
                val second = alice.encrypt(BOB, "second".utf8(), null, 1002uL)
                val third = alice.encrypt(BOB, "third".utf8(), null, 1003uL)
                assertEquals(listOf(2uL, 3uL), listOf(second.lamport, third.lamport))
                ids = listOf(first.id, second.id, third.id)
                alice.markSent(second.id)
                alice.markSent(third.id)

                // Bob receives the first, then the third before the second; he learns who.
                val got = bob.decrypt(ALICE, first.wire)
                assertArrayEquals(aliceKey, got.sender)
                assertArrayEquals("alice".utf8(), got.from.user)
                assertEquals(1u, got.from.device)
                expectMessage(bob, ALICE, first, "hi bob")
                expectMessage(bob, ALICE, third, "third")
                expectMessage(bob, ALICE, second, "second")
                val inbox = bob.inbox()
                assertEquals(listOf("hi bob", "second", "third"), inbox.map { String(it.body) }.sorted())
                assertEquals(ids.map { it.toList() }.toSet(), inbox.map { it.id.toList() }.toSet())
                // The conversation lists them as Alice wrote them, though the third came first.
                val shown = bob.conversationInbox("alice".utf8())
                assertEquals(listOf("hi bob", "second", "third"), shown.map { String(it.body) })
                assertEquals(listOf(1uL, 2uL, 3uL), shown.map { it.lamport })
                assertEquals(listOf(1001uL, 1002uL, 1003uL), shown.map { it.sentAtMs })
                assertTrue(bob.conversationInbox("carol".utf8()).isEmpty())
                assertEquals(3uL, bob.conversationClock("alice".utf8()))

                // Read first, then delivered: the delivery receipt must not move it back.
                val delivered = bob.createReceipt(ALICE, ReceiptKind.DELIVERED, listOf(ids[2], ids[0], ids[1]), 1000u)
                val read = bob.createReceipt(ALICE, ReceiptKind.READ, listOf(ids[0]), 2000u)
                val r = alice.decrypt(BOB, read.wire).received as Received.Receipt
                assertEquals(ReceiptKind.READ, r.kind)
                assertEquals(2000uL, r.timestampMs)
                assertEquals(1, r.updated.size)
                assertArrayEquals(ids[0], r.updated[0].id)
                assertEquals(MessageStatus.READ, r.updated[0].status)
                val d = alice.decrypt(BOB, delivered.wire).received as Received.Receipt
                assertEquals(setOf(ids[1].toList(), ids[2].toList()), d.updated.map { it.id.toList() }.toSet())
                assertTrue(d.updated.all { it.status == MessageStatus.DELIVERED })
                assertEquals(MessageStatus.READ, alice.messageStatus(ids[0]))
                assertEquals(MessageStatus.DELIVERED, alice.messageStatus(ids[1]))
                assertFails<AccountException.AlreadyReceived>(ErrorKind.ALREADY_RECEIVED) { alice.decrypt(BOB, read.wire) }
                assertEquals(MessageStatus.READ, alice.markSent(ids[0]))

                val reply = bob.encrypt(ALICE, "yes!".utf8(), null, 0uL)
                assertEquals(4uL, reply.lamport) // written after Bob saw Alice's third message
                assertEquals(4uL, expectMessage(alice, BOB, reply, "yes!").lamport)
                val number = alice.safetyNumber(BOB)
                assertNotNull(number)
                assertEquals(60, number!!.length)
                assertEquals(number, bob.safetyNumber(ALICE))
                assertNull(bob.safetyNumber(Address("carol", 1)))
                assertArrayEquals(bobKey, alice.peerIdentity(BOB))
            }
        }
        assertFails<AccountException.Store>(ErrorKind.WRONG_STORAGE_KEY) { Account.openSqlite(bobDb, KEY_ALICE, SMALL) }
        assertFails<AccountException.Store>(ErrorKind.ACCOUNT_EXISTS) { Account.createSqlite(bobDb, KEY_BOB, SMALL) }

        Account.openSqlite(aliceDb, KEY_ALICE, SMALL).use { alice ->
            Account.openSqlite(bobDb, KEY_BOB, SMALL).use { bob ->
                bob.verifyStore() // every record of a store just reopened checks out
                assertArrayEquals(bobKey, bob.identity())
                assertEquals(MessageStatus.READ, alice.messageStatus(ids[0]))
                assertEquals(MessageStatus.DELIVERED, alice.messageStatus(ids[2]))
                assertEquals(3, bob.inbox().size)
                expectMessage(bob, ALICE, first, "hi bob") // a redelivery before acknowledgement
                bob.acknowledge(ids[0])
                bob.acknowledge(ids[1])
                assertEquals(listOf(ids[2].toList()), bob.inbox().map { it.id.toList() })
                assertFails<AccountException.AlreadyReceived>(ErrorKind.ALREADY_RECEIVED) { bob.decrypt(ALICE, first.wire) }
                val deniable = bob.createReceipt(ALICE, ReceiptKind.DENIABLE_READ, listOf(ids[2]), 7u)
                val got = alice.decrypt(BOB, deniable.wire).received as Received.Receipt
                assertEquals(ReceiptKind.DENIABLE_READ, got.kind)
                assertEquals(MessageStatus.READ, got.updated.single().status)

                val unknown = ByteArray(16) { 0xEE.toByte() }
                assertFails<AccountException.UnknownMessage>(ErrorKind.UNKNOWN_MESSAGE) { bob.acknowledge(unknown) }
                assertFails<AccountException.UnknownMessage>(ErrorKind.UNKNOWN_MESSAGE) { alice.markSent(unknown) }
                assertNull(alice.messageStatus(unknown))
                assertFails<AccountException.UnknownMessage>(ErrorKind.UNKNOWN_MESSAGE) {
                    bob.createReceipt(ALICE, ReceiptKind.READ, listOf(unknown), 0u)
                }
                assertFails<AccountException.Receipt>(ErrorKind.INVALID_ID_COUNT) {
                    bob.createReceipt(ALICE, ReceiptKind.READ, listOf(), 0u)
                }
                val e = assertFails<AccountException.NoSession>(ErrorKind.NO_SESSION) {
                    alice.encrypt(Address("carol", 1), "x".utf8(), null, 0uL)
                }
                assertTrue(e.detail.contains("bundle"))
            }
        }
    }

    @Test
    fun `damaged input raises its own error and changes nothing`() {
        memoryAccount(TINY, KEY_ALICE).use { alice ->
            memoryAccount().use { bob ->
                val bundle = publish(bob).takeBundle()
                assertFails<AccountException.Bundle>(ErrorKind.TRUNCATED) { alice.encrypt(BOB, "x".utf8(), bundle.copyOf(bundle.size - 1), 0uL) }
                assertFails<AccountException.Bundle>(ErrorKind.TRAILING_BYTES) { alice.encrypt(BOB, "x".utf8(), bundle + 0, 0uL) }
                val forged = bundle.copyOf().also { it[1 + 32 + 4 + 32] = (it[1 + 32 + 4 + 32].toInt() xor 1).toByte() }
                assertFails<AccountException.Bundle>(ErrorKind.BAD_SIGNATURE) { alice.encrypt(BOB, "x".utf8(), forged, 0uL) }

                expectMessage(bob, ALICE, alice.encrypt(BOB, "first".utf8(), bundle, 0uL), "first")
                expectMessage(alice, BOB, bob.encrypt(ALICE, "ok".utf8(), null, 0uL), "ok")
                val sent = alice.encrypt(BOB, "second".utf8(), null, 0uL)
                val wire = sent.wire
                assertFails<AccountException.Decryption>(ErrorKind.TRUNCATED) { bob.decrypt(ALICE, ByteArray(0)) }
                assertFails<AccountException.Decryption>(ErrorKind.CIPHERTEXT_TOO_SHORT) { bob.decrypt(ALICE, wire.copyOf(1 + 40 + 8)) }
                assertFails<AccountException.Decryption>(ErrorKind.AUTHENTICATION_FAILED) { bob.decrypt(ALICE, wire.copyOf(wire.size - 1)) }
                val tampered = wire.copyOf().also { it[it.size - 3] = (it[it.size - 3].toInt() xor 1).toByte() }
                assertFails<AccountException.Decryption>(ErrorKind.AUTHENTICATION_FAILED) { bob.decrypt(ALICE, tampered) }
                val badType = wire.copyOf().also { it[0] = 0x7f }
                assertFails<AccountException.Decryption>(ErrorKind.UNKNOWN_MESSAGE_TYPE) { bob.decrypt(ALICE, badType) }
                assertFails<AccountException.Decryption>(ErrorKind.NO_SESSION) { bob.decrypt(Address("mallory", 1), wire) }
                expectMessage(bob, ALICE, sent, "second")
                bob.acknowledge(sent.id)
                assertFails<AccountException.AlreadyReceived>(ErrorKind.ALREADY_RECEIVED) { bob.decrypt(ALICE, wire) }
            }
        }
    }
}
