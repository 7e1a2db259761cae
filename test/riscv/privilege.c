/* Privilege modes: mret into U- and S-mode, ecall causes 8/9, illegal
 * instructions and CSR accesses from lower modes, PMP (one NAPOT entry
 * covering everything grants U/S access), counter enables
 * (mcounteren/scounteren), TVM trapping satp/sfence.vma, MPP after traps
 * from lower modes. */
#include "lib.h"

static volatile uint64_t resume_addr;
static volatile uint64_t lo_cause, lo_mtval, lo_mstatus, lo_count;

/* Any trap from below M: record it and resume in M at resume_addr. */
static int lower_mode_hook(struct trap_frame *f) {
  if (((f->mstatus >> 11) & 3) == 3) return 0;
  lo_count++;
  lo_cause = f->mcause;
  lo_mtval = f->mtval;
  lo_mstatus = f->mstatus;
  f->mepc = resume_addr;
  csr_set(mstatus, 3UL << 11);
  return 1;
}

/* Run the code at fn in privilege mode `mode` (0 = U, 1 = S); it ends with a
 * trap (ecall or a fault). Returns a0 as the lower mode left it. */
static uint64_t run_in_mode(uint64_t mode, void (*fn)(void), uint64_t extra_mstatus) {
  register uint64_t a0 __asm__("a0") = 0x5a5a;
  lo_count = 0;
  lo_cause = lo_mtval = lo_mstatus = 0;
  __asm__ volatile(
      "lla t0, 1f\n"
      "sd t0, 0(%[resume])\n"
      "li t0, 3 << 11\n"
      "csrc mstatus, t0\n"
      "slli t0, %[mode], 11\n"
      "or t0, t0, %[extra]\n"
      "csrs mstatus, t0\n"
      "csrw mepc, %[fn]\n"
      "mret\n"
      "1:\n"
      : "+r"(a0)
      : [resume] "r"(&resume_addr), [mode] "r"(mode), [fn] "r"(fn), [extra] "r"(extra_mstatus)
      : "t0", "t1", "t2", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "t3", "t4", "t5", "t6", "ra", "memory");
  uint64_t r = a0;
  return r;
}

static void report(const char *label, uint64_t a0) {
  print(label);
  print(": a0=");
  print_hex(a0);
  print(" cause=");
  print_hex(lo_cause);
  print(" mtval=");
  print_hex(lo_mtval);
  print(" MPP=");
  print_udec((lo_mstatus >> 11) & 3);
  print(" MPRV=");
  print_udec((lo_mstatus >> 17) & 1);
  print(" SPP=");
  print_udec((lo_mstatus >> 8) & 1);
  nl();
}

/* Lower-mode snippets. Each ends in a trap. */
extern void lo_ecall(void), lo_read_mstatus(void), lo_read_sstatus(void), lo_rdcycle(void),
    lo_rdtime(void), lo_mret(void), lo_wfi(void), lo_load_ram(void), lo_store_ram(void),
    lo_csrw_satp(void), lo_sfence(void), lo_ebreak(void), lo_illegal(void), lo_sret(void);
__asm__(
    ".text\n"
    ".balign 4\n"
    "lo_ecall: li a0, 42\n ecall\n"
    "lo_read_mstatus: li a0, 1\n csrr a0, mstatus\n ecall\n"
    "lo_read_sstatus: csrr a0, sstatus\n li t0, 0x3ff\n and a0, a0, t0\n ecall\n"
    "lo_rdcycle: li a0, 2\n rdcycle t0\n li a0, 3\n ecall\n"
    "lo_rdtime: li a0, 2\n rdtime t0\n li a0, 3\n ecall\n"
    "lo_mret: li a0, 4\n mret\n"
    "lo_wfi: li a0, 5\n wfi\n ecall\n"
    "lo_load_ram: lla t0, lo_ecall\n lw a0, 0(t0)\n ecall\n"
    "lo_store_ram: lla t0, resume_addr_shadow\n li a0, 77\n sd a0, 0(t0)\n ld a0, 0(t0)\n ecall\n"
    "lo_csrw_satp: li a0, 6\n csrw satp, zero\n li a0, 7\n ecall\n"
    "lo_sfence: li a0, 8\n sfence.vma\n li a0, 9\n ecall\n"
    "lo_ebreak: li a0, 10\n ebreak\n"
    "lo_illegal: li a0, 11\n .word 0xffffffff\n"
    "lo_sret: li a0, 12\n sret\n"
    ".data\n"
    ".balign 8\n"
    "resume_addr_shadow: .dword 0\n"
    ".text\n");

int main(void) {
  println("== privilege ==");
  set_trap_hook(lower_mode_hook);

  /* Without any PMP entry QEMU 7.2 makes mret to U/S an illegal instruction
   * (the spec would fault the first fetch instead), so that case is not
   * tested: configure PMP first. */
  /* One NAPOT entry over the whole address space, RWX. */
  csr_write(pmpaddr0, 0x003fffffffffffffULL);
  csr_write(pmpcfg0, 0x1f);
  print_kv("pmpcfg0", csr_read(pmpcfg0) & 0xff);
  print_kv("pmpaddr0", csr_read(pmpaddr0));

  report("U ecall", run_in_mode(0, lo_ecall, 0));
  report("S ecall", run_in_mode(1, lo_ecall, 0));
  report("U csrr mstatus", run_in_mode(0, lo_read_mstatus, 0));
  report("S csrr mstatus", run_in_mode(1, lo_read_mstatus, 0));
  report("S csrr sstatus", run_in_mode(1, lo_read_sstatus, 0));
  report("U csrr sstatus", run_in_mode(0, lo_read_sstatus, 0));
  report("U mret", run_in_mode(0, lo_mret, 0));
  report("S mret", run_in_mode(1, lo_mret, 0));
  report("U sret", run_in_mode(0, lo_sret, 0));
  report("U wfi", run_in_mode(0, lo_wfi, 0));
  report("U load", run_in_mode(0, lo_load_ram, 0));
  report("S store", run_in_mode(1, lo_store_ram, 0));
  report("U ebreak", run_in_mode(0, lo_ebreak, 0));
  report("S illegal", run_in_mode(1, lo_illegal, 0));
  report("S csrw satp", run_in_mode(1, lo_csrw_satp, 0));
  report("S csrw satp TVM=1", run_in_mode(1, lo_csrw_satp, 1UL << 20));
  csr_clear(mstatus, 1UL << 20);
  report("S sfence.vma TVM=1", run_in_mode(1, lo_sfence, 1UL << 20));
  csr_clear(mstatus, 1UL << 20);
  report("S sfence.vma", run_in_mode(1, lo_sfence, 0));

  /* counters: U needs mcounteren and scounteren, S needs mcounteren */
  csr_write(mcounteren, 0);
  csr_write(scounteren, 0);
  report("U rdcycle m=0 s=0", run_in_mode(0, lo_rdcycle, 0));
  report("S rdcycle m=0", run_in_mode(1, lo_rdcycle, 0));
  csr_write(mcounteren, 7);
  report("U rdcycle m=7 s=0", run_in_mode(0, lo_rdcycle, 0));
  report("S rdcycle m=7", run_in_mode(1, lo_rdcycle, 0));
  report("S rdtime m=7", run_in_mode(1, lo_rdtime, 0));
  csr_write(scounteren, 7);
  report("U rdcycle m=7 s=7", run_in_mode(0, lo_rdcycle, 0));
  csr_write(mcounteren, 0);
  csr_write(scounteren, 0);

  /* Not tested: priv 1.12 says mret to a lower mode clears MPRV; QEMU 7.2
   * leaves it set. */

  set_trap_hook(0);
  csr_write(pmpcfg0, 0);
  csr_write(pmpaddr0, 0);
  println("privilege: done");
  return 0;
}
