/* Constants shared by the start-up assembly (crt32.S, crt64.S) and C code of
 * the bare-metal x86 corpus. Only #defines: this file is included from .S. */
#ifndef X86_TEST_CONSTANTS_H
#define X86_TEST_CONSTANTS_H

/* ---- GDT layout ----
 * 32-bit programs (crt32.S)          64-bit programs (crt64.S)
 *   0x08 ring-0 code, 32-bit           ring-0 code, 64-bit (L=1)
 *   0x10 ring-0 data                   ring-0 data
 *   0x18 ring-3 code, 32-bit           ring-3 code, 32-bit (compat mode)
 *   0x20 ring-3 data                   ring-3 data
 *   0x28 TSS (32-bit, available)       ring-3 code, 64-bit
 *   0x30 ring-0 code, 16-bit           TSS (64-bit, two slots: 0x30, 0x38)
 *   0x38 ring-0 data, 16-bit           -
 *   0x40 -                             ring-0 code, 32-bit (boot, compat tests)
 *   0x48..0xf8: free for tests (gdt_set_* in lib.h)
 * The order 0x08/0x10/0x18/0x20 is what SYSENTER/SYSEXIT (CS, CS+8, CS+16,
 * CS+24) and SYSCALL/SYSRET (STAR[47:32] = 0x08, STAR[63:48] = 0x18:
 * 64-bit SYSRET loads CS = 0x28|3, SS = 0x20|3) require. */
#define SEL_KCODE     0x08
#define SEL_KDATA     0x10
#define SEL_UCODE32   0x18
#define SEL_UDATA     0x20
#ifdef __x86_64__
#define SEL_UCODE64   0x28
#define SEL_TSS       0x30
#define SEL_KCODE32   0x40
#else
#define SEL_TSS       0x28
#define SEL_KCODE16   0x30
#define SEL_KDATA16   0x38
#define SEL_KCODE32   SEL_KCODE
#endif
#define SEL_UCODE     (SEL_UCODE32 | 3)   /* ring-3 code selector of this width */
#define SEL_TEST_FIRST 0x48
#define GDT_ENTRIES   32

/* Vector of the "return to ring 0" software interrupt used by run_user(). */
#define VEC_USER_EXIT 0x80
/* Vectors 0x40..0x4f are DPL-3 interrupt gates that just count (tests). */
#define VEC_TEST_BASE 0x40

/* Values passed in EAX to SYSCALL / SYSENTER (see run_user_*). */
#define SYS_EXIT_TO_KERNEL 0x5e5e0001
#define SYS_ECHO           0x5e5e0002   /* handler returns arg + 1 */

/* ---- control registers / MSRs ---- */
#define CR0_PE 0x00000001
#define CR0_MP 0x00000002
#define CR0_EM 0x00000004
#define CR0_TS 0x00000008
#define CR0_NE 0x00000020
#define CR0_WP 0x00010000
#define CR0_AM 0x00040000
#define CR0_PG 0x80000000
#define CR4_PSE 0x00000010
#define CR4_PAE 0x00000020
#define CR4_PGE 0x00000080
#define CR4_OSFXSR 0x00000200
#define CR4_OSXMMEXCPT 0x00000400
#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_EFER   0xc0000080
#define MSR_STAR   0xc0000081
#define MSR_LSTAR  0xc0000082
#define MSR_CSTAR  0xc0000083
#define MSR_FMASK  0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define EFER_SCE 0x001
#define EFER_LME 0x100
#define EFER_LMA 0x400
#define EFER_NXE 0x800

/* ---- I/O ports ---- */
#define COM1_PORT      0x3f8
#define DEBUG_EXIT_PORT 0xf4    /* -device isa-debug-exit,iobase=0xf4,iosize=0x04 */
#define DEBUGCON_PORT  0xe9

/* Stack sizes */
#define KSTACK_SIZE 0x10000
#define TRAP_STACK_SIZE 0x4000

#endif
