/* Zicsr and machine CSRs: csrrw/csrrs/csrrc and immediate forms (old value
 * returned, x0 source does not write), mscratch, mepc bit 0 masking, mtvec
 * modes, misa/mhartid/mvendorid, mstatus fields, S-mode views (sstatus, sie),
 * delegation registers, satp modes, fcsr/frm/fflags masking and the F
 * pseudo-instructions, counters readable and monotonic (values never
 * printed). */
#include "lib.h"
#include "insn.h"

static void test_csr_ops(void) {
  uint64_t old, now;
  csr_write(mscratch, 0x123456789abcdef0ULL);
  __asm__ volatile("csrrw %0, mscratch, %1" : "=r"(old) : "r"(0xfedcba9876543210ULL));
  print_kv("csrrw old", old);
  print_kv("csrrw new", csr_read(mscratch));
  __asm__ volatile("csrrs %0, mscratch, %1" : "=r"(old) : "r"(0x0f0fULL));
  print_kv("csrrs old", old);
  print_kv("csrrs new", csr_read(mscratch));
  __asm__ volatile("csrrc %0, mscratch, %1" : "=r"(old) : "r"(0xff00000000000000ULL));
  print_kv("csrrc old", old);
  print_kv("csrrc new", csr_read(mscratch));
  __asm__ volatile("csrrwi %0, mscratch, 31" : "=r"(old));
  print_kv("csrrwi old", old);
  print_kv("csrrwi new", csr_read(mscratch));
  __asm__ volatile("csrrsi %0, mscratch, 0x40 >> 2" : "=r"(old));
  print_kv("csrrsi new", csr_read(mscratch));
  __asm__ volatile("csrrci %0, mscratch, 3" : "=r"(old));
  print_kv("csrrci new", csr_read(mscratch));
  __asm__ volatile("csrrs %0, mscratch, x0" : "=r"(old));
  print_kv("csrrs x0", old);
  __asm__ volatile("csrrc %0, mscratch, x0" : "=r"(old));
  print_kv("csrrc x0", old);
  /* csrrw with rd = x0 still writes; rd == rs1 swaps */
  __asm__ volatile("csrrw x0, mscratch, %0" :: "r"(77UL));
  print_kv("csrrw rd=x0", csr_read(mscratch));
  now = 5;
  __asm__ volatile("csrrw %0, mscratch, %0" : "+r"(now));
  print_kv("csrrw rd=rs1 old", now);
  print_kv("csrrw rd=rs1 new", csr_read(mscratch));
}

static void test_machine_info(void) {
  /* QEMU 7.2 advertises the H extension (bit 7), which qemu-ts does not implement:
   * compare everything else. */
  print_kv("misa (without H)", csr_read(misa) & ~(1ull << 7));
  csr_write(misa, 0);
  print_kv("misa after write 0 (without H)", csr_read(misa) & ~(1ull << 7));
  print_kv("mhartid", csr_read(mhartid));
  print_kv("mvendorid", csr_read(mvendorid));
  (void)csr_read(marchid);
  (void)csr_read(mimpid);
  println("marchid/mimpid readable");
}

static void test_mepc_mtvec(void) {
  static const uint64_t v[] = {0x12345679ULL, 0xffffffffffffffffULL, 0x80000002ULL, 0};
  for (unsigned i = 0; i < ARRAY_SIZE(v); i++) {
    csr_write(mepc, v[i]);
    print("mepc write "); print_hex(v[i]); print(" -> "); print_hex(csr_read(mepc)); nl();
    csr_write(sepc, v[i]);
    print("sepc write "); print_hex(v[i]); print(" -> "); print_hex(csr_read(sepc)); nl();
  }
  uint64_t base = (uint64_t)trap_entry;
  static const uint64_t modes[] = {0, 1, 2, 3};
  for (unsigned i = 0; i < ARRAY_SIZE(modes); i++) {
    csr_write(mtvec, base);
    csr_write(mtvec, base + 0x100 + modes[i]);
    print("mtvec write base+0x100|"); print_udec(modes[i]); print(" -> base+");
    print_hex(csr_read(mtvec) - base); nl();
  }
  csr_write(mtvec, base);
  csr_write(mtvec, base + 4 + 2);
  print("mtvec write base+6 -> base+"); print_hex(csr_read(mtvec) - base); nl();
  csr_write(mtvec, base);
  csr_write(stvec, 0x80001235ULL);
  print_kv("stvec write 0x80001235", csr_read(stvec));
  csr_write(stvec, 0);
}

static void test_mstatus(void) {
  /* MPP = M first: MPRV with MPP = U would make our own loads/stores
   * U-mode accesses. */
  csr_set(mstatus, 3UL << 11);
  uint64_t saved = csr_read(mstatus);
  print_kv("mstatus UXL/SXL", (saved >> 32) & 0xf);
  static const uint64_t bits[] = {1UL << 17 /* MPRV */, 1UL << 18 /* SUM */, 1UL << 19 /* MXR */,
                                  1UL << 20 /* TVM */, 1UL << 21 /* TW */, 1UL << 22 /* TSR */,
                                  1UL << 1 /* SIE */, 1UL << 5 /* SPIE */, 1UL << 8 /* SPP */};
  static const char *const names[] = {"MPRV", "SUM", "MXR", "TVM", "TW", "TSR", "SIE", "SPIE", "SPP"};
  for (unsigned i = 0; i < ARRAY_SIZE(bits); i++) {
    csr_set(mstatus, bits[i]);
    uint64_t m = csr_read(mstatus);
    uint64_t s = csr_read(sstatus);
    csr_clear(mstatus, bits[i]);
    uint64_t c = csr_read(mstatus);
    print("mstatus."); print(names[i]); print(" set="); print_udec((m & bits[i]) != 0);
    print(" sstatus-view="); print_udec((s & bits[i]) != 0);
    print(" cleared="); print_udec((c & bits[i]) == 0); nl();
  }
  /* MPP = 2 is reserved; QEMU 7.2 stores it anyway, so it is not tested. */
  static const uint64_t mpps[] = {0, 1, 3};
  for (unsigned k = 0; k < ARRAY_SIZE(mpps); k++) {
    uint64_t mpp = mpps[k];
    csr_clear(mstatus, 3UL << 11);
    csr_set(mstatus, mpp << 11);
    print("MPP write "); print_udec(mpp); print(" -> "); print_udec((csr_read(mstatus) >> 11) & 3); nl();
  }
  /* sstatus writes reach mstatus; sstatus hides M-only fields */
  csr_set(sstatus, 1UL << 18);
  print_kv("SUM via sstatus", (csr_read(mstatus) >> 18) & 1);
  csr_clear(sstatus, 1UL << 18);
  csr_set(mstatus, 3UL << 11);
  print_kv("sstatus hides MPP", (csr_read(sstatus) >> 11) & 3);
  print_kv("sstatus FS view", (csr_read(sstatus) >> 13) & 3);
  print_kv("sstatus UXL", (csr_read(sstatus) >> 32) & 3);
  csr_write(mstatus, saved);
}

static void test_interrupt_regs(void) {
  csr_write(mie, 0xaaa);
  print_kv("mie 0xaaa", csr_read(mie));
  csr_write(mideleg, 0x222);
  /* Masked to the non-hypervisor bits: QEMU's default CPU has the H
   * extension, which makes the VS interrupt bits of mideleg read-only one. */
  print_kv("mideleg 0x222 (non-H bits)", csr_read(mideleg) & 0xaaa);
  print_kv("sie view (delegated)", csr_read(sie));
  csr_write(sie, 0);
  print_kv("mie after sie=0", csr_read(mie));
  csr_write(mie, 0);
  csr_write(mideleg, 0);
  csr_write(medeleg, 0xb109);
  print_kv("medeleg 0xb109", csr_read(medeleg));
  csr_write(medeleg, 0);
  csr_write(mcounteren, 7);
  print_kv("mcounteren 7", csr_read(mcounteren));
  csr_write(mcounteren, 0);
  csr_write(scounteren, 7);
  print_kv("scounteren 7", csr_read(scounteren));
  csr_write(scounteren, 0);
  csr_write(sscratch, 0x5555aaaa5555aaaaULL);
  print_kv("sscratch", csr_read(sscratch));
  csr_write(scause, 0x8000000000000005ULL);
  print_kv("scause", csr_read(scause));
  csr_write(stval, 0x1234);
  print_kv("stval", csr_read(stval));
  csr_write(mcause, 0x8000000000000009ULL);
  print_kv("mcause", csr_read(mcause));
  csr_write(mtval, 0x4321);
  print_kv("mtval", csr_read(mtval));
}

static void test_satp(void) {
  static const uint64_t v[] = {
    0x8000000000012345ULL, /* Sv39 */
    0x9000000000012345ULL, /* Sv48 */
    0xa000000000012345ULL, /* Sv57 */
    0x1000000000012345ULL, /* reserved mode: write ignored */
    0x0000000000000000ULL,
  };
  for (unsigned i = 0; i < ARRAY_SIZE(v); i++) {
    csr_write(satp, v[i]);
    print("satp write "); print_hex(v[i]); print(" -> "); print_hex(csr_read(satp)); nl();
  }
  csr_write(satp, 0);
}

static void test_fcsr(void) {
  uint64_t r;
  csr_write(fcsr, 0xff);
  print("fcsr=0xff: fcsr="); print_hex(csr_read(fcsr)); print(" frm="); print_hex(csr_read(frm));
  print(" fflags="); print_hex(csr_read(fflags)); nl();
  csr_write(fcsr, 0xffffffffffffffffULL);
  print_kv("fcsr=~0", csr_read(fcsr));
  csr_write(fcsr, 0);
  csr_write(fflags, 0xffff);
  print_kv("fflags=0xffff", csr_read(fflags));
  csr_write(frm, 0xffff);
  print_kv("frm=0xffff", csr_read(frm));
  print_kv("fcsr after", csr_read(fcsr));
  __asm__ volatile("fsrmi %0, 2" : "=r"(r));
  print_kv("fsrmi old", r);
  __asm__ volatile("fsflagsi %0, 0x15" : "=r"(r));
  print_kv("fsflagsi old", r);
  __asm__ volatile("frcsr %0" : "=r"(r));
  print_kv("frcsr", r);
  __asm__ volatile("fscsr %0, %1" : "=r"(r) : "r"(0x3aUL));
  print_kv("fscsr old", r);
  __asm__ volatile("frrm %0" : "=r"(r));
  print_kv("frrm", r);
  __asm__ volatile("frflags %0" : "=r"(r));
  print_kv("frflags", r);
  csr_write(fcsr, 0);
}

static void test_counters(void) {
  uint64_t c0, c1, t0, t1, i0, i1, mc0, mc1, mi0, mi1;
  __asm__ volatile("rdcycle %0\n rdtime %1\n rdinstret %2" : "=r"(c0), "=r"(t0), "=r"(i0));
  mc0 = csr_read(mcycle);
  mi0 = csr_read(minstret);
  volatile uint64_t sink = 0;
  for (int i = 0; i < 20000; i++) sink += i;
  __asm__ volatile("rdcycle %0\n rdtime %1\n rdinstret %2" : "=r"(c1), "=r"(t1), "=r"(i1));
  mc1 = csr_read(mcycle);
  mi1 = csr_read(minstret);
  print("cycle monotonic: "); println(c1 >= c0 ? "ok" : "FAIL");
  print("time monotonic: "); println(t1 >= t0 ? "ok" : "FAIL");
  print("instret monotonic: "); println(i1 > i0 ? "ok" : "FAIL");
  print("mcycle monotonic: "); println(mc1 >= mc0 ? "ok" : "FAIL");
  print("minstret monotonic: "); println(mi1 > mi0 ? "ok" : "FAIL");
  /* time advances with wall-clock; spin a bounded while for it to move */
  uint64_t t2 = t1;
  for (int i = 0; i < 10000000 && t2 == t1; i++) __asm__ volatile("rdtime %0" : "=r"(t2));
  print("time advances: "); println(t2 > t1 ? "ok" : "FAIL");
  /* RV32-only high halves do not exist on RV64 */
  trap_expect_begin();
  __asm__ volatile("csrr t0, cycleh" ::: "t0");
  trap_expect_end();
  print("cycleh:"); print_trap_result(); nl();
  trap_expect_begin();
  __asm__ volatile("csrr t0, mstatush" ::: "t0");
  trap_expect_end();
  print("mstatush:"); print_trap_result(); nl();
}

int main(void) {
  println("== csr ==");
  test_csr_ops();
  test_machine_info();
  test_mepc_mtvec();
  test_mstatus();
  test_interrupt_regs();
  test_satp();
  test_fcsr();
  test_counters();
  println("csr: done");
  return 0;
}
