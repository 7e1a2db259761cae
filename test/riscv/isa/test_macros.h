/* ISA test macros for qemu-ts, in the style of the riscv-tests suite (written
 * from scratch for this project).
 *
 * Each test is a numbered case: TESTNUM (gp) holds the number of the case being
 * run; on a mismatch control goes to `fail`, which reports through HTIF:
 *   pass: tohost = 1
 *   fail: tohost = (code << 1) | 1, code = TESTNUM (folded into 1..255 when
 *         TESTNUM >= 256); QEMU's HTIF exits with status code
 * An unexpected trap reports as test number 0x7f.
 *
 * Usage:
 *   #include "test_macros.h"
 *   RVTEST_CODE_BEGIN
 *     TEST_RR_OP(2, add, 3, 1, 2)
 *     ...
 *   TEST_PASSFAIL
 *   RVTEST_CODE_END
 *   RVTEST_DATA_BEGIN ... RVTEST_DATA_END
 */
#ifndef QEMU_TS_ISA_TEST_MACROS_H
#define QEMU_TS_ISA_TEST_MACROS_H

#define TESTNUM gp

/* Sign-extend a 12-bit immediate so `li` and the instruction agree. */
#define SEXT_IMM(x) ((x) | (-(((x) >> 11) & 1) << 11))

/* ------------------------------------------------------------------ */
/* Program skeleton                                                    */
/* ------------------------------------------------------------------ */

#define RVTEST_CODE_BEGIN                                               \
  .section .text.init, "ax", @progbits;                                 \
  .balign 64;                                                           \
  .globl _start;                                                        \
_start:                                                                 \
  csrr t0, mhartid;                                                     \
1:bnez t0, 1b;                                                          \
  la t0, rvtest_trap_vector;                                            \
  csrw mtvec, t0;                                                       \
  li t0, (3 << 13);      /* mstatus.FS = Dirty: enable F/D */           \
  csrs mstatus, t0;                                                     \
  csrwi fcsr, 0;                                                        \
  li TESTNUM, 0;                                                        \
  j rvtest_begin;                                                       \
  .balign 4;                                                            \
rvtest_trap_vector:                                                     \
  li TESTNUM, 0x7f;                                                     \
  j fail;                                                               \
rvtest_begin:

#define RVTEST_CODE_END                                                 \
  unimp

#define RVTEST_PASS                                                     \
  fence;                                                                \
  li t0, 1;                                                             \
  la t1, tohost;                                                        \
  sd t0, 0(t1);                                                         \
1:j 1b

/* Hosts truncate the exit status to 8 bits, so a test number >= 256 is
 * folded into 1..255 ((n mod 255) + 1): a failure can never read as 0. */
#define RVTEST_FAIL                                                     \
  fence;                                                                \
1:beqz TESTNUM, 1b;    /* never report "pass" by accident */            \
  mv t0, TESTNUM;                                                       \
  li t1, 256;                                                           \
  bltu t0, t1, 3f;                                                      \
  li t1, 255;                                                           \
  remu t0, t0, t1;                                                      \
  addi t0, t0, 1;                                                       \
3:slli t0, t0, 1;                                                       \
  ori t0, t0, 1;                                                        \
  la t1, tohost;                                                        \
  sd t0, 0(t1);                                                         \
2:j 2b

#define TEST_PASSFAIL                                                   \
  bne x0, TESTNUM, pass;                                                \
fail:                                                                   \
  RVTEST_FAIL;                                                          \
pass:                                                                   \
  RVTEST_PASS

#define RVTEST_DATA_BEGIN                                               \
  .pushsection .tohost, "aw", @progbits;                                \
  .balign 64;                                                           \
  .globl tohost;                                                        \
  .type tohost, @object;                                                \
  .size tohost, 8;       /* QEMU's HTIF insists on an 8-byte symbol */  \
tohost: .dword 0;                                                       \
  .globl fromhost;                                                      \
  .type fromhost, @object;                                              \
  .size fromhost, 8;                                                    \
fromhost: .dword 0;                                                     \
  .popsection;                                                          \
  .data;                                                                \
  .balign 16;                                                           \
begin_signature:

#define RVTEST_DATA_END                                                 \
end_signature:

/* ------------------------------------------------------------------ */
/* Generic case                                                        */
/* ------------------------------------------------------------------ */

#define TEST_CASE(testnum, testreg, correctval, code...)                \
test_ ## testnum:                                                       \
  li TESTNUM, testnum;                                                  \
  code;                                                                 \
  li x7, correctval;                                                    \
  bne testreg, x7, fail;

/* ------------------------------------------------------------------ */
/* Integer register-immediate / register-register                      */
/* ------------------------------------------------------------------ */

#define TEST_IMM_OP(testnum, inst, result, val1, imm)                   \
  TEST_CASE(testnum, x14, result,                                       \
    li x1, val1;                                                        \
    inst x14, x1, SEXT_IMM(imm))

#define TEST_IMM_SRC1_EQ_DEST(testnum, inst, result, val1, imm)         \
  TEST_CASE(testnum, x1, result,                                        \
    li x1, val1;                                                        \
    inst x1, x1, SEXT_IMM(imm))

#define TEST_IMM_ZEROSRC1(testnum, inst, result, imm)                   \
  TEST_CASE(testnum, x1, result,                                        \
    inst x1, x0, SEXT_IMM(imm))

#define TEST_IMM_ZERODEST(testnum, inst, val1, imm)                     \
  TEST_CASE(testnum, x0, 0,                                             \
    li x1, val1;                                                        \
    inst x0, x1, SEXT_IMM(imm))

/* Shift-immediate with an unsigned shamt (no sign extension). */
#define TEST_SHIFT_IMM_OP(testnum, inst, result, val1, shamt)           \
  TEST_CASE(testnum, x14, result,                                       \
    li x1, val1;                                                        \
    inst x14, x1, shamt)

#define TEST_R_OP(testnum, inst, result, val1)                          \
  TEST_CASE(testnum, x14, result,                                       \
    li x1, val1;                                                        \
    inst x14, x1)

#define TEST_RR_OP(testnum, inst, result, val1, val2)                   \
  TEST_CASE(testnum, x14, result,                                       \
    li x1, val1;                                                        \
    li x2, val2;                                                        \
    inst x14, x1, x2)

#define TEST_RR_SRC1_EQ_DEST(testnum, inst, result, val1, val2)         \
  TEST_CASE(testnum, x1, result,                                        \
    li x1, val1;                                                        \
    li x2, val2;                                                        \
    inst x1, x1, x2)

#define TEST_RR_SRC2_EQ_DEST(testnum, inst, result, val1, val2)         \
  TEST_CASE(testnum, x2, result,                                        \
    li x1, val1;                                                        \
    li x2, val2;                                                        \
    inst x2, x1, x2)

#define TEST_RR_SRC12_EQ_DEST(testnum, inst, result, val1)              \
  TEST_CASE(testnum, x1, result,                                        \
    li x1, val1;                                                        \
    inst x1, x1, x1)

#define TEST_RR_ZERODEST(testnum, inst, val1, val2)                     \
  TEST_CASE(testnum, x0, 0,                                             \
    li x1, val1;                                                        \
    li x2, val2;                                                        \
    inst x0, x1, x2)

#define TEST_RR_ZEROSRC1(testnum, inst, result, val)                    \
  TEST_CASE(testnum, x2, result,                                        \
    li x1, val;                                                         \
    inst x2, x0, x1)

#define TEST_RR_ZEROSRC2(testnum, inst, result, val)                    \
  TEST_CASE(testnum, x2, result,                                        \
    li x1, val;                                                         \
    inst x2, x1, x0)

/* Result forwarded through a chain of nops (bypass paths in hardware;
 * block boundaries / register caching in an emulator). */
#define TEST_RR_DEST_BYPASS(testnum, nop_cycles, inst, result, val1, val2) \
test_ ## testnum:                                                       \
  li TESTNUM, testnum;                                                  \
  li x4, 0;                                                             \
1:li x1, val1;                                                          \
  li x2, val2;                                                          \
  inst x14, x1, x2;                                                     \
  .rept nop_cycles; nop; .endr;                                         \
  addi x6, x14, 0;                                                      \
  addi x4, x4, 1;                                                       \
  li x5, 2;                                                             \
  bne x4, x5, 1b;                                                       \
  li x7, result;                                                        \
  bne x6, x7, fail;

/* ------------------------------------------------------------------ */
/* Loads and stores                                                    */
/* ------------------------------------------------------------------ */

#define TEST_LD_OP(testnum, inst, result, offset, base)                 \
  TEST_CASE(testnum, x14, result,                                       \
    la x1, base;                                                        \
    inst x14, offset(x1))

#define TEST_ST_OP(testnum, load_inst, store_inst, result, offset, base) \
  TEST_CASE(testnum, x14, result,                                       \
    la x1, base;                                                        \
    li x2, result;                                                      \
    store_inst x2, offset(x1);                                          \
    load_inst x14, offset(x1))

/* ------------------------------------------------------------------ */
/* Branches                                                            */
/* ------------------------------------------------------------------ */

#define TEST_BR2_OP_TAKEN(testnum, inst, val1, val2)                    \
test_ ## testnum:                                                       \
  li TESTNUM, testnum;                                                  \
  li x1, val1;                                                          \
  li x2, val2;                                                          \
  inst x1, x2, 2f;                                                      \
  bne x0, TESTNUM, fail;                                                \
1:bne x0, TESTNUM, 3f;                                                  \
2:inst x1, x2, 1b;                                                      \
  bne x0, TESTNUM, fail;                                                \
3:

#define TEST_BR2_OP_NOTTAKEN(testnum, inst, val1, val2)                 \
test_ ## testnum:                                                       \
  li TESTNUM, testnum;                                                  \
  li x1, val1;                                                          \
  li x2, val2;                                                          \
  inst x1, x2, 1f;                                                      \
  bne x0, TESTNUM, 2f;                                                  \
1:bne x0, TESTNUM, fail;                                                \
2:inst x1, x2, 1b;                                                      \
3:

/* ------------------------------------------------------------------ */
/* Floating point                                                      */
/* Each case loads operands from a per-case data block, runs `code`    */
/* which leaves the integer view of the result in a0, then reads and   */
/* clears fflags into a1 and compares both.                            */
/* ------------------------------------------------------------------ */

#define TEST_FP_INTERNAL_S(testnum, flags, result, val1, val2, val3, code...) \
test_ ## testnum:                                                       \
  li TESTNUM, testnum;                                                  \
  la a0, test_ ## testnum ## _data;                                     \
  flw f0, 0(a0);                                                        \
  flw f1, 4(a0);                                                        \
  flw f2, 8(a0);                                                        \
  lw a3, 12(a0);                                                        \
  fsflags x0;                                                           \
  code;                                                                 \
  fsflags a1, x0;                                                       \
  li a2, flags;                                                         \
  bne a0, a3, fail;                                                     \
  bne a1, a2, fail;                                                     \
  .pushsection .data;                                                   \
  .balign 8;                                                            \
test_ ## testnum ## _data:                                              \
  .word val1;                                                           \
  .word val2;                                                           \
  .word val3;                                                           \
  .word result;                                                         \
  .popsection

#define TEST_FP_INTERNAL_D(testnum, flags, result, val1, val2, val3, code...) \
test_ ## testnum:                                                       \
  li TESTNUM, testnum;                                                  \
  la a0, test_ ## testnum ## _data;                                     \
  fld f0, 0(a0);                                                        \
  fld f1, 8(a0);                                                        \
  fld f2, 16(a0);                                                       \
  ld a3, 24(a0);                                                        \
  fsflags x0;                                                           \
  code;                                                                 \
  fsflags a1, x0;                                                       \
  li a2, flags;                                                         \
  bne a0, a3, fail;                                                     \
  bne a1, a2, fail;                                                     \
  .pushsection .data;                                                   \
  .balign 8;                                                            \
test_ ## testnum ## _data:                                              \
  .dword val1;                                                          \
  .dword val2;                                                          \
  .dword val3;                                                          \
  .dword result;                                                        \
  .popsection

/* Operands and results are given as raw bit patterns. */
#define TEST_FP_OP2_S(testnum, inst, flags, result, val1, val2)        \
  TEST_FP_INTERNAL_S(testnum, flags, result, val1, val2, 0,             \
    inst f3, f0, f1; fmv.x.s a0, f3)

#define TEST_FP_OP2_D(testnum, inst, flags, result, val1, val2)        \
  TEST_FP_INTERNAL_D(testnum, flags, result, val1, val2, 0,             \
    inst f3, f0, f1; fmv.x.d a0, f3)

#define TEST_FP_OP1_S(testnum, inst, flags, result, val1)              \
  TEST_FP_INTERNAL_S(testnum, flags, result, val1, 0, 0,                \
    inst f3, f0; fmv.x.s a0, f3)

#define TEST_FP_OP1_D(testnum, inst, flags, result, val1)              \
  TEST_FP_INTERNAL_D(testnum, flags, result, val1, 0, 0,                \
    inst f3, f0; fmv.x.d a0, f3)

#define TEST_FP_OP3_S(testnum, inst, flags, result, val1, val2, val3)  \
  TEST_FP_INTERNAL_S(testnum, flags, result, val1, val2, val3,          \
    inst f3, f0, f1, f2; fmv.x.s a0, f3)

#define TEST_FP_OP3_D(testnum, inst, flags, result, val1, val2, val3)  \
  TEST_FP_INTERNAL_D(testnum, flags, result, val1, val2, val3,          \
    inst f3, f0, f1, f2; fmv.x.d a0, f3)

/* Comparisons and classification write an integer register directly. */
#define TEST_FP_CMP_S(testnum, inst, flags, result, val1, val2)        \
  TEST_FP_INTERNAL_S(testnum, flags, result, val1, val2, 0,             \
    inst a0, f0, f1)

#define TEST_FP_CMP_D(testnum, inst, flags, result, val1, val2)        \
  TEST_FP_INTERNAL_D(testnum, flags, result, val1, val2, 0,             \
    inst a0, f0, f1)

#define TEST_FP_INT_OP_S(testnum, inst, flags, result, val1, rm)       \
  TEST_FP_INTERNAL_S(testnum, flags, result, val1, 0, 0,                \
    inst a0, f0, rm)

#define TEST_FP_INT_OP_D(testnum, inst, flags, result, val1, rm)       \
  TEST_FP_INTERNAL_D(testnum, flags, result, val1, 0, 0,                \
    inst a0, f0, rm)

/* Integer source -> FP result (fcvt.s.w etc.); result is raw bits. */
#define TEST_INT_FP_OP_S(testnum, inst, result, val1)                   \
test_ ## testnum:                                                       \
  li TESTNUM, testnum;                                                  \
  li a0, val1;                                                          \
  inst fa0, a0;                                                         \
  fmv.x.s a0, fa0;                                                      \
  li a3, result;                                                        \
  addiw a3, a3, 0;       /* fmv.x.s sign-extends */                     \
  bne a0, a3, fail;

#define TEST_INT_FP_OP_D(testnum, inst, result, val1)                   \
test_ ## testnum:                                                       \
  li TESTNUM, testnum;                                                  \
  li a0, val1;                                                          \
  inst fa0, a0;                                                         \
  fmv.x.d a0, fa0;                                                      \
  li a3, result;                                                        \
  bne a0, a3, fail;

#endif
