/* Oracle for src/frontend/x86/sse.ts (test/x86-sse.test.ts): runs MMX, SSE, SSE2, SSE3
 * and SSSE3 instructions on the CPU it runs on over a deterministic table of inputs
 * (special values, random values, every MXCSR rounding mode, DAZ and FTZ) and prints
 * one line per execution:
 *
 *   name imm mxcsr_in a0 a1 a2 a3 b0 b1 b2 b3 r0 r1 r2 r3 mxcsr_out
 *
 * (hex, 32-bit words, least significant first). Before each instruction xmm0 = A,
 * xmm1 = B, mm0 = A[63:0], mm1 = B[63:0], rax = B[63:0], rdi = &M with M = B, and
 * MXCSR = mxcsr_in. R is what the test's `out` kind selects: xmm0, mm0, memory M,
 * rax, or EFLAGS & 0x8d5.
 *
 * Built two ways: as a Linux program with the host gcc (the test does that: real
 * hardware), and with -DBAREMETAL against the x86 corpus runtime (test/x86/common,
 * 64-bit) to run the very same table on qemu-system-x86_64 -cpu max (QEMU 7.2);
 * see record-qemu.mjs, which stores that run in qemu-7.2.txt.gz. */
#ifdef BAREMETAL
#include "lib.h"
#else
#include <stdint.h>
#include <stdio.h>
#endif

typedef struct __attribute__((aligned(16))) {
  uint32_t w[4];
} v128;

static v128 A, B, M, RX, RM;
static uint64_t G, FL;
static uint32_t MXI, MXO;
static const uint32_t MXD = 0x1f80;

enum { OX, OM, OMEM, OG, OF };

#define HARNESS(text)                                                                              \
  __asm__ volatile("movdqa %[a], %%xmm0\n\tmovdqa %[b], %%xmm1\n\tmovq %[a], %%mm0\n\t"             \
                   "movq %[b], %%mm1\n\tmov %[b], %%rax\n\tldmxcsr %[mxi]\n\t" text "\n\t"           \
                   "pushfq\n\tpop %%rcx\n\tstmxcsr %[mxo]\n\tldmxcsr %[mxd]\n\t"                     \
                   "movdqa %%xmm0, %[rx]\n\tmovq %%mm0, %[rm]\n\temms\n\t"                           \
                   "mov %%rax, %[g]\n\tmov %%rcx, %[fl]"                                             \
                   : [rx] "=m"(RX), [rm] "=m"(RM), [g] "=m"(G), [fl] "=m"(FL), [mxo] "=m"(MXO)      \
                   : [a] "m"(A), [b] "m"(B), [mxi] "m"(MXI), [mxd] "m"(MXD), "D"(&M)                  \
                   : "rax", "rcx", "xmm0", "xmm1", "mm0", "mm1", "memory", "cc")

/* Input classes. */
enum {
  F32F,  /* binary single precision: every pair of specials under every configuration */
  F64F,
  F32B,  /* binary single precision: every pair of specials once */
  F64B,
  F32C,  /* binary single precision: a sample of the pairs (compares, memory forms) */
  F64C,
  F32U,  /* unary single (source B) */
  F64U,  /* unary double */
  F32I,  /* single -> integer conversions */
  F64I,  /* double -> integer / single conversions */
  I2F,   /* integer -> float conversions */
  INT,   /* integer SIMD */
  SHIFT, /* shift by register count */
  MOV,   /* data movement: one random pair */
};

/* X(name, class, imm, out, "instruction text") */
#define CMP8(X, n, op, cls)                                                                       \
  X(n##_0, cls, 0, OX, op " $0, %%xmm1, %%xmm0") X(n##_1, cls, 1, OX, op " $1, %%xmm1, %%xmm0")  \
  X(n##_2, cls, 2, OX, op " $2, %%xmm1, %%xmm0") X(n##_3, cls, 3, OX, op " $3, %%xmm1, %%xmm0")  \
  X(n##_4, cls, 4, OX, op " $4, %%xmm1, %%xmm0") X(n##_5, cls, 5, OX, op " $5, %%xmm1, %%xmm0")  \
  X(n##_6, cls, 6, OX, op " $6, %%xmm1, %%xmm0") X(n##_7, cls, 7, OX, op " $7, %%xmm1, %%xmm0")

/* Register binary op in both widths: xmm (66 / prefixed form) and mmx. */
#define XB(X, n, cls) X(n, cls, 0, OX, #n " %%xmm1, %%xmm0")
#define MB(X, n, cls) X(n##_mm, cls, 0, OM, #n " %%mm1, %%mm0")
#define XMB(X, n, cls) XB(X, n, cls) MB(X, n, cls)

#define SHIFTI(X, n, c) X(n##_i##c, INT, c, OX, #n " $" #c ", %%xmm0") X(n##_mm_i##c, INT, c, OM, #n " $" #c ", %%mm0")
#define SHIFTIS(X, n)                                                                              \
  SHIFTI(X, n, 0) SHIFTI(X, n, 1) SHIFTI(X, n, 7) SHIFTI(X, n, 8) SHIFTI(X, n, 15) SHIFTI(X, n, 16) \
  SHIFTI(X, n, 31) SHIFTI(X, n, 32) SHIFTI(X, n, 33) SHIFTI(X, n, 63) SHIFTI(X, n, 64) SHIFTI(X, n, 200)
#define DQSHIFT(X, n, c) X(n##_i##c, INT, c, OX, #n " $" #c ", %%xmm0")
#define DQSHIFTS(X, n)                                                                             \
  DQSHIFT(X, n, 0) DQSHIFT(X, n, 1) DQSHIFT(X, n, 5) DQSHIFT(X, n, 8) DQSHIFT(X, n, 15) DQSHIFT(X, n, 16) \
  DQSHIFT(X, n, 17) DQSHIFT(X, n, 255)
#define SHUF(X, n, c, reg, out) X(n##_##c, INT, 0x##c, out, #n " $0x" #c ", %%" reg "1, %%" reg "0")
#define SHUFS(X, n, reg, out)                                                                      \
  SHUF(X, n, 00, reg, out) SHUF(X, n, 1b, reg, out) SHUF(X, n, e4, reg, out) SHUF(X, n, 4e, reg, out) \
  SHUF(X, n, b1, reg, out) SHUF(X, n, 39, reg, out) SHUF(X, n, d8, reg, out) SHUF(X, n, ff, reg, out)
#define ALIGNR(X, c) X(palignr_##c, INT, c, OX, "palignr $" #c ", %%xmm1, %%xmm0")                \
  X(palignr_mm_##c, INT, c, OM, "palignr $" #c ", %%mm1, %%mm0")
#define PEXT(X, c) X(pextrw_##c, INT, c, OG, "pextrw $" #c ", %%xmm1, %%eax")                     \
  X(pextrw_mm_##c, INT, c, OG, "pextrw $" #c ", %%mm1, %%eax")
#define PINS(X, c) X(pinsrw_##c, INT, c, OX, "pinsrw $" #c ", %%eax, %%xmm0")                     \
  X(pinsrw_mm_##c, INT, c, OM, "pinsrw $" #c ", %%eax, %%mm0")                                  \
  X(pinsrw_m_##c, INT, c, OX, "pinsrw $" #c ", (%%rdi), %%xmm0")

#define TESTS(X)                                                                                   \
  /* single precision arithmetic */                                                               \
  XB(X, addss, F32F) XB(X, addps, F32B) XB(X, subss, F32F) XB(X, subps, F32B)                     \
  XB(X, mulss, F32F) XB(X, mulps, F32B) XB(X, divss, F32F) XB(X, divps, F32B)                     \
  XB(X, minss, F32F) XB(X, minps, F32B) XB(X, maxss, F32F) XB(X, maxps, F32B)                     \
  XB(X, addsubps, F32B) XB(X, haddps, F32B) XB(X, hsubps, F32B)                                   \
  CMP8(X, cmpss, "cmpss", F32C) CMP8(X, cmpps, "cmpps", F32C)                                     \
  X(comiss, F32B, 0, OF, "comiss %%xmm1, %%xmm0") X(ucomiss, F32B, 0, OF, "ucomiss %%xmm1, %%xmm0") \
  X(addss_m, F32C, 0, OX, "addss (%%rdi), %%xmm0") X(mulps_m, F32C, 0, OX, "mulps (%%rdi), %%xmm0") \
  /* double precision arithmetic */                                                               \
  XB(X, addsd, F64F) XB(X, addpd, F64B) XB(X, subsd, F64F) XB(X, subpd, F64B)                     \
  XB(X, mulsd, F64F) XB(X, mulpd, F64B) XB(X, divsd, F64F) XB(X, divpd, F64B)                     \
  XB(X, minsd, F64F) XB(X, minpd, F64B) XB(X, maxsd, F64F) XB(X, maxpd, F64B)                     \
  XB(X, addsubpd, F64B) XB(X, haddpd, F64B) XB(X, hsubpd, F64B)                                   \
  CMP8(X, cmpsd, "cmpsd", F64C) CMP8(X, cmppd, "cmppd", F64C)                                     \
  X(comisd, F64B, 0, OF, "comisd %%xmm1, %%xmm0") X(ucomisd, F64B, 0, OF, "ucomisd %%xmm1, %%xmm0") \
  X(divsd_m, F64C, 0, OX, "divsd (%%rdi), %%xmm0")                                                \
  /* unary */                                                                                     \
  XB(X, sqrtss, F32U) XB(X, sqrtps, F32U) XB(X, rcpss, F32U) XB(X, rcpps, F32U)                   \
  XB(X, rsqrtss, F32U) XB(X, rsqrtps, F32U) XB(X, sqrtsd, F64U) XB(X, sqrtpd, F64U)               \
  XB(X, cvtss2sd, F32U) XB(X, cvtps2pd, F32U) XB(X, cvtsd2ss, F64I) XB(X, cvtpd2ps, F64I)         \
  X(cvtss2sd_m, F32U, 0, OX, "cvtss2sd (%%rdi), %%xmm0") X(cvtps2pd_m, F32U, 0, OX, "cvtps2pd (%%rdi), %%xmm0") \
  X(movmskps, F32U, 0, OG, "movmskps %%xmm1, %%eax") X(movmskpd, F64U, 0, OG, "movmskpd %%xmm1, %%eax") \
  /* float -> integer */                                                                          \
  XB(X, cvtps2dq, F32I) XB(X, cvttps2dq, F32I)                                                    \
  X(cvtps2pi, F32I, 0, OM, "cvtps2pi %%xmm1, %%mm0") X(cvttps2pi, F32I, 0, OM, "cvttps2pi %%xmm1, %%mm0") \
  X(cvtps2pi_m, F32I, 0, OM, "cvtps2pi (%%rdi), %%mm0")                                           \
  X(cvtss2si, F32I, 0, OG, "cvtss2si %%xmm1, %%eax") X(cvtss2si_q, F32I, 0, OG, "cvtss2si %%xmm1, %%rax") \
  X(cvttss2si, F32I, 0, OG, "cvttss2si %%xmm1, %%eax") X(cvttss2si_q, F32I, 0, OG, "cvttss2si %%xmm1, %%rax") \
  XB(X, cvtpd2dq, F64I) XB(X, cvttpd2dq, F64I)                                                    \
  X(cvtpd2pi, F64I, 0, OM, "cvtpd2pi %%xmm1, %%mm0") X(cvttpd2pi, F64I, 0, OM, "cvttpd2pi %%xmm1, %%mm0") \
  X(cvtsd2si, F64I, 0, OG, "cvtsd2si %%xmm1, %%eax") X(cvtsd2si_q, F64I, 0, OG, "cvtsd2si %%xmm1, %%rax") \
  X(cvttsd2si, F64I, 0, OG, "cvttsd2si %%xmm1, %%eax") X(cvttsd2si_q, F64I, 0, OG, "cvttsd2si %%xmm1, %%rax") \
  /* integer -> float */                                                                          \
  XB(X, cvtdq2ps, I2F) XB(X, cvtdq2pd, I2F)                                                       \
  X(cvtsi2ss, I2F, 0, OX, "cvtsi2ss %%eax, %%xmm0") X(cvtsi2ss_q, I2F, 0, OX, "cvtsi2ss %%rax, %%xmm0") \
  X(cvtsi2sd, I2F, 0, OX, "cvtsi2sd %%eax, %%xmm0") X(cvtsi2sd_q, I2F, 0, OX, "cvtsi2sd %%rax, %%xmm0") \
  X(cvtsi2ss_m, I2F, 0, OX, "cvtsi2ssl (%%rdi), %%xmm0") X(cvtsi2sd_mq, I2F, 0, OX, "cvtsi2sdq (%%rdi), %%xmm0") \
  X(cvtpi2ps, I2F, 0, OX, "cvtpi2ps %%mm1, %%xmm0") X(cvtpi2pd, I2F, 0, OX, "cvtpi2pd %%mm1, %%xmm0") \
  X(cvtpi2ps_m, I2F, 0, OX, "cvtpi2ps (%%rdi), %%xmm0") X(cvtdq2pd_m, I2F, 0, OX, "cvtdq2pd (%%rdi), %%xmm0") \
  /* integer SIMD, xmm and mmx */                                                                 \
  XMB(X, punpcklbw, INT) XMB(X, punpcklwd, INT) XMB(X, punpckldq, INT) XMB(X, packsswb, INT)      \
  XMB(X, pcmpgtb, INT) XMB(X, pcmpgtw, INT) XMB(X, pcmpgtd, INT) XMB(X, packuswb, INT)            \
  XMB(X, punpckhbw, INT) XMB(X, punpckhwd, INT) XMB(X, punpckhdq, INT) XMB(X, packssdw, INT)      \
  XB(X, punpcklqdq, INT) XB(X, punpckhqdq, INT)                                                   \
  XMB(X, pcmpeqb, INT) XMB(X, pcmpeqw, INT) XMB(X, pcmpeqd, INT)                                  \
  XMB(X, paddq, INT) XMB(X, pmullw, INT) XMB(X, psubusb, INT) XMB(X, psubusw, INT)                \
  XMB(X, pminub, INT) XMB(X, pand, INT) XMB(X, paddusb, INT) XMB(X, paddusw, INT)                 \
  XMB(X, pmaxub, INT) XMB(X, pandn, INT) XMB(X, pavgb, INT) XMB(X, pavgw, INT)                    \
  XMB(X, pmulhuw, INT) XMB(X, pmulhw, INT) XMB(X, psubsb, INT) XMB(X, psubsw, INT)                \
  XMB(X, pminsw, INT) XMB(X, por, INT) XMB(X, paddsb, INT) XMB(X, paddsw, INT)                    \
  XMB(X, pmaxsw, INT) XMB(X, pxor, INT) XMB(X, pmuludq, INT) XMB(X, pmaddwd, INT)                 \
  XMB(X, psadbw, INT) XMB(X, psubb, INT) XMB(X, psubw, INT) XMB(X, psubd, INT) XMB(X, psubq, INT) \
  XMB(X, paddb, INT) XMB(X, paddw, INT) XMB(X, paddd, INT)                                        \
  XMB(X, pshufb, INT) XMB(X, phaddw, INT) XMB(X, phaddd, INT) XMB(X, phaddsw, INT)                \
  XMB(X, pmaddubsw, INT) XMB(X, phsubw, INT) XMB(X, phsubd, INT) XMB(X, phsubsw, INT)             \
  XMB(X, psignb, INT) XMB(X, psignw, INT) XMB(X, psignd, INT) XMB(X, pmulhrsw, INT)               \
  XMB(X, pabsb, INT) XMB(X, pabsw, INT) XMB(X, pabsd, INT)                                        \
  XB(X, andps, INT) XB(X, andpd, INT) XB(X, andnps, INT) XB(X, andnpd, INT) XB(X, orps, INT)      \
  XB(X, orpd, INT) XB(X, xorps, INT) XB(X, xorpd, INT) XB(X, unpcklps, INT) XB(X, unpcklpd, INT)  \
  XB(X, unpckhps, INT) XB(X, unpckhpd, INT)                                                       \
  X(punpcklbw_mm_m, INT, 0, OM, "punpcklbw (%%rdi), %%mm0") X(pmaddwd_m, INT, 0, OX, "pmaddwd (%%rdi), %%xmm0") \
  /* shifts by register */                                                                        \
  XMB(X, psrlw, SHIFT) XMB(X, psrld, SHIFT) XMB(X, psrlq, SHIFT) XMB(X, psraw, SHIFT)             \
  XMB(X, psrad, SHIFT) XMB(X, psllw, SHIFT) XMB(X, pslld, SHIFT) XMB(X, psllq, SHIFT)             \
  /* shifts by immediate */                                                                       \
  SHIFTIS(X, psrlw) SHIFTIS(X, psraw) SHIFTIS(X, psllw) SHIFTIS(X, psrld) SHIFTIS(X, psrad)       \
  SHIFTIS(X, pslld) SHIFTIS(X, psrlq) SHIFTIS(X, psllq) DQSHIFTS(X, psrldq) DQSHIFTS(X, pslldq)   \
  /* shuffles */                                                                                  \
  SHUFS(X, pshufd, "xmm", OX) SHUFS(X, pshufhw, "xmm", OX) SHUFS(X, pshuflw, "xmm", OX)           \
  SHUFS(X, pshufw, "mm", OM) SHUFS(X, shufps, "xmm", OX)                                          \
  X(shufpd_0, INT, 0, OX, "shufpd $0, %%xmm1, %%xmm0") X(shufpd_1, INT, 1, OX, "shufpd $1, %%xmm1, %%xmm0") \
  X(shufpd_2, INT, 2, OX, "shufpd $2, %%xmm1, %%xmm0") X(shufpd_3, INT, 3, OX, "shufpd $3, %%xmm1, %%xmm0") \
  X(shufpd_fe, INT, 0xfe, OX, "shufpd $0xfe, %%xmm1, %%xmm0")                                    \
  ALIGNR(X, 0) ALIGNR(X, 1) ALIGNR(X, 3) ALIGNR(X, 7) ALIGNR(X, 8) ALIGNR(X, 9) ALIGNR(X, 15)     \
  ALIGNR(X, 16) ALIGNR(X, 17) ALIGNR(X, 24) ALIGNR(X, 31) ALIGNR(X, 32) ALIGNR(X, 200)            \
  PEXT(X, 0) PEXT(X, 1) PEXT(X, 3) PEXT(X, 5) PEXT(X, 7) PEXT(X, 12)                              \
  PINS(X, 0) PINS(X, 2) PINS(X, 3) PINS(X, 6) PINS(X, 7) PINS(X, 13)                              \
  X(pmovmskb, INT, 0, OG, "pmovmskb %%xmm1, %%eax") X(pmovmskb_mm, INT, 0, OG, "pmovmskb %%mm1, %%eax") \
  /* moves */                                                                                     \
  X(movss_rr, MOV, 0, OX, "movss %%xmm1, %%xmm0") X(movss_ld, MOV, 0, OX, "movss (%%rdi), %%xmm0") \
  X(movss_st, MOV, 0, OMEM, "movss %%xmm0, (%%rdi)") X(movsd_rr, MOV, 0, OX, "movsd %%xmm1, %%xmm0") \
  X(movsd_ld, MOV, 0, OX, "movsd (%%rdi), %%xmm0") X(movsd_st, MOV, 0, OMEM, "movsd %%xmm0, (%%rdi)") \
  X(movlps_ld, MOV, 0, OX, "movlps (%%rdi), %%xmm0") X(movlps_st, MOV, 0, OMEM, "movlps %%xmm0, (%%rdi)") \
  X(movhlps, MOV, 0, OX, "movhlps %%xmm1, %%xmm0") X(movlpd_ld, MOV, 0, OX, "movlpd (%%rdi), %%xmm0") \
  X(movlpd_st, MOV, 0, OMEM, "movlpd %%xmm0, (%%rdi)") X(movhps_ld, MOV, 0, OX, "movhps (%%rdi), %%xmm0") \
  X(movhps_st, MOV, 0, OMEM, "movhps %%xmm0, (%%rdi)") X(movlhps, MOV, 0, OX, "movlhps %%xmm1, %%xmm0") \
  X(movhpd_ld, MOV, 0, OX, "movhpd (%%rdi), %%xmm0") X(movhpd_st, MOV, 0, OMEM, "movhpd %%xmm0, (%%rdi)") \
  X(movsldup, MOV, 0, OX, "movsldup %%xmm1, %%xmm0") X(movshdup, MOV, 0, OX, "movshdup %%xmm1, %%xmm0") \
  X(movddup, MOV, 0, OX, "movddup %%xmm1, %%xmm0") X(movddup_m, MOV, 0, OX, "movddup (%%rdi), %%xmm0") \
  X(movq2dq, MOV, 0, OX, "movq2dq %%mm1, %%xmm0") X(movdq2q, MOV, 0, OM, "movdq2q %%xmm1, %%mm0") \
  X(movq_mm, MOV, 0, OM, "movq %%mm1, %%mm0") X(movq_mm_ld, MOV, 0, OM, "movq (%%rdi), %%mm0")   \
  X(movq_mm_st, MOV, 0, OMEM, "movq %%mm0, (%%rdi)") X(movd_mm_r, MOV, 0, OM, "movd %%eax, %%mm0") \
  X(movd_r_mm, MOV, 0, OG, "movd %%mm1, %%eax") X(movq_mm_r, MOV, 0, OM, "movq %%rax, %%mm0")    \
  X(movq_r_mm, MOV, 0, OG, "movq %%mm1, %%rax") X(movd_mm_ld, MOV, 0, OM, "movd (%%rdi), %%mm0") \
  X(movd_mm_st, MOV, 0, OMEM, "movd %%mm0, (%%rdi)") X(movntq, MOV, 0, OMEM, "movntq %%mm0, (%%rdi)") \
  X(maskmovq, MOV, 0, OMEM, "maskmovq %%mm1, %%mm0") X(maskmovdqu, MOV, 0, OMEM, "maskmovdqu %%xmm1, %%xmm0") \
  X(lddqu, MOV, 0, OX, "lddqu (%%rdi), %%xmm0") X(movq_xmm, MOV, 0, OX, "movq %%xmm1, %%xmm0")   \
  X(movq_xmm_ld, MOV, 0, OX, "movq (%%rdi), %%xmm0") X(movd_xmm_r, MOV, 0, OX, "movd %%eax, %%xmm0") \
  X(movq_xmm_st, MOV, 0, OMEM, "movq %%xmm0, (%%rdi)")

#define DEF(name, cls, imm, out, text) \
  static void f_##name(void) { HARNESS(text); }
TESTS(DEF)

struct test {
  const char *name;
  int cls, imm, out;
  void (*fn)(void);
};
#define ENT(name, cls, imm, out, text) { #name, cls, imm, out, f_##name },
static const struct test tests[] = { TESTS(ENT) };

/* ---- inputs ---- */

static uint64_t rs = 0x243f6a8885a308d3ull;
static uint32_t rnd(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (uint32_t)(rs >> 32);
}

static const uint32_t S32[] = {
  0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40490fdb, 0xc0200000, 0x7f7fffff,
  0xff7fffff, 0x7f000000, 0x00800000, 0x80800000, 0x00800001, 0x00000001, 0x80000001, 0x007fffff,
  0x80400000, 0x0c000000, 0x33800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc12345,
  0xff812345, 0x7fa00000, 0x3f7ffffe, 0x4b000001, 0x3f800001,
};
#define N32 (sizeof S32 / sizeof S32[0])
static const uint64_t S64[] = {
  0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
  0x3ff8000000000000ull, 0x400921fb54442d18ull, 0xc004000000000000ull, 0x7fefffffffffffffull,
  0xffefffffffffffffull, 0x7fe0000000000000ull, 0x0010000000000000ull, 0x8010000000000000ull,
  0x0010000000000001ull, 0x0000000000000001ull, 0x8000000000000001ull, 0x000fffffffffffffull,
  0x8008000000000000ull, 0x0200000000000000ull, 0x3ca0000000000000ull, 0x7ff0000000000000ull,
  0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff8000012345678ull,
  0xfff0000012345678ull, 0x7ff4000000000000ull, 0x3feffffffffffffeull, 0x4330000000000001ull,
  0x3ff0000000000001ull,
};
#define N64 (sizeof S64 / sizeof S64[0])
/* float -> integer and double -> single conversion edges */
static const uint32_t C32[] = {
  0x00000000, 0x80000000, 0x3f000000, 0xbf000000, 0x3fc00000, 0xbfc00000, 0x40200000, 0xc0200000,
  0x3f7fffff, 0x4effffff, 0x4f000000, 0xcf000000, 0xcf000001, 0x5effffff, 0x5f000000, 0xdf000000,
  0xdf000001, 0x00000001, 0x80400000, 0x7f800000, 0xff800000, 0x7fc00000, 0xff812345, 0x7f7fffff,
  0x4b7fffff, 0xcb000001, 0x3effffff, 0x40400000,
};
#define NC32 (sizeof C32 / sizeof C32[0])
static const uint64_t C64[] = {
  0x0000000000000000ull, 0x8000000000000000ull, 0x3fe0000000000000ull, 0xbfe0000000000000ull,
  0x3ff8000000000000ull, 0xbff8000000000000ull, 0x4004000000000000ull, 0xc004000000000000ull,
  0x41dfffffffc00000ull, 0x41dfffffffe00000ull, 0x41e0000000000000ull, 0xc1e0000000000000ull,
  0xc1e0000000200000ull, 0xc1e00000001fffffull, 0x43dfffffffffffffull, 0x43e0000000000000ull,
  0xc3e0000000000000ull, 0xc3e0000000000001ull, 0x0000000000000001ull, 0x8008000000000000ull,
  0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff0000012345678ull,
  0x7ff8123456789abcull, 0x47efffffe0000000ull, 0x47efffffefffffffull, 0x47effffff0000000ull,
  0x47f0000000000000ull, 0x3810000000000000ull, 0x380fffffffffffffull, 0x380ffffff0000000ull,
  0x380fffffe0000000ull, 0x36a0000000000000ull, 0x3690000000000000ull, 0x3690000000000001ull,
  0xb6a8000000000000ull, 0x3ff0000010000000ull, 0x3ff0000030000000ull, 0xbff0000010000001ull,
};
#define NC64 (sizeof C64 / sizeof C64[0])

static uint32_t rf32(void) {
  uint32_t sel = rnd() % 12, s = rnd() & 0x80000000u, m = rnd() & 0x7fffff, e;
  switch (sel) {
  case 0: e = 0; break;                      /* subnormal */
  case 1: case 2: e = 1 + rnd() % 30; break; /* near the underflow threshold */
  case 3: e = 230 + rnd() % 25; break;       /* near overflow */
  case 4: return S32[rnd() % N32];
  case 5: m &= 0x7f0000; e = 120 + rnd() % 16; break; /* short mantissas: exact results */
  case 6: e = 64 + rnd() % 20; break;       /* products land near underflow */
  default: e = 110 + rnd() % 36; break;
  }
  return s | e << 23 | m;
}
static uint64_t rf64(void) {
  uint32_t sel = rnd() % 12;
  uint64_t s = (uint64_t)(rnd() & 0x80000000u) << 32, mh = rnd() & 0xfffff, m = mh << 32 | rnd(), e;
  switch (sel) {
  case 0: e = 0; break;
  case 1: case 2: e = 1 + rnd() % 60; break;
  case 3: e = 1990 + rnd() % 57; break;
  case 4: return S64[rnd() % N64];
  case 5: m &= 0xff00000000000ull; e = 1015 + rnd() % 20; break;
  case 6: e = 500 + rnd() % 40; break;
  default: e = 1000 + rnd() % 50; break;
  }
  return s | e << 52 | m;
}
/* floats around the integer ranges */
static uint32_t rcvt32(void) {
  uint32_t sel = rnd() % 6;
  if (sel == 0) return C32[rnd() % NC32];
  if (sel == 1) return rf32();
  uint32_t s = rnd() & 0x80000000u, e = 120 + rnd() % 72, m = rnd() & 0x7fffff;
  return s | e << 23 | m;
}
static uint64_t rcvt64(void) {
  uint32_t sel = rnd() % 7;
  if (sel == 0) return C64[rnd() % NC64];
  if (sel == 1) return rf64();
  /* (each rnd() in its own statement: the sequence must not depend on the compiler) */
  uint64_t s = (uint64_t)(rnd() & 0x80000000u) << 32;
  uint64_t e = sel == 2 ? 0x360 + rnd() % 0x120 : 1016 + rnd() % 72; /* 2: the single-precision range */
  uint64_t mh = rnd() & 0xfffff;
  uint32_t ml = rnd();
  if (sel == 2 && (rnd() & 1)) ml &= 0xf0000000u;
  return s | e << 52 | mh << 32 | ml;
}
static uint32_t rint32(void) {
  static const uint32_t sp[] = { 0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x01000001, 0x00ffffff,
                                 0x7fffffc0, 0x7fffff80, 0x0fffffff, 0x80000001, 0xfeffffff, 0x02000003 };
  uint32_t sel = rnd() % 4;
  if (sel == 0) return sp[rnd() % (sizeof sp / sizeof sp[0])];
  if (sel == 1) {
    uint32_t v = rnd();
    return v >> (rnd() % 32);
  }
  return rnd();
}
/* integer SIMD: random bytes, edge bytes and words mixed in */
static uint32_t rword(void) {
  static const uint32_t sp[] = { 0, 0xffffffff, 0x80808080, 0x7f7f7f7f, 0x80007fff, 0x7fff8000,
                                 0x01ff00fe, 0x80000000, 0x7fffffff, 0x00010001, 0xff01ff01, 0x8000ffff };
  uint32_t sel = rnd() % 5;
  if (sel == 0) return sp[rnd() % (sizeof sp / sizeof sp[0])];
  if (sel == 1) return rnd() & 0x0f0f8f8f;
  return rnd();
}

static void hex(uint32_t v) {
  /* the bare-metal printf has no long long; %08x everywhere */
  printf(" %08x", v);
}

static void run(const struct test *t) {
  for (int k = 0; k < 4; k++) M.w[k] = B.w[k];
  t->fn();
  const uint32_t *r;
  uint32_t tmp[4] = { 0, 0, 0, 0 };
  switch (t->out) {
  case OX: r = RX.w; break;
  case OM: tmp[0] = RM.w[0]; tmp[1] = RM.w[1]; r = tmp; break;
  case OMEM: r = M.w; break;
  case OG: tmp[0] = (uint32_t)G; tmp[1] = (uint32_t)(G >> 32); r = tmp; break;
  default: tmp[0] = (uint32_t)FL & 0x8d5; r = tmp; break;
  }
  printf("%s %x %x", t->name, t->imm, MXI);
  for (int k = 0; k < 4; k++) hex(A.w[k]);
  for (int k = 0; k < 4; k++) hex(B.w[k]);
  for (int k = 0; k < 4; k++) hex(r[k]);
  printf(" %x\n", MXO);
}

static const uint32_t CONFIGS[] = {
  0x1f80, /* nearest */
  0x3f80, /* down */
  0x5f80, /* up */
  0x7f80, /* toward zero */
  0x1fc0, /* DAZ */
  0x9f80, /* FTZ */
  0xffc0, /* toward zero, DAZ, FTZ */
  0xdf80, /* up, FTZ */
  0x1fa5, /* flags already set stay set */
};
#define NCONF (sizeof CONFIGS / sizeof CONFIGS[0])

static void set64(v128 *v, int lane, uint64_t x) {
  v->w[2 * lane] = (uint32_t)x;
  v->w[2 * lane + 1] = (uint32_t)(x >> 32);
}
static void rand128(v128 *v) {
  for (int k = 0; k < 4; k++) v->w[k] = rnd();
}

static void run_class(const struct test *t) {
  unsigned c, i, j, k;
  switch (t->cls) {
  case F32F:
  case F32B:
  case F32C:
  case F64F:
  case F64B:
  case F64C: {
    /* Pairs of specials in lane 0 (random upper lanes; for odd configurations also in
     * lane 1, swapped), then random values in every lane. F*F: every pair under nearest,
     * nearest + FTZ and up + FTZ, a quarter of them under each other one; F*B: every pair once
     * over all configurations; F*C: a sample. */
    int dbl = t->cls == F64F || t->cls == F64B || t->cls == F64C;
    int w = t->cls == F32F || t->cls == F64F ? 2 : t->cls == F32B || t->cls == F64B ? 1 : 0;
    unsigned n = dbl ? N64 : N32, nrand = w == 2 ? 32 : w == 1 ? 16 : 4;
    for (c = 0; c < NCONF; c++) {
      MXI = CONFIGS[c];
      for (i = 0; i < n; i++)
        for (j = 0; j < n; j++) {
          int take = w == 2 ? c == 0 || c == 5 || c == 7 || (i + j) % 4 == c % 4
                   : w == 1 ? (i + j) % NCONF == c : (i + j) % 18 == 2 * c;
          if (!take) continue;
          rand128(&A);
          rand128(&B);
          if (dbl) {
            set64(&A, 0, S64[i]);
            set64(&B, 0, S64[j]);
            if (c % 2) { set64(&A, 1, S64[j]); set64(&B, 1, S64[i]); }
          } else {
            A.w[0] = S32[i];
            B.w[0] = S32[j];
            if (c % 2) { A.w[1] = S32[j]; B.w[1] = S32[i]; }
          }
          run(t);
        }
      for (i = 0; i < nrand; i++) {
        if (dbl) {
          for (k = 0; k < 2; k++) {
            uint64_t a = rf64();
            set64(&A, k, a);
            uint64_t b;
            if (rnd() % 3) {
              b = rf64();
            } else {
              uint64_t sg = (uint64_t)(rnd() & 0x80000000u) << 32;
              b = a ^ sg ^ (rnd() & 0xfff);
            }
            set64(&B, k, b);
          }
        } else {
          for (k = 0; k < 4; k++) {
            A.w[k] = rf32();
            B.w[k] = rnd() % 3 ? rf32() : A.w[k] ^ (rnd() & 0x800000ff);
          }
        }
        run(t);
      }
    }
    break;
  }
  case F32U:
    for (c = 0; c < NCONF; c++) {
      MXI = CONFIGS[c];
      for (i = 0; i < N32; i += 2) {
        rand128(&A);
        for (k = 0; k < 4; k++) B.w[k] = S32[(i + 3 * k + c) % N32];
        B.w[0] = S32[i];
        B.w[1] = S32[(i + 1) % N32];
        run(t);
      }
      for (i = 0; i < 40; i++) {
        rand128(&A);
        for (k = 0; k < 4; k++) B.w[k] = rf32();
        run(t);
      }
    }
    break;
  case F64U:
    for (c = 0; c < NCONF; c++) {
      MXI = CONFIGS[c];
      for (i = 0; i < N64; i++) {
        rand128(&A);
        set64(&B, 0, S64[i]);
        set64(&B, 1, S64[(i + 5 + c) % N64]);
        run(t);
      }
      for (i = 0; i < 40; i++) {
        rand128(&A);
        set64(&B, 0, rf64());
        set64(&B, 1, rf64());
        run(t);
      }
    }
    break;
  case F32I:
    for (c = 0; c < NCONF; c++) {
      MXI = CONFIGS[c];
      for (i = 0; i < NC32; i += 2) {
        rand128(&A);
        for (k = 0; k < 4; k++) B.w[k] = C32[(i + 5 * k + c) % NC32];
        B.w[0] = C32[i];
        B.w[1] = C32[i + 1];
        run(t);
      }
      for (i = 0; i < 40; i++) {
        rand128(&A);
        for (k = 0; k < 4; k++) B.w[k] = rcvt32();
        run(t);
      }
    }
    break;
  case F64I:
    for (c = 0; c < NCONF; c++) {
      MXI = CONFIGS[c];
      for (i = 0; i < NC64; i++) {
        rand128(&A);
        set64(&B, 0, C64[i]);
        set64(&B, 1, C64[(i + 7 + c) % NC64]);
        run(t);
      }
      for (i = 0; i < 40; i++) {
        rand128(&A);
        set64(&B, 0, rcvt64());
        set64(&B, 1, rcvt64());
        run(t);
      }
    }
    break;
  case I2F:
    for (c = 0; c < 4; c++) {
      MXI = CONFIGS[c];
      for (i = 0; i < 60; i++) {
        rand128(&A);
        for (k = 0; k < 4; k++) B.w[k] = rint32();
        if (i % 3 == 0) B.w[1] = (uint32_t)((int32_t)B.w[0] >> 31); /* small 64-bit values */
        run(t);
      }
    }
    break;
  case INT: {
    /* two structured lines first: rounding ties of PMULHRSW/PAVG, saturation edges */
    static const uint32_t sa[4] = { 0x80004000, 0x7fffc000, 0x00030001, 0xffff2000 };
    static const uint32_t sb[4] = { 0x80000001, 0x7fff0001, 0x40004000, 0x00018000 };
    MXI = 0x1f80;
    for (i = 0; i < (t->imm ? 10u : 40u); i++) {
      for (k = 0; k < 4; k++) {
        A.w[k] = i == 0 ? sa[k] : i == 1 ? sb[k] : rword();
        B.w[k] = i == 0 ? sb[k] : i == 1 ? sa[k] : rword();
      }
      run(t);
    }
    break;
  }
  case SHIFT: {
    static const uint32_t cnt[][2] = { { 0, 0 }, { 1, 0 }, { 3, 0 }, { 7, 0 }, { 8, 0 }, { 15, 0 },
                                       { 16, 0 }, { 17, 0 }, { 31, 0 }, { 32, 0 }, { 33, 0 }, { 63, 0 },
                                       { 64, 0 }, { 65, 0 }, { 255, 0 }, { 256, 0 }, { 0, 1 },
                                       { 0xffffffff, 0xffffffff }, { 4, 0x80000000 } };
    MXI = 0x1f80;
    for (i = 0; i < sizeof cnt / sizeof cnt[0]; i++) {
      for (k = 0; k < 4; k++) A.w[k] = rword();
      B.w[0] = cnt[i][0];
      B.w[1] = cnt[i][1];
      B.w[2] = rnd();
      B.w[3] = rnd();
      run(t);
    }
    break;
  }
  default:
    MXI = 0x1f80;
    for (i = 0; i < 6; i++) {
      rand128(&A);
      rand128(&B);
      run(t);
    }
    break;
  }
}

int main(void) {
  for (unsigned i = 0; i < sizeof tests / sizeof tests[0]; i++) run_class(&tests[i]);
  printf("sse-oracle: done\n");
  return 0;
}
