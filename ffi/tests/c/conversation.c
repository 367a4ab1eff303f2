/* The C suite of Bluetick's C ABI: a whole conversation between two accounts through the C
 * API alone (bundle publication, PQXDH, messages both ways and out of order, receipts and
 * the statuses they set, persistence across close and reopen), prekey upkeep, identity
 * changes and the policy callback, several threads on one account, and every reachable
 * error path. Prints "N passed, M failed" last and exits non-zero on any failure. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bluetick.h"
#include "check.h"

#define USER(s) (const uint8_t *)(s), strlen(s)

static uint8_t KEY_ALICE[32];
static uint8_t KEY_BOB[32];
static char tmpdir[] = "/tmp/bluetick-c-XXXXXX";

static const bt_account_config SMALL = {3, 3, 2};
static const bt_account_config TINY = {0, 0, 0};

static void path_in_tmp(char *out, size_t size, const char *name) {
  snprintf(out, size, "%s/%s", tmpdir, name);
}

static bt_account *memory_account(const bt_account_config *config) {
  uint8_t key[32];
  bt_account *account = NULL;
  memset(key, 0x5a, sizeof key);
  CHECK_STATUS(bt_account_create_memory(key, sizeof key, config, &account), BT_OK);
  return account;
}

/* Decrypts a message that must be an application message with this body. */
static void expect_message(const bt_account *to, const char *from_user, const bt_buffer *wire,
                           const uint8_t id[16], const char *body) {
  bt_incoming in;
  CHECK_STATUS(bt_account_decrypt(to, USER(from_user), 1, wire->ptr, wire->len, &in), BT_OK);
  CHECK(in.kind == BT_INCOMING_MESSAGE);
  CHECK(bytes_equal(in.body.ptr, in.body.len, body));
  CHECK(memcmp(in.id, id, 16) == 0);
  CHECK(in.updates.len == 0 && in.receipt_kind == 0);
  bt_incoming_free(&in);
}

static uint8_t status_of(const bt_account *account, const uint8_t id[16]) {
  uint8_t status = 0xff;
  bool found = false;
  CHECK_STATUS(bt_account_message_status(account, id, &status, &found), BT_OK);
  CHECK(found);
  return status;
}

/* Finds `id` in a receipt's updates: its new status, or -1. */
static int update_for(const bt_incoming *in, const uint8_t id[16]) {
  for (size_t off = 0; off + BT_UPDATE_LEN <= in->updates.len; off += BT_UPDATE_LEN) {
    if (memcmp(in->updates.ptr + off, id, 16) == 0) return in->updates.ptr[off + 16];
  }
  return -1;
}

static void test_versions_and_names(void) {
  CHECK(bt_abi_version() == BT_ABI_VERSION);
  CHECK(strlen(bt_version()) > 0);
  CHECK(strcmp(bt_status_name(BT_OK), "BT_OK") == 0);
  CHECK(strcmp(bt_status_name(BT_WRONG_STORAGE_KEY), "BT_WRONG_STORAGE_KEY") == 0);
  CHECK(strcmp(bt_status_name(BT_NULL_ARGUMENT), "BT_NULL_ARGUMENT") == 0);
  CHECK(strcmp(bt_status_name(12345), "BT_UNKNOWN_STATUS") == 0);
  CHECK(strcmp(bt_status_name(-1), "BT_UNKNOWN_STATUS") == 0);
  CHECK(BT_OK == 0 && BT_TRUNCATED == 1 && BT_UNKNOWN_MESSAGE == 35 && BT_INTERNAL == 104);
  CHECK(BT_INVALID_BODY == 40);
  CHECK(strcmp(bt_status_name(BT_INVALID_BODY), "BT_INVALID_BODY") == 0);
}

static void test_panic_is_contained(void) {
  bt_account_config config;
  CHECK_STATUS(bt_test_panic(), BT_PANIC);
  CHECK(strstr(bt_last_error_message(), "deliberate panic") != NULL);
  /* The process and the library go on. */
  CHECK_STATUS(bt_test_panic(), BT_PANIC);
  CHECK_STATUS(bt_account_config_default(&config), BT_OK);
  CHECK(strcmp(bt_last_error_message(), "") == 0);
  CHECK(config.one_time_prekeys == 50 && config.one_time_pq_prekeys == 50 &&
        config.low_water_mark == 10);
}

/* The whole conversation, on SQLite, with a close and reopen in the middle. */
static void test_conversation(void) {
  uint64_t lamport = 0; /* the Lamport value of the last message encrypted */
  char alice_db[256], bob_db[256];
  bt_account *alice = NULL, *bob = NULL;
  relay_device bob_on_relay = {{NULL, 0}};
  bt_buffer bundle = {NULL, 0}, m1 = {NULL, 0}, m2 = {NULL, 0}, m3 = {NULL, 0};
  bt_buffer delivered = {NULL, 0}, read = {NULL, 0}, reply = {NULL, 0};
  uint8_t id1[16], id2[16], id3[16], rid[16], reply_id[16], tmp_id[16];
  uint8_t alice_key[32], bob_key[32], key[32];
  uint8_t status;
  bool found;
  bt_incoming in;
  bt_inbox *inbox = NULL;
  bt_inbox_entry entry;
  char sn_alice[BT_SAFETY_NUMBER_SIZE], sn_bob[BT_SAFETY_NUMBER_SIZE];

  path_in_tmp(alice_db, sizeof alice_db, "alice.db");
  path_in_tmp(bob_db, sizeof bob_db, "bob.db");
  MUST(bt_account_create_sqlite(alice_db, KEY_ALICE, 32, &SMALL, &alice));
  MUST(bt_account_create_sqlite(bob_db, KEY_BOB, 32, &SMALL, &bob));
  MUST(bt_account_identity(alice, alice_key));
  MUST(bt_account_identity(bob, bob_key));
  CHECK(memcmp(alice_key, bob_key, 32) != 0);

  /* Bob publishes; Alice fetches a bundle and starts a session (PQXDH). */
  MUST(relay_publish(&bob_on_relay, bob));
  MUST(relay_fetch(&bob_on_relay, &bundle));
  CHECK(bundle.len == 1806); /* with a one-time prekey */
  MUST(bt_account_encrypt(alice, USER("bob"), 1, (const uint8_t *)"hi bob", 6, bundle.ptr,
                          bundle.len, 1001, id1, &m1, &lamport));
  CHECK(lamport == 1);
  CHECK(status_of(alice, id1) == BT_MESSAGE_PENDING);
  MUST(bt_account_mark_sent(alice, id1, &status));
  CHECK(status == BT_MESSAGE_SENT);
  MUST(bt_message_id_of(m1.ptr, m1.len, tmp_id));
  CHECK(memcmp(tmp_id, id1, 16) == 0);
  MUST(bt_account_encrypt(alice, USER("bob"), 1, (const uint8_t *)"second", 6, NULL, 0, 1002,
                          id2, &m2, &lamport));
  CHECK(lamport == 2);
  MUST(bt_account_encrypt(alice, USER("bob"), 1, (const uint8_t *)"third", 5, NULL, 0, 1003,
                          id3, &m3, &lamport));
  CHECK(lamport == 3);
  MUST(bt_account_mark_sent(alice, id2, &status));
  MUST(bt_account_mark_sent(alice, id3, &status));

  /* Bob receives the first, then the third before the second. */
  MUST(bt_account_decrypt(bob, USER("alice"), 1, m1.ptr, m1.len, &in));
  CHECK(in.kind == BT_INCOMING_MESSAGE);
  CHECK(bytes_equal(in.body.ptr, in.body.len, "hi bob"));
  CHECK(memcmp(in.sender, alice_key, 32) == 0);
  CHECK(memcmp(in.id, id1, 16) == 0);
  CHECK(in.lamport == 1 && in.sent_at_ms == 1001);
  bt_incoming_free(&in);
  bt_incoming_free(&in); /* a second free of the same struct does nothing */
  expect_message(bob, "alice", &m3, id3, "third");
  expect_message(bob, "alice", &m2, id2, "second");

  /* The inbox holds all three until acknowledged. */
  MUST(bt_account_inbox(bob, &inbox));
  CHECK(bt_inbox_len(inbox) == 3);
  for (size_t i = 0; i < bt_inbox_len(inbox); i++) {
    MUST(bt_inbox_get(inbox, i, &entry));
    CHECK(bytes_equal(entry.user, entry.user_len, "alice") && entry.device == 1);
    CHECK(bytes_equal(entry.body, entry.body_len, "hi bob") ||
          bytes_equal(entry.body, entry.body_len, "second") ||
          bytes_equal(entry.body, entry.body_len, "third"));
  }
  CHECK_STATUS(bt_inbox_get(inbox, 3, &entry), BT_INVALID_ARGUMENT);
  CHECK(entry.body == NULL && entry.body_len == 0);
  bt_inbox_free(inbox);

  /* The conversation lists them in the order Alice wrote them, though the third arrived
   * before the second (spec §10). */
  MUST(bt_account_conversation_inbox(bob, USER("alice"), &inbox));
  CHECK(bt_inbox_len(inbox) == 3);
  {
    const char *written[3] = {"hi bob", "second", "third"};
    for (size_t i = 0; i < 3 && i < bt_inbox_len(inbox); i++) {
      MUST(bt_inbox_get(inbox, i, &entry));
      CHECK(bytes_equal(entry.body, entry.body_len, written[i]));
      CHECK(entry.lamport == i + 1 && entry.sent_at_ms == 1001 + i);
    }
  }
  bt_inbox_free(inbox);
  MUST(bt_account_conversation_inbox(bob, USER("carol"), &inbox));
  CHECK(bt_inbox_len(inbox) == 0);
  bt_inbox_free(inbox);
  MUST(bt_account_conversation_clock(bob, USER("alice"), &lamport));
  CHECK(lamport == 3);

  /* Receipts: delivered for all three, then read for the first; the read one is
   * delivered first (out of order) and the delivery receipt must not move it back. */
  {
    uint8_t ids[48];
    memcpy(ids, id3, 16); /* any order: the library sorts */
    memcpy(ids + 16, id1, 16);
    memcpy(ids + 32, id2, 16);
    MUST(bt_account_create_receipt(bob, USER("alice"), 1, BT_RECEIPT_DELIVERED, ids, 3, 1000,
                                   rid, &delivered));
    MUST(bt_account_create_receipt(bob, USER("alice"), 1, BT_RECEIPT_READ, id1, 1, 2000, rid,
                                   &read));
  }
  MUST(bt_account_decrypt(alice, USER("bob"), 1, read.ptr, read.len, &in));
  CHECK(in.kind == BT_INCOMING_RECEIPT);
  CHECK(in.receipt_kind == BT_RECEIPT_READ && in.timestamp_ms == 2000);
  CHECK(in.updates.len == BT_UPDATE_LEN && update_for(&in, id1) == BT_MESSAGE_READ);
  CHECK(memcmp(in.id, rid, 16) == 0 && in.body.len == 0);
  CHECK(memcmp(in.sender, bob_key, 32) == 0);
  bt_incoming_free(&in);
  MUST(bt_account_decrypt(alice, USER("bob"), 1, delivered.ptr, delivered.len, &in));
  CHECK(in.receipt_kind == BT_RECEIPT_DELIVERED && in.timestamp_ms == 1000);
  CHECK(in.updates.len == 2 * BT_UPDATE_LEN);
  CHECK(update_for(&in, id1) == -1); /* already Read: unchanged */
  CHECK(update_for(&in, id2) == BT_MESSAGE_DELIVERED);
  CHECK(update_for(&in, id3) == BT_MESSAGE_DELIVERED);
  bt_incoming_free(&in);
  CHECK(status_of(alice, id1) == BT_MESSAGE_READ);
  CHECK(status_of(alice, id2) == BT_MESSAGE_DELIVERED);
  /* The same receipt again was already received, like a redelivered message; a relay ack
     after Read changes nothing. */
  CHECK_STATUS(bt_account_decrypt(alice, USER("bob"), 1, read.ptr, read.len, &in),
               BT_ALREADY_RECEIVED);
  CHECK(in.kind == 0 && in.body.ptr == NULL && in.updates.ptr == NULL);
  bt_incoming_free(&in);
  MUST(bt_account_mark_sent(alice, id1, &status));
  CHECK(status == BT_MESSAGE_READ);

  /* A reply the other way, and safety numbers that agree. */
  MUST(bt_account_encrypt(bob, USER("alice"), 1, (const uint8_t *)"yes!", 4, NULL, 0, 0,
                          reply_id, &reply, &lamport));
  CHECK(lamport == 4); /* written after Bob saw Alice's third message */
  expect_message(alice, "bob", &reply, reply_id, "yes!");
  MUST(bt_account_safety_number(alice, USER("bob"), 1, sn_alice, sizeof sn_alice, &found));
  CHECK(found && strlen(sn_alice) == 60);
  MUST(bt_account_safety_number(bob, USER("alice"), 1, sn_bob, sizeof sn_bob, &found));
  CHECK(found && strcmp(sn_alice, sn_bob) == 0);
  MUST(bt_account_safety_number(bob, USER("carol"), 1, sn_bob, sizeof sn_bob, &found));
  CHECK(!found && sn_bob[0] == '\0');
  MUST(bt_account_peer_identity(alice, USER("bob"), 1, key, &found));
  CHECK(found && memcmp(key, bob_key, 32) == 0);

  /* Close both and reopen: identities, sessions, statuses and the inbox persist. */
  bt_account_free(alice);
  bt_account_free(bob);
  alice = bob = NULL;
  CHECK_STATUS(bt_account_open_sqlite(bob_db, KEY_ALICE, 32, &SMALL, &bob),
               BT_WRONG_STORAGE_KEY);
  CHECK(bob == NULL);
  CHECK(strstr(bt_last_error_message(), "storage key") != NULL);
  CHECK_STATUS(bt_account_create_sqlite(bob_db, KEY_BOB, 32, &SMALL, &bob), BT_ACCOUNT_EXISTS);
  MUST(bt_account_open_sqlite(alice_db, KEY_ALICE, 32, &SMALL, &alice));
  MUST(bt_account_open_sqlite(bob_db, KEY_BOB, 32, NULL, &bob));
  /* Every record of a store that was just opened checks out. */
  MUST(bt_account_verify_store(bob));
  CHECK_STATUS(bt_account_verify_store(NULL), BT_NULL_ARGUMENT);
  MUST(bt_account_identity(bob, key));
  CHECK(memcmp(key, bob_key, 32) == 0);
  CHECK(status_of(alice, id1) == BT_MESSAGE_READ);
  CHECK(status_of(alice, id3) == BT_MESSAGE_DELIVERED);
  MUST(bt_account_inbox(bob, &inbox));
  CHECK(bt_inbox_len(inbox) == 3);
  bt_inbox_free(inbox);
  /* A redelivery comes back from the inbox; after acknowledgement it is refused. */
  expect_message(bob, "alice", &m1, id1, "hi bob");
  MUST(bt_account_acknowledge(bob, id1));
  MUST(bt_account_acknowledge(bob, id2));
  MUST(bt_account_inbox(bob, &inbox));
  CHECK(bt_inbox_len(inbox) == 1);
  MUST(bt_inbox_get(inbox, 0, &entry));
  CHECK(memcmp(entry.id, id3, 16) == 0);
  bt_inbox_free(inbox);
  CHECK_STATUS(bt_account_decrypt(bob, USER("alice"), 1, m1.ptr, m1.len, &in),
               BT_ALREADY_RECEIVED);
  bt_incoming_free(&in);
  bt_buffer_free(&reply);
  MUST(bt_account_encrypt(bob, USER("alice"), 1, (const uint8_t *)"after reopen", 12, NULL, 0, 0,
                          reply_id, &reply, &lamport));
  expect_message(alice, "bob", &reply, reply_id, "after reopen");

  /* Operations on unknown ids and peers. */
  memset(tmp_id, 0xee, 16);
  CHECK_STATUS(bt_account_acknowledge(bob, tmp_id), BT_UNKNOWN_MESSAGE);
  CHECK_STATUS(bt_account_mark_sent(alice, tmp_id, &status), BT_UNKNOWN_MESSAGE);
  MUST(bt_account_message_status(alice, tmp_id, &status, &found));
  CHECK(!found);
  bt_buffer_free(&reply);
  CHECK_STATUS(bt_account_create_receipt(bob, USER("alice"), 1, BT_RECEIPT_READ, tmp_id, 1, 5,
                                         rid, &reply),
               BT_UNKNOWN_MESSAGE);
  CHECK_STATUS(bt_account_create_receipt(bob, USER("alice"), 1, BT_RECEIPT_READ, NULL, 0, 5,
                                         rid, &reply),
               BT_INVALID_ID_COUNT);
  CHECK_STATUS(bt_account_create_receipt(bob, USER("alice"), 1, 0x03, id3, 1, 5, rid, &reply),
               BT_INVALID_ARGUMENT);
  CHECK(reply.ptr == NULL && reply.len == 0);
  CHECK_STATUS(bt_account_encrypt(alice, USER("carol"), 1, (const uint8_t *)"x", 1, NULL, 0, 0,
                                  tmp_id, &reply, &lamport),
               BT_NO_SESSION);
  CHECK(strstr(bt_last_error_message(), "bundle") != NULL);
  MUST(bt_account_create_receipt(bob, USER("alice"), 1, BT_RECEIPT_DENIABLE_READ, id3, 1, 7,
                                 rid, &reply));
  MUST(bt_account_decrypt(alice, USER("bob"), 1, reply.ptr, reply.len, &in));
  CHECK(in.receipt_kind == BT_RECEIPT_DENIABLE_READ && update_for(&in, id3) == BT_MESSAGE_READ);
  bt_incoming_free(&in);

  bt_buffer_free(&reply);
  bt_buffer_free(&delivered);
  bt_buffer_free(&read);
  bt_buffer_free(&m1);
  bt_buffer_free(&m2);
  bt_buffer_free(&m3);
  bt_buffer_free(&bundle);
  bt_buffer_free(&bob_on_relay.upload);
  bt_account_free(alice);
  bt_account_free(bob);
}

/* Truncated, tampered and foreign input gives the status that names what is wrong, and
 * changes nothing. */
static void test_bad_input(void) {
  uint64_t lamport = 0; /* the Lamport value of the last message encrypted */
  bt_account *alice = memory_account(&TINY);
  bt_account *bob = memory_account(&SMALL);
  relay_device relay = {{NULL, 0}};
  bt_buffer bundle = {NULL, 0}, wire = {NULL, 0}, upload = {NULL, 0}, rest = {NULL, 0};
  uint8_t id[16], copy[4096];
  bt_incoming in;
  if (alice == NULL || bob == NULL) return;
  MUST(relay_publish(&relay, bob));
  MUST(relay_fetch(&relay, &bundle));

  /* Bundles: truncated, trailing bytes, wrong version, bad flag, forged signature. */
  memcpy(copy, bundle.ptr, bundle.len);
  CHECK_STATUS(bt_account_encrypt(alice, USER("bob"), 1, (const uint8_t *)"x", 1, copy,
                                  bundle.len - 1, 0, id, &wire, &lamport),
               BT_TRUNCATED);
  copy[bundle.len] = 0;
  CHECK_STATUS(bt_account_encrypt(alice, USER("bob"), 1, (const uint8_t *)"x", 1, copy,
                                  bundle.len + 1, 0, id, &wire, &lamport),
               BT_TRAILING_BYTES);
  copy[0] = 0x02;
  CHECK_STATUS(bt_account_encrypt(alice, USER("bob"), 1, (const uint8_t *)"x", 1, copy,
                                  bundle.len, 0, id, &wire, &lamport),
               BT_UNSUPPORTED_VERSION);
  copy[0] = bundle.ptr[0];
  copy[1769] = 2; /* the has-one-time-prekey flag */
  CHECK_STATUS(bt_account_encrypt(alice, USER("bob"), 1, (const uint8_t *)"x", 1, copy,
                                  bundle.len, 0, id, &wire, &lamport),
               BT_INVALID_FLAG);
  copy[1769] = bundle.ptr[1769];
  copy[1 + 32 + 4 + 32] ^= 0x01; /* the signed prekey's signature */
  CHECK_STATUS(bt_account_encrypt(alice, USER("bob"), 1, (const uint8_t *)"x", 1, copy,
                                  bundle.len, 0, id, &wire, &lamport),
               BT_BAD_SIGNATURE);
  CHECK(wire.ptr == NULL);
  CHECK_STATUS(bt_account_encrypt(alice, USER("bob"), 1, (const uint8_t *)"x", 1, NULL, 0, 0, id,
                                  &wire, &lamport),
               BT_NO_SESSION);

  /* Uploads: truncated, forged. */
  MUST(bt_account_prekey_upload(bob, &upload));
  bt_buffer_free(&bundle);
  CHECK_STATUS(bt_prekey_upload_take_bundle(upload.ptr, upload.len - 1, &rest, &bundle),
               BT_TRUNCATED);
  CHECK(rest.ptr == NULL && bundle.ptr == NULL);
  upload.ptr[1 + 32 + 4 + 32] ^= 0x80;
  CHECK_STATUS(bt_prekey_upload_verify(upload.ptr, upload.len), BT_BAD_SIGNATURE);
  CHECK_STATUS(bt_prekey_upload_verify(upload.ptr, 0), BT_TRUNCATED);
  bt_buffer_free(&upload);

  /* Messages: a genuine one, then damaged copies of the next. */
  MUST(relay_fetch(&relay, &bundle));
  MUST(bt_account_encrypt(alice, USER("bob"), 1, (const uint8_t *)"first", 5, bundle.ptr,
                          bundle.len, 0, id, &wire, &lamport));
  expect_message(bob, "alice", &wire, id, "first");
  bt_buffer_free(&wire);
  /* Bob answers, so Alice's next messages are plain Messages, not PreKeyMessages. */
  MUST(bt_account_encrypt(bob, USER("alice"), 1, (const uint8_t *)"ok", 2, NULL, 0, 0, id, &wire, &lamport));
  expect_message(alice, "bob", &wire, id, "ok");
  bt_buffer_free(&wire);
  MUST(bt_account_encrypt(alice, USER("bob"), 1, (const uint8_t *)"second", 6, NULL, 0, 0, id,
                          &wire, &lamport));
  CHECK(wire.len <= sizeof copy);
  memcpy(copy, wire.ptr, wire.len);
  CHECK_STATUS(bt_account_decrypt(bob, USER("alice"), 1, copy, 0, &in), BT_TRUNCATED);
  CHECK_STATUS(bt_account_decrypt(bob, USER("alice"), 1, copy, 5, &in), BT_TRUNCATED);
  CHECK_STATUS(bt_account_decrypt(bob, USER("alice"), 1, copy, 1 + 44 + 8, &in),
               BT_CIPHERTEXT_TOO_SHORT);
  CHECK_STATUS(bt_account_decrypt(bob, USER("alice"), 1, copy, wire.len - 1, &in),
               BT_AUTHENTICATION_FAILED);
  copy[wire.len - 3] ^= 0x01;
  CHECK_STATUS(bt_account_decrypt(bob, USER("alice"), 1, copy, wire.len, &in),
               BT_AUTHENTICATION_FAILED);
  copy[wire.len - 3] ^= 0x01;
  copy[0] = 0x7f;
  CHECK_STATUS(bt_account_decrypt(bob, USER("alice"), 1, copy, wire.len, &in),
               BT_UNKNOWN_MESSAGE_TYPE);
  CHECK(in.kind == 0 && in.body.ptr == NULL);
  /* From a peer with no session. */
  CHECK_STATUS(bt_account_decrypt(bob, USER("mallory"), 1, wire.ptr, wire.len, &in),
               BT_NO_SESSION);
  /* None of that moved the session: the genuine message still decrypts. */
  expect_message(bob, "alice", &wire, id, "second");

  bt_buffer_free(&wire);
  bt_buffer_free(&bundle);
  bt_buffer_free(&relay.upload);
  bt_account_free(alice);
  bt_account_free(bob);
}

/* Every pointer argument is checked; a null one gives BT_NULL_ARGUMENT and names itself. */
static void test_null_and_invalid_arguments(void) {
  uint64_t lamport = 0; /* the Lamport value of the last message encrypted */
  bt_account *acc = memory_account(&TINY);
  bt_account *out = (bt_account *)&out; /* garbage that must be overwritten with NULL */
  uint8_t key[32] = {0}, id[16] = {0};
  uint8_t status;
  bool found;
  size_t deleted;
  char digits[BT_SAFETY_NUMBER_SIZE];
  char long_user[1100];
  bt_buffer buf = {NULL, 0}, buf2 = {NULL, 0};
  bt_incoming in;
  bt_inbox *inbox = NULL;
  bt_inbox_entry entry;
  bt_prekey_counts counts;
  if (acc == NULL) return;

  CHECK_STATUS(bt_account_create_memory(NULL, 32, NULL, &out), BT_NULL_ARGUMENT);
  CHECK(out == NULL);
  CHECK(strstr(bt_last_error_message(), "storage_key") != NULL);
  CHECK_STATUS(bt_account_create_memory(key, 32, NULL, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_create_memory(key, 31, NULL, &out), BT_INVALID_ARGUMENT);
  CHECK_STATUS(bt_account_create_memory(key, 33, NULL, &out), BT_INVALID_ARGUMENT);
  CHECK_STATUS(bt_account_create_sqlite(NULL, key, 32, NULL, &out), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_open_sqlite("/tmp/\xff\xfe.db", key, 32, NULL, &out),
               BT_INVALID_ARGUMENT);
  CHECK_STATUS(bt_account_open_sqlite("/nonexistent-dir/x/y.db", key, 32, NULL, &out),
               BT_DATABASE);
  CHECK_STATUS(bt_account_config_default(NULL), BT_NULL_ARGUMENT);

  CHECK_STATUS(bt_account_identity(NULL, key), BT_NULL_ARGUMENT);
  CHECK(strstr(bt_last_error_message(), "account") != NULL);
  CHECK_STATUS(bt_account_identity(acc, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_trust_identity(acc, USER("bob"), 1, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_trust_identity(acc, NULL, 3, 1, key), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_peer_identity(acc, USER("bob"), 1, NULL, &found), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_peer_identity(acc, USER("bob"), 1, key, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_safety_number(acc, USER("bob"), 1, NULL, 61, &found),
               BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_safety_number(acc, USER("bob"), 1, digits, 60, &found), BT_BUFFER);
  CHECK_STATUS(bt_account_set_identity_policy(NULL, NULL, NULL), BT_NULL_ARGUMENT);

  CHECK_STATUS(bt_account_encrypt(NULL, USER("bob"), 1, id, 1, NULL, 0, 0, id, &buf, &lamport),
               BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_encrypt(acc, USER("bob"), 1, NULL, 1, NULL, 0, 0, id, &buf, &lamport),
               BT_NULL_ARGUMENT);
  CHECK(strstr(bt_last_error_message(), "body") != NULL);
  CHECK_STATUS(bt_account_encrypt(acc, USER("bob"), 1, id, 1, NULL, 10, 0, id, &buf, &lamport),
               BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_encrypt(acc, USER("bob"), 1, id, 1, NULL, 0, 0, NULL, &buf, &lamport),
               BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_encrypt(acc, USER("bob"), 1, id, 1, NULL, 0, 0, id, NULL, &lamport),
               BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_encrypt(acc, USER("bob"), 1, id, 1, NULL, 0, 0, id, &buf, NULL),
               BT_NULL_ARGUMENT);
  CHECK(strstr(bt_last_error_message(), "out_lamport") != NULL);
  CHECK_STATUS(bt_account_conversation_inbox(NULL, USER("bob"), &inbox), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_conversation_inbox(acc, NULL, 3, &inbox), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_conversation_inbox(acc, USER("bob"), NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_conversation_clock(acc, USER("bob"), NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_conversation_clock(NULL, USER("bob"), &lamport), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_mark_sent(acc, NULL, &status), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_mark_sent(acc, id, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_message_status(acc, id, NULL, &found), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_message_status(acc, id, &status, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_decrypt(acc, USER("bob"), 1, NULL, 5, &in), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_decrypt(acc, USER("bob"), 1, id, 16, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_acknowledge(acc, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_create_receipt(acc, USER("bob"), 1, BT_RECEIPT_READ, NULL, 1, 0, id,
                                         &buf),
               BT_NULL_ARGUMENT);
  /* A null array is a null argument even when its count times 16 overflows: every pointer
   * is checked for null before any size is. */
  CHECK_STATUS(bt_account_create_receipt(acc, USER("bob"), 1, BT_RECEIPT_READ, NULL, SIZE_MAX,
                                         0, id, &buf),
               BT_NULL_ARGUMENT);
  CHECK(strstr(bt_last_error_message(), "ids") != NULL);
  CHECK_STATUS(bt_account_create_receipt(acc, USER("bob"), 1, BT_RECEIPT_READ, NULL,
                                         SIZE_MAX / 16 + 1, 0, id, &buf),
               BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_create_receipt(acc, USER("bob"), 1, BT_RECEIPT_READ, id, SIZE_MAX, 0,
                                         id, &buf),
               BT_INVALID_ARGUMENT);
  CHECK_STATUS(bt_account_safety_number(NULL, USER("bob"), 1, digits, 60, &found),
               BT_NULL_ARGUMENT);
  {
    bt_incoming none[1];
    bt_status one_status[1];
    CHECK_STATUS(bt_account_decrypt_batch(acc, NULL, SIZE_MAX, none, one_status),
                 BT_NULL_ARGUMENT);
    CHECK(strstr(bt_last_error_message(), "messages") != NULL);
  }
  CHECK_STATUS(bt_message_id_of(NULL, 1, id), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_message_id_of(id, 16, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_inbox(acc, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_inbox(NULL, &inbox), BT_NULL_ARGUMENT);
  CHECK(inbox == NULL);
  CHECK_STATUS(bt_inbox_get(NULL, 0, &entry), BT_NULL_ARGUMENT);
  CHECK(bt_inbox_len(NULL) == 0);

  CHECK_STATUS(bt_account_prekey_upload(acc, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_replenish_prekeys(NULL, &buf), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_rotate_signed_prekey(NULL, 1, &buf), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_rotate_last_resort_pq_prekey(acc, 1, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_prune_retired_prekeys(acc, 1, 1, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_prune_retired_prekeys(NULL, 1, 1, &deleted), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_prekey_counts(acc, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_prekey_counts(NULL, &counts), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_prekey_upload_verify(NULL, 3), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_prekey_upload_take_bundle(id, 16, NULL, &buf), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_prekey_upload_take_bundle(id, 16, &buf, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_prekey_upload_merge(NULL, 1, id, 16, &buf), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_prekey_upload_merge(id, 16, id, 16, NULL), BT_NULL_ARGUMENT);
  CHECK(buf.ptr == NULL && buf2.ptr == NULL);

  /* Out-of-range arguments. */
  memset(long_user, 'u', sizeof long_user);
  CHECK_STATUS(bt_account_encrypt(acc, (const uint8_t *)long_user, 1025, 1, id, 1, NULL, 0, 0, id,
                                  &buf, &lamport),
               BT_INVALID_ARGUMENT);
  CHECK_STATUS(bt_account_conversation_inbox(acc, (const uint8_t *)long_user, 1025, &inbox),
               BT_INVALID_ARGUMENT);
  CHECK_STATUS(bt_account_conversation_clock(acc, (const uint8_t *)long_user, 1025, &lamport),
               BT_INVALID_ARGUMENT);
  CHECK_STATUS(bt_account_peer_identity(acc, (const uint8_t *)long_user, 1025, 1, key, &found),
               BT_INVALID_ARGUMENT);
  memset(key, 0xff, 32); /* not a canonical Ed25519 point */
  CHECK_STATUS(bt_account_trust_identity(acc, USER("bob"), 1, key), BT_INVALID_IDENTITY_KEY);

  /* Every free accepts NULL and empty values. */
  bt_buffer_free(NULL);
  bt_buffer_free(&buf);
  bt_incoming_free(NULL);
  bt_inbox_free(NULL);
  bt_account_free(NULL);
  bt_account_free(acc);
}

static bt_status send_first(bt_account *from, const char *to_user, relay_device *relay,
                            const char *body, bt_buffer *wire, uint8_t id[16]) {
  uint64_t lamport = 0; /* the Lamport value of the last message encrypted */
  bt_buffer bundle = {NULL, 0};
  bt_status s = relay_fetch(relay, &bundle);
  if (s == BT_OK) {
    s = bt_account_encrypt(from, USER(to_user), 1, (const uint8_t *)body, strlen(body),
                           bundle.ptr, bundle.len, 0, id, wire, &lamport);
  }
  bt_buffer_free(&bundle);
  return s;
}

/* One-time prekeys run low and are replenished; rotated keys keep decrypting messages in
 * flight until pruned. */
static void test_prekey_upkeep(void) {
  uint64_t lamport = 0; /* the Lamport value of the last message encrypted */
  bt_account *bob = memory_account(&SMALL);
  relay_device relay = {{NULL, 0}};
  bt_buffer wire = {NULL, 0}, last_resort = {NULL, 0}, in_flight = {NULL, 0},
            stale = {NULL, 0}, upload = {NULL, 0};
  uint8_t id[16], in_flight_id[16], stale_id[16];
  bt_prekey_counts counts;
  bt_incoming in;
  size_t deleted = 99;
  bool replenish_seen = false;
  char user[32];
  if (bob == NULL) return;
  MUST(relay_publish(&relay, bob));
  MUST(bt_account_prekey_counts(bob, &counts));
  CHECK(counts.one_time_prekeys == 3 && counts.one_time_pq_prekeys == 3 && !counts.low);

  for (int i = 0; i < 3; i++) {
    bt_account *alice = memory_account(&TINY);
    snprintf(user, sizeof user, "alice%d", i);
    MUST(send_first(alice, "bob", &relay, "x", &wire, id));
    MUST(bt_account_decrypt(bob, USER(user), 1, wire.ptr, wire.len, &in));
    replenish_seen = replenish_seen || in.replenish_prekeys;
    bt_incoming_free(&in);
    bt_buffer_free(&wire);
    bt_account_free(alice);
  }
  CHECK(replenish_seen);
  MUST(bt_account_prekey_counts(bob, &counts));
  CHECK(counts.one_time_prekeys == 0 && counts.one_time_pq_prekeys == 0 && counts.low);

  /* With no one-time keys left the relay hands out the last-resort PQ prekey. */
  MUST(relay_fetch(&relay, &last_resort));
  CHECK(last_resort.len == 1770);
  {
    bt_account *late = memory_account(&TINY);
    MUST(bt_account_encrypt(late, USER("bob"), 1, (const uint8_t *)"sent before rotation", 20,
                            last_resort.ptr, last_resort.len, 0, in_flight_id, &in_flight, &lamport));
    bt_account_free(late);
  }

  MUST(bt_account_replenish_prekeys(bob, &upload));
  MUST(relay_merge(&relay, &upload));
  bt_buffer_free(&upload);
  MUST(bt_account_prekey_counts(bob, &counts));
  CHECK(counts.one_time_prekeys == 3 && !counts.low);

  MUST(bt_account_rotate_signed_prekey(bob, 1000, &upload));
  MUST(relay_merge(&relay, &upload));
  bt_buffer_free(&upload);
  MUST(bt_account_rotate_last_resort_pq_prekey(bob, 1000, &upload));
  MUST(relay_merge(&relay, &upload));
  bt_buffer_free(&upload);
  MUST(bt_account_prune_retired_prekeys(bob, 1500, 1000, &deleted));
  CHECK(deleted == 0);
  expect_message(bob, "late", &in_flight, in_flight_id, "sent before rotation");

  {
    bt_account *later = memory_account(&TINY);
    MUST(bt_account_encrypt(later, USER("bob"), 1, (const uint8_t *)"too late", 8,
                            last_resort.ptr, last_resort.len, 0, stale_id, &stale, &lamport));
    bt_account_free(later);
  }
  MUST(bt_account_prune_retired_prekeys(bob, 2000, 1000, &deleted));
  CHECK(deleted == 2);
  CHECK_STATUS(bt_account_decrypt(bob, USER("later"), 1, stale.ptr, stale.len, &in),
               BT_UNKNOWN_PRE_KEY);
  {
    bt_account *newer = memory_account(&TINY);
    MUST(send_first(newer, "bob", &relay, "new keys", &wire, id));
    expect_message(bob, "newer", &wire, id, "new keys");
    bt_buffer_free(&wire);
    bt_account_free(newer);
  }

  bt_buffer_free(&stale);
  bt_buffer_free(&in_flight);
  bt_buffer_free(&last_resort);
  bt_buffer_free(&relay.upload);
  bt_account_free(bob);
}

/* Many messages, one commit: each succeeds or fails on its own. */
static void test_batch(void) {
  uint64_t lamport = 0; /* the Lamport value of the last message encrypted */
  bt_account *alice = memory_account(&TINY);
  bt_account *bob = memory_account(&SMALL);
  relay_device relay = {{NULL, 0}};
  bt_buffer wires[3] = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
  uint8_t ids[3][16], tampered[4096];
  bt_batch_message batch[4];
  bt_incoming results[4];
  bt_status statuses[4];
  const char *bodies[3] = {"one", "two", "three"};
  if (alice == NULL || bob == NULL) return;
  MUST(relay_publish(&relay, bob));
  MUST(send_first(alice, "bob", &relay, bodies[0], &wires[0], ids[0]));
  for (int i = 1; i < 3; i++) {
    MUST(bt_account_encrypt(alice, USER("bob"), 1, (const uint8_t *)bodies[i],
                            strlen(bodies[i]), NULL, 0, 0, ids[i], &wires[i], &lamport));
  }
  CHECK(wires[1].len <= sizeof tampered);
  memcpy(tampered, wires[1].ptr, wires[1].len);
  tampered[wires[1].len - 1] ^= 0x01;
  /* The third before the second, a tampered copy of the second, one from a stranger. */
  batch[0] = (bt_batch_message){(const uint8_t *)"alice", 5, 1, wires[0].ptr, wires[0].len};
  batch[1] = (bt_batch_message){(const uint8_t *)"alice", 5, 1, wires[2].ptr, wires[2].len};
  batch[2] = (bt_batch_message){(const uint8_t *)"alice", 5, 1, tampered, wires[1].len};
  batch[3] = (bt_batch_message){(const uint8_t *)"mallory", 7, 1, wires[2].ptr, wires[2].len};
  MUST(bt_account_decrypt_batch(bob, batch, 4, results, statuses));
  CHECK(statuses[0] == BT_OK && statuses[1] == BT_OK);
  CHECK_STATUS(statuses[2], BT_AUTHENTICATION_FAILED);
  CHECK_STATUS(statuses[3], BT_PRE_KEY_REPLAY); /* a PreKeyMessage whose base key was used */
  CHECK(bytes_equal(results[0].body.ptr, results[0].body.len, "one"));
  CHECK(bytes_equal(results[1].body.ptr, results[1].body.len, "three"));
  CHECK(memcmp(results[1].id, ids[2], 16) == 0);
  CHECK(results[2].kind == 0 && results[2].body.ptr == NULL);
  for (int i = 0; i < 4; i++) bt_incoming_free(&results[i]);
  /* The failed one changed nothing: the genuine second message still decrypts. */
  expect_message(bob, "alice", &wires[1], ids[1], "two");
  /* Argument errors fail the whole batch before any work. */
  batch[1].wire = NULL;
  CHECK_STATUS(bt_account_decrypt_batch(bob, batch, 4, results, statuses), BT_NULL_ARGUMENT);
  CHECK(strstr(bt_last_error_message(), "messages[].wire") != NULL);
  CHECK(statuses[0] == BT_NULL_ARGUMENT && statuses[3] == BT_NULL_ARGUMENT);
  CHECK(results[0].body.ptr == NULL);
  CHECK_STATUS(bt_account_decrypt_batch(bob, NULL, 0, NULL, NULL), BT_OK);

  for (int i = 0; i < 3; i++) bt_buffer_free(&wires[i]);
  bt_buffer_free(&relay.upload);
  bt_account_free(alice);
  bt_account_free(bob);
}

/* The protocol layer without an account: two identities, Bob's prekeys in memory, a
 * session each, a message each way, a signed receipt, and the records saved and restored. */
static void test_protocol_layer(void) {
  uint8_t seed_a[32], seed_b[32], spk[32], opk[32], pq_seed[64], ik_a[32], ik_b[32];
  uint8_t id[16], id_again[16], sender[32], kind, content_type;
  uint64_t timestamp;
  size_t used = 0;
  bt_identity *alice = NULL, *bob = NULL;
  bt_prekeys *alice_keys = NULL, *bob_keys = NULL;
  bt_session *to_bob = NULL, *to_alice = NULL, *restored = NULL;
  bt_buffer bundle = {NULL, 0}, wire = {NULL, 0}, body = {NULL, 0}, saved = {NULL, 0};
  bt_buffer receipt = {NULL, 0};
  memset(seed_a, 0xa1, 32);
  memset(seed_b, 0xb2, 32);
  memset(spk, 0x33, 32);
  memset(opk, 0x44, 32);
  memset(pq_seed, 0x55, 64);
  MUST(bt_identity_from_seed(seed_a, &alice));
  MUST(bt_identity_from_seed(seed_b, &bob));
  MUST(bt_identity_public(alice, ik_a));
  MUST(bt_identity_public(bob, ik_b));
  MUST(bt_prekeys_new(&alice_keys));
  MUST(bt_prekeys_new(&bob_keys));
  MUST(bt_prekeys_add_signed_prekey(bob_keys, bob, 1, spk));
  MUST(bt_prekeys_add_one_time_prekey(bob_keys, 7, opk));
  MUST(bt_prekeys_add_pq_prekey(bob_keys, bob, 2, true, pq_seed));
  MUST(bt_prekeys_bundle(bob_keys, bob, &bundle));

  MUST(bt_session_new(&to_bob));
  MUST(bt_session_new(&to_alice));
  MUST(bt_session_start_session(to_bob, alice, bundle.ptr, bundle.len, NULL, 0, &used));
  CHECK(used == 0); /* the operating system's randomness: nothing scripted was used */
  MUST(bt_session_encrypt(to_bob, BT_CONTENT_APPLICATION, (const uint8_t *)"hi bob", 6, id,
                          &wire));
  MUST(bt_message_id_of(wire.ptr, wire.len, id_again));
  CHECK(memcmp(id, id_again, 16) == 0);
  MUST(bt_session_decrypt(to_alice, bob, bob_keys, wire.ptr, wire.len, NULL, 0, NULL,
                          &content_type, &body, sender));
  CHECK(content_type == BT_CONTENT_APPLICATION);
  CHECK(bytes_equal(body.ptr, body.len, "hi bob"));
  CHECK(memcmp(sender, ik_a, 32) == 0);
  bt_buffer_free(&body);
  /* A replay fails and changes nothing. */
  CHECK_STATUS(bt_session_decrypt(to_alice, bob, bob_keys, wire.ptr, wire.len, NULL, 0, NULL,
                                  &content_type, &body, sender),
               BT_DUPLICATE_MESSAGE);
  CHECK(body.ptr == NULL);
  bt_buffer_free(&wire);

  /* Bob's record, saved and restored, answers; the answer carries a signed read receipt. */
  MUST(bt_session_to_bytes(to_alice, &saved));
  MUST(bt_session_from_bytes(saved.ptr, saved.len, &restored));
  MUST(bt_receipt_create(bob, ik_a, BT_RECEIPT_READ, 1234, id, 1, &receipt));
  MUST(bt_session_encrypt(restored, BT_CONTENT_RECEIPT, receipt.ptr, receipt.len, id_again,
                          &wire));
  MUST(bt_session_decrypt(to_bob, alice, alice_keys, wire.ptr, wire.len, NULL, 0, NULL,
                          &content_type, &body, sender));
  CHECK(content_type == BT_CONTENT_RECEIPT);
  CHECK(memcmp(sender, ik_b, 32) == 0);
  MUST(bt_receipt_verify(body.ptr, body.len, ik_b, ik_a, id, 1, &kind, &timestamp));
  CHECK(kind == BT_RECEIPT_READ && timestamp == 1234);
  /* Signed for Alice: it does not verify as addressed to Bob, nor for an unsent id. */
  CHECK_STATUS(bt_receipt_verify(body.ptr, body.len, ik_b, ik_b, id, 1, &kind, &timestamp),
               BT_BAD_SIGNATURE);
  CHECK_STATUS(bt_receipt_verify(body.ptr, body.len, ik_b, ik_a, id_again, 1, &kind, &timestamp),
               BT_UNKNOWN_MESSAGE_ID);
  bt_buffer_free(&wire);
  bt_buffer_free(&receipt);
  CHECK_STATUS(bt_receipt_create(bob, ik_a, BT_RECEIPT_READ, 1, NULL, SIZE_MAX, &receipt),
               BT_NULL_ARGUMENT);
  CHECK(receipt.ptr == NULL);
  CHECK_STATUS(bt_receipt_verify(body.ptr, body.len, ik_b, ik_a, NULL, SIZE_MAX, &kind,
                                 &timestamp),
               BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_session_encrypt(restored, 0x7f, id, 1, id_again, &wire),
               BT_INVALID_ARGUMENT);
  CHECK(wire.ptr == NULL);

  bt_buffer_free(&body);
  bt_buffer_free(&receipt);
  bt_buffer_free(&saved);
  bt_buffer_free(&bundle);
  bt_session_free(restored);
  bt_session_free(to_alice);
  bt_session_free(to_bob);
  bt_prekeys_free(alice_keys);
  bt_prekeys_free(bob_keys);
  bt_identity_free(alice);
  bt_identity_free(bob);
}

typedef struct {
  int calls;
  bool answer;
  uint8_t trusted[32];
  uint8_t offered[32];
} policy_state;

static bool policy(void *user_data, const uint8_t *user, size_t user_len, uint32_t device,
                   const uint8_t *trusted_key, const uint8_t *new_key) {
  policy_state *state = user_data;
  state->calls++;
  if (!bytes_equal(user, user_len, "bob") || device != 1) return false;
  memcpy(state->trusted, trusted_key, 32);
  memcpy(state->offered, new_key, 32);
  return state->answer;
}

/* Bob reinstalls: a new identity under the same address needs the app's trust. */
static void test_identity_change(void) {
  bt_account *alice = memory_account(&TINY);
  bt_account *bob1 = memory_account(&SMALL);
  bt_account *bob2 = memory_account(&SMALL);
  relay_device relay1 = {{NULL, 0}}, relay2 = {{NULL, 0}};
  bt_buffer wire = {NULL, 0};
  uint8_t id[16], key1[32], key2[32], key[32];
  policy_state state = {0, false, {0}, {0}};
  bool found;
  if (alice == NULL || bob1 == NULL || bob2 == NULL) return;
  MUST(bt_account_identity(bob1, key1));
  MUST(bt_account_identity(bob2, key2));
  MUST(relay_publish(&relay1, bob1));
  MUST(relay_publish(&relay2, bob2));

  MUST(send_first(alice, "bob", &relay1, "x", &wire, id));
  bt_buffer_free(&wire);
  CHECK_STATUS(send_first(alice, "bob", &relay2, "y", &wire, id), BT_UNTRUSTED_IDENTITY);
  MUST(bt_account_peer_identity(alice, USER("bob"), 1, key, &found));
  CHECK(found && memcmp(key, key1, 32) == 0);

  /* A policy that refuses is consulted with both keys. */
  MUST(bt_account_set_identity_policy(alice, policy, &state));
  CHECK_STATUS(send_first(alice, "bob", &relay2, "y", &wire, id), BT_UNTRUSTED_IDENTITY);
  CHECK(state.calls == 1);
  CHECK(memcmp(state.trusted, key1, 32) == 0 && memcmp(state.offered, key2, 32) == 0);
  /* One that accepts lets the new identity in. */
  state.answer = true;
  MUST(send_first(alice, "bob", &relay2, "y", &wire, id));
  CHECK(state.calls == 2);
  MUST(bt_account_peer_identity(alice, USER("bob"), 1, key, &found));
  CHECK(found && memcmp(key, key2, 32) == 0);
  expect_message(bob2, "alice", &wire, id, "y");
  bt_buffer_free(&wire);

  /* Removing the policy refuses again; trusting explicitly lets it in. */
  MUST(bt_account_set_identity_policy(alice, NULL, NULL));
  CHECK_STATUS(send_first(alice, "bob", &relay1, "z", &wire, id), BT_UNTRUSTED_IDENTITY);
  CHECK(state.calls == 2);
  MUST(bt_account_trust_identity(alice, USER("bob"), 1, key1));
  MUST(send_first(alice, "bob", &relay1, "z", &wire, id));
  expect_message(bob1, "alice", &wire, id, "z");
  bt_buffer_free(&wire);

  bt_buffer_free(&relay1.upload);
  bt_buffer_free(&relay2.upload);
  bt_account_free(alice);
  bt_account_free(bob1);
  bt_account_free(bob2);
}

#define THREADS 4
#define PER_THREAD 10

typedef struct {
  bt_account *alice;
  int index;
  bt_buffer wires[PER_THREAD];
  uint8_t ids[PER_THREAD][16];
  int failures;
  int own_error_seen;
} sender;

static void *send_many(void *arg) {
  uint64_t lamport = 0; /* the Lamport value of the last message encrypted */
  sender *s = arg;
  char body[32];
  for (int i = 0; i < PER_THREAD; i++) {
    snprintf(body, sizeof body, "t%d m%d", s->index, i);
    if (bt_account_encrypt(s->alice, USER("bob"), 1, (const uint8_t *)body, strlen(body), NULL,
                           0, 0, s->ids[i], &s->wires[i], &lamport) != BT_OK) {
      s->failures++;
    }
  }
  /* Each thread sees only its own last error. */
  if (bt_account_mark_sent(s->alice, NULL, NULL) == BT_NULL_ARGUMENT &&
      strstr(bt_last_error_message(), "out_status") != NULL) {
    s->own_error_seen = 1;
  }
  return NULL;
}

/* Four threads encrypt on one shared account at once; every message decrypts once. */
static void test_threads(void) {
  bt_account *alice = memory_account(&TINY);
  bt_account *bob = memory_account(&SMALL);
  relay_device relay = {{NULL, 0}};
  bt_buffer wire = {NULL, 0};
  uint8_t id[16];
  pthread_t threads[THREADS];
  static sender senders[THREADS];
  int decrypted = 0;
  if (alice == NULL || bob == NULL) return;
  MUST(relay_publish(&relay, bob));
  MUST(send_first(alice, "bob", &relay, "start", &wire, id));
  expect_message(bob, "alice", &wire, id, "start");
  bt_buffer_free(&wire);

  CHECK_STATUS(bt_account_acknowledge(alice, id), BT_UNKNOWN_MESSAGE);
  for (int t = 0; t < THREADS; t++) {
    memset(&senders[t], 0, sizeof senders[t]);
    senders[t].alice = alice;
    senders[t].index = t;
    CHECK(pthread_create(&threads[t], NULL, send_many, &senders[t]) == 0);
  }
  for (int t = 0; t < THREADS; t++) CHECK(pthread_join(threads[t], NULL) == 0);
  /* The main thread's last error is still its own. */
  CHECK(strstr(bt_last_error_message(), "unknown") != NULL);
  /* Deliver in reverse order: later messages first. */
  for (int t = THREADS - 1; t >= 0; t--) {
    CHECK(senders[t].failures == 0 && senders[t].own_error_seen);
    for (int i = PER_THREAD - 1; i >= 0; i--) {
      bt_incoming in;
      if (bt_account_decrypt(bob, USER("alice"), 1, senders[t].wires[i].ptr,
                             senders[t].wires[i].len, &in) == BT_OK &&
          memcmp(in.id, senders[t].ids[i], 16) == 0) {
        decrypted++;
      }
      bt_incoming_free(&in);
      bt_buffer_free(&senders[t].wires[i]);
    }
  }
  CHECK(decrypted == THREADS * PER_THREAD);
  bt_buffer_free(&relay.upload);
  bt_account_free(alice);
  bt_account_free(bob);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Users with several devices (spec §11): Alice with a primary and a companion, Bob with
 * one device. Device lists, sessions from bundles, one logical message with a sent
 * transcript, the transcript on the companion, statuses per device and in aggregate. */
static void test_devices(void) {
  bt_account *a1 = memory_account(&SMALL), *a2 = memory_account(&SMALL);
  bt_account *b1 = memory_account(&SMALL);
  relay_device a2_relay = {{NULL, 0}}, b1_relay = {{NULL, 0}};
  bt_buffer alice_list = {NULL, 0}, bob_list = {NULL, 0}, change = {NULL, 0};
  bt_buffer missing = {NULL, 0}, bundle = {NULL, 0}, info = {NULL, 0}, user = {NULL, 0};
  bt_buffer receipt = {NULL, 0}, stale = {NULL, 0};
  uint8_t a2_key[32], a1_key[32], key[32], logical_id[16], rid[16];
  uint32_t companion = 2, device = 0;
  uint8_t status = 0xff;
  bool found = false;
  bt_logical *m = NULL;
  bt_device_wire to_bob, transcript;
  bt_incoming in;
  bt_inbox *inbox = NULL;
  bt_inbox_entry entry;
  char sn1[BT_SAFETY_NUMBER_SIZE], sn2[BT_SAFETY_NUMBER_SIZE];

  CHECK(BT_FOREIGN_TRANSCRIPT == 51);
  CHECK(strcmp(bt_status_name(BT_FOREIGN_TRANSCRIPT), "BT_FOREIGN_TRANSCRIPT") == 0);
  /* Without its own address an account cannot sign its user's list. */
  MUST(bt_account_identity(a2, a2_key));
  MUST(bt_account_identity(a1, a1_key));
  CHECK_STATUS(bt_account_sign_device_list(a1, 1, &companion, a2_key, 1, &alice_list),
               BT_INVALID_VALUE);
  MUST(bt_account_set_own_address(a1, USER("alice"), 1));
  MUST(bt_account_set_own_address(a2, USER("alice"), 2));
  MUST(bt_account_set_own_address(b1, USER("bob"), 1));
  MUST(bt_account_own_address(a2, &found, &user, &device));
  CHECK(found && device == 2 && bytes_equal(user.ptr, user.len, "alice"));
  bt_buffer_free(&user);

  /* The primary signs the list; the companion and Bob accept it. */
  MUST(bt_account_sign_device_list(a1, 1, &companion, a2_key, 1, &alice_list));
  MUST(bt_account_accept_device_list(a2, alice_list.ptr, alice_list.len, &change));
  CHECK(change.len == 2 * BT_DEVICE_CHANGE_LEN && change.ptr[0] == BT_DEVICE_ADDED);
  bt_buffer_free(&change);
  MUST(bt_account_user_identity(a2, USER("alice"), key, &found));
  CHECK(found && memcmp(key, a1_key, 32) == 0);
  MUST(bt_account_accept_device_list(b1, alice_list.ptr, alice_list.len, &change));
  bt_buffer_free(&change);
  MUST(bt_account_sign_device_list(b1, 1, NULL, NULL, 0, &bob_list));
  MUST(bt_account_accept_device_list(a1, bob_list.ptr, bob_list.len, &change));
  bt_buffer_free(&change);
  MUST(bt_account_accept_device_list(a2, bob_list.ptr, bob_list.len, &change));
  bt_buffer_free(&change);
  /* Signing version 1 again with other devices: stale, nothing changes. */
  CHECK_STATUS(bt_account_sign_device_list(a1, 1, NULL, NULL, 0, &stale),
               BT_STALE_DEVICE_LIST);
  CHECK(stale.len == 0);
  MUST(bt_account_device_list(a1, USER("alice"), &stale));
  CHECK(stale.len == alice_list.len && memcmp(stale.ptr, alice_list.ptr, stale.len) == 0);
  bt_buffer_free(&stale);
  /* Both Alice devices show Bob the same safety number: over user identities. */
  MUST(bt_account_user_safety_number(a1, USER("bob"), sn1, sizeof sn1, &found));
  CHECK(found);
  MUST(bt_account_user_safety_number(a2, USER("bob"), sn2, sizeof sn2, &found));
  CHECK(found && strcmp(sn1, sn2) == 0 && strlen(sn1) == 60);

  /* Alice's phone needs sessions with Bob's device and her companion. */
  MUST(relay_publish(&a2_relay, a2));
  MUST(relay_publish(&b1_relay, b1));
  CHECK_STATUS(bt_account_send_to_user(a1, USER("bob"), (const uint8_t *)"x", 1, 0, &m),
               BT_NO_SESSION);
  CHECK(m == NULL);
  MUST(bt_account_devices_without_session(a1, USER("bob"), &missing));
  /* bob.1 then alice.2: u16 length, user id, u32 device each. */
  CHECK(missing.len == (2 + 3 + 4) + (2 + 5 + 4));
  CHECK(missing.ptr[1] == 3 && memcmp(missing.ptr + 2, "bob", 3) == 0);
  bt_buffer_free(&missing);
  MUST(relay_fetch(&b1_relay, &bundle));
  MUST(bt_account_start_session(a1, USER("bob"), 1, bundle.ptr, bundle.len));
  bt_buffer_free(&bundle);
  MUST(relay_fetch(&a2_relay, &bundle));
  /* A bundle presented for a device the list does not name is refused. */
  CHECK_STATUS(bt_account_start_session(a1, USER("alice"), 9, bundle.ptr, bundle.len),
               BT_DEVICE_NOT_LISTED);
  MUST(bt_account_start_session(a1, USER("alice"), 2, bundle.ptr, bundle.len));
  bt_buffer_free(&bundle);
  MUST(bt_account_devices_without_session(a1, USER("bob"), &missing));
  CHECK(missing.len == 0);
  bt_buffer_free(&missing);

  /* One logical message: a wire to Bob and a transcript to the companion. */
  MUST(bt_account_send_to_user(a1, USER("bob"), (const uint8_t *)"hello bob", 9, 77, &m));
  CHECK(bt_logical_len(m) == 2 && bt_logical_lamport(m) == 1);
  MUST(bt_logical_id(m, logical_id));
  MUST(bt_logical_get(m, 0, &to_bob));
  MUST(bt_logical_get(m, 1, &transcript));
  CHECK_STATUS(bt_logical_get(m, 2, &transcript), BT_INVALID_ARGUMENT);
  MUST(bt_logical_get(m, 1, &transcript));
  CHECK(!to_bob.transcript && to_bob.device == 1 && bytes_equal(to_bob.user, to_bob.user_len, "bob"));
  CHECK(transcript.transcript && transcript.device == 2);
  MUST(bt_account_logical_status(a1, logical_id, &status, &found));
  CHECK(found && status == BT_MESSAGE_PENDING);
  MUST(bt_account_mark_sent(a1, to_bob.id, &status));
  MUST(bt_account_logical_status(a1, logical_id, &status, &found));
  CHECK(found && status == BT_MESSAGE_SENT);

  /* The companion gets the transcript, in its conversation with Bob. */
  MUST(bt_account_decrypt(a2, USER("alice"), 1, transcript.wire, transcript.wire_len, &in));
  CHECK(in.kind == BT_INCOMING_TRANSCRIPT && in.lamport == 1 && in.sent_at_ms == 77);
  CHECK(bytes_equal(in.to_user.ptr, in.to_user.len, "bob"));
  CHECK(bytes_equal(in.body.ptr, in.body.len, "hello bob"));
  bt_incoming_free(&in);
  MUST(bt_account_conversation_inbox(a2, USER("bob"), &inbox));
  CHECK(bt_inbox_len(inbox) == 1);
  MUST(bt_inbox_get(inbox, 0, &entry));
  CHECK(bytes_equal(entry.transcript_to, entry.transcript_to_len, "bob"));
  CHECK(entry.device == 1 && entry.lamport == 1);
  bt_inbox_free(inbox);

  /* Bob reads it and sends a delivery receipt: the logical message is delivered. */
  MUST(bt_account_decrypt(b1, USER("alice"), 1, to_bob.wire, to_bob.wire_len, &in));
  CHECK(in.kind == BT_INCOMING_MESSAGE && in.to_user.len == 0);
  bt_incoming_free(&in);
  MUST(bt_account_create_receipt(b1, USER("alice"), 1, BT_RECEIPT_DELIVERED, to_bob.id, 1, 5,
                                 rid, &receipt));
  MUST(bt_account_decrypt(a1, USER("bob"), 1, receipt.ptr, receipt.len, &in));
  bt_incoming_free(&in);
  MUST(bt_account_logical_status(a1, logical_id, &status, &found));
  CHECK(found && status == BT_MESSAGE_DELIVERED);
  MUST(bt_account_message_info(a1, logical_id, &info, &found));
  CHECK(found && info.len == (18 + 2 + 3 + 4) + (18 + 2 + 5 + 4));
  CHECK(info.ptr[0] == BT_MESSAGE_DELIVERED && info.ptr[1] == 0);
  CHECK(memcmp(info.ptr + 2, to_bob.id, 16) == 0);
  CHECK(info.ptr[27] == BT_MESSAGE_PENDING && info.ptr[28] == 1);
  bt_buffer_free(&info);
  bt_buffer_free(&receipt);
  memset(logical_id, 0, sizeof logical_id);
  MUST(bt_account_logical_status(a1, logical_id, &status, &found));
  CHECK(!found);

  bt_logical_free(m);
  bt_logical_free(NULL);
  bt_buffer_free(&alice_list);
  bt_buffer_free(&bob_list);
  bt_buffer_free(&a2_relay.upload);
  bt_buffer_free(&b1_relay.upload);
  bt_account_free(a1);
  bt_account_free(a2);
  bt_account_free(b1);
}

/* alice.1 and bob.1, each the only device of its user: each signs its device list and
 * accepts the other's. */
static void know_each_other(bt_account *a1, bt_account *b1) {
  bt_buffer alice_list = {NULL, 0}, bob_list = {NULL, 0}, change = {NULL, 0};
  MUST(bt_account_set_own_address(a1, USER("alice"), 1));
  MUST(bt_account_set_own_address(b1, USER("bob"), 1));
  MUST(bt_account_sign_device_list(a1, 1, NULL, NULL, 0, &alice_list));
  MUST(bt_account_sign_device_list(b1, 1, NULL, NULL, 0, &bob_list));
  MUST(bt_account_accept_device_list(a1, bob_list.ptr, bob_list.len, &change));
  bt_buffer_free(&change);
  MUST(bt_account_accept_device_list(b1, alice_list.ptr, alice_list.len, &change));
  bt_buffer_free(&change);
  bt_buffer_free(&alice_list);
  bt_buffer_free(&bob_list);
}

/* Groups (spec §12): Alice sends to a group with Bob; one group wire, one distribution.
 * Then a removed member's key goes at once, and a forgotten group refuses its wires. */
static void test_groups(void) {
  bt_account *a1 = memory_account(&SMALL), *b1 = memory_account(&SMALL);
  relay_device b1_relay = {{NULL, 0}};
  bt_buffer missing = {NULL, 0}, bundle = {NULL, 0}, recipients = {NULL, 0};
  bt_buffer receipt = {NULL, 0};
  const uint8_t members_a[] = {3, 'b', 'o', 'b'}, members_b[] = {5, 'a', 'l', 'i', 'c', 'e'};
  const uint8_t *wire = NULL;
  size_t wire_len = 0;
  uint8_t wire_id[16], logical_id[16], rid[16], status = 0xff;
  bool found = false;
  bt_group_send *sent = NULL, *bob_later = NULL;
  bt_device_wire dist;
  bt_incoming in;
  bt_inbox *inbox = NULL;
  bt_inbox_entry entry;

  know_each_other(a1, b1);
  CHECK_STATUS(bt_account_send_to_group(a1, USER("friends"), (const uint8_t *)"x", 1, 0, &sent),
               BT_INVALID_VALUE);
  MUST(bt_account_set_group_members(a1, USER("friends"), members_a, sizeof members_a, 1000));
  MUST(bt_account_set_group_members(b1, USER("friends"), members_b, sizeof members_b, 1000));
  CHECK_STATUS(bt_account_set_group_members(a1, USER("friends"), members_a, 2, 1000),
               BT_INVALID_ARGUMENT);
  MUST(bt_account_group_devices_without_session(a1, USER("friends"), &missing));
  CHECK(missing.len == 2 + 3 + 4);
  bt_buffer_free(&missing);
  MUST(relay_publish(&b1_relay, b1));
  MUST(relay_fetch(&b1_relay, &bundle));
  MUST(bt_account_start_session(a1, USER("bob"), 1, bundle.ptr, bundle.len));
  bt_buffer_free(&bundle);

  MUST(bt_account_send_to_group(a1, USER("friends"), (const uint8_t *)"hello group", 11, 2000,
                                &sent));
  CHECK(bt_group_send_lamport(sent) == 1);
  CHECK(bt_group_send_len(sent) == 1);
  MUST(bt_group_send_id(sent, logical_id));
  MUST(bt_group_send_recipients(sent, &recipients));
  CHECK(recipients.len == 2 + 3 + 4 && memcmp(recipients.ptr + 2, "bob", 3) == 0);
  bt_buffer_free(&recipients);
  MUST(bt_group_send_get(sent, 0, &dist));
  CHECK(!dist.transcript && dist.device == 1 && bytes_equal(dist.user, dist.user_len, "bob"));
  CHECK_STATUS(bt_group_send_get(sent, 1, &dist), BT_INVALID_ARGUMENT);
  MUST(bt_group_send_get(sent, 0, &dist));
  MUST(bt_group_send_wire(sent, &wire, &wire_len, wire_id));

  /* Before the distribution, the wire opens nowhere and changes nothing. */
  CHECK_STATUS(bt_account_decrypt(b1, USER("relay"), 0, wire, wire_len, &in),
               BT_UNKNOWN_DISTRIBUTION);
  MUST(bt_account_decrypt(b1, USER("alice"), 1, dist.wire, dist.wire_len, &in));
  CHECK(in.kind == BT_INCOMING_DISTRIBUTION);
  CHECK(bytes_equal(in.group.ptr, in.group.len, "friends"));
  bt_incoming_free(&in);
  MUST(bt_account_decrypt(b1, USER("relay"), 0, wire, wire_len, &in));
  CHECK(in.kind == BT_INCOMING_GROUP_MESSAGE);
  CHECK(bytes_equal(in.body.ptr, in.body.len, "hello group"));
  CHECK(bytes_equal(in.group.ptr, in.group.len, "friends"));
  CHECK(bytes_equal(in.from_user.ptr, in.from_user.len, "alice") && in.from_device == 1);
  CHECK(in.lamport == 1 && memcmp(in.id, wire_id, 16) == 0);
  bt_incoming_free(&in);

  MUST(bt_account_mark_sent(a1, wire_id, &status));
  CHECK(status == BT_MESSAGE_SENT);
  MUST(bt_account_create_receipt(b1, USER("alice"), 1, BT_RECEIPT_READ, wire_id, 1, 3000, rid,
                                 &receipt));
  MUST(bt_account_decrypt(a1, USER("bob"), 1, receipt.ptr, receipt.len, &in));
  CHECK(in.kind == BT_INCOMING_RECEIPT);
  bt_incoming_free(&in);
  bt_buffer_free(&receipt);
  MUST(bt_account_logical_status(a1, logical_id, &status, &found));
  CHECK(found && status == BT_MESSAGE_READ);
  bt_group_send_free(sent);
  sent = NULL;

  /* Bob sends to the group: Alice gets his key and opens his message. */
  MUST(bt_account_send_to_group(b1, USER("friends"), (const uint8_t *)"from bob", 8, 3100, &sent));
  CHECK(bt_group_send_len(sent) == 1);
  MUST(bt_group_send_get(sent, 0, &dist));
  MUST(bt_account_decrypt(a1, USER("bob"), 1, dist.wire, dist.wire_len, &in));
  CHECK(in.kind == BT_INCOMING_DISTRIBUTION);
  bt_incoming_free(&in);
  MUST(bt_group_send_wire(sent, &wire, &wire_len, wire_id));
  MUST(bt_account_decrypt(a1, USER("relay"), 0, wire, wire_len, &in));
  CHECK(in.kind == BT_INCOMING_GROUP_MESSAGE && bytes_equal(in.body.ptr, in.body.len, "from bob"));
  bt_incoming_free(&in);
  bt_group_send_free(sent);
  /* One more from each, not delivered yet. */
  MUST(bt_account_send_to_group(b1, USER("friends"), (const uint8_t *)"bob later", 9, 3200,
                                &bob_later));
  CHECK(bt_group_send_len(bob_later) == 0);
  MUST(bt_account_send_to_group(a1, USER("friends"), (const uint8_t *)"alice later", 11, 3200,
                                &sent));
  CHECK(bt_group_send_len(sent) == 0);

  /* Alice removes Bob: his key goes at once, so his next message is an unknown
   * distribution (not a refused member), and nothing changes. */
  MUST(bt_account_set_group_members(a1, USER("friends"), NULL, 0, 3300));
  MUST(bt_group_send_wire(bob_later, &wire, &wire_len, wire_id));
  CHECK_STATUS(bt_account_decrypt(a1, USER("relay"), 0, wire, wire_len, &in),
               BT_UNKNOWN_DISTRIBUTION);

  /* Bob forgets the group: Alice's message under the key he held no longer opens, his
   * unacknowledged group message stays in the inbox, and forgetting again is fine. */
  MUST(bt_account_forget_group(b1, USER("friends")));
  MUST(bt_group_send_wire(sent, &wire, &wire_len, wire_id));
  CHECK_STATUS(bt_account_decrypt(b1, USER("relay"), 0, wire, wire_len, &in),
               BT_UNKNOWN_DISTRIBUTION);
  MUST(bt_account_forget_group(b1, USER("friends")));
  CHECK_STATUS(bt_account_forget_group(b1, NULL, 0), BT_INVALID_GROUP_ID);
  CHECK_STATUS(bt_account_forget_group(NULL, USER("friends")), BT_NULL_ARGUMENT);
  MUST(bt_account_inbox(b1, &inbox));
  CHECK(bt_inbox_len(inbox) == 1);
  MUST(bt_inbox_get(inbox, 0, &entry));
  CHECK(bytes_equal(entry.group, entry.group_len, "friends"));
  bt_inbox_free(inbox);
  bt_group_send_free(sent);
  sent = NULL;
  CHECK_STATUS(
      bt_account_send_to_group(b1, USER("friends"), (const uint8_t *)"x", 1, 3400, &sent),
      BT_INVALID_VALUE);
  /* Made again: a new key for Alice, and the group's clock starts over. */
  MUST(bt_account_set_group_members(b1, USER("friends"), members_b, sizeof members_b, 3500));
  MUST(bt_account_send_to_group(b1, USER("friends"), (const uint8_t *)"back", 4, 3600, &sent));
  CHECK(bt_group_send_len(sent) == 1 && bt_group_send_lamport(sent) == 1);

  bt_group_send_free(sent);
  bt_group_send_free(bob_later);
  bt_group_send_free(NULL);
  bt_buffer_free(&b1_relay.upload);
  bt_account_free(a1);
  bt_account_free(b1);
}

/* Opens a group wire or distribution at `now_ms` of the receiver's clock. */
static bt_status open_at(const bt_account *to, const char *from_user, const uint8_t *wire,
                         size_t wire_len, uint64_t now_ms, uint32_t want_kind) {
  bt_incoming in;
  bt_status s = bt_account_decrypt_at(to, USER(from_user), 1, wire, wire_len, now_ms, &in);
  if (s == BT_OK) CHECK(in.kind == want_kind);
  bt_incoming_free(&in);
  return s;
}

/* The clock of a replaced sender key's hour (spec §12) is the one the receiver decrypts at:
 * Alice only receives; Bob's key rotates (8 days old) and replaces his first one at T of
 * her clock. A skipped message under the old key opens at T + 59 min and is refused at
 * T + 61 min; once the old key is erased, a clock gone back does not bring it back. */
static void test_group_clock(void) {
  const uint64_t T = 1800000000000ULL, MINUTE = 60000ULL;
  const uint64_t LATER = 2000 + 8ULL * 24 * 60 * MINUTE;
  bt_account *a1 = memory_account(&SMALL), *b1 = memory_account(&SMALL);
  relay_device a1_relay = {{NULL, 0}};
  bt_buffer bundle = {NULL, 0};
  const uint8_t members_a[] = {3, 'b', 'o', 'b'}, members_b[] = {5, 'a', 'l', 'i', 'c', 'e'};
  bt_group_send *sent[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
  const uint8_t *wires[6];
  size_t lens[6];
  uint8_t wire_id[16];
  bt_device_wire first, second;
  bt_batch_message batch[1];
  bt_incoming results[1];
  bt_status statuses[1];
  bt_incoming in;

  know_each_other(a1, b1);
  MUST(bt_account_set_group_members(a1, USER("friends"), members_a, sizeof members_a, 1000));
  MUST(bt_account_set_group_members(b1, USER("friends"), members_b, sizeof members_b, 1000));
  MUST(relay_publish(&a1_relay, a1));
  MUST(relay_fetch(&a1_relay, &bundle));
  MUST(bt_account_start_session(b1, USER("alice"), 1, bundle.ptr, bundle.len));
  bt_buffer_free(&bundle);

  /* Four under the first key, two under the second. */
  for (int i = 0; i < 6; i++) {
    const char *body = i < 4 ? "old" : "new";
    uint64_t at = (i < 4 ? 2000 : LATER) + (uint64_t)i;
    MUST(bt_account_send_to_group(b1, USER("friends"), (const uint8_t *)body, 3, at, &sent[i]));
    MUST(bt_group_send_wire(sent[i], &wires[i], &lens[i], wire_id));
  }
  CHECK(bt_group_send_len(sent[0]) == 1 && bt_group_send_len(sent[1]) == 0);
  CHECK(bt_group_send_len(sent[4]) == 1 && bt_group_send_len(sent[5]) == 0);
  MUST(bt_group_send_get(sent[0], 0, &first));
  MUST(bt_group_send_get(sent[4], 0, &second));

  MUST(open_at(a1, "bob", first.wire, first.wire_len, T - 10 * MINUTE, BT_INCOMING_DISTRIBUTION));
  MUST(open_at(a1, "bob", wires[0], lens[0], T - 10 * MINUTE, BT_INCOMING_GROUP_MESSAGE));
  MUST(open_at(a1, "bob", wires[3], lens[3], T - 5 * MINUTE, BT_INCOMING_GROUP_MESSAGE));
  /* The replacement, through the batch call, at T. */
  batch[0] = (bt_batch_message){(const uint8_t *)"bob", 3, 1, second.wire, second.wire_len};
  MUST(bt_account_decrypt_batch_at(a1, batch, 1, T, results, statuses));
  CHECK(statuses[0] == BT_OK && results[0].kind == BT_INCOMING_DISTRIBUTION);
  bt_incoming_free(&results[0]);
  CHECK_STATUS(bt_account_decrypt_batch_at(a1, NULL, 1, T, results, statuses), BT_NULL_ARGUMENT);

  MUST(open_at(a1, "bob", wires[4], lens[4], T + MINUTE, BT_INCOMING_GROUP_MESSAGE));
  MUST(open_at(a1, "bob", wires[1], lens[1], T + 59 * MINUTE, BT_INCOMING_GROUP_MESSAGE));
  CHECK_STATUS(open_at(a1, "bob", wires[2], lens[2], T + 61 * MINUTE, 0), BT_UNKNOWN_DISTRIBUTION);
  /* A message that opens after the hour erases the old key: no clock brings it back. */
  MUST(open_at(a1, "bob", wires[5], lens[5], T + 62 * MINUTE, BT_INCOMING_GROUP_MESSAGE));
  CHECK_STATUS(open_at(a1, "bob", wires[2], lens[2], T + 30 * MINUTE, 0), BT_UNKNOWN_DISTRIBUTION);
  CHECK_STATUS(bt_account_decrypt(a1, USER("bob"), 1, wires[2], lens[2], &in),
               BT_UNKNOWN_DISTRIBUTION);
  bt_incoming_free(&in);
  CHECK_STATUS(bt_account_decrypt_at(NULL, USER("bob"), 1, wires[2], lens[2], T, &in),
               BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_account_decrypt_at(a1, USER("bob"), 1, wires[2], lens[2], T, NULL),
               BT_NULL_ARGUMENT);

  for (int i = 0; i < 6; i++) bt_group_send_free(sent[i]);
  bt_buffer_free(&a1_relay.upload);
  bt_account_free(a1);
  bt_account_free(b1);
}

int main(void) {
  memset(KEY_ALICE, 0x11, sizeof KEY_ALICE);
  memset(KEY_BOB, 0x22, sizeof KEY_BOB);
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    return 2;
  }
  test_versions_and_names();
  test_panic_is_contained();
  test_null_and_invalid_arguments();
  test_conversation();
  test_bad_input();
  test_prekey_upkeep();
  test_identity_change();
  test_batch();
  test_threads();
  test_protocol_layer();
  test_devices();
  test_groups();
  test_group_clock();
  nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  printf("%d passed, %d failed\n", checks_passed, checks_failed);
  return checks_failed == 0 ? 0 : 1;
}
