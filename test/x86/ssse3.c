// x86: bits=64 cpu=max
/* SSSE3 (needs -cpu max; the program checks CPUID.1:ECX[9] and prints
 * "skip: no ssse3" otherwise): PSHUFB, PALIGNR (shifts 0, 5, 16, 20, 32),
 * PHADDW/PHADDD/PHADDSW, PHSUBW/PHSUBD/PHSUBSW, PMADDUBSW (signed
 * saturation), PABSB/W/D, PSIGNB/W/D (negate / keep / zero), PMULHRSW, in
 * their XMM forms with register and memory operands and their MMX forms. */
#include "lib.h"

typedef struct __attribute__((aligned(16))) { uint32_t w[4]; } v128;
static void pv(const v128 *v) { printf("%08x%08x%08x%08x", v->w[3], v->w[2], v->w[1], v->w[0]); }

#define X(name, insn)                                                                              \
  static NOINLINE void name(const v128 *a, const v128 *b, v128 *r) {                               \
    __asm__ volatile("movdqa %1, %%xmm0\n\t" insn " %2, %%xmm0\n\tmovdqa %%xmm0, %0"                \
                     : "=m"(*r) : "m"(*a), "m"(*b) : "xmm0", "memory");                            \
  }
#define XR(name, insn)                                                                             \
  static NOINLINE void name(const v128 *a, const v128 *b, v128 *r) {                               \
    __asm__ volatile("movdqa %1, %%xmm0\n\tmovdqa %2, %%xmm9\n\t" insn " %%xmm9, %%xmm0\n\tmovdqa %%xmm0, %0" \
                     : "=m"(*r) : "m"(*a), "m"(*b) : "xmm0", "xmm9", "memory");                    \
  }
#define M(name, insn)                                                                              \
  static NOINLINE uint64_t name(uint64_t a, uint64_t b) {                                          \
    uint64_t r;                                                                                    \
    __asm__ volatile("movq %1, %%mm0\n\t" insn " %2, %%mm0\n\tmovq %%mm0, %0\n\temms"                \
                     : "=m"(r) : "m"(a), "m"(b) : "mm0", "memory");                                \
    return r;                                                                                      \
  }

X(pshufb, "pshufb") XR(pshufb_r, "pshufb") X(palignr0, "palignr $0,") X(palignr5, "palignr $5,")
X(palignr16, "palignr $16,") X(palignr20, "palignr $20,") X(palignr32, "palignr $32,")
X(phaddw, "phaddw") X(phaddd, "phaddd") X(phaddsw, "phaddsw") X(phsubw, "phsubw") X(phsubd, "phsubd")
X(phsubsw, "phsubsw") X(pmaddubsw, "pmaddubsw") X(pabsb, "pabsb") X(pabsw, "pabsw") X(pabsd, "pabsd")
X(psignb, "psignb") X(psignw, "psignw") X(psignd, "psignd") X(pmulhrsw, "pmulhrsw") XR(pmulhrsw_r, "pmulhrsw")
M(pshufb_mm, "pshufb") M(palignr3_mm, "palignr $3,") M(phaddw_mm, "phaddw") M(pmaddubsw_mm, "pmaddubsw")
M(pabsw_mm, "pabsw") M(psignb_mm, "psignb") M(pmulhrsw_mm, "pmulhrsw") M(phsubsw_mm, "phsubsw")

int main(void) {
  printf("== ssse3 ==\n");
  if (!cpu_has(CPUID_1_ECX, 9)) {
    printf("skip: no ssse3\n");
    return 0;
  }
  v128 a = { { 0x807f01ff, 0x7fff8000, 0x00010002, 0xfffefffd } };
  v128 b = { { 0x8001ff01, 0x0001ffff, 0x7fff8000, 0x00030004 } };
  v128 c = { { 0x12345678, 0x9abcdef0, 0x0fedcba9, 0x87654321 } };
  v128 sel = { { 0x00010203, 0x8f0e0d0c, 0x07170f1f, 0x80818283 } };
  struct { const char *n; void (*f)(const v128 *, const v128 *, v128 *); } ops[] = {
    { "pshufb", pshufb }, { "pshufb reg", pshufb_r }, { "palignr 0", palignr0 }, { "palignr 5", palignr5 },
    { "palignr 16", palignr16 }, { "palignr 20", palignr20 }, { "palignr 32", palignr32 }, { "phaddw", phaddw },
    { "phaddd", phaddd }, { "phaddsw", phaddsw }, { "phsubw", phsubw }, { "phsubd", phsubd },
    { "phsubsw", phsubsw }, { "pmaddubsw", pmaddubsw }, { "pabsb", pabsb }, { "pabsw", pabsw },
    { "pabsd", pabsd }, { "psignb", psignb }, { "psignw", psignw }, { "psignd", psignd },
    { "pmulhrsw", pmulhrsw }, { "pmulhrsw reg", pmulhrsw_r },
  };
  const v128 *pairs[][2] = { { &c, &sel }, { &a, &b }, { &b, &a }, { &c, &a } };
  for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
    printf("%s:", ops[i].n);
    for (unsigned p = 0; p < ARRAY_SIZE(pairs); p++) {
      v128 r;
      ops[i].f(pairs[p][0], pairs[p][1], &r);
      printf(" ");
      pv(&r);
    }
    printf("\n");
  }
  /* saturation corner cases */
  v128 big = { { 0x7fff7fff, 0x80008000, 0x7fff0001, 0x8000ffff } };
  v128 r;
  phaddsw(&big, &big, &r); printf("phaddsw saturate: "); pv(&r); printf("\n");
  phsubsw(&big, &big, &r); printf("phsubsw saturate: "); pv(&r); printf("\n");
  v128 u8 = { { 0xffffffff, 0x80808080, 0x01020304, 0xff00ff00 } }, s8 = { { 0x7f7f7f7f, 0x80808080, 0xff01ff01, 0x7f807f80 } };
  pmaddubsw(&u8, &s8, &r); printf("pmaddubsw saturate: "); pv(&r); printf("\n");
  v128 m1 = { { 0x80008000, 0x7fff7fff, 0x40000001, 0xc000ffff } };
  pmulhrsw(&m1, &m1, &r); printf("pmulhrsw squares: "); pv(&r); printf("\n");
  pabsb(&m1, &m1, &r); printf("pabsb of 0x80: "); pv(&r); printf("\n");

  static const uint64_t ma = 0x807f01ff7fff8000ULL, mb = 0x8001ff010001ffffULL, msel = 0x8001020304050607ULL;
  printf("mmx: pshufb=%016llx palignr3=%016llx phaddw=%016llx pmaddubsw=%016llx\n",
         (unsigned long long)pshufb_mm(ma, msel), (unsigned long long)palignr3_mm(ma, mb),
         (unsigned long long)phaddw_mm(ma, mb), (unsigned long long)pmaddubsw_mm(ma, mb));
  printf("mmx: pabsw=%016llx psignb=%016llx pmulhrsw=%016llx phsubsw=%016llx\n", (unsigned long long)pabsw_mm(ma, mb),
         (unsigned long long)psignb_mm(ma, mb), (unsigned long long)pmulhrsw_mm(ma, mb),
         (unsigned long long)phsubsw_mm(ma, mb));
  printf("ssse3: done\n");
  return 0;
}
