// build: -march=rv64gc_zba_zbb_zbs
/* Zba, Zbb, Zbs: every instruction over edge values; register shift/bit
 * amounts use only their low 6 (or 5 for W forms) bits. QEMU 7.2's default
 * rv64 CPU has Zba/Zbb/Zbc/Zbs enabled. */
#include "lib.h"
#include "insn.h"

static const uint64_t vals[] = {
  0, 1, 0xffffffffffffffffULL, 0x8000000000000000ULL, 0x7fffffffffffffffULL, 0x80000000ULL,
  0xffffffff80000000ULL, 0x00000000ffffffffULL, 0x123456789abcdef0ULL,
  0x0080ff0001007f80ULL, 31, 32, 65,
};
#define NV ARRAY_SIZE(vals)

typedef uint64_t (*rr_fn)(uint64_t, uint64_t);
typedef uint64_t (*r1_fn)(uint64_t);
#define DEF_RR(name, op) static uint64_t name(uint64_t a, uint64_t b) { return RR(op, a, b); }
#define DEF_R1(name, op) static uint64_t name(uint64_t a) { return R1(op, a); }

DEF_RR(f_add_uw, "add.uw") DEF_RR(f_sh1add, "sh1add") DEF_RR(f_sh2add, "sh2add") DEF_RR(f_sh3add, "sh3add")
DEF_RR(f_sh1add_uw, "sh1add.uw") DEF_RR(f_sh2add_uw, "sh2add.uw") DEF_RR(f_sh3add_uw, "sh3add.uw")
DEF_RR(f_andn, "andn") DEF_RR(f_orn, "orn") DEF_RR(f_xnor, "xnor") DEF_RR(f_max, "max")
DEF_RR(f_maxu, "maxu") DEF_RR(f_min, "min") DEF_RR(f_minu, "minu") DEF_RR(f_rol, "rol")
DEF_RR(f_rolw, "rolw") DEF_RR(f_ror, "ror") DEF_RR(f_rorw, "rorw")
DEF_RR(f_bclr, "bclr") DEF_RR(f_bext, "bext") DEF_RR(f_binv, "binv") DEF_RR(f_bset, "bset")

DEF_R1(f_clz, "clz") DEF_R1(f_clzw, "clzw") DEF_R1(f_ctz, "ctz") DEF_R1(f_ctzw_raw, "ctzw")
/* QEMU 7.2 returns ctz of the whole register for ctzw when the low word is zero
 * (63 for 0x8000000000000000; the spec says 32). Compare only inputs whose upper
 * word is clear; test/riscv/isa checks the spec result on qemu-ts. */
static uint64_t f_ctzw(uint64_t a) { return f_ctzw_raw(a & 0xffffffffull); }
DEF_R1(f_cpop, "cpop") DEF_R1(f_cpopw, "cpopw") DEF_R1(f_sext_b, "sext.b") DEF_R1(f_sext_h, "sext.h")
DEF_R1(f_zext_h, "zext.h") DEF_R1(f_orc_b, "orc.b") DEF_R1(f_rev8, "rev8") DEF_R1(f_zext_w, "zext.w")

static const struct { const char *name; rr_fn fn; } rr_ops[] = {
  {"add.uw", f_add_uw}, {"sh1add", f_sh1add}, {"sh2add", f_sh2add}, {"sh3add", f_sh3add},
  {"sh1add.uw", f_sh1add_uw}, {"sh2add.uw", f_sh2add_uw}, {"sh3add.uw", f_sh3add_uw},
  {"andn", f_andn}, {"orn", f_orn}, {"xnor", f_xnor}, {"max", f_max}, {"maxu", f_maxu},
  {"min", f_min}, {"minu", f_minu}, {"rol", f_rol}, {"rolw", f_rolw}, {"ror", f_ror},
  {"rorw", f_rorw}, {"bclr", f_bclr}, {"bext", f_bext}, {"binv", f_binv}, {"bset", f_bset},
};
static const struct { const char *name; r1_fn fn; } r1_ops[] = {
  {"clz", f_clz}, {"clzw", f_clzw}, {"ctz", f_ctz}, {"ctzw", f_ctzw}, {"cpop", f_cpop},
  {"cpopw", f_cpopw}, {"sext.b", f_sext_b}, {"sext.h", f_sext_h}, {"zext.h", f_zext_h},
  {"orc.b", f_orc_b}, {"rev8", f_rev8}, {"zext.w", f_zext_w},
};

#define EMIT_IMM(op, imm) uart_putc(' '); print_hex(RI(op, a, imm));
#define SH_LIST(X, op) X(op, 0) X(op, 1) X(op, 31) X(op, 32) X(op, 63)
#define SHW_LIST(X, op) X(op, 0) X(op, 1) X(op, 15) X(op, 31)

int main(void) {
  println("== zba_zbb_zbs ==");
  for (unsigned i = 0; i < NV; i++) {
    print("v"); print_udec(i); print("="); print_hex(vals[i]); nl();
  }
  for (unsigned o = 0; o < ARRAY_SIZE(rr_ops); o++) {
    for (unsigned i = 0; i < NV; i++) {
      print(rr_ops[o].name); print(" a"); print_udec(i); print(":");
      for (unsigned j = 0; j < NV; j++) {
        uart_putc(' ');
        print_hex(rr_ops[o].fn(vals[i], vals[j]));
      }
      nl();
    }
  }
  for (unsigned o = 0; o < ARRAY_SIZE(r1_ops); o++) {
    print(r1_ops[o].name); print(":");
    for (unsigned i = 0; i < NV; i++) {
      uart_putc(' ');
      /* QEMU 7.2 bug (fixed in 8.0): ctzw counts across all 64 bits when the
       * low word is zero. Not compared here; isa/rv64uzb_ctzw.S asserts the
       * specified result (32) on qemu-ts. */
      if (r1_ops[o].fn == f_ctzw && (uint32_t)vals[i] == 0 && (vals[i] >> 32) != 0) {
        print("(skipped)");
        continue;
      }
      print_hex(r1_ops[o].fn(vals[i]));
    }
    nl();
  }
  for (unsigned i = 0; i < NV; i++) {
    uint64_t a = vals[i];
#define LINE(op, LIST) print(op " a"); print_udec(i); print(":"); LIST(EMIT_IMM, op) nl();
    LINE("slli.uw", SH_LIST)
    LINE("rori", SH_LIST)
    LINE("roriw", SHW_LIST)
    LINE("bclri", SH_LIST)
    LINE("bexti", SH_LIST)
    LINE("binvi", SH_LIST)
    LINE("bseti", SH_LIST)
#undef LINE
  }
  println("zba_zbb_zbs: done");
  return 0;
}
