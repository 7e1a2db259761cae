#include "lib.h"

#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20

void uart_putc(char c) {
  volatile uint8_t *uart = (volatile uint8_t *)UART0_BASE;
  /* Bounded wait: an emulator whose LSR never reports THRE must not hang us. The bound
     is generous: QEMU keeps THRE clear while its stdout pipe is full, and on a loaded
     machine 1,000,000 polls (a few ms) ran out and a character was lost on QEMU's side. */
  for (int i = 0; i < 64000000 && !(uart[UART_LSR] & UART_LSR_THRE); i++) {
  }
  uart[UART_THR] = (uint8_t)c;
}

void print(const char *s) {
  while (*s) uart_putc(*s++);
}

void nl(void) { uart_putc('\n'); }

void println(const char *s) {
  print(s);
  nl();
}

void print_hexn(uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; i--) {
    uart_putc("0123456789abcdef"[(v >> (i * 4)) & 0xf]);
  }
}

void print_hex(uint64_t v) { print_hexn(v, 16); }
void print_hex32(uint32_t v) { print_hexn(v, 8); }

void print_udec(uint64_t v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) uart_putc(buf[--n]);
}

void print_dec(int64_t v) {
  if (v < 0) {
    uart_putc('-');
    print_udec(-(uint64_t)v);
  } else {
    print_udec((uint64_t)v);
  }
}

void print_kv(const char *label, uint64_t v) {
  print(label);
  uart_putc('=');
  print_hex(v);
  nl();
}

/* ---- traps ---- */

static trap_hook_t current_hook;
volatile int trap_expect;
volatile uint64_t trap_count, trap_mcause, trap_mtval, trap_mepc;

void set_trap_hook(trap_hook_t hook) { current_hook = hook; }

void trap_expect_begin(void) {
  trap_count = 0;
  trap_mcause = 0;
  trap_mtval = 0;
  trap_mepc = 0;
  trap_expect = 1;
  __asm__ volatile("" ::: "memory");
}

void trap_expect_end(void) {
  __asm__ volatile("" ::: "memory");
  trap_expect = 0;
}

void print_trap_result(void) {
  if (trap_count) {
    print(" trap mcause=");
    print_hex(trap_mcause);
    print(" mtval=");
    print_hex(trap_mtval);
  } else {
    print(" no-trap");
  }
}

int insn_length(uint64_t addr) {
  uint16_t low = *(volatile uint16_t *)addr;
  return (low & 3) == 3 ? 4 : 2;
}

void trap_dispatch(struct trap_frame *f) {
  if (current_hook && current_hook(f)) return;
  int is_interrupt = (int64_t)f->mcause < 0;
  if (trap_expect && !is_interrupt) {
    trap_count++;
    trap_mcause = f->mcause;
    trap_mtval = f->mtval;
    trap_mepc = f->mepc;
    f->mepc += insn_length(f->mepc);
    return;
  }
  print("UNEXPECTED TRAP mcause=");
  print_hex(f->mcause);
  print(" mepc=");
  print_hex(f->mepc);
  print(" mtval=");
  print_hex(f->mtval);
  nl();
  exit_program(0x7e);
}

/* ---- string helpers (built with -fno-tree-loop-distribute-patterns so gcc
 * does not turn these loops back into calls to themselves) ---- */

void *memset(void *d, int c, size_t n) {
  uint8_t *p = d;
  while (n--) *p++ = (uint8_t)c;
  return d;
}

void *memcpy(void *d, const void *s, size_t n) {
  uint8_t *dp = d;
  const uint8_t *sp = s;
  while (n--) *dp++ = *sp++;
  return d;
}

void *memmove(void *d, const void *s, size_t n) {
  uint8_t *dp = d;
  const uint8_t *sp = s;
  if (dp < sp) {
    while (n--) *dp++ = *sp++;
  } else {
    while (n--) dp[n] = sp[n];
  }
  return d;
}

int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *x = a, *y = b;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}
