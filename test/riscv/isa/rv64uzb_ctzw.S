/* ctzw counts trailing zeros of the low 32 bits only: 32 when the low word is
 * zero, whatever the upper word holds.
 * build: -march=rv64gc_zba_zbb_zbs
 * expect-status: 0
 * qemu-known-bug-status: 2
 *   QEMU 7.2 counts across all 64 bits (fixed in QEMU 8.0, "target/riscv: fix
 *   ctzw behavior"), so test 2 fails there; the harness accepts that status
 *   from QEMU only, never from qemu-ts. */
#include "test_macros.h"

RVTEST_CODE_BEGIN
  TEST_R_OP(2, ctzw, 32, 0x8000000000000000)
  TEST_R_OP(3, ctzw, 32, 0xffffffff00000000)
  TEST_R_OP(4, ctzw, 32, 0x0000000100000000)
  TEST_R_OP(5, ctzw, 32, 0x0000000000000000)
  TEST_R_OP(6, ctzw, 31, 0x1234567880000000)
  TEST_R_OP(7, ctzw, 0, 0xffffffffffffffff)
  TEST_R_OP(8, ctz, 63, 0x8000000000000000)
  TEST_R_OP(9, ctz, 64, 0)
TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
RVTEST_DATA_END
