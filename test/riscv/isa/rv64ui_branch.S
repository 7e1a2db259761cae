/* RV64I control transfer and upper-immediate instructions: every branch
 * (taken and not taken, forward and backward, signed/unsigned edge values),
 * jal/jalr link values, jalr clearing bit 0 of the target, rd == rs1 for
 * jalr, lui sign extension, auipc.
 * Branch outcomes generated once by a Python model, then kept as source. */
#include "test_macros.h"

RVTEST_CODE_BEGIN

  /* beq */
  TEST_BR2_OP_TAKEN(2, beq, 0x0, 0x0)
  TEST_BR2_OP_NOTTAKEN(3, beq, 0x0, 0x8000000000000000)
  TEST_BR2_OP_NOTTAKEN(4, beq, 0x0, 0x80000000)
  TEST_BR2_OP_TAKEN(5, beq, 0x1, 0x1)
  TEST_BR2_OP_NOTTAKEN(6, beq, 0x1, 0x7fffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(7, beq, 0x1, 0x2)
  TEST_BR2_OP_TAKEN(8, beq, 0xffffffffffffffff, 0xffffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(9, beq, 0xffffffffffffffff, 0xffffffff80000000)
  TEST_BR2_OP_NOTTAKEN(10, beq, 0x8000000000000000, 0x0)
  TEST_BR2_OP_TAKEN(11, beq, 0x8000000000000000, 0x8000000000000000)
  TEST_BR2_OP_NOTTAKEN(12, beq, 0x8000000000000000, 0x80000000)
  TEST_BR2_OP_NOTTAKEN(13, beq, 0x7fffffffffffffff, 0x1)
  TEST_BR2_OP_TAKEN(14, beq, 0x7fffffffffffffff, 0x7fffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(15, beq, 0x7fffffffffffffff, 0x2)
  TEST_BR2_OP_NOTTAKEN(16, beq, 0xffffffff80000000, 0xffffffffffffffff)
  TEST_BR2_OP_TAKEN(17, beq, 0xffffffff80000000, 0xffffffff80000000)
  TEST_BR2_OP_NOTTAKEN(18, beq, 0x80000000, 0x0)
  TEST_BR2_OP_NOTTAKEN(19, beq, 0x80000000, 0x8000000000000000)
  TEST_BR2_OP_TAKEN(20, beq, 0x80000000, 0x80000000)
  TEST_BR2_OP_NOTTAKEN(21, beq, 0x2, 0x1)
  TEST_BR2_OP_NOTTAKEN(22, beq, 0x2, 0x7fffffffffffffff)
  TEST_BR2_OP_TAKEN(23, beq, 0x2, 0x2)

  /* bne */
  TEST_BR2_OP_NOTTAKEN(24, bne, 0x0, 0x0)
  TEST_BR2_OP_TAKEN(25, bne, 0x0, 0x8000000000000000)
  TEST_BR2_OP_TAKEN(26, bne, 0x0, 0x80000000)
  TEST_BR2_OP_NOTTAKEN(27, bne, 0x1, 0x1)
  TEST_BR2_OP_TAKEN(28, bne, 0x1, 0x7fffffffffffffff)
  TEST_BR2_OP_TAKEN(29, bne, 0x1, 0x2)
  TEST_BR2_OP_NOTTAKEN(30, bne, 0xffffffffffffffff, 0xffffffffffffffff)
  TEST_BR2_OP_TAKEN(31, bne, 0xffffffffffffffff, 0xffffffff80000000)
  TEST_BR2_OP_TAKEN(32, bne, 0x8000000000000000, 0x0)
  TEST_BR2_OP_NOTTAKEN(33, bne, 0x8000000000000000, 0x8000000000000000)
  TEST_BR2_OP_TAKEN(34, bne, 0x8000000000000000, 0x80000000)
  TEST_BR2_OP_TAKEN(35, bne, 0x7fffffffffffffff, 0x1)
  TEST_BR2_OP_NOTTAKEN(36, bne, 0x7fffffffffffffff, 0x7fffffffffffffff)
  TEST_BR2_OP_TAKEN(37, bne, 0x7fffffffffffffff, 0x2)
  TEST_BR2_OP_TAKEN(38, bne, 0xffffffff80000000, 0xffffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(39, bne, 0xffffffff80000000, 0xffffffff80000000)
  TEST_BR2_OP_TAKEN(40, bne, 0x80000000, 0x0)
  TEST_BR2_OP_TAKEN(41, bne, 0x80000000, 0x8000000000000000)
  TEST_BR2_OP_NOTTAKEN(42, bne, 0x80000000, 0x80000000)
  TEST_BR2_OP_TAKEN(43, bne, 0x2, 0x1)
  TEST_BR2_OP_TAKEN(44, bne, 0x2, 0x7fffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(45, bne, 0x2, 0x2)

  /* blt */
  TEST_BR2_OP_NOTTAKEN(46, blt, 0x0, 0x0)
  TEST_BR2_OP_NOTTAKEN(47, blt, 0x0, 0x8000000000000000)
  TEST_BR2_OP_TAKEN(48, blt, 0x0, 0x80000000)
  TEST_BR2_OP_NOTTAKEN(49, blt, 0x1, 0x1)
  TEST_BR2_OP_TAKEN(50, blt, 0x1, 0x7fffffffffffffff)
  TEST_BR2_OP_TAKEN(51, blt, 0x1, 0x2)
  TEST_BR2_OP_NOTTAKEN(52, blt, 0xffffffffffffffff, 0xffffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(53, blt, 0xffffffffffffffff, 0xffffffff80000000)
  TEST_BR2_OP_TAKEN(54, blt, 0x8000000000000000, 0x0)
  TEST_BR2_OP_NOTTAKEN(55, blt, 0x8000000000000000, 0x8000000000000000)
  TEST_BR2_OP_TAKEN(56, blt, 0x8000000000000000, 0x80000000)
  TEST_BR2_OP_NOTTAKEN(57, blt, 0x7fffffffffffffff, 0x1)
  TEST_BR2_OP_NOTTAKEN(58, blt, 0x7fffffffffffffff, 0x7fffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(59, blt, 0x7fffffffffffffff, 0x2)
  TEST_BR2_OP_TAKEN(60, blt, 0xffffffff80000000, 0xffffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(61, blt, 0xffffffff80000000, 0xffffffff80000000)
  TEST_BR2_OP_NOTTAKEN(62, blt, 0x80000000, 0x0)
  TEST_BR2_OP_NOTTAKEN(63, blt, 0x80000000, 0x8000000000000000)
  TEST_BR2_OP_NOTTAKEN(64, blt, 0x80000000, 0x80000000)
  TEST_BR2_OP_NOTTAKEN(65, blt, 0x2, 0x1)
  TEST_BR2_OP_TAKEN(66, blt, 0x2, 0x7fffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(67, blt, 0x2, 0x2)

  /* bge */
  TEST_BR2_OP_TAKEN(68, bge, 0x0, 0x0)
  TEST_BR2_OP_TAKEN(69, bge, 0x0, 0x8000000000000000)
  TEST_BR2_OP_NOTTAKEN(70, bge, 0x0, 0x80000000)
  TEST_BR2_OP_TAKEN(71, bge, 0x1, 0x1)
  TEST_BR2_OP_NOTTAKEN(72, bge, 0x1, 0x7fffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(73, bge, 0x1, 0x2)
  TEST_BR2_OP_TAKEN(74, bge, 0xffffffffffffffff, 0xffffffffffffffff)
  TEST_BR2_OP_TAKEN(75, bge, 0xffffffffffffffff, 0xffffffff80000000)
  TEST_BR2_OP_NOTTAKEN(76, bge, 0x8000000000000000, 0x0)
  TEST_BR2_OP_TAKEN(77, bge, 0x8000000000000000, 0x8000000000000000)
  TEST_BR2_OP_NOTTAKEN(78, bge, 0x8000000000000000, 0x80000000)
  TEST_BR2_OP_TAKEN(79, bge, 0x7fffffffffffffff, 0x1)
  TEST_BR2_OP_TAKEN(80, bge, 0x7fffffffffffffff, 0x7fffffffffffffff)
  TEST_BR2_OP_TAKEN(81, bge, 0x7fffffffffffffff, 0x2)
  TEST_BR2_OP_NOTTAKEN(82, bge, 0xffffffff80000000, 0xffffffffffffffff)
  TEST_BR2_OP_TAKEN(83, bge, 0xffffffff80000000, 0xffffffff80000000)
  TEST_BR2_OP_TAKEN(84, bge, 0x80000000, 0x0)
  TEST_BR2_OP_TAKEN(85, bge, 0x80000000, 0x8000000000000000)
  TEST_BR2_OP_TAKEN(86, bge, 0x80000000, 0x80000000)
  TEST_BR2_OP_TAKEN(87, bge, 0x2, 0x1)
  TEST_BR2_OP_NOTTAKEN(88, bge, 0x2, 0x7fffffffffffffff)
  TEST_BR2_OP_TAKEN(89, bge, 0x2, 0x2)

  /* bltu */
  TEST_BR2_OP_NOTTAKEN(90, bltu, 0x0, 0x0)
  TEST_BR2_OP_TAKEN(91, bltu, 0x0, 0x8000000000000000)
  TEST_BR2_OP_TAKEN(92, bltu, 0x0, 0x80000000)
  TEST_BR2_OP_NOTTAKEN(93, bltu, 0x1, 0x1)
  TEST_BR2_OP_TAKEN(94, bltu, 0x1, 0x7fffffffffffffff)
  TEST_BR2_OP_TAKEN(95, bltu, 0x1, 0x2)
  TEST_BR2_OP_NOTTAKEN(96, bltu, 0xffffffffffffffff, 0xffffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(97, bltu, 0xffffffffffffffff, 0xffffffff80000000)
  TEST_BR2_OP_NOTTAKEN(98, bltu, 0x8000000000000000, 0x0)
  TEST_BR2_OP_NOTTAKEN(99, bltu, 0x8000000000000000, 0x8000000000000000)
  TEST_BR2_OP_NOTTAKEN(100, bltu, 0x8000000000000000, 0x80000000)
  TEST_BR2_OP_NOTTAKEN(101, bltu, 0x7fffffffffffffff, 0x1)
  TEST_BR2_OP_NOTTAKEN(102, bltu, 0x7fffffffffffffff, 0x7fffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(103, bltu, 0x7fffffffffffffff, 0x2)
  TEST_BR2_OP_TAKEN(104, bltu, 0xffffffff80000000, 0xffffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(105, bltu, 0xffffffff80000000, 0xffffffff80000000)
  TEST_BR2_OP_NOTTAKEN(106, bltu, 0x80000000, 0x0)
  TEST_BR2_OP_TAKEN(107, bltu, 0x80000000, 0x8000000000000000)
  TEST_BR2_OP_NOTTAKEN(108, bltu, 0x80000000, 0x80000000)
  TEST_BR2_OP_NOTTAKEN(109, bltu, 0x2, 0x1)
  TEST_BR2_OP_TAKEN(110, bltu, 0x2, 0x7fffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(111, bltu, 0x2, 0x2)

  /* bgeu */
  TEST_BR2_OP_TAKEN(112, bgeu, 0x0, 0x0)
  TEST_BR2_OP_NOTTAKEN(113, bgeu, 0x0, 0x8000000000000000)
  TEST_BR2_OP_NOTTAKEN(114, bgeu, 0x0, 0x80000000)
  TEST_BR2_OP_TAKEN(115, bgeu, 0x1, 0x1)
  TEST_BR2_OP_NOTTAKEN(116, bgeu, 0x1, 0x7fffffffffffffff)
  TEST_BR2_OP_NOTTAKEN(117, bgeu, 0x1, 0x2)
  TEST_BR2_OP_TAKEN(118, bgeu, 0xffffffffffffffff, 0xffffffffffffffff)
  TEST_BR2_OP_TAKEN(119, bgeu, 0xffffffffffffffff, 0xffffffff80000000)
  TEST_BR2_OP_TAKEN(120, bgeu, 0x8000000000000000, 0x0)
  TEST_BR2_OP_TAKEN(121, bgeu, 0x8000000000000000, 0x8000000000000000)
  TEST_BR2_OP_TAKEN(122, bgeu, 0x8000000000000000, 0x80000000)
  TEST_BR2_OP_TAKEN(123, bgeu, 0x7fffffffffffffff, 0x1)
  TEST_BR2_OP_TAKEN(124, bgeu, 0x7fffffffffffffff, 0x7fffffffffffffff)
  TEST_BR2_OP_TAKEN(125, bgeu, 0x7fffffffffffffff, 0x2)
  TEST_BR2_OP_NOTTAKEN(126, bgeu, 0xffffffff80000000, 0xffffffffffffffff)
  TEST_BR2_OP_TAKEN(127, bgeu, 0xffffffff80000000, 0xffffffff80000000)
  TEST_BR2_OP_TAKEN(128, bgeu, 0x80000000, 0x0)
  TEST_BR2_OP_NOTTAKEN(129, bgeu, 0x80000000, 0x8000000000000000)
  TEST_BR2_OP_TAKEN(130, bgeu, 0x80000000, 0x80000000)
  TEST_BR2_OP_TAKEN(131, bgeu, 0x2, 0x1)
  TEST_BR2_OP_NOTTAKEN(132, bgeu, 0x2, 0x7fffffffffffffff)
  TEST_BR2_OP_TAKEN(133, bgeu, 0x2, 0x2)

  /* jal: link = address of the next instruction; target reached */
test_134:
  li TESTNUM, 134
  li x4, 0
  jal x4, 1f
2:j fail
1:la x5, 2b
  bne x4, x5, fail

  /* jal backwards with ra */
test_135:
  li TESTNUM, 135
  j 2f
1:addi x6, x6, 1
  jalr x0, 0(ra)
2:li x6, 5
  jal ra, 1b
  li x7, 6
  bne x6, x7, fail

  /* jalr: link value, and bit 0 of the target is cleared */
test_136:
  li TESTNUM, 136
  la t0, 1f
  addi t0, t0, 1
  jalr x5, 0(t0)
2:j fail
1:la t1, 2b
  bne x5, t1, fail

  /* jalr with a negative offset */
test_137:
  li TESTNUM, 137
  la t0, 1f
  addi t0, t0, 16
  jalr x0, -16(t0)
  j fail
1:

  /* jalr with rd == rs1: the target uses the old value */
test_138:
  li TESTNUM, 138
  la t0, 1f
  jalr t0, 0(t0)
2:j fail
1:la t1, 2b
  bne t0, t1, fail

  /* lui / auipc */
  TEST_CASE(139, x14, 0x0000000000000000, lui x14, 0)
  TEST_CASE(140, x14, 0xffffffff80000000, lui x14, 0x80000)
  TEST_CASE(141, x14, 0x000000007ffff000, lui x14, 0x7ffff)
  TEST_CASE(142, x14, 0xfffffffffffff000, lui x14, 0xfffff)
  TEST_CASE(143, x0, 0, lui x0, 0x12345)
  TEST_CASE(144, x14, 0x1000, 1: auipc x14, 1; la x1, 1b; sub x14, x14, x1)
  TEST_CASE(145, x14, 0xffffffff80000000, 1: auipc x14, 0x80000; la x1, 1b; sub x14, x14, x1)
  TEST_CASE(146, x14, 0, 1: auipc x14, 0; la x1, 1b; sub x14, x14, x1)

  /* a loop with a backward branch */
  TEST_CASE(147, x14, 55, li x14, 0; li x1, 10; 1: add x14, x14, x1; addi x1, x1, -1; bnez x1, 1b)

TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
RVTEST_DATA_END
