// x86: bits=64
/* Bit operations, conditions and atomics, 64-bit code (bitops_template.h
 * with the 64-bit forms), plus CMPXCHG16B (aligned; misaligned is #GP(0)),
 * 32-bit CMOV zero-extending even when the condition is false, and XCHG
 * EAX,EAX (87 C0, zero-extends) versus NOP (90, does not). */
#include "bitops_template.h"

int main(void) {
  printf("== bitops64 ==\n");
  bt_tests();
  bsx_tests();
  cc_tests();
  xchg_tests();

  if (cpu_has(CPUID_1_ECX, 13)) {
    static volatile uint64_t o[4] __attribute__((aligned(16))) = { 0x1111111111111111ULL, 0x2222222222222222ULL, 0, 0 };
    uint64_t lo = 0x1111111111111111ULL, hi = 0x2222222222222222ULL;
    ureg f;
    __asm__ volatile("lock cmpxchg16b %0\n\tpushf\n\tpop %3" : "+m"(o[0]), "+a"(lo), "+d"(hi), "=r"(f)
                     : "b"(0xaaaaULL), "c"(0xbbbbULL) : "cc", "memory");
    printf("cmpxchg16b equal: mem=%016lx:%016lx rdx:rax=%lx:%lx zf=%lu\n", (uint64_t)o[1], (uint64_t)o[0], hi,
           lo, (f >> 6) & 1);
    lo = 0; hi = 0;
    __asm__ volatile("cmpxchg16b %0\n\tpushf\n\tpop %3" : "+m"(o[0]), "+a"(lo), "+d"(hi), "=r"(f)
                     : "b"(1ULL), "c"(2ULL) : "cc", "memory");
    printf("cmpxchg16b differ: mem=%016lx:%016lx rdx:rax=%lx:%lx zf=%lu\n", (uint64_t)o[1], (uint64_t)o[0], hi,
           lo, (f >> 6) & 1);
#ifndef HOSTED
    __asm__ volatile(TRAP_BEGIN "cmpxchg16b 8(%0)" TRAP_END :: "r"(o), "a"(0), "d"(0), "b"(0), "c"(0) : "memory", "cc");
    print_trap("cmpxchg16b misaligned");
#endif
  } else {
    printf("skip: no cmpxchg16b\n");
  }
  uint64_t a = 0xffffffff00000001ULL, s = 0x2222222222222222ULL;
  __asm__ volatile("cmpl %k0, %k0\n\tcmovnel %k1, %k0" : "+r"(a) : "r"(s) : "cc");
  printf("cmovne false, 32-bit: %016lx\n", a);
  a = 0xffffffff00000001ULL;
  __asm__ volatile("cmpl %k0, %k0\n\tcmovneq %1, %0" : "+r"(a) : "r"(s) : "cc");
  printf("cmovne false, 64-bit: %016lx\n", a);
  a = 0xffffffff00000001ULL;
  __asm__ volatile(".byte 0x87, 0xc0" : "+a"(a)); /* xchg eax,eax */
  printf("xchg eax,eax (87 c0): %016lx\n", a);
  a = 0xffffffff00000001ULL;
  __asm__ volatile(".byte 0x90" : "+a"(a));
  printf("nop (90): %016lx\n", a);
  uint64_t r8v = 0x8888888888888888ULL;
  a = 0x1;
  __asm__ volatile("movq %1, %%r8\n\t.byte 0x49, 0x90\n\tmovq %%r8, %1" : "+a"(a), "+r"(r8v) :: "r8"); /* xchg rax,r8 */
  printf("xchg rax,r8 (49 90): rax=%016lx r8=%016lx\n", a, r8v);
  printf("bitops64: done\n");
  return 0;
}
