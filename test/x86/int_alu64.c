// x86: bits=64
/* Integer ALU, 64-bit code: the int_alu32 tables at 8/16/32/64 bits (REX.W
 * forms), then what is special in 64-bit mode: 32-bit results zero the
 * upper half, 8/16-bit results preserve it, REX byte registers
 * (SPL/BPL/SIL/DIL, R8B-R15B) versus AH-BH, sign-extended imm32 in 64-bit
 * operations, RIP-relative memory operands, and 0x82 being invalid. */
#include "alu_template.h"

static void partial_writes(void) {
  uint64_t a, b;
  ureg f;
  a = 0xffffffffffffffffULL;
  __asm__ volatile("addl $1, %k0" : "+r"(a) :: "cc");
  printf("addl on 64-bit reg: %016lx\n", a);
  a = 0x1234567800000000ULL;
  __asm__ volatile("movl %k0, %k0" : "+r"(a));
  printf("movl r32,r32 zero-extends: %016lx\n", a);
  a = 0x123456789abcdef0ULL;
  __asm__ volatile("addw $0x2000, %w0" : "+r"(a) :: "cc");
  printf("addw keeps upper 48: %016lx\n", a);
  a = 0x123456789abcdef0ULL;
  __asm__ volatile("addb $0x20, %b0" : "+r"(a) :: "cc");
  printf("addb keeps upper 56: %016lx\n", a);
  a = 0x1111111111112222ULL;
  __asm__ volatile("addb $0x11, %%ah" : "+a"(a) :: "cc");
  printf("addb ah: %016lx\n", a);
  a = 0xaaaaaaaaaaaaaaaaULL;
  __asm__ volatile("xorl %k0, %k0\n\tpushf\n\tpop %1" : "+r"(a), "=r"(f) :: "cc");
  printf("xorl zeroes all 64: %016lx f=%03lx\n", a, f & FL_LOGIC);
  /* REX byte registers: SIL/DIL/R9B, and AH next to them via a non-REX encoding */
  uint64_t si = 0x01020304050607f0ULL, di = 0x1112131415161720ULL, r9v = 0xffULL;
  __asm__ volatile("addb %%dil, %%sil\n\tmovq %2, %%r9\n\taddb %%sil, %%r9b\n\tmovq %%r9, %2"
                   : "+S"(si), "+D"(di), "+r"(r9v) :: "r9", "cc");
  printf("sil+=dil r9b+=sil: rsi=%016lx r9=%016lx\n", si, r9v);
  /* 40 prefix changes the meaning of register 4-7 in byte ops: 40 00 e0 = add al,spl? use bpl */
  uint64_t bp_val;
  __asm__ volatile("pushq %%rbp\n\tmovq $0x00000000000000ff, %%rbp\n\tmovl $0x100, %%eax\n\tmovl $0x0300, %%ecx\n\t"
                   ".byte 0x40, 0x00, 0xe8\n\t"      /* add al, bpl (with REX): al = 0 + 0xff */
                   ".byte 0x00, 0xe8\n\t"            /* add al, ch (no REX): ch = 3 */
                   "movq %%rbp, %%rcx\n\tpopq %%rbp"
                   : "=a"(a), "=c"(bp_val) :: "cc");
  printf("REX 40 byte regs: rax=%016lx rbp=%016lx\n", a, bp_val);

  /* sign-extended immediates in 64-bit operations */
  a = 0;
  __asm__ volatile("addq $-2, %0\n\tpushf\n\tpop %1" : "+r"(a), "=r"(f) :: "cc");
  printf("addq simm8 -2: %016lx f=%03lx\n", a, f & FL_ARITH);
  a = 0x100000000ULL;
  __asm__ volatile("andq $-0x80000000, %0\n\tpushf\n\tpop %1" : "+r"(a), "=r"(f) :: "cc");
  printf("andq simm32 0x80000000 (sign-extends): %016lx f=%03lx\n", a, f & FL_LOGIC);
  a = 0xffffffff80000000ULL;
  __asm__ volatile("cmpq $-0x80000000, %0\n\tpushf\n\tpop %1" : "+r"(a), "=r"(f) :: "cc");
  printf("cmpq simm32: f=%03lx\n", f & FL_ARITH);
  a = 0x7fffffffffffffffULL;
  __asm__ volatile("addq $0x7fffffff, %%rax\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc");
  printf("addq rax,imm32 (48 05): %016lx f=%03lx\n", a, f & FL_ARITH);

  /* RIP-relative memory operands */
  static volatile uint64_t cell = 0x8000000000000000ULL;
  __asm__ volatile("negq %0\n\tpushf\n\tpop %1" : "+m"(cell), "=r"(f) :: "cc");
  printf("negq [rip] (INT64_MIN): %016lx f=%03lx\n", (uint64_t)cell, f & FL_ARITH);
  b = 3;
  __asm__ volatile("subq %1, cell_rip(%%rip)\n\t"
                   ".pushsection .data\n\t.balign 8\ncell_rip: .quad 2\n\t.popsection\n\t"
                   "movq cell_rip(%%rip), %0\n\tpushf\n\tpop %1" : "=r"(a), "+r"(b) :: "cc", "memory");
  printf("subq [rip],3: %016lx f=%03lx\n", a, b & FL_ARITH);
  __asm__ volatile("lock incq cell_rip(%%rip)\n\tmovq cell_rip(%%rip), %0" : "=r"(a) :: "cc", "memory");
  printf("lock incq [rip]: %016lx\n", a);

  /* 0x82 and the one-byte INC/DEC are gone in 64-bit mode (0x40-0x4f = REX) */
  __asm__ volatile(TRAP_BEGIN ".byte 0x82, 0xc0, 0x01" TRAP_END ::: "memory");
  print_trap("0x82 in 64-bit mode");
  a = 5;
  __asm__ volatile(".byte 0x48, 0xff, 0xc0" : "+a"(a) :: "cc"); /* REX.W inc rax */
  printf("48 ff c0 (inc rax): %lx\n", a);
}

int main(void) {
  printf("== int_alu64 ==\n");
  for (int w = 0; w < 4; w++) alu_table(w);
  partial_writes();
  printf("int_alu64: done\n");
  return 0;
}
