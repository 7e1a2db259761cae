/* FP conversions in every rounding mode (static, and dynamic compared with
 * static): fcvt.{w,wu,l,lu}.{s,d} with saturation (NaN -> max, +-inf, out of
 * range, negative to unsigned), fcvt.{s,d}.{w,wu,l,lu} (W-forms ignore the
 * upper 32 bits; results inexact beyond 2^24/2^53), fcvt.s.d / fcvt.d.s
 * (overflow, underflow, NaN canonicalisation), fmv.x.w/fmv.w.x/fmv.x.d/
 * fmv.d.x. Every result is printed with its fflags. */
#include "lib.h"
#include "insn.h"

static const uint64_t dvals[] = {
  0x0000000000000000ULL, /* 0.0 */
  0x8000000000000000ULL, /* -0.0 */
  0x3fe0000000000000ULL, /* 0.5 */
  0xbfe0000000000000ULL, /* -0.5 */
  0x3ff8000000000000ULL, /* 1.5 */
  0x4004000000000000ULL, /* 2.5 */
  0xc004000000000000ULL, /* -2.5 */
  0xbff8000000000000ULL, /* -1.5 */
  0x3fefff2e48e8a71eULL, /* 0.9999 */
  0x3ff0000000000000ULL, /* 1.0 */
  0xbff0000000000000ULL, /* -1.0 */
  0x41dfffffffc00000ULL, /* 2147483647.0 */
  0x41dfffffffe00000ULL, /* 2147483647.5 */
  0x41e0000000000000ULL, /* 2147483648.0 */
  0xc1e0000000000000ULL, /* -2147483648.0 */
  0xc1e0000000100000ULL, /* -2147483648.5 */
  0xc1e0000000200000ULL, /* -2147483649.0 */
  0x41efffffffe00000ULL, /* 4294967295.0 */
  0x41effffffff00000ULL, /* 4294967295.5 */
  0x41f0000000000000ULL, /* 4294967296.0 */
  0x43dfffffffffffffULL, /* 2^63 - 1024 */
  0x43e0000000000000ULL, /* 2^63 */
  0xc3e0000000000000ULL, /* -2^63 */
  0xc3e0000000000001ULL, /* -2^63 - 2048 */
  0x43efffffffffffffULL, /* 2^64 - 2048 */
  0x43f0000000000000ULL, /* 2^64 */
  0x46293e5939a08ceaULL, /* 1e30 */
  0xc6293e5939a08ceaULL, /* -1e30 */
  0x7ff0000000000000ULL, /* +inf */
  0xfff0000000000000ULL, /* -inf */
  0x7ff8000000000000ULL, /* qNaN */
  0xfff8000000000001ULL, /* -qNaN payload */
  0x7ff0000000000001ULL, /* sNaN */
  0x0000000000000001ULL, /* min subnormal */
  0x8000000000000001ULL, /* -min subnormal */
  0x7fefffffffffffffULL, /* max */
  0x47efffffe0000000ULL, /* FLT_MAX exactly */
  0x47efffffe0000001ULL, /* just above FLT_MAX */
  0x47effffff0000000ULL, /* FLT_MAX + half ulp */
  0x3810000000000000ULL, /* FLT_MIN */
  0x36a0000000000000ULL, /* FLT_TRUE_MIN */
  0x3690000000000000ULL, /* FLT_TRUE_MIN / 2 */
  0x3ff0000010000000ULL, /* 1 + 2^-24 (single tie) */
  0x3ff0000030000000ULL, /* 1 + 3*2^-24 */
};

static const uint64_t svals[] = {
  0x00000000, /* 0.0 */
  0x80000000, /* -0.0 */
  0x3f000000, /* 0.5 */
  0xbf000000, /* -0.5 */
  0x3fc00000, /* 1.5 */
  0x40200000, /* 2.5 */
  0xc0200000, /* -2.5 */
  0xbfc00000, /* -1.5 */
  0x3f7ff972, /* 0.9999 */
  0x3f800000, /* 1.0 */
  0xbf800000, /* -1.0 */
  0x4effffff, /* 2147483520.0 */
  0x4f000000, /* 2^31 */
  0xcf000000, /* -2^31 */
  0xcf000001, /* -2147483904.0 */
  0x4f7fffff, /* 4294967040.0 */
  0x4f800000, /* 2^32 */
  0x5effffff, /* below 2^63 */
  0x5f000000, /* 2^63 */
  0xdf000000, /* -2^63 */
  0xdf000001, /* below -2^63 */
  0x5f7fffff, /* below 2^64 */
  0x5f800000, /* 2^64 */
  0x7149f2ca, /* 1e30 */
  0xf149f2ca, /* -1e30 */
  0x7f800000, /* +inf */
  0xff800000, /* -inf */
  0x7fc00000, /* qNaN */
  0xffc00001, /* -qNaN payload */
  0x7f800001, /* sNaN */
  0x00000001, /* min subnormal */
  0x80000001, /* -min subnormal */
  0x7f7fffff, /* max */
};

static const uint64_t ivals[] = {
  0, 1, 0xffffffffffffffffULL, 0x7fffffffULL, 0xffffffff80000000ULL, 0x80000000ULL, 0xffffffffULL,
  0x7fffffffffffffffULL, 0x8000000000000000ULL, 16777217, 16777219, 0xfffffffffeffffffULL,
  0x0020000000000001ULL, 0x0020000000000003ULL, 0x123456789abcdef0ULL, 0xedcba98765432110ULL,
  0xdeadbeef00000005ULL, 0x00000001ffffffffULL, 0xffffffffffffffffULL - 1000,
};

typedef uint64_t (*cv_fn)(uint64_t);

#define RMS2(X, name, str) X(name, rne, str, "rne") X(name, rtz, str, "rtz") X(name, rdn, str, "rdn") \
  X(name, rup, str, "rup") X(name, rmm, str, "rmm") X(name, dyn, str, "dyn")
#define F2I(name, tag, str, rm) static uint64_t name##_##tag(uint64_t a) { return FTOIR(str, rm, a); }
#define I2F(name, tag, str, rm) static uint64_t name##_##tag(uint64_t a) { return ITOFR(str, rm, a); }
#define F2F(name, tag, str, rm) static uint64_t name##_##tag(uint64_t a) { return FOP1R(str, rm, a); }
#define ENT2(name, tag, str, rm) name##_##tag,

RMS2(F2I, w_s, "fcvt.w.s") RMS2(F2I, wu_s, "fcvt.wu.s") RMS2(F2I, l_s, "fcvt.l.s") RMS2(F2I, lu_s, "fcvt.lu.s")
RMS2(F2I, w_d, "fcvt.w.d") RMS2(F2I, wu_d, "fcvt.wu.d") RMS2(F2I, l_d, "fcvt.l.d") RMS2(F2I, lu_d, "fcvt.lu.d")
RMS2(I2F, s_w, "fcvt.s.w") RMS2(I2F, s_wu, "fcvt.s.wu") RMS2(I2F, s_l, "fcvt.s.l") RMS2(I2F, s_lu, "fcvt.s.lu")
RMS2(I2F, d_l, "fcvt.d.l") RMS2(I2F, d_lu, "fcvt.d.lu")
/* fcvt.d.w/fcvt.d.wu are exact, so gas does not accept a rounding mode; the
 * rm field still exists (and must be valid), so encode it with .insn:
 * funct7 0x69, rs2 = 0 (w) or 1 (wu). */
#define RMNUM(X, name, rs2) X(name, rne, rs2, 0) X(name, rtz, rs2, 1) X(name, rdn, rs2, 2) \
  X(name, rup, rs2, 3) X(name, rmm, rs2, 4) X(name, dyn, rs2, 7)
#define I2F_INSN(name, tag, rs2, rm) static uint64_t name##_##tag(uint64_t a) { uint64_t _r; \
  __asm__ volatile(".insn r 0x53, " #rm ", 0x69, ft0, %1, " #rs2 "\n fmv.x.d %0, ft0" : "=r"(_r) : "r"(a) : "ft0"); return _r; }
RMNUM(I2F_INSN, d_w, x0) RMNUM(I2F_INSN, d_wu, x1)
RMS2(F2F, s_d, "fcvt.s.d")

enum { SRC_S, SRC_D, SRC_I };
static const struct { const char *name; int src; cv_fn fn[6]; } convs[] = {
  {"fcvt.w.s", SRC_S, {RMS2(ENT2, w_s, 0)}},
  {"fcvt.wu.s", SRC_S, {RMS2(ENT2, wu_s, 0)}},
  {"fcvt.l.s", SRC_S, {RMS2(ENT2, l_s, 0)}},
  {"fcvt.lu.s", SRC_S, {RMS2(ENT2, lu_s, 0)}},
  {"fcvt.w.d", SRC_D, {RMS2(ENT2, w_d, 0)}},
  {"fcvt.wu.d", SRC_D, {RMS2(ENT2, wu_d, 0)}},
  {"fcvt.l.d", SRC_D, {RMS2(ENT2, l_d, 0)}},
  {"fcvt.lu.d", SRC_D, {RMS2(ENT2, lu_d, 0)}},
  {"fcvt.s.w", SRC_I, {RMS2(ENT2, s_w, 0)}},
  {"fcvt.s.wu", SRC_I, {RMS2(ENT2, s_wu, 0)}},
  {"fcvt.s.l", SRC_I, {RMS2(ENT2, s_l, 0)}},
  {"fcvt.s.lu", SRC_I, {RMS2(ENT2, s_lu, 0)}},
  {"fcvt.d.w", SRC_I, {RMNUM(ENT2, d_w, 0)}},
  {"fcvt.d.wu", SRC_I, {RMNUM(ENT2, d_wu, 0)}},
  {"fcvt.d.l", SRC_I, {RMS2(ENT2, d_l, 0)}},
  {"fcvt.d.lu", SRC_I, {RMS2(ENT2, d_lu, 0)}},
  {"fcvt.s.d", SRC_D, {RMS2(ENT2, s_d, 0)}},
};

static const char *const rm_names[5] = {"rne", "rtz", "rdn", "rup", "rmm"};

static void print_flags(uint64_t f) {
  uart_putc('/');
  print_hexn(f, 2);
}

static void test_conversions(void) {
  for (unsigned c = 0; c < ARRAY_SIZE(convs); c++) {
    const uint64_t *tab = convs[c].src == SRC_S ? svals : convs[c].src == SRC_D ? dvals : ivals;
    unsigned n = convs[c].src == SRC_S ? ARRAY_SIZE(svals) : convs[c].src == SRC_D ? ARRAY_SIZE(dvals) : ARRAY_SIZE(ivals);
    unsigned dyn_mismatch = 0;
    for (unsigned i = 0; i < n; i++) {
      uint64_t v = convs[c].src == SRC_S ? BOX(tab[i]) : tab[i];
      print(convs[c].name);
      print(" v");
      print_udec(i);
      print(":");
      for (unsigned rm = 0; rm < 5; rm++) {
        fflags_clear();
        uint64_t r = convs[c].fn[rm](v);
        uint64_t f = fflags_swap0();
        frm_set(rm);
        uint64_t rd = convs[c].fn[5](v);
        uint64_t fd = fflags_swap0();
        frm_set(0);
        if (rd != r || fd != f) dyn_mismatch++;
        uart_putc(' ');
        print(rm_names[rm]);
        uart_putc('=');
        print_hex(r);
        print_flags(f);
      }
      nl();
    }
    print(convs[c].name);
    print(" dyn mismatches=");
    print_udec(dyn_mismatch);
    nl();
  }
}

/* fcvt.d.s is exact: no rounding mode effect, only NaN handling. */
static void test_d_s(void) {
  print("fcvt.d.s:");
  for (unsigned i = 0; i < ARRAY_SIZE(svals); i++) {
    fflags_clear();
    uint64_t r = FOP1("fcvt.d.s", BOX(svals[i]));
    uint64_t f = fflags_swap0();
    uart_putc(' ');
    print_hex(r);
    print_flags(f);
  }
  nl();
}

static void test_moves(void) {
  static const uint64_t v[] = {0, 0x80000000ULL, 0x7fc00001ULL, 0xffffffff7f800001ULL, 0x123456789abcdef0ULL,
                               0xfff0000000000001ULL};
  for (unsigned i = 0; i < ARRAY_SIZE(v); i++) {
    fflags_clear();
    print("mv "); print_hex(v[i]);
    print(" fmv.w.x="); print_hex(ITOF("fmv.w.x", v[i]));
    print(" fmv.x.w="); print_hex(FTOI("fmv.x.w", v[i]));
    print(" fmv.d.x="); print_hex(ITOF("fmv.d.x", v[i]));
    print(" fmv.x.d="); print_hex(FTOI("fmv.x.d", v[i]));
    print_flags(fflags_swap0());
    nl();
  }
}

int main(void) {
  println("== fp_convert ==");
  test_conversions();
  test_d_s();
  test_moves();
  println("fp_convert: done");
  return 0;
}
