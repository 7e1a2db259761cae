/* RVC: every RV64C instruction, with immediates at their encodable extremes
 * (c.addi4spn up to 1020, c.addi16sp +-512/496, c.lui sign-extension from bit
 * 17, shift amounts up to 63, load/store offsets at their maxima), the
 * register-pair forms on x8-x15 and sp-relative forms. c.ebreak is in traps.c. */
#include "lib.h"
#include "insn.h"

static const uint64_t vals[] = {
  0, 1, 0xffffffffffffffffULL, 0x8000000000000000ULL, 0x7fffffffULL, 0xffffffff80000000ULL,
  0x123456789abcdef0ULL,
};

/* a0 = op(a0) with a0 preloaded */
#define C1(insn, init) ({ register uint64_t _a __asm__("a0") = U64(init); \
  __asm__ volatile(insn : "+r"(_a)); _a; })
/* a0 = op(a0, a1) */
#define C2(insn, x, y) ({ register uint64_t _a __asm__("a0") = U64(x); register uint64_t _b __asm__("a1") = U64(y); \
  __asm__ volatile(insn : "+r"(_a) : "r"(_b)); _a; })

static void line_begin(const char *name, unsigned i) {
  print(name);
  print(" a");
  print_udec(i);
  print(":");
}
static void item(uint64_t v) {
  uart_putc(' ');
  print_hex(v);
}

static void test_alu(void) {
  for (unsigned i = 0; i < ARRAY_SIZE(vals); i++) {
    uint64_t x = vals[i];
    line_begin("c.addi", i);
    item(C1("c.addi a0, 1", x)); item(C1("c.addi a0, -1", x)); item(C1("c.addi a0, 31", x)); item(C1("c.addi a0, -32", x));
    nl();
    line_begin("c.addiw", i);
    item(C1("c.addiw a0, 0", x)); item(C1("c.addiw a0, 1", x)); item(C1("c.addiw a0, -1", x)); item(C1("c.addiw a0, 31", x)); item(C1("c.addiw a0, -32", x));
    nl();
    line_begin("c.andi", i);
    item(C1("c.andi a0, 0", x)); item(C1("c.andi a0, -1", x)); item(C1("c.andi a0, 31", x)); item(C1("c.andi a0, -32", x)); item(C1("c.andi a0, 21", x));
    nl();
    line_begin("c.srli", i);
    item(C1("c.srli a0, 1", x)); item(C1("c.srli a0, 31", x)); item(C1("c.srli a0, 32", x)); item(C1("c.srli a0, 63", x));
    nl();
    line_begin("c.srai", i);
    item(C1("c.srai a0, 1", x)); item(C1("c.srai a0, 31", x)); item(C1("c.srai a0, 32", x)); item(C1("c.srai a0, 63", x));
    nl();
    line_begin("c.slli", i);
    item(C1("c.slli a0, 1", x)); item(C1("c.slli a0, 31", x)); item(C1("c.slli a0, 32", x)); item(C1("c.slli a0, 63", x));
    nl();
    for (unsigned j = 0; j < ARRAY_SIZE(vals); j++) {
      uint64_t y = vals[j];
      print("c.rr a"); print_udec(i); print(" b"); print_udec(j); print(":");
      item(C2("c.sub a0, a1", x, y)); item(C2("c.xor a0, a1", x, y)); item(C2("c.or a0, a1", x, y));
      item(C2("c.and a0, a1", x, y)); item(C2("c.subw a0, a1", x, y)); item(C2("c.addw a0, a1", x, y));
      item(C2("c.add a0, a1", x, y)); item(C2("c.mv a0, a1", x, y));
      nl();
    }
  }
  print("c.li:"); item(C1("c.li a0, 0", 99)); item(C1("c.li a0, 31", 99)); item(C1("c.li a0, -32", 99)); item(C1("c.li a0, -1", 99)); nl();
  print("c.lui:"); item(C1("c.lui a0, 1", 0)); item(C1("c.lui a0, 0x1f", 0)); item(C1("c.lui a0, 0xfffe0", 0)); item(C1("c.lui a0, 0xfffff", 0)); nl();
  print("c.nop:"); item(C1("c.nop", 7)); nl();
  /* registers outside x8-x15 for the full-register forms */
  uint64_t r;
  __asm__ volatile("li t3, 5\n li t4, 7\n c.add t3, t4\n c.mv t5, t3\n c.addi t5, 3\n c.slli t5, 2\n mv %0, t5" : "=r"(r) :: "t3", "t4", "t5");
  print_kv("c.full-regs", r);
}

static uint64_t mem[40] __attribute__((aligned(16)));

static void test_mem(void) {
  for (int i = 0; i < 40; i++) mem[i] = 0x0101010101010101ULL * (uint64_t)(i + 0x80);
  /* Local register variables are only bound at the asm itself (calls in
   * between may clobber a0/a1), so each access re-binds them. */
#define CLD(insn) ({ register uint64_t _b __asm__("a1") = (uint64_t)mem; register uint64_t _v __asm__("a0"); \
  __asm__ volatile(insn : "=r"(_v) : "r"(_b) : "memory"); _v; })
  print_kv("c.lw 0", CLD("c.lw a0, 0(a1)"));
  print_kv("c.lw 124", CLD("c.lw a0, 124(a1)"));
  print_kv("c.ld 0", CLD("c.ld a0, 0(a1)"));
  print_kv("c.ld 248", CLD("c.ld a0, 248(a1)"));
  {
    register uint64_t base __asm__("a1") = (uint64_t)mem;
    register uint64_t v __asm__("a0") = 0xfedcba9876543210ULL;
    __asm__ volatile("c.sw a0, 4(a1)\n c.sd a0, 16(a1)\n c.sw a0, 124(a1)\n c.sd a0, 248(a1)" :: "r"(v), "r"(base) : "memory");
  }
  print_kv("c.sw 4", mem[0]);
  print_kv("c.sd 16", mem[2]);
  print_kv("c.sw 124", mem[15]);
  print_kv("c.sd 248", mem[31]);
  /* FP compressed loads/stores */
  mem[3] = 0x400921fb54442d18ULL;
  {
    register uint64_t base __asm__("a1") = (uint64_t)mem;
    __asm__ volatile("c.fld fa0, 24(a1)\n c.fsd fa0, 32(a1)\n c.fld fa1, 248(a1)\n c.fsd fa1, 40(a1)" :: "r"(base) : "fa0", "fa1", "memory");
  }
  print_kv("c.fld/c.fsd", mem[4]);
  print_kv("c.fld 248", mem[5]);
}

static void test_sp(void) {
  uint64_t r, spv, a, b, c, d;
  /* c.addi4spn: rd = sp + nzuimm (4..1020, multiple of 4) */
  __asm__ volatile("c.addi4spn a0, sp, 4\n mv %0, a0\n mv %1, sp" : "=r"(r), "=r"(spv) :: "a0");
  print_kv("c.addi4spn 4", r - spv);
  __asm__ volatile("c.addi4spn a0, sp, 1020\n mv %0, a0\n mv %1, sp" : "=r"(r), "=r"(spv) :: "a0");
  print_kv("c.addi4spn 1020", r - spv);
  /* c.addi16sp: sp += nzimm (-512..496, multiple of 16) */
  __asm__ volatile("mv %1, sp\n c.addi16sp sp, -512\n mv %0, sp\n c.addi16sp sp, 496\n c.addi16sp sp, 16"
                   : "=r"(r), "=r"(spv) :: "memory");
  print_kv("c.addi16sp -512", spv - r);
  /* sp-relative loads/stores with maximum offsets (space reserved first) */
  __asm__ volatile(
      "addi sp, sp, -512\n"
      "li t0, 0x1122334455667788\n"
      "c.sdsp t0, 504(sp)\n"
      "c.swsp t0, 252(sp)\n"
      "c.sdsp t0, 0(sp)\n"
      "c.sdsp zero, 8(sp)\n"
      "li t1, -1\n"
      "c.swsp t1, 8(sp)\n"
      "c.ldsp %0, 504(sp)\n"
      "c.lwsp %1, 252(sp)\n"
      "c.ldsp %2, 8(sp)\n"
      "c.lwsp %3, 4(sp)\n"
      "addi sp, sp, 512\n"
      : "=r"(a), "=r"(b), "=r"(c), "=r"(d) :: "t0", "t1", "memory");
  print_kv("c.ldsp 504", a);
  print_kv("c.lwsp 252", b);
  print_kv("c.ldsp 8", c);
  print_kv("c.lwsp 4", d);
  __asm__ volatile(
      "addi sp, sp, -512\n"
      "li t0, 0xc00921fb54442d18\n"
      "fmv.d.x ft0, t0\n"
      "c.fsdsp ft0, 504(sp)\n"
      "c.fldsp ft1, 504(sp)\n"
      "fmv.x.d %0, ft1\n"
      "addi sp, sp, 512\n"
      : "=r"(a) :: "t0", "ft0", "ft1", "memory");
  print_kv("c.fsdsp/c.fldsp", a);
}

static uint64_t c_target(uint64_t x) { return x * 3 + 1; }

static void test_control(void) {
  uint64_t r;
  /* c.j forward and backward */
  __asm__ volatile("li %0, 0\n c.j 2f\n1: addi %0, %0, 100\n c.j 3f\n2: addi %0, %0, 1\n c.j 1b\n3:" : "=&r"(r));
  print_kv("c.j", r);
  /* c.beqz / c.bnez taken and not taken, on x8-x15 */
  for (uint64_t v = 0; v < 3; v++) {
    register uint64_t s __asm__("a2") = v ? (v == 1 ? 1 : 0x8000000000000000ULL) : 0;
    __asm__ volatile("li %0, 0\n c.beqz a2, 1f\n ori %0, %0, 1\n1: c.bnez a2, 2f\n ori %0, %0, 2\n2:" : "=&r"(r) : "r"(s));
    print("c.beqz/c.bnez v"); print_udec(v); print(" "); print_hex(r); nl();
  }
  /* c.jalr links pc+2, c.jr returns */
  uint64_t link, here;
  __asm__ volatile("lla t0, 1f\n lla %1, 2f\n2: c.jalr t0\n1: mv %0, ra" : "=r"(link), "=r"(here) :: "t0", "ra");
  print_kv("c.jalr link", link - here);
  __asm__ volatile("li %0, 0\n lla t0, 1f\n c.jr t0\n li %0, 5\n1: addi %0, %0, 9" : "=&r"(r) :: "t0");
  print_kv("c.jr", r);
  /* call a C function through c.jalr */
  register uint64_t arg __asm__("a0") = 13;
  __asm__ volatile("c.jalr %1" : "+r"(arg) : "r"(c_target) : "ra", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "memory");
  print_kv("c.jalr call", arg);
}

int main(void) {
  println("== compressed ==");
  test_alu();
  test_mem();
  test_sp();
  test_control();
  println("compressed: done");
  return 0;
}
