// x86: bits=32
/* The 32-bit runtime itself: Multiboot hand-off, printf formatting, trap
 * recording and resumption, ring-3 runs (INT 0x80 and SYSENTER/SYSEXIT
 * returns), the I/O permission bitmap, a real-mode round trip, and a chosen
 * exit status (main returns 3: QEMU exits with 7). */
#include "lib.h"

struct mb_info {
  uint32_t flags, mem_lower, mem_upper;
};

static ureg user_add(ureg x) { return x + 0x100; }

static ureg user_cli(ureg x) {
  __asm__ volatile(TRAP_BEGIN "cli" TRAP_END ::: "memory");
  return x + trap_vector;
}

static ureg user_out(ureg x) {
  /* Port 0x80 (POST diagnostics): writing it has no visible effect. */
  __asm__ volatile(TRAP_BEGIN "outb %%al, $0x80" TRAP_END :: "a"(0) : "memory");
  return trap_count ? 0x1000 + trap_vector : 0x2000;
}

static ureg user_sysenter(ureg x) {
  ureg r;
  /* SYS_ECHO through SYSENTER; SYSEXIT returns to label 1 with ESP = ECX. */
  __asm__ volatile("movl %%esp, %%ecx\n\tmovl $1f, %%edx\n\tsysenter\n1:"
                   : "=a"(r) : "a"(SYS_ECHO), "b"(x) : "ecx", "edx", "memory");
  return r;
}

static ureg user_sysenter_exit(ureg x) {
  __asm__ volatile("sysenter" :: "a"(SYS_EXIT_TO_KERNEL), "b"(x * 2) : "memory");
  return 0; /* not reached */
}

/* Real-mode code: 16-bit arithmetic, a 32-bit operand-size op, segment
 * arithmetic, then LRET. Assembled as 16-bit code; position-independent. */
extern const uint8_t rm_blob[], rm_blob_end[];
__asm__(".section .rodata\n"
        ".code16\n"
        "rm_blob:\n"
        "  addw %bx, %ax\n"          /* ax = 0x1234 + 0x1111 */
        "  movl $0x89abcdef, %ecx\n"
        "  rorl $8, %ecx\n"
        "  movw $0x1000, %dx\n"
        "  movw %dx, %es\n"          /* es:0 = 0x10000 */
        "  movw $0x5a5a, %es:0\n"
        "  movw %es:0, %si\n"
        "  movw %cs, %di\n"          /* 0x0900 */
        "  stc\n"
        "  lret\n"
        "rm_blob_end:\n"
        ".code32\n"
        ".text\n");

int main(void) {
  printf("== runtime32 ==\n");
  const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)mb_info;
  /* mem_lower/mem_upper come from the firmware's memory map (SeaBIOS on
   * QEMU reports 639 and 129920 KiB for -m 128M): print only ranges. */
  printf("multiboot magic=%08x mem-valid=%d lower-ok=%d upper-ok=%d\n", (unsigned)mb_magic,
         (int)(mbi->flags & 1), mbi->mem_lower >= 512 && mbi->mem_lower <= 640,
         mbi->mem_upper >= 120 * 1024 && mbi->mem_upper <= 127 * 1024);

  /* printf */
  printf("[%d] [%i] [%u] [%x] [%X] [%o]\n", -123, 45, 4000000000u, 0xdeadbeef, 0xabcdef, 8);
  printf("[%5d] [%-5d] [%05d] [%+d] [% d] [%08x] [%-8x|]\n", 42, 42, -42, 7, 7, 0x1f, 0xab);
  printf("[%lx] [%llx] [%lld] [%llu] [%hhx] [%hx]\n", 0xfedcba98ul, 0x0123456789abcdefull,
         -0x7fffffffffffffffll - 1, 18446744073709551615ull, 0x1ff, 0x12345);
  printf("[%s] [%8s] [%-8s] [%c%c] [%%] [%*d]\n", "abc", "right", "left", 'o', 'k', 6, 99);
  char buf[16];
  int n = snprintf(buf, sizeof buf, "%s-%04x-%s", "snprintf", 0xbeef, "truncated");
  printf("snprintf n=%d buf=%s\n", n, buf);

  /* traps */
  __asm__ volatile(TRAP_BEGIN "ud2" TRAP_END ::: "memory");
  print_trap("ud2");
  __asm__ volatile(TRAP_BEGIN "int3" TRAP_END ::: "memory");
  print_trap("int3");
  __asm__ volatile(TRAP_BEGIN "nop" TRAP_END ::: "memory");
  print_trap("nop");
  uint32_t regs_after;
  __asm__ volatile("movl $0x11223344, %%esi\n\t" TRAP_BEGIN "ud2" TRAP_END "movl %%esi, %0"
                   : "=r"(regs_after) :: "esi", "memory");
  printf("registers survive a trap: esi=%08x\n", (unsigned)regs_after);
  trap_clear();
  __asm__ volatile("int $0x41" ::: "memory");
  __asm__ volatile("int $0x99" ::: "memory");
  printf("software interrupts: count=%lu last=%lx\n", (unsigned long)int_count, (unsigned long)int_last_vector);

  /* ring 3 */
  printf("user_add -> %lx\n", (unsigned long)run_user(user_add, 0x23));
  printf("user_cli -> %lx\n", (unsigned long)run_user(user_cli, 0x1000));
  print_trap("user cli");
  printf("user_out iopl0 -> %lx\n", (unsigned long)run_user(user_out, 0));
  trap_clear();
  tss_io_allow(0x80, 1);
  printf("user_out iopl0 bitmap-allowed -> %lx\n", (unsigned long)run_user(user_out, 0));
  tss_io_allow(0x80, 0);
  printf("user_out iopl3 -> %lx\n", (unsigned long)run_user_iopl(user_out, 0, 3));
  trap_clear();
  sysenter_setup();
  ureg echoed = run_user(user_sysenter, 0x41);
  printf("user_sysenter -> %lx calls=%lu\n", (unsigned long)echoed, (unsigned long)sys_calls);
  printf("user_sysenter_exit -> %lx\n", (unsigned long)run_user(user_sysenter_exit, 0x21));
  uint16_t cs, ss, ds;
  __asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1\n\tmov %%ds, %2" : "=r"(cs), "=r"(ss), "=r"(ds));
  printf("back in ring 0: cs=%x ss=%x ds=%x\n", cs, ss, ds);

  /* real mode */
  struct rm_regs r = { .eax = 0x1234, .ebx = 0x1111, .ds = 0x0900, .es = 0x0900 };
  realmode_call(rm_blob, (size_t)(rm_blob_end - rm_blob), &r);
  printf("real mode: ax=%04x ecx=%08x si=%04x di=%04x cf=%u es=%04x ds=%04x\n", r.eax & 0xffff,
         (unsigned)r.ecx, r.esi & 0xffff, r.edi & 0xffff, (unsigned)(r.eflags & 1), r.es, r.ds);
  printf("after real mode: cr0.pe=%lu\n", (unsigned long)(read_cr(0) & 1));

  printf("exit with 3\n");
  return 3;
}
