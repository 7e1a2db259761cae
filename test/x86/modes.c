// x86: bits=32 qemu=x86_64 cpu=qemu64
/* Mode transitions, from a 32-bit Multiboot program on qemu-system-x86_64
 * (qemu64: long mode available): protected mode -> real mode (INT n and
 * #DE through an IVT of our own at 0x7000, IRET, 32-bit operand/address
 * prefixes, segment:offset arithmetic, far CALL/RET, LOOP, REP MOVSB, CR0)
 * -> protected mode -> IA-32e compatibility mode -> 64-bit mode -> back to
 * compatibility mode -> protected mode with paging and long mode off. The
 * code is in modes.S. */
#include "lib.h"

extern const uint8_t rm_test_blob[], rm_test_blob_end[], rm_res[];
extern uint32_t long_round_trip(uint32_t cr3, uint32_t *out);

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

int main(void) {
  printf("== modes ==\n");
  printf("start: cr0.pe=%lu cr0.pg=%lu efer=%llx\n", (unsigned long)(read_cr(0) & 1),
         (unsigned long)(read_cr(0) >> 31), (unsigned long long)rdmsr(MSR_EFER));

  struct rm_regs r = { .eax = 0, .ds = 0x0900, .es = 0x0900 };
  realmode_call(rm_test_blob, (size_t)(rm_test_blob_end - rm_test_blob), &r);
  const volatile uint8_t *res = phys_ptr(RM_CODE_ADDR + (uintptr_t)(rm_res - rm_test_blob));
#define R16(o) (*(const volatile uint16_t *)(res + (o)))
#define R32(o) (*(const volatile uint32_t *)(res + (o)))
  printf("real mode: int 0x30 -> bx=%x, cf kept=%x\n", R16(0), R16(2));
  printf("real mode: #DE handler -> cx=%x\n", R16(4));
  printf("real mode: rol eax=%08x, table[ebx*4]=%08x\n", (unsigned)R32(8), (unsigned)R32(12));
  printf("real mode: 1001:0000 == 1000:0010 -> %02x\n", res[16]);
  printf("real mode: far call -> %x, loop sum -> %u\n", R16(18), R16(20));
  printf("real mode: rep movsb ->");
  for (int i = 0; i < 8; i++) printf(" %02x", res[24 + i]);
  printf("\nreal mode: cr0 pe/pg=%08x flags=%03x\n", (unsigned)R32(32), R16(36));
  printf("back in protected mode: cr0.pe=%lu cs=%x\n", (unsigned long)(read_cr(0) & 1),
         (unsigned)({ uint16_t cs; __asm__ volatile("mov %%cs, %0" : "=r"(cs)); cs; }));

  if (!cpu_has(CPUID_81_EDX, 29)) {
    printf("skip: no long mode\n");
    return 0;
  }
  for (int i = 0; i < 512; i++) pd[i] = ((uint64_t)i << 21) | 0x83;
  pdpt[0] = (uint32_t)pd | 3;
  pml4[0] = (uint32_t)pdpt | 3;
  gdt_set(0x48, 0, 0xfffff, 0x9a, 0xa);   /* 64-bit code: L = 1, D = 0 */
  uint32_t out[16];
  memset(out, 0, sizeof out);
  long_round_trip((uint32_t)pml4, out);
  printf("compat mode: efer=%x (lme lma) cs=%x\n", (unsigned)(out[0] & 0xd01), (unsigned)(out[1] & 0xffff));
  printf("64-bit mode: rol=%08x%08x shr=%08x%08x push/pop=%08x%08x cs=%x movl-zero-extends=%08x%08x\n",
         (unsigned)out[3], (unsigned)out[2], (unsigned)out[5], (unsigned)out[4], (unsigned)out[7],
         (unsigned)out[6], (unsigned)(out[8] & 0xffff), (unsigned)out[11], (unsigned)out[10]);
  printf("back to compat: cs=%x; paging off: efer=%x; lme off: efer=%x\n", (unsigned)(out[12] & 0xffff),
         (unsigned)(out[13] & 0xd01), (unsigned)(out[14] & 0xd01));
  printf("end: cr0.pg=%lu cr4.pae=%lu\n", (unsigned long)(read_cr(0) >> 31), (unsigned long)((read_cr(4) >> 5) & 1));
  printf("modes: done\n");
  return 0;
}
