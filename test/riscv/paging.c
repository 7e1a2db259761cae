/* Sv39 paging from S- and U-mode: gigapage, megapage and 4 KiB leaves, hardware A/D
 * updates, R/W/X permissions, MXR, SUM, U pages from S, reserved W-without-R PTEs,
 * misaligned superpages, non-canonical addresses, sfence.vma after a PTE change, and
 * instruction fetch through a mapping. Every access runs in the lower mode and ends in
 * a trap (ecall or the fault); the M-mode hook records cause and mtval. */
#include "lib.h"

#define PTE_V 1ul
#define PTE_R 2ul
#define PTE_W 4ul
#define PTE_X 8ul
#define PTE_U 16ul
#define PTE_A 64ul
#define PTE_D 128ul
#define PTE(pa, flags) ((((uint64_t)(pa)) >> 12 << 10) | (flags))

static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l0[512] __attribute__((aligned(4096)));
static uint8_t pages[8][4096] __attribute__((aligned(4096)));

#define TEST_VA 0x40000000ul   /* root[1] -> l1 -> l0: 4 KiB test pages */
#define MEGA_VA 0x40400000ul   /* l1[2]: an aligned 2 MiB megapage */
#define BADMEGA_VA 0x40200000ul /* l1[1]: a megapage whose PPN is not 2 MiB aligned */
#define U_ALIAS 0x40000000ul   /* offset of the U-accessible alias of RAM (root[3]) */

volatile uint64_t arg0, arg1;
static volatile uint64_t resume_addr;
static volatile uint64_t lo_cause, lo_mtval, lo_count;

static int lower_mode_hook(struct trap_frame *f) {
  if (((f->mstatus >> 11) & 3) == 3) return 0;
  lo_count++;
  lo_cause = f->mcause;
  lo_mtval = f->mtval;
  f->mepc = resume_addr;
  csr_set(mstatus, 3UL << 11);
  return 1;
}

static uint64_t run_in_mode(uint64_t mode, uint64_t fn, uint64_t extra_mstatus) {
  register uint64_t a0 __asm__("a0") = 0x5a5a;
  lo_count = 0;
  lo_cause = lo_mtval = 0;
  __asm__ volatile(
      "lla t0, 1f\n"
      "sd t0, 0(%[resume])\n"
      "li t0, (3 << 11) | (1 << 18) | (1 << 19)\n"
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
  return a0;
}

extern void lo_load(void), lo_store(void), lo_amo(void), lo_jump(void), lo_sfence_load(void);
__asm__(
    ".text\n.balign 4\n"
    "lo_load: lla t0, arg0\n ld t0, 0(t0)\n ld a0, 0(t0)\n ecall\n"
    "lo_store: lla t0, arg0\n ld t0, 0(t0)\n lla t1, arg1\n ld t1, 0(t1)\n sd t1, 0(t0)\n li a0, 1\n ecall\n"
    "lo_amo: lla t0, arg0\n ld t0, 0(t0)\n li t1, 5\n amoadd.d a0, t1, (t0)\n ecall\n"
    "lo_jump: lla t0, arg0\n ld t0, 0(t0)\n jalr t0\n"
    "lo_sfence_load: sfence.vma\n lla t0, arg0\n ld t0, 0(t0)\n ld a0, 0(t0)\n ecall\n");

static void report(const char *label, uint64_t a0) {
  print(label);
  print(": a0=");
  print_hex(a0);
  print(" cause=");
  print_hex(lo_cause);
  print(" mtval=");
  print_hex(lo_mtval);
  nl();
}

#define S 1
#define U 0
#define SUM (1ul << 18)
#define MXR (1ul << 19)

static void access(const char *label, uint64_t mode, void (*fn)(void), uint64_t va, uint64_t extra) {
  arg0 = va;
  uint64_t entry = (uint64_t)fn + (mode == U ? U_ALIAS : 0);
  report(label, run_in_mode(mode, entry, extra));
}

int main(void) {
  set_trap_hook(lower_mode_hook);
  csr_write(pmpaddr0, 0x003fffffffffffffULL);
  csr_write(pmpcfg0, 0x1f);

  for (int p = 0; p < 8; p++)
    for (int i = 0; i < 4096 / 8; i++) ((uint64_t *)pages[p])[i] = 0x1111111111111111ull * (p + 1) + i;

  /* RAM identity-mapped for S (no U), and an alias at +1 GiB that U may use. */
  root[2] = PTE(0x80000000ul, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
  root[3] = PTE(0x80000000ul, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
  root[1] = PTE(l1, PTE_V);
  l1[0] = PTE(l0, PTE_V);
  l1[1] = PTE((uint64_t)pages[0], PTE_V | PTE_R | PTE_W | PTE_A | PTE_D); /* misaligned megapage */
  l1[2] = PTE(0x80200000ul, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  l0[0] = PTE(pages[0], PTE_V | PTE_R | PTE_W);             /* A and D clear */
  l0[1] = PTE(pages[1], PTE_V | PTE_R | PTE_A);             /* read-only */
  l0[2] = PTE(pages[2], PTE_V | PTE_X | PTE_A);             /* execute-only */
  l0[3] = PTE(pages[3], PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D); /* user page */
  l0[4] = PTE(pages[4], 0);                                  /* invalid */
  l0[5] = PTE(pages[5], PTE_V | PTE_W | PTE_A | PTE_D);     /* W without R: reserved */
  l0[6] = PTE(pages[6], PTE_V | PTE_R | PTE_X | PTE_A);     /* code page */
  /* page 6: "li a0, 0x77; ecall" */
  ((uint32_t *)pages[6])[0] = 0x07700513;
  ((uint32_t *)pages[6])[1] = 0x00000073;
  __asm__ volatile("fence.i");

  csr_write(satp, (8ul << 60) | ((uint64_t)root >> 12));
  __asm__ volatile("sfence.vma");
  print_kv("satp mode", csr_read(satp) >> 60);

  access("S load 4K (A clear)", S, lo_load, TEST_VA + 8, 0);
  print_kv(" pte0 A/D after load", l0[0] & 0xc0);
  arg1 = 0xabcdef;
  access("S store 4K (D clear)", S, lo_store, TEST_VA + 16, 0);
  print_kv(" pte0 A/D after store", l0[0] & 0xc0);
  print_kv(" stored value", ((uint64_t *)pages[0])[2]);
  access("S load read-only", S, lo_load, TEST_VA + 0x1000, 0);
  access("S store read-only", S, lo_store, TEST_VA + 0x1000, 0);
  access("S amo read-only", S, lo_amo, TEST_VA + 0x1008, 0);
  access("S amo writable", S, lo_amo, TEST_VA + 0x18, 0);
  access("S load exec-only", S, lo_load, TEST_VA + 0x2000, 0);
  access("S load exec-only MXR", S, lo_load, TEST_VA + 0x2000, MXR);
  access("S load U page", S, lo_load, TEST_VA + 0x3000, 0);
  access("S load U page SUM", S, lo_load, TEST_VA + 0x3000, SUM);
  access("S jump to U page SUM", S, lo_jump, TEST_VA + 0x3000, SUM);
  access("U load U page", U, lo_load, TEST_VA + 0x3000, 0);
  access("U load S page", U, lo_load, TEST_VA + 0x1000, 0);
  access("S load invalid", S, lo_load, TEST_VA + 0x4000, 0);
  access("S store invalid", S, lo_store, TEST_VA + 0x4010, 0);
  access("S load W-without-R", S, lo_load, TEST_VA + 0x5000, 0);
  access("S load megapage", S, lo_load, MEGA_VA + 0x1238, 0);
  access("S load misaligned megapage", S, lo_load, BADMEGA_VA + 8, 0);
  access("S load non-canonical", S, lo_load, 0x0000004000000000ul, 0);
  access("S load high canonical unmapped", S, lo_load, 0xffffffc000000000ul, 0);
  access("S load unmapped root entry", S, lo_load, 0x00000000c0000000ul + 0x80000000ul, 0);
  access("S jump to code page", S, lo_jump, TEST_VA + 0x6000, 0);
  access("S jump to data page", S, lo_jump, TEST_VA + 0x1000, 0);
  access("U jump to code page (no U)", U, lo_jump, TEST_VA + 0x6000, 0);
  access("S load cross-page into invalid", S, lo_load, TEST_VA + 0x3ffc, SUM);

  /* Remap page 1 to page 7 and check the change is seen after sfence.vma. */
  access("S load before remap", S, lo_load, TEST_VA + 0x1000, 0);
  l0[1] = PTE(pages[7], PTE_V | PTE_R | PTE_A);
  access("S load after remap + sfence", S, lo_sfence_load, TEST_VA + 0x1000, 0);

  csr_write(satp, 0);
  __asm__ volatile("sfence.vma");
  print_kv("satp after bare", csr_read(satp));
  println("paging: done");
  return 0;
}
