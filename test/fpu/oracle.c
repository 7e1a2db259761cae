/*
 * Test oracle for src/fpu/softfloat.ts: runs IEEE 754 operations on the host
 * x86-64 SSE/FMA hardware (tininess after rounding, like RISC-V).
 *
 * stdin, one vector per line:   <op> <rm> <a> <b> <c>
 *   op, rm decimal (rm in RISC-V encoding 0..4), a/b/c hexadecimal bit
 *   patterns (unused operands 0).
 * stdout, one line per vector:  <result> <flags>
 *   result: hex bit pattern (8 digits for 32-bit results, 16 for 64-bit), or
 *   "N" for any NaN floating-point result; flags: decimal RISC-V fflags
 *   (NX=1 UF=2 OF=4 DZ=8 NV=16).
 *
 * RMM (ties to max magnitude) has no x86 mode: the result is the RNE result,
 * moved to the neighbour of larger magnitude when the exact value is exactly
 * halfway (checked with exact __float128 arithmetic); the flags of RMM equal
 * those of RNE (same overflow threshold, same tininess threshold, same
 * inexactness).
 *
 * RISC-V rules the hardware does not implement are applied here:
 * fma raises NV for inf*0 even with a quiet NaN addend; fmin/fmax, fclass and
 * float->integer saturation follow the RISC-V spec directly.
 *
 * Build: cc -O2 -frounding-math -ffp-contract=off [-mfma] oracle.c -lm
 */
#define _GNU_SOURCE
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef __float128 q_t;

enum {
  F32_ADD = 0, F32_SUB, F32_MUL, F32_DIV, F32_SQRT, F32_MADD, F32_MSUB, F32_NMSUB, F32_NMADD,
  F64_ADD = 10, F64_SUB, F64_MUL, F64_DIV, F64_SQRT, F64_MADD, F64_MSUB, F64_NMSUB, F64_NMADD,
  F32_MIN = 20, F32_MAX, F32_EQ, F32_LT, F32_LE, F32_CLASS,
  F64_MIN = 30, F64_MAX, F64_EQ, F64_LT, F64_LE, F64_CLASS,
  F32_TO_F64 = 40, F64_TO_F32,
  F32_TO_I32 = 42, F32_TO_U32, F32_TO_I64, F32_TO_U64, F64_TO_I32, F64_TO_U32, F64_TO_I64, F64_TO_U64,
  I32_TO_F32 = 50, U32_TO_F32, I64_TO_F32, U64_TO_F32, I32_TO_F64, U32_TO_F64, I64_TO_F64, U64_TO_F64
};

static const int modes[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};

static unsigned getflags(void) {
  int e = fetestexcept(FE_ALL_EXCEPT);
  unsigned f = 0;
  if (e & FE_INEXACT) f |= 1;
  if (e & FE_UNDERFLOW) f |= 2;
  if (e & FE_OVERFLOW) f |= 4;
  if (e & FE_DIVBYZERO) f |= 8;
  if (e & FE_INVALID) f |= 16;
  return f;
}

static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static double u2d(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static uint64_t d2u(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

/* ---- RMM tie detection ---- */
/* kind 0: exact value is S + E; kind 1: exact is A / B; kind 2: exact is sqrt(A) */
static int tkind;
static q_t tS, tE, tA, tB;

static int tie_at(q_t M) {
  switch (tkind) {
    case 0: return tE == 0 && tS == M;
    case 1: return M * tB == tA;
    default: return M * M == tA;
  }
}

static void set_exact(q_t S, q_t E) { tkind = 0; tS = S; tE = E; }
static void set_sum(q_t A, q_t B) { /* TwoSum in binary128 (exact) */
  q_t S = A + B, bb = S - A;
  set_exact(S, (A - (S - bb)) + (B - bb));
}

static double rmm_d(double r) {
  if (isnan(r) || isinf(r)) return r;
  double up = nextafter(r, INFINITY), dn = nextafter(r, -INFINITY);
  if (!isinf(up) && tie_at(((q_t)r + (q_t)up) / 2)) return fabs(up) > fabs(r) ? up : r;
  if (!isinf(dn) && tie_at(((q_t)r + (q_t)dn) / 2)) return fabs(dn) > fabs(r) ? dn : r;
  return r;
}

static float rmm_f(float r) {
  if (isnan(r) || isinf(r)) return r;
  float up = nextafterf(r, INFINITY), dn = nextafterf(r, -INFINITY);
  if (!isinf(up) && tie_at(((q_t)r + (q_t)up) / 2)) return fabsf(up) > fabsf(r) ? up : r;
  if (!isinf(dn) && tie_at(((q_t)r + (q_t)dn) / 2)) return fabsf(dn) > fabsf(r) ? dn : r;
  return r;
}

/* ---- output ---- */
static void out_f32(float r, unsigned fl) {
  if (isnan(r)) printf("N %u\n", fl);
  else printf("%08x %u\n", f2u(r), fl);
}
static void out_f64(double r, unsigned fl) {
  if (isnan(r)) printf("N %u\n", fl);
  else printf("%016llx %u\n", (unsigned long long)d2u(r), fl);
}

/* ---- RISC-V rules computed directly ---- */
static float rv_minmax_f(float a, float b, int isMax, unsigned *fl) {
  if (issignaling(a) || issignaling(b)) *fl |= 16;
  if (isnan(a) && isnan(b)) return NAN;
  if (isnan(a)) return b;
  if (isnan(b)) return a;
  if (a == b) return (signbit(a) != 0) == !isMax ? a : b;
  return isMax ? (a > b ? a : b) : (a < b ? a : b);
}
static double rv_minmax_d(double a, double b, int isMax, unsigned *fl) {
  if (issignaling(a) || issignaling(b)) *fl |= 16;
  if (isnan(a) && isnan(b)) return NAN;
  if (isnan(a)) return b;
  if (isnan(b)) return a;
  if (a == b) return (signbit(a) != 0) == !isMax ? a : b;
  return isMax ? (a > b ? a : b) : (a < b ? a : b);
}
static unsigned rv_class(double x, int sig, int neg) {
  /* x: value (any precision), sig: signalling NaN, neg: sign bit */
  if (isnan(x)) return sig ? 1u << 8 : 1u << 9;
  if (isinf(x)) return neg ? 1u << 0 : 1u << 7;
  if (x == 0) return neg ? 1u << 3 : 1u << 4;
  return 0; /* finite nonzero: decided by caller */
}

/* float -> integer with RISC-V saturation; x is exact (float widened to double) */
static uint64_t rv_to_int(double x, int isnanx, int rm, int width, int sgn, unsigned *fl) {
  uint64_t maxv, minv;
  double lo, hiExcl;
  if (sgn) {
    maxv = (width == 64) ? 0x7fffffffffffffffULL : 0x7fffffffULL;
    minv = (width == 64) ? 0x8000000000000000ULL : 0x80000000ULL;
    lo = -ldexp(1.0, width - 1);
    hiExcl = ldexp(1.0, width - 1);
  } else {
    maxv = (width == 64) ? ~0ULL : 0xffffffffULL;
    minv = 0;
    lo = 0;
    hiExcl = ldexp(1.0, width);
  }
  if (isnanx) { *fl |= 16; return maxv; }
  double r;
  fesetround(rm == 4 ? FE_TONEAREST : modes[rm]);
  r = (rm == 4) ? round(x) : rint(x);
  fesetround(FE_TONEAREST);
  if (r < lo) { *fl |= 16; return minv; }
  if (r >= hiExcl) { *fl |= 16; return maxv; }
  if (r != x) *fl |= 1;
  uint64_t v = sgn ? (uint64_t)(int64_t)r : (uint64_t)r;
  if (width == 32) v &= 0xffffffffULL;
  return v;
}

int main(void) {
  static char line[256];
  setvbuf(stdout, NULL, _IOFBF, 1 << 20);
  while (fgets(line, sizeof line, stdin)) {
    int op, rm;
    unsigned long long A, B, C;
    if (sscanf(line, "%d %d %llx %llx %llx", &op, &rm, &A, &B, &C) != 5) {
      if (line[0] == '\n' || line[0] == 0) continue;
      fprintf(stderr, "bad line: %s", line);
      return 2;
    }
    const int hwmode = modes[rm == 4 ? 0 : rm];
    unsigned fl = 0;
    if (op < 20) {
      /* arithmetic */
      const int is64 = op >= 10;
      const int sub = op - (is64 ? 10 : 0);
      unsigned extra = 0;
      if (!is64) {
        volatile float a = u2f((uint32_t)A), b = u2f((uint32_t)B), c = u2f((uint32_t)C);
        volatile float r;
        float na = sub == 7 || sub == 8 ? -a : a; /* fnmsub / fnmadd negate the product */
        float nc = sub == 6 || sub == 8 ? -c : c; /* fmsub / fnmadd negate the addend */
        if (sub >= 5 && ((isinf(a) && b == 0) || (a == 0 && isinf(b)))) extra = 16;
        fesetround(hwmode);
        feclearexcept(FE_ALL_EXCEPT);
        switch (sub) {
          case 0: r = a + b; break;
          case 1: r = a - b; break;
          case 2: r = a * b; break;
          case 3: r = a / b; break;
          case 4: r = sqrtf(a); break;
          default: r = __builtin_fmaf(na, b, nc); break;
        }
        fl = getflags() | extra;
        fesetround(FE_TONEAREST);
        float res = r;
        if (rm == 4) {
          switch (sub) {
            case 0: set_sum(a, b); break;
            case 1: set_sum(a, -(q_t)b); break;
            case 2: set_exact((q_t)a * b, 0); break;
            case 3: tkind = 1; tA = a; tB = b; break;
            case 4: tkind = 2; tA = a; break;
            default: set_sum((q_t)na * b, nc); break;
          }
          res = rmm_f(res);
        }
        out_f32(res, fl);
      } else {
        volatile double a = u2d(A), b = u2d(B), c = u2d(C);
        volatile double r;
        double na = sub == 7 || sub == 8 ? -a : a;
        double nc = sub == 6 || sub == 8 ? -c : c;
        if (sub >= 5 && ((isinf(a) && b == 0) || (a == 0 && isinf(b)))) extra = 16;
        fesetround(hwmode);
        feclearexcept(FE_ALL_EXCEPT);
        switch (sub) {
          case 0: r = a + b; break;
          case 1: r = a - b; break;
          case 2: r = a * b; break;
          case 3: r = a / b; break;
          case 4: r = sqrt(a); break;
          default: r = __builtin_fma(na, b, nc); break;
        }
        fl = getflags() | extra;
        fesetround(FE_TONEAREST);
        double res = r;
        if (rm == 4) {
          switch (sub) {
            case 0: set_sum(a, b); break;
            case 1: set_sum(a, -(q_t)b); break;
            case 2: set_exact((q_t)a * b, 0); break;
            case 3: tkind = 1; tA = a; tB = b; break;
            case 4: tkind = 2; tA = a; break;
            default: set_sum((q_t)na * b, nc); break;
          }
          res = rmm_d(res);
        }
        out_f64(res, fl);
      }
      continue;
    }
    switch (op) {
      case F32_MIN: case F32_MAX: {
        float r = rv_minmax_f(u2f((uint32_t)A), u2f((uint32_t)B), op == F32_MAX, &fl);
        out_f32(r, fl);
        break;
      }
      case F64_MIN: case F64_MAX: {
        double r = rv_minmax_d(u2d(A), u2d(B), op == F64_MAX, &fl);
        out_f64(r, fl);
        break;
      }
      case F32_EQ: case F32_LT: case F32_LE: {
        volatile float a = u2f((uint32_t)A), b = u2f((uint32_t)B);
        int r;
        feclearexcept(FE_ALL_EXCEPT);
        if (op == F32_EQ) r = a == b; else if (op == F32_LT) r = a < b; else r = a <= b;
        fl = getflags();
        printf("%08x %u\n", r, fl);
        break;
      }
      case F64_EQ: case F64_LT: case F64_LE: {
        volatile double a = u2d(A), b = u2d(B);
        int r;
        feclearexcept(FE_ALL_EXCEPT);
        if (op == F64_EQ) r = a == b; else if (op == F64_LT) r = a < b; else r = a <= b;
        fl = getflags();
        printf("%08x %u\n", r, fl);
        break;
      }
      case F32_CLASS: {
        float a = u2f((uint32_t)A);
        int neg = (A >> 31) & 1;
        unsigned r = rv_class(isnan(a) ? NAN : (double)a, issignaling(a), neg);
        if (!r) r = fpclassify(a) == FP_SUBNORMAL ? (neg ? 1u << 2 : 1u << 5) : (neg ? 1u << 1 : 1u << 6);
        printf("%08x 0\n", r);
        break;
      }
      case F64_CLASS: {
        double a = u2d(A);
        int neg = (A >> 63) & 1;
        unsigned r = rv_class(a, issignaling(a), neg);
        if (!r) r = fpclassify(a) == FP_SUBNORMAL ? (neg ? 1u << 2 : 1u << 5) : (neg ? 1u << 1 : 1u << 6);
        printf("%08x 0\n", r);
        break;
      }
      case F32_TO_F64: {
        volatile float a = u2f((uint32_t)A);
        volatile double r;
        feclearexcept(FE_ALL_EXCEPT);
        r = a;
        out_f64(r, getflags());
        break;
      }
      case F64_TO_F32: {
        volatile double a = u2d(A);
        volatile float r;
        fesetround(hwmode);
        feclearexcept(FE_ALL_EXCEPT);
        r = (float)a;
        fl = getflags();
        fesetround(FE_TONEAREST);
        float res = r;
        if (rm == 4) { set_exact(a, 0); res = rmm_f(res); }
        out_f32(res, fl);
        break;
      }
      case F32_TO_I32: case F32_TO_U32: case F32_TO_I64: case F32_TO_U64:
      case F64_TO_I32: case F64_TO_U32: case F64_TO_I64: case F64_TO_U64: {
        const int k = op - F32_TO_I32;
        double x;
        int xnan;
        if (k < 4) { float f = u2f((uint32_t)A); xnan = isnan(f); x = xnan ? 0 : (double)f; }
        else { x = u2d(A); xnan = isnan(x); }
        const int width = (k & 2) ? 64 : 32, sgn = !(k & 1);
        uint64_t v = rv_to_int(x, xnan, rm, width, sgn, &fl);
        if (width == 32) printf("%08llx %u\n", (unsigned long long)v, fl);
        else printf("%016llx %u\n", (unsigned long long)v, fl);
        break;
      }
      case I32_TO_F32: case U32_TO_F32: case I64_TO_F32: case U64_TO_F32: {
        volatile int32_t i32 = (int32_t)(uint32_t)A;
        volatile uint32_t u32 = (uint32_t)A;
        volatile int64_t i64 = (int64_t)A;
        volatile uint64_t u64 = A;
        volatile float r;
        q_t exact;
        fesetround(hwmode);
        feclearexcept(FE_ALL_EXCEPT);
        switch (op) {
          case I32_TO_F32: r = (float)i32; break;
          case U32_TO_F32: r = (float)u32; break;
          case I64_TO_F32: r = (float)i64; break;
          default: r = (float)u64; break;
        }
        fl = getflags();
        fesetround(FE_TONEAREST);
        switch (op) {
          case I32_TO_F32: exact = i32; break;
          case U32_TO_F32: exact = u32; break;
          case I64_TO_F32: exact = i64; break;
          default: exact = u64; break;
        }
        float res = r;
        if (rm == 4) { set_exact(exact, 0); res = rmm_f(res); }
        out_f32(res, fl);
        break;
      }
      case I32_TO_F64: case U32_TO_F64: case I64_TO_F64: case U64_TO_F64: {
        volatile int32_t i32 = (int32_t)(uint32_t)A;
        volatile uint32_t u32 = (uint32_t)A;
        volatile int64_t i64 = (int64_t)A;
        volatile uint64_t u64 = A;
        volatile double r;
        q_t exact;
        fesetround(hwmode);
        feclearexcept(FE_ALL_EXCEPT);
        switch (op) {
          case I32_TO_F64: r = (double)i32; break;
          case U32_TO_F64: r = (double)u32; break;
          case I64_TO_F64: r = (double)i64; break;
          default: r = (double)u64; break;
        }
        fl = getflags();
        fesetround(FE_TONEAREST);
        switch (op) {
          case I32_TO_F64: exact = i32; break;
          case U32_TO_F64: exact = u32; break;
          case I64_TO_F64: exact = i64; break;
          default: exact = u64; break;
        }
        double res = r;
        if (rm == 4) { set_exact(exact, 0); res = rmm_d(res); }
        out_f64(res, fl);
        break;
      }
      default:
        fprintf(stderr, "bad op %d\n", op);
        return 2;
    }
  }
  return 0;
}
