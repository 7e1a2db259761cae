/* A program that starts as the hart comes out of reset and never writes a CSR
 * (crt.S built with CRT_NO_CSR: no trap vector, mstatus untouched, FS Off).
 * Its loop makes a known number of RAM accesses: ROUNDS * N loads and as many
 * stores. test/reset-state.test.ts runs it on qemu-ts and checks that the
 * compiled loop hits the soft TLB, i.e. that the translation flags computed at
 * reset name the MMU index that the slow path fills. */
// build-flags: -DCRT_NO_CSR
#include "lib.h"

#define N 4096
#define ROUNDS 64
/* Page-aligned: stores to a page that also holds code take the slow path by design. */
static uint32_t data[N] __attribute__((aligned(4096)));

int main(void) {
  uint32_t x = 12345;
  for (int i = 0; i < N; i++) {
    x = x * 1103515245u + 12345u;
    data[i] = x;
  }
  uint32_t sum = 0;
  for (int r = 0; r < ROUNDS; r++) {
    for (int i = 0; i < N; i++) {
      uint32_t v = data[i];           /* one load */
      sum = sum * 31 + (v >> (r & 7));
      data[i] = v ^ sum;              /* one store */
    }
  }
  println("== reset_state ==");
  print("checksum=");
  print_hex(sum);
  nl();
  return 0;
}
