package org.bluetick

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path

/** Each failure reaches Kotlin as the exception type of its group, with code, name and message. */
class ErrorMappingTest {
    @TempDir
    lateinit var dir: Path

    /** Alice and Bob with a session both ways, so Alice's next messages are plain Messages. */
    private fun <T> pair(block: (alice: Account, bob: Account) -> T): T =
        memoryAccount(TINY).use { alice ->
            memoryAccount().use { bob ->
                expectMessage(bob, ALICE, alice.encrypt(BOB, "first".utf8(), Relay(bob).fetch()), "first")
                expectMessage(alice, BOB, bob.encrypt(ALICE, "ok".utf8()), "ok")
                block(alice, bob)
            }
        }

    @Test
    fun `tampered and truncated messages fail and change nothing`() = pair { alice, bob ->
        val sent = alice.encrypt(BOB, "second".utf8())
        val wire = sent.wire
        fun decrypt(bytes: ByteArray) = bob.decrypt(ALICE, bytes)

        val tampered = wire.copyOf().also { it[it.size - 3] = (it[it.size - 3].toInt() xor 1).toByte() }
        val auth = assertThrows<AuthenticationException> { decrypt(tampered) }
        assertEquals(Status.AuthenticationFailed, auth.status)
        assertEquals(19, auth.code)
        assertEquals("BT_AUTHENTICATION_FAILED", auth.statusName)
        assertTrue(auth.detail.isNotEmpty())
        assertTrue(auth.message!!.startsWith("BT_AUTHENTICATION_FAILED (19): "))
        assertEquals(Status.AuthenticationFailed, assertThrows<AuthenticationException> { decrypt(wire.copyOf(wire.size - 1)) }.status)

        assertEquals(Status.Truncated, assertThrows<MalformedInputException> { decrypt(ByteArray(0)) }.status)
        assertEquals(Status.Truncated, assertThrows<MalformedInputException> { decrypt(wire.copyOf(5)) }.status)
        assertEquals(Status.CiphertextTooShort, assertThrows<MalformedInputException> { decrypt(wire.copyOf(1 + 40 + 8)) }.status)
        val badType = wire.copyOf().also { it[0] = 0x7f }
        assertEquals(Status.UnknownMessageType, assertThrows<MalformedInputException> { decrypt(badType) }.status)
        assertEquals(Status.NoSession, assertThrows<SessionException> { bob.decrypt(Peer("mallory", 1), wire) }.status)

        // None of that moved the session: the genuine message still decrypts, once.
        expectMessage(bob, ALICE, sent, "second")
        bob.acknowledge(sent.id)
        assertTrue(assertThrows<DuplicateMessageException> { decrypt(wire) }.alreadyReceived)
    }

    @Test
    fun `damaged bundles and uploads name what is wrong`() {
        memoryAccount(TINY).use { alice ->
            memoryAccount().use { bob ->
                val relay = Relay(bob)
                val bundle = relay.fetch()
                fun start(b: ByteArray) = alice.encrypt(BOB, "x".utf8(), b)
                assertEquals(Status.Truncated, assertThrows<MalformedInputException> { start(bundle.copyOf(bundle.size - 1)) }.status)
                assertEquals(Status.TrailingBytes, assertThrows<MalformedInputException> { start(bundle.copyOf(bundle.size + 1)) }.status)
                assertEquals(
                    Status.UnsupportedVersion,
                    assertThrows<MalformedInputException> { start(bundle.copyOf().also { it[0] = 2 }) }.status,
                )
                assertEquals(
                    Status.InvalidFlag,
                    assertThrows<MalformedInputException> { start(bundle.copyOf().also { it[1769] = 2 }) }.status,
                )
                val forged = bundle.copyOf().also { it[1 + 32 + 4 + 32] = (it[1 + 32 + 4 + 32].toInt() xor 1).toByte() }
                assertEquals(Status.BadSignature, assertThrows<AuthenticationException> { start(forged) }.status)

                val upload = bob.prekeyUpload()
                assertEquals(Status.Truncated, assertThrows<MalformedInputException> { PreKeyUpload.takeBundle(upload.copyOf(upload.size - 1)) }.status)
                upload[1 + 32 + 4 + 32] = (upload[1 + 32 + 4 + 32].toInt() xor 0x80).toByte()
                assertEquals(Status.BadSignature, assertThrows<AuthenticationException> { PreKeyUpload.verify(upload) }.status)
                assertEquals(Status.Truncated, assertThrows<MalformedInputException> { PreKeyUpload.verify(ByteArray(0)) }.status)
            }
        }
    }

    @Test
    fun `wrong storage key, missing account and bad paths are store errors`() {
        val db = dir.resolve("a.db").toString()
        Account.createSqlite(db, KEY_ALICE, TINY).close()
        val wrong = assertThrows<StoreException> { Account.openSqlite(db, KEY_BOB, TINY) }
        assertTrue(wrong.wrongStorageKey)
        assertEquals(Status.WrongStorageKey, wrong.status)
        val missing = dir.resolve("empty.db").toString()
        assertEquals(Status.NoAccount, assertThrows<StoreException> { Account.openSqlite(missing, KEY_ALICE) }.status)
        assertEquals(Status.Database, assertThrows<StoreException> { Account.openSqlite("/nonexistent-dir/x/y.db", KEY_ALICE) }.status)
        Account.openSqlite(db, KEY_ALICE).close()
    }

    @Test
    fun `an identity change is refused until trusted`() {
        memoryAccount(TINY).use { alice ->
            memoryAccount().use { bob1 ->
                memoryAccount().use { bob2 ->
                    alice.encrypt(BOB, "x".utf8(), Relay(bob1).fetch())
                    val e = assertThrows<UntrustedIdentityException> { alice.encrypt(BOB, "y".utf8(), Relay(bob2).fetch()) }
                    assertEquals(33, e.code)
                    assertEquals("BT_UNTRUSTED_IDENTITY", e.statusName)
                    assertBytes(bob1.identityKey, alice.peerIdentity(BOB))
                }
            }
        }
    }

    @Test
    fun `invalid arguments are refused before or by the library`() {
        val shortKey = assertThrows<InvalidArgumentException> { Account.createInMemory(ByteArray(31)) }
        assertEquals(101, shortKey.code)
        assertEquals("BT_INVALID_ARGUMENT", shortKey.statusName)
        assertThrows<InvalidArgumentException> { Account.createInMemory(ByteArray(33)) }
        memoryAccount(TINY).use { acc ->
            val longUser = Peer(ByteArray(1025) { 'u'.code.toByte() }, 1)
            assertThrows<InvalidArgumentException> { acc.encrypt(longUser, "x".utf8()) }
            assertThrows<InvalidArgumentException> { acc.peerIdentity(longUser) }
            // Checked by the binding (the C side reads exactly 32 bytes).
            val short = assertThrows<InvalidArgumentException> { acc.trustIdentity(BOB, ByteArray(31)) }
            assertTrue("32" in short.detail)
            // Not a canonical Ed25519 point.
            assertEquals(
                Status.InvalidIdentityKey,
                assertThrows<InvalidKeyMaterialException> { acc.trustIdentity(BOB, ByteArray(32) { -1 }) }.status,
            )
        }
        assertThrows<InvalidArgumentException> { MessageId(ByteArray(15)) }
        assertThrows<InvalidArgumentException> { Identity.fromSeed(ByteArray(16)) }
        assertThrows<InvalidArgumentException> { Account.createSqlite("a\u0000b", KEY_ALICE) }
    }

    @Test
    fun `null arguments, panics and unknown statuses map to their types`() {
        // The Kotlin API never passes null; call the raw function to see the mapping.
        val nul = assertThrows<NullArgumentException> { checkStatus(Lib.bt.bt_account_config_default(null)) }
        assertEquals(100, nul.code)
        assertEquals("BT_NULL_ARGUMENT", nul.statusName)
        assertTrue(nul.detail.isNotEmpty())

        val panic = assertThrows<PanicException> { Bluetick.testPanic() }
        assertEquals(Status.Panic, panic.status)
        assertTrue("deliberate panic" in panic.detail, panic.detail)
        // The library goes on.
        assertEquals(AccountConfig(50, 50, 10), AccountConfig.DEFAULT)

        assertTrue(exceptionFor(104, "x") is InternalException)
        val future = exceptionFor(36, "a newer kind")
        assertTrue(future is InternalException)
        assertEquals(36, future.code)
        assertEquals(Status.Internal, future.status)
        assertEquals("BT_UNKNOWN_STATUS", future.statusName)
    }

    @Test
    fun `every status has its C name and its group`() {
        for (status in Status.entries) {
            val e = exceptionFor(status.code, "")
            assertEquals("BT_" + status.name.replace(Regex("([a-z])([A-Z])"), "$1_$2").uppercase(), e.statusName)
            assertEquals(status, e.status)
            assertEquals(status.code, e.code)
        }
        assertTrue(exceptionFor(Status.StoreCorrupt.code, "") is StoreException)
        assertTrue(exceptionFor(Status.LowOrderKey.code, "") is InvalidKeyMaterialException)
        assertTrue(exceptionFor(Status.PreKeyReplay.code, "") is SessionException)
        assertTrue(exceptionFor(Status.UnknownMessageId.code, "") is AuthenticationException)
        assertTrue(exceptionFor(Status.Buffer.code, "") is InvalidArgumentException)
        assertEquals("BT_OK", Bluetick.statusName(0))
        assertEquals("BT_UNKNOWN_STATUS", Bluetick.statusName(-1))
    }

    @Test
    fun `each thread reads its own last error`() {
        val errors = java.util.concurrent.ConcurrentHashMap<Int, BluetickException>()
        val threads = (0 until 4).map { t ->
            Thread {
                repeat(50) {
                    val e = if (t % 2 == 0) {
                        assertThrows<InvalidArgumentException> { Account.createInMemory(ByteArray(31)) }
                    } else {
                        assertThrows<NullArgumentException> { checkStatus(Lib.bt.bt_account_config_default(null)) }
                    }
                    errors[t] = e
                }
            }
        }
        threads.forEach { it.start() }
        threads.forEach { it.join() }
        for ((t, e) in errors) {
            if (t % 2 == 0) assertTrue("storage" in e.detail, e.detail) else assertTrue("out" in e.detail, e.detail)
        }
        assertEquals(4, errors.size)
    }
}
