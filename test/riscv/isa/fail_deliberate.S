/* A deliberately failing test: cases 2-4 pass, case 5 asserts 1 + 1 == 3.
 * The harness expects exit status 5 from both QEMU (spike, HTIF) and qemu-ts,
 * proving that a failing ISA test is reported as a failure.
 * expect-status: 5 */
#include "test_macros.h"

RVTEST_CODE_BEGIN
  TEST_RR_OP(2, add, 2, 1, 1)
  TEST_RR_OP(3, sub, 0, 1, 1)
  TEST_IMM_OP(4, addi, 3, 1, 2)
  TEST_RR_OP(5, add, 3, 1, 1)
  TEST_RR_OP(6, add, 2, 1, 1)
TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
RVTEST_DATA_END
