/* RV64F: arithmetic with fflags (NX/UF/OF/DZ/NV), static and dynamic
 * rounding modes, fsqrt, fmin/fmax with signed zeros and signalling NaNs,
 * sign injection, quiet/signalling compares, fclass, conversions with
 * saturation, NaN-boxing.
 * Values are IEEE 754 bit patterns worked out by hand (with Python's struct
 * for the roundings of 1/3 and sqrt(2)), independently of any emulator. */
#include "test_macros.h"

RVTEST_CODE_BEGIN

  /* fadd.s / fsub.s / fmul.s / fdiv.s */
  TEST_FP_OP2_S(2, fadd.s, 0x0, 0x40600000, 0x40200000, 0x3f800000)
  TEST_FP_OP2_S(3, fadd.s, 0x1, 0x3f800000, 0x3f800000, 0x33800000)
  TEST_FP_OP2_S(4, fadd.s, 0x1, 0x3f800002, 0x3f800001, 0x33800000)
  TEST_FP_OP2_S(5, fadd.s, 0x0, 0x0, 0x3f800000, 0xbf800000)
  TEST_FP_OP2_S(6, fadd.s, 0x0, 0x80000000, 0x80000000, 0x80000000)
  TEST_FP_OP2_S(7, fadd.s, 0x10, 0x7fc00000, 0x7f800000, 0xff800000)
  TEST_FP_OP2_S(8, fadd.s, 0x10, 0x7fc00000, 0x7f800001, 0x3f800000)
  TEST_FP_OP2_S(9, fadd.s, 0x0, 0x7fc00000, 0xffc12345, 0x3f800000)
  TEST_FP_OP2_S(10, fadd.s, 0x5, 0x7f800000, 0x7f7fffff, 0x7f7fffff)
  TEST_FP_OP2_S(11, fsub.s, 0x0, 0xbfc00000, 0x3f800000, 0x40200000)
  TEST_FP_OP2_S(12, fsub.s, 0x10, 0x7fc00000, 0x7f800000, 0x7f800000)
  TEST_FP_OP2_S(13, fsub.s, 0x0, 0x1, 0x800000, 0x7fffff)
  TEST_FP_OP2_S(14, fmul.s, 0x0, 0xc0c00000, 0x40000000, 0xc0400000)
  TEST_FP_OP2_S(15, fmul.s, 0x10, 0x7fc00000, 0x7f800000, 0x0)
  TEST_FP_OP2_S(16, fmul.s, 0x0, 0x400000, 0x800000, 0x3f000000)
  TEST_FP_OP2_S(17, fmul.s, 0x3, 0x0, 0x1, 0x3f000000)
  TEST_FP_OP2_S(18, fmul.s, 0x5, 0xff800000, 0x7f7fffff, 0xc0000000)
  TEST_FP_OP2_S(19, fdiv.s, 0x1, 0x3eaaaaab, 0x3f800000, 0x40400000)
  TEST_FP_OP2_S(20, fdiv.s, 0x8, 0x7f800000, 0x3f800000, 0x0)
  TEST_FP_OP2_S(21, fdiv.s, 0x8, 0xff800000, 0xbf800000, 0x0)
  TEST_FP_OP2_S(22, fdiv.s, 0x10, 0x7fc00000, 0x0, 0x0)
  TEST_FP_OP2_S(23, fdiv.s, 0x0, 0x0, 0x3f800000, 0x7f800000)
  TEST_FP_OP2_S(24, fdiv.s, 0x0, 0x3f400000, 0x40400000, 0x40800000)

  /* static rounding modes (1/3 and -1/3) */
  TEST_FP_INTERNAL_S(25, 1, 0x3eaaaaab, 0x3f800000, 0x40400000, 0, fdiv.s f3, f0, f1, rne; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(26, 1, 0x3eaaaaaa, 0x3f800000, 0x40400000, 0, fdiv.s f3, f0, f1, rtz; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(27, 1, 0x3eaaaaaa, 0x3f800000, 0x40400000, 0, fdiv.s f3, f0, f1, rdn; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(28, 1, 0x3eaaaaab, 0x3f800000, 0x40400000, 0, fdiv.s f3, f0, f1, rup; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(29, 1, 0x3eaaaaab, 0x3f800000, 0x40400000, 0, fdiv.s f3, f0, f1, rmm; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(30, 1, 0xbeaaaaab, 0xbf800000, 0x40400000, 0, fdiv.s f3, f0, f1, rne; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(31, 1, 0xbeaaaaaa, 0xbf800000, 0x40400000, 0, fdiv.s f3, f0, f1, rtz; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(32, 1, 0xbeaaaaab, 0xbf800000, 0x40400000, 0, fdiv.s f3, f0, f1, rdn; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(33, 1, 0xbeaaaaaa, 0xbf800000, 0x40400000, 0, fdiv.s f3, f0, f1, rup; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(34, 1, 0xbeaaaaab, 0xbf800000, 0x40400000, 0, fdiv.s f3, f0, f1, rmm; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(35, 5, 0x7f800000, 0x7f7fffff, 0x40000000, 0, fmul.s f3, f0, f1, rne; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(36, 5, 0x7f7fffff, 0x7f7fffff, 0x40000000, 0, fmul.s f3, f0, f1, rtz; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(37, 5, 0x7f7fffff, 0x7f7fffff, 0x40000000, 0, fmul.s f3, f0, f1, rdn; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(38, 5, 0x7f800000, 0x7f7fffff, 0x40000000, 0, fmul.s f3, f0, f1, rup; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(39, 5, 0x7f800000, 0x7f7fffff, 0x40000000, 0, fmul.s f3, f0, f1, rmm; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(40, 0, 0x0, 0x3f800000, 0xbf800000, 0, fadd.s f3, f0, f1, rne; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(41, 0, 0x0, 0x3f800000, 0xbf800000, 0, fadd.s f3, f0, f1, rtz; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(42, 0, 0x80000000, 0x3f800000, 0xbf800000, 0, fadd.s f3, f0, f1, rdn; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(43, 0, 0x0, 0x3f800000, 0xbf800000, 0, fadd.s f3, f0, f1, rup; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(44, 0, 0x0, 0x3f800000, 0xbf800000, 0, fadd.s f3, f0, f1, rmm; fmv.x.s a0, f3)

  /* dynamic rounding via frm */
  TEST_FP_INTERNAL_S(45, 1, 0x3eaaaaaa, 0x3f800000, 0x40400000, 0, fsrmi 1; fdiv.s f3, f0, f1, dyn; fsrmi 0; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(46, 1, 0x3eaaaaab, 0x3f800000, 0x40400000, 0, fsrmi 3; fdiv.s f3, f0, f1, dyn; fsrmi 0; fmv.x.s a0, f3)
  TEST_FP_INTERNAL_S(47, 1, 0x3eaaaaaa, 0x3f800000, 0x40400000, 0, fsrmi 2; fdiv.s f3, f0, f1, dyn; fsrmi 0; fmv.x.s a0, f3)

  /* fsqrt.s */
  TEST_FP_OP1_S(48, fsqrt.s, 0x0, 0x40400000, 0x41100000)
  TEST_FP_OP1_S(49, fsqrt.s, 0x1, 0x3fb504f3, 0x40000000)
  TEST_FP_OP1_S(50, fsqrt.s, 0x10, 0x7fc00000, 0xbf800000)
  TEST_FP_OP1_S(51, fsqrt.s, 0x0, 0x80000000, 0x80000000)
  TEST_FP_OP1_S(52, fsqrt.s, 0x0, 0x7f800000, 0x7f800000)

  /* fmin.s / fmax.s */
  TEST_FP_OP2_S(53, fmin.s, 0x0, 0x80000000, 0x0, 0x80000000)
  TEST_FP_OP2_S(54, fmin.s, 0x0, 0x80000000, 0x80000000, 0x0)
  TEST_FP_OP2_S(55, fmax.s, 0x0, 0x0, 0x80000000, 0x0)
  TEST_FP_OP2_S(56, fmax.s, 0x0, 0x0, 0x0, 0x80000000)
  TEST_FP_OP2_S(57, fmin.s, 0x0, 0x3f800000, 0x7fc00000, 0x3f800000)
  TEST_FP_OP2_S(58, fmin.s, 0x10, 0x3f800000, 0x7f800001, 0x3f800000)
  TEST_FP_OP2_S(59, fmax.s, 0x10, 0x3f800000, 0x3f800000, 0x7f800001)
  TEST_FP_OP2_S(60, fmax.s, 0x0, 0x7fc00000, 0x7fc00000, 0x7fc00000)
  TEST_FP_OP2_S(61, fmax.s, 0x10, 0x7fc00000, 0x7f800001, 0x7fc00000)
  TEST_FP_OP2_S(62, fmin.s, 0x0, 0xff800000, 0xff800000, 0x7f800000)

  /* sign injection (no canonicalisation, no flags) */
  TEST_FP_OP2_S(63, fsgnj.s, 0x0, 0xbfc00000, 0x3fc00000, 0xc0000000)
  TEST_FP_OP2_S(64, fsgnjn.s, 0x0, 0xbfc00000, 0x3fc00000, 0x40000000)
  TEST_FP_OP2_S(65, fsgnjx.s, 0x0, 0x3fc00000, 0xbfc00000, 0xc0000000)
  TEST_FP_OP2_S(66, fsgnj.s, 0x0, 0xff800001, 0x7f800001, 0xbf800000)
  TEST_FP_OP2_S(67, fsgnjn.s, 0x0, 0x7fc12345, 0xffc12345, 0xbf800000)

  /* compares: feq quiet, flt/fle signalling */
  TEST_FP_CMP_S(68, feq.s, 0x0, 0x1, 0x3f800000, 0x3f800000)
  TEST_FP_CMP_S(69, feq.s, 0x0, 0x1, 0x0, 0x80000000)
  TEST_FP_CMP_S(70, feq.s, 0x0, 0x0, 0x7fc00000, 0x7fc00000)
  TEST_FP_CMP_S(71, feq.s, 0x10, 0x0, 0x7f800001, 0x3f800000)
  TEST_FP_CMP_S(72, flt.s, 0x0, 0x1, 0xbf800000, 0x3f800000)
  TEST_FP_CMP_S(73, flt.s, 0x0, 0x0, 0x80000000, 0x0)
  TEST_FP_CMP_S(74, flt.s, 0x10, 0x0, 0x7fc00000, 0x3f800000)
  TEST_FP_CMP_S(75, fle.s, 0x0, 0x1, 0x80000000, 0x0)
  TEST_FP_CMP_S(76, fle.s, 0x10, 0x0, 0x3f800000, 0x7fc00000)

  /* fclass.s */
  TEST_FP_INTERNAL_S(77, 0, 0x1, 0xff800000, 0, 0, fclass.s a0, f0)
  TEST_FP_INTERNAL_S(78, 0, 0x2, 0xbf800000, 0, 0, fclass.s a0, f0)
  TEST_FP_INTERNAL_S(79, 0, 0x4, 0x807fffff, 0, 0, fclass.s a0, f0)
  TEST_FP_INTERNAL_S(80, 0, 0x8, 0x80000000, 0, 0, fclass.s a0, f0)
  TEST_FP_INTERNAL_S(81, 0, 0x10, 0x0, 0, 0, fclass.s a0, f0)
  TEST_FP_INTERNAL_S(82, 0, 0x20, 0x1, 0, 0, fclass.s a0, f0)
  TEST_FP_INTERNAL_S(83, 0, 0x40, 0x3f800000, 0, 0, fclass.s a0, f0)
  TEST_FP_INTERNAL_S(84, 0, 0x80, 0x7f800000, 0, 0, fclass.s a0, f0)
  TEST_FP_INTERNAL_S(85, 0, 0x100, 0x7f800001, 0, 0, fclass.s a0, f0)
  TEST_FP_INTERNAL_S(86, 0, 0x200, 0x7fc00000, 0, 0, fclass.s a0, f0)

  /* fcvt to integer: rounding and saturation */
test_87: li TESTNUM, 87; li a0, 0xbfc00000; fmv.w.x f0, a0; fsflags x0; fcvt.w.s a0, f0, rtz; fsflags a1, x0; li a2, 0xffffffffffffffff; bne a0, a2, fail; li a2, 1; bne a1, a2, fail
test_88: li TESTNUM, 88; li a0, 0x40200000; fmv.w.x f0, a0; fsflags x0; fcvt.w.s a0, f0, rne; fsflags a1, x0; li a2, 0x2; bne a0, a2, fail; li a2, 1; bne a1, a2, fail
test_89: li TESTNUM, 89; li a0, 0x40200000; fmv.w.x f0, a0; fsflags x0; fcvt.w.s a0, f0, rmm; fsflags a1, x0; li a2, 0x3; bne a0, a2, fail; li a2, 1; bne a1, a2, fail
test_90: li TESTNUM, 90; li a0, 0xbf000000; fmv.w.x f0, a0; fsflags x0; fcvt.w.s a0, f0, rdn; fsflags a1, x0; li a2, 0xffffffffffffffff; bne a0, a2, fail; li a2, 1; bne a1, a2, fail
test_91: li TESTNUM, 91; li a0, 0xbf000000; fmv.w.x f0, a0; fsflags x0; fcvt.w.s a0, f0, rup; fsflags a1, x0; li a2, 0x0; bne a0, a2, fail; li a2, 1; bne a1, a2, fail
test_92: li TESTNUM, 92; li a0, 0x4f000000; fmv.w.x f0, a0; fsflags x0; fcvt.w.s a0, f0, rtz; fsflags a1, x0; li a2, 0x7fffffff; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_93: li TESTNUM, 93; li a0, 0xcf000000; fmv.w.x f0, a0; fsflags x0; fcvt.w.s a0, f0, rtz; fsflags a1, x0; li a2, 0xffffffff80000000; bne a0, a2, fail; li a2, 0; bne a1, a2, fail
test_94: li TESTNUM, 94; li a0, 0x7fc00000; fmv.w.x f0, a0; fsflags x0; fcvt.w.s a0, f0, rtz; fsflags a1, x0; li a2, 0x7fffffff; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_95: li TESTNUM, 95; li a0, 0xff800000; fmv.w.x f0, a0; fsflags x0; fcvt.w.s a0, f0, rtz; fsflags a1, x0; li a2, 0xffffffff80000000; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_96: li TESTNUM, 96; li a0, 0xbf800000; fmv.w.x f0, a0; fsflags x0; fcvt.wu.s a0, f0, rtz; fsflags a1, x0; li a2, 0x0; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_97: li TESTNUM, 97; li a0, 0xbf000000; fmv.w.x f0, a0; fsflags x0; fcvt.wu.s a0, f0, rtz; fsflags a1, x0; li a2, 0x0; bne a0, a2, fail; li a2, 1; bne a1, a2, fail
test_98: li TESTNUM, 98; li a0, 0x4f7fffff; fmv.w.x f0, a0; fsflags x0; fcvt.wu.s a0, f0, rtz; fsflags a1, x0; li a2, 0xffffffffffffff00; bne a0, a2, fail; li a2, 0; bne a1, a2, fail
test_99: li TESTNUM, 99; li a0, 0x7f800000; fmv.w.x f0, a0; fsflags x0; fcvt.wu.s a0, f0, rtz; fsflags a1, x0; li a2, 0xffffffffffffffff; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_100: li TESTNUM, 100; li a0, 0x5f000000; fmv.w.x f0, a0; fsflags x0; fcvt.l.s a0, f0, rtz; fsflags a1, x0; li a2, 0x7fffffffffffffff; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_101: li TESTNUM, 101; li a0, 0xdf000000; fmv.w.x f0, a0; fsflags x0; fcvt.l.s a0, f0, rtz; fsflags a1, x0; li a2, 0x8000000000000000; bne a0, a2, fail; li a2, 0; bne a1, a2, fail
test_102: li TESTNUM, 102; li a0, 0x5f000000; fmv.w.x f0, a0; fsflags x0; fcvt.lu.s a0, f0, rtz; fsflags a1, x0; li a2, 0x8000000000000000; bne a0, a2, fail; li a2, 0; bne a1, a2, fail
test_103: li TESTNUM, 103; li a0, 0x7fc00000; fmv.w.x f0, a0; fsflags x0; fcvt.lu.s a0, f0, rtz; fsflags a1, x0; li a2, 0xffffffffffffffff; bne a0, a2, fail; li a2, 16; bne a1, a2, fail
test_104: li TESTNUM, 104; li a0, 0xc0400000; fmv.w.x f0, a0; fsflags x0; fcvt.lu.s a0, f0, rtz; fsflags a1, x0; li a2, 0x0; bne a0, a2, fail; li a2, 16; bne a1, a2, fail

  /* fcvt from integer */
  TEST_INT_FP_OP_S(105, fcvt.s.w, 0xbf800000, 0xffffffffffffffff)
  TEST_INT_FP_OP_S(106, fcvt.s.wu, 0x4f800000, 0xffffffffffffffff)
  TEST_INT_FP_OP_S(107, fcvt.s.w, 0xbf800000, 0x12345678ffffffff)
  TEST_INT_FP_OP_S(108, fcvt.s.l, 0xdf000000, 0x8000000000000000)
  TEST_INT_FP_OP_S(109, fcvt.s.lu, 0x5f000000, 0x8000000000000000)
  TEST_INT_FP_OP_S(110, fcvt.s.w, 0x4b800000, 0x1000001)

  /* NaN-boxing: an improperly boxed single reads as the canonical NaN */
test_111: li TESTNUM, 111; li a0, 0x3f800000; fmv.d.x f0, a0; fadd.s f1, f0, f0; fmv.x.w a0, f1; li a1, 0x7fc00000; bne a0, a1, fail
test_112: li TESTNUM, 112; li a0, 0xffffffff3f800000; fmv.d.x f0, a0; fadd.s f1, f0, f0; fmv.x.w a0, f1; li a1, 0x40000000; bne a0, a1, fail
test_113: li TESTNUM, 113; li a0, 0x40400000; fmv.w.x f0, a0; fmv.x.d a0, f0; li a1, 0xffffffff40400000; bne a0, a1, fail
test_114: li TESTNUM, 114; li a0, 0x7fffffff3f800000; fmv.d.x f0, a0; fclass.s a0, f0; li a1, 0x200; bne a0, a1, fail

  /* flw / fsw move bits untouched */
test_115: li TESTNUM, 115; fsflags x0; la a0, fdata; flw f0, 0(a0); fsw f0, 4(a0); lw a1, 4(a0); li a2, 0x7f800001; bne a1, a2, fail; frflags a1; bnez a1, fail

TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
  .balign 8
fdata: .word 0x7f800001, 0
RVTEST_DATA_END
