/* RV64D arithmetic: fadd/fsub/fmul/fdiv/fsqrt in every rounding mode (static
 * and dynamic), fmin/fmax, sign injection, compares, fclass, fflags after each
 * op; D-specific loads/stores and moves; single values seen by D ops. */
#include "lib.h"
#include "insn.h"

#define SUF ".d"
#define LOADV(x) (x)

static const uint64_t fvals[] = {
  0x0000000000000000ULL, /* 0: +0 */
  0x8000000000000000ULL, /* 1: -0 */
  0x3ff0000000000000ULL, /* 2: 1 */
  0xbff0000000000000ULL, /* 3: -1 */
  0x7ff0000000000000ULL, /* 4: +inf */
  0xfff0000000000000ULL, /* 5: -inf */
  0x7ff8000000000000ULL, /* 6: canonical qNaN */
  0x7ff0000000000001ULL, /* 7: sNaN */
  0xfff8000000012345ULL, /* 8: -qNaN with payload */
  0x0000000000000001ULL, /* 9: min subnormal */
  0x800fffffffffffffULL, /* 10: -max subnormal */
  0x0010000000000000ULL, /* 11: min normal */
  0x7fefffffffffffffULL, /* 12: max normal */
  0x3fd5555555555555ULL, /* 13: 1/3 */
  0x400921fb54442d18ULL, /* 14: pi */
  0x3cb0000000000000ULL, /* 15: 2^-52 */
  0xc008000000000000ULL, /* 16: -3 */
  0x3ff0000000000001ULL, /* 17: 1 + ulp */
};

static void print_fp(uint64_t r) { print_hex(r); }

#include "fp_arith_template.h"

static void test_minmax(void) {
  static const uint64_t pairs[][2] = {
    {0x8000000000000000ULL, 0}, {0, 0x8000000000000000ULL},
    {0x7ff8000000000000ULL, 0x3ff0000000000000ULL}, {0x3ff0000000000000ULL, 0x7ff0000000000001ULL},
    {0x7ff0000000000001ULL, 0x7ff0000000000001ULL}, {0xfff8000000000000ULL, 0x7ff8000000000000ULL},
  };
  for (unsigned i = 0; i < ARRAY_SIZE(pairs); i++) {
    fflags_clear();
    uint64_t mn = FOP2("fmin.d", pairs[i][0], pairs[i][1]);
    uint64_t f1 = fflags_swap0();
    uint64_t mx = FOP2("fmax.d", pairs[i][0], pairs[i][1]);
    uint64_t f2 = fflags_swap0();
    print("minmax "); print_hex(pairs[i][0]); uart_putc(' '); print_hex(pairs[i][1]);
    print(" min="); print_hex(mn); print_flags(f1);
    print(" max="); print_hex(mx); print_flags(f2); nl();
  }
}

static void test_loadstore(void) {
  static volatile uint64_t mem[4] = {0x400921fb54442d18ULL, 0x7ff0000000000001ULL, 0, 0};
  uint64_t r;
  /* fld/fsd move bits untouched (sNaN stays sNaN, no flags) */
  fflags_clear();
  __asm__ volatile("fld ft0, 8(%1)\n fsd ft0, 16(%1)\n fld ft1, 0(%1)\n fsd ft1, 24(%1)\n ld %0, 16(%1)"
                   : "=r"(r) : "r"(mem) : "ft0", "ft1", "memory");
  print_kv("fld/fsd snan", r);
  print_kv("fld/fsd pi", mem[3]);
  print_kv("fld/fsd flags", fflags_swap0());
  /* fmv.x.d / fmv.d.x are raw moves */
  print_kv("fmv.x.d", FTOI("fmv.x.d", 0xfff0000000000001ULL));
  print_kv("fmv.d.x", ITOF("fmv.d.x", 0x7ff4000000000000ULL));
  /* flw into a register then read as double: NaN-boxed pattern is a NaN */
  volatile uint32_t w = 0x3f800000;
  __asm__ volatile("flw ft0, 0(%1)\n fadd.d ft0, ft0, ft0\n fmv.x.d %0, ft0" : "=r"(r) : "r"(&w) : "ft0");
  print_kv("fadd.d of boxed single", r);
  print_kv("fadd.d of boxed single flags", fflags_swap0());
}

int main(void) {
  println("== fp_double ==");
  run_fp_arith_tests();
  test_minmax();
  test_loadstore();
  println("fp_double: done");
  return 0;
}
