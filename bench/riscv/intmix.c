/* Bare-metal integer benchmark: the kind of code compiled C spends its time
 * in. Each round: LCG fill of an array, CRC32 (table driven) over it, FNV-1a
 * hashing, an insertion sort of a small slice and a quicksort of the whole
 * array, a binary-search pass, and a 64-bit multiply/divide/remainder mix.
 * Prints one checksum (identical on every correct emulator) and exits 0.
 *
 * ROUNDS (-DROUNDS=n) scales the run time; the default is sized for about
 * 2-3 s on QEMU 7.2 TCG. */
#include "lib.h"

/* The name it reports (intmix-nocsr is this program started without CSR writes). */
#ifndef WORKLOAD_NAME
#define WORKLOAD_NAME "intmix"
#endif

#ifndef ROUNDS
#define ROUNDS 1200
#endif

#define N 8192
static uint32_t data[N];
static uint32_t crc_table[256];

static uint64_t lcg_state;
static inline uint32_t lcg(void) {
  lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg_state >> 33);
}

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc32(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

static uint64_t fnv1a(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

static void insertion_sort(uint32_t *a, int n) {
  for (int i = 1; i < n; i++) {
    uint32_t v = a[i];
    int j = i - 1;
    while (j >= 0 && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

static void quicksort(uint32_t *a, int lo, int hi) {
  while (hi - lo > 16) {
    uint32_t pivot = a[lo + (hi - lo) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        uint32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    /* recurse into the smaller half, loop on the larger */
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
  insertion_sort(a + lo, hi - lo + 1);
}

static int bsearch_u32(const uint32_t *a, int n, uint32_t key) {
  int lo = 0, hi = n - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    if (a[mid] == key) return mid;
    if (a[mid] < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

static uint64_t muldiv_mix(uint64_t seed, int iters) {
  uint64_t x = seed, acc = 0;
  for (int i = 0; i < iters; i++) {
    x = x * 0x9e3779b97f4a7c15ULL + (uint64_t)i;
    uint64_t d = (x >> 40) | 1;
    acc += x / d;
    acc ^= x % 1000003;
    acc += (uint64_t)((int64_t)x / -((int64_t)(d & 0xffff) | 1));
    acc = (acc << 7) | (acc >> 57);
  }
  return acc;
}

int main(void) {
  println("intmix: start");
  crc_init();
  uint64_t checksum = 0;
  lcg_state = 12345;
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < N; i++) data[i] = lcg();
    checksum += crc32((const uint8_t *)data, sizeof data);
    checksum ^= fnv1a((const uint8_t *)data, sizeof data);
    insertion_sort(data, 256);
    quicksort(data, 0, N - 1);
    for (int i = 1; i < N; i++) {
      if (data[i - 1] > data[i]) {
        println("intmix: sort FAILED");
        return 1;
      }
    }
    int found = 0;
    for (int i = 0; i < N; i += 7) found += bsearch_u32(data, N, data[i]) >= 0;
    for (int i = 0; i < 512; i++) found += bsearch_u32(data, N, lcg()) >= 0;
    checksum = checksum * 31 + (uint64_t)found;
    checksum ^= muldiv_mix(checksum, 20000);
  }
  print(WORKLOAD_NAME ": rounds=");
  print_udec(ROUNDS);
  print(" checksum=");
  print_hex(checksum);
  nl();
  return 0;
}
