/* Bare-metal memory benchmark: block copy and fill, the loops libc's memcpy,
 * memset and memmove reduce to. Each round, for buffers of 64 B, 1 KiB,
 * 16 KiB and 256 KiB (repeated so each size moves about the same number of
 * bytes): an unrolled 64-bit word copy, a byte copy at a misaligned offset,
 * a word fill, a byte fill, an overlapping backward move and a word-sum pass
 * that folds the result into the checksum. Prints one checksum (identical on
 * every correct emulator) and exits 0.
 *
 * ROUNDS (-DROUNDS=n) scales the run time; the default is sized for about
 * 1-2 s on QEMU 7.2 TCG. */
#include "lib.h"

#ifndef ROUNDS
#define ROUNDS 240
#endif

#define BIG (256 * 1024)
static uint64_t src_w[BIG / 8 + 64];
static uint64_t dst_w[BIG / 8 + 64];

#define NOINLINE __attribute__((noinline))

static uint64_t lcg_state;
static inline uint64_t lcg(void) {
  lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return lcg_state;
}

/* 64-bit word copy, unrolled by 4 (n is a multiple of 32 bytes). */
static NOINLINE void copy_words(uint64_t *d, const uint64_t *s, size_t n) {
  for (size_t i = 0; i < n / 8; i += 4) {
    uint64_t a = s[i], b = s[i + 1], c = s[i + 2], e = s[i + 3];
    d[i] = a;
    d[i + 1] = b;
    d[i + 2] = c;
    d[i + 3] = e;
  }
}

static NOINLINE void copy_bytes(uint8_t *d, const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) d[i] = s[i];
}

static NOINLINE void fill_words(uint64_t *d, uint64_t v, size_t n) {
  for (size_t i = 0; i < n / 8; i += 2) {
    d[i] = v;
    d[i + 1] = v;
  }
}

static NOINLINE void fill_bytes(uint8_t *d, uint8_t v, size_t n) {
  for (size_t i = 0; i < n; i++) d[i] = v;
}

/* memmove with dst > src (overlapping): copies from the end, 32-bit words. */
static NOINLINE void move_back_u32(uint32_t *d, const uint32_t *s, size_t n) {
  for (size_t i = n / 4; i-- > 0;) d[i] = s[i];
}

static NOINLINE uint64_t sum_words(const uint64_t *p, size_t n) {
  uint64_t a = 0, b = 0;
  for (size_t i = 0; i < n / 8; i += 2) {
    a += p[i];
    b ^= p[i + 1];
  }
  return a ^ (b << 1 | b >> 63);
}

static const size_t sizes[] = {64, 1024, 16 * 1024, BIG};

int main(void) {
  println("memops: start");
  lcg_state = 42;
  for (size_t i = 0; i < ARRAY_SIZE(src_w); i++) src_w[i] = lcg();
  uint64_t checksum = 0;
  uint8_t *src_b = (uint8_t *)src_w, *dst_b = (uint8_t *)dst_w;
  for (int round = 0; round < ROUNDS; round++) {
    for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
      size_t n = sizes[k];
      size_t reps = BIG / n;
      size_t off = (size_t)(round * 7 + k) % 61;     /* byte offset: misaligned copies */
      size_t woff = (size_t)(round + k) % 32;        /* word offset */
      for (size_t r = 0; r < reps; r++) {
        copy_words(dst_w + woff, src_w + (r & 31), n);
        checksum += dst_w[woff + (r % (n / 8))];
      }
      for (size_t r = 0; r < reps / 4 + 1; r++) copy_bytes(dst_b + off, src_b + 3 + (r & 15), n);
      checksum = checksum * 31 + sum_words(dst_w, n);
      for (size_t r = 0; r < reps; r++) fill_words(dst_w + (r & 7), lcg() ^ checksum, n);
      checksum ^= sum_words(dst_w, n);
      for (size_t r = 0; r < reps / 4 + 1; r++) fill_bytes(dst_b + off + (r & 3), (uint8_t)(round + r), n);
      checksum = checksum * 31 + sum_words(dst_w, n);
      copy_words(dst_w, src_w + round % 64, n);
      move_back_u32((uint32_t *)dst_b + 1 + (k & 3), (const uint32_t *)dst_b, n - 64);
      checksum ^= sum_words(dst_w, n) + n;
    }
    /* Let the source evolve so no round repeats the previous one's data. */
    src_w[round % (BIG / 8)] ^= checksum;
  }
  print("memops: rounds=");
  print_udec(ROUNDS);
  print(" checksum=");
  print_hex(checksum);
  nl();
  return 0;
}
