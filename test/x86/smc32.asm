; x86: bits=32
; Self-modifying code in 32-bit code (NASM part of smc32; smc32.c drives it).
; Everything lives in the writable, page-aligned .pages section.

bits 32
section .pages progbits alloc exec write align=4096

global smc_next, smc_loop, smc_target, smc_patch_call, smc_jmp, smc_jmp_patch, smc_rep_copy
global smc_template, smc_template_end, smc_prev

; Store into the very next instruction: the new immediate must be used.
smc_next:
    mov byte [.patch + 1], 0x42
.patch:
    mov eax, 0x11               ; B8 11 00 00 00: the store changes 11 -> 42
    ret

; Patch an immediate inside a loop body on every iteration: returns the sum
; of 1 + 2 + ... + 10 only if every iteration sees its own store.
smc_loop:
    push ebx
    xor eax, eax
    mov ecx, 1
.again:
    mov [.imm + 1], ecx
.imm:
    mov ebx, 0                  ; BB imm32, rewritten each time
    add eax, ebx
    inc ecx
    cmp ecx, 10
    jbe .again
    pop ebx
    ret

; A separate function whose immediate smc_patch_call rewrites, then calls.
smc_target:
    mov eax, 0x1111
    ret

smc_patch_call:
    mov eax, [esp + 4]
    mov [smc_target + 1], eax
    call smc_target
    ret

; Flip a short jump's displacement: first call returns 1, after patching 2.
smc_jmp:
    jmp short .one
.two:
    mov eax, 2
    ret
.one:
    mov eax, 1
    ret
smc_jmp_patch:                  ; make "jmp short" land on .two (rel8 = -9)
    mov byte [smc_jmp + 1], (smc_jmp.two - (smc_jmp + 2)) & 0xff
    ret

; Copy a whole new body over smc_target with REP MOVSB, then call it.
smc_rep_copy:
    push esi
    push edi
    mov esi, smc_template
    mov edi, smc_target
    mov ecx, smc_template_end - smc_template
    rep movsb
    call smc_target
    pop edi
    pop esi
    ret
smc_template:
    mov eax, 0x7777
    add eax, eax
    ret
smc_template_end:

; Store into an instruction that already executed (earlier in the same
; block), then run it again through a backward jump.
smc_prev:
    push ebx
    xor ebx, ebx
.top:
    mov eax, 5                  ; B8 05 00 00 00
    inc ebx
    cmp ebx, 2
    je .done
    mov byte [.top + 1], 9
    jmp .top
.done:
    pop ebx
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
