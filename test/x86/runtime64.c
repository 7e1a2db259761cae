// x86: bits=64
/* The 64-bit runtime: the ELF32-wrapped 64-bit image reached long mode,
 * printf with 64-bit longs, trap recording in 64-bit mode, ring-3 runs in
 * 64-bit and compat mode (INT 0x80 and SYSCALL/SYSRET), and a chosen exit
 * status (main returns 4: QEMU exits with 9). */
#include "lib.h"

static ureg user_add(ureg x) { return x + 0x100000000ULL; }

static ureg user_hlt(ureg x) {
  __asm__ volatile(TRAP_BEGIN "hlt" TRAP_END ::: "memory");
  return x + trap_vector;
}

static ureg user_syscall(ureg x) {
  ureg r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(SYS_ECHO), "D"(x) : "rcx", "r11", "memory");
  return r;
}

static ureg user_syscall_exit(ureg x) {
  __asm__ volatile("syscall" :: "a"(SYS_EXIT_TO_KERNEL), "b"(x * 3) : "rcx", "r11", "memory");
  return 0;
}

/* 32-bit compat-mode user code: returns arg * 5 (+ a check that 64-bit
 * registers are not visible: dec %eax is 0x48, a REX prefix in 64-bit). */
extern const uint8_t compat_fn[];
__asm__(".text\n"
        ".code32\n"
        "compat_fn:\n"
        "  movl 4(%esp), %eax\n"
        "  leal (%eax,%eax,4), %eax\n"
        "  movl $1, %ecx\n"
        "  .byte 0x49\n"              /* dec %ecx in 32-bit code */
        "  addl %ecx, %eax\n"
        "  ret\n"
        ".code64\n");

int main(void) {
  printf("== runtime64 ==\n");
  printf("multiboot magic=%08x\n", (unsigned)mb_magic);
  uint64_t efer = rdmsr(MSR_EFER);
  printf("long mode: efer.lme=%d efer.lma=%d cr0.pg=%d cr4.pae=%d\n", (int)((efer >> 8) & 1),
         (int)((efer >> 10) & 1), (int)(read_cr(0) >> 31), (int)((read_cr(4) >> 5) & 1));
  uint16_t cs;
  __asm__ volatile("mov %%cs, %0" : "=r"(cs));
  printf("cs=%x\n", cs);

  printf("[%lx] [%lu] [%ld] [%llx] [%016lx] [%-18lx|]\n", 0xfedcba9876543210ul, 18446744073709551615ul,
         -9223372036854775807l - 1, 0x1ull, 0xabcul, 0x123ul);
  printf("[%d] [%x] [%5s] [%c] [%zu]\n", -1, 0xffffffffu, "ab", 'z', sizeof(long));

  __asm__ volatile(TRAP_BEGIN "ud2" TRAP_END ::: "memory");
  print_trap("ud2");
  __asm__ volatile(TRAP_BEGIN "int3" TRAP_END ::: "memory");
  print_trap("int3");
  uint64_t r12;
  __asm__ volatile("movabsq $0x1122334455667788, %%r12\n\t" TRAP_BEGIN "ud2" TRAP_END "movq %%r12, %0"
                   : "=r"(r12) :: "r12", "memory");
  printf("registers survive a trap: r12=%016lx\n", r12);
  trap_clear();
  /* A non-canonical address: #GP(0). */
  __asm__ volatile(TRAP_BEGIN "movq (%0), %%rax" TRAP_END :: "r"(0x0000800000000000ULL) : "rax", "memory");
  print_trap("non-canonical load");

  printf("user_add -> %lx\n", run_user(user_add, 0x23));
  printf("user_hlt -> %lx\n", run_user(user_hlt, 0x1000));
  print_trap("user hlt");
  syscall_setup();
  ureg echoed = run_user(user_syscall, 0x41);
  printf("user_syscall -> %lx calls=%lu\n", echoed, sys_calls);
  printf("user_syscall_exit -> %lx\n", run_user(user_syscall_exit, 0x21));
  printf("compat user -> %lx\n", run_user_compat((ureg)compat_fn, 7));
  uint16_t ss, ds;
  __asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1\n\tmov %%ds, %2" : "=r"(cs), "=r"(ss), "=r"(ds));
  printf("back in ring 0: cs=%x ss=%x ds=%x\n", cs, ss, ds);

  printf("exit with 4\n");
  return 4;
}
