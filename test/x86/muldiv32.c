// x86: bits=32
/* MUL / IMUL / DIV / IDIV, 32-bit code: the muldiv_template.h tables at
 * 8/16/32 bits (#DE on zero divisors and quotient overflow, caught and
 * printed), then memory operands and the #DE frame: the faulting EIP is the
 * DIV itself and the registers are unchanged. */
#include "muldiv_template.h"

int main(void) {
  printf("== muldiv32 ==\n");
  muldiv_all(3);

  volatile uint32_t m = 0x10001, dm = 7;
  uint32_t lo = 0xfffff, hi;
  __asm__ volatile("mull %2" : "+a"(lo), "=d"(hi) : "m"(m) : "cc");
  printf("mul [m32]: %08x:%08x\n", (unsigned)hi, (unsigned)lo);
  uint32_t r;
  __asm__ volatile("imull $-100, %1, %0" : "=r"(r) : "m"(m) : "cc");
  printf("imul r32,[m32],-100: %08x\n", (unsigned)r);
  lo = 100; hi = 0;
  __asm__ volatile("divl %2" : "+a"(lo), "+d"(hi) : "m"(dm) : "cc");
  printf("div [m32]: q=%u r=%u\n", (unsigned)lo, (unsigned)hi);
  uint32_t a = 0x12345678, d = 0x9abcdef0, zero = 0;
  trap_clear();
  __asm__ volatile(TRAP_BEGIN "divl %2" TRAP_END : "+a"(a), "+d"(d) : "r"(zero) : "cc", "memory");
  print_trap("div by zero");
  printf("after #DE: eax=%08x edx=%08x\n", (unsigned)a, (unsigned)d);
  volatile uint16_t zero16 = 0;
  uint32_t ax = 0x1234;
  __asm__ volatile(TRAP_BEGIN "divb %1" TRAP_END : "+a"(ax) : "m"(zero16) : "cc", "memory");
  print_trap("divb [m8]=0");
  printf("muldiv32: done\n");
  return 0;
}
