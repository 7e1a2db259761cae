/* Bare-metal 64-bit multiply/divide benchmark (the M extension's RV64 half).
 * Each round: a wyhash-style mixer (mul + mulhu through unsigned __int128),
 * signed high products (mulh, mulhsu), 128-bit modular multiplication and
 * exponentiation (libgcc's __umodti3 on top of mul/mulhu/divu), Euclid's gcd
 * (remu), signed and unsigned division and remainder by variable divisors of
 * every magnitude, the 32-bit W forms, decimal conversion (division by
 * constants, which gcc turns into mulhu), and the RISC-V edge cases division by
 * zero and INT64_MIN / -1 through inline asm. Prints one checksum (identical
 * on every correct emulator) and exits 0.
 *
 * ROUNDS (-DROUNDS=n) scales the run time; the default is sized for about
 * 1-2 s on QEMU 7.2 TCG. */
#include "lib.h"

#ifndef ROUNDS
#define ROUNDS 120
#endif

#define NOINLINE __attribute__((noinline))
typedef unsigned __int128 u128;
typedef __int128 i128;

static uint64_t wy_state;
static inline uint64_t wymix(uint64_t a, uint64_t b) {
  u128 r = (u128)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
}
static inline uint64_t wyrand(void) {
  wy_state += 0xa0761d6478bd642fULL;
  return wymix(wy_state, wy_state ^ 0xe7037ed1a0b428dbULL);
}

static NOINLINE uint64_t high_products(int n) {
  uint64_t acc = 0;
  for (int i = 0; i < n; i++) {
    uint64_t a = wyrand(), b = wyrand();
    int64_t sa = (int64_t)a, sb = (int64_t)b;
    acc += (uint64_t)(((i128)sa * sb) >> 64);           /* mulh */
    acc ^= (uint64_t)(((i128)sa * (i128)(u128)b) >> 64); /* mulhsu */
    acc += (uint64_t)(((u128)a * b) >> 64);             /* mulhu */
    acc = acc * 0x9e3779b97f4a7c15ULL + (a * b);        /* mul */
  }
  return acc;
}

static NOINLINE uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) {
  return (uint64_t)(((u128)a * b) % m);
}

static NOINLINE uint64_t powmod(uint64_t b, uint64_t e, uint64_t m) {
  uint64_t r = 1 % m;
  b %= m;
  while (e) {
    if (e & 1) r = mulmod(r, b, m);
    b = mulmod(b, b, m);
    e >>= 1;
  }
  return r;
}

static NOINLINE uint64_t gcd(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* Division by divisors of every magnitude: shift a random value right by a
 * random amount so quotients range from 0 to 2^64. */
static NOINLINE uint64_t divisions(int n) {
  uint64_t acc = 0;
  for (int i = 0; i < n; i++) {
    uint64_t a = wyrand(), r = wyrand();
    uint64_t d = (r >> (r & 63)) | 1;
    int64_t sa = (int64_t)a, sd = (int64_t)(d ^ (r & 0x8000000000000000ULL));
    if (sd == -1) sd = 3;
    acc += a / d;
    acc ^= a % d;
    acc += (uint64_t)(sa / sd);
    acc ^= (uint64_t)(sa % sd);
    /* W forms: divw, divuw, remw, remuw */
    int32_t wa = (int32_t)a, wd = (int32_t)d | 1;
    if (wd == -1) wd = 5;
    acc += (uint64_t)(int64_t)(wa / wd) + (uint32_t)a / ((uint32_t)d | 1);
    acc ^= (uint64_t)(int64_t)(wa % wd) + (uint32_t)a % ((uint32_t)d | 1);
    acc = acc << 3 | acc >> 61;
  }
  return acc;
}

/* RISC-V defines the cases C leaves undefined. */
static NOINLINE uint64_t edge_cases(uint64_t x) {
  uint64_t q, r, s = 0;
  uint64_t zero = 0, minus1 = (uint64_t)-1, min = 0x8000000000000000ULL;
  __asm__ volatile("div %0, %1, %2" : "=r"(q) : "r"(x), "r"(zero));
  __asm__ volatile("rem %0, %1, %2" : "=r"(r) : "r"(x), "r"(zero));
  s += q ^ r;
  __asm__ volatile("divu %0, %1, %2" : "=r"(q) : "r"(x), "r"(zero));
  __asm__ volatile("remu %0, %1, %2" : "=r"(r) : "r"(x), "r"(zero));
  s += q ^ (r << 1);
  __asm__ volatile("div %0, %1, %2" : "=r"(q) : "r"(min), "r"(minus1));
  __asm__ volatile("rem %0, %1, %2" : "=r"(r) : "r"(min), "r"(minus1));
  s += q + r;
  __asm__ volatile("divw %0, %1, %2" : "=r"(q) : "r"(x), "r"(zero));
  __asm__ volatile("remuw %0, %1, %2" : "=r"(r) : "r"(x), "r"(zero));
  s ^= q + r;
  __asm__ volatile("divw %0, %1, %2" : "=r"(q) : "r"(0xffffffff80000000ULL), "r"(minus1));
  __asm__ volatile("remw %0, %1, %2" : "=r"(r) : "r"(0x80000000ULL), "r"(minus1));
  s += q ^ r;
  return s;
}

static NOINLINE uint64_t decimal_digits(uint64_t v, int n) {
  uint64_t acc = 0;
  for (int i = 0; i < n; i++) {
    uint64_t x = v + (uint64_t)i * 0x10000000001ULL;
    while (x) {
      acc = acc * 7 + x % 10;
      x /= 10;
    }
    acc ^= (uint64_t)((int64_t)v / 1000 + (int64_t)v % 3);
  }
  return acc;
}

int main(void) {
  println("muldiv64: start");
  wy_state = 0x0123456789abcdefULL;
  uint64_t checksum = 0;
  /* Moduli below 2^63 for powmod; a few are prime. */
  static const uint64_t moduli[] = {
    1000000007ULL, 998244353ULL, 0x7fffffffffffffe7ULL, 0x1fffffffffffffffULL, 1ULL << 61 | 1, 4294967311ULL,
  };
  for (int round = 0; round < ROUNDS; round++) {
    checksum += high_products(40000);
    checksum ^= divisions(40000);
    for (int k = 0; k < 400; k++) {
      uint64_t m = moduli[k % ARRAY_SIZE(moduli)];
      checksum = checksum * 31 + powmod(wyrand(), wyrand() >> (k & 31), m);
    }
    for (int k = 0; k < 4000; k++) checksum += gcd(wyrand() >> (k & 15), wyrand() >> (k & 7));
    checksum ^= decimal_digits(checksum, 4000);
    checksum += edge_cases(checksum);
  }
  print("muldiv64: rounds=");
  print_udec(ROUNDS);
  print(" checksum=");
  print_hex(checksum);
  nl();
  return 0;
}
