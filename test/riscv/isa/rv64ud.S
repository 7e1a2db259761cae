/* RV64D (and fused multiply-add in both precisions): arithmetic with fflags,
 * static and dynamic rounding, fsqrt, fmin/fmax, sign injection, compares,
 * fclass, conversions with saturation, fcvt.s.d/fcvt.d.s, fld/fsd, FMA single
 * rounding and inf*0 + qNaN raising NV.
 * Bit patterns worked out by hand (Python struct for roundings), independently
 * of any emulator. */
#include "test_macros.h"

RVTEST_CODE_BEGIN

  /* fadd.d / fsub.d / fmul.d / fdiv.d */
  TEST_FP_OP2_D(2, fadd.d, 0x0, 0x400c000000000000, 0x4004000000000000, 0x3ff0000000000000)
  TEST_FP_OP2_D(3, fadd.d, 0x1, 0x3ff0000000000000, 0x3ff0000000000000, 0x3ca0000000000000)
  TEST_FP_OP2_D(4, fadd.d, 0x0, 0x0, 0x3ff0000000000000, 0xbff0000000000000)
  TEST_FP_OP2_D(5, fadd.d, 0x10, 0x7ff8000000000000, 0x7ff0000000000000, 0xfff0000000000000)
  TEST_FP_OP2_D(6, fadd.d, 0x10, 0x7ff8000000000000, 0x7ff0000000000001, 0x3ff0000000000000)
  TEST_FP_OP2_D(7, fadd.d, 0x0, 0x7ff8000000000000, 0xfff8000000012345, 0x3ff0000000000000)
  TEST_FP_OP2_D(8, fadd.d, 0x5, 0x7ff0000000000000, 0x7fefffffffffffff, 0x7fefffffffffffff)
  TEST_FP_OP2_D(9, fsub.d, 0x0, 0x1, 0x10000000000000, 0xfffffffffffff)
  TEST_FP_OP2_D(10, fmul.d, 0x0, 0xc018000000000000, 0x4000000000000000, 0xc008000000000000)
  TEST_FP_OP2_D(11, fmul.d, 0x10, 0x7ff8000000000000, 0xfff0000000000000, 0x0)
  TEST_FP_OP2_D(12, fmul.d, 0x3, 0x0, 0x1, 0x3fe0000000000000)
  TEST_FP_OP2_D(13, fmul.d, 0x0, 0x8000000000000, 0x10000000000000, 0x3fe0000000000000)
  TEST_FP_OP2_D(14, fdiv.d, 0x1, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000)
  TEST_FP_OP2_D(15, fdiv.d, 0x8, 0xfff0000000000000, 0x3ff0000000000000, 0x8000000000000000)
  TEST_FP_OP2_D(16, fdiv.d, 0x10, 0x7ff8000000000000, 0x7ff0000000000000, 0x7ff0000000000000)

  /* static and dynamic rounding */
  TEST_FP_INTERNAL_D(17, 1, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, 0, fdiv.d f3, f0, f1, rne; fmv.x.d a0, f3)
  TEST_FP_INTERNAL_D(18, 1, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, 0, fdiv.d f3, f0, f1, rtz; fmv.x.d a0, f3)
  TEST_FP_INTERNAL_D(19, 1, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, 0, fdiv.d f3, f0, f1, rdn; fmv.x.d a0, f3)
  TEST_FP_INTERNAL_D(20, 1, 0x3fd5555555555556, 0x3ff0000000000000, 0x4008000000000000, 0, fdiv.d f3, f0, f1, rup; fmv.x.d a0, f3)
  TEST_FP_INTERNAL_D(21, 1, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, 0, fdiv.d f3, f0, f1, rmm; fmv.x.d a0, f3)
  TEST_FP_INTERNAL_D(22, 1, 0x3ff0000000000000, 0x3ff0000000000000, 0x3ca0000000000000, 0, fadd.d f3, f0, f1, rne; fmv.x.d a0, f3)
  TEST_FP_INTERNAL_D(23, 1, 0x3ff0000000000000, 0x3ff0000000000000, 0x3ca0000000000000, 0, fadd.d f3, f0, f1, rtz; fmv.x.d a0, f3)
  TEST_FP_INTERNAL_D(24, 1, 0x3ff0000000000000, 0x3ff0000000000000, 0x3ca0000000000000, 0, fadd.d f3, f0, f1, rdn; fmv.x.d a0, f3)
  TEST_FP_INTERNAL_D(25, 1, 0x3ff0000000000001, 0x3ff0000000000000, 0x3ca0000000000000, 0, fadd.d f3, f0, f1, rup; fmv.x.d a0, f3)
  TEST_FP_INTERNAL_D(26, 1, 0x3ff0000000000001, 0x3ff0000000000000, 0x3ca0000000000000, 0, fadd.d f3, f0, f1, rmm; fmv.x.d a0, f3)
  TEST_FP_INTERNAL_D(27, 1, 0x3fd5555555555556, 0x3ff0000000000000, 0x4008000000000000, 0, fsrmi 3; fdiv.d f3, f0, f1, dyn; fsrmi 0; fmv.x.d a0, f3)
  TEST_FP_INTERNAL_D(28, 1, 0x3fd5555555555555, 0x3ff0000000000000, 0x4008000000000000, 0, fsrmi 1; fdiv.d f3, f0, f1, dyn; fsrmi 0; fmv.x.d a0, f3)

  /* fsqrt.d, fmin/fmax, sign injection, compares, fclass */
  TEST_FP_OP1_D(29, fsqrt.d, 0x0, 0x4008000000000000, 0x4022000000000000)
  TEST_FP_OP1_D(30, fsqrt.d, 0x1, 0x3ff6a09e667f3bcd, 0x4000000000000000)
  TEST_FP_OP1_D(31, fsqrt.d, 0x10, 0x7ff8000000000000, 0xfff0000000000000)
  TEST_FP_OP2_D(32, fmin.d, 0x0, 0x8000000000000000, 0x0, 0x8000000000000000)
  TEST_FP_OP2_D(33, fmax.d, 0x0, 0x0, 0x8000000000000000, 0x0)
  TEST_FP_OP2_D(34, fmin.d, 0x10, 0x4000000000000000, 0x7ff0000000000001, 0x4000000000000000)
  TEST_FP_OP2_D(35, fmax.d, 0x0, 0x7ff8000000000000, 0x7ff8000000000000, 0x7ff8000000000000)
  TEST_FP_OP2_D(36, fsgnj.d, 0x0, 0xbff8000000000000, 0x3ff8000000000000, 0xc000000000000000)
  TEST_FP_OP2_D(37, fsgnjn.d, 0x0, 0xbff8000000000000, 0x3ff8000000000000, 0x4000000000000000)
  TEST_FP_OP2_D(38, fsgnjx.d, 0x0, 0x3ff8000000000000, 0xbff8000000000000, 0xc000000000000000)
  TEST_FP_CMP_D(39, feq.d, 0x0, 0x0, 0x7ff8000000000000, 0x3ff0000000000000)
  TEST_FP_CMP_D(40, feq.d, 0x10, 0x0, 0x7ff0000000000001, 0x3ff0000000000000)
  TEST_FP_CMP_D(41, flt.d, 0x10, 0x0, 0x7ff8000000000000, 0x3ff0000000000000)
  TEST_FP_CMP_D(42, fle.d, 0x0, 0x1, 0xc000000000000000, 0xc000000000000000)
  TEST_FP_INTERNAL_D(43, 0, 0x1, 0xfff0000000000000, 0, 0, fclass.d a0, f0)
  TEST_FP_INTERNAL_D(44, 0, 0x2, 0xbff0000000000000, 0, 0, fclass.d a0, f0)
  TEST_FP_INTERNAL_D(45, 0, 0x4, 0x800fffffffffffff, 0, 0, fclass.d a0, f0)
  TEST_FP_INTERNAL_D(46, 0, 0x8, 0x8000000000000000, 0, 0, fclass.d a0, f0)
  TEST_FP_INTERNAL_D(47, 0, 0x10, 0x0, 0, 0, fclass.d a0, f0)
  TEST_FP_INTERNAL_D(48, 0, 0x20, 0x1, 0, 0, fclass.d a0, f0)
  TEST_FP_INTERNAL_D(49, 0, 0x40, 0x3ff0000000000000, 0, 0, fclass.d a0, f0)
  TEST_FP_INTERNAL_D(50, 0, 0x80, 0x7ff0000000000000, 0, 0, fclass.d a0, f0)
  TEST_FP_INTERNAL_D(51, 0, 0x100, 0x7ff0000000000001, 0, 0, fclass.d a0, f0)
  TEST_FP_INTERNAL_D(52, 0, 0x200, 0x7ff8000000000000, 0, 0, fclass.d a0, f0)

  /* conversions */
test_53: li TESTNUM, 53; li a0, 0xbff8000000000000; fmv.d.x f0, a0; fsflags x0; fcvt.w.d a0, f0, rtz; fsflags a1, x0; li a2, 0xffffffffffffffff; bne a0, a2, fail; li a2, 1; bne a1, a2, fail
test_54: li TESTNUM, 54; li a0, 0x4004000000000000; fmv.d.x f0, a0; fsflags x0; fcvt.w.d a0, f0, rne; fsflags a1, x0; li a2, 0x2; bne a0, a2, fail; li a2, 1; bne a1, a2, fail
test_55: li TESTNUM, 55; li a0, 0xc004000000000000; fmv.d.x f0, a0; fsflags x0; fcvt.w.d a0, f0, rmm; fsflags a1, x0; li a2, 0xfffffffffffffffd; bne a0, a2, fail; li a2, 1; bne a1, a2, fail
test_56: li TESTNUM, 56; li a0, 0x41dfffffffe00000; fmv.d.x f0, a0; fsflags x0; fcvt.w.d a0, f0, rtz; fsflags a1, x0; li a2, 0x7fffffff; bne a0, a2, fail; li a2, 1; bne a1, a2, fail
test_57: li TESTNUM, 57; li a0, 0x41dfffffffe00000; fmv.d.x f0, a0; fsflags x0; fcvt.w.d a0, f0, rup; fsflags a1, x0; li a2, 0x7fffffff; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_58: li TESTNUM, 58; li a0, 0x41efffffffe00000; fmv.d.x f0, a0; fsflags x0; fcvt.wu.d a0, f0, rtz; fsflags a1, x0; li a2, 0xffffffffffffffff; bne a0, a2, fail; li a2, 0; bne a1, a2, fail
test_59: li TESTNUM, 59; li a0, 0xbff0000000000000; fmv.d.x f0, a0; fsflags x0; fcvt.wu.d a0, f0, rtz; fsflags a1, x0; li a2, 0x0; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_60: li TESTNUM, 60; li a0, 0xc3e0000000000000; fmv.d.x f0, a0; fsflags x0; fcvt.l.d a0, f0, rtz; fsflags a1, x0; li a2, 0x8000000000000000; bne a0, a2, fail; li a2, 0; bne a1, a2, fail
test_61: li TESTNUM, 61; li a0, 0x43e0000000000000; fmv.d.x f0, a0; fsflags x0; fcvt.l.d a0, f0, rtz; fsflags a1, x0; li a2, 0x7fffffffffffffff; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_62: li TESTNUM, 62; li a0, 0x7ff8000000000000; fmv.d.x f0, a0; fsflags x0; fcvt.l.d a0, f0, rtz; fsflags a1, x0; li a2, 0x7fffffffffffffff; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_63: li TESTNUM, 63; li a0, 0x43f0000000000000; fmv.d.x f0, a0; fsflags x0; fcvt.lu.d a0, f0, rtz; fsflags a1, x0; li a2, 0xffffffffffffffff; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_64: li TESTNUM, 64; li a0, 0xfff0000000000000; fmv.d.x f0, a0; fsflags x0; fcvt.lu.d a0, f0, rtz; fsflags a1, x0; li a2, 0x0; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_65: li TESTNUM, 65; li a0, 0x3ffe666666666666; fmv.d.x f0, a0; fsflags x0; fcvt.lu.d a0, f0, rdn; fsflags a1, x0; li a2, 0x1; bne a0, a2, fail; li a2, 1; bne a1, a2, fail
  TEST_INT_FP_OP_D(66, fcvt.d.w, 0xbff0000000000000, 0xffffffffffffffff)
  TEST_INT_FP_OP_D(67, fcvt.d.wu, 0x41efffffffe00000, 0xffffffffffffffff)
  TEST_INT_FP_OP_D(68, fcvt.d.l, 0xc3e0000000000000, 0x8000000000000000)
  TEST_INT_FP_OP_D(69, fcvt.d.lu, 0x43f0000000000000, 0xffffffffffffffff)
  TEST_INT_FP_OP_D(70, fcvt.d.w, 0x4014000000000000, 0xdeadbeef00000005)
test_71: li TESTNUM, 71; li a0, 0x3fd5555555555555; fmv.d.x f0, a0; fsflags x0; fcvt.s.d f1, f0; fsflags a1, x0; fmv.x.w a0, f1; li a2, 0x3eaaaaab; addiw a2, a2, 0; bne a0, a2, fail; li a2, 1; bne a1, a2, fail
test_72: li TESTNUM, 72; li a0, 0x7fefffffffffffff; fmv.d.x f0, a0; fsflags x0; fcvt.s.d f1, f0; fsflags a1, x0; fmv.x.w a0, f1; li a2, 0x7f800000; addiw a2, a2, 0; bne a0, a2, fail; li a2, 5; bne a1, a2, fail
test_73: li TESTNUM, 73; li a0, 0x7ff0000000000001; fmv.d.x f0, a0; fsflags x0; fcvt.s.d f1, f0; fsflags a1, x0; fmv.x.w a0, f1; li a2, 0x7fc00000; addiw a2, a2, 0; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_74: li TESTNUM, 74; li a0, 0x358dee7a4ad4b81f; fmv.d.x f0, a0; fsflags x0; fcvt.s.d f1, f0; fsflags a1, x0; fmv.x.w a0, f1; li a2, 0x0; addiw a2, a2, 0; bne a0, a2, fail; li a2, 3; bne a1, a2, fail
test_75: li TESTNUM, 75; li a0, 0x8000000000000000; fmv.d.x f0, a0; fsflags x0; fcvt.s.d f1, f0; fsflags a1, x0; fmv.x.w a0, f1; li a2, 0x80000000; addiw a2, a2, 0; bne a0, a2, fail; li a2, 0; bne a1, a2, fail
test_76: li TESTNUM, 76; li a0, 0x3fc00000; fmv.w.x f0, a0; fsflags x0; fcvt.d.s f1, f0; fsflags a1, x0; fmv.x.d a0, f1; li a2, 0x3ff8000000000000; bne a0, a2, fail; li a2, 0; bne a1, a2, fail
test_77: li TESTNUM, 77; li a0, 0x7f800001; fmv.w.x f0, a0; fsflags x0; fcvt.d.s f1, f0; fsflags a1, x0; fmv.x.d a0, f1; li a2, 0x7ff8000000000000; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_78: li TESTNUM, 78; li a0, 0x1; fmv.w.x f0, a0; fsflags x0; fcvt.d.s f1, f0; fsflags a1, x0; fmv.x.d a0, f1; li a2, 0x36a0000000000000; bne a0, a2, fail; li a2, 0; bne a1, a2, fail
test_79: li TESTNUM, 79; li a0, 0xff800000; fmv.w.x f0, a0; fsflags x0; fcvt.d.s f1, f0; fsflags a1, x0; fmv.x.d a0, f1; li a2, 0xfff0000000000000; bne a0, a2, fail; li a2, 0; bne a1, a2, fail

  /* fld / fsd keep bits (sNaN stays signalling, no flags) */
test_80: li TESTNUM, 80; fsflags x0; la a0, ddata; fld f0, 0(a0); fsd f0, 8(a0); ld a1, 8(a0); li a2, 0x7ff0000000000001; bne a1, a2, fail; frflags a1; bnez a1, fail

  /* fused multiply-add: single rounding */
  TEST_FP_OP3_D(81, fmadd.d, 0, 0x3c9ffffffffffffe, 0x3ff0000000000001, 0x3fefffffffffffff, 0xbff0000000000000)
  TEST_FP_OP3_D(82, fmadd.d, 0, 0x401c000000000000, 0x4000000000000000, 0x4008000000000000, 0x3ff0000000000000)
  TEST_FP_OP3_D(83, fmsub.d, 0, 0x4014000000000000, 0x4000000000000000, 0x4008000000000000, 0x3ff0000000000000)
  TEST_FP_OP3_D(84, fnmsub.d, 0, 0xc014000000000000, 0x4000000000000000, 0x4008000000000000, 0x3ff0000000000000)
  TEST_FP_OP3_D(85, fnmadd.d, 0, 0xc01c000000000000, 0x4000000000000000, 0x4008000000000000, 0x3ff0000000000000)
  TEST_FP_OP3_D(86, fmadd.d, 16, 0x7ff8000000000000, 0x7ff0000000000000, 0x0, 0x7ff8000000000000)
  TEST_FP_OP3_D(87, fmadd.d, 16, 0x7ff8000000000000, 0x7ff0000000000000, 0x3ff0000000000000, 0xfff0000000000000)
  TEST_FP_OP3_D(88, fmadd.d, 0, 0x7fefffffffffffff, 0x7fefffffffffffff, 0x4000000000000000, 0xffefffffffffffff)
  TEST_FP_OP3_D(89, fnmadd.d, 0, 0x8000000000000000, 0x0, 0x3ff0000000000000, 0x0)
  TEST_FP_OP3_S(90, fmadd.s, 0, 0x337ffffe, 0x3f800001, 0x3f7fffff, 0xbf800000)
  TEST_FP_OP3_S(91, fnmsub.s, 0, 0xc0a00000, 0x40000000, 0x40400000, 0x3f800000)
  TEST_FP_OP3_S(92, fmsub.s, 0, 0x40a00000, 0x40000000, 0x40400000, 0x3f800000)
  TEST_FP_OP3_S(93, fnmadd.s, 16, 0x7fc00000, 0, 0x7f800000, 0x7fc00000)

TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
  .balign 8
ddata: .dword 0x7ff0000000000001, 0
RVTEST_DATA_END
