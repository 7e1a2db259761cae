// x86: bits=64
/* Long-mode system behaviour: CPUID (vendor, LM/NX/SYSCALL/LAHF bits),
 * opcodes that are invalid in 64-bit mode (#UD), interrupt frames (always
 * SS:RSP, the CPU aligns RSP to 16 first, IST stacks), SYSCALL/SYSRET
 * (RCX = return RIP, R11 = RFLAGS, kernel RFLAGS masked by FMASK, SYSRET
 * restores RFLAGS), far CALL into a 32-bit compatibility-mode code segment
 * and far RET back, IRETQ and LRETQ within ring 0, and CR8.
 *
 * Not tested because QEMU 7.2 differs from the SDM: a non-canonical
 * address through RSP/RBP is #GP(0) there instead of #SS(0), and a jump to
 * a non-canonical address reports #GP at the target instead of at the
 * jump. */
#include "lib.h"

static volatile ureg hook_frame, hook_sp, hook_ss, hook_vec;
static int frame_hook(struct trap_frame *f) {
  if (f->vector != 0x44 && f->vector != 0x45) return 0;
  hook_frame = (ureg)f;
  hook_sp = f->sp;
  hook_ss = f->ss;
  hook_vec = f->vector;
  return 1;
}

static ureg user_syscall_flags(ureg arg) {
  ureg before, after, r;
  __asm__ volatile("pushfq\n\torq $0x8d5, (%%rsp)\n\tpopfq\n\tpushfq\n\tpopq %1\n\t"
                   "syscall\n\tpushfq\n\tpopq %2"
                   : "=a"(r), "=&r"(before), "=&r"(after) : "a"(SYS_ECHO), "D"(arg) : "rcx", "r11", "memory", "cc");
  return (before == after ? 0x1000000 : 0) | (r & 0xffff);
}

extern const char compat_code[];
__asm__(".text\n"
        ".code32\n"
        "compat_code:\n"          /* entered by a far call from 64-bit code */
        "  movl $0x32323232, %eax\n"
        "  movl %cs, %edx\n"
        "  .byte 0x48\n"          /* dec %eax in 32-bit code (a REX prefix in 64-bit) */
        "  lret\n"
        ".code64\n");

int main(void) {
  printf("== system64 ==\n");
  uint32_t r[4];
  cpuid(0, 0, r);
  char vendor[13];
  memcpy(vendor, &r[1], 4);
  memcpy(vendor + 4, &r[3], 4);
  memcpy(vendor + 8, &r[2], 4);
  vendor[12] = 0;
  printf("cpuid vendor: %s\n", vendor);
  cpuid(0x80000001u, 0, r);
  printf("cpuid 80000001: lm=%u nx=%u syscall=%u lahf=%u\n", (r[3] >> 29) & 1, (r[3] >> 20) & 1, (r[3] >> 11) & 1,
         r[2] & 1);
  printf("efer: sce=%d lme=%d lma=%d nxe=%d\n", (int)(rdmsr(MSR_EFER) & 1), (int)((rdmsr(MSR_EFER) >> 8) & 1),
         (int)((rdmsr(MSR_EFER) >> 10) & 1), (int)((rdmsr(MSR_EFER) >> 11) & 1));

  /* opcodes that do not exist in 64-bit mode */
  static const char *const names[] = { "push es", "pop es", "push cs", "push ss", "pop ss", "push ds", "pop ds",
                                       "daa", "das", "aaa", "aas", "pusha", "popa", "bound/evex", "call far ptr",
                                       "into", "aam", "aad", "salc", "jmp far ptr" };
#define INV(i, bytes) case i: __asm__ volatile(TRAP_BEGIN ".byte " bytes TRAP_END ::: "memory"); break;
  for (int i = 0; i < 20; i++) {
    trap_clear();
    switch (i) {
      INV(0, "0x06") INV(1, "0x07") INV(2, "0x0e") INV(3, "0x16") INV(4, "0x17") INV(5, "0x1e") INV(6, "0x1f")
      INV(7, "0x27") INV(8, "0x2f") INV(9, "0x37") INV(10, "0x3f") INV(11, "0x60") INV(12, "0x61")
      INV(13, "0x62, 0xc0") INV(14, "0x9a, 0, 0, 0, 0, 0x08, 0") INV(15, "0xce") INV(16, "0xd4, 0x0a")
      INV(17, "0xd5, 0x0a") INV(18, "0xd6") INV(19, "0xea, 0, 0, 0, 0, 0x08, 0")
    }
    print_trap(names[i]);
  }

  /* interrupt frames */
  set_trap_hook(frame_hook);
  ureg sp_before;
  __asm__ volatile("movq %%rsp, %0\n\tint $0x44" : "=r"(sp_before) :: "memory");
  printf("int 0x44 aligned rsp: ss=%lx sp==rsp %d frame%%16=%lu\n", hook_ss, hook_sp == sp_before, hook_frame & 15);
  __asm__ volatile("subq $8, %%rsp\n\tmovq %%rsp, %0\n\tint $0x44\n\taddq $8, %%rsp" : "=r"(sp_before) :: "memory");
  printf("int 0x44 misaligned rsp: sp==rsp %d sp%%16=%lu frame%%16=%lu\n", hook_sp == sp_before, hook_sp & 15,
         hook_frame & 15);
  idt_set_ist(0x45, 1);
  __asm__ volatile("subq $8, %%rsp\n\tint $0x45\n\taddq $8, %%rsp" ::: "memory");
  printf("int 0x45 via IST1: frame = ist_top - %ld\n", (long)((ureg)ist_stack_top - hook_frame));
  idt_set_ist(0x45, 0);
  set_trap_hook(0);

  /* SYSCALL / SYSRET */
  syscall_setup();
  ureg v = run_user(user_syscall_flags, 0x99);
  printf("syscall: result=%lx user flags preserved=%lu\n", v & 0xffff, v >> 24);
  printf("  kernel rflags=%03lx user r11=%03lx rcx==user rip %d\n", sys_kernel_flags & 0xfff, sys_user_r11 & 0xfff,
         sys_user_cx > 0x100000 && sys_user_cx < 0x800000);
  printf("  star=%016llx fmask=%llx\n", (unsigned long long)rdmsr(MSR_STAR), (unsigned long long)rdmsr(MSR_FMASK));

  /* far call into compatibility mode and back */
  static struct __attribute__((packed)) { uint32_t off; uint16_t sel; } fp32;
  fp32.off = (uint32_t)(uintptr_t)compat_code;
  fp32.sel = SEL_KCODE32;
  uint64_t a = 0xffffffffffffffffULL, d = 0;
  __asm__ volatile("lcall *%2" : "+a"(a), "+d"(d) : "m"(fp32) : "memory");
  printf("lcall m16:32 into compat mode: rax=%016lx cs there=%lx\n", a, d & 0xffff);

  /* IRETQ and LRETQ in ring 0 */
  uint64_t f;
  __asm__ volatile("movq %%rsp, %%rax\n\tpushq $0x10\n\tpushq %%rax\n\tpushq $0x8d7\n\tpushq $0x08\n\t"
                   "leaq 1f(%%rip), %%rax\n\tpushq %%rax\n\tiretq\n1: pushfq\n\tpopq %0"
                   : "=r"(f) :: "rax", "memory", "cc");
  printf("iretq same ring: rflags=%03lx\n", f & 0xfff);
  __asm__ volatile("pushq $0x08\n\tleaq 1f(%%rip), %%rax\n\tpushq %%rax\n\tlretq\n\tmovq $0, %0\n1: movq $0x64, %0"
                   : "=r"(a) :: "rax", "memory");
  printf("lretq: %lx\n", a);
  __asm__ volatile("pushq $0x40\n\tleaq 1f(%%rip), %%rax\n\tpushq %%rax\n\tlretq\n"
                   ".code32\n1: movl $0x3232, %%eax\n\tljmp $0x08, $2f\n.code64\n2:"
                   : "=a"(a) :: "memory");
  printf("lretq to a 32-bit segment, ljmp back: %lx\n", a & 0xffff);

  write_cr(8, 7);
  printf("cr8 after write 7: %lx\n", read_cr(8));
  write_cr(8, 0);
  printf("system64: done\n");
  return 0;
}
