// x86: bits=32
/* EFLAGS.TF: a #DB trap after every instruction that began with TF set, with the
 * return address of the next one: straight-line code, a jump, a taken and a not-taken
 * branch, a call and a return, a REP string instruction (a trap per iteration), and the
 * POPF that clears TF (it still traps: TF was set when it began). */
#include "lib.h"

static volatile int steps;
static volatile ureg ips[64];

static int on_debug(struct trap_frame *f) {
  if (f->vector != 1) return 0;
  if (steps < 64) ips[steps] = f->ip;
  steps++;
  return 1; /* back to the interrupted code: TF stays set in the saved EFLAGS */
}

static char src[8] = "abcdefg", dst[8];

int main(void) {
  printf("== single_step32 ==\n");
  set_trap_hook(on_debug);
  ureg start;
  char *s = src, *d = dst;
  __asm__ volatile(
      "movl $1f, %0\n\t"
      "pushf\n\torl $0x100, (%%esp)\n\tpopf\n"
      "1:\n\t"
      "movl $1, %%eax\n\t"
      "addl $2, %%eax\n\t"
      "jmp 2f\n\t"
      "nop\n"
      "2:\n\t"
      "cmpl $3, %%eax\n\t"
      "je 3f\n\t"
      "nop\n"
      "3:\n\t"
      "jne 4f\n\t"
      "call 5f\n\t"
      "jmp 4f\n"
      "5:\n\t"
      "ret\n"
      "4:\n\t"
      "movl $3, %%ecx\n\t"
      "cld\n\t"
      "rep movsb\n\t"
      "pushf\n\tandl $~0x100, (%%esp)\n\tpopf\n\t"
      "nop\n\t"
      : "=&r"(start), "+S"(s), "+D"(d)
      :
      : "eax", "ecx", "memory", "cc");
  set_trap_hook(0);
  printf("steps=%d dst=%s\n", steps, dst);
  for (int i = 0; i < steps && i < 64; i++) printf("  #DB after -> +%lu\n", (unsigned long)(ips[i] - start));
  return 0;
}
