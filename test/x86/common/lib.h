/* Runtime of the bare-metal x86 test corpus (32-bit and 64-bit programs).
 *
 * Output goes to COM1 (16550 at 0x3f8); exit_program(n) writes n to QEMU's
 * isa-debug-exit port 0xf4, so the emulator exits with status (n << 1) | 1.
 * Everything printed must be deterministic: never print TSC values, absolute
 * stack addresses or anything the firmware chose.
 *
 * lib.c is built with -mgeneral-regs-only: the runtime (printf, trap
 * dispatch) never touches x87/MMX/SSE state, so an exception taken in the
 * middle of an FP test does not disturb the registers under test, and #NM
 * tests work (the trap path never executes an FP instruction). */
#ifndef X86_TEST_LIB_H
#define X86_TEST_LIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "x86.h"

typedef uintptr_t ureg;   /* a general register of the program's width */

/* ---- output ---- */
void serial_putc(char c);
void debugcon_putc(char c);           /* port 0xe9 (QEMU: only with -debugcon) */
void print(const char *s);
/* printf subset: %d %i %u %x %X %o %c %s %p %%, flags '-' '0' ' ' '+',
 * width (also '*'), length h hh l ll z j t. Returns characters written. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "name=" then n bytes of memory in hex, most significant (highest address) first. */
void print_hexle(const char *name, const void *p, int n);

/* ---- exit ---- */
__attribute__((noreturn)) void exit_program(int status);

/* ---- multiboot ---- */
extern uint32_t mb_magic, mb_info;

/* ---- port I/O and system registers ---- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

#define read_cr(n) ({ ureg __v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(__v)); __v; })
#define write_cr(n, v) __asm__ volatile("mov %0, %%cr" #n :: "r"((ureg)(v)) : "memory")
static inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
  __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline ureg read_flags(void) {
  ureg f;
  __asm__ volatile("pushf\n\tpop %0" : "=r"(f));
  return f;
}
static inline void invlpg(const volatile void *p) { __asm__ volatile("invlpg (%0)" :: "r"(p) : "memory"); }
static inline void flush_tlb(void) { write_cr(3, read_cr(3)); }

/* A pointer to a fixed physical/linear address that the compiler cannot
 * reason about (no array-bounds or null-pointer assumptions). */
static inline void *phys_ptr(uintptr_t a) {
  void *p;
  __asm__("" : "=r"(p) : "0"(a));
  return p;
}

/* CPUID feature tests used to gate tests ("skip: ..." lines keep outputs
 * comparable across CPU models). */
int cpu_has(int leaf_reg, int bit);   /* see CPUID_* below */
#define CPUID_1_EDX 0
#define CPUID_1_ECX 1
#define CPUID_81_EDX 2
#define CPUID_81_ECX 3
#define CPUID_7_EBX 4

/* ---- descriptor tables ---- */
extern uint64_t gdt[GDT_ENTRIES];
/* Plain segment descriptor: access = P DPL S type byte (e.g. 0x9a ring-0
 * code, 0x92 ring-0 data), flags = G D/B L AVL nibble (e.g. 0xc). */
void gdt_set(int sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
/* Call gate (type 0xc): target selector:offset, gate DPL, dword/param count
 * (32-bit only). In 64-bit programs the gate takes two slots (sel, sel+8). */
void gdt_set_call_gate(int sel, uint16_t target_sel, ureg offset, int dpl, int params);
void gdt_clear(int sel);
/* IDT gate: type 0xe interrupt gate, 0xf trap gate, present flag. */
void idt_set(int vec, ureg handler, uint16_t sel, int type, int dpl, int present);
#ifdef __x86_64__
/* Selects an interrupt stack (TSS IST1..7; 0 = none) for a vector. IST1 is
 * the runtime's ist_stack (top: ist_stack_top). */
void idt_set_ist(int vec, int ist);
extern uint8_t ist_stack_top[];
#endif
/* The runtime's own stub for a vector (to restore a gate a test changed). */
ureg idt_stub(int vec);
void idt_reset(int vec);               /* restore the runtime's gate */
void reload_segments(void);            /* reload DS/ES/FS/GS/SS with ring-0 data */

/* TSS: ring-0 stack for transitions from ring 3, and the I/O permission
 * bitmap (all ports denied except those allowed with tss_io_allow). */
void tss_io_allow(uint16_t port, int allow);
ureg tss_get_sp0(void);

/* ---- traps ----
 * Exceptions (vectors 0-31) end in trap_dispatch(). When trap_resume is set
 * (see TRAP_BEGIN / TRAP_END), the exception is recorded in trap_* and the
 * program resumes at trap_resume (same ring, all general registers as they
 * were at the fault), and trap_resume is cleared. Otherwise it prints
 * "UNEXPECTED TRAP ..." and exits with status 0x7e. Vectors 0x40-0x4f
 * (DPL 3) and every other vector >= 32 only count (int_count,
 * int_last_vector). Vector 0x80 returns from run_user(). */
struct trap_frame {
#ifdef __x86_64__
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t bp, di, si, dx, cx, bx, ax;
#else
  uint32_t gs, fs, es, ds;
  uint32_t di, si, bp, pusha_sp, bx, dx, cx, ax;
#endif
  ureg vector, error;
  ureg ip, cs, flags;
  ureg sp, ss;        /* 32-bit: only present when the trap changed rings */
};
typedef int (*trap_hook_t)(struct trap_frame *f);
void set_trap_hook(trap_hook_t hook);   /* nonzero return = handled */

extern volatile ureg trap_resume, trap_expect_ip;
extern volatile ureg trap_count, trap_vector, trap_error, trap_ip, trap_cs, trap_cr2, trap_flags;
extern volatile ureg trap_sp;           /* stack pointer at the exception (before the frame) */
extern volatile ureg int_count, int_last_vector;
/* Clears the trap record (count, vector ...). */
void trap_clear(void);
/* Prints "<label>: #GP(0018) ip=+0" style lines, or "<label>: no trap",
 * then clears the record. ip is relative to the TRAP_BEGIN point. */
void print_trap(const char *label);
const char *vector_name(int vec);

/* Inline-asm bracket for an instruction that may fault. Use inside extended
 * asm only (they use %= for unique labels):
 *   __asm__ volatile(TRAP_BEGIN "ud2" TRAP_END ::: "memory");  */
#ifdef __x86_64__
#define TRAP_BEGIN "movq $.Lres%=, trap_resume(%%rip)\n\tmovq $.Lflt%=, trap_expect_ip(%%rip)\n.Lflt%=:\n\t"
#define TRAP_END   "\n.Lres%=:\n\tmovq $0, trap_resume(%%rip)\n\t"
#else
#define TRAP_BEGIN "movl $.Lres%=, trap_resume\n\tmovl $.Lflt%=, trap_expect_ip\n.Lflt%=:\n\t"
#define TRAP_END   "\n.Lres%=:\n\tmovl $0, trap_resume\n\t"
#endif

/* ---- ring 3 ----
 * run_user(fn, arg) runs fn(arg) in ring 3 (flat code/data, IF = 0,
 * IOPL = iopl, a private 16 KiB user stack) and returns its return value.
 * fn returns normally (into a stub that executes INT 0x80), or user code
 * can leave directly with INT 0x80 (value in EAX), SYSENTER (32-bit) or
 * SYSCALL (64-bit) with EAX = SYS_EXIT_TO_KERNEL and the value in EBX/RBX.
 * In 64-bit programs, run_user_compat runs fn in a 32-bit compat-mode code
 * segment (fn must then be 32-bit code, e.g. from a .code32 asm block). */
typedef ureg (*user_fn_t)(ureg arg);
ureg run_user(user_fn_t fn, ureg arg);
ureg run_user_iopl(user_fn_t fn, ureg arg, int iopl);
#ifdef __x86_64__
ureg run_user_compat(ureg fn, ureg arg);
#endif
extern uint8_t user_stack_top[];
/* SYSENTER (32-bit) and SYSCALL (64-bit) entry: EAX = SYS_ECHO returns
 * EBX/RDI + 1 in EAX through SYSEXIT / SYSRET; SYS_EXIT_TO_KERNEL ends
 * run_user. Enabled by sysenter_setup() / syscall_setup(). */
void sysenter_setup(void);
void syscall_setup(void);
extern volatile ureg sys_calls;         /* count of handled SYS_ECHO calls */
/* State at the last SYSCALL (64-bit) / SYSENTER (32-bit) entry: EFLAGS in
 * the kernel, and RCX/R11 (64-bit) or EDX/ECX (32-bit) as the user left them. */
extern volatile ureg sys_kernel_flags, sys_user_cx, sys_user_r11;

/* ---- paging ----
 * All helpers identity-map the first 128 MiB (user, writable) with 4 KiB
 * pages, unless a 64-bit program keeps crt64's 2 MiB pages. Page-table
 * memory comes from a static pool; map calls add or replace one 4 KiB
 * mapping anywhere (splitting a large page when needed). PTE flag bits: */
#define PTE_P   0x001ULL
#define PTE_W   0x002ULL
#define PTE_U   0x004ULL
#define PTE_PWT 0x008ULL
#define PTE_PCD 0x010ULL
#define PTE_A   0x020ULL
#define PTE_D   0x040ULL
#define PTE_PS  0x080ULL
#define PTE_G   0x100ULL
#define PTE_NX  0x8000000000000000ULL
#define IDENTITY_MB 128
#ifndef __x86_64__
/* 32-bit 2-level paging. pse: map the identity range with 4 MiB pages
 * (CR4.PSE) instead of 4 KiB ones. Enables CR0.PG (WP as given). */
void paging32_enable(int pse, int wp);
uint32_t *pte32(uint32_t va);           /* PTE (or 4 MiB PDE) for va */
void map32(uint32_t va, uint32_t pa, uint32_t flags);
/* PAE paging (CR4.PAE, 3-level, 64-bit entries). nxe sets EFER.NXE (only
 * if the CPU has NX). */
void paging_pae_enable(int wp, int nxe);
uint64_t *pte_pae(uint32_t va);
void map_pae(uint32_t va, uint64_t pa, uint64_t flags);
void paging_disable(void);             /* CR0.PG = 0, CR4.PAE/PSE = 0 */
#else
/* 4-level paging is already on (crt64: first 1 GiB, 2 MiB pages). */
uint64_t *pte64(uint64_t va);           /* leaf entry for va (4K, 2M or 1G) */
void map64(uint64_t va, uint64_t pa, uint64_t flags);
#endif
/* 4 KiB-aligned physical pages for tests, from a static pool (zeroed). */
void *alloc_page(void);

/* ---- real mode (32-bit programs only) ----
 * realmode_call copies the 16-bit code [code, code+len) to 0x9000 and
 * far-calls 0900:0000 in real mode (it must end with LRET). Registers come
 * from and go back to *r; DS = ES = 0x0900 on entry, SS:SP = 0000:7c00,
 * IDTR = real-mode IVT at 0 (the code may load its own). Paging must be off. */
struct rm_regs {
  uint32_t eax, ebx, ecx, edx, esi, edi, ebp, eflags;
  uint16_t ds, es;
};
#ifndef __x86_64__
void realmode_call(const void *code, size_t len, struct rm_regs *r);
#define RM_CODE_ADDR 0x9000
#endif

/* ---- freestanding string helpers (gcc may emit calls to these) ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NOINLINE __attribute__((noinline))

#endif
