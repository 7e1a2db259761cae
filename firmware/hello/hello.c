/*
 * A bare-metal "hello" for the RISC-V virt board, the README's first command:
 *   npx qemu-ts -M virt -bios none -nographic -kernel firmware/hello/hello.elf
 * Prints through the 16550 UART at 0x10000000, computes a few primes, and powers off
 * through the SiFive test finisher at 0x100000 (exit status 0). Runs the same on
 * `qemu-system-riscv64 -M virt -bios none -nographic -kernel hello.elf`.
 * Rebuild with `sh build.sh` (needs Debian's gcc-riscv64-unknown-elf).
 */
#include <stdint.h>

#define UART_THR ((volatile uint8_t *)0x10000000)
#define UART_LSR ((volatile uint8_t *)0x10000005)
#define FINISHER ((volatile uint32_t *)0x100000)

static void putc_(char c) {
  while (!(*UART_LSR & 0x20)) {}
  *UART_THR = (uint8_t)c;
}
static void puts_(const char *s) {
  while (*s) putc_(*s++);
}
static void putu(unsigned long v) {
  char buf[24];
  int i = 0;
  do buf[i++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  while (i) putc_(buf[--i]);
}

void main(void) {
  unsigned long hart, misa;
  __asm__ volatile("csrr %0, mhartid" : "=r"(hart));
  __asm__ volatile("csrr %0, misa" : "=r"(misa));
  puts_("Hello from a bare-metal RISC-V guest on hart ");
  putu(hart);
  puts_(" (RV64");
  for (int i = 0; i < 26; i++)
    if (misa & (1ul << i) && i != 7) putc_((char)('A' + i)); /* H is QEMU's, not ours */
  puts_(")\nprimes below 100:");
  for (unsigned long n = 2; n < 100; n++) {
    int prime = 1;
    for (unsigned long d = 2; d * d <= n; d++)
      if (n % d == 0) prime = 0;
    if (prime) {
      putc_(' ');
      putu(n);
    }
  }
  puts_("\npowering off\n");
  *FINISHER = 0x5555;
  for (;;) {}
}
