package org.bluetick

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import java.io.ByteArrayInputStream
import java.io.ByteArrayOutputStream
import java.io.File
import java.security.MessageDigest

/**
 * Attachments through the generated layer and the stream idioms: a round trip, every case of
 * attachments.json (pointer, blob digest, each chunk by random access), the attachment cases
 * of invalid.json with their recorded kinds, and a damaged blob that releases nothing past
 * its last good chunk.
 */
class AttachmentTest {
    private val dir = File(System.getProperty("bluetick.vectors.dir") ?: "../../vectors")

    private fun cases(name: String, kind: String? = null): List<JSONObject> {
        val file = File(dir, name)
        assertTrue(file.isFile, "test vectors not found: $file (set -Dbluetick.vectors.dir)")
        val all = JSONObject(file.readText()).getJSONArray("cases")
        return (0 until all.length()).map { all.getJSONObject(it) }.filter { kind == null || it.getString("kind") == kind }
    }

    private fun h(s: String): ByteArray = ByteArray(s.length / 2) { s.substring(2 * it, 2 * it + 2).toInt(16).toByte() }
    private fun kindOf(name: String) = ErrorKind.valueOf(name.replace(Regex("([a-z])([A-Z])"), "$1_$2").uppercase())
    private fun plaintext(size: Int) = ByteArray(size) { (it % 251).toByte() }
    private fun sha256(b: ByteArray) = MessageDigest.getInstance("SHA-256").digest(b)

    /** The blob of [plain] under [key], fed in uneven pieces. */
    private fun seal(key: ByteArray, plain: ByteArray): Pair<ByteArray, ByteArray> =
        AttachmentEncryptor.withKey(key).use { enc ->
            val blob = ByteArrayOutputStream()
            var at = 0
            var step = 1
            while (at < plain.size) {
                val end = minOf(plain.size, at + step)
                blob.write(enc.update(plain.copyOfRange(at, end)))
                at = end
                step = step * 3 + 1000
            }
            val last = enc.finish()
            blob.write(last.sealed)
            Pair(blob.toByteArray(), last.pointer)
        }

    @Test
    fun `a stream round trip of a few hundred KiB`() {
        val plain = ByteArray(300_000) { (it * 7 + 3).toByte() }
        val blob = ByteArrayOutputStream()
        val pointer = encryptAttachment(ByteArrayInputStream(plain), blob)
        assertEquals(72, pointer.size)
        assertEquals(300_000 + 5 * 16, blob.size())
        val out = ByteArrayOutputStream()
        decryptAttachment(pointer, ByteArrayInputStream(blob.toByteArray()), out)
        assertArrayEquals(plain, out.toByteArray())
        // A second attachment of the same bytes gets a fresh key.
        val again = ByteArrayOutputStream()
        val other = encryptAttachment(ByteArrayInputStream(plain), again)
        assertTrue(!pointer.contentEquals(other) && !blob.toByteArray().contentEquals(again.toByteArray()))
    }

    @TestFactory
    fun `attachments json cases decrypt to their pointer and digest`(): List<DynamicTest> {
        val all = cases("attachments.json")
        assertTrue(all.size >= 8, "${all.size} attachment cases")
        return all.map { case ->
            DynamicTest.dynamicTest(case.getString("name")) {
                val size = case.getInt("size")
                val plain = plaintext(size)
                val (blob, pointer) = seal(h(case.getString("attachment_key")), plain)
                assertArrayEquals(h(case.getString("pointer")), pointer)
                assertEquals(case.getInt("ciphertext_size"), blob.size)
                assertArrayEquals(h(case.getString("ciphertext_sha256")), sha256(blob))
                val out = ByteArrayOutputStream()
                decryptAttachment(h(case.getString("pointer")), ByteArrayInputStream(blob), out)
                assertArrayEquals(plain, out.toByteArray())
                // Every chunk by random access; the recorded ones also by their bytes.
                val count = case.getInt("chunk_count")
                val opened = ByteArrayOutputStream()
                for (i in 0 until count) {
                    val range = attachmentChunkRange(size.toULong(), i.toULong())
                    val sealed = blob.copyOfRange(range.offset.toInt(), (range.offset + range.length).toInt())
                    opened.write(openAttachmentChunk(pointer, i.toULong(), sealed))
                }
                assertArrayEquals(plain, opened.toByteArray())
                assertFails<AttachmentException.Blob>(ErrorKind.INVALID_VALUE) { attachmentChunkRange(size.toULong(), count.toULong()) }
                val chunks = case.getJSONArray("chunks")
                assertTrue(chunks.length() > 0)
                for (c in 0 until chunks.length()) {
                    val chunk = chunks.getJSONObject(c)
                    val range = attachmentChunkRange(size.toULong(), chunk.getInt("index").toULong())
                    val prefix = h(chunk.getString("ciphertext_hex_prefix"))
                    assertArrayEquals(prefix, blob.copyOfRange(range.offset.toInt(), range.offset.toInt() + prefix.size))
                    assertEquals(chunk.getInt("index") == count - 1, chunk.getBoolean("last"))
                }
            }
        }
    }

    @TestFactory
    fun `invalid json attachment cases fail with their recorded kind`(): List<DynamicTest> {
        val tests = mutableListOf<DynamicTest>()
        for (case in cases("invalid.json", "attachment")) {
            val input = case.getJSONObject("input")
            tests += DynamicTest.dynamicTest(case.getString("name")) {
                val (genuine, _) = seal(h(input.getString("attachment_key")), plaintext(input.getInt("size")))
                val blob = ByteArrayOutputStream()
                val pieces = input.getJSONArray("blob")
                for (i in 0 until pieces.length()) {
                    val piece = pieces.getJSONObject(i)
                    if (piece.has("genuine")) {
                        val r = piece.getJSONArray("genuine")
                        blob.write(genuine.copyOfRange(r.getInt(0), r.getInt(1)))
                    } else {
                        blob.write(h(piece.getString("hex")))
                    }
                }
                val out = ByteArrayOutputStream()
                assertFails<AttachmentException.Blob>(kindOf(case.getString("error"))) {
                    decryptAttachment(h(input.getString("pointer")), ByteArrayInputStream(blob.toByteArray()), out)
                }
                // Nothing past the last whole chunk that verified: never the final chunk.
                assertTrue(out.size() < input.getInt("size"), "${out.size()} bytes released")
                assertEquals(0, out.size() % 65536)
            }
        }
        for (case in cases("invalid.json", "attachment_pointer")) {
            tests += DynamicTest.dynamicTest(case.getString("name")) {
                assertFails<AttachmentException.Pointer>(kindOf(case.getString("error"))) {
                    AttachmentDecryptor(h(case.getString("input")))
                }
                assertFails<AttachmentException.Pointer>(kindOf(case.getString("error"))) {
                    openAttachmentChunk(h(case.getString("input")), 0uL, ByteArray(16))
                }
            }
        }
        assertTrue(tests.size >= 20, "${tests.size} invalid attachment cases run")
        return tests
    }

    @Test
    fun `a flipped byte releases nothing past the last good chunk`() {
        val plain = plaintext(300_000)
        val blob = ByteArrayOutputStream()
        val pointer = encryptAttachment(ByteArrayInputStream(plain), blob)
        val damaged = blob.toByteArray()
        val at = 2 * 65552 + 100 // inside chunk 2
        damaged[at] = (damaged[at].toInt() xor 0x40).toByte()
        val out = ByteArrayOutputStream()
        assertFails<AttachmentException.Blob>(ErrorKind.AUTHENTICATION_FAILED) {
            decryptAttachment(pointer, ByteArrayInputStream(damaged), out)
        }
        assertArrayEquals(plain.copyOf(2 * 65536), out.toByteArray())

        // The object refuses everything once failed.
        AttachmentDecryptor(pointer).use { dec ->
            assertFails<AttachmentException.Blob>(ErrorKind.AUTHENTICATION_FAILED) { dec.update(damaged) }
            assertFails<AttachmentException.Blob>(ErrorKind.AUTHENTICATION_FAILED) { dec.update(ByteArray(1)) }
        }
    }

    @Test
    fun `one chunk by random access`() {
        val plain = plaintext(200_000)
        val blob = ByteArrayOutputStream()
        val pointer = encryptAttachment(ByteArrayInputStream(plain), blob)
        val bytes = blob.toByteArray()
        val range = attachmentChunkRange(200_000uL, 3uL)
        assertEquals(3uL * 65552uL, range.offset)
        assertEquals((200_000 - 3 * 65536 + 16).toULong(), range.length)
        val sealed = bytes.copyOfRange(range.offset.toInt(), (range.offset + range.length).toInt())
        assertArrayEquals(plain.copyOfRange(3 * 65536, 200_000), openAttachmentChunk(pointer, 3uL, sealed))
        // The same bytes are not chunk 2, and a chunk past the end has no range.
        assertFails<AttachmentException.Blob>(ErrorKind.TRUNCATED) { openAttachmentChunk(pointer, 2uL, sealed) }
        assertFails<AttachmentException.Blob>(ErrorKind.INVALID_VALUE) { attachmentChunkRange(200_000uL, 4uL) }
        sealed[0] = (sealed[0].toInt() xor 1).toByte()
        assertFails<AttachmentException.Blob>(ErrorKind.AUTHENTICATION_FAILED) { openAttachmentChunk(pointer, 3uL, sealed) }
    }

    @Test
    fun `a finished encryptor refuses more`() {
        AttachmentEncryptor().use { enc ->
            enc.finish()
            assertFails<AttachmentException.InvalidArgument>(ErrorKind.INVALID_ARGUMENT) { enc.update(ByteArray(3)) }
        }
        assertFails<AttachmentException.InvalidArgument>(ErrorKind.INVALID_ARGUMENT) { AttachmentEncryptor.withKey(ByteArray(31)) }
    }
}
