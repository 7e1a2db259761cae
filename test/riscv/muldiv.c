/* RV64M: every multiply/divide instruction, including division by zero,
 * INT_MIN / -1 overflow (64- and 32-bit forms) and W-forms whose inputs carry
 * garbage in the upper 32 bits. */
#include "lib.h"
#include "insn.h"

static const uint64_t vals[] = {
  0, 1, 0xffffffffffffffffULL, 2, 0xfffffffffffffffeULL, 3, 7, 0xfffffffffffffff9ULL,
  0x8000000000000000ULL, 0x7fffffffffffffffULL, 0x80000000ULL, 0xffffffff80000000ULL,
  0x7fffffffULL, 0xffffffffULL, 0x100000000ULL, 0x123456789abcdef0ULL,
  0xfedcba9876543210ULL, 0xdeadbeef80000000ULL, 0x12345678ffffffffULL, 0x00000001fffffff9ULL,
};
#define NV ARRAY_SIZE(vals)

typedef uint64_t (*rr_fn)(uint64_t, uint64_t);
#define DEF_RR(name, op) static uint64_t name(uint64_t a, uint64_t b) { return RR(op, a, b); }
DEF_RR(f_mul, "mul") DEF_RR(f_mulh, "mulh") DEF_RR(f_mulhsu, "mulhsu") DEF_RR(f_mulhu, "mulhu")
DEF_RR(f_div, "div") DEF_RR(f_divu, "divu") DEF_RR(f_rem, "rem") DEF_RR(f_remu, "remu")
DEF_RR(f_mulw, "mulw") DEF_RR(f_divw, "divw") DEF_RR(f_divuw, "divuw") DEF_RR(f_remw, "remw")
DEF_RR(f_remuw, "remuw")

static const struct { const char *name; rr_fn fn; } ops[] = {
  {"mul", f_mul}, {"mulh", f_mulh}, {"mulhsu", f_mulhsu}, {"mulhu", f_mulhu},
  {"div", f_div}, {"divu", f_divu}, {"rem", f_rem}, {"remu", f_remu},
  {"mulw", f_mulw}, {"divw", f_divw}, {"divuw", f_divuw}, {"remw", f_remw}, {"remuw", f_remuw},
};

int main(void) {
  println("== muldiv ==");
  for (unsigned i = 0; i < NV; i++) {
    print("v");
    print_udec(i);
    print("=");
    print_hex(vals[i]);
    nl();
  }
  for (unsigned o = 0; o < ARRAY_SIZE(ops); o++) {
    for (unsigned i = 0; i < NV; i++) {
      print(ops[o].name);
      print(" a");
      print_udec(i);
      print(":");
      for (unsigned j = 0; j < NV; j++) {
        uart_putc(' ');
        print_hex(ops[o].fn(vals[i], vals[j]));
      }
      nl();
    }
  }
  /* Same source register for both operands and as destination. */
  uint64_t x = 0xfffffffffffffff9ULL;
  __asm__ volatile("mul %0, %0, %0" : "+r"(x));
  print_kv("mul-self", x);
  x = 0x8000000000000000ULL;
  __asm__ volatile("div %0, %0, %1" : "+r"(x) : "r"(-1L));
  print_kv("div-min-neg1", x);
  x = 0x8000000000000000ULL;
  __asm__ volatile("rem %0, %0, %1" : "+r"(x) : "r"(-1L));
  print_kv("rem-min-neg1", x);
  x = 12345;
  __asm__ volatile("divu %0, %0, x0" : "+r"(x));
  print_kv("divu-by-x0", x);
  x = 12345;
  __asm__ volatile("remu %0, %0, x0" : "+r"(x));
  print_kv("remu-by-x0", x);
  /* Writes to x0 are discarded even for M ops. */
  __asm__ volatile("li t0, 3\n mul x0, t0, t0\n div x0, t0, x0\n mv %0, x0" : "=r"(x) :: "t0");
  print_kv("x0", x);
  println("muldiv: done");
  return 0;
}
