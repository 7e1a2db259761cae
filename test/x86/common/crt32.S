/* Start-up code of the 32-bit bare-metal x86 corpus programs.
 *
 * QEMU's Multiboot v1 loader (-kernel prog.elf on -M pc) enters _start in
 * 32-bit protected mode with flat 4 GiB segments, paging off, interrupts
 * off, EAX = 0x2badb002 and EBX = the Multiboot information structure. We
 * load our own GDT (x86.h lists the selectors), switch to our stack, clear
 * .bss, let x86_init() (lib.c) build the TSS and the IDT and enable x87/SSE,
 * call main() and exit through the isa-debug-exit port with its return
 * value.
 *
 * Exceptions and interrupts: 256 stubs, 16 bytes apart from isr_stubs, each
 * pushing a zero error code when the CPU pushes none, then the vector. The
 * common path saves the registers as a struct trap_frame (lib.h) and calls
 * trap_dispatch(frame); the handler may edit the frame (EIP to resume
 * elsewhere, registers), which is restored before IRET. Vector 0x80 instead
 * ends run_user(): it returns to the ring-0 caller with the user's EAX.
 */
#include "x86.h"

#define MB_HEADER_MAGIC 0x1badb002
#define MB_HEADER_FLAGS 0x00000003  /* page-align modules, want memory info */

/* Real-mode trampoline: copied to RM_TRAMP_ADDR, entered through the 16-bit
 * code segment SEL_KCODE16 (base RM_TRAMP_ADDR). Layout of its register
 * block matches struct rm_regs in lib.h. */
#define RM_TRAMP_ADDR 0x8000
#define RM_SEG        0x0800
#define RM_CODE_SEG   0x0900
#define RMR_EAX 0
#define RMR_EBX 4
#define RMR_ECX 8
#define RMR_EDX 12
#define RMR_ESI 16
#define RMR_EDI 20
#define RMR_EBP 24
#define RMR_EFLAGS 28
#define RMR_DS 32
#define RMR_ES 34
#define RMOFF(sym) (sym - rm_tramp_start)

  .section .multiboot, "a"
  .balign 4
  .long MB_HEADER_MAGIC
  .long MB_HEADER_FLAGS
  .long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

  .text
  .code32
  .globl _start
_start:
  cli
  cld
  movl %eax, mb_magic
  movl %ebx, mb_info
  lgdt gdt_ptr
  ljmp $SEL_KCODE, $1f
1:
  movl $SEL_KDATA, %eax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %fs
  movw %ax, %gs
  movw %ax, %ss
  movl $kstack_top, %esp
  /* .bss (the loader may or may not clear it; the stack is in it too, but
   * nothing has been pushed yet) */
  movl $__bss_start, %edi
  movl $__bss_end, %ecx
  subl %edi, %ecx
  xorl %eax, %eax
  rep stosb
  pushl $0
  popfl
  call x86_init
  call main
  pushl %eax
  call exit_program
2:
  cli
  hlt
  jmp 2b

/* ---- exception / interrupt stubs ---- */
  .balign 16
  .globl isr_stubs
isr_stubs:
  .set vec, 0
  .rept 256
  .balign 16
  .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
  pushl $0
  .endif
  pushl $vec
  jmp isr_common
  .set vec, vec + 1
  .endr

isr_common:
  pushal
  pushl %ds
  pushl %es
  pushl %fs
  pushl %gs
  movl $SEL_KDATA, %eax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %fs
  movw %ax, %gs
  cld
  cmpl $VEC_USER_EXIT, 48(%esp)
  je 1f
  pushl %esp
  call trap_dispatch
  addl $4, %esp
  popl %gs
  popl %fs
  popl %es
  popl %ds
  popal
  addl $8, %esp
  iret
1:
  movl 44(%esp), %eax     /* user EAX */
  jmp kernel_return

/* ---- ring 3 ---- */

/* ureg run_user_iopl(user_fn_t fn, ureg arg, int iopl) */
  .globl run_user_iopl
run_user_iopl:
  pushl %ebp
  pushl %ebx
  pushl %esi
  pushl %edi
  pushfl
  movl %esp, kernel_saved_esp
  movl 24(%esp), %eax       /* fn */
  movl 28(%esp), %ecx       /* arg */
  movl 32(%esp), %edx       /* iopl */
  movl $user_stack_top - 16, %esi
  movl $user_exit_stub, (%esi)   /* fn returns here */
  movl %ecx, 4(%esi)
  pushl $(SEL_UDATA | 3)
  pushl %esi
  andl $3, %edx
  shll $12, %edx
  orl $2, %edx
  pushl %edx                /* EFLAGS: IF = 0, IOPL */
  pushl $SEL_UCODE
  pushl %eax
  movl $(SEL_UDATA | 3), %eax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %fs
  movw %ax, %gs
  xorl %eax, %eax
  xorl %ebx, %ebx
  xorl %ecx, %ecx
  xorl %edx, %edx
  xorl %esi, %esi
  xorl %edi, %edi
  xorl %ebp, %ebp
  iret

  .globl user_exit_stub
user_exit_stub:
  int $VEC_USER_EXIT

/* Back in ring 0 with the return value in EAX, on any stack. */
  .globl kernel_return
kernel_return:
  movl $SEL_KDATA, %ecx
  movw %cx, %ds
  movw %cx, %es
  movw %cx, %fs
  movw %cx, %gs
  movw %cx, %ss
  movl kernel_saved_esp, %esp
  popfl
  popl %edi
  popl %esi
  popl %ebx
  popl %ebp
  ret

/* SYSENTER: ESP = IA32_SYSENTER_ESP. The caller passes its return EIP in
 * EDX and ESP in ECX (SYSEXIT loads them). EAX = SYS_EXIT_TO_KERNEL ends
 * run_user with EBX as the value; otherwise sysenter_handler(eax, ebx). */
  .globl sysenter_entry
sysenter_entry:
  cmpl $SYS_EXIT_TO_KERNEL, %eax
  jne 1f
  movl %ebx, %eax
  jmp kernel_return
1:
  movl %edx, sys_user_cx
  movl %ecx, sys_user_r11
  pushfl
  popl sys_kernel_flags
  pushl %ecx
  pushl %edx
  pushl %ebx
  pushl %eax
  call sysenter_handler
  addl $8, %esp
  popl %edx
  popl %ecx
  sysexit

/* ---- real mode ---- */

/* void rm_enter(void): the trampoline and register block are in place. */
  .globl rm_enter
rm_enter:
  pushal
  pushfl
  movl %esp, rm_saved_esp
  sidt rm_saved_idt
  sgdt RM_TRAMP_ADDR + RMOFF(rm_gdt_ptr)
  ljmp $SEL_KCODE16, $0

rm_back32:
  movl $SEL_KDATA, %eax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %fs
  movw %ax, %gs
  movw %ax, %ss
  movl rm_saved_esp, %esp
  lidt rm_saved_idt
  popfl
  popal
  ret

  .section .rodata.rm, "a"
  .code16
  .globl rm_tramp_start, rm_tramp_end, rm_regs_area
rm_tramp_start:
  /* 16-bit protected mode, CS base = RM_TRAMP_ADDR: load 64 KiB limits into
   * the segment caches, leave protected mode. */
  movw $SEL_KDATA16, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %fs
  movw %ax, %gs
  movw %ax, %ss
  movl %cr0, %eax
  andl $~CR0_PE, %eax
  movl %eax, %cr0
  ljmp $RM_SEG, $RMOFF(rm_real)
rm_real:
  xorw %ax, %ax
  movw %ax, %ss
  movw $0x7c00, %sp
  movw %ax, %fs
  movw %ax, %gs
  movw $RM_SEG, %ax
  movw %ax, %ds
  lidt RMOFF(rm_ivt_ptr)
  movl RMOFF(rm_regs_area) + RMR_EAX, %eax
  movl RMOFF(rm_regs_area) + RMR_EBX, %ebx
  movl RMOFF(rm_regs_area) + RMR_ECX, %ecx
  movl RMOFF(rm_regs_area) + RMR_EDX, %edx
  movl RMOFF(rm_regs_area) + RMR_ESI, %esi
  movl RMOFF(rm_regs_area) + RMR_EDI, %edi
  movl RMOFF(rm_regs_area) + RMR_EBP, %ebp
  movw RMOFF(rm_regs_area) + RMR_ES, %es
  pushw RMOFF(rm_regs_area) + RMR_DS
  popw %ds
  lcall $RM_CODE_SEG, $0
  pushw %ds
  pushfl
  pushw $RM_SEG
  popw %ds
  movl %eax, RMOFF(rm_regs_area) + RMR_EAX
  movl %ebx, RMOFF(rm_regs_area) + RMR_EBX
  movl %ecx, RMOFF(rm_regs_area) + RMR_ECX
  movl %edx, RMOFF(rm_regs_area) + RMR_EDX
  movl %esi, RMOFF(rm_regs_area) + RMR_ESI
  movl %edi, RMOFF(rm_regs_area) + RMR_EDI
  movl %ebp, RMOFF(rm_regs_area) + RMR_EBP
  popl RMOFF(rm_regs_area) + RMR_EFLAGS
  popw RMOFF(rm_regs_area) + RMR_DS
  movw %es, RMOFF(rm_regs_area) + RMR_ES
  cli
  lgdtl RMOFF(rm_gdt_ptr)
  movl %cr0, %eax
  orl $CR0_PE, %eax
  movl %eax, %cr0
  ljmpl $SEL_KCODE, $rm_back32
  .balign 4
rm_ivt_ptr:
  .word 0x3ff
  .long 0
  .balign 4
rm_gdt_ptr:
  .word 0
  .long 0
  .balign 4
rm_regs_area:
  .space 40
rm_tramp_end:
  .code32

/* ---- data ---- */
  .data
  .balign 8
  .globl gdt, gdt_ptr, mb_magic, mb_info
gdt:
  .quad 0
  .quad 0x00cf9a000000ffff    /* 0x08 ring-0 code 32 */
  .quad 0x00cf92000000ffff    /* 0x10 ring-0 data */
  .quad 0x00cffa000000ffff    /* 0x18 ring-3 code 32 */
  .quad 0x00cff2000000ffff    /* 0x20 ring-3 data */
  .quad 0                     /* 0x28 TSS (x86_init) */
  .quad 0x00009a000000ffff    /* 0x30 ring-0 code 16 (base set by realmode_call) */
  .quad 0x000092000000ffff    /* 0x38 ring-0 data 16, 64 KiB */
  .fill GDT_ENTRIES - 8, 8, 0
gdt_end:
  .balign 4
  .word 0
gdt_ptr:
  .word gdt_end - gdt - 1
  .long gdt
mb_magic:
  .long 0
mb_info:
  .long 0

  .bss
  .balign 16
  .globl kernel_saved_esp, user_stack_top, trap_stack_top, sysenter_stack_top
kernel_saved_esp:
  .long 0
rm_saved_esp:
  .long 0
  .balign 8
  .word 0
rm_saved_idt:
  .word 0
  .long 0
  .balign 4096
  .space KSTACK_SIZE
kstack_top:
  .space 0x4000
user_stack_top:
  .space TRAP_STACK_SIZE
trap_stack_top:
  .space 0x2000
sysenter_stack_top:

  .section .note.GNU-stack, "", @progbits
