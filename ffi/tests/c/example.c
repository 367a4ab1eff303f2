/* Alice sends Bob a message and gets a read receipt back, through the C API.
 * Built and run by the lines under "Building" in docs/ffi.md: linked statically, and
 * as a shared library found through an rpath. */
#include <stdio.h>
#include <string.h>

#include "bluetick.h"

/* Prints the failure and jumps to cleanup. */
#define TRY(call)                                                              \
  do {                                                                         \
    bt_status s_ = (call);                                                     \
    if (s_ != BT_OK) {                                                         \
      fprintf(stderr, "%s: %s: %s\n", #call, bt_status_name(s_),               \
              bt_last_error_message());                                        \
      goto done;                                                               \
    }                                                                          \
  } while (0)

int main(void) {
  int ok = 0;
  uint8_t key[32]; /* in an app: 32 random bytes kept in the Keychain / Keystore */
  bt_account *alice = NULL, *bob = NULL;
  bt_buffer upload = {NULL, 0}, rest = {NULL, 0}, bundle = {NULL, 0};
  bt_buffer wire = {NULL, 0}, receipt = {NULL, 0};
  bt_incoming in = {0};
  uint8_t id[16], receipt_id[16], status;
  uint64_t lamport = 0;                 /* the message's place in the conversation */
  const uint64_t now_ms = 1767225600000; /* in an app: the wall clock, ms since 1970 */
  bool found = false;
  const char *text = "hello Bob";

  if (bt_abi_version() != BT_ABI_VERSION) return 1;
  memset(key, 7, sizeof key);
  TRY(bt_account_create_memory(key, sizeof key, NULL, &alice));
  TRY(bt_account_create_memory(key, sizeof key, NULL, &bob));

  /* Bob publishes his prekeys; the relay hands Alice one bundle. */
  TRY(bt_account_prekey_upload(bob, &upload));
  TRY(bt_prekey_upload_take_bundle(upload.ptr, upload.len, &rest, &bundle));

  /* Alice starts a session from the bundle and encrypts; the relay acknowledges. */
  TRY(bt_account_encrypt(alice, (const uint8_t *)"bob", 3, 1, (const uint8_t *)text,
                         strlen(text), bundle.ptr, bundle.len, now_ms, id, &wire, &lamport));
  TRY(bt_account_mark_sent(alice, id, &status)); /* one grey tick */

  /* Bob decrypts, stores the message, acknowledges it and sends a read receipt. */
  TRY(bt_account_decrypt(bob, (const uint8_t *)"alice", 5, 1, wire.ptr, wire.len, &in));
  printf("Bob got: %.*s (clock %llu)\n", (int)in.body.len, (const char *)in.body.ptr,
         (unsigned long long)in.lamport);
  if (in.lamport != lamport || in.sent_at_ms != now_ms) goto done;
  TRY(bt_account_acknowledge(bob, in.id));
  TRY(bt_account_create_receipt(bob, (const uint8_t *)"alice", 5, 1, BT_RECEIPT_READ, in.id, 1,
                                1700000000000u, receipt_id, &receipt));
  bt_incoming_free(&in);

  /* Alice applies the receipt: two blue ticks. */
  TRY(bt_account_decrypt(alice, (const uint8_t *)"bob", 3, 1, receipt.ptr, receipt.len, &in));
  TRY(bt_account_message_status(alice, id, &status, &found));
  printf("status: %s\n", status == BT_MESSAGE_READ ? "read" : "not read");
  ok = found && status == BT_MESSAGE_READ;

done:
  bt_incoming_free(&in);
  bt_buffer_free(&receipt);
  bt_buffer_free(&wire);
  bt_buffer_free(&bundle);
  bt_buffer_free(&rest);
  bt_buffer_free(&upload);
  bt_account_free(bob);
  bt_account_free(alice);
  return ok ? 0 : 1;
}
