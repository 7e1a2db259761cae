/* Fused multiply-add (fmadd/fmsub/fnmsub/fnmadd, .s and .d): single rounding
 * (results a separate multiply+add cannot produce), inf*0 + qNaN raising NV,
 * signed-zero results per rounding mode, overflow/underflow, and every
 * static and dynamic rounding mode. */
#include "lib.h"
#include "insn.h"

#define RMS(X, op) X(op, rne, "rne") X(op, rtz, "rtz") X(op, rdn, "rdn") X(op, rup, "rup") X(op, rmm, "rmm") X(op, dyn, "dyn")
#define DEF3(op, tag, rm) \
  static uint64_t s_##op##_##tag(uint64_t a, uint64_t b, uint64_t c) { return FOP3R(#op ".s", rm, a, b, c); } \
  static uint64_t d_##op##_##tag(uint64_t a, uint64_t b, uint64_t c) { return FOP3R(#op ".d", rm, a, b, c); }
RMS(DEF3, fmadd)
RMS(DEF3, fmsub)
RMS(DEF3, fnmsub)
RMS(DEF3, fnmadd)

typedef uint64_t (*fp3_fn)(uint64_t, uint64_t, uint64_t);
#define S_ENTRY(op, tag, rm) s_##op##_##tag,
#define D_ENTRY(op, tag, rm) d_##op##_##tag,
static const char *const rm_names[6] = {"rne", "rtz", "rdn", "rup", "rmm", "dyn"};
static const struct { const char *name; fp3_fn s[6]; fp3_fn d[6]; } ops[] = {
  {"fmadd", {RMS(S_ENTRY, fmadd)}, {RMS(D_ENTRY, fmadd)}},
  {"fmsub", {RMS(S_ENTRY, fmsub)}, {RMS(D_ENTRY, fmsub)}},
  {"fnmsub", {RMS(S_ENTRY, fnmsub)}, {RMS(D_ENTRY, fnmsub)}},
  {"fnmadd", {RMS(S_ENTRY, fnmadd)}, {RMS(D_ENTRY, fnmadd)}},
};

/* Single-precision cases (a, b, c). */
static const uint32_t scases[][3] = {
  {0x3f800001, 0x3f7fffff, 0xbf800000}, /* (1+u)(1-u/2) - 1: only fused is nonzero */
  {0x3eaaaaab, 0x40400000, 0xbf800000}, /* 1/3*3 - 1 */
  {0x7f800000, 0x00000000, 0x7fc00000}, /* inf*0 + qNaN: NV */
  {0x00000000, 0xff800000, 0x3f800000}, /* 0*-inf + 1: NV */
  {0x7f800000, 0x3f800000, 0xff800000}, /* inf - inf: NV */
  {0x3f800000, 0x3f800000, 0xbf800000}, /* exact zero: sign depends on rm */
  {0x80000000, 0x3f800000, 0x80000000}, /* -0*1 + -0 */
  {0x80000000, 0x3f800000, 0x00000000}, /* -0*1 + +0 */
  {0x7f7fffff, 0x40000000, 0xff7fffff}, /* max*2 - max: fused is exact */
  {0x7f7fffff, 0x7f7fffff, 0xff800000}, /* huge - inf = -inf, no flags */
  {0x7f7fffff, 0x7f7fffff, 0x00000000}, /* overflow */
  {0x00800000, 0x3f000000, 0x00000000}, /* exact subnormal result */
  {0x00000001, 0x3f000000, 0x00000000}, /* underflow to 0 / min subnormal */
  {0x00000003, 0x3f000000, 0x80000000}, /* tie in the subnormal range */
  {0x3f800000, 0x33800000, 0x3f800000}, /* 1 + 2^-24: tie */
  {0xbf800000, 0x33800000, 0xbf800000}, /* -1 - 2^-24: tie */
  {0x7f800001, 0x3f800000, 0x3f800000}, /* sNaN multiplicand */
  {0x3f800000, 0x3f800000, 0x7f800001}, /* sNaN addend */
  {0x7fc00000, 0x3f800000, 0x3f800000}, /* qNaN */
  {0x40490fdb, 0x3eaaaaab, 0xbf860a92}, /* pi/3 - 1.047..: cancellation */
};

static const uint64_t dcases[][3] = {
  {0x3ff0000000000001ULL, 0x3fefffffffffffffULL, 0xbff0000000000000ULL},
  {0x3fd5555555555555ULL, 0x4008000000000000ULL, 0xbff0000000000000ULL},
  {0x7ff0000000000000ULL, 0x0000000000000000ULL, 0x7ff8000000000000ULL},
  {0x0000000000000000ULL, 0xfff0000000000000ULL, 0x3ff0000000000000ULL},
  {0x7ff0000000000000ULL, 0x3ff0000000000000ULL, 0xfff0000000000000ULL},
  {0x3ff0000000000000ULL, 0x3ff0000000000000ULL, 0xbff0000000000000ULL},
  {0x8000000000000000ULL, 0x3ff0000000000000ULL, 0x8000000000000000ULL},
  {0x8000000000000000ULL, 0x3ff0000000000000ULL, 0x0000000000000000ULL},
  {0x7fefffffffffffffULL, 0x4000000000000000ULL, 0xffefffffffffffffULL},
  {0x7fefffffffffffffULL, 0x7fefffffffffffffULL, 0xfff0000000000000ULL},
  {0x7fefffffffffffffULL, 0x7fefffffffffffffULL, 0x0000000000000000ULL},
  {0x0010000000000000ULL, 0x3fe0000000000000ULL, 0x0000000000000000ULL},
  {0x0000000000000001ULL, 0x3fe0000000000000ULL, 0x0000000000000000ULL},
  {0x0000000000000003ULL, 0x3fe0000000000000ULL, 0x8000000000000000ULL},
  {0x3ff0000000000000ULL, 0x3ca0000000000000ULL, 0x3ff0000000000000ULL},
  {0xbff0000000000000ULL, 0x3ca0000000000000ULL, 0xbff0000000000000ULL},
  {0x7ff0000000000001ULL, 0x3ff0000000000000ULL, 0x3ff0000000000000ULL},
  {0x3ff0000000000000ULL, 0x3ff0000000000000ULL, 0x7ff0000000000001ULL},
  {0x7ff8000000000000ULL, 0x3ff0000000000000ULL, 0x3ff0000000000000ULL},
  {0x400921fb54442d18ULL, 0x3fd5555555555555ULL, 0xbff0c152382d7365ULL},
};

static void print_flags(uint64_t f) {
  uart_putc('/');
  print_hexn(f, 2);
}

static void run_cases(int dbl) {
  unsigned n = dbl ? ARRAY_SIZE(dcases) : ARRAY_SIZE(scases);
  for (unsigned o = 0; o < ARRAY_SIZE(ops); o++) {
    unsigned dyn_mismatch = 0;
    for (unsigned c = 0; c < n; c++) {
      uint64_t a = dbl ? dcases[c][0] : BOX(scases[c][0]);
      uint64_t b = dbl ? dcases[c][1] : BOX(scases[c][1]);
      uint64_t x = dbl ? dcases[c][2] : BOX(scases[c][2]);
      print(ops[o].name);
      print(dbl ? ".d c" : ".s c");
      print_udec(c);
      print(":");
      for (unsigned rm = 0; rm < 5; rm++) {
        fp3_fn fn = dbl ? ops[o].d[rm] : ops[o].s[rm];
        fp3_fn dyn = dbl ? ops[o].d[5] : ops[o].s[5];
        fflags_clear();
        uint64_t r = fn(a, b, x);
        uint64_t f = fflags_swap0();
        frm_set(rm);
        uint64_t rd = dyn(a, b, x);
        uint64_t fd = fflags_swap0();
        frm_set(0);
        if (rd != r || fd != f) dyn_mismatch++;
        uart_putc(' ');
        print(rm_names[rm]);
        uart_putc('=');
        if (dbl) print_hex(r);
        else {
          print_hex32((uint32_t)r);
          if ((r >> 32) != 0xffffffffULL) uart_putc('!');
        }
        print_flags(f);
      }
      nl();
    }
    print(ops[o].name);
    print(dbl ? ".d" : ".s");
    print(" dyn mismatches=");
    print_udec(dyn_mismatch);
    nl();
  }
}

/* Fused vs unfused on the first case, to show the difference is visible. */
static void fused_vs_unfused(void) {
  uint64_t a = BOX(scases[0][0]), b = BOX(scases[0][1]), c = BOX(scases[0][2]);
  uint64_t fused = FOP3("fmadd.s", a, b, c);
  uint64_t prod = FOP2("fmul.s", a, b);
  uint64_t unfused = FOP2("fadd.s", prod, c);
  print("fused "); print_hex(fused); print(" unfused "); print_hex(unfused); nl();
  fflags_clear();
}

/* A small cartesian product in rne. */
static void product(void) {
  static const uint64_t v[] = {
    0x0000000000000000ULL, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0xc000000000000000ULL,
    0x7ff0000000000000ULL, 0x7ff8000000000000ULL, 0x0000000000000001ULL, 0x3fd5555555555555ULL,
  };
  for (unsigned o = 0; o < ARRAY_SIZE(ops); o++) {
    for (unsigned i = 0; i < ARRAY_SIZE(v); i++) {
      print(ops[o].name);
      print(".d p");
      print_udec(i);
      print(":");
      for (unsigned j = 0; j < ARRAY_SIZE(v); j++) {
        for (unsigned k = 0; k < ARRAY_SIZE(v); k++) {
          fflags_clear();
          uint64_t r = ops[o].d[0](v[i], v[j], v[k]);
          uint64_t f = fflags_swap0();
          uart_putc(' ');
          print_hexn(r >> 48, 4);
          print_hexn(r & 0xffff, 4);
          print_flags(f);
        }
      }
      nl();
    }
  }
}

int main(void) {
  println("== fp_fma ==");
  run_cases(0);
  run_cases(1);
  fused_vs_unfused();
  product();
  println("fp_fma: done");
  return 0;
}
