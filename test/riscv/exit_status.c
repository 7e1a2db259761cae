/* Exit through the SiFive test finisher with a nonzero status: main returns
 * 3, crt.S writes (3 << 16) | 0x3333 to 0x100000 and QEMU exits with status 3.
 * The harness expects qemu-ts to do the same. */
#include "lib.h"

int main(void) {
  println("== exit_status ==");
  println("exiting with status 3");
  return 3;
}
