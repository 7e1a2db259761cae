/* The block cache key must hold every mode bit the translator reads. The same FP
 * function runs with mstatus.FS on (it works), off (the very same code must now trap
 * as illegal), and on again (it works again, and FS reads back Dirty). A cache keyed by
 * pc alone would reuse the first translation and never trap. */
#include "lib.h"

static uint64_t __attribute__((noinline)) fp_work(uint64_t x) {
  uint64_t r;
  __asm__ volatile("fmv.d.x ft0, %1\n\tfadd.d ft0, ft0, ft0\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"(x) : "ft0");
  return r;
}

static void run(const char *label, uint64_t x) {
  trap_expect_begin();
  uint64_t r = fp_work(x);
  trap_expect_end();
  print(label);
  print(" result=");
  print_hex(trap_count ? 0 : r);
  print_trap_result();
  nl();
}

int main(void) {
  const uint64_t three = 0x4008000000000000ull; /* 3.0 */
  for (int i = 0; i < 3; i++) run("FS on ", three);
  __asm__ volatile("csrc mstatus, %0" :: "r"(3ul << 13));
  for (int i = 0; i < 3; i++) run("FS off", three);
  __asm__ volatile("csrs mstatus, %0" :: "r"(1ul << 13)); /* Initial */
  run("FS initial", three);
  uint64_t ms;
  __asm__ volatile("csrr %0, mstatus" : "=r"(ms));
  print_kv("FS after FP write", (ms >> 13) & 3);
  print_kv("SD", ms >> 63);
  return 0;
}
