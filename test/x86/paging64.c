// x86: bits=64
/* 4-level paging in long mode: a 4 KiB mapping far from the identity map
 * (new PML4/PDPT/PD/PT entries; accessed and dirty bits at every level after
 * a read and a write), a split 2 MiB identity page, NX (EFER.NXE: an
 * instruction fetch from an NX page is #PF with the I/D bit, reads are
 * fine), executing from a freshly mapped page, ring-3 access to a page whose
 * PML4 entry is supervisor-only, CR0.WP, INVLPG, a 2 MiB page and the
 * absence or presence of 1 GiB pages per CPUID. Only flag bits are printed. */
#include "lib.h"

#define HVA 0x00007f0012345000ULL   /* needs fresh PML4/PDPT/PD/PT entries */
#define KVA 0x0000008000000000ULL   /* PML4 slot 1 */

static uint64_t rd(uint64_t va) {
  uint64_t v = 0xeeeeeeeeeeeeeeeeULL;
  __asm__ volatile(TRAP_BEGIN "movq (%1), %0" TRAP_END : "+r"(v) : "r"(va) : "memory");
  return v;
}
static void wr(uint64_t va, uint64_t v) {
  __asm__ volatile(TRAP_BEGIN "movq %1, (%0)" TRAP_END :: "r"(va), "r"(v) : "memory");
}
static ureg user_rd(ureg va) { trap_clear(); rd(va); return trap_count ? trap_error | 0x100 : 0; }
static ureg user_call(ureg va) {
  trap_clear();
  ureg r = 0, sp;
  /* A call that faults at its target has pushed its return address: restore RSP. */
  __asm__ volatile("movq %%rsp, %1\n\t" TRAP_BEGIN "call *%2" TRAP_END "movq %1, %%rsp"
                   : "+a"(r), "=&r"(sp) : "r"(va) : "memory");
  return trap_count ? trap_error | 0x100 : r;
}

static void fault_report(const char *what) {
  if (trap_count) printf("%s: %s err=%lx cr2=%016lx\n", what, vector_name((int)trap_vector), trap_error, trap_cr2);
  else printf("%s: no fault\n", what);
  trap_clear();
}

/* The four entries that translate va: flags only (low 12 bits and NX). */
static void walk(const char *label, uint64_t va) {
  extern uint64_t boot_pml4[];
  uint64_t *t = boot_pml4;
  printf("%s:", label);
  for (int shift = 39; shift >= 12; shift -= 9) {
    uint64_t e = t[(va >> shift) & 511];
    printf(" %03llx%s", (unsigned long long)(e & 0xfff), (e >> 63) ? "+nx" : "");
    if (!(e & PTE_P) || (shift < 39 && shift > 12 && (e & PTE_PS))) break;
    t = (uint64_t *)(uintptr_t)(e & 0x000ffffffffff000ULL);
  }
  printf("\n");
}

int main(void) {
  printf("== paging64 ==\n");
  printf("efer.nxe=%d pdpe1gb=%d\n", (int)((rdmsr(MSR_EFER) >> 11) & 1), cpu_has(CPUID_81_EDX, 26));
  uint8_t *p1 = alloc_page(), *p2 = alloc_page();
  ((volatile uint64_t *)p1)[0] = 0x1111111111111111ULL;
  ((volatile uint64_t *)p2)[0] = 0x2222222222222222ULL;

  map64(HVA, (uint64_t)(uintptr_t)p1, PTE_P | PTE_W | PTE_U);
  walk("fresh", HVA);
  uint64_t v = rd(HVA);
  printf("read %016lx\n", v);
  walk("after read", HVA);
  wr(HVA + 8, 0x33);
  walk("after write", HVA);

  /* not present, then a present page in a new PML4 slot, supervisor only */
  rd(HVA + 0x1000);
  fault_report("read unmapped");
  map64(KVA, (uint64_t)(uintptr_t)p2, PTE_P | PTE_W | PTE_U);
  extern uint64_t boot_pml4[];
  boot_pml4[1] &= ~PTE_U;
  flush_tlb();
  printf("ring-0 read through supervisor PML4E: %016lx\n", rd(KVA));
  printf("ring-3 read through supervisor PML4E: %lx\n", run_user(user_rd, KVA));
  fault_report("  ");
  boot_pml4[1] |= PTE_U;
  flush_tlb();
  printf("ring-3 read after setting U: %lx\n", run_user(user_rd, KVA));

  /* WP */
  map64(HVA + 0x2000, (uint64_t)(uintptr_t)p2, PTE_P | PTE_U);
  write_cr(0, read_cr(0) & ~(ureg)CR0_WP);
  wr(HVA + 0x2008, 0x44);
  fault_report("ring-0 write read-only, WP=0");
  write_cr(0, read_cr(0) | CR0_WP);
  wr(HVA + 0x2008, 0x55);
  fault_report("ring-0 write read-only, WP=1");
  write_cr(0, read_cr(0) & ~(ureg)CR0_WP);

  /* NX: a page holding "mov $0x77, %eax; ret" */
  uint8_t *code = alloc_page();
  static const uint8_t stub[] = { 0xb8, 0x77, 0x00, 0x00, 0x00, 0xc3 };
  memcpy(code, stub, sizeof stub);
  map64(HVA + 0x3000, (uint64_t)(uintptr_t)code, PTE_P | PTE_U);
  uint64_t r = 0;
  trap_clear();
  __asm__ volatile(TRAP_BEGIN "call *%1" TRAP_END : "+a"(r) : "r"(HVA + 0x3000) : "memory");
  printf("call executable page: %lx\n", r);
  map64(HVA + 0x3000, (uint64_t)(uintptr_t)code, PTE_P | PTE_U | PTE_NX);
  if (rdmsr(MSR_EFER) & EFER_NXE) {
    trap_clear();
    uint64_t sp0, sp1;
    __asm__ volatile("movq %%rsp, %1\n\t" TRAP_BEGIN "call *%2" TRAP_END "movq %%rsp, %0\n\tmovq %1, %%rsp"
                     : "=r"(sp1), "=r"(sp0) : "r"(HVA + 0x3000) : "memory");
    printf("call NX page: %s err=%lx cr2=%016lx rip==target %d pushed=%ld\n", vector_name((int)trap_vector),
           trap_error, trap_cr2, trap_ip == HVA + 0x3000, (long)(sp0 - sp1));
    trap_clear();
    printf("read NX page: %016lx\n", (unsigned long)(rd(HVA + 0x3000) & 0xffffffffffffULL));
    printf("ring-3 call NX page: %lx\n", run_user(user_call, HVA + 0x3000));
    fault_report("  ");
  } else {
    printf("skip: no NX\n");
  }

  /* INVLPG */
  map64(HVA, (uint64_t)(uintptr_t)p2, PTE_P | PTE_W | PTE_U);
  invlpg((void *)HVA);
  printf("after remap + invlpg: %016lx\n", rd(HVA));

  /* a 2 MiB page at 0x40000000 -> 16 MiB (a new PD entry with PS) */
  map64(0x40000000ULL, 0, 0);  /* creates the PD for 1 GiB..2 GiB */
  uint64_t *pdpt = (uint64_t *)(uintptr_t)(boot_pml4[0] & 0x000ffffffffff000ULL);
  volatile uint64_t *pd = (volatile uint64_t *)(uintptr_t)(pdpt[1] & 0x000ffffffffff000ULL);
  pd[0] = 0x01000000ULL | PTE_PS | PTE_P | PTE_W | PTE_U;
  flush_tlb();
  *(volatile uint64_t *)0x01012340ULL = 0x1234123412341234ULL;
  v = *(volatile uint64_t *)0x40012340ULL;
  printf("2M page read: %016lx pde flags=%03llx\n", v, (unsigned long long)(pd[0] & 0xfff));
  *(volatile uint64_t *)0x40012348ULL = 1;
  printf("after write pde flags=%03llx\n", (unsigned long long)(pd[0] & 0xfff));
  walk("2M walk", 0x40012340ULL);
  /* Not tested: reserved-bit faults (QEMU 7.2 leaves P out of the error code). */
  printf("paging64: done\n");
  return 0;
}
