/* RV64I: every ALU, shift, load/store, branch and jump instruction over a
 * table of edge values (0, +-1, INT64_MIN/MAX, 32-bit boundaries, shift
 * amounts >= XLEN whose low 6/5 bits are used). */
#include "lib.h"
#include "insn.h"

static const uint64_t vals[] = {
  0, 1, 0xffffffffffffffffULL, 2,
  0x8000000000000000ULL, 0x7fffffffffffffffULL, 0x80000000ULL, 0x7fffffffULL,
  0xffffffffULL, 0xffffffff80000000ULL, 0x123456789abcdef0ULL, 0xfedcba9876543210ULL,
  31, 32, 33, 63, 64, 65, 127,
};
#define NV ARRAY_SIZE(vals)

typedef uint64_t (*rr_fn)(uint64_t, uint64_t);
#define DEF_RR(name, op) static uint64_t name(uint64_t a, uint64_t b) { return RR(op, a, b); }
DEF_RR(f_add, "add") DEF_RR(f_sub, "sub") DEF_RR(f_and, "and") DEF_RR(f_or, "or")
DEF_RR(f_xor, "xor") DEF_RR(f_slt, "slt") DEF_RR(f_sltu, "sltu") DEF_RR(f_sll, "sll")
DEF_RR(f_srl, "srl") DEF_RR(f_sra, "sra") DEF_RR(f_addw, "addw") DEF_RR(f_subw, "subw")
DEF_RR(f_sllw, "sllw") DEF_RR(f_srlw, "srlw") DEF_RR(f_sraw, "sraw")

static const struct { const char *name; rr_fn fn; } rr_ops[] = {
  {"add", f_add}, {"sub", f_sub}, {"and", f_and}, {"or", f_or}, {"xor", f_xor},
  {"slt", f_slt}, {"sltu", f_sltu}, {"sll", f_sll}, {"srl", f_srl}, {"sra", f_sra},
  {"addw", f_addw}, {"subw", f_subw}, {"sllw", f_sllw}, {"srlw", f_srlw}, {"sraw", f_sraw},
};

static void test_rr(void) {
  for (unsigned o = 0; o < ARRAY_SIZE(rr_ops); o++) {
    for (unsigned i = 0; i < NV; i++) {
      print(rr_ops[o].name);
      print(" a");
      print_udec(i);
      print(":");
      for (unsigned j = 0; j < NV; j++) {
        uart_putc(' ');
        print_hex(rr_ops[o].fn(vals[i], vals[j]));
      }
      nl();
    }
  }
}

/* Immediate forms: one asm per immediate value. */
#define IMM_LIST(X, op) X(op, 0) X(op, 1) X(op, -1) X(op, 2047) X(op, -2048) X(op, 0x555) X(op, -0x556)
#define EMIT_IMM(op, imm) uart_putc(' '); print_hex(RI(op, a, imm));
#define SH_LIST(X, op) X(op, 0) X(op, 1) X(op, 31) X(op, 32) X(op, 33) X(op, 63)
#define SHW_LIST(X, op) X(op, 0) X(op, 1) X(op, 15) X(op, 31)

static void test_imm(void) {
  for (unsigned i = 0; i < NV; i++) {
    uint64_t a = vals[i];
#define LINE(op, LIST) print(op " a"); print_udec(i); print(":"); LIST(EMIT_IMM, op) nl();
    LINE("addi", IMM_LIST)
    LINE("slti", IMM_LIST)
    LINE("sltiu", IMM_LIST)
    LINE("xori", IMM_LIST)
    LINE("ori", IMM_LIST)
    LINE("andi", IMM_LIST)
    LINE("addiw", IMM_LIST)
    LINE("slli", SH_LIST)
    LINE("srli", SH_LIST)
    LINE("srai", SH_LIST)
    LINE("slliw", SHW_LIST)
    LINE("srliw", SHW_LIST)
    LINE("sraiw", SHW_LIST)
#undef LINE
  }
}

static void test_lui_auipc(void) {
  uint64_t r, pc;
#define LUI(imm) __asm__ volatile("lui %0, " #imm : "=r"(r)); print("lui " #imm " "); print_hex(r); nl();
  LUI(0) LUI(1) LUI(0x7ffff) LUI(0x80000) LUI(0xfffff) LUI(0x12345)
#undef LUI
#define AUIPC(imm) __asm__ volatile("1: auipc %0, " #imm "\n lla %1, 1b" : "=r"(r), "=r"(pc)); \
  print("auipc " #imm " "); print_hex(r - pc); nl();
  AUIPC(0) AUIPC(1) AUIPC(0x7ffff) AUIPC(0x80000) AUIPC(0xfffff)
#undef AUIPC
}

/* x0 is hard-wired: writes are discarded, including by loads and jumps. */
static void test_x0(void) {
  uint64_t r;
  static volatile uint64_t cell = 0x1122334455667788ULL;
  __asm__ volatile("li t0, 5\n add x0, t0, t0\n mv %0, x0" : "=r"(r) :: "t0");
  print_kv("add-x0", r);
  __asm__ volatile("ld x0, 0(%1)\n addi %0, x0, 7" : "=r"(r) : "r"(&cell));
  print_kv("ld-x0", r);
  __asm__ volatile("jal x0, 1f\n li %0, 1\n j 2f\n1: li %0, 2\n2:" : "=r"(r));
  print_kv("jal-x0", r);
  __asm__ volatile("lui x0, 0x12345\n addi %0, x0, 0" : "=r"(r));
  print_kv("lui-x0", r);
}

static uint8_t buf[64] __attribute__((aligned(16)));

static void fill_buf(void) {
  for (int i = 0; i < 64; i++) buf[i] = (uint8_t)(0x70 + i * 7);
}

static void dump_buf(const char *label) {
  print(label);
  for (int i = 0; i < 32; i++) {
    uart_putc(i % 8 ? ' ' : '|');
    print_hexn(buf[i], 2);
  }
  nl();
}

static void test_loads(void) {
  fill_buf();
  uint8_t *p = buf + 16;
  uint64_t r;
#define LD(op, off) __asm__ volatile(op " %0, " #off "(%1)" : "=r"(r) : "r"(p) : "memory"); \
  print(op " " #off " "); print_hex(r); nl();
  LD("lb", 0) LD("lb", 1) LD("lb", -1) LD("lb", 9) LD("lbu", 0) LD("lbu", 9) LD("lbu", -16)
  LD("lh", 0) LD("lh", 2) LD("lh", -2) LD("lh", 8) LD("lhu", 0) LD("lhu", 8) LD("lhu", -8)
  LD("lw", 0) LD("lw", 4) LD("lw", -4) LD("lw", 8) LD("lwu", 0) LD("lwu", 8) LD("lwu", -12)
  LD("ld", 0) LD("ld", 8) LD("ld", -8) LD("ld", -16)
#undef LD
}

static void test_stores(void) {
  fill_buf();
  uint8_t *p = buf + 16;
  uint64_t v = 0xa1b2c3d4e5f60718ULL;
  __asm__ volatile("sb %0, 0(%1)\n sb %0, -3(%1)\n" :: "r"(v), "r"(p) : "memory");
  dump_buf("sb");
  __asm__ volatile("sh %0, 2(%1)\n sh %0, -6(%1)\n" :: "r"(v), "r"(p) : "memory");
  dump_buf("sh");
  __asm__ volatile("sw %0, 4(%1)\n sw %0, -12(%1)\n" :: "r"(v), "r"(p) : "memory");
  dump_buf("sw");
  __asm__ volatile("sd %0, 8(%1)\n sd %0, -16(%1)\n" :: "r"(v), "r"(p) : "memory");
  dump_buf("sd");
  /* store then load back through a different width */
  uint64_t r;
  __asm__ volatile("sd %1, 0(%2)\n sw %3, 4(%2)\n ld %0, 0(%2)" : "=&r"(r) : "r"(v), "r"(p), "r"(0x55667788UL) : "memory");
  print_kv("sd-sw-ld", r);
}

static void test_branches(void) {
#define BR(op, a, b) ({ uint64_t _t; \
  __asm__ volatile("li %0, 1\n " op " %1, %2, 1f\n li %0, 0\n1:" : "=&r"(_t) : "r"(U64(a)), "r"(U64(b))); _t; })
  for (unsigned i = 0; i < 12; i++) {
    print("br a");
    print_udec(i);
    print(":");
    for (unsigned j = 0; j < 12; j++) {
      uint64_t a = vals[i], b = vals[j];
      unsigned m = BR("beq", a, b) | BR("bne", a, b) << 1 | BR("blt", a, b) << 2 |
                   BR("bge", a, b) << 3 | BR("bltu", a, b) << 4 | BR("bgeu", a, b) << 5;
      uart_putc(' ');
      print_hexn(m, 2);
    }
    nl();
  }
  /* backward branch loop */
  uint64_t n = 0;
  __asm__ volatile("li t0, 10\n1: addi %0, %0, 3\n addi t0, t0, -1\n bnez t0, 1b" : "+r"(n) :: "t0");
  print_kv("loop", n);
#undef BR
}

static void test_jumps(void) {
  uint64_t link, base, r;
  __asm__ volatile("1: jal %0, 2f\n nop\n2: lla %1, 1b" : "=r"(link), "=r"(base));
  print_kv("jal-link", link - base);
  /* jalr clears bit 0 of the target */
  __asm__ volatile("lla t0, 1f\n addi t0, t0, 1\n li %0, 0\n jalr t1, 0(t0)\n li %0, 9\n"
                   "1: addi %0, %0, 1" : "=&r"(r) :: "t0", "t1");
  print_kv("jalr-odd", r);
  /* jalr with rd == rs1 reads the old value */
  __asm__ volatile("lla %1, 1f\n addi %0, %1, 8\n jalr %0, -8(%0)\n nop\n1: nop" : "=&r"(link), "=&r"(base));
  print_kv("jalr-rd-rs1", link - base);
  /* jalr with negative offset and odd sum */
  __asm__ volatile("lla t0, 1f\n addi t0, t0, 33\n li %0, 0\n jalr x0, -32(t0)\n li %0, 5\n"
                   "1: addi %0, %0, 2" : "=&r"(r) :: "t0");
  print_kv("jalr-neg", r);
  /* call/return through a function pointer */
  static uint64_t (*volatile fp)(uint64_t, uint64_t) = f_add;
  print_kv("call", fp(40, 2));
}

static void test_fences(void) {
  uint64_t r = 0;
  __asm__ volatile("fence\n fence rw, rw\n fence r, r\n fence w, w\n fence iorw, iorw\n fence.tso\n"
                   ".insn i 0x0f, 0, x0, x0, 0x010\n" /* pause (Zihintpause hint) */
                   "addi %0, %0, 1" : "+r"(r) :: "memory");
  print_kv("fences", r);
  /* HINTs: writes to x0 of register-register ops must be no-ops */
  __asm__ volatile("slti x0, x0, 1\n addi x0, x0, 1\n c.nop\n addi %0, %0, 1" : "+r"(r));
  print_kv("hints", r);
}

int main(void) {
  println("== int_alu ==");
  for (unsigned i = 0; i < NV; i++) {
    print("v");
    print_udec(i);
    print("=");
    print_hex(vals[i]);
    nl();
  }
  test_rr();
  test_imm();
  test_lui_auipc();
  test_x0();
  test_loads();
  test_stores();
  test_branches();
  test_jumps();
  test_fences();
  println("int_alu: done");
  return 0;
}
