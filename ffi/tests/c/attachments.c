/* The C suite for attachments (spec §13) through the C ABI alone: chunk-at-a-time
 * encryption and decryption with odd input sizes, every rejection the decryptor names
 * (flipped byte, truncation, extra data, wrong digest, wrong size, pointer length), random
 * access to one chunk, and the file-to-file calls, which leave no output on failure.
 * Prints "N passed, M failed" last and exits non-zero on any failure. */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bluetick.h"
/* check.h also carries the conversation suite's relay helpers, unused here. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "check.h"

#define SIZE (3 * BT_ATTACHMENT_CHUNK_LEN + 1234)

static char tmpdir[] = "/tmp/bluetick-attachments-XXXXXX";

/* A growable byte array. */
typedef struct {
  uint8_t *ptr;
  size_t len;
} bytes;

static void append(bytes *b, const uint8_t *p, size_t n) {
  if (n == 0) return;
  uint8_t *grown = realloc(b->ptr, b->len + n);
  if (grown == NULL) abort();
  memcpy(grown + b->len, p, n);
  b->ptr = grown;
  b->len += n;
}

/* Encrypts `data` feeding it `step` bytes at a time; the blob goes to `blob`. */
static bt_status encrypt_all(const uint8_t *data, size_t len, size_t step, bytes *blob,
                             uint8_t pointer[BT_ATTACHMENT_POINTER_LEN]) {
  static uint8_t out[BT_ATTACHMENT_SEALED_CHUNK_LEN];
  bt_attachment_encryptor *enc = NULL;
  bt_status s = bt_attachment_encryptor_new(&enc);
  if (s != BT_OK) return s;
  size_t at = 0;
  while (at < len) {
    size_t piece = len - at < step ? len - at : step;
    const uint8_t *p = data + at;
    while (piece > 0) {
      size_t used = 0, n = 0;
      s = bt_attachment_encryptor_update(enc, p, piece, &used, out, sizeof out, &n);
      if (s != BT_OK) goto done;
      append(blob, out, n);
      p += used;
      piece -= used;
      at += used;
    }
  }
  size_t n = 0;
  s = bt_attachment_encryptor_finish(enc, out, sizeof out, &n, pointer);
  if (s == BT_OK) append(blob, out, n);
done:
  bt_attachment_encryptor_free(enc);
  return s;
}

/* Decrypts `blob` feeding it `step` bytes at a time; returns the verdict. */
static bt_status decrypt_all(const uint8_t *pointer, size_t pointer_len, const uint8_t *blob,
                             size_t len, size_t step, bytes *plain) {
  static uint8_t out[BT_ATTACHMENT_CHUNK_LEN];
  bt_attachment_decryptor *dec = NULL;
  bt_status s = bt_attachment_decryptor_new(pointer, pointer_len, &dec);
  if (s != BT_OK) return s;
  size_t at = 0;
  while (at < len) {
    size_t piece = len - at < step ? len - at : step;
    const uint8_t *p = blob + at;
    while (piece > 0) {
      size_t used = 0, n = 0;
      s = bt_attachment_decryptor_update(dec, p, piece, &used, out, sizeof out, &n);
      if (s != BT_OK) goto done;
      append(plain, out, n);
      p += used;
      piece -= used;
      at += used;
    }
  }
  size_t n = 0;
  s = bt_attachment_decryptor_finish(dec, out, sizeof out, &n);
  if (s == BT_OK) append(plain, out, n);
done:
  bt_attachment_decryptor_free(dec);
  return s;
}

static uint8_t *media(size_t len) {
  uint8_t *m = malloc(len ? len : 1);
  if (m == NULL) abort();
  for (size_t i = 0; i < len; i++) m[i] = (uint8_t)(i % 251);
  return m;
}

static void test_round_trips(void) {
  const size_t sizes[] = {0, 1, BT_ATTACHMENT_CHUNK_LEN - 1, BT_ATTACHMENT_CHUNK_LEN,
                          BT_ATTACHMENT_CHUNK_LEN + 1, SIZE};
  const size_t steps[] = {1000, 65536, 100000};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    uint8_t *data = media(sizes[i]);
    bytes blob = {NULL, 0}, plain = {NULL, 0};
    uint8_t pointer[BT_ATTACHMENT_POINTER_LEN];
    CHECK_STATUS(encrypt_all(data, sizes[i], steps[i % 3], &blob, pointer), BT_OK);
    size_t chunks = sizes[i] == 0 ? 1 : (sizes[i] + BT_ATTACHMENT_CHUNK_LEN - 1) /
                                            BT_ATTACHMENT_CHUNK_LEN;
    CHECK(blob.len == sizes[i] + 16 * chunks);
    CHECK_STATUS(decrypt_all(pointer, sizeof pointer, blob.ptr, blob.len, steps[(i + 1) % 3],
                             &plain),
                 BT_OK);
    CHECK(plain.len == sizes[i] && (sizes[i] == 0 || memcmp(plain.ptr, data, sizes[i]) == 0));
    free(blob.ptr);
    free(plain.ptr);
    free(data);
  }
}

static void test_rejections(void) {
  uint8_t *data = media(SIZE);
  bytes blob = {NULL, 0};
  uint8_t pointer[BT_ATTACHMENT_POINTER_LEN];
  if (encrypt_all(data, SIZE, 4096, &blob, pointer) != BT_OK) {
    CHECK(0);
    return;
  }
  bytes plain = {NULL, 0};

  /* A flipped byte in chunk 2: chunks 0 and 1 came out, nothing after. */
  blob.ptr[2 * BT_ATTACHMENT_SEALED_CHUNK_LEN + 5] ^= 0x01;
  CHECK_STATUS(decrypt_all(pointer, sizeof pointer, blob.ptr, blob.len, 9999, &plain),
               BT_AUTHENTICATION_FAILED);
  CHECK(plain.len == 2 * BT_ATTACHMENT_CHUNK_LEN);
  CHECK(memcmp(plain.ptr, data, plain.len) == 0);
  CHECK(strstr(bt_last_error_message(), "chunk 2") != NULL);
  blob.ptr[2 * BT_ATTACHMENT_SEALED_CHUNK_LEN + 5] ^= 0x01;
  free(plain.ptr);
  plain = (bytes){NULL, 0};

  CHECK_STATUS(decrypt_all(pointer, sizeof pointer, blob.ptr, blob.len - 1, 9999, &plain),
               BT_TRUNCATED);
  CHECK(plain.len <= 3 * BT_ATTACHMENT_CHUNK_LEN);
  free(plain.ptr);
  plain = (bytes){NULL, 0};

  uint8_t extra = 0;
  append(&blob, &extra, 1);
  CHECK_STATUS(decrypt_all(pointer, sizeof pointer, blob.ptr, blob.len, 9999, &plain),
               BT_TRAILING_BYTES);
  blob.len -= 1;
  free(plain.ptr);
  plain = (bytes){NULL, 0};

  /* Wrong digest: every chunk verifies, the final one is withheld. */
  pointer[71] ^= 0x01;
  CHECK_STATUS(decrypt_all(pointer, sizeof pointer, blob.ptr, blob.len, 9999, &plain),
               BT_DIGEST_MISMATCH);
  CHECK(plain.len == 3 * BT_ATTACHMENT_CHUNK_LEN);
  pointer[71] ^= 0x01;
  free(plain.ptr);
  plain = (bytes){NULL, 0};

  /* Wrong size: one byte more than the real one (big-endian u64 at 32..40). */
  pointer[39] ^= 0x01;
  CHECK_STATUS(decrypt_all(pointer, sizeof pointer, blob.ptr, blob.len, 9999, &plain),
               BT_SIZE_MISMATCH);
  pointer[39] ^= 0x01;
  free(plain.ptr);
  plain = (bytes){NULL, 0};

  /* Pointers of the wrong length, and over the size limit. */
  bt_attachment_decryptor *dec = (bt_attachment_decryptor *)&extra;
  CHECK_STATUS(bt_attachment_decryptor_new(pointer, 71, &dec), BT_TRUNCATED);
  CHECK(dec == NULL);
  CHECK_STATUS(bt_attachment_decryptor_new(pointer, 0, &dec), BT_TRUNCATED);
  uint8_t longer[BT_ATTACHMENT_POINTER_LEN + 1] = {0};
  memcpy(longer, pointer, sizeof pointer);
  CHECK_STATUS(bt_attachment_decryptor_new(longer, sizeof longer, &dec), BT_TRAILING_BYTES);
  uint8_t huge[BT_ATTACHMENT_POINTER_LEN];
  memcpy(huge, pointer, sizeof huge);
  memset(huge + 32, 0xff, 8);
  CHECK_STATUS(bt_attachment_decryptor_new(huge, sizeof huge, &dec), BT_ATTACHMENT_TOO_LARGE);
  CHECK_STATUS(bt_attachment_decryptor_new(NULL, 72, &dec), BT_NULL_ARGUMENT);

  /* Small buffers and spent handles. */
  uint8_t small[16];
  size_t used = 1, n = 1;
  CHECK_STATUS(bt_attachment_decryptor_new(pointer, sizeof pointer, &dec), BT_OK);
  CHECK_STATUS(bt_attachment_decryptor_update(dec, blob.ptr, blob.len, &used, small,
                                              sizeof small, &n),
               BT_BUFFER);
  CHECK(used == 0 && n == 0);
  CHECK_STATUS(bt_attachment_decryptor_update(dec, NULL, 5, &used, small, sizeof small, &n),
               BT_NULL_ARGUMENT);
  static uint8_t out[BT_ATTACHMENT_CHUNK_LEN];
  CHECK_STATUS(bt_attachment_decryptor_finish(dec, out, sizeof out, &n), BT_TRUNCATED);
  CHECK_STATUS(bt_attachment_decryptor_finish(dec, out, sizeof out, &n), BT_INVALID_ARGUMENT);
  bt_attachment_decryptor_free(dec);
  bt_attachment_decryptor_free(NULL);
  bt_attachment_encryptor_free(NULL);
  CHECK_STATUS(bt_attachment_encryptor_update(NULL, NULL, 0, &used, out, sizeof out, &n),
               BT_NULL_ARGUMENT);

  free(blob.ptr);
  free(data);
}

static void test_seeking(void) {
  uint8_t *data = media(SIZE);
  bytes blob = {NULL, 0};
  uint8_t pointer[BT_ATTACHMENT_POINTER_LEN];
  if (encrypt_all(data, SIZE, 65536, &blob, pointer) != BT_OK) {
    CHECK(0);
    return;
  }
  static uint8_t out[BT_ATTACHMENT_CHUNK_LEN];
  for (uint64_t i = 4; i-- > 0;) {
    uint64_t offset = 0, len = 0;
    size_t n = 0;
    CHECK_STATUS(bt_attachment_chunk_range(pointer, sizeof pointer, i, &offset, &len), BT_OK);
    CHECK(offset == i * BT_ATTACHMENT_SEALED_CHUNK_LEN);
    CHECK(len == (i == 3 ? 1234 + 16 : BT_ATTACHMENT_SEALED_CHUNK_LEN));
    CHECK_STATUS(bt_attachment_open_chunk(pointer, sizeof pointer, i, blob.ptr + offset,
                                          (size_t)len, out, sizeof out, &n),
                 BT_OK);
    CHECK(n == len - 16 && memcmp(out, data + i * BT_ATTACHMENT_CHUNK_LEN, n) == 0);
  }
  size_t n = 7;
  /* Chunk 0 presented as chunk 1 fails; so does an index past the end. */
  CHECK_STATUS(bt_attachment_open_chunk(pointer, sizeof pointer, 1, blob.ptr,
                                        BT_ATTACHMENT_SEALED_CHUNK_LEN, out, sizeof out, &n),
               BT_AUTHENTICATION_FAILED);
  CHECK(n == 0);
  uint64_t offset = 1, len = 1;
  CHECK_STATUS(bt_attachment_chunk_range(pointer, sizeof pointer, 4, &offset, &len),
               BT_INVALID_VALUE);
  CHECK(offset == 0 && len == 0);
  CHECK_STATUS(bt_attachment_open_chunk(pointer, sizeof pointer, 0, blob.ptr, 100, out,
                                        sizeof out, &n),
               BT_TRUNCATED);
  free(blob.ptr);
  free(data);
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void test_files(void) {
  char in[128], blob_path[128], back[128], part[140];
  snprintf(in, sizeof in, "%s/in", tmpdir);
  snprintf(blob_path, sizeof blob_path, "%s/blob", tmpdir);
  snprintf(back, sizeof back, "%s/back", tmpdir);
  snprintf(part, sizeof part, "%s/back.part", tmpdir);
  uint8_t *data = media(SIZE);
  FILE *f = fopen(in, "wb");
  if (f == NULL || fwrite(data, 1, SIZE, f) != SIZE || fclose(f) != 0) {
    CHECK(0);
    free(data);
    return;
  }
  uint8_t pointer[BT_ATTACHMENT_POINTER_LEN];
  CHECK_STATUS(bt_attachment_encrypt_file(in, blob_path, pointer), BT_OK);
  CHECK_STATUS(bt_attachment_decrypt_file(pointer, sizeof pointer, blob_path, back), BT_OK);
  uint8_t *got = malloc(SIZE + 1);
  f = fopen(back, "rb");
  size_t n = f ? fread(got, 1, SIZE + 1, f) : 0;
  if (f) fclose(f);
  CHECK(n == SIZE && memcmp(got, data, SIZE) == 0);
  free(got);
  unlink(back);

  /* Corrupt the blob: no output file, no partial file. */
  f = fopen(blob_path, "r+b");
  if (f != NULL) {
    fseek(f, 100, SEEK_SET);
    fputc(0x00, f);
    fseek(f, 101, SEEK_SET);
    fputc(0xff, f);
    fclose(f);
  }
  CHECK_STATUS(bt_attachment_decrypt_file(pointer, sizeof pointer, blob_path, back),
               BT_AUTHENTICATION_FAILED);
  CHECK(!file_exists(back) && !file_exists(part));

  char missing[140];
  snprintf(missing, sizeof missing, "%s/missing", tmpdir);
  CHECK_STATUS(bt_attachment_encrypt_file(missing, blob_path, pointer), BT_IO);
  CHECK_STATUS(bt_attachment_decrypt_file(pointer, sizeof pointer, missing, back), BT_IO);
  CHECK_STATUS(bt_attachment_encrypt_file(NULL, blob_path, pointer), BT_NULL_ARGUMENT);
  unlink(in);
  unlink(blob_path);
  free(data);
}

int main(void) {
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    return 2;
  }
  test_round_trips();
  test_rejections();
  test_seeking();
  test_files();
  rmdir(tmpdir);
  printf("%d passed, %d failed\n", checks_passed, checks_failed);
  return checks_failed == 0 ? 0 : 1;
}
