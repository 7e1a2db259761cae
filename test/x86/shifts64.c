// x86: bits=64
/* Shifts and rotates, 64-bit code: the shift_template.h tables at
 * 8/16/32/64 bits (the 64-bit count mask is 6 bits), then 64-bit-mode
 * details: immediate counts 63/64/65, 32-bit shifts writing (and
 * zero-extending) the register, REX byte registers, RIP-relative memory. */
#include "shift_template.h"

int main(void) {
  printf("== shifts64 ==\n");
  for (int w = 0; w < 4; w++) shift_table(w);

  uint64_t a;
  ureg f;
  a = 0x8000000000000001ULL;
  __asm__ volatile("shlq $63, %0\n\tpushf\n\tpop %1" : "+r"(a), "=r"(f) :: "cc");
  printf("shlq imm 63 = %016lx f=%03lx\n", a, f & (FL_CF | FL_PF | FL_ZF | FL_SF));
  a = 0x8000000000000001ULL;
  __asm__ volatile(".byte 0x48, 0xc1, 0xe0, 0x40\n\tpushf\n\tpop %1" : "+r"(a), "=r"(f) :: "cc"); /* shl rax,64 */
  printf("shlq imm 64 (masked 0) = %016lx\n", a);
  a = 0x4000000000000001ULL;
  __asm__ volatile(".byte 0x48, 0xd1, 0xc0\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* rol rax,1 */
  printf("rolq 1 = %016lx f=%03lx\n", a, f & (FL_CF | FL_OF));
  a = 0xffffffff80000001ULL;
  __asm__ volatile("sarl $4, %k0" : "+r"(a) :: "cc");
  printf("sarl zero-extends into 64: %016lx\n", a);
  a = 0xffffffff80000001ULL;
  __asm__ volatile("rorl $1, %k0" : "+r"(a) :: "cc");
  printf("rorl zero-extends into 64: %016lx\n", a);
  uint64_t r10v = 0x1111111111111181ULL;
  __asm__ volatile("movq %0, %%r10\n\tshrb $1, %%r10b\n\trolw $4, %%r10w\n\tmovq %%r10, %0" : "+r"(r10v) :: "r10", "cc");
  printf("r10b/r10w shifts: %016lx\n", r10v);
  static volatile uint64_t cell = 0x0123456789abcdefULL;
  __asm__ volatile("movb $12, %%cl\n\trorq %%cl, %0" : "+m"(cell) :: "rcx", "cc");
  printf("rorq [rip],cl=12 = %016lx\n", (uint64_t)cell);
  uint64_t hi = 0x0123456789abcdefULL, lo = 0xfedcba9876543210ULL;
  __asm__ volatile("shldq $4, %2, %0\n\tpushf\n\tpop %1" : "+r"(hi), "=r"(f) : "r"(lo) : "cc");
  printf("shldq imm 4 = %016lx f=%03lx\n", hi, f & (FL_CF | FL_PF | FL_ZF | FL_SF));
  printf("shifts64: done\n");
  return 0;
}
