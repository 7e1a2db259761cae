// x86: bits=64
/* MUL / IMUL / DIV / IDIV, 64-bit code: the muldiv_template.h tables at
 * 8/16/32/64 bits, 32-bit forms zero-extending RAX/RDX, and #DE for
 * INT64_MIN / -1. */
#include "muldiv_template.h"

int main(void) {
  printf("== muldiv64 ==\n");
  muldiv_all(4);
  uint64_t a = 0xffffffff00000003ULL, d = 0xffffffff00000000ULL;
  __asm__ volatile("mull %k2" : "+a"(a), "+d"(d) : "r"(0x80000000u) : "cc");
  printf("mull zero-extends: rax=%016lx rdx=%016lx\n", a, d);
  a = 0x8000000000000000ULL;
  d = 0xffffffffffffffffULL;
  __asm__ volatile(TRAP_BEGIN "idivq %2" TRAP_END : "+a"(a), "+d"(d) : "r"(-1LL) : "cc", "memory");
  print_trap("INT64_MIN / -1");
  printf("muldiv64: done\n");
  return 0;
}
