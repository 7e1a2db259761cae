/* Minimal runtime for the bare-metal RISC-V test corpus: 16550 UART output,
 * SiFive test finisher exit, and a trap hook. Everything printed must be
 * deterministic (never print cycle/time/instret values). */
#ifndef RISCV_TEST_LIB_H
#define RISCV_TEST_LIB_H

#include <stdint.h>
#include <stddef.h>

#define UART0_BASE     0x10000000UL
#define FINISHER_BASE  0x100000UL
#define CLINT_BASE     0x2000000UL
#define CLINT_MTIMECMP (CLINT_BASE + 0x4000)
#define CLINT_MTIME    (CLINT_BASE + 0xbff8)

/* ---- output ---- */
void uart_putc(char c);
void print(const char *s);             /* no newline */
void println(const char *s);           /* with newline */
void print_hex(uint64_t v);            /* 16 hex digits, no prefix */
void print_hex32(uint32_t v);          /* 8 hex digits */
void print_hexn(uint64_t v, int digits);
void print_dec(int64_t v);
void print_udec(uint64_t v);
void nl(void);
/* "label=<16 hex digits>\n" */
void print_kv(const char *label, uint64_t v);

/* ---- exit ---- */
__attribute__((noreturn)) void exit_program(int code);

/* ---- traps ---- */
struct trap_frame {
  uint64_t regs[32];   /* x0..x31 at trap time; regs[2] = sp before the trap */
  uint64_t mepc;       /* written back to mepc before mret */
  uint64_t mcause;
  uint64_t mtval;
  uint64_t mstatus;
  int64_t vec;         /* -1 for direct mode, else vectored table slot */
  uint64_t pad;
};

/* A hook returns nonzero when it handled the trap (it may edit frame->mepc and
 * frame->regs[]); zero falls back to the default behaviour. */
typedef int (*trap_hook_t)(struct trap_frame *f);
void set_trap_hook(trap_hook_t hook);

/* "Expect" mode: the default handler records the trap in the variables below
 * and resumes after the faulting instruction. Outside expect mode an
 * unexpected trap prints its details and exits with status 0x7e. */
extern volatile int trap_expect;
extern volatile uint64_t trap_count, trap_mcause, trap_mtval, trap_mepc;
void trap_expect_begin(void);          /* clears the record, enables expect mode */
void trap_expect_end(void);
/* Prints " trap mcause=.. mtval=.." or " no-trap" for the last expect window. */
void print_trap_result(void);
/* Length in bytes (2 or 4) of the instruction at addr. */
int insn_length(uint64_t addr);

extern void trap_entry(void);
extern void trap_vector_table(void);

/* ---- CSR helpers ---- */
#define csr_read(csr) ({ uint64_t __v; __asm__ volatile("csrr %0, " #csr : "=r"(__v) :: "memory"); __v; })
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" :: "rK"((uint64_t)(val)) : "memory")
#define csr_set(csr, val) __asm__ volatile("csrs " #csr ", %0" :: "rK"((uint64_t)(val)) : "memory")
#define csr_clear(csr, val) __asm__ volatile("csrc " #csr ", %0" :: "rK"((uint64_t)(val)) : "memory")

/* ---- freestanding string helpers (gcc may emit calls to these) ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
