/* Machine interrupts from the CLINT: timer (mtimecmp/mtime, MTIE, cause 7)
 * and software (msip, MSIE, cause 3); direct and vectored mtvec (vectored:
 * interrupt cause n enters at base + 4*n); WFI wake-up with MIE=0; pending
 * bits in mip; priority MSI over MTI; mstatus MIE/MPIE/MPP inside the handler.
 * Determinism: interrupts are made pending while mstatus.MIE = 0 and then
 * taken at a known instruction (the csrs that sets MIE), so mepc and the
 * number of interrupts never depend on timing. */
#include "lib.h"

#define MIP_MSIP (1UL << 3)
#define MIP_MTIP (1UL << 7)
#define MSTATUS_MIE (1UL << 3)

static volatile uint64_t *const mtimecmp = (volatile uint64_t *)CLINT_MTIMECMP;
static volatile uint64_t *const mtime = (volatile uint64_t *)CLINT_MTIME;
static volatile uint32_t *const msip = (volatile uint32_t *)CLINT_BASE;

static volatile int irq_count;
static volatile uint64_t irq_cause[8], irq_mstatus[8], irq_mepc[8];
static volatile int64_t irq_vec[8];

static int irq_hook(struct trap_frame *f) {
  if ((int64_t)f->mcause >= 0) return 0;
  int n = irq_count;
  if (n < 8) {
    irq_cause[n] = f->mcause;
    irq_vec[n] = f->vec;
    irq_mstatus[n] = f->mstatus;
    irq_mepc[n] = f->mepc;
  }
  irq_count = n + 1;
  uint64_t code = f->mcause & 0xff;
  if (code == 7) *mtimecmp = ~0ULL;   /* clears MTIP */
  else if (code == 3) *msip = 0;      /* clears MSIP */
  else return 0;
  return 1;
}

static void arm_timer(uint64_t delta) { *mtimecmp = *mtime + delta; }

/* Deadline for waits, in mtime ticks (10 MHz on virt): bounded by time, not
 * by an iteration count, so a WFI that returns at once cannot end a wait
 * before the timer had a chance to fire. */
#define WAIT_TICKS 10000000ULL /* 1 s */

/* Wait (bounded) with WFI until the given mip bit is pending. */
static int wait_pending(uint64_t bit) {
  uint64_t deadline = *mtime + WAIT_TICKS;
  while (*mtime < deadline) {
    if (csr_read(mip) & bit) return 1;
    __asm__ volatile("wfi");
  }
  return (csr_read(mip) & bit) != 0;
}

static void report(int first, int n) {
  for (int i = first; i < first + n && i < irq_count && i < 8; i++) {
    print("  irq "); print_udec(i - first);
    print(" cause="); print_hex(irq_cause[i]);
    print(" vec="); print_dec(irq_vec[i]);
    print(" MIE="); print_udec((irq_mstatus[i] >> 3) & 1);
    print(" MPIE="); print_udec((irq_mstatus[i] >> 7) & 1);
    print(" MPP="); print_udec((irq_mstatus[i] >> 11) & 3);
    nl();
  }
}

/* Make the interrupt(s) pending with MIE=0, then set MIE at a labelled
 * instruction; returns mepc of the first interrupt relative to the label. */
static uint64_t take_now(void) {
  uint64_t label;
  __asm__ volatile("lla %0, 1f\n csrsi mstatus, 8\n 1: nop\n csrci mstatus, 8" : "=&r"(label) :: "memory");
  return label;
}

static void timer_test(const char *name, uint64_t tvec) {
  csr_write(mtvec, tvec);
  int before = irq_count;
  csr_clear(mstatus, MSTATUS_MIE);
  csr_write(mie, MIP_MTIP);
  arm_timer(20000);
  print(name); print(": woke="); print_udec(wait_pending(MIP_MTIP));
  print(" taken-while-MIE=0="); print_udec(irq_count - before);
  uint64_t label = take_now();
  print(" taken="); print_udec(irq_count - before);
  print(" mepc-ok="); print_udec(irq_count > before && irq_mepc[before] == label);
  print(" MTIP-after="); print_udec((csr_read(mip) & MIP_MTIP) != 0);
  nl();
  report(before, irq_count - before);
  csr_write(mie, 0);
  csr_write(mtvec, (uint64_t)trap_entry);
}

int main(void) {
  println("== interrupts ==");
  set_trap_hook(irq_hook);
  *mtimecmp = ~0ULL;
  *msip = 0;
  print_kv("mip at start (MSIP|MTIP)", csr_read(mip) & (MIP_MSIP | MIP_MTIP));

  timer_test("direct", (uint64_t)trap_entry);
  timer_test("vectored", (uint64_t)trap_vector_table | 1);

  /* mtimecmp in the past: MTIP pending, but not taken with MTIE=0 */
  csr_write(mie, 0);
  int before = irq_count;
  *mtimecmp = 0;
  csr_set(mstatus, MSTATUS_MIE);
  for (volatile int i = 0; i < 1000; i++) {
  }
  csr_clear(mstatus, MSTATUS_MIE);
  print("MTIE=0: MTIP="); print_udec((csr_read(mip) & MIP_MTIP) != 0);
  print(" taken="); print_udec(irq_count - before);
  *mtimecmp = ~0ULL;
  print(" MTIP after mtimecmp=~0: "); print_udec((csr_read(mip) & MIP_MTIP) != 0); nl();

  /* software interrupt, vectored: enters at base + 4*3 */
  csr_write(mtvec, (uint64_t)trap_vector_table | 1);
  csr_write(mie, MIP_MSIP);
  before = irq_count;
  *msip = 1;
  print("msip: MSIP="); print_udec((csr_read(mip) & MIP_MSIP) != 0);
  uint64_t label = take_now();
  print(" taken="); print_udec(irq_count - before);
  print(" mepc-ok="); print_udec(irq_count > before && irq_mepc[before] == label);
  print(" MSIP-after="); print_udec((csr_read(mip) & MIP_MSIP) != 0); nl();
  report(before, irq_count - before);

  /* both pending: MSI has priority over MTI */
  csr_write(mie, MIP_MSIP | MIP_MTIP);
  before = irq_count;
  *msip = 1;
  *mtimecmp = 0;
  print("both pending: mip="); print_hex(csr_read(mip) & (MIP_MSIP | MIP_MTIP));
  take_now();
  print(" taken="); print_udec(irq_count - before); nl();
  report(before, irq_count - before);

  /* WFI with MIE=1: the interrupt is taken (count only; mepc depends on
   * whether it arrived before or during the WFI) */
  csr_write(mtvec, (uint64_t)trap_entry);
  csr_write(mie, MIP_MTIP);
  before = irq_count;
  arm_timer(10000);
  csr_set(mstatus, MSTATUS_MIE);
  uint64_t deadline = *mtime + WAIT_TICKS;
  while (irq_count == before && *mtime < deadline) __asm__ volatile("wfi");
  csr_clear(mstatus, MSTATUS_MIE);
  print("wfi with MIE=1: taken="); print_udec(irq_count - before); nl();
  report(before, irq_count - before);

  csr_write(mie, 0);
  set_trap_hook(0);
  println("interrupts: done");
  return 0;
}
