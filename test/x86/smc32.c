// x86: bits=32
/* Self-modifying code in 32-bit code. The code under test is in
 * smc32.asm (NASM): a store into the very next instruction, a loop that
 * patches its own immediate every iteration, patching another function
 * before calling it, flipping a short jump, REP MOVSB of a new function body,
 * re-executing an instruction patched after it ran; here in C: the same
 * physical code page written through a different linear address (paging
 * alias) and then executed through the original one, and code written to a
 * data buffer, executed, rewritten and executed again. */
#include "lib.h"

extern uint32_t smc_next(void), smc_loop(void), smc_patch_call(uint32_t), smc_jmp(void), smc_rep_copy(void);
extern void smc_jmp_patch(void);
extern uint32_t smc_prev(void), smc_target(void);

static uint8_t buf[4096] __attribute__((aligned(4096)));

static uint32_t call_buf(void) {
  uint32_t r;
  __asm__ volatile("call *%1" : "=a"(r) : "r"(buf) : "ecx", "edx", "memory");
  return r;
}

int main(void) {
  printf("== smc32 ==\n");
  printf("store into next instruction: %x\n", (unsigned)smc_next());
  printf("again (already patched): %x\n", (unsigned)smc_next());
  printf("loop patching its immediate: %u\n", (unsigned)smc_loop());
  printf("patch then call: %x\n", (unsigned)smc_patch_call(0xabcd));
  printf("patch then call again: %x\n", (unsigned)smc_patch_call(0x1234));
  printf("jmp before patch: %u\n", (unsigned)smc_jmp());
  smc_jmp_patch();
  printf("jmp after patch: %u\n", (unsigned)smc_jmp());
  printf("rep movsb new body: %x\n", (unsigned)smc_rep_copy());
  printf("re-run patched earlier instruction: %u\n", (unsigned)smc_prev());

  /* code in a data buffer: mov eax, imm32; ret */
  static const uint8_t body[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3 };
  memcpy(buf, body, sizeof body);
  uint32_t a = call_buf();
  buf[1] = 0x02;
  uint32_t b = call_buf();
  for (int i = 0; i < 100; i++) {
    buf[1] = (uint8_t)i;
    b += call_buf();
  }
  printf("buffer code: %u then sum %u\n", (unsigned)a, (unsigned)b);

  /* write through a paging alias of the same physical page */
  paging32_enable(0, 0);
  map32(0x40000000u, (uint32_t)buf, PTE_P | PTE_W);
  uint32_t c1 = call_buf();
  volatile uint8_t *alias = (volatile uint8_t *)0x40000000u;
  alias[1] = 0x55;
  alias[2] = 0x66;
  uint32_t c2 = call_buf();
  paging_disable();
  printf("paging alias write: before %x after %x\n", (unsigned)c1, (unsigned)c2);
  printf("smc32: done\n");
  return 0;
}
