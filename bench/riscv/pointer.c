/* Bare-metal pointer-chasing benchmark: dependent loads over a buffer much
 * larger than a soft TLB covers (16 MiB = 4096 pages of 4 KiB; qemu-ts's TLB
 * holds 1024 entries per MMU mode). The buffer holds 64-byte nodes linked in
 * one random cycle (Sattolo's shuffle). Each round follows the cycle from a
 * random node for about STEPS nodes twice: once in M-mode on physical
 * addresses, and once in S-mode through an Sv39 mapping of the buffer with
 * 4 KiB pages (an alias at 0x40000000), so every soft-TLB miss costs a
 * three-level page walk. In odd rounds the S-mode walk also writes to each node
 * it visits. Prints one checksum (identical on every correct emulator) and
 * exits 0.
 *
 * ROUNDS (-DROUNDS=n) scales the run time; the default is sized for about
 * 1-2 s on QEMU 7.2 TCG. */
#include "lib.h"

#ifndef ROUNDS
#define ROUNDS 15
#endif

#define BUF_BYTES (16u << 20)
#define NODE_BYTES 64
#define NODES (BUF_BYTES / NODE_BYTES)
/* Not a multiple of the cycle length, so where a walk ends matters. */
#define STEPS (NODES / 2)

struct node {
  struct node *next;     /* physical (M-mode) link */
  uint64_t vnext;        /* the same link in the Sv39 alias */
  uint64_t payload;
  uint64_t visits;
  uint64_t pad[4];
};

static struct node nodes[NODES] __attribute__((aligned(4096)));

/* Sv39: root[1] -> l1 -> l0[8] maps VA 0x40000000.. (16 MiB, 4 KiB pages) onto
 * the buffer; root[2] is an identity gigapage for RAM (code, stack, data). */
#define PTE_V 1ul
#define PTE_R 2ul
#define PTE_W 4ul
#define PTE_X 8ul
#define PTE_A 64ul
#define PTE_D 128ul
#define PTE(pa, flags) ((((uint64_t)(pa)) >> 12 << 10) | (flags))
#define ALIAS_VA 0x40000000ul

static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l0[BUF_BYTES >> 21][512] __attribute__((aligned(4096)));

#define NOINLINE __attribute__((noinline))

static uint64_t lcg_state;
static inline uint32_t lcg(void) {
  lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg_state >> 32);
}

static inline uint64_t to_alias(const struct node *n) {
  return ALIAS_VA + (uint64_t)((const uint8_t *)n - (const uint8_t *)nodes);
}

static void build_cycle(void) {
  static uint32_t perm[NODES];
  for (uint32_t i = 0; i < NODES; i++) perm[i] = i;
  /* Sattolo: a uniformly random single cycle. */
  for (uint32_t i = NODES - 1; i > 0; i--) {
    uint32_t j = (uint32_t)(((uint64_t)lcg() * i) >> 32); /* 0 <= j < i */
    uint32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (uint32_t i = 0; i < NODES; i++) {
    struct node *n = &nodes[perm[i]];
    struct node *succ = &nodes[perm[(i + 1) % NODES]];
    n->next = succ;
    n->vnext = to_alias(succ);
    n->payload = ((uint64_t)lcg() << 32) | lcg();
    n->visits = 0;
  }
}

static void build_page_tables(void) {
  uint64_t buf = (uint64_t)(uintptr_t)nodes;
  for (unsigned t = 0; t < ARRAY_SIZE(l0); t++) {
    for (unsigned i = 0; i < 512; i++) {
      l0[t][i] = PTE(buf + ((uint64_t)t << 21) + ((uint64_t)i << 12), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    }
    l1[t] = PTE(l0[t], PTE_V);
  }
  root[1] = PTE(l1, PTE_V);
  root[2] = PTE(0x80000000ul, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
  /* S-mode needs a PMP entry (QEMU 7.2 makes mret to S/U illegal without
   * one): NAPOT over the whole address space, RWX. */
  csr_write(pmpaddr0, 0x003fffffffffffffULL);
  csr_write(pmpcfg0, 0x1f);
  csr_write(satp, (8ul << 60) | ((uint64_t)(uintptr_t)root >> 12));
  __asm__ volatile("sfence.vma" ::: "memory");
}

/* M-mode: physical addresses. */
static NOINLINE uint64_t chase_phys(const struct node *p, uint64_t steps) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < steps; i++) {
    sum = (sum << 1 | sum >> 63) + p->payload;
    p = p->next;
  }
  return sum ^ (uint64_t)((const uint8_t *)p - (const uint8_t *)nodes);
}

/* S-mode: through the 4 KiB-page alias. Arguments and result in globals;
 * called from s_entry below, hence extern and "used". */
static volatile uint64_t s_start, s_steps, s_write, s_result;

__attribute__((noinline, used)) void chase_virt(void) {
  uint64_t va = s_start, steps = s_steps, sum = 0;
  if (s_write) {
    for (uint64_t i = 0; i < steps; i++) {
      struct node *n = (struct node *)va;
      n->visits++;
      sum = (sum << 1 | sum >> 63) + (n->payload ^ n->visits);
      va = n->vnext;
    }
  } else {
    for (uint64_t i = 0; i < steps; i++) {
      const struct node *n = (const struct node *)va;
      sum = (sum << 1 | sum >> 63) + n->payload;
      va = n->vnext;
    }
  }
  s_result = sum ^ (va - ALIAS_VA);
}

/* S-mode entry: run chase_virt, then ecall back to M-mode. */
extern void s_entry(void);
__asm__(".text\n.balign 4\ns_entry:\n call chase_virt\n ecall\n");

static volatile uint64_t resume_addr;

static int ecall_hook(struct trap_frame *f) {
  if (f->mcause != 9) return 0;          /* ecall from S-mode only */
  f->mepc = resume_addr;
  csr_set(mstatus, 3ul << 11);           /* MPP = M: mret returns to M-mode */
  return 1;
}

static uint64_t run_in_s_mode(uint64_t start_va, uint64_t steps, int write) {
  s_start = start_va;
  s_steps = steps;
  s_write = (uint64_t)write;
  __asm__ volatile(
      "lla t0, 1f\n"
      "sd t0, 0(%[resume])\n"
      "li t0, (3 << 11)\n"
      "csrc mstatus, t0\n"
      "li t0, (1 << 11)\n"               /* MPP = S */
      "csrs mstatus, t0\n"
      "csrw mepc, %[fn]\n"
      "mret\n"
      "1:\n"
      :
      : [resume] "r"(&resume_addr), [fn] "r"((uint64_t)(uintptr_t)s_entry)
      : "t0", "t1", "t2", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "t3", "t4", "t5", "t6", "ra",
        "memory");
  return s_result;
}

int main(void) {
  println("pointer: start");
  lcg_state = 2024;
  build_cycle();
  build_page_tables();
  set_trap_hook(ecall_hook);
  uint64_t checksum = 0;
  for (int round = 0; round < ROUNDS; round++) {
    const struct node *start = &nodes[lcg() % NODES];
    uint64_t steps = STEPS + (uint64_t)round * 97;
    checksum = checksum * 31 + chase_phys(start, steps);
    checksum = (checksum << 7 | checksum >> 57) + run_in_s_mode(to_alias(start), steps, round & 1);
  }
  set_trap_hook(0);
  print("pointer: rounds=");
  print_udec(ROUNDS);
  print(" checksum=");
  print_hex(checksum);
  nl();
  return 0;
}
