/* Shared by bitops32.c and bitops64.c: BT BTS BTR BTC (register bit base
 * with bit offsets masked to the width; memory bit base with register
 * offsets that reach far outside the operand, negative too; imm8 offsets),
 * BSF BSR (zero source: ZF = 1 and the destination unchanged), BSWAP,
 * POPCNT / LZCNT / TZCNT encodings as the CPU model defines them, SETcc and
 * CMOVcc for every condition over every CF/PF/ZF/SF/OF combination,
 * CMPXCHG at every width, XADD, XCHG.
 * Flags printed: BT*: CF (ZF must be unchanged; OF SF AF PF undefined);
 * BSF/BSR: ZF; CMPXCHG/XADD: all six. */
#ifndef BITOPS_TEMPLATE_H
#define BITOPS_TEMPLATE_H
#include "lib.h"

#define FL_CF 0x001
#define FL_PF 0x004
#define FL_AF 0x010
#define FL_ZF 0x040
#define FL_SF 0x080
#define FL_OF 0x800
#define FL_ARITH 0x8d5

#ifdef __x86_64__
#define BW_MAX 3
#else
#define BW_MAX 2
#endif

/* ---- BT family, register base, register offset ---- */
#define BTR_(name, insn, T)                                                                     \
  static NOINLINE uint64_t name(uint64_t a, uint64_t bit, ureg fin, ureg *fo) {                 \
    T x = (T)a;                                                                                 \
    ureg f;                                                                                     \
    __asm__ volatile("push %[fi]\n\tpopf\n\t" insn " %[b], %[x]\n\tpushf\n\tpop %[f]"           \
                     : [x] "+r"(x), [f] "=&r"(f) : [b] "r"((T)bit), [fi] "r"(fin) : "cc");      \
    *fo = f;                                                                                    \
    return x;                                                                                   \
  }
#define BT_ALL(op)                                                                              \
  BTR_(op##_16, #op "w", uint16_t) BTR_(op##_32, #op "l", uint32_t)
BT_ALL(bt)
BT_ALL(bts)
BT_ALL(btr)
BT_ALL(btc)
#ifdef __x86_64__
BTR_(bt_64, "btq", uint64_t)
BTR_(bts_64, "btsq", uint64_t)
BTR_(btr_64, "btrq", uint64_t)
BTR_(btc_64, "btcq", uint64_t)
#define BT_FNS(op) { op##_16, op##_32, op##_64 }
#else
#define BT_FNS(op) { op##_16, op##_32, 0 }
#endif
typedef uint64_t (*bt_fn)(uint64_t a, uint64_t bit, ureg fin, ureg *fo);

/* ---- BT family, memory base, register offset (bit string semantics) ---- */
static uint8_t bitmem[64] __attribute__((aligned(16)));
#define BTM_(name, insn, T)                                                                     \
  static NOINLINE ureg name(void *base, int64_t bit, ureg fin) {                                \
    ureg f;                                                                                     \
    __asm__ volatile("push %[fi]\n\tpopf\n\t" insn " %[b], (%[m])\n\tpushf\n\tpop %[f]"         \
                     : [f] "=&r"(f) : [b] "r"((T)bit), [m] "r"(base), [fi] "r"(fin) : "cc", "memory"); \
    return f;                                                                                   \
  }
BTM_(btm_16, "btw", int16_t)
BTM_(btm_32, "btl", int32_t)
BTM_(btsm_16, "btsw", int16_t)
BTM_(btsm_32, "btsl", int32_t)
BTM_(btrm_32, "btrl", int32_t)
BTM_(btcm_32, "btcl", int32_t)
#ifdef __x86_64__
BTM_(btm_64, "btq", int64_t)
BTM_(btcm_64, "btcq", int64_t)
#endif
typedef ureg (*btm_fn)(void *base, int64_t bit, ureg fin);

static void bt_tests(void) {
  static const char *const names[4] = { "bt", "bts", "btr", "btc" };
  static const bt_fn fns[4][3] = { BT_FNS(bt), BT_FNS(bts), BT_FNS(btr), BT_FNS(btc) };
  static const uint64_t offs[] = { 0, 1, 15, 16, 31, 32, 33, 63, 64, 100 };
  static const int bits[3] = { 16, 32, 64 };
  const uint64_t val = 0xa5a5c3c30f0f8001ULL;
  for (int o = 0; o < 4; o++) {
    for (int w = 0; w < BW_MAX; w++) {
      printf("%s.%d r,r %0*llx:", names[o], bits[w], bits[w] / 4,
             (unsigned long long)(val & (w == 2 ? ~0ULL : (1ULL << bits[w]) - 1)));
      for (unsigned i = 0; i < ARRAY_SIZE(offs); i++) {
        ureg f1, f2;
        uint64_t r = fns[o][w](val, offs[i], 0x002, &f1);
        fns[o][w](val, offs[i], 0x8d6, &f2); /* ZF etc. set, CF clear */
        printf(" %llu:%0*llx/%lx/%lx", (unsigned long long)offs[i], bits[w] / 4, (unsigned long long)r,
               (unsigned long)(f1 & FL_CF), (unsigned long)(f2 & (FL_CF | FL_ZF)));
      }
      printf("\n");
    }
  }
  /* memory bit strings: base in the middle of bitmem */
  static const int64_t moffs[] = { 0, 5, 31, 32, 100, 255, -1, -8, -33, -200 };
  struct { const char *name; btm_fn fn; } mops[] = {
    { "bt.16 m", btm_16 }, { "bt.32 m", btm_32 }, { "bts.16 m", btsm_16 }, { "bts.32 m", btsm_32 },
    { "btr.32 m", btrm_32 }, { "btc.32 m", btcm_32 },
#ifdef __x86_64__
    { "bt.64 m", btm_64 }, { "btc.64 m", btcm_64 },
#endif
  };
  for (unsigned m = 0; m < ARRAY_SIZE(mops); m++) {
    for (int i = 0; i < 64; i++) bitmem[i] = (uint8_t)(i * 37 + 11);
    printf("%s:", mops[m].name);
    for (unsigned i = 0; i < ARRAY_SIZE(moffs); i++) {
      ureg f = mops[m].fn(&bitmem[32], moffs[i], 0x002);
      printf(" %lld:%lx", (long long)moffs[i], (unsigned long)(f & FL_CF));
    }
    printf(" mem=");
    for (int i = 0; i < 64; i++) printf("%02x", bitmem[i]);
    printf("\n");
  }
  /* imm8 offsets are masked to the operand width even with a memory base */
  for (int i = 0; i < 64; i++) bitmem[i] = 0;
  ureg f;
  __asm__ volatile("btsl $35, (%1)\n\tbtsw $17, 8(%1)\n\tbtcl $0, 12(%1)\n\tbtl $3, (%1)\n\tpushf\n\tpop %0"
                   : "=r"(f) : "r"(bitmem) : "cc", "memory");
  printf("bt* m,imm8: cf=%lx mem=", (unsigned long)(f & FL_CF));
  for (int i = 0; i < 16; i++) printf("%02x", bitmem[i]);
  printf("\n");
}

/* ---- BSF / BSR ---- */
#define BSX(name, insn, T)                                                                      \
  static NOINLINE uint64_t name(uint64_t a, uint64_t dst, ureg *fo) {                           \
    T x = (T)dst;                                                                               \
    ureg f;                                                                                     \
    __asm__ volatile(insn " %[s], %[x]\n\tpushf\n\tpop %[f]"                                     \
                     : [x] "+r"(x), [f] "=&r"(f) : [s] "r"((T)a) : "cc");                       \
    *fo = f;                                                                                    \
    return x;                                                                                   \
  }
BSX(bsf_16, "bsfw", uint16_t)
BSX(bsf_32, "bsfl", uint32_t)
BSX(bsr_16, "bsrw", uint16_t)
BSX(bsr_32, "bsrl", uint32_t)
/* F3 0F BC / F3 0F BD: TZCNT / LZCNT when the CPU has BMI1 / ABM, else BSF / BSR */
BSX(tzcnt_32, "tzcntl", uint32_t)
BSX(lzcnt_32, "lzcntl", uint32_t)
#ifdef __x86_64__
BSX(bsf_64, "bsfq", uint64_t)
BSX(bsr_64, "bsrq", uint64_t)
BSX(tzcnt_64, "tzcntq", uint64_t)
BSX(lzcnt_64, "lzcntq", uint64_t)
#endif

static void bsx_tests(void) {
  static const uint64_t vals[] = { 0, 1, 2, 0x8000, 0x80000000ULL, 0x00f0, 0x12345678, 0x8000000000000000ULL,
                                   0x0000010000000000ULL, 0xffffffffffffffffULL };
  struct { const char *name; uint64_t (*fn)(uint64_t, uint64_t, ureg *); int w; ureg mask; } ops[] = {
    { "bsf.16", bsf_16, 16, FL_ZF }, { "bsf.32", bsf_32, 32, FL_ZF }, { "bsr.16", bsr_16, 16, FL_ZF },
    { "bsr.32", bsr_32, 32, FL_ZF }, { "f3-0fbc.32", tzcnt_32, 32, FL_ZF | FL_CF },
    { "f3-0fbd.32", lzcnt_32, 32, FL_ZF | FL_CF },
#ifdef __x86_64__
    { "bsf.64", bsf_64, 64, FL_ZF }, { "bsr.64", bsr_64, 64, FL_ZF }, { "f3-0fbc.64", tzcnt_64, 64, FL_ZF | FL_CF },
    { "f3-0fbd.64", lzcnt_64, 64, FL_ZF | FL_CF },
#endif
  };
  int bmi1 = cpu_has(CPUID_7_EBX, 3), abm = cpu_has(CPUID_81_ECX, 5);
  printf("cpuid: bmi1=%d abm(lzcnt)=%d\n", bmi1, abm);
  for (unsigned o = 0; o < ARRAY_SIZE(ops); o++) {
    /* Without BMI1/ABM these are BSF/BSR: only ZF is defined. */
    ureg mask = ops[o].mask;
    if ((ops[o].fn == tzcnt_32 && !bmi1) || (ops[o].fn == lzcnt_32 && !abm)) mask = FL_ZF;
#ifdef __x86_64__
    if ((ops[o].fn == tzcnt_64 && !bmi1) || (ops[o].fn == lzcnt_64 && !abm)) mask = FL_ZF;
#endif
    printf("%s:", ops[o].name);
    for (unsigned i = 0; i < ARRAY_SIZE(vals); i++) {
      ureg f;
      uint64_t r = ops[o].fn(vals[i], 0x5555555555555555ULL, &f);
      printf(" %llx/%lx", (unsigned long long)r, (unsigned long)(f & mask));
    }
    printf("\n");
  }
  if (cpu_has(CPUID_1_ECX, 23)) {
    printf("popcnt:");
    for (unsigned i = 0; i < ARRAY_SIZE(vals); i++) {
      ureg r, f;
      __asm__ volatile("popcnt %2, %0\n\tpushf\n\tpop %1" : "=r"(r), "=r"(f) : "r"((ureg)vals[i]) : "cc");
      printf(" %lu/%lx", (unsigned long)r, (unsigned long)(f & FL_ARITH));
    }
    uint16_t r16;
    __asm__ volatile("popcntw %1, %0" : "=r"(r16) : "r"((uint16_t)0xf0f1) : "cc");
    printf(" w:%u\n", r16);
  } else {
    printf("skip: no popcnt\n");
  }
  /* BSWAP */
  uint32_t b32 = 0x11223344;
  __asm__ volatile("bswap %0" : "+r"(b32));
  printf("bswap32: %08x\n", (unsigned)b32);
#ifdef __x86_64__
  uint64_t b64 = 0x1122334455667788ULL;
  __asm__ volatile("bswap %0" : "+r"(b64));
  uint64_t r9v = 0x0102030405060708ULL;
  __asm__ volatile("movq %0, %%r9\n\tbswap %%r9d\n\tmovq %%r9, %0" : "+r"(r9v) :: "r9");
  printf("bswap64: %016lx bswap r9d: %016lx\n", b64, r9v);
#endif
}

/* ---- SETcc / CMOVcc / Jcc over all 32 combinations of CF PF ZF SF OF ---- */
static ureg combo_flags(int c) {
  return 0x002 | (c & 1 ? FL_CF : 0) | (c & 2 ? FL_PF : 0) | (c & 4 ? FL_ZF : 0) | (c & 8 ? FL_SF : 0) |
         (c & 16 ? FL_OF : 0);
}

#define CC_LIST(X) X(o) X(no) X(b) X(ae) X(e) X(ne) X(be) X(a) X(s) X(ns) X(p) X(np) X(l) X(ge) X(le) X(g)
#define SETCC(cc)                                                                               \
  static NOINLINE uint32_t set_##cc(ureg fin) {                                                 \
    uint8_t r = 0xaa;                                                                           \
    __asm__ volatile("push %1\n\tpopf\n\tset" #cc " %0" : "+q"(r) : "r"(fin) : "cc");           \
    return r;                                                                                   \
  }                                                                                             \
  static NOINLINE uint32_t cmov_##cc(ureg fin) {                                                \
    uint32_t r = 0x11111111, s = 0x22222222;                                                    \
    __asm__ volatile("push %2\n\tpopf\n\tcmov" #cc "l %1, %0" : "+r"(r) : "r"(s), "r"(fin) : "cc"); \
    return r;                                                                                   \
  }                                                                                             \
  static NOINLINE uint32_t cmovm_##cc(ureg fin) {                                               \
    static volatile uint16_t src = 0x3333;                                                      \
    uint16_t r = 0x4444;                                                                        \
    __asm__ volatile("push %2\n\tpopf\n\tcmov" #cc "w %1, %0" : "+r"(r) : "m"(src), "r"(fin) : "cc"); \
    return r;                                                                                   \
  }                                                                                             \
  static NOINLINE uint32_t j_##cc(ureg fin) {                                                   \
    uint32_t r;                                                                                 \
    __asm__ volatile("push %1\n\tpopf\n\tmovl $1, %0\n\tj" #cc " 1f\n\tmovl $0, %0\n1:"          \
                     : "=&r"(r) : "r"(fin) : "cc");                                             \
    return r;                                                                                   \
  }                                                                                             \
  static NOINLINE uint32_t jnear_##cc(ureg fin) {                                               \
    uint32_t r;                                                                                 \
    __asm__ volatile("push %1\n\tpopf\n\tmovl $1, %0\n\tj" #cc " 1f\n\tmovl $0, %0\n\t.fill 200, 1, 0x90\n1:" \
                     : "=&r"(r) : "r"(fin) : "cc");                                             \
    return r;                                                                                   \
  }
CC_LIST(SETCC)

#define CC_ROW(cc) { #cc, set_##cc, cmov_##cc, cmovm_##cc, j_##cc, jnear_##cc },
static const struct {
  const char *name;
  uint32_t (*set)(ureg), (*cmov)(ureg), (*cmovm)(ureg), (*j)(ureg), (*jn)(ureg);
} cc_rows[] = { CC_LIST(CC_ROW) };

/* One line per condition: bit c of each mask = the condition held for flag
 * combination c (bit0 CF, bit1 PF, bit2 ZF, bit3 SF, bit4 OF). */
static void cc_tests(void) {
  for (unsigned i = 0; i < ARRAY_SIZE(cc_rows); i++) {
    uint32_t set = 0, cmov = 0, cmovm = 0, j = 0, jn = 0, bad = 0;
    for (int c = 0; c < 32; c++) {
      ureg fin = combo_flags(c);
      uint32_t s = cc_rows[i].set(fin), m = cc_rows[i].cmov(fin), mm = cc_rows[i].cmovm(fin);
      if (s == 1) set |= 1u << c; else if (s != 0) bad |= 1;
      if (m == 0x22222222) cmov |= 1u << c; else if (m != 0x11111111) bad |= 2;
      if (mm == 0x3333) cmovm |= 1u << c; else if (mm != 0x4444) bad |= 4;
      if (cc_rows[i].j(fin)) j |= 1u << c;
      if (cc_rows[i].jn(fin)) jn |= 1u << c;
    }
    printf("cc %-2s: set=%08x cmov=%08x cmov-m16=%08x jcc8=%08x jcc32=%08x%s\n", cc_rows[i].name,
           (unsigned)set, (unsigned)cmov, (unsigned)cmovm, (unsigned)j, (unsigned)jn, bad ? " BAD" : "");
  }
}

/* ---- CMPXCHG / XADD / XCHG ---- */
#define CMPXCHG(name, insn, T, cons)                                                            \
  static NOINLINE void name(uint64_t mem, uint64_t acc, uint64_t src, uint64_t *omem, uint64_t *oacc, ureg *fo) { \
    T m = (T)mem, a = (T)acc;                                                                   \
    ureg f;                                                                                     \
    __asm__ volatile("lock " insn " %[s], %[m]\n\tpushf\n\tpop %[f]"                             \
                     : [m] "+m"(m), "+a"(a), [f] "=&r"(f) : [s] cons((T)src) : "cc", "memory"); \
    *omem = m; *oacc = a; *fo = f;                                                              \
  }
CMPXCHG(cx_8, "cmpxchgb", uint8_t, "q")
CMPXCHG(cx_16, "cmpxchgw", uint16_t, "r")
CMPXCHG(cx_32, "cmpxchgl", uint32_t, "r")
#ifdef __x86_64__
CMPXCHG(cx_64, "cmpxchgq", uint64_t, "r")
#endif

static void xchg_tests(void) {
  struct { const char *n; void (*fn)(uint64_t, uint64_t, uint64_t, uint64_t *, uint64_t *, ureg *); } cx[] = {
    { "cmpxchg.8", cx_8 }, { "cmpxchg.16", cx_16 }, { "cmpxchg.32", cx_32 },
#ifdef __x86_64__
    { "cmpxchg.64", cx_64 },
#endif
  };
  static const uint64_t cases[][3] = {
    /* mem, acc, src */
    { 0x1111111111111111ULL, 0x1111111111111111ULL, 0x2222222222222222ULL },
    { 0x1111111111111111ULL, 0x3333333333333333ULL, 0x2222222222222222ULL },
    { 0x0000000000000000ULL, 0x8000000000000080ULL, 0x5555555555555555ULL },
  };
  for (unsigned i = 0; i < ARRAY_SIZE(cx); i++) {
    printf("%s:", cx[i].n);
    for (unsigned c = 0; c < ARRAY_SIZE(cases); c++) {
      uint64_t m, a;
      ureg f;
      cx[i].fn(cases[c][0], cases[c][1], cases[c][2], &m, &a, &f);
      printf(" mem=%llx acc=%llx f=%03lx", (unsigned long long)m, (unsigned long long)a,
             (unsigned long)(f & FL_ARITH));
    }
    printf("\n");
  }
  /* CMPXCHG with a register destination */
  uint32_t d = 7, a = 7, s = 9;
  ureg f;
  __asm__ volatile("cmpxchgl %3, %0\n\tpushf\n\tpop %2" : "+r"(d), "+a"(a), "=r"(f) : "r"(s) : "cc");
  printf("cmpxchg r32 equal: dst=%x eax=%x f=%03lx\n", (unsigned)d, (unsigned)a, (unsigned long)(f & FL_ARITH));
  d = 7; a = 8;
  __asm__ volatile("cmpxchgl %3, %0\n\tpushf\n\tpop %2" : "+r"(d), "+a"(a), "=r"(f) : "r"(s) : "cc");
  printf("cmpxchg r32 differ: dst=%x eax=%x f=%03lx\n", (unsigned)d, (unsigned)a, (unsigned long)(f & FL_ARITH));

  /* CMPXCHG8B */
  static volatile uint64_t q8 __attribute__((aligned(8))) = 0x0123456789abcdefULL;
  uint32_t lo = 0x89abcdef, hi = 0x01234567;
  __asm__ volatile("lock cmpxchg8b %0\n\tpushf\n\tpop %3" : "+m"(q8), "+a"(lo), "+d"(hi), "=r"(f)
                   : "b"(0xdeadbeef), "c"(0xfeedface) : "cc", "memory");
  printf("cmpxchg8b equal: mem=%016llx edx:eax=%08x:%08x zf=%lu\n", (unsigned long long)q8, (unsigned)hi,
         (unsigned)lo, (unsigned long)((f >> 6) & 1));
  lo = 1; hi = 2;
  __asm__ volatile("cmpxchg8b %0\n\tpushf\n\tpop %3" : "+m"(q8), "+a"(lo), "+d"(hi), "=r"(f)
                   : "b"(0), "c"(0) : "cc", "memory");
  printf("cmpxchg8b differ: mem=%016llx edx:eax=%08x:%08x zf=%lu\n", (unsigned long long)q8, (unsigned)hi,
         (unsigned)lo, (unsigned long)((f >> 6) & 1));

  /* XADD */
  static volatile uint32_t xm = 0x7fffffff;
  uint32_t xr = 1;
  __asm__ volatile("lock xaddl %1, %0\n\tpushf\n\tpop %2" : "+m"(xm), "+r"(xr), "=r"(f) :: "cc", "memory");
  printf("xadd m32: mem=%08x reg=%08x f=%03lx\n", (unsigned)xm, (unsigned)xr, (unsigned long)(f & FL_ARITH));
  uint8_t xb1 = 0xff, xb2 = 0x02;
  __asm__ volatile("xaddb %1, %0\n\tpushf\n\tpop %2" : "+q"(xb1), "+q"(xb2), "=r"(f) :: "cc");
  printf("xadd r8: dst=%02x src=%02x f=%03lx\n", xb1, xb2, (unsigned long)(f & FL_ARITH));
  uint16_t x16 = 0x1234;
  __asm__ volatile("xaddw %0, %0\n\tpushf\n\tpop %1" : "+r"(x16), "=r"(f) :: "cc");
  printf("xadd r16 same register: %04x f=%03lx\n", x16, (unsigned long)(f & FL_ARITH));

  /* XCHG */
  static volatile uint32_t xcm = 0xaaaa5555;
  uint32_t xcr = 0x12345678;
  __asm__ volatile("xchgl %1, %0" : "+m"(xcm), "+r"(xcr) :: "memory");
  printf("xchg m32,r32: mem=%08x reg=%08x\n", (unsigned)xcm, (unsigned)xcr);
  uint32_t e1 = 0x1111, e2 = 0x2222;
  __asm__ volatile("xchgw %w1, %w0" : "+r"(e1), "+r"(e2));
  printf("xchg r16,r16: %08x %08x\n", (unsigned)e1, (unsigned)e2);
  uint32_t ax_ = 0xa, bx_ = 0xb;
  __asm__ volatile(".byte 0x93" : "+a"(ax_), "+b"(bx_)); /* xchg eax,ebx (90+r) */
  printf("xchg eax,ebx (93): eax=%x ebx=%x\n", (unsigned)ax_, (unsigned)bx_);
}

#endif
