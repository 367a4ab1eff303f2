// The README's chat, as a new user writes it against org.bluetick:bluetick-kotlin from
// ~/.m2 (after `mvn install`), with no library path flag.
import org.bluetick.Account
import org.bluetick.AccountConfig
import org.bluetick.Address
import org.bluetick.MessageStatus
import org.bluetick.PreKeyUpload
import org.bluetick.ReceiptKind
import org.bluetick.Received
import java.security.SecureRandom

fun main() {
    val random = SecureRandom()
    val key = { ByteArray(32).also { random.nextBytes(it) } } // from the Keystore in an app
    val dir = kotlin.io.path.createTempDirectory().toFile()
    Account.createSqlite(dir.resolve("alice.db").path, key(), AccountConfig()).use { alice ->
        Account.createMemory(key(), AccountConfig()).use { bob ->
            val a = Address("alice".toByteArray(), 1u)
            val b = Address("bob".toByteArray(), 1u)
            val relay = PreKeyUpload.fromBytes(bob.prekeyUpload().toBytes()) // what Bob uploaded
            val hello = alice.encrypt(b, "hi Bob".toByteArray(), relay.takeBundle(), System.currentTimeMillis().toULong())
            alice.markSent(hello.id)
            val got = bob.decrypt(a, hello.wire).received as Received.Message
            check(String(got.body) == "hi Bob")
            bob.acknowledge(hello.id)
            val read = bob.createReceipt(a, ReceiptKind.READ, listOf(hello.id), 0u)
            alice.decrypt(b, read.wire)
            check(alice.messageStatus(hello.id) == MessageStatus.READ)
            println("kotlin chat: ${String(got.body)} -> ${alice.messageStatus(hello.id)}")
        }
    }
    dir.deleteRecursively()
}
