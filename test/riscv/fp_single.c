/* RV64F arithmetic: fadd/fsub/fmul/fdiv/fsqrt in every rounding mode (static
 * and dynamic), fmin/fmax (incl. -0/+0 and sNaN), sign injection, compares,
 * fclass, fflags after each op; NaN-boxing of single-precision values; invalid
 * rounding modes. */
#include "lib.h"
#include "insn.h"

#define SUF ".s"
#define LOADV(x) BOX(x)

static const uint64_t fvals[] = {
  0x00000000, /* 0: +0 */
  0x80000000, /* 1: -0 */
  0x3f800000, /* 2: 1 */
  0xbf800000, /* 3: -1 */
  0x7f800000, /* 4: +inf */
  0xff800000, /* 5: -inf */
  0x7fc00000, /* 6: canonical qNaN */
  0x7f800001, /* 7: sNaN */
  0xffc12345, /* 8: -qNaN with payload */
  0x00000001, /* 9: min subnormal */
  0x807fffff, /* 10: -max subnormal */
  0x00800000, /* 11: min normal */
  0x7f7fffff, /* 12: max normal */
  0x3eaaaaab, /* 13: 1/3 */
  0x40490fdb, /* 14: pi */
  0x34000000, /* 15: 2^-23 */
  0xc0400000, /* 16: -3 */
  0x3f800001, /* 17: 1 + ulp */
};

static void print_fp(uint64_t r) {
  print_hex32((uint32_t)r);
  if ((r >> 32) != 0xffffffffULL) uart_putc('!');
}

#include "fp_arith_template.h"

/* A value read as single precision whose upper 32 bits are not all ones must
 * behave as the canonical NaN. */
static void test_nan_boxing(void) {
  static const uint64_t unboxed[] = {
    0x000000003f800000ULL, 0xfffffffe3f800000ULL, 0x7fffffff40000000ULL, 0x00000000ffffffffULL,
  };
  for (unsigned i = 0; i < ARRAY_SIZE(unboxed); i++) {
    uint64_t u = unboxed[i];
    print("unboxed "); print_hex(u); nl();
    fflags_clear();
#define SHOW(label, expr) { uint64_t _r = (expr); uint64_t _f = fflags_swap0(); \
      print("  " label " "); print_hex(_r); print_flags(_f); nl(); }
    SHOW("fadd.s", FOP2("fadd.s", u, u))
    SHOW("fadd.s+1", FOP2("fadd.s", u, BOX(0x3f800000)))
    SHOW("fmul.s", FOP2("fmul.s", BOX(0x40000000), u))
    SHOW("fsqrt.s", FOP1("fsqrt.s", u))
    SHOW("fsgnj.s a", FOP2("fsgnj.s", u, BOX(0x80000000)))
    SHOW("fsgnj.s b", FOP2("fsgnj.s", BOX(0x3f800000), u))
    SHOW("fsgnjn.s", FOP2("fsgnjn.s", u, u))
    SHOW("fsgnjx.s", FOP2("fsgnjx.s", BOX(0xbf800000), u))
    SHOW("fmin.s", FOP2("fmin.s", u, BOX(0x3f800000)))
    SHOW("fmax.s", FOP2("fmax.s", BOX(0xbf800000), u))
    SHOW("feq.s", FCMP("feq.s", u, u))
    SHOW("flt.s", FCMP("flt.s", u, BOX(0)))
    SHOW("fle.s", FCMP("fle.s", BOX(0), u))
    SHOW("fclass.s", FTOI("fclass.s", u))
    SHOW("fmv.x.w", FTOI("fmv.x.w", u))
    SHOW("fcvt.d.s", FOP1("fcvt.d.s", u))
    SHOW("fcvt.w.s", FTOI("fcvt.w.s", u))
    SHOW("fcvt.lu.s", FTOI("fcvt.lu.s", u))
    SHOW("fmadd.s", FOP3("fmadd.s", u, BOX(0x3f800000), BOX(0x3f800000)))
    /* fsw stores the low 32 bits as they are */
    volatile uint32_t mem = 0;
    __asm__ volatile("fmv.d.x ft0, %1\n fsw ft0, 0(%0)" :: "r"(&mem), "r"(u) : "ft0", "memory");
    SHOW("fsw", mem)
  }
  /* Producers of single values NaN-box them. */
  volatile uint32_t word = 0x40400000;
  uint64_t r;
  __asm__ volatile("flw ft0, 0(%1)\n fmv.x.d %0, ft0" : "=r"(r) : "r"(&word) : "ft0");
  print_kv("flw boxed", r);
  __asm__ volatile("fmv.w.x ft0, %1\n fmv.x.d %0, ft0" : "=r"(r) : "r"(0x1234567880000001ULL) : "ft0");
  print_kv("fmv.w.x boxed", r);
  print_kv("fcvt.s.w boxed", ITOF("fcvt.s.w", 5));
  print_kv("fadd.s boxed", FOP2("fadd.s", BOX(0x3f800000), BOX(0x3f800000)));
  print_kv("fmv.x.w sext", FTOI("fmv.x.w", BOX(0x80000000)));
  print_kv("fmv.x.w pos", FTOI("fmv.x.w", BOX(0x7f800000)));
  fflags_clear();
}

/* fmin/fmax corner cases, explicitly. */
static void test_minmax(void) {
  static const uint32_t pairs[][2] = {
    {0x80000000, 0x00000000}, {0x00000000, 0x80000000}, {0x7fc00000, 0x3f800000},
    {0x3f800000, 0x7fc00000}, {0x7f800001, 0x3f800000}, {0x3f800000, 0x7f800001},
    {0x7f800001, 0x7fc00000}, {0x7fc00000, 0x7fc00000}, {0xffc00000, 0x7f800001},
    {0xff800000, 0x7f800000},
  };
  for (unsigned i = 0; i < ARRAY_SIZE(pairs); i++) {
    uint64_t a = BOX(pairs[i][0]), b = BOX(pairs[i][1]);
    fflags_clear();
    uint64_t mn = FOP2("fmin.s", a, b);
    uint64_t f1 = fflags_swap0();
    uint64_t mx = FOP2("fmax.s", a, b);
    uint64_t f2 = fflags_swap0();
    print("minmax "); print_hex32(pairs[i][0]); uart_putc(' '); print_hex32(pairs[i][1]);
    print(" min="); print_fp(mn); print_flags(f1);
    print(" max="); print_fp(mx); print_flags(f2); nl();
  }
}

/* Reserved rounding modes: static rm 5/6, or dyn with frm >= 5, are illegal. */
static void test_invalid_rm(void) {
  trap_expect_begin();
  __asm__ volatile(".insn r 0x53, 5, 0x00, ft2, ft0, ft1" ::: "ft2"); /* fadd.s rm=5 */
  trap_expect_end();
  print("fadd.s rm=5:"); print_trap_result(); nl();
  trap_expect_begin();
  __asm__ volatile(".insn r 0x53, 6, 0x08, ft2, ft0, ft1" ::: "ft2"); /* fmul.s rm=6 */
  trap_expect_end();
  print("fmul.s rm=6:"); print_trap_result(); nl();
  for (unsigned frm = 4; frm < 8; frm++) {
    csr_write(frm, frm);
    trap_expect_begin();
    __asm__ volatile("fadd.s ft2, ft0, ft1, dyn" ::: "ft2");
    trap_expect_end();
    print("fadd.s dyn frm="); print_udec(frm); print(":"); print_trap_result(); nl();
    trap_expect_begin();
    __asm__ volatile("fsgnj.s ft2, ft0, ft1" ::: "ft2"); /* no rm field: fine */
    trap_expect_end();
    print("fsgnj.s frm="); print_udec(frm); print(":"); print_trap_result(); nl();
    trap_expect_begin();
    __asm__ volatile(".insn r 0x53, 7, 0x21, ft2, ft0, f0" ::: "ft2"); /* fcvt.d.s, rm=dyn */
    trap_expect_end();
    print("fcvt.d.s dyn frm="); print_udec(frm); print(":"); print_trap_result(); nl();
  }
  csr_write(frm, 0);
  fflags_clear();
}

int main(void) {
  println("== fp_single ==");
  run_fp_arith_tests();
  test_nan_boxing();
  test_minmax();
  test_invalid_rm();
  println("fp_single: done");
  return 0;
}
