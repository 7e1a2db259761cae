/* Self-modifying code with fence.i: patch instructions in a writable,
 * executable buffer, execute fence.i, and check the new code runs. Covers
 * repeated patching, replacing a 4-byte instruction by two compressed ones,
 * data writes to the same page as code (must not change behaviour), patching
 * only the second half of an instruction that straddles a page boundary, and
 * code that patches the instruction right after its own fence.i. */
#include "lib.h"

static uint8_t codebuf[3 * 4096] __attribute__((section(".data.pages"), aligned(4096)));
static volatile uint64_t *data_in_code_page;

typedef uint64_t (*fn0)(void);

static uint32_t enc_addi(unsigned rd, unsigned rs1, int imm) {
  return ((uint32_t)(imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
}
static uint32_t enc_sw(unsigned rs2, unsigned rs1, int imm) {
  return ((uint32_t)((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (2 << 12) |
         ((uint32_t)(imm & 0x1f) << 7) | 0x23;
}
#define RET 0x00008067u
#define FENCE_I 0x0000100fu
#define A0 10
#define A1 11
#define A2 12
static uint16_t enc_c_li(unsigned rd, int imm) {
  return (uint16_t)(0x4001 | ((imm & 0x20) << 7) | (rd << 7) | ((imm & 0x1f) << 2));
}
#define C_NOP 0x0001u
#define C_JR_RA 0x8082u

static void put32(uint8_t *p, uint32_t v) {
  /* halfword stores: the target may be only 2-byte aligned */
  ((volatile uint16_t *)p)[0] = (uint16_t)v;
  ((volatile uint16_t *)p)[1] = (uint16_t)(v >> 16);
}
static void put16(uint8_t *p, uint16_t v) { *(volatile uint16_t *)p = v; }
static void fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }

static void test_simple(void) {
  uint8_t *f = codebuf;
  put32(f, enc_addi(A0, 0, 1));
  put32(f + 4, RET);
  fence_i();
  print_kv("first", ((fn0)f)());
  put32(f, enc_addi(A0, 0, 2));
  fence_i();
  print_kv("patched", ((fn0)f)());
  uint64_t sum = 0;
  for (int i = 0; i < 100; i++) {
    put32(f, enc_addi(A0, 0, i * 7 - 300));
    fence_i();
    sum += ((fn0)f)();
  }
  print_kv("loop sum", sum);
  /* 4-byte instruction replaced by two compressed ones */
  put16(f, enc_c_li(A0, -7));
  put16(f + 2, C_NOP);
  fence_i();
  print_kv("compressed", ((fn0)f)());
  /* and back to a 4-byte one, returning through c.jr */
  put32(f, enc_addi(A0, 0, 1234));
  put16(f + 4, C_JR_RA);
  fence_i();
  print_kv("c.jr return", ((fn0)f)());
}

static void test_data_in_code_page(void) {
  uint8_t *f = codebuf + 64;
  data_in_code_page = (volatile uint64_t *)(codebuf + 2048);
  put32(f, enc_addi(A0, 0, 55));
  put32(f + 4, RET);
  fence_i();
  uint64_t sum = 0;
  for (int i = 0; i < 200; i++) {
    *data_in_code_page += (uint64_t)i;   /* data write in the code's page */
    sum += ((fn0)f)();
  }
  print_kv("data writes: sum", sum);
  print_kv("data writes: cell", *data_in_code_page);
}

static void test_straddle(void) {
  /* c.nop at page offset 0xffc, addi a0 straddling 0xffe..0x1001, ret at 0x1002 */
  uint8_t *f = codebuf + 4096 - 4;
  put16(f, C_NOP);
  put32(f + 2, enc_addi(A0, 0, 100));
  put32(f + 6, RET);
  fence_i();
  print_kv("straddle", ((fn0)f)());
  /* patch only the upper halfword (in the second page): imm[11:4] */
  uint32_t insn = enc_addi(A0, 0, 0x7f0);
  put16(f + 4, (uint16_t)(insn >> 16));
  fence_i();
  print_kv("straddle patched high half", ((fn0)f)());
  /* patch only the lower halfword (in the first page): rd becomes a1, so a0
   * keeps whatever it held: make it deterministic via a preceding c.li */
  put16(f, enc_c_li(A0, 9));
  insn = enc_addi(A1, 0, 0x7f0);
  put16(f + 2, (uint16_t)insn);
  fence_i();
  print_kv("straddle patched low half", ((fn0)f)());
}

static void test_patch_next(void) {
  /* sw a1, 8(a2); fence.i; addi a0, zero, 1; ret -- the store rewrites the
   * addi that follows the fence.i */
  uint8_t *f = codebuf + 2 * 4096 + 128;
  put32(f, enc_sw(A1, A2, 8));
  put32(f + 4, FENCE_I);
  put32(f + 8, enc_addi(A0, 0, 1));
  put32(f + 12, RET);
  fence_i();
  for (int round = 0; round < 3; round++) {
    register uint64_t a0 __asm__("a0");
    register uint64_t a1 __asm__("a1") = enc_addi(A0, 0, 40 + round);
    register uint64_t a2 __asm__("a2") = (uint64_t)f;
    __asm__ volatile("jalr ra, 0(a2)" : "=r"(a0) : "r"(a1), "r"(a2) : "ra", "memory");
    uint64_t result = a0; /* copy before any call can clobber a0 */
    print("patch next round "); print_udec(round); print(" = "); print_udec(result); nl();
  }
}

int main(void) {
  println("== smc_fencei ==");
  test_simple();
  test_data_in_code_page();
  test_straddle();
  test_patch_next();
  println("smc_fencei: done");
  return 0;
}
