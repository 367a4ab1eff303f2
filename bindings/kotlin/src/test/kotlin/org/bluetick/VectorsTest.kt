package org.bluetick

import org.json.JSONArray
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import java.io.File

/**
 * The known-answer vectors of vectors/ (session.json, receipts.json), replayed through the
 * binding's protocol layer: every wire message and receipt body must match byte for byte.
 * The folder comes from -Dbluetick.vectors.dir (the pom defaults it to ../../vectors).
 */
class VectorsTest {
    private val dir = File(System.getProperty("bluetick.vectors.dir") ?: "../../vectors")

    private fun cases(name: String): List<JSONObject> {
        val file = File(dir, name)
        assertTrue(file.isFile, "no vector file $file (set -Dbluetick.vectors.dir)")
        val array = JSONObject(file.readText()).getJSONArray("cases")
        return List(array.length()) { array.getJSONObject(it) }
    }

    private fun JSONObject.hex(key: String): ByteArray = getString(key).hexToBytes()

    private fun JSONArray.hexList(): List<ByteArray> = List(length()) { getString(it).hexToBytes() }

    /** One side of a conversation: its identity, prekeys, session and unused ratchet privates. */
    private class Party(val identity: Identity, val prekeys: PreKeys, val ratchetPrivates: List<ByteArray>) : AutoCloseable {
        val session = Session()
        var nextPrivate = 0

        override fun close() {
            session.close()
            prekeys.close()
            identity.close()
        }
    }

    @TestFactory
    fun `session json replays byte for byte`(): List<DynamicTest> {
        val all = cases("session.json")
        assertEquals(7, all.size)
        return all.map { case -> DynamicTest.dynamicTest("session: " + case.getString("name")) { replaySession(case) } }
    }

    private fun replaySession(case: JSONObject) {
        val x = case.getJSONObject("pqxdh")
        val bobIdentity = Identity.fromSeed(x.hex("bob_identity_seed"))
        val bobPrekeys = PreKeys()
        bobPrekeys.addSigned(bobIdentity, x.getInt("bob_signed_prekey_id"), x.hex("bob_signed_prekey_private"))
        if (!x.isNull("bob_one_time_prekey_id")) {
            bobPrekeys.addOneTime(x.getInt("bob_one_time_prekey_id"), x.hex("bob_one_time_prekey_private"))
        }
        bobPrekeys.addPq(bobIdentity, x.getInt("bob_pq_prekey_id"), false, x.hex("bob_pq_prekey_seed"))
        val alicePrivates = case.getJSONArray("alice_ratchet_privates").hexList()
        val bob = Party(bobIdentity, bobPrekeys, case.getJSONArray("bob_ratchet_privates").hexList())
        val alice = Party(Identity.fromSeed(x.hex("alice_identity_seed")), PreKeys(), alicePrivates)
        alice.use {
            bob.use {
                val bundle = bob.prekeys.bundle(bob.identity)
                val randomness = x.hex("alice_ephemeral_private") + x.hex("kem_encaps_randomness") + alicePrivates[0]
                assertEquals(96, alice.session.start(alice.identity, bundle, randomness))
                alice.nextPrivate = 1

                data class Sent(val from: Party, val to: Party, val step: JSONObject)
                val sent = ArrayList<Sent>()
                val steps = case.getJSONArray("steps")
                for (s in 0 until steps.length()) {
                    val step = steps.getJSONObject(s)
                    if (step.has("send")) {
                        val send = step.getJSONObject("send")
                        val (from, to) = if (send.getString("sender") == "alice") alice to bob else bob to alice
                        val type = ContentType.of(send.getInt("content_type").toByte())!!
                        val out = from.session.encrypt(type, send.hex("body"))
                        assertBytes(send.hex("wire"), out.wire, "step $s: wire")
                        assertEquals(MessageId.fromHex(send.getString("message_id")), out.id, "step $s: message id")
                        sent.add(Sent(from, to, send))
                    } else {
                        val message = sent[step.getInt("receive")]
                        val to = message.to
                        val private = to.ratchetPrivates.getOrNull(to.nextPrivate)
                        val got = to.session.decrypt(to.identity, to.prekeys, message.step.hex("wire"), private)
                        if (private == null) {
                            assertEquals(0, got.randomnessUsed, "step $s: no ratchet private left")
                        } else if (got.randomnessUsed == 32) {
                            to.nextPrivate++
                        } else {
                            assertEquals(0, got.randomnessUsed, "step $s: randomness used")
                        }
                        assertBytes(message.step.hex("body"), got.body, "step $s: body")
                        assertEquals(message.step.getInt("content_type").toByte(), got.contentType.code)
                        assertBytes(message.from.identity.publicKey, got.sender, "step $s: sender")
                    }
                }
                assertTrue(sent.isNotEmpty())
            }
        }
    }

    @TestFactory
    fun `receipts json verifies and recreates byte for byte`(): List<DynamicTest> {
        val all = cases("receipts.json")
        assertEquals(10, all.size)
        return all.map { case -> DynamicTest.dynamicTest("receipt: " + case.getString("name")) { checkReceipt(case) } }
    }

    private fun checkReceipt(case: JSONObject) {
        val body = case.hex("body")
        val signer = case.hex("signer_identity_public")
        val peer = case.hex("peer_identity_public")
        val ids = case.getJSONArray("ids").hexList().map { MessageId(it) }
        val kind = ReceiptKind.of(case.getInt("kind").toByte())!!
        val timestamp = case.getLong("timestamp_ms")

        assertEquals(VerifiedReceipt(kind, timestamp), Receipts.verify(body, signer, peer, ids))
        Identity.fromSeed(case.hex("signer_identity_seed")).use { identity ->
            assertBytes(signer, identity.publicKey)
            assertBytes(body, Receipts.create(identity, peer, kind, timestamp, ids))
            // Any order in, the same body out: the library sorts.
            assertBytes(body, Receipts.create(identity, peer, kind, timestamp, ids.reversed()))
        }
        // A receipt naming an id the receiver never sent is refused.
        if (ids.size > 1) {
            val e = org.junit.jupiter.api.assertThrows<AuthenticationException> { Receipts.verify(body, signer, peer, ids.drop(1)) }
            assertEquals(Status.UnknownMessageId, e.status)
        }
    }
}
