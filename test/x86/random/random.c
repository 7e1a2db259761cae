/* Driver of the randomized differential test (test/x86-random.test.ts): runs the
 * generated cases (random_cases, NASM) and prints each case's registers and flags. */
#include "lib.h"

#ifdef __x86_64__
#define NREGS 16
#else
#define NREGS 8
#endif

void random_cases(void);
/* The registers as a case left them (the stack pointer's slot is unused), then EFLAGS. */
ureg random_saved[NREGS + 1];

void random_dump(int k) {
  printf("%d:", k);
  for (int i = 0; i < NREGS; i++) {
    if (i == 4) continue;
    printf(" %lx", (unsigned long)random_saved[i]);
  }
  printf(" f=%lx\n", (unsigned long)random_saved[NREGS]);
}

int main(void) {
  printf("== random ==\n");
  random_cases();
  printf("random: done\n");
  return 0;
}
