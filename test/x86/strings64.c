// x86: bits=64
/* String instructions, 64-bit code: the string_template.h matrix with
 * quadword forms (MOVSQ ...), then the 0x67 prefix (32-bit RSI/RDI/RCX,
 * results zero-extended), an FS-based source (FS base from the FS_BASE MSR)
 * and a large REP STOSQ. */
#include "string_template.h"

static uint64_t big[512];

int main(void) {
  printf("== strings64 ==\n");
  string_tests();

  for (int i = 0; i < SBUF; i++) { s_src[i] = (uint8_t)(0x80 + i); s_dst[i] = 0; }
  ureg c = 3, s = 0xffffffff00000000ULL | (ureg)s_src, d = 0xabcdef0000000000ULL | (ureg)s_dst;
  __asm__ volatile("cld\n\t.byte 0x67\n\trep movsb" : "+c"(c), "+S"(s), "+D"(d) :: "memory");
  printf("addr32 rep movsb: rcx=%lx rsi=+%ld rdi=+%ld dst=%02x%02x%02x\n", c, (long)(s - (ureg)s_src),
         (long)(d - (ureg)s_dst), s_dst[0], s_dst[1], s_dst[2]);

#ifndef HOSTED
  wrmsr(MSR_FS_BASE, (uint64_t)(uintptr_t)&s_src[32]);
  uint64_t a = 0;
  s = 8;
  __asm__ volatile("fs lodsq" : "+a"(a), "+S"(s) :: "memory");
  printf("fs: lodsq: rax=%016lx rsi=%lx\n", a, s);
  wrmsr(MSR_FS_BASE, 0);
#endif

  c = 512; d = (ureg)big;
  __asm__ volatile("rep stosq" : "+c"(c), "+D"(d) : "a"(0x0102030405060708ULL) : "memory");
  uint64_t x = 0;
  big[7] ^= 0xff;
  for (int i = 0; i < 512; i++) x = x * 31 + big[i];
  printf("rep stosq 4 KiB: rcx=%lx rdi=+%ld sum=%016lx\n", c, (long)(d - (ureg)big), x);
  printf("strings64: done\n");
  return 0;
}
