// x86: bits=32
/* String instructions, 32-bit code: the string_template.h matrix (sizes b
 * w l, REP/REPE/REPNE, DF, counts 0/1/5), then: overlapping REP MOVSB
 * (must replicate like a byte loop, not behave like memmove), a long REP
 * MOVSD, a segment override on the source (FS with a non-zero base), and
 * the 0x67 address-size prefix (16-bit SI/DI/CX: the pointer wraps at 64 KiB
 * and the upper halves of ESI/EDI/ECX are preserved). */
#include "string_template.h"

static uint8_t big_src[4096], big_dst[4096];

int main(void) {
  printf("== strings32 ==\n");
  string_tests();

  /* overlapping forward copy: dst = src + 1 replicates the first byte */
  for (int i = 0; i < SBUF; i++) s_dst[i] = (uint8_t)i;
  ureg c = 16, s = (ureg)&s_dst[0], d = (ureg)&s_dst[1];
  __asm__ volatile("cld\n\trep movsb" : "+c"(c), "+S"(s), "+D"(d) :: "memory");
  printf("overlap rep movsb:");
  for (int i = 0; i < 20; i++) printf(" %02x", s_dst[i]);
  printf("\n");
  /* overlapping backward copy with DF=1, dwords */
  for (int i = 0; i < SBUF; i++) s_dst[i] = (uint8_t)i;
  c = 4; s = (ureg)&s_dst[20]; d = (ureg)&s_dst[22];
  __asm__ volatile("std\n\trep movsl\n\tcld" : "+c"(c), "+S"(s), "+D"(d) :: "memory");
  printf("overlap std rep movsd:");
  for (int i = 4; i < 28; i++) printf(" %02x", s_dst[i]);
  printf("\n");

  /* long copy */
  for (int i = 0; i < 4096; i++) big_src[i] = (uint8_t)(i * 7 + (i >> 8));
  c = 1024; s = (ureg)big_src; d = (ureg)big_dst;
  __asm__ volatile("rep movsl" : "+c"(c), "+S"(s), "+D"(d) :: "memory");
  uint32_t sum = 0;
  for (int i = 0; i < 4096; i++) sum = sum * 31 + big_dst[i];
  printf("rep movsd 4 KiB: ecx=%lx si=+%ld sum=%08x\n", (unsigned long)c, (long)(s - (ureg)big_src), (unsigned)sum);

  /* FS override on the source: FS base = &s_src[16] */
  for (int i = 0; i < SBUF; i++) { s_src[i] = (uint8_t)(0x80 + i); s_dst[i] = 0; }
  gdt_set(0x48, (uint32_t)&s_src[16], 0xfffff, 0x92, 0xc);
  c = 4; s = 0; d = (ureg)s_dst;
  __asm__ volatile("movw $0x48, %%ax\n\tmovw %%ax, %%fs\n\trep movsb %%fs:(%%esi), %%es:(%%edi)\n\t"
                   "movw $0x10, %%ax\n\tmovw %%ax, %%fs" : "+c"(c), "+S"(s), "+D"(d) :: "eax", "memory");
  printf("fs: rep movsb: %02x %02x %02x %02x esi=%lx\n", s_dst[0], s_dst[1], s_dst[2], s_dst[3], (unsigned long)s);
  uint32_t al = 0;
  s = 5;
  __asm__ volatile("movw $0x48, %%ax\n\tmovw %%ax, %%fs\n\tfs lodsb\n\tmovw $0x10, %%dx\n\tmovw %%dx, %%fs"
                   : "+a"(al), "+S"(s) :: "edx", "memory");
  printf("fs: lodsb: al=%02x esi=%lx\n", (unsigned)(al & 0xff), (unsigned long)s);

  /* 0x67: 16-bit addressing. DI = 0xfffe wraps to 0 after two bytes; the
   * upper halves of EDI and ECX are untouched. Linear 0xfffe..0x0001. */
  volatile uint8_t *low = phys_ptr(0);
  ureg di = 0xabcdfffe, cx = 0x12340004;
  uint32_t a = 0x77;
  __asm__ volatile("cld\n\t.byte 0x67\n\trep stosb" : "+D"(di), "+c"(cx) : "a"(a) : "memory");
  printf("addr16 rep stosb: edi=%08lx ecx=%08lx mem[fffe..ffff]=%02x%02x mem[0..1]=%02x%02x\n",
         (unsigned long)di, (unsigned long)cx, low[0xfffe], low[0xffff], low[0], low[1]);
  /* A word at offset 0xffff: the offset wraps, the access itself does not
   * (its second byte comes from linear 0x10000). */
  low[0x10000] = 0x99;
  ureg si16 = 0x5555ffff;
  a = 0;
  __asm__ volatile(".byte 0x67\n\tlodsw" : "+S"(si16), "+a"(a) :: "memory");
  printf("addr16 lodsw at ffff: ax=%04x esi=%08lx\n", (unsigned)(a & 0xffff), (unsigned long)si16);
  printf("strings32: done\n");
  return 0;
}
