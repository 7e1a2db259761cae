/* Code placed at exact 4 KiB page offsets (section .text.pages is page
 * aligned; .org offsets below are relative to its start, so offset 0x1000 is
 * a page boundary). Exercises translation-block edges an emulator must get
 * right: a 4-byte instruction straddling two pages, a compressed instruction
 * as the last halfword of a page, branches/jumps/jal across page boundaries,
 * a block falling through into the next page. Called from page_cross.c; every
 * function returns a value in a0 that proves the path taken. */

/* W: assemble one instruction in its 4-byte form. */
.macro W insn:vararg
  .option push
  .option norvc
  \insn
  .option pop
.endm

  .section .text.pages, "ax", @progbits
  .option push
  .option norelax
  .option rvc
  .balign 4096
pages_base:

/* 1: 4-byte instructions at 0xffe (straddles) and 0x1002 (misaligned). */
  .org 0x0ff0
  .globl pc_straddle
pc_straddle:
  W addi a0, zero, 1        /* 0x0ff0 */
  W addi a0, a0, 2          /* 0x0ff4 */
  c.addi a0, 4              /* 0x0ff8 */
  c.nop                     /* 0x0ffa */
  c.addi a0, 8              /* 0x0ffc */
  W addi a0, a0, 16         /* 0x0ffe: bytes 0xffe..0x1001 */
  W addi a0, a0, 32         /* 0x1002 */
  c.jr ra                   /* 0x1006 */

/* 2: compressed instruction as the last halfword of a page. */
  .org 0x1ff0
  .globl pc_last_half
pc_last_half:
  W addi a0, zero, 0        /* 0x1ff0 */
  W addi a0, a0, 1          /* 0x1ff4 */
  W addi a0, a0, 2          /* 0x1ff8 */
  c.addi a0, 4              /* 0x1ffc */
  c.addi a0, 8              /* 0x1ffe: last halfword */
  c.addi a0, 16             /* 0x2000 */
  c.jr ra

/* 3: loop whose backward branch crosses the page boundary. */
  .org 0x2ff0
  .globl pc_loop_across
pc_loop_across:
  W addi t0, zero, 10       /* 0x2ff0 */
  W addi a0, zero, 0        /* 0x2ff4 */
1:W addi a0, a0, 3          /* 0x2ff8 */
  W addi t0, t0, -1         /* 0x2ffc */
  W bnez t0, 1b             /* 0x3000: branches back into the previous page */
  c.jr ra                   /* 0x3004 */

/* 4: jump two pages ahead to a compressed instruction at a page's end. */
  .org 0x3010
  .globl pc_jump_far
pc_jump_far:
  W addi a0, zero, 1
  W j 2f
  .org 0x4ffe
2:c.addi a0, 5              /* 0x4ffe */
  c.jr ra                   /* 0x5000 */

/* 5: a 4-byte taken branch straddling a page boundary, jumping back. */
  .org 0x5f00
3:W addi a0, a0, 7
  c.jr ra
  .org 0x5ff8
  .globl pc_straddle_branch
pc_straddle_branch:
  W addi a0, zero, 0        /* 0x5ff8 */
  c.nop                     /* 0x5ffc */
  W beq zero, zero, 3b      /* 0x5ffe: straddles 0x6000 */
  W addi a0, zero, 99       /* not reached */
  c.jr ra

/* 6: jal straddling a page boundary: the link is 0x7002, in the next page. */
  .org 0x6ff8
  .globl pc_straddle_jal
pc_straddle_jal:
  c.mv t1, ra               /* 0x6ff8 */
  c.li a0, 0                /* 0x6ffa */
  c.nop                     /* 0x6ffc */
  W jal ra, 4f              /* 0x6ffe */
  c.addi a0, 1              /* 0x7002: return lands here */
  c.mv ra, t1
  c.jr ra
  .org 0x7100
4:W addi a0, a0, 20
  W auipc a1, 0             /* a1 = 0x7104 + base: checks auipc after a page crossing */
  c.jr ra

/* 7: block falls through from the last word of a page into the next page. */
  .org 0x7ff4
  .globl pc_fallthrough
pc_fallthrough:
  W addi a0, zero, 3        /* 0x7ff4 */
  W slli a0, a0, 2          /* 0x7ff8 */
  W addi a0, a0, 1          /* 0x7ffc */
  W addi a0, a0, 100        /* 0x8000 */
  c.jr ra

/* 8: compressed branch as the last halfword, taken into the next page. */
  .org 0x8ff8
  .globl pc_cbranch_last
pc_cbranch_last:
  W addi a0, zero, 0        /* 0x8ff8 */
  c.li a1, 0                /* 0x8ffc */
  c.beqz a1, 5f             /* 0x8ffe */
  c.li a0, 1                /* 0x9000 */
  c.jr ra
  .org 0x9010
5:c.li a0, 2
  c.jr ra

/* 9: a 4-byte jalr straddling the boundary (indirect jump target computed
 * in the previous page). */
  .org 0x9ff4
  .globl pc_straddle_jalr
pc_straddle_jalr:
  W auipc t0, 0             /* 0x9ff4 */
  W addi t0, t0, 0x20       /* 0x9ff8: target = 0xa014 */
  c.li a0, 4                /* 0x9ffc */
  W jalr zero, 0(t0)        /* 0x9ffe */
  .org 0xa014
  c.addi a0, 10
  c.jr ra

  .globl pc_pages_base
  .set pc_pages_base, pages_base
  .option pop
