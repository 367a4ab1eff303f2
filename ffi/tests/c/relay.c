/* The C suite for the relay client (docs/relay.md) through the C ABI alone: two accounts,
 * each with a bt_relay_client, driven against a fake relay in this file that speaks the
 * frame layout of docs/relay.md byte for byte (written here by hand, not with the
 * library's codec). Covered: the authentication handshake signed by the account, a
 * bundle fetch, a send and its Sent, a delivery decrypted by the account and acknowledged
 * only after the commit, the outbox sent again after a disconnect, an acknowledgement
 * made while offline sent after the next authentication, answers and refusals of
 * requests, a refused send, and bad frames from the relay.
 * Prints "N passed, M failed" last and exits non-zero on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bluetick.h"
/* check.h also carries prekey helpers this suite does not use. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "check.h"

/* ---- The fake relay's side of the frame layout (docs/relay.md, "Frames, byte for byte"). */

typedef struct {
  uint8_t b[8192];
  size_t len;
} frame;

static void put_u8(frame *f, uint8_t v) {
  if (f->len >= sizeof f->b) abort();
  f->b[f->len++] = v;
}
static void put_u32(frame *f, uint32_t v) {
  put_u8(f, (uint8_t)(v >> 24));
  put_u8(f, (uint8_t)(v >> 16));
  put_u8(f, (uint8_t)(v >> 8));
  put_u8(f, (uint8_t)v);
}
static void put_bytes(frame *f, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) put_u8(f, p[i]);
}
static void put_address(frame *f, const char *user, uint32_t device) {
  put_u8(f, (uint8_t)strlen(user));
  put_bytes(f, (const uint8_t *)user, strlen(user));
  put_u32(f, device);
}
static uint32_t get_u32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static frame challenge(void) {
  frame f = {{0}, 0};
  put_u8(&f, 0x01);        /* Challenge */
  put_u8(&f, 0x01);        /* version */
  put_u8(&f, 0x01);
  put_u8(&f, 0x02);        /* nonce */
  for (int i = 0; i < 32; i++) put_u8(&f, (uint8_t)(0xA0 + i));
  return f;
}
static frame welcome(uint32_t queued) {
  frame f = {{0}, 0};
  put_u8(&f, 0x03);
  put_u8(&f, 0x07);
  put_u32(&f, queued);
  return f;
}
static frame sent(const uint8_t id[16]) {
  frame f = {{0}, 0};
  put_u8(&f, 0x0C);
  put_u8(&f, 0x10);
  put_bytes(&f, id, 16);
  return f;
}
static frame deliver(const char *user, uint32_t device, const uint8_t *wire, size_t len) {
  frame f = {{0}, 0};
  put_u8(&f, 0x0D);
  put_u8(&f, 0x11);
  put_address(&f, user, device);
  put_u8(&f, 0x0F);
  put_u32(&f, (uint32_t)len);
  put_bytes(&f, wire, len);
  return f;
}
static frame bundle_answer(uint32_t request, const bt_buffer *bundle) {
  frame f = {{0}, 0};
  put_u8(&f, 0x06);
  put_u8(&f, 0x08);
  put_u32(&f, request);
  put_u8(&f, 0x0A);
  put_u32(&f, (uint32_t)bundle->len);
  put_bytes(&f, bundle->ptr, bundle->len);
  put_u8(&f, 0x06); /* certificate: absent */
  put_u8(&f, 0x00);
  put_u8(&f, 0x0B); /* device list: absent */
  put_u8(&f, 0x00);
  return f;
}
static frame devices_answer(uint32_t request) {
  frame f = {{0}, 0};
  put_u8(&f, 0x08);
  put_u8(&f, 0x08);
  put_u32(&f, request);
  put_u8(&f, 0x0D);
  put_u8(&f, 2);
  put_u32(&f, 1);
  put_u32(&f, 2);
  put_u8(&f, 0x0B);
  put_u8(&f, 0x01); /* device list: present, 3 bytes */
  put_u32(&f, 3);
  put_bytes(&f, (const uint8_t *)"dl!", 3);
  return f;
}
/* An error frame about a request (4-byte reference), a message (16) or the connection (0). */
static frame error_frame(uint8_t code, const uint8_t *reference, uint8_t reference_len) {
  frame f = {{0}, 0};
  put_u8(&f, 0x0F);
  put_u8(&f, 0x13);
  put_u8(&f, code);
  put_u8(&f, 0x14);
  put_u8(&f, reference_len);
  put_bytes(&f, reference, reference_len);
  return f;
}
static frame request_error(uint8_t code, uint32_t request) {
  uint8_t r[4] = {(uint8_t)(request >> 24), (uint8_t)(request >> 16), (uint8_t)(request >> 8),
                  (uint8_t)request};
  return error_frame(code, r, 4);
}

/* Few prekeys: account creation is most of this suite's time under valgrind. */
static const bt_account_config small = {2, 2, 1};

/* ---- Driving a client. */

typedef struct {
  const char *user;
  bt_account *account;
  bt_relay_client *client;
} device;

static bt_status feed(device *d, frame f) {
  return bt_relay_client_receive(d->client, d->account, f.b, f.len);
}

/* Takes every frame the client wants written; returns how many, keeping up to `max` in
 * `out` (the rest are freed). */
static size_t drain(device *d, bt_buffer *out, size_t max) {
  size_t n = 0;
  for (;;) {
    bt_buffer b = {NULL, 0};
    if (bt_relay_client_poll_transmit(d->client, &b) != BT_OK || b.len == 0) return n;
    if (n < max) {
      out[n] = b;
    } else {
      bt_buffer_free(&b);
    }
    n++;
  }
}

static void free_all(bt_buffer *bufs, size_t n) {
  for (size_t i = 0; i < n; i++) bt_buffer_free(&bufs[i]);
}

/* The next event (BT_RELAY_EVENT_NONE when none); free it with bt_relay_event_free. */
static bt_relay_event next_event(device *d) {
  bt_relay_event e;
  if (bt_relay_client_poll_event(d->client, &e) != BT_OK) e.kind = 0xFFFF;
  return e;
}

/* Connects and authenticates like the relay would: challenge, check the Authenticate
 * frame (type, address, identity), welcome. Returns 1 when all of it held. */
static int handshake(device *d, uint32_t queued) {
  uint8_t ik[32];
  bt_buffer out[4];
  int ok = 1;
  if (bt_relay_client_connected(d->client) != BT_OK) return 0;
  uint32_t st = 99;
  bt_relay_client_state(d->client, &st);
  ok &= st == BT_RELAY_AWAITING_CHALLENGE;
  ok &= feed(d, challenge()) == BT_OK;
  size_t n = drain(d, out, 4);
  ok &= n == 1;
  if (n >= 1) {
    /* 02 | 03 len user device | 04 IK(32) | 05 sig(64) | 06 00 */
    size_t ulen = strlen(d->user);
    const uint8_t *p = out[0].ptr;
    ok &= out[0].len == 1 + 1 + 1 + ulen + 4 + 1 + 32 + 1 + 64 + 2;
    ok &= p[0] == 0x02 && p[1] == 0x03 && p[2] == ulen && memcmp(p + 3, d->user, ulen) == 0;
    ok &= get_u32(p + 3 + ulen) == 1;
    ok &= p[7 + ulen] == 0x04;
    ok &= bt_account_identity(d->account, ik) == BT_OK && memcmp(p + 8 + ulen, ik, 32) == 0;
    ok &= p[40 + ulen] == 0x05 && p[105 + ulen] == 0x06 && p[106 + ulen] == 0x00;
  }
  free_all(out, n < 4 ? n : 4);
  bt_relay_client_state(d->client, &st);
  ok &= st == BT_RELAY_AUTHENTICATING;
  ok &= feed(d, welcome(queued)) == BT_OK;
  bt_relay_client_state(d->client, &st);
  ok &= st == BT_RELAY_READY;
  bt_relay_event e = next_event(d);
  ok &= e.kind == BT_RELAY_EVENT_READY && e.queued == queued;
  bt_relay_event_free(&e);
  return ok;
}

/* Checks that `f` is a Send of `wire` to the one recipient `user.device`. */
static int is_send(const bt_buffer *f, const char *user, uint32_t device, const bt_buffer *wire) {
  size_t ulen = strlen(user);
  const uint8_t *p = f->ptr;
  size_t at = 1 + 1 + 2 + 1 + ulen + 4;
  if (f->len != at + 1 + 4 + wire->len) return 0;
  return p[0] == 0x0B && p[1] == 0x0E && p[2] == 0 && p[3] == 1 && p[4] == ulen &&
         memcmp(p + 5, user, ulen) == 0 && get_u32(p + 5 + ulen) == device && p[at] == 0x0F &&
         get_u32(p + at + 1) == wire->len && memcmp(p + at + 5, wire->ptr, wire->len) == 0;
}

/* Checks that `f` is an Ack of exactly the ids given. */
static int is_ack(const bt_buffer *f, uint8_t (*ids)[16], size_t count) {
  if (f->len != 4 + 16 * count) return 0;
  if (f->ptr[0] != 0x0E || f->ptr[1] != 0x12 || f->ptr[2] != 0 || f->ptr[3] != count) return 0;
  for (size_t i = 0; i < count; i++) {
    if (memcmp(f->ptr + 4 + 16 * i, ids[i], 16) != 0) return 0;
  }
  return 1;
}

static void test_conversation_over_the_fake_relay(void) {
  const uint8_t key[32] = {7};
  relay_device bob_prekeys = {{NULL, 0}};
  device alice = {"alice", NULL, NULL}, bob = {"bob", NULL, NULL};
  bt_relay_backoff backoff;
  bt_buffer out[8];
  size_t n;
  uint32_t request = 0;
  MUST(bt_relay_backoff_default(&backoff));
  CHECK(backoff.base_ms == 250 && backoff.max_ms == 30000 && backoff.jitter_ms == 1000);
  backoff.base_ms = 100;
  backoff.jitter_ms = 0; /* deterministic delays for the checks below */
  MUST(bt_account_create_memory(key, 32, &small, &alice.account));
  MUST(bt_account_create_memory(key, 32, &small, &bob.account));
  MUST(relay_publish(&bob_prekeys, bob.account));
  MUST(bt_relay_client_new((const uint8_t *)"alice", 5, 1, NULL, 0, &backoff, &alice.client));
  MUST(bt_relay_client_new((const uint8_t *)"bob", 3, 1, NULL, 0, &backoff, &bob.client));

  /* Authentication: nothing is written before the challenge. */
  CHECK(drain(&alice, out, 0) == 0);
  CHECK(handshake(&alice, 0));
  CHECK(handshake(&bob, 0));

  /* Alice fetches Bob's bundle through the relay. */
  MUST(bt_relay_client_fetch_bundle(alice.client, (const uint8_t *)"bob", 3, 1, &request));
  n = drain(&alice, out, 8);
  CHECK(n == 1 && out[0].len == 1 + 5 + 1 + 1 + 3 + 4 && out[0].ptr[0] == 0x05 &&
        get_u32(out[0].ptr + 2) == request);
  free_all(out, n);
  bt_buffer bundle = {NULL, 0};
  MUST(relay_fetch(&bob_prekeys, &bundle));
  CHECK_STATUS(feed(&alice, bundle_answer(request, &bundle)), BT_OK);
  bt_buffer_free(&bundle);
  bt_relay_event e = next_event(&alice);
  CHECK(e.kind == BT_RELAY_EVENT_BUNDLE && e.request == request && e.bundle.len > 0 &&
        e.certificate.len == 0 && e.device_list.len == 0);

  /* A send yields a Send frame carrying the wire. */
  uint8_t id1[16], relay_id[16];
  uint64_t lamport = 0;
  bt_buffer wire1 = {NULL, 0};
  MUST(bt_account_encrypt(alice.account, (const uint8_t *)"bob", 3, 1,
                          (const uint8_t *)"hello bob", 9, e.bundle.ptr, e.bundle.len, 1000, id1,
                          &wire1, &lamport));
  bt_relay_event_free(&e);
  bt_relay_recipient to_bob = {(const uint8_t *)"bob", 3, 1};
  MUST(bt_relay_client_send(alice.client, &to_bob, 1, wire1.ptr, wire1.len, relay_id));
  CHECK(memcmp(relay_id, id1, 16) == 0);
  n = drain(&alice, out, 8);
  CHECK(n == 1 && is_send(&out[0], "bob", 1, &wire1));
  free_all(out, n);

  /* The relay's Sent: the grey tick, and the outbox empties. */
  size_t outbox = 99;
  CHECK_STATUS(feed(&alice, sent(id1)), BT_OK);
  e = next_event(&alice);
  CHECK(e.kind == BT_RELAY_EVENT_SENT && memcmp(e.id, id1, 16) == 0);
  bt_relay_event_free(&e);
  uint8_t status = 0;
  MUST(bt_account_mark_sent(alice.account, id1, &status));
  CHECK(status == BT_MESSAGE_SENT);
  MUST(bt_relay_client_outbox_len(alice.client, &outbox));
  CHECK(outbox == 0);

  /* The delivery to Bob: decrypted, and acknowledged only after the commit. */
  CHECK_STATUS(feed(&bob, deliver("alice", 1, wire1.ptr, wire1.len)), BT_OK);
  e = next_event(&bob);
  CHECK(e.kind == BT_RELAY_EVENT_DELIVERY && memcmp(e.id, id1, 16) == 0 &&
        e.sender_device == 1 && bytes_equal(e.sender_user.ptr, e.sender_user.len, "alice") &&
        e.wire.len == wire1.len && memcmp(e.wire.ptr, wire1.ptr, wire1.len) == 0);
  CHECK(drain(&bob, out, 0) == 0); /* no acknowledgement before the commit */
  bt_incoming in;
  MUST(bt_account_decrypt(bob.account, e.sender_user.ptr, e.sender_user.len, e.sender_device,
                          e.wire.ptr, e.wire.len, &in));
  CHECK(in.kind == BT_INCOMING_MESSAGE && bytes_equal(in.body.ptr, in.body.len, "hello bob"));
  bt_incoming_free(&in);
  MUST(bt_account_acknowledge(bob.account, e.id));
  MUST(bt_relay_client_committed(bob.client, e.id));
  bt_relay_event_free(&e);
  n = drain(&bob, out, 8);
  uint8_t acked[1][16];
  memcpy(acked[0], id1, 16);
  CHECK(n == 1 && is_ack(&out[0], acked, 1));
  free_all(out, n);

  /* A second send is lost with the pipe: after the reconnect it goes out again. */
  uint8_t id2[16];
  bt_buffer wire2 = {NULL, 0};
  MUST(bt_account_encrypt(alice.account, (const uint8_t *)"bob", 3, 1, (const uint8_t *)"again",
                          5, NULL, 0, 2000, id2, &wire2, &lamport));
  MUST(bt_relay_client_send(alice.client, &to_bob, 1, wire2.ptr, wire2.len, relay_id));
  n = drain(&alice, out, 8);
  CHECK(n == 1 && is_send(&out[0], "bob", 1, &wire2));
  free_all(out, n);
  uint64_t delay = 0, at = 0;
  bool disconnected = false, due = true;
  MUST(bt_relay_client_disconnected(alice.client, 5000, &delay));
  CHECK(delay == 100);
  MUST(bt_relay_client_reconnect_at_ms(alice.client, &at, &disconnected));
  CHECK(disconnected && at == 5100);
  MUST(bt_relay_client_should_connect(alice.client, 5099, &due));
  CHECK(!due);
  MUST(bt_relay_client_should_connect(alice.client, 5100, &due));
  CHECK(due);
  MUST(bt_relay_client_outbox_len(alice.client, &outbox));
  CHECK(outbox == 1);
  CHECK(handshake(&alice, 0));
  n = drain(&alice, out, 8);
  CHECK(n == 1 && is_send(&out[0], "bob", 1, &wire2));
  free_all(out, n);
  CHECK_STATUS(feed(&alice, sent(id2)), BT_OK);
  e = next_event(&alice);
  CHECK(e.kind == BT_RELAY_EVENT_SENT && memcmp(e.id, id2, 16) == 0);
  bt_relay_event_free(&e);

  /* Bob's pipe drops after the delivery, before his acknowledgement is written: it goes
   * out after the next authentication. */
  CHECK_STATUS(feed(&bob, deliver("alice", 1, wire2.ptr, wire2.len)), BT_OK);
  e = next_event(&bob);
  CHECK(e.kind == BT_RELAY_EVENT_DELIVERY && memcmp(e.id, id2, 16) == 0);
  MUST(bt_account_decrypt(bob.account, e.sender_user.ptr, e.sender_user.len, e.sender_device,
                          e.wire.ptr, e.wire.len, &in));
  CHECK(bytes_equal(in.body.ptr, in.body.len, "again"));
  bt_incoming_free(&in);
  MUST(bt_relay_client_disconnected(bob.client, 0, &delay));
  MUST(bt_relay_client_committed(bob.client, e.id));
  bt_relay_event_free(&e);
  CHECK(drain(&bob, out, 0) == 0);
  /* The relay redelivers what was not acknowledged; the account knows it already. */
  CHECK(handshake(&bob, 1));
  CHECK_STATUS(feed(&bob, deliver("alice", 1, wire2.ptr, wire2.len)), BT_OK);
  e = next_event(&bob);
  CHECK(e.kind == BT_RELAY_EVENT_DELIVERY && memcmp(e.id, id2, 16) == 0);
  MUST(bt_account_acknowledge(bob.account, e.id));
  CHECK_STATUS(bt_account_decrypt(bob.account, e.sender_user.ptr, e.sender_user.len,
                                  e.sender_device, e.wire.ptr, e.wire.len, &in),
               BT_ALREADY_RECEIVED);
  bt_incoming_free(&in);
  MUST(bt_relay_client_committed(bob.client, e.id));
  bt_relay_event_free(&e);
  n = drain(&bob, out, 8);
  uint8_t twice[2][16];
  memcpy(twice[0], id2, 16);
  memcpy(twice[1], id2, 16);
  CHECK(n == 1 && is_ack(&out[0], twice, 2));
  free_all(out, n);

  bt_buffer_free(&wire1);
  bt_buffer_free(&wire2);
  bt_buffer_free(&bob_prekeys.upload);
  bt_relay_client_free(alice.client);
  bt_relay_client_free(bob.client);
  bt_account_free(alice.account);
  bt_account_free(bob.account);
}

static void test_requests_refusals_and_bad_frames(void) {
  const uint8_t key[32] = {9};
  device carol = {"carol", NULL, NULL};
  bt_buffer out[8];
  size_t n;
  uint32_t devices_request = 0, upload_request = 0;
  MUST(bt_account_create_memory(key, 32, &small, &carol.account));
  MUST(bt_relay_client_new((const uint8_t *)"carol", 5, 1, NULL, 0, NULL, &carol.client));

  /* Feeding a frame before the socket is open. */
  frame w = welcome(0);
  CHECK_STATUS(bt_relay_client_receive(carol.client, carol.account, w.b, w.len),
               BT_RELAY_NOT_CONNECTED);

  /* Requests made offline go out after authentication, in order. */
  MUST(bt_relay_client_fetch_devices(carol.client, (const uint8_t *)"dave", 4, &devices_request));
  bt_buffer upload = {NULL, 0};
  MUST(bt_account_prekey_upload(carol.account, &upload));
  MUST(bt_relay_client_upload_prekeys(carol.client, upload.ptr, upload.len, &upload_request));
  bt_buffer_free(&upload);
  CHECK(devices_request != upload_request);
  CHECK(handshake(&carol, 0));
  n = drain(&carol, out, 8);
  CHECK(n == 2 && out[0].ptr[0] == 0x07 && out[1].ptr[0] == 0x04);
  free_all(out, n < 8 ? n : 8);

  CHECK_STATUS(feed(&carol, devices_answer(devices_request)), BT_OK);
  bt_relay_event e = next_event(&carol);
  CHECK(e.kind == BT_RELAY_EVENT_DEVICES && e.request == devices_request && e.device_count == 2 &&
        e.devices[0] == 1 && e.devices[1] == 2 &&
        bytes_equal(e.device_list.ptr, e.device_list.len, "dl!"));
  bt_relay_event_free(&e);
  CHECK_STATUS(feed(&carol, request_error(BT_RELAY_ERROR_INVALID_UPLOAD, upload_request)), BT_OK);
  e = next_event(&carol);
  CHECK(e.kind == BT_RELAY_EVENT_REQUEST_FAILED && e.request == upload_request &&
        e.code == BT_RELAY_ERROR_INVALID_UPLOAD);
  CHECK(strcmp(bt_relay_error_name(e.code), "InvalidUpload") == 0);
  bt_relay_event_free(&e);

  /* A refused send leaves the outbox. */
  uint8_t id[16];
  size_t outbox = 99;
  bt_relay_recipient nobody = {(const uint8_t *)"nobody", 6, 1};
  MUST(bt_relay_client_send(carol.client, &nobody, 1, (const uint8_t *)"opaque", 6, id));
  free_all(out, drain(&carol, out, 8));
  frame refusal = error_frame(BT_RELAY_ERROR_UNKNOWN_RECIPIENT, id, 16);
  CHECK_STATUS(feed(&carol, refusal), BT_OK);
  e = next_event(&carol);
  CHECK(e.kind == BT_RELAY_EVENT_SEND_FAILED && memcmp(e.id, id, 16) == 0 &&
        e.code == BT_RELAY_ERROR_UNKNOWN_RECIPIENT);
  bt_relay_event_free(&e);
  MUST(bt_relay_client_outbox_len(carol.client, &outbox));
  CHECK(outbox == 0);

  /* Values the relay would refuse never enter the outbox. */
  bt_relay_recipient long_user = {(const uint8_t *)"0123456789012345678901234567890123456789"
                                                   "0123456789012345678901234567890123456789",
                                  80, 1};
  CHECK_STATUS(bt_relay_client_send(carol.client, &long_user, 1, (const uint8_t *)"w", 1, id),
               BT_INVALID_ARGUMENT);
  CHECK_STATUS(bt_relay_client_send(carol.client, &nobody, 0, (const uint8_t *)"w", 1, id),
               BT_INVALID_ARGUMENT);
  CHECK_STATUS(bt_relay_client_send(carol.client, NULL, 1, (const uint8_t *)"w", 1, id),
               BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_relay_client_send(carol.client, &nobody, 1, NULL, 0, id), BT_INVALID_ARGUMENT);

  /* A malformed frame from the relay: refused, with an error frame for the relay. */
  const uint8_t garbage[3] = {0xFF, 0x00, 0x01};
  CHECK_STATUS(bt_relay_client_receive(carol.client, carol.account, garbage, 3),
               BT_RELAY_PROTOCOL);
  CHECK(strlen(bt_last_error_message()) > 0);
  n = drain(&carol, out, 8);
  /* Error(Malformed) about the connection: 0f 13 01 14 00 */
  CHECK(n == 1 && out[0].len == 5 && out[0].ptr[0] == 0x0F && out[0].ptr[2] == 0x01 &&
        out[0].ptr[4] == 0x00);
  free_all(out, n < 8 ? n : 8);
  /* A frame out of place (a second welcome) likewise. */
  CHECK_STATUS(feed(&carol, welcome(0)), BT_RELAY_PROTOCOL);
  free_all(out, drain(&carol, out, 8));
  /* A fatal error from the relay is an event. */
  CHECK_STATUS(feed(&carol, error_frame(BT_RELAY_ERROR_FLOOD, NULL, 0)), BT_OK);
  e = next_event(&carol);
  CHECK(e.kind == BT_RELAY_EVENT_CONNECTION_FAILED && e.code == BT_RELAY_ERROR_FLOOD);
  bt_relay_event_free(&e);
  e = next_event(&carol);
  CHECK(e.kind == BT_RELAY_EVENT_NONE);

  /* Nulls. */
  uint32_t st = 0;
  bt_buffer b;
  CHECK_STATUS(bt_relay_client_state(NULL, &st), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_relay_client_poll_transmit(carol.client, NULL), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_relay_client_poll_transmit(NULL, &b), BT_NULL_ARGUMENT);
  CHECK(b.ptr == NULL && b.len == 0);
  CHECK_STATUS(bt_relay_client_receive(carol.client, NULL, garbage, 3), BT_NULL_ARGUMENT);
  CHECK_STATUS(bt_relay_client_committed(carol.client, NULL), BT_NULL_ARGUMENT);
  CHECK(strcmp(bt_status_name(BT_RELAY_PROTOCOL), "BT_RELAY_PROTOCOL") == 0);
  bt_relay_event_free(NULL);
  bt_relay_client_free(NULL);

  bt_relay_client_free(carol.client);
  bt_account_free(carol.account);
}

int main(void) {
  test_conversation_over_the_fake_relay();
  test_requests_refusals_and_bad_frames();
  printf("%d passed, %d failed\n", checks_passed, checks_failed);
  return checks_failed == 0 ? 0 : 1;
}
