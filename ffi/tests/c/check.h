/* Small helpers for the C suite: counted checks, and a relay's copy of published prekeys.
 * Header-only; include it from exactly one translation unit. */
#ifndef BLUETICK_CHECK_H
#define BLUETICK_CHECK_H

#include <stdio.h>
#include <string.h>

#include "bluetick.h"

static int checks_passed = 0;
static int checks_failed = 0;

static void check_report(int ok, const char *file, int line, const char *what) {
  if (ok) {
    checks_passed++;
  } else {
    checks_failed++;
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
  }
}

/* A condition that must hold. */
#define CHECK(cond) check_report((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/* A call that must return `want`; prints both statuses and the message otherwise. */
#define CHECK_STATUS(expr, want) \
  check_status_at((expr), (want), __FILE__, __LINE__, #expr)

/* A call that must succeed; the test function returns at once if it does not. */
#define MUST(expr)                                                   \
  do {                                                               \
    if (check_status_at((expr), BT_OK, __FILE__, __LINE__, #expr)) { \
      return;                                                        \
    }                                                                \
  } while (0)

/* Returns 1 when the status was not the one wanted. */
static int check_status_at(bt_status got, bt_status want, const char *file, int line,
                           const char *what) {
  if (got == want) {
    checks_passed++;
    return 0;
  }
  checks_failed++;
  fprintf(stderr, "FAIL %s:%d: %s\n  returned %s, expected %s: %s\n", file, line, what,
          bt_status_name((int)got), bt_status_name((int)want), bt_last_error_message());
  return 1;
}

static int bytes_equal(const uint8_t *a, size_t a_len, const char *b) {
  return a_len == strlen(b) && (a_len == 0 || memcmp(a, b, a_len) == 0);
}

/* The relay's copy of one device's published prekeys: upload bytes. */
typedef struct {
  bt_buffer upload;
} relay_device;

/* Publishes an account's prekeys, as the app does after creating it. */
static bt_status relay_publish(relay_device *relay, const bt_account *account) {
  bt_status s = bt_account_prekey_upload(account, &relay->upload);
  if (s != BT_OK) return s;
  return bt_prekey_upload_verify(relay->upload.ptr, relay->upload.len);
}

/* Applies a later upload (replenish, rotation). */
static bt_status relay_merge(relay_device *relay, const bt_buffer *newer) {
  bt_buffer merged = {NULL, 0};
  bt_status s = bt_prekey_upload_verify(newer->ptr, newer->len);
  if (s != BT_OK) return s;
  s = bt_prekey_upload_merge(relay->upload.ptr, relay->upload.len, newer->ptr, newer->len,
                             &merged);
  if (s != BT_OK) return s;
  bt_buffer_free(&relay->upload);
  relay->upload = merged;
  return BT_OK;
}

/* Hands out one bundle (free it with bt_buffer_free). */
static bt_status relay_fetch(relay_device *relay, bt_buffer *bundle) {
  bt_buffer remaining = {NULL, 0};
  bt_status s = bt_prekey_upload_take_bundle(relay->upload.ptr, relay->upload.len, &remaining,
                                             bundle);
  if (s != BT_OK) return s;
  bt_buffer_free(&relay->upload);
  relay->upload = remaining;
  return BT_OK;
}

#endif /* BLUETICK_CHECK_H */
