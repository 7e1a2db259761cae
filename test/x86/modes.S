/* x86: bits=32 qemu=x86_64 cpu=qemu64
 * Mode transitions for modes.c: a real-mode test blob (run by the
 * runtime's realmode_call) and a round trip from 32-bit protected mode
 * through compatibility mode into 64-bit mode and back. */
#define MODES_LONG_CS 0x48

  .section .rodata
  .code16
  .globl rm_test_blob, rm_test_blob_end, rm_res
/* Entered at 0900:0000 with DS = ES = 0x0900, SS:SP = 0000:7c00. The
 * results live at rm_res inside this (copied, writable) blob. */
rm_test_blob:
  /* our own IVT at 0x7000: int 0x30 and #DE (vector 0) */
  xorw %ax, %ax
  movw %ax, %es
  movw $(rm_int30 - rm_test_blob), %es:0x70c0
  movw $0x0900, %es:0x70c2
  movw $(rm_de - rm_test_blob), %es:0x7000
  movw $0x0900, %es:0x7002
  lidt %cs:(rm_ivt - rm_test_blob)
  movw $0x0900, %ax
  movw %ax, %es
  /* 1: INT 0x30 through the IVT, IRET back; flags restored */
  movw $1, %bx
  stc
  int $0x30
  movw %bx, rm_res - rm_test_blob + 0
  sbbw %ax, %ax                       /* CF survived the interrupt: ax = ffff */
  movw %ax, rm_res - rm_test_blob + 2
  /* 2: divide by zero -> vector 0, the handler skips the DIV */
  xorw %cx, %cx
  movw $0x1234, %ax
  xorb %dl, %dl
  divb %dl
  movw %cx, rm_res - rm_test_blob + 4
  /* 3: 32-bit operand and address size in real mode */
  movl $0x12345678, %eax
  roll $8, %eax
  movl %eax, rm_res - rm_test_blob + 8
  movl $2, %ebx
  movl (rm_table - rm_test_blob)(,%ebx,4), %eax
  movl %eax, rm_res - rm_test_blob + 12
  /* 4: segment arithmetic: 1000:0010 and 1001:0000 are the same byte */
  movw $0x1000, %ax
  movw %ax, %es
  movb $0xa5, %es:0x10
  movw $0x1001, %ax
  movw %ax, %fs
  movb %fs:0, %al
  movb %al, rm_res - rm_test_blob + 16
  movw $0x0900, %ax
  movw %ax, %es
  /* 5: a far call within the blob, and LOOP with CX */
  lcall $0x0900, $(rm_far - rm_test_blob)
  movw %ax, rm_res - rm_test_blob + 18
  movw $5, %cx
  xorw %ax, %ax
1:
  addw %cx, %ax
  loop 1b
  movw %ax, rm_res - rm_test_blob + 20
  /* 6: REP MOVSB with 16-bit SI/DI/CX */
  movw $(rm_table - rm_test_blob), %si
  movw $(rm_res - rm_test_blob + 24), %di
  movw $8, %cx
  cld
  rep movsb
  /* 7: CR0.PE is clear; PUSHF in real mode */
  movl %cr0, %eax
  andl $0x80000001, %eax
  movl %eax, rm_res - rm_test_blob + 32
  pushfw
  popw %ax
  andw $0x08d5, %ax
  movw %ax, rm_res - rm_test_blob + 36
  lret

rm_int30:
  addw $0x10, %bx
  iret
rm_de:
  pushw %bp
  movw %sp, %bp
  addw $2, 2(%bp)                    /* skip "div %dl" (2 bytes) */
  popw %bp
  movw $0xdede, %cx
  iret
rm_far:
  movw $0xfa11, %ax
  lret
  .balign 4
rm_ivt:
  .word 0x3ff
  .long 0x7000
  .balign 4
rm_table:
  .long 0x11111111, 0x22222222, 0x33333333, 0x44444444
rm_res:
  .space 48
rm_test_blob_end:
  .code32

/* uint32_t long_round_trip(uint32_t cr3, uint32_t *out): 32-bit protected
 * mode -> (PAE, LME, PG) compatibility mode -> far jump to a 64-bit code
 * segment -> far jump back to 32-bit code -> PG off (leaves long mode) ->
 * LME off -> PAE off. out[]: EFER in compat mode, 64-bit results, CS
 * values, EFER after PG off and at the end. */
  .text
  .globl long_round_trip
long_round_trip:
  pushl %ebp
  movl %esp, %ebp
  pushl %ebx
  pushl %esi
  pushl %edi
  movl 8(%ebp), %eax
  movl 12(%ebp), %edi
  movl %eax, %cr3
  movl %cr4, %eax
  orl $0x20, %eax
  movl %eax, %cr4
  movl $0xc0000080, %ecx
  rdmsr
  orl $0x100, %eax
  wrmsr
  movl %cr0, %eax
  orl $0x80000000, %eax
  movl %eax, %cr0
  /* IA-32e compatibility mode */
  movl $0xc0000080, %ecx
  rdmsr
  movl %eax, 0(%edi)
  movl %cs, %eax
  movl %eax, 4(%edi)
  ljmp $MODES_LONG_CS, $1f
  .code64
1:
  movl %esp, %esp
  movl %edi, %edi
  movabsq $0x123456789abcdef0, %rax
  rolq $16, %rax
  movq %rax, 8(%rdi)
  movq $-1, %r9
  shrq $4, %r9
  movq %r9, 16(%rdi)
  pushq $-2
  popq %rax
  movq %rax, 24(%rdi)
  movl %cs, %eax
  movl %eax, 32(%rdi)
  movq $0xffffffffffffffff, %rax
  movl $7, %eax                      /* zero-extends */
  movq %rax, 40(%rdi)
  ljmpl *compat_ptr(%rip)
  .code32
2:
  movl %cs, %eax
  movl %eax, 48(%edi)
  movl %cr0, %eax
  andl $0x7fffffff, %eax
  movl %eax, %cr0
  movl $0xc0000080, %ecx
  rdmsr
  movl %eax, 52(%edi)
  andl $~0x100, %eax
  wrmsr
  movl %cr4, %eax
  andl $~0x20, %eax
  movl %eax, %cr4
  movl $0xc0000080, %ecx
  rdmsr
  movl %eax, 56(%edi)
  popl %edi
  popl %esi
  popl %ebx
  popl %ebp
  ret

  .data
  .balign 4
compat_ptr:
  .long 2b
  .word 0x08

  .section .note.GNU-stack, "", @progbits
