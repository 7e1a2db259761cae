/* Shared by shifts32.c and shifts64.c: SHL SHR SAR ROL ROR RCL RCR (count in
 * CL) and SHLD SHRD at every width, over counts around 0, 1, width-1,
 * width, width+1 and the 5/6-bit count mask, with all flags clear and all
 * set before the instruction. Printed flags are masked to what the SDM
 * defines for that op and masked count (shift_mask): a zero masked count
 * leaves every flag alone; OF only for count 1; AF never after a shift;
 * CF undefined for SHL/SHR/SHLD/SHRD when the count reaches the width;
 * rotates leave SF ZF AF PF alone. SHLD/SHRD with a count above the width
 * (16-bit only) are undefined and skipped. */
#ifndef SHIFT_TEMPLATE_H
#define SHIFT_TEMPLATE_H
#include "lib.h"

#define FL_CF 0x001
#define FL_PF 0x004
#define FL_AF 0x010
#define FL_ZF 0x040
#define FL_SF 0x080
#define FL_OF 0x800
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

typedef uint64_t (*shift_fn)(uint64_t a, uint64_t b, unsigned cnt, ureg fin, ureg *fout);

#define SH1(name, insn, T, cons)                                                                \
  static NOINLINE uint64_t name(uint64_t a, uint64_t b, unsigned cnt, ureg fin, ureg *fo) {     \
    T x = (T)a;                                                                                 \
    ureg f;                                                                                     \
    (void)b;                                                                                    \
    __asm__ volatile("push %[fi]\n\tpopf\n\t" insn " %%cl, %[x]\n\tpushf\n\tpop %[f]"           \
                     : [x] "+" cons(x), [f] "=&r"(f)                                           \
                     : "c"(cnt), [fi] "r"(fin)                                                  \
                     : "cc");                                                                   \
    *fo = f;                                                                                    \
    return x;                                                                                   \
  }
#define SHD(name, insn, T)                                                                      \
  static NOINLINE uint64_t name(uint64_t a, uint64_t b, unsigned cnt, ureg fin, ureg *fo) {     \
    T x = (T)a;                                                                                 \
    ureg f;                                                                                     \
    __asm__ volatile("push %[fi]\n\tpopf\n\t" insn " %%cl, %[y], %[x]\n\tpushf\n\tpop %[f]"     \
                     : [x] "+r"(x), [f] "=&r"(f)                                               \
                     : [y] "r"((T)b), "c"(cnt), [fi] "r"(fin)                                   \
                     : "cc");                                                                   \
    *fo = f;                                                                                    \
    return x;                                                                                   \
  }

#define SH_WIDTHS(op)                                                                           \
  SH1(op##_8, #op "b", uint8_t, "q")                                                           \
  SH1(op##_16, #op "w", uint16_t, "r")                                                         \
  SH1(op##_32, #op "l", uint32_t, "r")
SH_WIDTHS(shl)
SH_WIDTHS(shr)
SH_WIDTHS(sar)
SH_WIDTHS(rol)
SH_WIDTHS(ror)
SH_WIDTHS(rcl)
SH_WIDTHS(rcr)
SHD(shld_16, "shldw", uint16_t)
SHD(shld_32, "shldl", uint32_t)
SHD(shrd_16, "shrdw", uint16_t)
SHD(shrd_32, "shrdl", uint32_t)
#ifdef __x86_64__
SH1(shl_64, "shlq", uint64_t, "r")
SH1(shr_64, "shrq", uint64_t, "r")
SH1(sar_64, "sarq", uint64_t, "r")
SH1(rol_64, "rolq", uint64_t, "r")
SH1(ror_64, "rorq", uint64_t, "r")
SH1(rcl_64, "rclq", uint64_t, "r")
SH1(rcr_64, "rcrq", uint64_t, "r")
SHD(shld_64, "shldq", uint64_t)
SHD(shrd_64, "shrdq", uint64_t)
#define SH_FNS(op) { op##_8, op##_16, op##_32, op##_64 }
#define SHD_FNS(op) { 0, op##_16, op##_32, op##_64 }
#else
#define SH_FNS(op) { op##_8, op##_16, op##_32, 0 }
#define SHD_FNS(op) { 0, op##_16, op##_32, 0 }
#endif

enum { K_SHIFT, K_SHIFT_SAR, K_ROT, K_RC, K_SHD };

struct shift_op {
  const char *name;
  shift_fn fn[4];
  int kind;
};

static const struct shift_op shift_ops[] = {
  { "shl", SH_FNS(shl), K_SHIFT },  { "shr", SH_FNS(shr), K_SHIFT },  { "sar", SH_FNS(sar), K_SHIFT_SAR },
  { "rol", SH_FNS(rol), K_ROT },    { "ror", SH_FNS(ror), K_ROT },    { "rcl", SH_FNS(rcl), K_RC },
  { "rcr", SH_FNS(rcr), K_RC },     { "shld", SHD_FNS(shld), K_SHD }, { "shrd", SHD_FNS(shrd), K_SHD },
};

/* Defined flags after op at width w with count cnt; 0 = result undefined. */
static ureg shift_mask(int kind, int w, unsigned cnt) {
  unsigned m = cnt & (w == 64 ? 63 : 31);
  if (m == 0) return FL_ARITH;
  ureg of = m == 1 ? FL_OF : 0;
  switch (kind) {
  case K_SHIFT:
    return FL_PF | FL_ZF | FL_SF | of | (m < (unsigned)w ? FL_CF : 0);
  case K_SHIFT_SAR:
    return FL_PF | FL_ZF | FL_SF | of | FL_CF;
  case K_ROT:
    return FL_PF | FL_AF | FL_ZF | FL_SF | FL_CF | of;
  case K_RC: {
    unsigned r = w == 8 ? m % 9 : w == 16 ? m % 17 : m;
    if (r == 0) return FL_PF | FL_AF | FL_ZF | FL_SF | FL_CF;
    return FL_PF | FL_AF | FL_ZF | FL_SF | FL_CF | of;
  }
  case K_SHD:
    if (m > (unsigned)w) return 0;
    return FL_PF | FL_ZF | FL_SF | of | (m < (unsigned)w ? FL_CF : 0);
  }
  return 0;
}

static const unsigned shift_counts8[] = { 0, 1, 2, 7, 8, 9, 16, 17, 31, 32, 33 };
static const unsigned shift_counts16[] = { 0, 1, 2, 15, 16, 17, 31, 32, 33 };
static const unsigned shift_counts32[] = { 0, 1, 2, 31, 32, 33, 255 };
static const unsigned shift_counts64[] = { 0, 1, 2, 31, 32, 63, 64, 65 };
static const uint64_t shift_vals[4][3] = {
  { 0x81, 0x40, 0xb6 },
  { 0x8001, 0x4000, 0xb6d3 },
  { 0x80000001, 0x40000000, 0xb6d3a5e7 },
  { 0x8000000000000001ULL, 0x4000000000000000ULL, 0xb6d3a5e7c9f1e2d4ULL },
};
/* Second operand of SHLD/SHRD (the bits shifted in). */
static const uint64_t shift_src[4] = { 0, 0x9c35, 0x9c35e1f7, 0x9c35e1f70a2b4d68ULL };

static void shift_table(int wi) {
  static const int bits[4] = { 8, 16, 32, 64 };
  const unsigned *counts = wi == 0 ? shift_counts8 : wi == 1 ? shift_counts16 : wi == 2 ? shift_counts32 : shift_counts64;
  int ncounts = wi == 0 ? ARRAY_SIZE(shift_counts8) : wi == 1 ? ARRAY_SIZE(shift_counts16)
              : wi == 2 ? ARRAY_SIZE(shift_counts32) : ARRAY_SIZE(shift_counts64);
  int w = bits[wi], digits = w / 4;
  static const ureg fins[2] = { 0x002, 0x8d7 };
  for (unsigned o = 0; o < ARRAY_SIZE(shift_ops); o++) {
    const struct shift_op *op = &shift_ops[o];
    if (!op->fn[wi]) continue;
    for (int v = 0; v < 3; v++) {
      for (int c = 0; c < ncounts; c++) {
        ureg mask = shift_mask(op->kind, w, counts[c]);
        for (int fi = 0; fi < 2; fi++) {
          printf("%s.%d %0*llx,%u fi=%03lx = ", op->name, w, digits, (unsigned long long)shift_vals[wi][v],
                 counts[c], (unsigned long)fins[fi]);
          if (!mask) {
            printf("undefined\n");
            continue;
          }
          ureg f;
          uint64_t r = op->fn[wi](shift_vals[wi][v], shift_src[wi], counts[c], fins[fi], &f);
          printf("%0*llx f=%03lx\n", digits, (unsigned long long)r, (unsigned long)(f & mask));
        }
      }
    }
  }
}

#endif
