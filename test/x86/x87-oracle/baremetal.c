// x86: bits=64 cpu=max
/* The QEMU side of the x87 oracle: the same runner as hosted.c, as a Multiboot
 * program for qemu-system-x86_64, with the cases compiled in (x87-cases.h, which the
 * test generates). Not part of the corpus (it lives in its own directory); the test
 * builds it with test/x86/build.mjs. */
#include "lib.h"
#include "runner.h"
#include "x87-cases.h"

static uint8_t page[4096] __attribute__((aligned(4096)));
static uint8_t buf[X87_BUF_SIZE] __attribute__((aligned(64)));
static char line[4096];

int main(void) {
  for (unsigned i = 0; i < sizeof(x87_cases) / sizeof(x87_cases[0]); i++) {
    x87_run(page, buf, &x87_cases[i], line);
    printf("%s\n", line);
  }
  printf("x87-oracle: done\n");
  return 0;
}
