// x86: bits=64
/* Data movement and addressing, 64-bit code: MOVSXD, CDQE/CQO/CWDE (and
 * 32-bit writes zero-extending), MOVABS imm64 and moffs64, LEA with REX
 * registers (R12 needs a SIB byte, R13 a displacement), RIP-relative LEA,
 * 0x67 (32-bit address, zero-extended), 32/16-bit LEA destinations, PUSH
 * imm32 sign-extension and 16-bit PUSH, ENTER/LEAVE 64-bit, PUSHFQ/POPFQ,
 * LAHF/SAHF (CPUID LAHF_LM), XLAT with RBX, and SWAPGS / FS/GS bases. */
#include "lib.h"

#define LEA64(desc, expr)                                                                          \
  do {                                                                                             \
    uint64_t r;                                                                                    \
    __asm__ volatile("movabsq $0x1111111100000010, %%rbx\n\tmovq $0x0fff, %%rsi\n\t"                \
                     "movq $-8, %%r12\n\tmovabsq $0x7fffffffffffffff, %%r13\n\tmovq $0x100, %%r14\n\t" \
                     "movabsq $0xffffffff00001000, %%r15\n\tlea " expr ", %%rax"                    \
                     : "=a"(r) :: "rbx", "rsi", "r12", "r13", "r14", "r15");                        \
    printf("lea %-28s = %016lx\n", desc, r);                                                       \
  } while (0)

extern const char lea_anchor[];

int main(void) {
  printf("== datamove64 ==\n");
  uint64_t r;
  __asm__ volatile("movslq %k1, %0" : "=r"(r) : "r"(0x80000000u));
  printf("movsxd 80000000 -> %016lx\n", r);
  __asm__ volatile("movslq %k1, %0" : "=r"(r) : "r"(0x7fffffffu));
  printf("movsxd 7fffffff -> %016lx\n", r);
  static volatile int32_t m32 = -5;
  __asm__ volatile("movslq %1, %0" : "=r"(r) : "m"(m32));
  printf("movsxd [m32] -5 -> %016lx\n", r);
  uint64_t a = 0xffffffff80000000ULL, d = 0x1234;
  __asm__ volatile("cltq" : "+a"(a));
  printf("cdqe 80000000 -> %016lx\n", a);
  a = 0x8000000000000000ULL;
  __asm__ volatile("cqto" : "+a"(a), "+d"(d));
  printf("cqo -> rdx=%016lx\n", d);
  a = 0xffffffffffff8000ULL;
  __asm__ volatile("cwtl" : "+a"(a));
  printf("cwde in 64-bit (zero-extends) -> %016lx\n", a);
  a = 0xffffffffffff8000ULL;
  __asm__ volatile("cbtw" : "+a"(a));
  printf("cbw in 64-bit (keeps 63:16) -> %016lx\n", a);
  __asm__ volatile("movabsq $0x123456789abcdef0, %0" : "=r"(r));
  printf("movabs imm64 -> %016lx\n", r);
  __asm__ volatile("movabsq moffs_cell, %%rax" : "=a"(r) :: "memory");
  printf("mov rax,moffs64 (48 a1) -> %016lx\n", r);
  __asm__ volatile("movabsb moffs_cell, %%al" : "=a"(r) : "0"(0xffffffffffffff00ULL) : "memory");
  printf("mov al,moffs64 (a0) -> %016lx\n", r);
  __asm__ volatile("movabsl %%eax, moffs_cell\n\tmovq moffs_cell(%%rip), %0" : "=r"(r) : "a"(0xaabbccdd) : "memory");
  printf("mov moffs64,eax (a3) -> %016lx\n", r);
  r = 0xffffffffffffffffULL;
  __asm__ volatile("movl $5, %k0" : "+r"(r));
  printf("mov r32,imm32 zero-extends -> %016lx\n", r);
  r = 0xffffffffffffffffULL;
  __asm__ volatile("movq $-5, %0" : "+r"(r));
  printf("mov r64,simm32 -> %016lx\n", r);

  LEA64("(%rbx)", "(%%rbx)");
  LEA64("(%r12)", "(%%r12)");
  LEA64("(%r13)", "(%%r13)");
  LEA64("1(%r13,%r14,8)", "1(%%r13,%%r14,8)");
  LEA64("(%r12,%r12,4)", "(%%r12,%%r12,4)");
  LEA64("-0x80000000(%rbx)", "-0x80000000(%%rbx)");
  LEA64("(,%r15,2)", "(,%%r15,2)");
  LEA64("0x7fffffff(,%rsi,1)", "0x7fffffff(,%%rsi,1)");
  LEA64("addr32 (%ebx,%esi)", "(%%ebx,%%esi)");
  LEA64("addr32 -1(%r12d)", "-1(%%r12d)");
  LEA64("addr32 (%r15d,%r14d,8)", "(%%r15d,%%r14d,8)");
  __asm__ volatile("lea lea_anchor(%%rip), %0" : "=r"(r));
  printf("lea rip-relative == &lea_anchor: %d\n", r == (uint64_t)(uintptr_t)lea_anchor);
  __asm__ volatile("lea 1f(%%rip), %0\n1:\n\t" : "=r"(r));
  uint64_t here;
  __asm__ volatile("1: lea 1b(%%rip), %0" : "=r"(here));
  printf("lea 0(%%rip) points after the instruction: %d\n", r != 0 && here != 0);
  r = 0xffffffffffffffffULL;
  __asm__ volatile("movabsq $0x1234567890, %%rbx\n\tleal 0x10(%%rbx), %k0" : "+r"(r) :: "rbx");
  printf("lea r32 (truncates, zero-extends) -> %016lx\n", r);
  r = 0xffffffffffffffffULL;
  __asm__ volatile("movabsq $0x1234567890, %%rbx\n\tleaw 0x10(%%rbx), %w0" : "+r"(r) :: "rbx");
  printf("lea r16 (keeps 63:16) -> %016lx\n", r);

  uint64_t x, y, delta;
  uint16_t w;
  __asm__ volatile("movq %%rsp, %%rcx\n\tpushq $-2\n\tpushq $0x7fffffff\n\tpushw $0x1234\n\t"
                   "popw %w2\n\tpopq %0\n\tpopq %1\n\tsubq %%rsp, %%rcx\n\tmovq %%rcx, %3"
                   : "=r"(x), "=r"(y), "=r"(w), "=r"(delta) :: "rcx");
  printf("push simm8 -2: %016lx, push imm32: %016lx, pushw: %04x, rsp delta %ld\n", y, x, w, (long)delta);

  /* ENTER/LEAVE with 64-bit frames */
  static uint64_t stk[16];
  uint64_t res[3];
  __asm__ volatile("pushq %%rbp\n\tmovq %%rsp, %%r8\n\tleaq 128(%[s]), %%rsp\n\tleaq 64(%[s]), %%rbp\n\t"
                   "movq $0xc1, 56(%[s])\n\t"
                   "enter $16, $2\n\tmovq %%rsp, 0(%[r])\n\tmovq %%rbp, 8(%[r])\n\tleave\n\tmovq %%rsp, 16(%[r])\n\t"
                   "movq %%r8, %%rsp\n\tpopq %%rbp"
                   :: [s] "r"(stk), [r] "r"(res) : "r8", "memory");
  printf("enter 16,2: rsp=stk%+ld rbp=stk%+ld leave rsp=stk%+ld frame: stk+64? %d %lx stk+120? %d\n",
         (long)(res[0] - (uint64_t)stk), (long)(res[1] - (uint64_t)stk), (long)(res[2] - (uint64_t)stk),
         stk[15] == (uint64_t)&stk[8], stk[14], stk[13] == (uint64_t)&stk[15]);

  ureg f, saved = read_flags();
  __asm__ volatile("pushq %1\n\tpopfq\n\tpushfq\n\tpopq %0" : "=r"(f) : "r"(0xfffffffffffffcffULL) : "cc");
  __asm__ volatile("pushq %0\n\tpopfq" :: "r"(saved) : "cc");
  printf("popfq ~(TF|IF) -> %016lx\n", f);
  if (cpu_has(CPUID_81_ECX, 0)) {
    uint64_t v = 0xffffffffffff00ffULL;
    __asm__ volatile("pushq %1\n\tpopfq\n\tlahf\n\tsahf" : "+a"(v) : "r"(0x8d7ULL) : "cc");
    printf("lahf in 64-bit: %016lx\n", v);
  } else {
    printf("skip: no lahf_lm\n");
  }
  static uint8_t table[256];
  for (int i = 0; i < 256; i++) table[i] = (uint8_t)(i ^ 0x5a);
  a = 0x1111111111111180ULL;
  __asm__ volatile("xlat" : "+a"(a) : "b"(table));
  printf("xlat -> %016lx\n", a);

#ifndef HOSTED
  wrmsr(MSR_GS_BASE, 0x1000);
  wrmsr(MSR_KERNEL_GS_BASE, 0x2000);
  __asm__ volatile("swapgs" ::: "memory");
  printf("swapgs: gs_base=%lx kernel_gs_base=%lx\n", (unsigned long)rdmsr(MSR_GS_BASE),
         (unsigned long)rdmsr(MSR_KERNEL_GS_BASE));
  __asm__ volatile("swapgs" ::: "memory");
  static uint64_t gsdata[4] = { 0x1111, 0x2222, 0x3333, 0x4444 };
  wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)gsdata);
  __asm__ volatile("movq %%gs:16, %0" : "=r"(r));
  printf("gs:16 with GS_BASE=&data -> %lx\n", r);
  /* loading GS with a selector in 64-bit mode clears... no: it loads base 0 */
  __asm__ volatile("movl %0, %%gs" :: "r"(SEL_KDATA));
  printf("after mov gs,sel: gs_base=%lx\n", (unsigned long)rdmsr(MSR_GS_BASE));
  wrmsr(MSR_GS_BASE, 0);
#endif
  printf("datamove64: done\n");
  return 0;
}

__asm__(".section .rodata\nlea_anchor: .byte 0\n.data\n.balign 8\nmoffs_cell: .quad 0x0102030405060708\n.text\n");
