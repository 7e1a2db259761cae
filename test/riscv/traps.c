/* M-mode synchronous traps: illegal instructions (mtval = the instruction
 * bits as QEMU reports them, 16-bit ones included), CSR access violations, FP
 * use with mstatus.FS = Off, ecall (cause 11), ebreak/c.ebreak (cause 3),
 * load/store/fetch access faults outside RAM; mepc and the mstatus
 * MIE/MPIE/MPP bookkeeping around a trap and mret. */
#include "lib.h"
#include "insn.h"

/* Run `insn` (an asm string) in an expect window; print cause/mtval and
 * whether mepc pointed at it. */
#define TRY(label, insn) do { \
    uint64_t _at; \
    trap_expect_begin(); \
    __asm__ volatile(".option push\n .option norvc\n lla %0, 1f\n .option pop\n 1: " insn : "=&r"(_at) :: "memory"); \
    trap_expect_end(); \
    print(label); print(":"); print_trap_result(); \
    if (trap_count) print(trap_mepc == _at ? " mepc-ok" : " mepc-WRONG"); \
    nl(); \
  } while (0)

static void test_illegal(void) {
  TRY("all-ones", ".word 0xffffffff");
  TRY("zero (c.unimp)", ".2byte 0x0000");
  TRY("unimp (csrrw x0, cycle, x0)", ".word 0xc0001073");
  TRY("c.addi4spn imm=0", ".2byte 0x0004");
  TRY("c.lwsp rd=0", ".2byte 0x4002");
  TRY("c.jr rs1=0", ".2byte 0x8002");
  TRY("c.lui imm=0", ".2byte 0x6501");
  TRY("c.ldsp rd=0", ".2byte 0x6002");
  TRY("custom-0", ".word 0x0000000b");
  TRY("bad funct7", ".word 0xfe000033");
  TRY("bad load funct3", ".word 0x00007003");
  TRY("bad branch funct3", ".word 0x00002063");
  TRY("48-bit prefix", ".word 0x0000001f");
  TRY("op-imm-32 bad", ".word 0x0000501b | (0x7f << 25)");
  TRY("mret in M (legal)", "lla t0, 2f\n csrw mepc, t0\n li t0, 3 << 11\n csrs mstatus, t0\n mret\n 2:");
  TRY("uret", ".word 0x00200073");
  TRY("dret", ".word 0x7b200073");
  TRY("sfence.vma (legal)", "sfence.vma");
}

static void test_csr_access(void) {
  TRY("csrw mvendorid (ro)", "csrw mvendorid, zero");
  TRY("csrs mhartid,x0 (read only ok)", "csrs mhartid, zero");
  TRY("csrsi mhartid,1", "csrsi mhartid, 1");
  TRY("csrrwi marchid (ro)", "csrwi marchid, 0");
  TRY("csrr nonexistent 0x7c0", "csrr t0, 0x7c0");
  TRY("csrr nonexistent 0x8ff", "csrr t0, 0x8ff");
  TRY("csrw cycle (ro)", "csrw cycle, zero");
  TRY("csrr mscratch", "csrr t0, mscratch");
  TRY("csrr satp", "csrr t0, satp");
  TRY("csrr time", "csrr t0, time");
  TRY("csrr mcycle", "csrr t0, mcycle");
}

static void test_fs_off(void) {
  csr_clear(mstatus, 3 << 13);
  print_kv("mstatus.FS after clear", (csr_read(mstatus) >> 13) & 3);
  TRY("fadd.d FS=off", "fadd.d ft0, ft1, ft2");
  TRY("flw FS=off", "flw ft0, 0(sp)");
  TRY("fmv.x.d FS=off", "fmv.x.d t0, ft0");
  TRY("csrr fcsr FS=off", "csrr t0, fcsr");
  TRY("csrw frm FS=off", "csrwi frm, 1");
  TRY("c.fld FS=off", "c.fld fa0, 0(a1)");
  csr_set(mstatus, 1 << 13); /* Initial */
  TRY("fmv.d.x FS=initial", "fmv.d.x ft0, zero");
  print_kv("mstatus.FS after FP write", (csr_read(mstatus) >> 13) & 3);
  print_kv("mstatus.SD", csr_read(mstatus) >> 63);
  csr_set(mstatus, 3 << 13);
}

static volatile uint64_t hook_mstatus;

static int capture_mstatus(struct trap_frame *f) {
  hook_mstatus = f->mstatus;
  trap_count++;
  trap_mcause = f->mcause;
  trap_mtval = f->mtval;
  trap_mepc = f->mepc;
  f->mepc += insn_length(f->mepc);
  return 1;
}

static void test_env(void) {
  TRY("ecall", "ecall");
  TRY("ebreak", "ebreak");
  TRY("c.ebreak", "c.ebreak");
  /* registers survive an ecall round trip */
  uint64_t r;
  trap_expect_begin();
  __asm__ volatile("li %0, 0x1234\n ecall\n addi %0, %0, 1" : "=r"(r) :: "memory");
  trap_expect_end();
  print_kv("ecall preserves regs", r);

  /* mstatus bookkeeping: MIE=1 before the trap -> MPIE=1, MIE=0, MPP=M in
   * the handler; after mret MIE=1 again, MPIE=1, MPP=U (least privileged). */
  set_trap_hook(capture_mstatus);
  csr_write(mie, 0);
  csr_set(mstatus, 1 << 3);
  __asm__ volatile("ecall" ::: "memory");
  uint64_t after = csr_read(mstatus);
  csr_clear(mstatus, 1 << 3);
  print("trap with MIE=1: in-handler MIE="); print_udec((hook_mstatus >> 3) & 1);
  print(" MPIE="); print_udec((hook_mstatus >> 7) & 1);
  print(" MPP="); print_udec((hook_mstatus >> 11) & 3);
  print(" | after mret MIE="); print_udec((after >> 3) & 1);
  print(" MPIE="); print_udec((after >> 7) & 1);
  print(" MPP="); print_udec((after >> 11) & 3); nl();
  __asm__ volatile("ecall" ::: "memory");
  after = csr_read(mstatus);
  print("trap with MIE=0: in-handler MIE="); print_udec((hook_mstatus >> 3) & 1);
  print(" MPIE="); print_udec((hook_mstatus >> 7) & 1);
  print(" MPP="); print_udec((hook_mstatus >> 11) & 3);
  print(" | after mret MIE="); print_udec((after >> 3) & 1);
  print(" MPIE="); print_udec((after >> 7) & 1);
  print(" MPP="); print_udec((after >> 11) & 3); nl();
  set_trap_hook(0);
}

/* Fetch faults: resume at the return address (ra) of the jump. */
static int fetch_fault_hook(struct trap_frame *f) {
  if (f->mcause != 1) return 0;
  trap_count++;
  trap_mcause = f->mcause;
  trap_mtval = f->mtval;
  trap_mepc = f->mepc;
  f->mepc = f->regs[1];
  return 1;
}

static void test_access_faults(void) {
  static const uint64_t addrs[] = {0x0, 0x88000000ULL, 0x1000000000ULL, 0xfffffffffffff000ULL};
  for (unsigned i = 0; i < ARRAY_SIZE(addrs); i++) {
    volatile uint64_t *p = (volatile uint64_t *)addrs[i];
    uint64_t v = 0;
    trap_expect_begin();
    __asm__ volatile("ld %0, 0(%1)" : "+r"(v) : "r"(p) : "memory");
    trap_expect_end();
    print("load "); print_hex(addrs[i]); print(":"); print_trap_result(); nl();
    trap_expect_begin();
    __asm__ volatile("sw zero, 0(%0)" :: "r"(p) : "memory");
    trap_expect_end();
    print("store "); print_hex(addrs[i]); print(":"); print_trap_result(); nl();
    trap_expect_begin();
    __asm__ volatile("amoadd.w zero, zero, (%0)" :: "r"(p) : "memory");
    trap_expect_end();
    print("amo "); print_hex(addrs[i]); print(":"); print_trap_result(); nl();
  }
  set_trap_hook(fetch_fault_hook);
  static const uint64_t targets[] = {0x88000000ULL, 0x1000000000ULL};
  for (unsigned i = 0; i < ARRAY_SIZE(targets); i++) {
    trap_expect_begin();
    __asm__ volatile("jalr ra, 0(%0)" :: "r"(targets[i]) : "ra", "memory");
    trap_expect_end();
    print("fetch "); print_hex(targets[i]); print(":"); print_trap_result();
    print(" mepc="); print_hex(trap_mepc); nl();
  }
  set_trap_hook(0);
}

int main(void) {
  println("== traps ==");
  test_illegal();
  test_csr_access();
  test_fs_off();
  test_env();
  test_access_faults();
  println("traps: done");
  return 0;
}
