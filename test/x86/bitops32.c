// x86: bits=32
/* Bit operations, conditions and atomics, 32-bit code (bitops_template.h):
 * BT/BTS/BTR/BTC, BSF/BSR, TZCNT/LZCNT encodings, POPCNT, BSWAP, SETcc,
 * CMOVcc, Jcc (short and near) for every condition, CMPXCHG, CMPXCHG8B,
 * XADD, XCHG. */
#include "bitops_template.h"

int main(void) {
  printf("== bitops32 ==\n");
  bt_tests();
  bsx_tests();
  cc_tests();
  xchg_tests();
  printf("bitops32: done\n");
  return 0;
}
