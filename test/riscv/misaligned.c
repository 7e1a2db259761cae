/* Misaligned accesses. QEMU 7.2 performs misaligned integer and FP loads and
 * stores in M-mode without trapping (also across a 4 KiB page boundary);
 * misaligned LR traps with cause 4 (load address misaligned), misaligned
 * SC/AMO with cause 6 (store/AMO address misaligned), mtval = the address.
 * Each access runs inside an expect window so either behaviour is printed. */
#include "lib.h"
#include "insn.h"

static uint8_t page_buf[8192] __attribute__((aligned(4096)));
static uint8_t buf[64] __attribute__((aligned(16)));

static void fill(uint8_t *p, int n) {
  for (int i = 0; i < n; i++) p[i] = (uint8_t)(0x11 * (i & 15) + (i >> 4));
}

static void dump(const char *label, const uint8_t *p, int n) {
  print(label);
  for (int i = 0; i < n; i++) {
    uart_putc(' ');
    print_hexn(p[i], 2);
  }
  nl();
}

#define LOAD(op, addr) ({ uint64_t _r = 0; trap_expect_begin(); \
  __asm__ volatile(op " %0, 0(%1)" : "+r"(_r) : "r"(addr) : "memory"); trap_expect_end(); _r; })
#define STORE(op, addr, v) ({ trap_expect_begin(); \
  __asm__ volatile(op " %0, 0(%1)" :: "r"(U64(v)), "r"(addr) : "memory"); trap_expect_end(); })
#define FLOAD(op, addr) ({ uint64_t _r = 0; trap_expect_begin(); \
  __asm__ volatile("fmv.d.x ft0, zero\n " op " ft0, 0(%1)\n fmv.x.d %0, ft0" : "=r"(_r) : "r"(addr) : "ft0", "memory"); trap_expect_end(); _r; })
#define FSTORE(op, addr, v) ({ trap_expect_begin(); \
  __asm__ volatile("fmv.d.x ft0, %0\n " op " ft0, 0(%1)" :: "r"(U64(v)), "r"(addr) : "ft0", "memory"); trap_expect_end(); })

static void report(const char *what, unsigned off, uint64_t value, const void *base) {
  print(what);
  print(" +");
  print_udec(off);
  print(" = ");
  print_hex(value);
  if (trap_count) {
    print(" trap mcause=");
    print_hex(trap_mcause);
    print(" mtval=+");
    print_hex(trap_mtval - (uint64_t)base);
  }
  nl();
}

static void test_loads(uint8_t *base, unsigned start, const char *tag) {
  for (unsigned off = start; off < start + 8; off++) {
    uint8_t *p = base + off;
    print(tag); nl();
    report(" lh", off, LOAD("lh", p), base);
    report(" lhu", off, LOAD("lhu", p), base);
    report(" lw", off, LOAD("lw", p), base);
    report(" lwu", off, LOAD("lwu", p), base);
    report(" ld", off, LOAD("ld", p), base);
    report(" flw", off, FLOAD("flw", p), base);
    report(" fld", off, FLOAD("fld", p), base);
  }
}

static void test_stores(uint8_t *base, unsigned start, const char *tag) {
  for (unsigned off = start; off < start + 8; off++) {
    uint8_t *p = base + off;
    fill(base + start - 8, 32);
    STORE("sh", p, 0xa1a2a3a4a5a6a7a8ULL);
    report(" sh", off, 0, base);
    dump(" mem", base + start - 8, 32);
    fill(base + start - 8, 32);
    STORE("sw", p, 0xb1b2b3b4b5b6b7b8ULL);
    report(" sw", off, 0, base);
    dump(" mem", base + start - 8, 32);
    fill(base + start - 8, 32);
    STORE("sd", p, 0xc1c2c3c4c5c6c7c8ULL);
    report(" sd", off, 0, base);
    dump(" mem", base + start - 8, 32);
    fill(base + start - 8, 32);
    FSTORE("fsw", p, 0xffffffffd1d2d3d4ULL);
    report(" fsw", off, 0, base);
    dump(" mem", base + start - 8, 32);
    fill(base + start - 8, 32);
    FSTORE("fsd", p, 0xe1e2e3e4e5e6e7e8ULL);
    report(" fsd", off, 0, base);
    dump(" mem", base + start - 8, 32);
  }
  (void)tag;
}

#define AMO_TRY(op, addr) ({ uint64_t _r = 0x5a5a; trap_expect_begin(); \
  __asm__ volatile(op " %0, %2, (%1)" : "+r"(_r) : "r"(addr), "r"(1UL) : "memory"); trap_expect_end(); _r; })
#define LR_TRY(op, addr) ({ uint64_t _r = 0x5a5a; trap_expect_begin(); \
  __asm__ volatile(op " %0, (%1)" : "+r"(_r) : "r"(addr) : "memory"); trap_expect_end(); _r; })

static void test_atomics(uint8_t *base, unsigned off) {
  uint8_t *p = base + off;
  fill(base, 32);
  report(" lr.w", off, LR_TRY("lr.w", p), base);
  report(" lr.d", off, LR_TRY("lr.d", p), base);
  report(" sc.w", off, AMO_TRY("sc.w", p), base);
  report(" sc.d", off, AMO_TRY("sc.d", p), base);
  report(" amoadd.w", off, AMO_TRY("amoadd.w", p), base);
  report(" amoswap.w", off, AMO_TRY("amoswap.w", p), base);
  report(" amoadd.d", off, AMO_TRY("amoadd.d", p), base);
  report(" amomaxu.d", off, AMO_TRY("amomaxu.d", p), base);
  report(" amoor.d", off, AMO_TRY("amoor.d", p), base);
  dump(" mem", base, 32);
}

int main(void) {
  println("== misaligned ==");
  fill(buf, 64);
  test_loads(buf, 8, "loads in a page");
  fill(page_buf + 4096 - 16, 32);
  test_loads(page_buf, 4096 - 4, "loads across a page boundary");
  test_stores(buf, 16, "stores in a page");
  test_stores(page_buf, 4096 - 4, "stores across a page boundary");
  for (unsigned off = 1; off < 8; off++) {
    print("atomics +"); print_udec(off); nl();
    test_atomics(buf, off);
  }
  /* 4-byte aligned but not 8-byte aligned: misaligned for .d only */
  print("atomics +4 (aligned for .w)"); nl();
  test_atomics(buf, 4);
  println("misaligned: done");
  return 0;
}
