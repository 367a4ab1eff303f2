package org.bluetick

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path

/** One exception class per operation family; `kind` the precise cause; `detail` the library's message. */
class ErrorMappingTest {
    @Test
    fun `families are exceptions Java can catch, with the kind and the message`() {
        val e: Exception = AccountException.Decryption(ErrorKind.BAD_PADDING, "the plaintext's padding is malformed")
        assertTrue(e is AccountException)
        assertTrue(e.message!!.contains("padding"))
        // @Throws on every throwing call: Java sees the checked exception in the signature.
        val decrypt = Account::class.java.methods.first { it.name == "decrypt" }
        assertTrue(decrypt.exceptionTypes.contains(AccountException::class.java), decrypt.toString())
        val verify = PreKeyUpload::class.java.methods.first { it.name == "verify" }
        assertTrue(verify.exceptionTypes.contains(ProtocolException::class.java), verify.toString())
    }

    @Test
    fun `wrong storage key, missing account and bad paths are store errors`(@TempDir dir: Path) {
        val path = dir.resolve("a.db").toString()
        Account.createSqlite(path, KEY_ALICE, TINY).use { }
        val e = assertFails<AccountException.Store>(ErrorKind.WRONG_STORAGE_KEY) { Account.openSqlite(path, KEY_BOB, TINY) }
        assertTrue(e.detail.contains("storage key"))
        assertFails<AccountException.Store>(ErrorKind.NO_ACCOUNT) { Account.openSqlite(dir.resolve("empty.db").toString(), KEY_BOB, TINY) }
        assertFails<AccountException.Store>(ErrorKind.DATABASE) { Account.openSqlite(dir.resolve("no/such/dir.db").toString(), KEY_BOB, TINY) }
    }

    @Test
    fun `invalid arguments are refused before anything runs`() {
        assertFails<AccountException.InvalidArgument>(ErrorKind.INVALID_ARGUMENT) { Account.createMemory(ByteArray(31), TINY) }
        val account = memoryAccount(TINY)
        assertFails<AccountException.InvalidArgument>(ErrorKind.INVALID_VALUE) {
            account.encrypt(Address(ByteArray(1025), 1u), "x".utf8(), null, 0uL)
        }
        assertFails<AccountException.InvalidArgument>(ErrorKind.INVALID_IDENTITY_KEY) { account.trustIdentity(BOB, ByteArray(32) { -1 }) }
        val e = assertFails<AccountException.InvalidArgument>(ErrorKind.INVALID_ARGUMENT) { account.markSent(ByteArray(15)) }
        assertTrue(e.detail.contains("16 bytes"))
        assertFails<ProtocolException.InvalidArgument>(ErrorKind.INVALID_ARGUMENT) { Identity.fromSeed(ByteArray(31)) }
        assertFails<ProtocolException.Encryption>(ErrorKind.NO_SESSION) { Session().encrypt(ContentType.APPLICATION, "x".utf8()) }
        assertFails<ProtocolException.InvalidArgument>(ErrorKind.INVALID_ARGUMENT) {
            Session().decrypt(Identity.fromSeed(ByteArray(32)), PreKeys(), byteArrayOf(0x11), ByteArray(0))
        }
    }

    @Test
    fun `the default configuration`() {
        assertEquals(AccountConfig(50u, 50u, 10u), AccountConfig())
    }
}
