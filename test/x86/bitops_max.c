// x86: bits=64 cpu=qemu64,+popcnt,+abm
/* BSF/BSR and the F3-prefixed TZCNT/LZCNT encodings plus POPCNT on the
 * qemu64 CPU model with POPCNT and ABM/LZCNT switched on (qemu64 has none
 * of them, so bitops32/bitops64 see F3 0F BC/BD as BSF/BSR and skip
 * POPCNT). Same code as bitops_template.h's bsx_tests. */
#include "bitops_template.h"

int main(void) {
  printf("== bitops_max ==\n");
  bsx_tests();
  printf("bitops_max: done\n");
  return 0;
}
