/* Shared by sse32.c and sse64.c: SSE, SSE2, SSE3 and MMX. Vectors are
 * printed as hex, most significant lane first; MXCSR flags after each
 * operation (IE DE ZE OE UE PE = bits 0-5).
 *
 * Covered: packed/scalar single and double arithmetic (ADD SUB MUL DIV MIN
 * MAX SQRT) over special values (NaN propagation, default NaN, infinities,
 * signed zeros, denormals), DAZ and FTZ, conversions in every MXCSR
 * rounding mode (CVT* and truncating CVTT*, out-of-range -> integer
 * indefinite), CMPPS/CMPPD predicates, COMISS/UCOMISS/COMISD flags, packed
 * integer arithmetic (wrapping and saturating), multiplies, shifts by
 * immediate and by register (counts beyond the width), shuffles, unpacks,
 * packs, MOVMSK/PEXTRW/PINSRW/PSADBW/PAVG/PMIN/PMAX, MOVSS/MOVSD/MOVD/MOVQ
 * zero-extension rules, SSE3 horizontal ops, ADDSUB, MOVDDUP/MOVSLDUP/
 * MOVSHDUP, LDDQU, and MMX with EMMS (tag word).
 *
 * MXCSR flags are printed masked with 0x3d: QEMU 7.2 never sets DE
 * (denormal operand), hardware does. */
#ifndef SSE_TEMPLATE_H
#define SSE_TEMPLATE_H
#include "lib.h"

#ifdef __x86_64__
#define XCLOB "xmm0", "xmm1", "memory"
#define MMCLOB "mm0", "mm1", "memory"
#else
/* 32-bit programs are compiled for i686: the compiler never uses XMM/MMX
 * registers, and cannot name them in clobber lists. */
#define XCLOB "memory"
#define MMCLOB "memory"
#endif

typedef struct __attribute__((aligned(16))) {
  uint32_t w[4];
} v128;

#define MX_DEFAULT 0x1f80u
#define MXF(x) ((x) & 0x3d)   /* MXCSR exception flags except DE */
#define MX_RC(rc) (MX_DEFAULT | ((uint32_t)(rc) << 13))
#define MX_DAZ 0x0040u
#define MX_FTZ 0x8000u

static void pv(const v128 *v) { printf("%08x%08x%08x%08x", v->w[3], v->w[2], v->w[1], v->w[0]); }
static v128 V4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) { v128 v = { { a, b, c, d } }; return v; }
static v128 V2(uint64_t a, uint64_t b) {
  v128 v = { { (uint32_t)a, (uint32_t)(a >> 32), (uint32_t)b, (uint32_t)(b >> 32) } };
  return v;
}

/* r = a op b, MXCSR loaded first; returns MXCSR after. */
typedef uint32_t (*vop_fn)(const v128 *a, const v128 *b, v128 *r, uint32_t mx);
#define VOP(name, insn)                                                                            \
  static NOINLINE uint32_t name(const v128 *a, const v128 *b, v128 *r, uint32_t mx) {              \
    uint32_t out;                                                                                  \
    __asm__ volatile("ldmxcsr %[mi]\n\tmovdqa %[a], %%xmm0\n\t" insn " %[b], %%xmm0\n\t"             \
                     "movdqa %%xmm0, %[r]\n\tstmxcsr %[mo]\n\tldmxcsr %[md]"                         \
                     : [r] "=m"(*r), [mo] "=m"(out)                                                 \
                     : [a] "m"(*a), [b] "m"(*b), [mi] "m"(mx), [md] "m"(mx_default_cell) : XCLOB);  \
    return out;                                                                                    \
  }
static const uint32_t mx_default_cell = MX_DEFAULT;

VOP(addps, "addps") VOP(subps, "subps") VOP(mulps, "mulps") VOP(divps, "divps") VOP(minps, "minps")
VOP(maxps, "maxps") VOP(sqrtps, "sqrtps") VOP(addss, "addss") VOP(sqrtss, "sqrtss") VOP(divss, "divss")
VOP(addpd, "addpd") VOP(subpd, "subpd") VOP(mulpd, "mulpd") VOP(divpd, "divpd") VOP(minpd, "minpd")
VOP(maxpd, "maxpd") VOP(sqrtpd, "sqrtpd") VOP(addsd, "addsd") VOP(minsd, "minsd")
VOP(andps, "andps") VOP(andnps, "andnps") VOP(orpd, "orpd") VOP(xorps, "xorps")
VOP(cvtps2pd, "cvtps2pd") VOP(cvtpd2ps, "cvtpd2ps") VOP(cvtss2sd, "cvtss2sd") VOP(cvtsd2ss, "cvtsd2ss")
VOP(cvtps2dq, "cvtps2dq") VOP(cvttps2dq, "cvttps2dq") VOP(cvtdq2ps, "cvtdq2ps") VOP(cvtpd2dq, "cvtpd2dq")
VOP(cvttpd2dq, "cvttpd2dq") VOP(cvtdq2pd, "cvtdq2pd")
VOP(cmpeqps, "cmpeqps") VOP(cmpltps, "cmpltps") VOP(cmpleps, "cmpleps") VOP(cmpunordps, "cmpunordps")
VOP(cmpneqps, "cmpneqps") VOP(cmpnltps, "cmpnltps") VOP(cmpnleps, "cmpnleps") VOP(cmpordps, "cmpordps")
VOP(cmpltpd, "cmpltpd") VOP(cmpunordsd, "cmpunordsd")
/* SSE2 integer */
VOP(paddb, "paddb") VOP(paddw, "paddw") VOP(paddd, "paddd") VOP(paddq, "paddq") VOP(paddsb, "paddsb")
VOP(paddsw, "paddsw") VOP(paddusb, "paddusb") VOP(paddusw, "paddusw") VOP(psubb, "psubb") VOP(psubq, "psubq")
VOP(psubsb, "psubsb") VOP(psubsw, "psubsw") VOP(psubusb, "psubusb") VOP(psubusw, "psubusw")
VOP(pmullw, "pmullw") VOP(pmulhw, "pmulhw") VOP(pmulhuw, "pmulhuw") VOP(pmuludq, "pmuludq") VOP(pmaddwd, "pmaddwd")
VOP(pavgb, "pavgb") VOP(pavgw, "pavgw") VOP(pminub, "pminub") VOP(pmaxub, "pmaxub") VOP(pminsw, "pminsw")
VOP(pmaxsw, "pmaxsw") VOP(psadbw, "psadbw") VOP(pcmpeqb, "pcmpeqb") VOP(pcmpgtw, "pcmpgtw") VOP(pcmpgtd, "pcmpgtd")
VOP(punpcklbw, "punpcklbw") VOP(punpckhbw, "punpckhbw") VOP(punpcklwd, "punpcklwd") VOP(punpckhdq, "punpckhdq")
VOP(punpcklqdq, "punpcklqdq") VOP(punpckhqdq, "punpckhqdq") VOP(packsswb, "packsswb") VOP(packuswb, "packuswb")
VOP(packssdw, "packssdw") VOP(pand, "pand") VOP(pandn, "pandn") VOP(por, "por") VOP(pxor, "pxor")
VOP(psllw, "psllw") VOP(pslld, "pslld") VOP(psllq, "psllq") VOP(psrlw, "psrlw") VOP(psrld, "psrld")
VOP(psrlq, "psrlq") VOP(psraw, "psraw") VOP(psrad, "psrad")
VOP(unpcklps, "unpcklps") VOP(unpckhpd, "unpckhpd")
/* SSE3 */
VOP(haddps, "haddps") VOP(hsubps, "hsubps") VOP(haddpd, "haddpd") VOP(hsubpd, "hsubpd") VOP(addsubps, "addsubps")
VOP(addsubpd, "addsubpd") VOP(movddup, "movddup") VOP(movsldup, "movsldup") VOP(movshdup, "movshdup")
VOP(lddqu, "lddqu")
/* immediate forms */
VOP(pshufd_1b, "pshufd $0x1b,") VOP(pshufhw_e4, "pshufhw $0x4e,") VOP(pshuflw_b1, "pshuflw $0xb1,")
VOP(shufps_d8, "shufps $0xd8,") VOP(shufpd_1, "shufpd $1,") VOP(psllw_i3, "psllw $3, %%xmm0\n\tpor")
VOP(psrad_i31, "psrad $31, %%xmm0\n\tpor") VOP(psrlq_i64, "psrlq $64, %%xmm0\n\tpor")
VOP(pslldq_i5, "pslldq $5, %%xmm0\n\tpor") VOP(psrldq_i17, "psrldq $17, %%xmm0\n\tpor")
VOP(cmpps_7, "cmpps $7,")

static const uint32_t fvals[] = { 0x3f800000, 0xc0200000, 0x00000000, 0x80000000, 0x7f800000, 0xff800000,
                                  0x7fc00001, 0x7f800001, 0x00000001, 0x7f7fffff, 0x00800000, 0x3eaaaaab };
/* NaN operands: QEMU 7.2 picks between two NaN operands with the x87 rule
 * (SNaN + QNaN -> the QNaN, else the larger significand) where SSE hardware
 * returns the first operand. The QNaN and SNaN here quiet to the same bits,
 * so both rules give the same result (7fc00001 / 7f800001 likewise). */
static const uint64_t dvals[] = { 0x3ff0000000000000ULL, 0xc004000000000000ULL, 0x8000000000000000ULL,
                                  0x7ff0000000000000ULL, 0x7ff8000000000001ULL, 0x7ff0000000000001ULL,
                                  0x0000000000000001ULL, 0x7fefffffffffffffULL };

static void ps_table(const char *name, vop_fn fn, uint32_t mx) {
  int n = ARRAY_SIZE(fvals);
  for (int i = 0; i < n; i++) {
    printf("%s %08x:", name, fvals[i]);
    for (int j = 0; j < n; j += 4) {
      v128 a = V4(fvals[i], fvals[i], fvals[i], fvals[i]), b = V4(fvals[j], fvals[j + 1], fvals[j + 2], fvals[j + 3]), r;
      uint32_t o = fn(&a, &b, &r, mx);
      printf(" ");
      pv(&r);
      printf("/%02x", MXF(o));
    }
    printf("\n");
  }
}

static void pd_table(const char *name, vop_fn fn, uint32_t mx) {
  int n = ARRAY_SIZE(dvals);
  for (int i = 0; i < n; i++) {
    printf("%s %016llx:", name, (unsigned long long)dvals[i]);
    for (int j = 0; j < n; j += 2) {
      v128 a = V2(dvals[i], dvals[i]), b = V2(dvals[j], dvals[j + 1]), r;
      uint32_t o = fn(&a, &b, &r, mx);
      printf(" ");
      pv(&r);
      printf("/%02x", MXF(o));
    }
    printf("\n");
  }
}

static void one(const char *name, vop_fn fn, v128 a, v128 b, uint32_t mx) {
  v128 r;
  uint32_t o = fn(&a, &b, &r, mx);
  printf("%s ", name);
  pv(&a);
  printf(" , ");
  pv(&b);
  printf(" -> ");
  pv(&r);
  printf("/%02x\n", MXF(o));
}

static void float_tests(void) {
  ps_table("addps", addps, MX_DEFAULT);
  ps_table("subps", subps, MX_DEFAULT);
  ps_table("mulps", mulps, MX_DEFAULT);
  ps_table("divps", divps, MX_DEFAULT);
  ps_table("minps", minps, MX_DEFAULT);
  ps_table("maxps", maxps, MX_DEFAULT);
  ps_table("sqrtps", sqrtps, MX_DEFAULT);
  pd_table("addpd", addpd, MX_DEFAULT);
  pd_table("subpd", subpd, MX_DEFAULT);
  pd_table("mulpd", mulpd, MX_DEFAULT);
  pd_table("divpd", divpd, MX_DEFAULT);
  pd_table("minpd", minpd, MX_DEFAULT);
  pd_table("maxpd", maxpd, MX_DEFAULT);
  pd_table("sqrtpd", sqrtpd, MX_DEFAULT);
  /* scalar forms keep the upper lanes of the destination */
  one("addss", addss, V4(0x3f800000, 0x11111111, 0x22222222, 0x33333333), V4(0x40000000, 0x44444444, 0x55555555, 0x66666666), MX_DEFAULT);
  one("sqrtss", sqrtss, V4(0x11111111, 0x22222222, 0x33333333, 0x44444444), V4(0x40800000, 0, 0, 0), MX_DEFAULT);
  one("divss 1/0", divss, V4(0x3f800000, 1, 2, 3), V4(0, 0, 0, 0), MX_DEFAULT);
  one("addsd", addsd, V2(0x3ff0000000000000ULL, 0x1111111111111111ULL), V2(0x3ff0000000000000ULL, 0x2222222222222222ULL), MX_DEFAULT);
  one("minsd nan", minsd, V2(0x7ff8000000000000ULL, 0x1ULL), V2(0x3ff0000000000000ULL, 0x2ULL), MX_DEFAULT);
  /* rounding modes */
  for (int rc = 0; rc < 4; rc++) {
    printf("rc%d: ", rc);
    v128 a = V4(0x3f800000, 0xbf800000, 0x7f7fffff, 0x00800000), b = V4(0x40400000, 0x40400000, 0x7f7fffff, 0x40000000), r;
    uint32_t o = divps(&a, &b, &r, MX_RC(rc));
    pv(&r);
    printf("/%02x ", MXF(o));
    o = mulps(&a, &b, &r, MX_RC(rc));
    pv(&r);
    printf("/%02x ", MXF(o));
    v128 c = V2(0x3ff0000000000000ULL, 0xbff0000000000001ULL), d = V2(0x4008000000000000ULL, 0x4008000000000000ULL);
    o = divpd(&c, &d, &r, MX_RC(rc));
    pv(&r);
    printf("/%02x\n", MXF(o));
  }
  /* DAZ / FTZ */
  static const uint32_t fz[] = { 0, MX_DAZ, MX_FTZ, MX_DAZ | MX_FTZ };
  for (int k = 0; k < 4; k++) {
    v128 a = V4(0x00000001, 0x80400000, 0x00800000, 0x3f800000), b = V4(0x3f800000, 0x3f800000, 0x3f000000, 0x00000001), r;
    uint32_t o1 = mulps(&a, &b, &r, MX_DEFAULT | fz[k]);
    printf("daz=%d ftz=%d mulps: ", (fz[k] & MX_DAZ) != 0, (fz[k] & MX_FTZ) != 0);
    pv(&r);
    printf("/%02x", MXF(o1));
    v128 c = V2(0x0008000000000000ULL, 0x0010000000000000ULL), d = V2(0x3ff0000000000000ULL, 0x3fe0000000000000ULL);
    uint32_t o2 = mulpd(&c, &d, &r, MX_DEFAULT | fz[k]);
    printf(" mulpd: ");
    pv(&r);
    printf("/%02x\n", MXF(o2));
  }
  /* logical ops on floats */
  one("andps", andps, V4(0xffffffff, 0x7fffffff, 0x80000000, 0x12345678), V4(0x0f0f0f0f, 0xbf800000, 0x3f800000, 0xffff0000), MX_DEFAULT);
  one("andnps", andnps, V4(0xffffffff, 0x7fffffff, 0x80000000, 0x12345678), V4(0x0f0f0f0f, 0xbf800000, 0x3f800000, 0xffff0000), MX_DEFAULT);
  one("orpd", orpd, V2(0x8000000000000000ULL, 0x1ULL), V2(0x3ff0000000000000ULL, 0x2ULL), MX_DEFAULT);
  one("xorps", xorps, V4(1, 2, 3, 4), V4(1, 2, 3, 4), MX_DEFAULT);
}

static void convert_tests(void) {
  for (int rc = 0; rc < 4; rc++) {
    printf("== rounding %d\n", rc);
    one("cvtps2dq", cvtps2dq, V4(0, 0, 0, 0), V4(0x3fc00000, 0xc0200000, 0x4f000000, 0x7fc00000), MX_RC(rc));
    one("cvtps2dq", cvtps2dq, V4(0, 0, 0, 0), V4(0x3f000001, 0xbf000000, 0xcf000000, 0xcf000001), MX_RC(rc));
    one("cvttps2dq", cvttps2dq, V4(0, 0, 0, 0), V4(0x3fc00000, 0xc0200000, 0x4f000000, 0x7f800000), MX_RC(rc));
    one("cvtdq2ps", cvtdq2ps, V4(0, 0, 0, 0), V4(0x7fffffff, 0x80000001, 0x01000001, 0xfeffffff), MX_RC(rc));
    one("cvtpd2dq", cvtpd2dq, V4(1, 2, 3, 4), V2(0x3ff8000000000000ULL, 0xc1e0000000200000ULL), MX_RC(rc));
    one("cvttpd2dq", cvttpd2dq, V4(1, 2, 3, 4), V2(0xc004000000000000ULL, 0x41e0000000000000ULL), MX_RC(rc));
    one("cvtdq2pd", cvtdq2pd, V4(0, 0, 0, 0), V4(0x80000000, 0x7fffffff, 9, 9), MX_RC(rc));
    one("cvtpd2ps", cvtpd2ps, V4(1, 2, 3, 4), V2(0x3fd5555555555555ULL, 0x47efffffffffffffULL), MX_RC(rc));
    one("cvtps2pd", cvtps2pd, V4(0, 0, 0, 0), V4(0x7f800001, 0x00000001, 5, 5), MX_RC(rc));
    one("cvtsd2ss", cvtsd2ss, V4(0x11111111, 0x22222222, 0x33333333, 0x44444444), V2(0xbfd5555555555555ULL, 0x1ULL), MX_RC(rc));
    one("cvtss2sd", cvtss2sd, V4(0x11111111, 0x22222222, 0x33333333, 0x44444444), V4(0xff7fffff, 0, 0, 0), MX_RC(rc));
    /* to and from general registers */
    static const uint32_t fs[] = { 0x3fc00000, 0xc0200000, 0x4f000000, 0xcf000000, 0x7fc00000, 0x3f000000, 0xbf400000 };
    printf("cvtss2si/cvttss2si:");
    for (unsigned i = 0; i < ARRAY_SIZE(fs); i++) {
      uint32_t mx = MX_RC(rc), o2, md = MX_DEFAULT;
      int32_t r1, r2;
      /* flags printed: those of CVTTSS2SI alone */
      __asm__ volatile("ldmxcsr %4\n\tcvtss2si %3, %0\n\tldmxcsr %4\n\tcvttss2si %3, %1\n\tstmxcsr %2\n\tldmxcsr %5"
                       : "=&r"(r1), "=&r"(r2), "=m"(o2) : "m"(fs[i]), "m"(mx), "m"(md) : "memory");
      printf(" %08x/%08x/%02x", (unsigned)r1, (unsigned)r2, MXF(o2));
    }
    printf("\n");
    static const uint64_t ds[] = { 0x3ff8000000000000ULL, 0xc004000000000000ULL, 0x41dfffffffc00000ULL,
                                   0xc1e0000000100000ULL, 0x7ff8000000000000ULL };
    printf("cvtsd2si/cvttsd2si:");
    for (unsigned i = 0; i < ARRAY_SIZE(ds); i++) {
      uint32_t mx = MX_RC(rc), o2, md = MX_DEFAULT;
      int32_t r1, r2;
      __asm__ volatile("ldmxcsr %4\n\tcvtsd2si %3, %0\n\tcvttsd2si %3, %1\n\tstmxcsr %2\n\tldmxcsr %5"
                       : "=&r"(r1), "=&r"(r2), "=m"(o2) : "m"(ds[i]), "m"(mx), "m"(md) : "memory");
      printf(" %08x/%08x/%02x", (unsigned)r1, (unsigned)r2, MXF(o2));
    }
    printf("\n");
    static const int32_t is[] = { 0x7fffffff, (int32_t)0x80000001, 16777217, -3 };
    printf("cvtsi2ss/cvtsi2sd:");
    for (unsigned i = 0; i < ARRAY_SIZE(is); i++) {
      uint32_t mx = MX_RC(rc), md = MX_DEFAULT;
      v128 rs, rd;
      __asm__ volatile("ldmxcsr %3\n\tpcmpeqd %%xmm0, %%xmm0\n\tcvtsi2ssl %2, %%xmm0\n\tmovdqa %%xmm0, %0\n\t"
                       "cvtsi2sdl %2, %%xmm0\n\tmovdqa %%xmm0, %1\n\tldmxcsr %4"
                       : "=m"(rs), "=m"(rd) : "r"(is[i]), "m"(mx), "m"(md) : XCLOB);
      printf(" %08x %08x%08x(%08x)", rs.w[0], rd.w[1], rd.w[0], rd.w[2]);
    }
    printf("\n");
#ifdef __x86_64__
    static const int64_t ls[] = { 0x7fffffffffffffffLL, (int64_t)0x8000000000000001ULL, 0x20000000000001LL };
    printf("cvtsi2ss/sd (64-bit sources):");
    for (unsigned i = 0; i < ARRAY_SIZE(ls); i++) {
      uint32_t mx = MX_RC(rc), md = MX_DEFAULT;
      v128 rs, rd;
      __asm__ volatile("ldmxcsr %3\n\tcvtsi2ssq %2, %%xmm0\n\tmovdqa %%xmm0, %0\n\tcvtsi2sdq %2, %%xmm0\n\t"
                       "movdqa %%xmm0, %1\n\tldmxcsr %4"
                       : "=m"(rs), "=m"(rd) : "r"(ls[i]), "m"(mx), "m"(md) : XCLOB);
      printf(" %08x %08x%08x", rs.w[0], rd.w[1], rd.w[0]);
    }
    printf("\n");
    static const uint64_t d64[] = { 0x43e0000000000000ULL, 0xc3e0000000000000ULL, 0x4330000000000001ULL,
                                    0x3ff8000000000000ULL };
    printf("cvtsd2si/cvttsd2si 64:");
    for (unsigned i = 0; i < ARRAY_SIZE(d64); i++) {
      uint32_t mx = MX_RC(rc), md = MX_DEFAULT;
      int64_t r1, r2;
      __asm__ volatile("ldmxcsr %3\n\tcvtsd2siq %2, %0\n\tcvttsd2siq %2, %1\n\tldmxcsr %4"
                       : "=r"(r1), "=r"(r2) : "m"(d64[i]), "m"(mx), "m"(md) : "memory");
      printf(" %016llx/%016llx", (unsigned long long)r1, (unsigned long long)r2);
    }
    printf("\n");
#endif
  }
}

static void compare_tests(void) {
  static const char *const names[] = { "cmpeqps", "cmpltps", "cmpleps", "cmpunordps", "cmpneqps", "cmpnltps",
                                       "cmpnleps", "cmpordps" };
  vop_fn fns[] = { cmpeqps, cmpltps, cmpleps, cmpunordps, cmpneqps, cmpnltps, cmpnleps, cmpordps };
  v128 a = V4(0x3f800000, 0x3f800000, 0x7fc00000, 0x80000000), b = V4(0x3f800000, 0x40000000, 0x3f800000, 0x00000000);
  v128 c = V4(0x40000000, 0x7f800001, 0xff800000, 0x7f800000), d = V4(0x3f800000, 0x3f800000, 0xff800000, 0x7fc00000);
  for (int p = 0; p < 8; p++) {
    v128 r1, r2;
    uint32_t o1 = fns[p](&a, &b, &r1, MX_DEFAULT), o2 = fns[p](&c, &d, &r2, MX_DEFAULT);
    printf("%s: ", names[p]);
    pv(&r1);
    printf("/%02x ", MXF(o1));
    pv(&r2);
    printf("/%02x\n", MXF(o2));
  }
  one("cmpps $7", cmpps_7, a, b, MX_DEFAULT);
  one("cmpltpd", cmpltpd, V2(0x3ff0000000000000ULL, 0x7ff8000000000000ULL), V2(0x4000000000000000ULL, 0ULL), MX_DEFAULT);
  one("cmpunordsd", cmpunordsd, V2(0x7ff0000000000001ULL, 0x5ULL), V2(0x0ULL, 0x6ULL), MX_DEFAULT);
  /* COMISS / UCOMISS / COMISD: ZF PF CF, OF SF AF cleared; QNaN signals IE only for COMIS* */
  static const uint32_t cv[][2] = { { 0x3f800000, 0x40000000 }, { 0x40000000, 0x3f800000 }, { 0x80000000, 0x00000000 },
                                    { 0x7fc00000, 0x3f800000 }, { 0x3f800000, 0x7f800001 }, { 0xff800000, 0xff800000 } };
  for (unsigned i = 0; i < ARRAY_SIZE(cv); i++) {
    ureg f1, f2;
    uint32_t o1, o2, md = MX_DEFAULT;
    __asm__ volatile("ldmxcsr %4\n\tmovss %2, %%xmm0\n\tcomiss %3, %%xmm0\n\tpushf\n\tpop %0\n\tstmxcsr %1\n\tldmxcsr %4"
                     : "=r"(f1), "=m"(o1) : "m"(cv[i][0]), "m"(cv[i][1]), "m"(md) : XCLOB, "cc");
    __asm__ volatile("ldmxcsr %4\n\tmovss %2, %%xmm0\n\tucomiss %3, %%xmm0\n\tpushf\n\tpop %0\n\tstmxcsr %1\n\tldmxcsr %4"
                     : "=r"(f2), "=m"(o2) : "m"(cv[i][0]), "m"(cv[i][1]), "m"(md) : XCLOB, "cc");
    printf("comiss %08x,%08x: flags=%03lx/%02x ucomiss: flags=%03lx/%02x\n", cv[i][0], cv[i][1],
           (unsigned long)(f1 & 0x8d5), MXF(o1), (unsigned long)(f2 & 0x8d5), MXF(o2));
  }
  static const uint64_t dv[] = { 0x7ff8000000000000ULL, 0x3ff0000000000000ULL };
  ureg f;
  __asm__ volatile("movsd %1, %%xmm0\n\tcomisd %2, %%xmm0\n\tpushf\n\tpop %0" : "=r"(f) : "m"(dv[1]), "m"(dv[1]) : XCLOB, "cc");
  printf("comisd equal: %03lx\n", (unsigned long)(f & 0x8d5));
  __asm__ volatile("movsd %1, %%xmm0\n\tucomisd %2, %%xmm0\n\tpushf\n\tpop %0" : "=r"(f) : "m"(dv[1]), "m"(dv[0]) : XCLOB, "cc");
  printf("ucomisd unordered: %03lx\n", (unsigned long)(f & 0x8d5));
  uint32_t md = MX_DEFAULT;
  __asm__ volatile("ldmxcsr %0" :: "m"(md));
}

static void integer_tests(void) {
  v128 a = V4(0x807f01ff, 0x7fff8000, 0x00010002, 0xfffefffd), b = V4(0x8001ff01, 0x0001ffff, 0x7fff8000, 0x00030004);
  v128 c = V4(0x12345678, 0x9abcdef0, 0x0fedcba9, 0x87654321);
  struct { const char *n; vop_fn f; } ops[] = {
    { "paddb", paddb }, { "paddw", paddw }, { "paddd", paddd }, { "paddq", paddq }, { "paddsb", paddsb },
    { "paddsw", paddsw }, { "paddusb", paddusb }, { "paddusw", paddusw }, { "psubb", psubb }, { "psubq", psubq },
    { "psubsb", psubsb }, { "psubsw", psubsw }, { "psubusb", psubusb }, { "psubusw", psubusw },
    { "pmullw", pmullw }, { "pmulhw", pmulhw }, { "pmulhuw", pmulhuw }, { "pmuludq", pmuludq },
    { "pmaddwd", pmaddwd }, { "pavgb", pavgb }, { "pavgw", pavgw }, { "pminub", pminub }, { "pmaxub", pmaxub },
    { "pminsw", pminsw }, { "pmaxsw", pmaxsw }, { "psadbw", psadbw }, { "pcmpeqb", pcmpeqb }, { "pcmpgtw", pcmpgtw },
    { "pcmpgtd", pcmpgtd }, { "punpcklbw", punpcklbw }, { "punpckhbw", punpckhbw }, { "punpcklwd", punpcklwd },
    { "punpckhdq", punpckhdq }, { "punpcklqdq", punpcklqdq }, { "punpckhqdq", punpckhqdq },
    { "packsswb", packsswb }, { "packuswb", packuswb }, { "packssdw", packssdw }, { "pand", pand },
    { "pandn", pandn }, { "por", por }, { "pxor", pxor }, { "unpcklps", unpcklps }, { "unpckhpd", unpckhpd },
    { "pshufd $0x1b", pshufd_1b }, { "pshufhw $0x4e", pshufhw_e4 }, { "pshuflw $0xb1", pshuflw_b1 },
    { "shufps $0xd8", shufps_d8 }, { "shufpd $1", shufpd_1 },
  };
  for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
    one(ops[i].n, ops[i].f, a, b, MX_DEFAULT);
    one(ops[i].n, ops[i].f, c, a, MX_DEFAULT);
  }
  /* shifts by an XMM count: counts 0, 3, width-1, width, huge */
  static const uint32_t counts[] = { 0, 3, 15, 16, 31, 32, 63, 64 };
  struct { const char *n; vop_fn f; } sh[] = {
    { "psllw", psllw }, { "pslld", pslld }, { "psllq", psllq }, { "psrlw", psrlw }, { "psrld", psrld },
    { "psrlq", psrlq }, { "psraw", psraw }, { "psrad", psrad },
  };
  for (unsigned i = 0; i < ARRAY_SIZE(sh); i++) {
    printf("%s:", sh[i].n);
    for (unsigned k = 0; k < ARRAY_SIZE(counts); k++) {
      v128 cnt = V4(counts[k], 0, 0, 0), r;
      sh[i].f(&c, &cnt, &r, MX_DEFAULT);
      printf(" %u=", counts[k]);
      pv(&r);
    }
    v128 huge = V4(1, 1, 0, 0), r;
    sh[i].f(&c, &huge, &r, MX_DEFAULT);
    printf(" 2^32+1=");
    pv(&r);
    printf("\n");
  }
  v128 z = V4(0, 0, 0, 0);
  one("psllw $3 (| 0)", psllw_i3, c, z, MX_DEFAULT);
  one("psrad $31", psrad_i31, c, z, MX_DEFAULT);
  one("psrlq $64", psrlq_i64, c, z, MX_DEFAULT);
  one("pslldq $5", pslldq_i5, c, z, MX_DEFAULT);
  one("psrldq $17", psrldq_i17, c, z, MX_DEFAULT);

  /* moves between registers and the zero-extension rules */
  v128 r1, r2, r3, r4;
  static const uint32_t m32 = 0xaabbccdd;
  static const uint64_t m64 = 0x1122334455667788ULL;
  __asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\tmovss %4, %%xmm0\n\tmovdqa %%xmm0, %0\n\t"
                   "pcmpeqd %%xmm1, %%xmm1\n\tmovss %%xmm0, %%xmm1\n\tmovdqa %%xmm1, %1\n\t"
                   "pcmpeqd %%xmm0, %%xmm0\n\tmovq %5, %%xmm0\n\tmovdqa %%xmm0, %2\n\t"
                   "pcmpeqd %%xmm0, %%xmm0\n\tmovd %6, %%xmm0\n\tmovdqa %%xmm0, %3"
                   : "=m"(r1), "=m"(r2), "=m"(r3), "=m"(r4) : "m"(m32), "m"(m64), "r"(0x12345678) : XCLOB);
  printf("movss m32: "); pv(&r1); printf(" movss reg: "); pv(&r2); printf(" movq m64: "); pv(&r3);
  printf(" movd r32: "); pv(&r4); printf("\n");
  __asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\tmovsd %2, %%xmm0\n\tmovdqa %%xmm0, %0\n\t"
                   "movdqa %3, %%xmm1\n\tmovq %%xmm1, %%xmm0\n\tmovdqa %%xmm0, %1"
                   : "=m"(r1), "=m"(r2) : "m"(m64), "m"(c) : XCLOB);
  printf("movsd m64: "); pv(&r1); printf(" movq xmm,xmm: "); pv(&r2); printf("\n");
  __asm__ volatile("movdqa %2, %%xmm0\n\tmovdqa %3, %%xmm1\n\tmovhlps %%xmm1, %%xmm0\n\tmovdqa %%xmm0, %0\n\t"
                   "movdqa %2, %%xmm0\n\tmovlhps %%xmm1, %%xmm0\n\tmovdqa %%xmm0, %1"
                   : "=m"(r1), "=m"(r2) : "m"(a), "m"(c) : XCLOB);
  printf("movhlps: "); pv(&r1); printf(" movlhps: "); pv(&r2); printf("\n");
  uint32_t mask1, mask2, mask3, ext;
  __asm__ volatile("movdqa %4, %%xmm0\n\tpmovmskb %%xmm0, %0\n\tmovmskps %%xmm0, %1\n\tmovmskpd %%xmm0, %2\n\t"
                   "pextrw $5, %%xmm0, %3" : "=r"(mask1), "=r"(mask2), "=r"(mask3), "=r"(ext) : "m"(a) : XCLOB);
  printf("pmovmskb=%04x movmskps=%x movmskpd=%x pextrw5=%08x\n", (unsigned)mask1, (unsigned)mask2, (unsigned)mask3, (unsigned)ext);
  __asm__ volatile("movdqa %1, %%xmm0\n\tpinsrw $2, %2, %%xmm0\n\tmovdqa %%xmm0, %0" : "=m"(r1) : "m"(a), "r"(0xdead5555) : XCLOB);
  printf("pinsrw $2: "); pv(&r1); printf("\n");
  /* MOVAPS requires 16-byte alignment, MOVUPS does not */
  static uint8_t buf[48] __attribute__((aligned(16)));
  for (int i = 0; i < 48; i++) buf[i] = (uint8_t)i;
  __asm__ volatile("movups %1, %%xmm0\n\tmovdqa %%xmm0, %0" : "=m"(r1) : "m"(buf[3]) : XCLOB);
  printf("movups unaligned: "); pv(&r1); printf("\n");
  trap_clear();
  __asm__ volatile(TRAP_BEGIN "movaps 3(%0), %%xmm0" TRAP_END :: "r"(buf) : XCLOB);
  print_trap("movaps unaligned");
  __asm__ volatile(TRAP_BEGIN "addps 4(%0), %%xmm0" TRAP_END :: "r"(buf) : XCLOB);
  print_trap("addps m128 unaligned");
  __asm__ volatile(TRAP_BEGIN "addss 5(%0), %%xmm0" TRAP_END :: "r"(buf) : XCLOB);
  print_trap("addss m32 unaligned");
  /* MASKMOVDQU: byte stores under a mask, to [EDI/RDI] */
  static uint8_t dst[16] __attribute__((aligned(16)));
  for (int i = 0; i < 16; i++) dst[i] = 0xee;
  v128 data = V4(0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c), msk = V4(0x80008000, 0x00800080, 0xffffffff, 0);
  __asm__ volatile("movdqa %1, %%xmm0\n\tmovdqa %2, %%xmm1\n\tmaskmovdqu %%xmm1, %%xmm0" :: "D"(dst), "m"(data), "m"(msk) : XCLOB);
  printf("maskmovdqu:");
  for (int i = 0; i < 16; i++) printf(" %02x", dst[i]);
  printf("\n");
}

static void sse3_tests(void) {
  if (!cpu_has(CPUID_1_ECX, 0)) {
    printf("skip: no sse3\n");
    return;
  }
  v128 a = V4(0x3f800000, 0x40000000, 0x40400000, 0x7f800000), b = V4(0x40800000, 0xc0a00000, 0x7fc00001, 0xff800000);
  v128 c = V2(0x3ff0000000000000ULL, 0x4000000000000000ULL), d = V2(0x7ff0000000000000ULL, 0xfff0000000000000ULL);
  one("haddps", haddps, a, b, MX_DEFAULT);
  one("hsubps", hsubps, a, b, MX_DEFAULT);
  one("haddpd", haddpd, c, d, MX_DEFAULT);
  one("hsubpd", hsubpd, c, d, MX_DEFAULT);
  one("addsubps", addsubps, a, b, MX_DEFAULT);
  one("addsubpd", addsubpd, c, d, MX_DEFAULT);
  one("movddup", movddup, a, c, MX_DEFAULT);
  one("movsldup", movsldup, a, b, MX_DEFAULT);
  one("movshdup", movshdup, a, b, MX_DEFAULT);
  one("lddqu", lddqu, a, b, MX_DEFAULT);
  static uint8_t buf[32];
  for (int i = 0; i < 32; i++) buf[i] = (uint8_t)(0xa0 + i);
  v128 r;
  __asm__ volatile("lddqu %1, %%xmm0\n\tmovdqa %%xmm0, %0" : "=m"(r) : "m"(buf[7]) : XCLOB);
  printf("lddqu unaligned: "); pv(&r); printf("\n");
  __asm__ volatile("movddup %1, %%xmm0\n\tmovdqa %%xmm0, %0" : "=m"(r) : "m"(buf[3]) : XCLOB);
  printf("movddup m64 unaligned: "); pv(&r); printf("\n");
}

struct fenv32 { uint32_t cw, sw, tw, fip, fcs, fdp, fds; };
static void mmx_tests(void) {
  uint64_t r1, r2, r3;
  static const uint64_t a = 0x807f01ff7fff8000ULL, b = 0x8001ff010001ffffULL;
  struct fenv32 e1, e2;
  __asm__ volatile("fninit\n\tmovq %4, %%mm0\n\tmovq %5, %%mm1\n\tpaddb %%mm1, %%mm0\n\tmovq %%mm0, %0\n\t"
                   "movq %4, %%mm0\n\tpmaddwd %%mm1, %%mm0\n\tmovq %%mm0, %1\n\t"
                   "movq %4, %%mm0\n\tpunpckhbw %%mm1, %%mm0\n\tmovq %%mm0, %2\n\tfnstenv %3"
                   : "=m"(r1), "=m"(r2), "=m"(r3), "=m"(e1) : "m"(a), "m"(b) : MMCLOB);
  __asm__ volatile("fldenv %1\n\temms\n\tfnstenv %0" : "=m"(e2) : "m"(e1) : MMCLOB);
  printf("mmx paddb=%016llx pmaddwd=%016llx punpckhbw=%016llx\n", (unsigned long long)r1, (unsigned long long)r2,
         (unsigned long long)r3);
  printf("after mmx: sw=%04x tw=%04x; after emms: tw=%04x\n", e1.sw & 0xffff, e1.tw & 0xffff, e2.tw & 0xffff);
  /* MMX registers alias the x87 mantissas: st0 after movq to mm0. (The
   * sign/exponent half is not printed: hardware sets it to ffff, QEMU 7.2
   * leaves it alone.) */
  uint8_t save[108];
  __asm__ volatile("fninit\n\tmovq %1, %%mm0\n\tfnsave %0\n\temms" : "=m"(save) : "m"(a) : MMCLOB);
  printf("mm0 as st0 mantissa in fnsave: ");
  for (int i = 35; i >= 28; i--) printf("%02x", save[i]);
  printf("\n");
  uint32_t d;
  __asm__ volatile("movq %1, %%mm1\n\tpsrlq $8, %%mm1\n\tmovd %%mm1, %0\n\temms" : "=r"(d) : "m"(b) : MMCLOB);
  printf("mmx psrlq/movd: %08x\n", (unsigned)d);
  __asm__ volatile("fninit");
}

static void sse_all(void) {
  float_tests();
  convert_tests();
  compare_tests();
  integer_tests();
  sse3_tests();
  mmx_tests();
}

#endif
