/* Shared by muldiv32.c and muldiv64.c: MUL and IMUL (one-operand, two-operand,
 * three-operand with imm8 and imm32) and DIV / IDIV at every width. MUL/IMUL
 * print CF and OF only (SF ZF AF PF are undefined); DIV/IDIV leave every
 * flag undefined, so only results are printed, or the exception: #DE for a
 * zero divisor and for a quotient that does not fit (registers unchanged). */
#ifndef MULDIV_TEMPLATE_H
#define MULDIV_TEMPLATE_H
#include "lib.h"

#define FL_CF 0x001
#define FL_OF 0x800

/* ---- one-operand MUL / IMUL: hi:lo = a * b ---- */
#define MUL1(name, insn, T, cons)                                                               \
  static NOINLINE void name(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi, ureg *f) {      \
    T x = (T)a, d = 0;                                                                          \
    ureg fl;                                                                                    \
    __asm__ volatile(insn " %[y]\n\tpushf\n\tpop %[f]"                                           \
                     : "+a"(x), "=&d"(d), [f] "=&r"(fl) : [y] cons((T)b) : "cc");               \
    *lo = x; *hi = d; *f = fl;                                                                  \
  }
static NOINLINE void mul_8(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi, ureg *f) {
  uint16_t x = (uint8_t)a;
  ureg fl;
  __asm__ volatile("mulb %[y]\n\tpushf\n\tpop %[f]" : "+a"(x), [f] "=&r"(fl) : [y] "q"((uint8_t)b) : "cc");
  *lo = x; *hi = 0; *f = fl;
}
static NOINLINE void imul_8(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi, ureg *f) {
  uint16_t x = (uint8_t)a;
  ureg fl;
  __asm__ volatile("imulb %[y]\n\tpushf\n\tpop %[f]" : "+a"(x), [f] "=&r"(fl) : [y] "q"((uint8_t)b) : "cc");
  *lo = x; *hi = 0; *f = fl;
}
MUL1(mul_16, "mulw", uint16_t, "r")
MUL1(imul_16, "imulw", uint16_t, "r")
MUL1(mul_32, "mull", uint32_t, "r")
MUL1(imul_32, "imull", uint32_t, "r")
#ifdef __x86_64__
MUL1(mul_64, "mulq", uint64_t, "r")
MUL1(imul_64, "imulq", uint64_t, "r")
#endif

/* ---- two- and three-operand IMUL: truncated product ---- */
#define IMUL2(name, insn, T)                                                                    \
  static NOINLINE void name(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi, ureg *f) {      \
    T x = (T)a;                                                                                 \
    ureg fl;                                                                                    \
    __asm__ volatile(insn " %[y], %[x]\n\tpushf\n\tpop %[f]"                                     \
                     : [x] "+r"(x), [f] "=&r"(fl) : [y] "r"((T)b) : "cc");                      \
    *lo = x; *hi = 0; *f = fl;                                                                  \
  }
#define IMUL3(name, insn, T, imm)                                                               \
  static NOINLINE void name(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi, ureg *f) {      \
    T x;                                                                                        \
    ureg fl;                                                                                    \
    (void)b;                                                                                    \
    __asm__ volatile(insn " $" #imm ", %[y], %[x]\n\tpushf\n\tpop %[f]"                          \
                     : [x] "=&r"(x), [f] "=&r"(fl) : [y] "r"((T)a) : "cc");                     \
    *lo = x; *hi = 0; *f = fl;                                                                  \
  }
IMUL2(imul2_16, "imulw", uint16_t)
IMUL2(imul2_32, "imull", uint32_t)
IMUL3(imul3i8_16, "imulw", uint16_t, -3)
IMUL3(imul3i8_32, "imull", uint32_t, -3)
IMUL3(imul3i32_16, "imulw", uint16_t, 0x1235)
IMUL3(imul3i32_32, "imull", uint32_t, 0x12345)
#ifdef __x86_64__
IMUL2(imul2_64, "imulq", uint64_t)
IMUL3(imul3i8_64, "imulq", uint64_t, -3)
IMUL3(imul3i32_64, "imulq", uint64_t, 0x12345)
#endif

typedef void (*mul_fn)(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi, ureg *f);

static const uint64_t mul_vals[4][8] = {
  { 0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, 0x5a, 0x10 },
  { 0x0000, 0x0001, 0x0002, 0x7fff, 0x8000, 0xffff, 0x5a5a, 0x0100 },
  { 0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0x5a5a5a5a, 0x00010000 },
  { 0, 1, 2, 0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xffffffffffffffffULL,
    0x5a5a5a5a5a5a5a5aULL, 0x0000000100000000ULL },
};

static void mul_table(const char *name, mul_fn fn, int wi, int unary_imm) {
  static const int bits[4] = { 8, 16, 32, 64 };
  int digits = bits[wi] / 4;
  for (int i = 0; i < 8; i++) {
    for (int j = 0; j < (unary_imm ? 1 : 8); j++) {
      uint64_t lo, hi;
      ureg f;
      fn(mul_vals[wi][i], mul_vals[wi][j], &lo, &hi, &f);
      if (unary_imm)
        printf("%s.%d %0*llx = ", name, bits[wi], digits, (unsigned long long)mul_vals[wi][i]);
      else
        printf("%s.%d %0*llx,%0*llx = ", name, bits[wi], digits, (unsigned long long)mul_vals[wi][i], digits,
               (unsigned long long)mul_vals[wi][j]);
      if (wi == 0 && !unary_imm) printf("%04llx", (unsigned long long)lo);
      else if (fn == imul2_16 || fn == imul2_32 || unary_imm
#ifdef __x86_64__
               || fn == imul2_64
#endif
      )
        printf("%0*llx", digits, (unsigned long long)lo);
      else
        printf("%0*llx:%0*llx", digits, (unsigned long long)hi, digits, (unsigned long long)lo);
      printf(" cf=%lu of=%lu\n", (unsigned long)(f & FL_CF), (unsigned long)((f & FL_OF) >> 11));
    }
  }
}

/* ---- DIV / IDIV: (hi:lo) / d -> q, r; *de = 1 on #DE ---- */
#define DIV1(name, insn, T)                                                                     \
  static NOINLINE void name(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *q, uint64_t *r, int *de) { \
    T a = (T)lo, dx = (T)hi;                                                                    \
    trap_clear();                                                                               \
    __asm__ volatile(TRAP_BEGIN insn " %[y]" TRAP_END : "+a"(a), "+d"(dx) : [y] "r"((T)d) : "cc", "memory"); \
    *q = a; *r = dx; *de = trap_count ? (int)trap_vector + 100 : 0;                             \
  }
static NOINLINE void div_8(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *q, uint64_t *r, int *de) {
  uint16_t ax = (uint16_t)(((hi & 0xff) << 8) | (lo & 0xff));
  trap_clear();
  __asm__ volatile(TRAP_BEGIN "divb %[y]" TRAP_END : "+a"(ax) : [y] "q"((uint8_t)d) : "cc", "memory");
  *q = ax & 0xff; *r = ax >> 8; *de = trap_count ? (int)trap_vector + 100 : 0;
}
static NOINLINE void idiv_8(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *q, uint64_t *r, int *de) {
  uint16_t ax = (uint16_t)(((hi & 0xff) << 8) | (lo & 0xff));
  trap_clear();
  __asm__ volatile(TRAP_BEGIN "idivb %[y]" TRAP_END : "+a"(ax) : [y] "q"((uint8_t)d) : "cc", "memory");
  *q = ax & 0xff; *r = ax >> 8; *de = trap_count ? (int)trap_vector + 100 : 0;
}
DIV1(div_16, "divw", uint16_t)
DIV1(idiv_16, "idivw", uint16_t)
DIV1(div_32, "divl", uint32_t)
DIV1(idiv_32, "idivl", uint32_t)
#ifdef __x86_64__
DIV1(div_64, "divq", uint64_t)
DIV1(idiv_64, "idivq", uint64_t)
#endif

typedef void (*div_fn)(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *q, uint64_t *r, int *de);

static void div_cases(const char *name, div_fn fn, int wi, int is_signed) {
  static const int bits[4] = { 8, 16, 32, 64 };
  int w = bits[wi], digits = w / 4;
  uint64_t all = w == 64 ? ~0ULL : (1ULL << w) - 1;
  uint64_t min = 1ULL << (w - 1), max = min - 1;
  uint64_t neg7 = (0 - 7ULL) & all, neg2 = (0 - 2ULL) & all;
  uint64_t pat = 0x123456789abcdef0ULL & all, pat2 = 0x0fedcba987654321ULL & all;
  /* {hi, lo, divisor} */
  const uint64_t cases[][3] = {
    { 0, 0, 1 }, { 0, all, 1 }, { 0, all, all }, { 1, 0, 2 }, { all - 1, all, all }, { all, 0, all },
    { 0, 1, 0 }, { 0, 0, 0 }, { pat >> 4, pat2, pat }, { pat, pat2, pat }, { 0, 100, 7 },
    /* signed views */
    { all, min, all }, { 0, min, 1 }, { 0, min, all }, { all, min, 1 }, { all, neg7, 2 }, { 0, 7, neg2 },
    { all, neg7, neg2 }, { 0, max, all }, { max >> 3, 0, 2 }, { all, 1, all },
  };
  for (unsigned c = 0; c < ARRAY_SIZE(cases); c++) {
    uint64_t q, r;
    int de;
    fn(cases[c][0], cases[c][1], cases[c][2], &q, &r, &de);
    printf("%s.%d %0*llx:%0*llx/%0*llx = ", name, w, digits, (unsigned long long)(cases[c][0] & all), digits,
           (unsigned long long)cases[c][1], digits, (unsigned long long)cases[c][2]);
    if (de) printf("%s%s\n", vector_name(de - 100), de == 100 ? "" : " (unexpected vector)");
    else printf("q=%0*llx r=%0*llx\n", digits, (unsigned long long)q, digits, (unsigned long long)r);
  }
  (void)is_signed;
}

static void muldiv_all(int widths) {
  mul_table("mul", mul_8, 0, 0);
  mul_table("imul", imul_8, 0, 0);
  mul_table("mul", mul_16, 1, 0);
  mul_table("imul", imul_16, 1, 0);
  mul_table("imul2", imul2_16, 1, 0);
  mul_table("imul3_imm8_-3", imul3i8_16, 1, 1);
  mul_table("imul3_imm_1235", imul3i32_16, 1, 1);
  mul_table("mul", mul_32, 2, 0);
  mul_table("imul", imul_32, 2, 0);
  mul_table("imul2", imul2_32, 2, 0);
  mul_table("imul3_imm8_-3", imul3i8_32, 2, 1);
  mul_table("imul3_imm_12345", imul3i32_32, 2, 1);
#ifdef __x86_64__
  if (widths == 4) {
    mul_table("mul", mul_64, 3, 0);
    mul_table("imul", imul_64, 3, 0);
    mul_table("imul2", imul2_64, 3, 0);
    mul_table("imul3_imm8_-3", imul3i8_64, 3, 1);
    mul_table("imul3_imm_12345", imul3i32_64, 3, 1);
  }
#endif
  div_cases("div", div_8, 0, 0);
  div_cases("idiv", idiv_8, 0, 1);
  div_cases("div", div_16, 1, 0);
  div_cases("idiv", idiv_16, 1, 1);
  div_cases("div", div_32, 2, 0);
  div_cases("idiv", idiv_32, 2, 1);
#ifdef __x86_64__
  if (widths == 4) {
    div_cases("div", div_64, 3, 0);
    div_cases("idiv", idiv_64, 3, 1);
  }
#endif
  (void)widths;
}

#endif
