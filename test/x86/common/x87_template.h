/* Shared by x87.c (32-bit) and x87_64.c (64-bit): the x87 FPU, printing raw
 * bit patterns only (80-bit values as "sign+exponent:mantissa" hex).
 * Status words are printed masked to the exception flags, C0-C3 and TOP
 * where the instruction defines them.
 *
 * Exception flags are printed as SW & 0x3d: QEMU 7.2 never sets DE
 * (denormal operand, 0x02), hardware does. Also masked because QEMU 7.2
 * differs from hardware: FCOMI/FUCOMIP leave OF SF AF as they were (only ZF
 * PF CF printed), FPREM1 does not report the quotient bits C0 C3 C1 (only
 * C2 printed for it).
 *
 * Transcendentals: QEMU 7.2 computes FSIN/FCOS/FSINCOS/FPTAN through the
 * host's double-precision libm, so their results are printed rounded to
 * single precision (FSTPS) except for exact cases; F2XM1/FYL2X/FYL2XP1/
 * FPATAN are printed exactly only where the result is exact, else rounded
 * to double precision, with PE masked (hardware raises it even for exact
 * results such as F2XM1(1), QEMU does not). Near pi, FSIN on hardware
 * reduces with its 66-bit pi and differs from QEMU's (libm) result, which is
 * the one recorded. */
#ifndef X87_TEMPLATE_H
#define X87_TEMPLATE_H
#include "lib.h"

typedef struct __attribute__((packed, aligned(2))) {
  uint64_t m;
  uint16_t se;
} f80;

#define F80(se_, m_) { (m_), (se_) }
#define XF(sw) ((sw) & 0x3d)   /* exception flags except DE */

static const f80 V_ONE = F80(0x3fff, 0x8000000000000000ULL);
static const f80 V_THREE = F80(0x4000, 0xc000000000000000ULL);
static const f80 V_M7 = F80(0xc001, 0xe000000000000000ULL);
static const f80 V_TEN = F80(0x4002, 0xa000000000000000ULL);
static const f80 V_HALF = F80(0x3ffe, 0x8000000000000000ULL);
static const f80 V_ZERO = F80(0x0000, 0);
static const f80 V_MZERO = F80(0x8000, 0);
static const f80 V_INF = F80(0x7fff, 0x8000000000000000ULL);
static const f80 V_MINF = F80(0xffff, 0x8000000000000000ULL);
static const f80 V_QNAN = F80(0x7fff, 0xc000000000000001ULL);
static const f80 V_SNAN = F80(0x7fff, 0xa000000000000002ULL);
static const f80 V_DENORM = F80(0x0000, 0x0000000000000123ULL);
static const f80 V_MAX = F80(0x7ffe, 0xffffffffffffffffULL);
static const f80 V_MINNORM = F80(0x0001, 0x8000000000000000ULL);
static const f80 V_ONEP = F80(0x3fff, 0x8000000000000001ULL);  /* 1 + 2^-63 */
static const f80 V_BIG = F80(0x4040, 0xd000000000000000ULL);    /* 2^65 * 1.625 */
static const f80 V_PSEUDOINF = F80(0x7fff, 0x0000000000000000ULL);
static const f80 V_UNNORMAL = F80(0x4000, 0x4000000000000000ULL);

static void pf80(const f80 *v) { printf("%04x:%016llx", v->se, (unsigned long long)v->m); }

/* Control word: all exceptions masked; pc 0=24 2=53 3=64 bits; rc 0 nearest 1 down 2 up 3 zero */
static uint16_t cw_of(int pc, int rc) { return (uint16_t)(0x003f | 0x0040 | (pc << 8) | (rc << 10)); }
static void set_cw(uint16_t cw) { __asm__ volatile("fldcw %0" :: "m"(cw)); }

/* ---- binary arithmetic through memory m80 operands: st0 = a op b ---- */
enum { OP_ADD, OP_SUB, OP_SUBR, OP_MUL, OP_DIV, OP_DIVR };
static NOINLINE uint16_t x87_binop(int op, const f80 *a, const f80 *b, f80 *r) {
  uint16_t sw;
  __asm__ volatile("fnclex\n\tfldt %0\n\tfldt %1" :: "m"(*a), "m"(*b) : "memory");  /* st0 = b, st1 = a */
  switch (op) {
  /* register forms with explicit encodings (Intel semantics):
   * DE C1 faddp st1,st0; DE E9 fsubp st1,st0 (st1 = st1 - st0);
   * DE E1 fsubrp st1,st0 (st1 = st0 - st1); DE C9 fmulp; DE F9 fdivp (st1/st0);
   * DE F1 fdivrp (st0/st1) */
  case OP_ADD: __asm__ volatile(".byte 0xde, 0xc1" ::: "memory"); break;
  case OP_SUB: __asm__ volatile(".byte 0xde, 0xe9" ::: "memory"); break;
  case OP_SUBR: __asm__ volatile(".byte 0xde, 0xe1" ::: "memory"); break;
  case OP_MUL: __asm__ volatile(".byte 0xde, 0xc9" ::: "memory"); break;
  case OP_DIV: __asm__ volatile(".byte 0xde, 0xf9" ::: "memory"); break;
  case OP_DIVR: __asm__ volatile(".byte 0xde, 0xf1" ::: "memory"); break;
  }
  __asm__ volatile("fnstsw %0\n\tfstpt %1" : "=m"(sw), "=m"(*r) :: "memory");
  return sw;
}

static void arith_table(void) {
  static const char *const names[] = { "add", "sub", "subr", "mul", "div", "divr" };
  const f80 *vals[] = { &V_ONE, &V_THREE, &V_M7, &V_ZERO, &V_MZERO, &V_DENORM, &V_MAX, &V_INF, &V_QNAN, &V_SNAN,
                        &V_ONEP, &V_PSEUDOINF };
  set_cw(cw_of(3, 0));
  for (int op = 0; op < 6; op++) {
    for (unsigned i = 0; i < ARRAY_SIZE(vals); i++) {
      printf("%s ", names[op]);
      pf80(vals[i]);
      printf(":");
      for (unsigned j = 0; j < ARRAY_SIZE(vals); j++) {
        f80 r;
        uint16_t sw = x87_binop(op, vals[i], vals[j], &r);
        printf(" ");
        pf80(&r);
        printf("/%02x", XF(sw));
      }
      printf("\n");
    }
  }
}

/* Precision control x rounding control */
static void pc_rc_table(void) {
  static const char *const pcn[] = { "24", "??", "53", "64" };
  static const char *const rcn[] = { "near", "down", "up", "zero" };
  struct { const char *n; int op; const f80 *a, *b; } c[] = {
    { "1/3", OP_DIV, &V_ONE, &V_THREE }, { "-1/3", OP_DIV, &V_ONE, &V_M7 }, { "1+2^-63 * 3", OP_MUL, &V_ONEP, &V_THREE },
    { "10/3", OP_DIV, &V_TEN, &V_THREE }, { "1 + (1+2^-63)", OP_ADD, &V_ONE, &V_ONEP }, { "max*3", OP_MUL, &V_MAX, &V_THREE },
    { "minnorm/3", OP_DIV, &V_MINNORM, &V_THREE }, { "denorm*half", OP_MUL, &V_DENORM, &V_HALF },
  };
  for (unsigned k = 0; k < ARRAY_SIZE(c); k++) {
    printf("%-14s", c[k].n);
    for (int pc = 0; pc < 4; pc++) {
      if (pc == 1) continue;
      for (int rc = 0; rc < 4; rc++) {
        set_cw(cw_of(pc, rc));
        f80 r;
        uint16_t sw = x87_binop(c[k].op, c[k].a, c[k].b, &r);
        printf(" %s/%s=", pcn[pc], rcn[rc]);
        pf80(&r);
        printf("/%02x", XF(sw));
      }
    }
    printf("\n");
  }
  set_cw(cw_of(3, 0));
}

/* ---- loads and stores ---- */
static void load_store_tests(void) {
  static const uint32_t s32[] = { 0x3f800000, 0x80000000, 0x00000001, 0x7f800000, 0x7fc00001, 0x7f800001, 0x3eaaaaab };
  static const uint64_t s64[] = { 0x3ff0000000000000ULL, 0x0000000000000001ULL, 0xfff0000000000000ULL,
                                  0x7ff0000000000001ULL, 0x3fd5555555555555ULL };
  set_cw(cw_of(3, 0));
  for (unsigned i = 0; i < ARRAY_SIZE(s32); i++) {
    f80 r;
    uint16_t sw;
    __asm__ volatile("fnclex\n\tflds %2\n\tfnstsw %1\n\tfstpt %0" : "=m"(r), "=m"(sw) : "m"(s32[i]) : "memory");
    printf("fld m32 %08x -> ", (unsigned)s32[i]);
    pf80(&r);
    printf("/%02x\n", XF(sw));
  }
  for (unsigned i = 0; i < ARRAY_SIZE(s64); i++) {
    f80 r;
    uint16_t sw;
    __asm__ volatile("fnclex\n\tfldl %2\n\tfnstsw %1\n\tfstpt %0" : "=m"(r), "=m"(sw) : "m"(s64[i]) : "memory");
    printf("fld m64 %016llx -> ", (unsigned long long)s64[i]);
    pf80(&r);
    printf("/%02x\n", XF(sw));
  }
  /* FST m32 / m64 of 80-bit values in every rounding mode */
  const f80 *vals[] = { &V_ONEP, &V_MAX, &V_DENORM, &V_SNAN, &V_MINNORM, &V_BIG };
  f80 third;
  x87_binop(OP_DIV, &V_ONE, &V_THREE, &third);
  for (int rc = 0; rc < 4; rc++) {
    set_cw(cw_of(3, rc));
    for (unsigned i = 0; i <= ARRAY_SIZE(vals); i++) {
      const f80 *v = i < ARRAY_SIZE(vals) ? vals[i] : &third;
      uint32_t f;
      uint64_t d;
      uint16_t sw1, sw2;
      __asm__ volatile("fnclex\n\tfldt %4\n\tfsts %0\n\tfnstsw %2\n\tfnclex\n\tfstpl %1\n\tfnstsw %3"
                       : "=m"(f), "=m"(d), "=m"(sw1), "=m"(sw2) : "m"(*v) : "memory");
      printf("rc%d fst ", rc);
      pf80(v);
      printf(" -> m32 %08x/%02x m64 %016llx/%02x\n", (unsigned)f, XF(sw1), (unsigned long long)d, XF(sw2));
    }
  }
  set_cw(cw_of(3, 0));
  /* integer loads */
  static const int16_t i16[] = { 0, -1, 32767, -32768 };
  static const int32_t i32[] = { 0x7fffffff, (int32_t)0x80000000 };
  static const int64_t i64[] = { 0x7fffffffffffffffLL, (int64_t)0x8000000000000000ULL, 0x123456789abcdefLL };
  for (unsigned i = 0; i < ARRAY_SIZE(i16); i++) {
    f80 r;
    __asm__ volatile("filds %1\n\tfstpt %0" : "=m"(r) : "m"(i16[i]) : "memory");
    printf("fild m16 %d -> ", i16[i]);
    pf80(&r);
    printf("\n");
  }
  for (unsigned i = 0; i < ARRAY_SIZE(i32); i++) {
    f80 r;
    __asm__ volatile("fildl %1\n\tfstpt %0" : "=m"(r) : "m"(i32[i]) : "memory");
    printf("fild m32 %08x -> ", (unsigned)i32[i]);
    pf80(&r);
    printf("\n");
  }
  for (unsigned i = 0; i < ARRAY_SIZE(i64); i++) {
    f80 r;
    __asm__ volatile("fildll %1\n\tfstpt %0" : "=m"(r) : "m"(i64[i]) : "memory");
    printf("fild m64 %016llx -> ", (unsigned long long)i64[i]);
    pf80(&r);
    printf("\n");
  }
}

/* FIST/FISTP m16/m32/m64 and FISTTP in every rounding mode */
static void fist_tests(void) {
  static const f80 vals[] = {
    F80(0x4000, 0xa000000000000000ULL),  /* 2.5 */
    F80(0xc000, 0xa000000000000000ULL),  /* -2.5 */
    F80(0x4000, 0xe000000000000000ULL),  /* 3.5 */
    F80(0x3ffe, 0x8000000000000000ULL),  /* 0.5 */
    F80(0xbffe, 0xc000000000000000ULL),  /* -0.75 */
    F80(0x400d, 0xffff000000000000ULL),  /* 65535 */
    F80(0x400d, 0xfffe000000000000ULL),  /* 32767 */
    F80(0xc00e, 0x8000000000000000ULL),  /* -32768 */
    F80(0x401e, 0xffffffff00000000ULL),  /* 2^31 * (2 - 2^-31) = 4294967295 */
    F80(0x403e, 0x8000000000000000ULL),  /* 2^63 */
    F80(0xc03e, 0x8000000000000000ULL),  /* -2^63 */
    F80(0x7fff, 0xc000000000000000ULL),  /* QNaN */
    F80(0xffff, 0x8000000000000000ULL),  /* -inf */
  };
  for (unsigned i = 0; i < ARRAY_SIZE(vals); i++) {
    pf80(&vals[i]);
    printf(":");
    for (int rc = 0; rc < 4; rc++) {
      set_cw(cw_of(3, rc));
      int16_t a;
      int32_t b;
      int64_t c;
      uint16_t s1, s2, s3;
      __asm__ volatile("fnclex\n\tfldt %6\n\tfists %0\n\tfnstsw %3\n\tfnclex\n\tfistl %1\n\tfnstsw %4\n\t"
                       "fnclex\n\tfistpll %2\n\tfnstsw %5"
                       : "=m"(a), "=m"(b), "=m"(c), "=m"(s1), "=m"(s2), "=m"(s3) : "m"(vals[i]) : "memory");
      printf(" rc%d %04x/%02x %08x/%02x %016llx/%02x", rc, (uint16_t)a, XF(s1), (uint32_t)b, XF(s2),
             (unsigned long long)c, XF(s3));
    }
    if (cpu_has(CPUID_1_ECX, 0)) {
      set_cw(cw_of(3, 0));
      int16_t a;
      int32_t b;
      int64_t c;
      __asm__ volatile("fldt %3\n\tfisttps %0\n\tfldt %3\n\tfisttpl %1\n\tfldt %3\n\tfisttpll %2"
                       : "=m"(a), "=m"(b), "=m"(c) : "m"(vals[i]) : "memory");
      printf(" fisttp %04x %08x %016llx", (uint16_t)a, (uint32_t)b, (unsigned long long)c);
    }
    printf("\n");
  }
  set_cw(cw_of(3, 0));
}

/* ---- unary operations and constants ---- */
enum { U_SQRT, U_RNDINT, U_ABS, U_CHS, U_XTRACT, U_SCALE, U_PREM, U_PREM1, U_TST, U_XAM };
static NOINLINE uint16_t x87_unop(int op, const f80 *a, const f80 *b, f80 *r, f80 *r2) {
  uint16_t sw;
  __asm__ volatile("fnclex\n\tfldt %1\n\tfldt %0" :: "m"(*a), "m"(*b) : "memory");  /* st0 = a, st1 = b */
  switch (op) {
  case U_SQRT: __asm__ volatile("fsqrt" ::: "memory"); break;
  case U_RNDINT: __asm__ volatile("frndint" ::: "memory"); break;
  case U_ABS: __asm__ volatile("fabs" ::: "memory"); break;
  case U_CHS: __asm__ volatile("fchs" ::: "memory"); break;
  case U_XTRACT: __asm__ volatile("fxtract\n\tfxch" ::: "memory"); break; /* st0 = exponent, st1 = significand */
  case U_SCALE: __asm__ volatile("fscale" ::: "memory"); break;
  case U_PREM: __asm__ volatile("fprem" ::: "memory"); break;
  case U_PREM1: __asm__ volatile("fprem1" ::: "memory"); break;
  case U_TST: __asm__ volatile("ftst" ::: "memory"); break;
  case U_XAM: __asm__ volatile("fxam" ::: "memory"); break;
  }
  __asm__ volatile("fnstsw %0\n\tfstpt %1\n\tfstpt %2" : "=m"(sw), "=m"(*r), "=m"(*r2) :: "memory");
  if (op == U_XTRACT) __asm__ volatile("fstp %%st(0)" ::: "memory");
  return sw;
}

static void unary_tests(void) {
  static const char *const names[] = { "fsqrt", "frndint", "fabs", "fchs", "fxtract", "fscale", "fprem", "fprem1", "ftst", "fxam" };
  static const f80 extra[] = {
    F80(0x4000, 0x8000000000000000ULL),  /* 2 */
    F80(0x4001, 0x8000000000000000ULL),  /* 4 */
    F80(0xbfff, 0x8000000000000000ULL),  /* -1 */
    F80(0x3fff, 0xc000000000000000ULL),  /* 1.5 */
    F80(0x4000, 0xa000000000000000ULL),  /* 2.5 */
    F80(0xc000, 0xe000000000000000ULL),  /* -3.5 */
    F80(0x4020, 0x9502f90000000000ULL),  /* 1e10 */
    F80(0x7ffe, 0x8000000000000000ULL),  /* 2^16383 */
  };
  const f80 *vals[] = { &V_ONE, &V_THREE, &V_M7, &V_ZERO, &V_MZERO, &V_DENORM, &V_INF, &V_MINF, &V_QNAN, &V_SNAN,
                        &V_BIG, &V_UNNORMAL, &extra[0], &extra[1], &extra[2], &extra[3], &extra[4], &extra[5],
                        &extra[6], &extra[7] };
  /* second operand (st1) for fscale/fprem */
  const f80 *seconds[] = { &V_THREE, &extra[4], &extra[2], &V_ZERO };
  for (int op = 0; op < 10; op++) {
    int nsec = (op == U_SCALE || op == U_PREM || op == U_PREM1) ? (int)ARRAY_SIZE(seconds) : 1;
    for (int s = 0; s < nsec; s++) {
      printf("%s", names[op]);
      if (nsec > 1) {
        printf(" st1=");
        pf80(seconds[s]);
      }
      printf(":");
      for (unsigned i = 0; i < ARRAY_SIZE(vals); i++) {
        f80 r, r2;
        uint16_t sw = x87_unop(op, vals[i], seconds[s], &r, &r2);
        printf(" ");
        if (op == U_TST || op == U_XAM) {
          printf("%04x", sw & 0x4700);
          continue;
        }
        pf80(&r);
        if (op == U_XTRACT) {
          printf(",");
          pf80(&r2);
        }
        printf("/%02x", XF(sw));
        if (op == U_PREM) printf("c%x", (sw >> 8) & 0x47);
        if (op == U_PREM1) printf("c%x", (sw >> 8) & 0x04);
      }
      printf("\n");
    }
  }
  /* FRNDINT in each rounding mode */
  static const f80 rv[] = { F80(0x4000, 0xa000000000000000ULL), F80(0xc000, 0xa000000000000000ULL),
                            F80(0x3ffe, 0x8000000000000000ULL), F80(0xbffd, 0x8000000000000000ULL),
                            F80(0x403d, 0xffffffffffffffffULL) };
  for (int rc = 0; rc < 4; rc++) {
    set_cw(cw_of(3, rc));
    printf("frndint rc%d:", rc);
    for (unsigned i = 0; i < ARRAY_SIZE(rv); i++) {
      f80 r, r2;
      uint16_t sw = x87_unop(U_RNDINT, &rv[i], &V_ONE, &r, &r2);
      printf(" ");
      pf80(&r);
      printf("/%02x", XF(sw));
    }
    printf("\n");
  }
  set_cw(cw_of(3, 0));
  /* FPREM with a large exponent difference: partial remainder (C2 = 1) */
  f80 big = F80(0x4050, 0xc90fdaa22168c235ULL), r = big, r2;
  for (int i = 0; i < 4; i++) {
    uint16_t sw = x87_unop(U_PREM, &r, &V_THREE, &r, &r2);
    printf("fprem step %d: ", i);
    pf80(&r);
    printf(" c=%x\n", (sw >> 8) & 0x47);
    if (!(sw & 0x400)) break;
  }
  /* constants in each rounding mode */
  for (int rc = 0; rc < 4; rc++) {
    set_cw(cw_of(3, rc));
    f80 c[7];
    __asm__ volatile("fld1\n\tfstpt %0\n\tfldl2t\n\tfstpt %1\n\tfldl2e\n\tfstpt %2\n\tfldpi\n\tfstpt %3\n\t"
                     "fldlg2\n\tfstpt %4\n\tfldln2\n\tfstpt %5\n\tfldz\n\tfstpt %6"
                     : "=m"(c[0]), "=m"(c[1]), "=m"(c[2]), "=m"(c[3]), "=m"(c[4]), "=m"(c[5]), "=m"(c[6]) :: "memory");
    printf("constants rc%d:", rc);
    for (int i = 0; i < 7; i++) {
      printf(" ");
      pf80(&c[i]);
    }
    printf("\n");
  }
  set_cw(cw_of(3, 0));
}

/* ---- comparisons ---- */
static void compare_tests(void) {
  const f80 *vals[] = { &V_ONE, &V_THREE, &V_MZERO, &V_ZERO, &V_INF, &V_QNAN, &V_SNAN };
  for (unsigned i = 0; i < ARRAY_SIZE(vals); i++) {
    for (unsigned j = 0; j < ARRAY_SIZE(vals); j++) {
      uint16_t s1, s2;
      ureg f1, f2;
      __asm__ volatile("fnclex\n\tfldt %3\n\tfldt %2\n\tfcom %%st(1)\n\tfnstsw %0\n\tfstp %%st(0)\n\tfstp %%st(0)"
                       : "=m"(s1) : "m"(*vals[0]), "m"(*vals[i]), "m"(*vals[j]) : "memory");
      __asm__ volatile("fnclex\n\tfldt %3\n\tfldt %2\n\tfucom %%st(1)\n\tfnstsw %0\n\tfstp %%st(0)\n\tfstp %%st(0)"
                       : "=m"(s2) : "m"(*vals[0]), "m"(*vals[i]), "m"(*vals[j]) : "memory");
      uint16_t s3, s4;
      __asm__ volatile("fnclex\n\tfldt %4\n\tfldt %3\n\tfcomi %%st(1), %%st\n\tpushf\n\tpop %0\n\tfnstsw %1\n\t"
                       "fstp %%st(0)\n\tfstp %%st(0)"
                       : "=r"(f1), "=m"(s3) : "m"(*vals[0]), "m"(*vals[i]), "m"(*vals[j]) : "memory", "cc");
      __asm__ volatile("fnclex\n\tfldt %4\n\tfldt %3\n\tfucomip %%st(1), %%st\n\tpushf\n\tpop %0\n\tfnstsw %1\n\t"
                       "fstp %%st(0)"
                       : "=r"(f2), "=m"(s4) : "m"(*vals[0]), "m"(*vals[i]), "m"(*vals[j]) : "memory", "cc");
      printf("cmp ");
      pf80(vals[i]);
      printf(" ? ");
      pf80(vals[j]);
      printf(": fcom %04x fucom %04x fcomi %03lx/%02x fucomip %03lx/%02x\n", s1 & 0x4701, s2 & 0x4701, (unsigned long)(f1 & 0x45), XF(s3), (unsigned long)(f2 & 0x45), XF(s4));
    }
  }
  /* FCOMPP / FUCOMPP pop twice; FICOM m16 */
  uint16_t sw, top;
  static const int16_t three = 3;
  __asm__ volatile("fnclex\n\tfldt %2\n\tfldt %3\n\tfcompp\n\tfnstsw %0\n\tfldt %3\n\tficoms %4\n\tfnstsw %1\n\tfstp %%st(0)"
                   : "=m"(sw), "=m"(top) : "m"(V_ONE), "m"(V_THREE), "m"(three) : "memory");
  printf("fcompp 3?1: sw=%04x (top %d); ficom 3?3: sw=%04x\n", sw & 0x4701, (sw >> 11) & 7, top & 0x4701);
}

/* ---- stack, tags, environment ---- */
struct fenv32 { uint32_t cw, sw, tw, fip, fcs, fdp, fds; };
static void env_tests(void) {
  struct fenv32 env;
  __asm__ volatile("fninit\n\tfldz\n\tfld1\n\tfldt %1\n\tfldt %2\n\tfldt %3\n\tfnstenv %0"
                   : "=m"(env) : "m"(V_INF), "m"(V_DENORM), "m"(V_QNAN) : "memory");
  printf("fnstenv: cw=%04x sw=%04x tw=%04x\n", env.cw & 0xffff, env.sw & 0xffff, env.tw & 0xffff);
  __asm__ volatile("fldenv %0" :: "m"(env));  /* fnstenv masked all exceptions; reload */
  uint16_t sw;
  __asm__ volatile("fincstp\n\tfnstsw %0" : "=m"(sw));
  printf("fincstp: top=%d\n", (sw >> 11) & 7);
  __asm__ volatile("fdecstp\n\tffree %%st(1)\n\tfnstenv %0" : "=m"(env) :: "memory");
  printf("fdecstp; ffree st1: sw=%04x tw=%04x\n", env.sw & 0xffff, env.tw & 0xffff);
  __asm__ volatile("fldenv %0\n\tfxch %%st(2)\n\tfnstenv %0" : "+m"(env) :: "memory");
  printf("fxch st2: tw=%04x\n", env.tw & 0xffff);
  /* FNSAVE / FRSTOR: 108 bytes; FNSAVE reinitializes the FPU */
  uint8_t save[108], save2[108];
  uint16_t cw2 = 0x0e7f;
  __asm__ volatile("fldcw %1\n\tfnsave %0" : "=m"(save) : "m"(cw2) : "memory");
  uint16_t cw_after;
  __asm__ volatile("fnstcw %0\n\tfnstsw %1" : "=m"(cw_after), "=m"(sw));
  printf("after fnsave: cw=%04x sw=%04x\n", cw_after, sw);
  __asm__ volatile("frstor %1\n\tfnsave %0" : "=m"(save2) : "m"(save) : "memory");
  printf("fnsave image: cw=%02x%02x sw=%02x%02x tw=%02x%02x same-after-frstor=%d\n", save[1], save[0], save[5],
         save[4], save[9], save[8], memcmp(save, save2, 12) == 0 && memcmp(save + 28, save2 + 28, 80) == 0);
  printf("  regs:");
  for (int i = 0; i < 8; i++) {
    printf(" ");
    pf80((const f80 *)(save + 28 + 10 * i));
  }
  printf("\n");
  /* FXSAVE / FXRSTOR: abridged tag word, registers in 16-byte slots, MXCSR */
  static uint8_t fx[512] __attribute__((aligned(16))), fx2[512] __attribute__((aligned(16)));
  __asm__ volatile("frstor %1\n\tfxsave %0" : "=m"(fx) : "m"(save) : "memory");
  printf("fxsave: fcw=%02x%02x fsw=%02x%02x ftw=%02x mxcsr=%02x%02x%02x%02x st0=", fx[1], fx[0], fx[3], fx[2], fx[4],
         fx[27], fx[26], fx[25], fx[24]);
  pf80((const f80 *)(fx + 32));
  printf(" st3=");
  pf80((const f80 *)(fx + 32 + 48));
  __asm__ volatile("fninit\n\tfxrstor %1\n\tfxsave %0" : "=m"(fx2) : "m"(fx) : "memory");
  printf(" same-after-fxrstor=%d\n", memcmp(fx, fx2, 8) == 0 && memcmp(fx + 24, fx2 + 24, 8 + 128) == 0);
  __asm__ volatile("fninit");
  __asm__ volatile("fnstenv %0" : "=m"(env) :: "memory");
  printf("fninit: cw=%04x sw=%04x tw=%04x\n", env.cw & 0xffff, env.sw & 0xffff, env.tw & 0xffff);
  __asm__ volatile("fninit");
}

/* ---- BCD ---- */
static void bcd_tests(void) {
  static const uint8_t bcd_in[][10] = {
    { 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0 },
    { 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x80 },
    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 },
  };
  for (unsigned i = 0; i < ARRAY_SIZE(bcd_in); i++) {
    f80 r;
    uint8_t out[10];
    __asm__ volatile("fbld %2\n\tfld %%st(0)\n\tfstpt %0\n\tfbstp %1" : "=m"(r), "=m"(out) : "m"(bcd_in[i]) : "memory");
    printf("fbld/fbstp: ");
    pf80(&r);
    printf(" ->");
    for (int k = 9; k >= 0; k--) printf(" %02x", out[k]);
    printf("\n");
  }
  static const f80 vals[] = { F80(0x4000, 0xa000000000000000ULL), F80(0xc000, 0xe000000000000000ULL),
                              F80(0x403e, 0x8000000000000000ULL), F80(0x7fff, 0xc000000000000000ULL) };
  for (int rc = 0; rc < 4; rc++) {
    set_cw(cw_of(3, rc));
    printf("fbstp rc%d:", rc);
    for (unsigned i = 0; i < ARRAY_SIZE(vals); i++) {
      uint8_t out[10];
      uint16_t sw;
      __asm__ volatile("fnclex\n\tfldt %2\n\tfbstp %0\n\tfnstsw %1" : "=m"(out), "=m"(sw) : "m"(vals[i]) : "memory");
      printf(" ");
      for (int k = 9; k >= 0; k--) printf("%02x", out[k]);
      printf("/%02x", XF(sw));
    }
    printf("\n");
  }
  set_cw(cw_of(3, 0));
}

/* ---- transcendental ---- */
static void trans_tests(void) {
  static const uint64_t in64[] = { 0x0000000000000000ULL, 0x8000000000000000ULL, 0x3fe0000000000000ULL,
                                   0x3ff0000000000000ULL, 0xc000000000000000ULL, 0x400921fb54442d18ULL };
  for (unsigned i = 0; i < ARRAY_SIZE(in64); i++) {
    uint32_t s, c, sc_s, sc_c, t1, t2;
    uint16_t sw;
    __asm__ volatile("fldl %7\n\tfsin\n\tfstps %0\n\tfldl %7\n\tfcos\n\tfstps %1\n\t"
                     "fldl %7\n\tfsincos\n\tfstps %3\n\tfstps %2\n\tfldl %7\n\tfptan\n\tfnstsw %6\n\tfstps %5\n\tfstps %4"
                     : "=m"(s), "=m"(c), "=m"(sc_s), "=m"(sc_c), "=m"(t1), "=m"(t2), "=m"(sw) : "m"(in64[i]) : "memory");
    printf("trig %016llx: sin=%08x cos=%08x sincos=%08x,%08x ptan=%08x,%08x c2=%d\n", (unsigned long long)in64[i],
           (unsigned)s, (unsigned)c, (unsigned)sc_s, (unsigned)sc_c, (unsigned)t1, (unsigned)t2, (sw >> 10) & 1);
  }
  /* exact cases in full precision */
  f80 r1, r2, r3, r4, r5;
  __asm__ volatile("fldz\n\tfsin\n\tfstpt %0\n\tfldz\n\tfcos\n\tfstpt %1\n\tfldz\n\tfptan\n\tfstpt %2\n\tfstpt %3\n\t"
                   "fldz\n\tf2xm1\n\tfstpt %4"
                   : "=m"(r1), "=m"(r2), "=m"(r3), "=m"(r4), "=m"(r5) :: "memory");
  printf("exact: sin0="); pf80(&r1); printf(" cos0="); pf80(&r2); printf(" ptan0="); pf80(&r3); printf(",");
  pf80(&r4); printf(" f2xm1(0)="); pf80(&r5); printf("\n");
  /* f2xm1, fyl2x, fyl2xp1, fpatan */
  const f80 *xs[] = { &V_ONE, &V_HALF, &V_MZERO, &V_THREE, &V_TEN, &V_M7, &V_INF, &V_QNAN };
  static const f80 m1 = F80(0xbfff, 0x8000000000000000ULL), q = F80(0x3ffd, 0x8000000000000000ULL);
  const f80 *smalls[] = { &V_ONE, &m1, &V_HALF, &q, &V_ZERO };
  for (unsigned i = 0; i < ARRAY_SIZE(smalls); i++) {
    f80 r;
    uint64_t d;
    uint16_t sw;
    __asm__ volatile("fnclex\n\tfldt %3\n\tf2xm1\n\tfnstsw %2\n\tfld %%st(0)\n\tfstpt %0\n\tfstpl %1"
                     : "=m"(r), "=m"(d), "=m"(sw) : "m"(*smalls[i]) : "memory");
    printf("f2xm1 ");
    pf80(smalls[i]);
    printf(" = %016llx/%02x\n", (unsigned long long)d, (XF(sw) & ~0x20));
  }
  for (unsigned i = 0; i < ARRAY_SIZE(xs); i++) {
    uint64_t d1, d3;
    uint16_t s1, s3;
    /* fyl2x: st1 * log2(st0); fpatan: atan(st1 / st0) */
    __asm__ volatile("fnclex\n\tfldt %4\n\tfldt %5\n\tfyl2x\n\tfnstsw %2\n\tfstpl %0\n\t"
                     "fnclex\n\tfldt %5\n\tfldt %4\n\tfpatan\n\tfnstsw %3\n\tfstpl %1"
                     : "=m"(d1), "=m"(d3), "=m"(s1), "=m"(s3) : "m"(V_THREE), "m"(*xs[i]) : "memory");
    printf("x=");
    pf80(xs[i]);
    printf(": 3*log2(x)=%016llx/%02x atan(x/3)=%016llx/%02x\n", (unsigned long long)d1, (XF(s1) & ~0x20),
           (unsigned long long)d3, (XF(s3) & ~0x20));
  }
  /* fyl2xp1: st1 * log2(st0 + 1), |st0| < 1 - sqrt(2)/2 */
  static const f80 mq = F80(0xbffd, 0x8000000000000000ULL), tiny = F80(0x3fde, 0x8000000000000000ULL);
  const f80 *ps[] = { &q, &mq, &V_ZERO, &V_MZERO, &tiny };
  for (unsigned i = 0; i < ARRAY_SIZE(ps); i++) {
    uint64_t d;
    uint16_t sw;
    __asm__ volatile("fnclex\n\tfldt %2\n\tfldt %3\n\tfyl2xp1\n\tfnstsw %1\n\tfstpl %0"
                     : "=m"(d), "=m"(sw) : "m"(V_THREE), "m"(*ps[i]) : "memory");
    printf("fyl2xp1 3*log2(1+");
    pf80(ps[i]);
    printf(") = %016llx/%02x\n", (unsigned long long)d, (XF(sw) & ~0x20));
  }
  f80 e1, e2;
  static const f80 eight = F80(0x4002, 0x8000000000000000ULL);
  __asm__ volatile("fld1\n\tfldt %2\n\tfyl2x\n\tfstpt %0\n\tfldz\n\tfld1\n\tfpatan\n\tfstpt %1"
                   : "=m"(e1), "=m"(e2) : "m"(eight) : "memory");
  printf("exact: log2(8)="); pf80(&e1); printf(" atan(0/1)="); pf80(&e2); printf("\n");
}


/* ---- memory operand forms and non-popping register forms ---- */
static void operand_form_tests(void) {
  static const uint32_t f32 = 0x40400000;           /* 3.0f */
  static const uint64_t f64 = 0x3fd0000000000000ULL; /* 0.25 */
  static const int16_t i16 = -5;
  static const int32_t i32 = 7;
  f80 r[12];
  uint16_t sw;
  set_cw(cw_of(3, 0));
  __asm__ volatile("fnclex\n\t"
                   "fldt %13\n\tfadds %14\n\tfstpt %0\n\t"
                   "fldt %13\n\tfsubl %15\n\tfstpt %1\n\t"
                   "fldt %13\n\tfsubrs %14\n\tfstpt %2\n\t"
                   "fldt %13\n\tfmull %15\n\tfstpt %3\n\t"
                   "fldt %13\n\tfdivs %14\n\tfstpt %4\n\t"
                   "fldt %13\n\tfdivrl %15\n\tfstpt %5\n\t"
                   "fldt %13\n\tfiadds %16\n\tfstpt %6\n\t"
                   "fldt %13\n\tfisubl %17\n\tfstpt %7\n\t"
                   "fldt %13\n\tfisubrs %16\n\tfstpt %8\n\t"
                   "fldt %13\n\tfimull %17\n\tfstpt %9\n\t"
                   "fldt %13\n\tfidivs %16\n\tfstpt %10\n\t"
                   "fldt %13\n\tfidivrl %17\n\tfstpt %11\n\t"
                   "fnstsw %12"
                   : "=m"(r[0]), "=m"(r[1]), "=m"(r[2]), "=m"(r[3]), "=m"(r[4]), "=m"(r[5]), "=m"(r[6]), "=m"(r[7]),
                     "=m"(r[8]), "=m"(r[9]), "=m"(r[10]), "=m"(r[11]), "=m"(sw)
                   : "m"(V_TEN), "m"(f32), "m"(f64), "m"(i16), "m"(i32) : "memory");
  static const char *const names[] = { "10+3f", "10-0.25", "3f-10", "10*0.25", "10/3f", "0.25/10",
                                       "10+(-5)", "10-7", "(-5)-10", "10*7", "10/(-5)", "7/10" };
  for (int i = 0; i < 12; i++) {
    printf("mem form %s = ", names[i]);
    pf80(&r[i]);
    printf("\n");
  }
  printf("mem forms sw=%02x\n", XF(sw));
  /* D8 /r st0 op sti and DC /r sti op st0, no pop: st0 = 10, st1 = 3 */
  static const uint8_t enc[][2] = { { 0xd8, 0xe1 }, { 0xd8, 0xe9 }, { 0xd8, 0xf1 }, { 0xd8, 0xf9 },
                                    { 0xdc, 0xe1 }, { 0xdc, 0xe9 }, { 0xdc, 0xf1 }, { 0xdc, 0xf9 } };
  static const char *const en[] = { "fsub st0,st1", "fsubr st0,st1", "fdiv st0,st1", "fdivr st0,st1",
                                    "fsubr st1,st0", "fsub st1,st0", "fdivr st1,st0", "fdiv st1,st0" };
  for (int i = 0; i < 8; i++) {
    f80 a, b;
    switch (i) {
#define ENC(k, b0, b1) case k: __asm__ volatile("fldt %2\n\tfldt %3\n\t.byte " #b0 ", " #b1 "\n\tfstpt %0\n\tfstpt %1" \
                                    : "=m"(a), "=m"(b) : "m"(V_THREE), "m"(V_TEN) : "memory"); break;
      ENC(0, 0xd8, 0xe1) ENC(1, 0xd8, 0xe9) ENC(2, 0xd8, 0xf1) ENC(3, 0xd8, 0xf9)
      ENC(4, 0xdc, 0xe1) ENC(5, 0xdc, 0xe9) ENC(6, 0xdc, 0xf1) ENC(7, 0xdc, 0xf9)
#undef ENC
    }
    printf("%s (%02x %02x): st0=", en[i], enc[i][0], enc[i][1]);
    pf80(&a);
    printf(" st1=");
    pf80(&b);
    printf("\n");
  }
}

static void x87_all(void) {
  __asm__ volatile("fninit");
  load_store_tests();
  fist_tests();
  arith_table();
  operand_form_tests();
  pc_rc_table();
  unary_tests();
  compare_tests();
  env_tests();
  bcd_tests();
  trans_tests();
  __asm__ volatile("fninit");
}

#endif
