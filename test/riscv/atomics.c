/* RV64A: every AMO in .w and .d form (plus aq/rl encodings), LR/SC success
 * and the failure paths QEMU 7.2 and the spec agree on: SC without a
 * reservation, SC to a different address than the LR, a second SC after the
 * first consumed the reservation, and a newer LR replacing an older one. */
#include "lib.h"
#include "insn.h"

static volatile uint64_t cell[4] __attribute__((aligned(16)));

#define AMO(op, rs2) ({ uint64_t _r; \
  __asm__ volatile(op " %0, %2, (%1)" : "=r"(_r) : "r"(&cell[1]), "r"(U64(rs2)) : "memory"); _r; })
/* .w form on the upper half of cell[1] (offset 4) so both neighbours show. */
#define AMOW(op, rs2) ({ uint64_t _r; \
  __asm__ volatile(op " %0, %2, (%1)" : "=r"(_r) : "r"((volatile char *)&cell[1] + 4), "r"(U64(rs2)) : "memory"); _r; })

static const uint64_t dvals[] = {
  0, 1, 0xffffffffffffffffULL, 0x8000000000000000ULL, 0x7fffffffffffffffULL,
  0x80000000ULL, 0x123456789abcdef0ULL,
};
static const uint64_t wvals[] = {
  0, 1, 0xffffffffULL, 0x80000000ULL, 0x7fffffffULL, 0xdeadbeef80000001ULL, 0x12345678fffffffeULL,
};

#define DEF_AMO(name, op) static uint64_t name(uint64_t v) { return AMO(op, v); }
#define DEF_AMOW(name, op) static uint64_t name(uint64_t v) { return AMOW(op, v); }
DEF_AMO(d_swap, "amoswap.d") DEF_AMO(d_add, "amoadd.d") DEF_AMO(d_xor, "amoxor.d")
DEF_AMO(d_and, "amoand.d") DEF_AMO(d_or, "amoor.d") DEF_AMO(d_min, "amomin.d")
DEF_AMO(d_max, "amomax.d") DEF_AMO(d_minu, "amominu.d") DEF_AMO(d_maxu, "amomaxu.d")
DEF_AMOW(w_swap, "amoswap.w") DEF_AMOW(w_add, "amoadd.w") DEF_AMOW(w_xor, "amoxor.w")
DEF_AMOW(w_and, "amoand.w") DEF_AMOW(w_or, "amoor.w") DEF_AMOW(w_min, "amomin.w")
DEF_AMOW(w_max, "amomax.w") DEF_AMOW(w_minu, "amominu.w") DEF_AMOW(w_maxu, "amomaxu.w")

typedef uint64_t (*amo_fn)(uint64_t);
static const struct { const char *name; amo_fn d, w; } amos[] = {
  {"swap", d_swap, w_swap}, {"add", d_add, w_add}, {"xor", d_xor, w_xor},
  {"and", d_and, w_and}, {"or", d_or, w_or}, {"min", d_min, w_min},
  {"max", d_max, w_max}, {"minu", d_minu, w_minu}, {"maxu", d_maxu, w_maxu},
};

static void reset_cells(uint64_t mid) {
  cell[0] = 0x1111111111111111ULL;
  cell[1] = mid;
  cell[2] = 0x2222222222222222ULL;
}

static void test_amo(void) {
  for (unsigned o = 0; o < ARRAY_SIZE(amos); o++) {
    for (unsigned i = 0; i < ARRAY_SIZE(dvals); i++) {
      print("amo");
      print(amos[o].name);
      print(".d m");
      print_udec(i);
      print(":");
      for (unsigned j = 0; j < ARRAY_SIZE(dvals); j++) {
        reset_cells(dvals[i]);
        uint64_t old = amos[o].d(dvals[j]);
        uart_putc(' ');
        print_hex(old);
        uart_putc('/');
        print_hex(cell[1]);
      }
      nl();
    }
    for (unsigned i = 0; i < ARRAY_SIZE(wvals); i++) {
      print("amo");
      print(amos[o].name);
      print(".w m");
      print_udec(i);
      print(":");
      for (unsigned j = 0; j < ARRAY_SIZE(wvals); j++) {
        /* target word is the upper half of cell[1]; lower half is a canary */
        reset_cells((wvals[i] << 32) | 0x33333333ULL);
        uint64_t old = amos[o].w(wvals[j]);
        uart_putc(' ');
        print_hex(old);
        uart_putc('/');
        print_hex(cell[1]);
      }
      nl();
    }
  }
  if (cell[0] != 0x1111111111111111ULL || cell[2] != 0x2222222222222222ULL) println("amo: neighbour clobbered");
}

static void test_amo_variants(void) {
  uint64_t r;
  reset_cells(10);
  r = AMO("amoadd.d.aq", 1); print_kv("amoadd.d.aq", r);
  r = AMO("amoadd.d.rl", 1); print_kv("amoadd.d.rl", r);
  r = AMO("amoadd.d.aqrl", 1); print_kv("amoadd.d.aqrl", r);
  r = AMOW("amoor.w.aq", 0x100); print_kv("amoor.w.aq", r);
  r = AMOW("amoswap.w.aqrl", 0xfffffff0); print_kv("amoswap.w.aqrl", r);
  print_kv("cell1", cell[1]);
  /* rd == rs2: the old memory value lands in rd, memory gets the old rd */
  reset_cells(0x5555);
  r = 0x7777;
  __asm__ volatile("amoswap.d %0, %0, (%1)" : "+r"(r) : "r"(&cell[1]) : "memory");
  print_kv("swap-rd-rs2", r);
  print_kv("swap-rd-rs2-mem", cell[1]);
  /* rd == x0: memory still updated */
  reset_cells(5);
  __asm__ volatile("amoadd.d x0, %1, (%0)" :: "r"(&cell[1]), "r"(3UL) : "memory");
  print_kv("amo-rd-x0", cell[1]);
  /* rd == rs1: address read before rd is written */
  reset_cells(0x4444);
  volatile uint64_t *p = &cell[1];
  __asm__ volatile("amoadd.d %0, %1, (%0)" : "+r"(p) : "r"(1UL) : "memory");
  print_kv("amo-rd-rs1", (uint64_t)p);
  print_kv("amo-rd-rs1-mem", cell[1]);
}

#define LR(op, addr) ({ uint64_t _r; __asm__ volatile(op " %0, (%1)" : "=r"(_r) : "r"(addr) : "memory"); _r; })
#define SC(op, addr, v) ({ uint64_t _r; __asm__ volatile(op " %0, %2, (%1)" : "=&r"(_r) : "r"(addr), "r"(U64(v)) : "memory"); _r; })

static void test_lrsc(void) {
  uint64_t r, s;
  reset_cells(100);
  /* plain success */
  r = LR("lr.d", &cell[1]);
  s = SC("sc.d", &cell[1], r + 1);
  print("lr/sc.d ok: lr="); print_hex(r); print(" sc="); print_hex(s); print(" mem="); print_hex(cell[1]); nl();
  /* reservation consumed: second sc fails and does not store */
  s = SC("sc.d", &cell[1], 999);
  print("sc.d again: sc="); print_hex(s); print(" mem="); print_hex(cell[1]); nl();
  /* sc to a different address than the lr */
  r = LR("lr.d", &cell[1]);
  s = SC("sc.d", &cell[2], 0xabc);
  print("sc.d other addr: sc="); print_hex(s); print(" mem2="); print_hex(cell[2]); nl();
  /* ...and the failed sc also dropped the reservation on cell[1] */
  s = SC("sc.d", &cell[1], 0xdef);
  print("sc.d after failed sc: sc="); print_hex(s); print(" mem="); print_hex(cell[1]); nl();
  /* a newer lr replaces the reservation */
  r = LR("lr.d", &cell[1]);
  r = LR("lr.d", &cell[2]);
  s = SC("sc.d", &cell[1], 0x111);
  print("sc.d to older lr: sc="); print_hex(s); print(" mem="); print_hex(cell[1]); nl();
  r = LR("lr.d", &cell[1]);
  r = LR("lr.d", &cell[2]);
  s = SC("sc.d", &cell[2], 0x222);
  print("sc.d to newer lr: sc="); print_hex(s); print(" mem2="); print_hex(cell[2]); nl();

  /* word forms: sign extension of lr.w, sc.w stores 32 bits */
  reset_cells(0x8000000112345678ULL);
  volatile uint32_t *hi = (volatile uint32_t *)&cell[1] + 1;
  r = LR("lr.w", hi);
  s = SC("sc.w", hi, 0xaaaaaaaa7fffffffULL);
  print("lr/sc.w: lr="); print_hex(r); print(" sc="); print_hex(s); print(" mem="); print_hex(cell[1]); nl();
  s = SC("sc.w", hi, 5);
  print("sc.w again: sc="); print_hex(s); print(" mem="); print_hex(cell[1]); nl();
  r = LR("lr.w.aq", hi);
  s = SC("sc.w.rl", hi, 0x80000000);
  print("lr.w.aq/sc.w.rl: lr="); print_hex(r); print(" sc="); print_hex(s); print(" mem="); print_hex(cell[1]); nl();
  r = LR("lr.d.aqrl", &cell[1]);
  s = SC("sc.d.aqrl", &cell[1], 7);
  print("lr.d.aqrl/sc.d.aqrl: sc="); print_hex(s); print(" mem="); print_hex(cell[1]); nl();

  /* sc with no lr ever issued since the last sc */
  reset_cells(1);
  s = SC("sc.w", &cell[1], 2);
  print("sc.w no lr: sc="); print_hex(s); print(" mem="); print_hex(cell[1]); nl();

  /* classic LR/SC increment loop */
  reset_cells(0);
  for (int i = 0; i < 100; i++) {
    uint64_t tmp, fail;
    __asm__ volatile("1: lr.d %0, (%2)\n addi %0, %0, 3\n sc.d %1, %0, (%2)\n bnez %1, 1b"
                     : "=&r"(tmp), "=&r"(fail) : "r"(&cell[1]) : "memory");
  }
  print_kv("lrsc-loop", cell[1]);
}

int main(void) {
  println("== atomics ==");
  test_amo();
  test_amo_variants();
  test_lrsc();
  println("atomics: done");
  return 0;
}
