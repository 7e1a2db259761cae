/* Start-up code of the 64-bit bare-metal x86 corpus programs.
 *
 * QEMU's Multiboot loader refuses ELF64 files ("Cannot load x86-64 image,
 * give a 32bit one"), so build.mjs links 64-bit programs as usual (ld -m
 * elf_x86_64, everything below 2 GiB) and converts the result with
 * `objcopy -O elf32-i386`: same bytes and addresses, an ELF32 container.
 * The loader enters _start (below) in 32-bit protected mode, exactly as for
 * 32-bit programs.
 *
 * _start (32-bit code): our GDT, stack, clear .bss, identity-map the first
 * 1 GiB with 2 MiB pages (PML4[0] -> PDPT[0] -> PD, all user + writable),
 * CR4.PAE, EFER.LME (+ NXE when CPUID has NX), CR0.PG, far jump to the
 * 64-bit code segment; then x86_init() builds the 64-bit IDT and TSS, and
 * main() runs. Exception stubs and trap_frame as in crt32.S, with 64-bit
 * registers.
 */
#include "x86.h"

#define MB_HEADER_MAGIC 0x1badb002
#define MB_HEADER_FLAGS 0x00000003

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
  ljmp $SEL_KCODE32, $1f
1:
  movl $SEL_KDATA, %eax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %fs
  movw %ax, %gs
  movw %ax, %ss
  movl $kstack_top, %esp
  movl $__bss_start, %edi
  movl $__bss_end, %ecx
  subl %edi, %ecx
  xorl %eax, %eax
  rep stosb
  pushl $0
  popfl

  /* page tables: PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] = i * 2 MiB */
  movl $boot_pdpt, %eax
  orl $7, %eax
  movl %eax, boot_pml4
  movl $boot_pd, %eax
  orl $7, %eax
  movl %eax, boot_pdpt
  movl $boot_pd, %edi
  movl $0x87, %eax          /* P W U PS */
  movl $512, %ecx
2:
  movl %eax, (%edi)
  movl $0, 4(%edi)
  addl $0x200000, %eax
  addl $8, %edi
  loop 2b
  movl $boot_pml4, %eax
  movl %eax, %cr3
  movl %cr4, %eax
  orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
  movl %eax, %cr4
  /* EFER: LME, plus NXE when CPUID.80000001h:EDX[20] (NX) */
  movl $0x80000000, %eax
  cpuid
  xorl %esi, %esi
  cmpl $0x80000001, %eax
  jb 3f
  movl $0x80000001, %eax
  cpuid
  testl $(1 << 20), %edx
  jz 3f
  movl $EFER_NXE, %esi
3:
  movl $MSR_EFER, %ecx
  rdmsr
  orl $EFER_LME, %eax
  orl %esi, %eax
  wrmsr
  movl %cr0, %eax
  orl $(CR0_PG | CR0_PE), %eax
  movl %eax, %cr0
  ljmp $SEL_KCODE, $long_entry

  .code64
long_entry:
  movl $SEL_KDATA, %eax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %fs
  movw %ax, %gs
  movw %ax, %ss
  movq $kstack_top, %rsp
  call x86_init
  call main
  movl %eax, %edi
  call exit_program
4:
  cli
  hlt
  jmp 4b

/* ---- exception / interrupt stubs ---- */
  .balign 16
  .globl isr_stubs
isr_stubs:
  .set vec, 0
  .rept 256
  .balign 16
  .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
  pushq $0
  .endif
  pushq $vec
  jmp isr_common
  .set vec, vec + 1
  .endr

isr_common:
  pushq %rax
  pushq %rbx
  pushq %rcx
  pushq %rdx
  pushq %rsi
  pushq %rdi
  pushq %rbp
  pushq %r8
  pushq %r9
  pushq %r10
  pushq %r11
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  cld
  cmpq $VEC_USER_EXIT, 120(%rsp)
  je 1f
  movq %rsp, %rdi
  /* The CPU aligned RSP to 16 before pushing the 5-word frame; with error
   * code, vector and 15 registers we are 16-aligned again. */
  call trap_dispatch
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %r11
  popq %r10
  popq %r9
  popq %r8
  popq %rbp
  popq %rdi
  popq %rsi
  popq %rdx
  popq %rcx
  popq %rbx
  popq %rax
  addq $16, %rsp
  iretq
1:
  movq 112(%rsp), %rax      /* user RAX */
  jmp kernel_return

/* ---- ring 3 ---- */

/* ureg run_user_iopl(user_fn_t fn, ureg arg, int iopl): 64-bit ring 3.
 * ureg run_user_compat(ureg fn, ureg arg): 32-bit compat-mode ring 3, IOPL 0. */
  .globl run_user_iopl, run_user_compat
run_user_compat:
  movl $SEL_UCODE32 | 3, %eax
  xorl %edx, %edx
  jmp 1f
run_user_iopl:
  movl $SEL_UCODE64 | 3, %eax
1:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  pushfq
  movq %rsp, kernel_saved_rsp(%rip)
  movq $user_stack_top - 16, %rcx
  cmpl $(SEL_UCODE64 | 3), %eax
  jne 2f
  subq $8, %rcx             /* ABI: RSP + 8 is 16-byte aligned at entry */
  movq $user_exit_stub, %r8
  movq %r8, (%rcx)          /* 64-bit fn returns here */
  jmp 3f
2:
  movl $user_exit_stub32, (%rcx)  /* 32-bit fn returns here; arg on stack */
  movl %esi, 4(%rcx)
3:
  pushq $(SEL_UDATA | 3)
  pushq %rcx
  andl $3, %edx
  shll $12, %edx
  orl $2, %edx
  pushq %rdx                /* RFLAGS: IF = 0, IOPL */
  pushq %rax                /* CS */
  pushq %rdi                /* RIP = fn */
  movq %rsi, %rdi           /* 64-bit fn: arg in RDI */
  movl $(SEL_UDATA | 3), %eax
  movw %ax, %ds
  movw %ax, %es
  xorl %eax, %eax
  xorl %ebx, %ebx
  xorl %ecx, %ecx
  xorl %edx, %edx
  xorl %esi, %esi
  xorl %ebp, %ebp
  xorl %r8d, %r8d
  xorl %r9d, %r9d
  xorl %r10d, %r10d
  xorl %r11d, %r11d
  iretq

  .globl user_exit_stub
user_exit_stub:
  int $VEC_USER_EXIT
  .code32
user_exit_stub32:
  int $VEC_USER_EXIT
  .code64

  .globl kernel_return
kernel_return:
  movl $SEL_KDATA, %ecx
  movw %cx, %ds
  movw %cx, %es
  movw %cx, %ss
  movq kernel_saved_rsp(%rip), %rsp
  popfq
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret

/* SYSCALL: RCX = return RIP, R11 = RFLAGS, RSP still the user's. EAX =
 * SYS_EXIT_TO_KERNEL ends run_user with RBX as the value; otherwise
 * syscall_handler(rax, rdi) runs on syscall_stack and SYSRETQ returns. */
  .globl syscall_entry
syscall_entry:
  cmpl $SYS_EXIT_TO_KERNEL, %eax
  jne 1f
  movq %rbx, %rax
  jmp kernel_return
1:
  movq %rsp, syscall_user_rsp(%rip)
  movq $syscall_stack_top, %rsp
  movq %rcx, sys_user_cx(%rip)
  movq %r11, sys_user_r11(%rip)
  pushfq
  popq sys_kernel_flags(%rip)
  pushq %rcx
  pushq %r11
  pushq %rsi              /* the C handler may clobber caller-saved registers; */
  pushq %rdi              /* user code sees only RAX, RCX, R11 change */
  pushq %rdx
  pushq %r8
  pushq %r9
  pushq %r10
  subq $8, %rsp
  movq %rdi, %rsi
  movq %rax, %rdi
  call syscall_handler
  addq $8, %rsp
  popq %r10
  popq %r9
  popq %r8
  popq %rdx
  popq %rdi
  popq %rsi
  popq %r11
  popq %rcx
  movq syscall_user_rsp(%rip), %rsp
  sysretq

/* ---- data ---- */
  .data
  .balign 8
  .globl gdt, gdt_ptr, mb_magic, mb_info
gdt:
  .quad 0
  .quad 0x00af9a000000ffff    /* 0x08 ring-0 code 64 */
  .quad 0x00cf92000000ffff    /* 0x10 ring-0 data */
  .quad 0x00cffa000000ffff    /* 0x18 ring-3 code 32 (compat) */
  .quad 0x00cff2000000ffff    /* 0x20 ring-3 data */
  .quad 0x00affa000000ffff    /* 0x28 ring-3 code 64 */
  .quad 0                     /* 0x30 TSS low (x86_init) */
  .quad 0                     /* 0x38 TSS high */
  .quad 0x00cf9a000000ffff    /* 0x40 ring-0 code 32 */
  .fill GDT_ENTRIES - 9, 8, 0
gdt_end:
  .balign 8
  .word 0, 0, 0
gdt_ptr:
  .word gdt_end - gdt - 1
  .quad gdt
mb_magic:
  .long 0
mb_info:
  .long 0

  .bss
  .balign 4096
  .globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:
  .space 4096
boot_pdpt:
  .space 4096
boot_pd:
  .space 4096
  .balign 16
  .globl kernel_saved_rsp, user_stack_top, trap_stack_top, syscall_stack_top
kernel_saved_rsp:
  .quad 0
syscall_user_rsp:
  .quad 0
  .balign 4096
  .space KSTACK_SIZE
kstack_top:
  .space 0x4000
user_stack_top:
  .space TRAP_STACK_SIZE
trap_stack_top:
  .space 0x2000
syscall_stack_top:
  .space 0x2000
  .globl ist_stack_top
ist_stack_top:

  .section .note.GNU-stack, "", @progbits
