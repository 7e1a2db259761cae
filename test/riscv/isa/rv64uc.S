/* RV64C: every compressed instruction of RV64GC, with immediates at their
 * encodable extremes, the x8-x15 register-pair forms, sp-relative forms and
 * control transfers (c.j/c.jr/c.jalr/c.beqz/c.bnez). c.ebreak is covered by
 * the corpus program traps.c. */
#include "test_macros.h"

RVTEST_CODE_BEGIN
  la sp, stack_top

  /* arithmetic */
  TEST_CASE(2, a0, 0x0000000000000020, li a0, 1; c.addi a0, 31)
  TEST_CASE(3, a0, 0xffffffffffffffe1, li a0, 1; c.addi a0, -32)
  TEST_CASE(4, a0, 0xffffffff80000000, li a0, 0x7fffffff; c.addiw a0, 1)
  TEST_CASE(5, a0, 0x0000000000000005, li a0, 0x1234567800000005; c.addiw a0, 0)
  TEST_CASE(6, a0, 0xffffffffffffffe0, c.li a0, -32)
  TEST_CASE(7, a0, 0x000000000001f000, c.lui a0, 0x1f)
  TEST_CASE(8, a0, 0xfffffffffffe0000, c.lui a0, 0xfffe0)
  TEST_CASE(9, a0, 0x7fffffffffffffff, li a0, -1; c.srli a0, 1)
  TEST_CASE(10, a0, 0x0000000000000001, li a0, -1; c.srli a0, 63)
  TEST_CASE(11, a0, 0xffffffffffffffff, li a0, 0x8000000000000000; c.srai a0, 63)
  TEST_CASE(12, a0, 0xffffffff80000000, li a0, 0x8000000000000000; c.srai a0, 32)
  TEST_CASE(13, a0, 0x0000000000000015, li a0, 0x55; c.andi a0, 31)
  TEST_CASE(14, a0, 0x1234567890abcde0, li a0, 0x1234567890abcdef; c.andi a0, -32)
  TEST_CASE(15, a0, 0x8000000000000000, li a0, 1; c.slli a0, 63)
  TEST_CASE(16, t3, 0x0000000100000000, li t3, 1; c.slli t3, 32)
  TEST_CASE(17, a0, 0x7fffffffffffffff, li a0, 0x8000000000000000; li a1, 1; c.sub a0, a1)
  TEST_CASE(18, a0, 0xff00ff00ff00ff00, li a0, 0xffff0000ffff0000; li a1, 0x00ffff0000ffff00; c.xor a0, a1)
  TEST_CASE(19, a0, 0xffffff00ffffff00, li a0, 0xffff0000ffff0000; li a1, 0x00ffff0000ffff00; c.or a0, a1)
  TEST_CASE(20, a0, 0x00ff000000ff0000, li a0, 0xffff0000ffff0000; li a1, 0x00ffff0000ffff00; c.and a0, a1)
  TEST_CASE(21, a0, 0x000000007fffffff, li a0, 0xffffffff80000000; li a1, 1; c.subw a0, a1)
  TEST_CASE(22, a0, 0xffffffff80000000, li a0, 0x7fffffff; li a1, 0x100000001; c.addw a0, a1)
  TEST_CASE(23, t4, 0x123456789abcdef0, li t5, 0x123456789abcdef0; c.mv t4, t5)
  TEST_CASE(24, t4, 0x0000000000000000, li t4, -1; li t5, 1; c.add t4, t5)
  TEST_CASE(25, a0, 0x0000000000000007, li a0, 7; c.nop)

  /* sp-relative immediates */
  TEST_CASE(26, a0, 1020, c.addi4spn a0, sp, 1020; sub a0, a0, sp)
  TEST_CASE(27, a0, 4, c.addi4spn a0, sp, 4; sub a0, a0, sp)
  TEST_CASE(28, a0, 512, mv a1, sp; c.addi16sp sp, -512; sub a0, a1, sp; c.addi16sp sp, 496; c.addi16sp sp, 16)
  TEST_CASE(29, a0, 0, la a1, stack_top; sub a0, a1, sp)

  /* loads and stores */
  TEST_CASE(30, a0, 0xffffffff8899aabb, la a1, cdata; c.lw a0, 124(a1))
  TEST_CASE(31, a0, 0x0102030405060708, la a1, cdata; c.ld a0, 248(a1))
  TEST_CASE(32, a2, 0xffffffffdeadbeef, la a1, cdata; li a0, 0xdeadbeef; c.sw a0, 0(a1); lw a2, 0(a1))
  TEST_CASE(33, a2, 0x1122334455667788, la a1, cdata; li a0, 0x1122334455667788; c.sd a0, 8(a1); ld a2, 8(a1))
  TEST_CASE(34, a2, 0x400921fb54442d18, la a1, cdata; li a0, 0x400921fb54442d18; sd a0, 16(a1); c.fld fa0, 16(a1); c.fsd fa0, 24(a1); ld a2, 24(a1))
  TEST_CASE(35, a2, 0xfedcba9876543210, li a0, 0xfedcba9876543210; c.sdsp a0, 504(sp); c.ldsp a2, 504(sp))
  TEST_CASE(36, a2, 0xffffffff87654321, li a0, 0x87654321; c.swsp a0, 252(sp); c.lwsp a2, 252(sp))
  TEST_CASE(37, a2, 0xc00921fb54442d18, li a0, 0xc00921fb54442d18; fmv.d.x ft0, a0; c.fsdsp ft0, 0(sp); c.fldsp ft1, 0(sp); fmv.x.d a2, ft1)

  /* control transfer */
  TEST_CASE(38, a0, 3, li a0, 0; c.j 2f; 1: addi a0, a0, 2; c.j 3f; 2: addi a0, a0, 1; c.j 1b; 3:)
  TEST_CASE(39, a0, 1, li a0, 0; li a1, 0; c.beqz a1, 1f; li a0, 9; 1: addi a0, a0, 1)
  TEST_CASE(40, a0, 9, li a0, 0; li a1, 0; c.bnez a1, 1f; li a0, 9; 1:)
  TEST_CASE(41, a0, 1, li a0, 0; li a1, 0x8000000000000000; c.bnez a1, 1f; li a0, 9; 1: addi a0, a0, 1)
  TEST_CASE(42, a0, 5, li a0, 0; la t0, 1f; c.jr t0; li a0, 9; 1: addi a0, a0, 5)
  /* c.jalr: link = address of the next (2-byte) instruction */
  TEST_CASE(43, a0, 0, la t0, 1f; la t1, 2f; c.jalr t0; 2: j fail; 1: sub a0, ra, t1)
  TEST_CASE(44, a0, 2, la t0, 1f; la t1, 2f; 2: c.jalr t0; 1: sub a0, ra, t1)

TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
  .balign 16
cdata:
  .rept 15
  .dword 0
  .endr
  .word 0, 0x8899aabb     /* cdata + 124 */
  .rept 15
  .dword 0
  .endr
  .dword 0x0102030405060708 /* cdata + 248 */
  .balign 16
  .zero 1024
stack_top:
  .zero 1024
RVTEST_DATA_END
