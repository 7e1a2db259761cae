// x86: bits=32
/* Control transfer, 32-bit code: near CALL/RET through registers and
 * memory, RET imm16, far JMP/CALL (direct ptr16:32 and indirect m16:32),
 * far RET with imm16, a far call into a 16-bit code segment returning with
 * a 32-bit far RET, LOOP/LOOPE/LOOPNE, JECXZ/JCXZ and the 16-bit count of
 * 0x67 LOOP, INT n from ring 0 and ring 3, INT3 versus INT 3 (CD 03), INTO,
 * INT n to a DPL-0 gate from ring 3 and to a not-present gate,
 * IRET with a hand-built frame, and call gates: from ring 3 to ring 0 with
 * two parameters copied to the ring-0 stack and a far RET imm16 back to
 * ring 3, from ring 0 to ring 0, and through a DPL-0 gate from ring 3. */
#include "lib.h"

#define SEL_GATE3   0x50   /* call gate, DPL 3 -> ring-0 gate_entry, 2 params */
#define SEL_GATE0   0x58   /* call gate, DPL 0 -> ring-0 gate_entry, 2 params */
#define SEL_CODE16  0x60   /* 16-bit code, base 0x7000 */

uint32_t gate_res[8];
extern void gate_entry(void);
extern const uint8_t code16[], code16_end[];

__asm__(".text\n"
        "gate_entry:\n"                       /* ring 0 after a call gate */
        "  movl %cs, %eax\n"
        "  movl %eax, gate_res\n"
        "  movl 8(%esp), %eax\n"              /* first parameter */
        "  movl %eax, gate_res+4\n"
        "  movl 12(%esp), %eax\n"             /* second parameter */
        "  movl %eax, gate_res+8\n"
        "  movl 4(%esp), %eax\n"              /* caller CS */
        "  movl %eax, gate_res+12\n"
        "  movl %ss, %eax\n"
        "  movl %eax, gate_res+16\n"
        "  movl %esp, gate_res+20\n"
        "  movl 20(%esp), %eax\n"             /* caller SS (only if the ring changed) */
        "  movl %eax, gate_res+24\n"
        "  lret $8\n"
        /* 16-bit code, copied to 0x7000 and entered at offset 0 by a 32-bit
         * far call: returns with a 32-bit far RET (66 CB). */
        ".section .rodata\n"
        ".code16\n"
        "code16:\n"
        "  movw $0x1616, %ax\n"
        "  movl $0x87654321, %ebx\n"
        "  movw %cs, %cx\n"
        "  lretl\n"
        "code16_end:\n"
        ".code32\n"
        ".text\n");

/* ring-3 callers */
static ureg user_gate3(ureg arg) {
  ureg r;
  /* returns ESP after the far return minus ESP before pushing the parameters */
  __asm__ volatile("movl %%esp, %0\n\tpushl $0x2222\n\tpushl %1\n\tlcall $0x53, $0\n\tsubl %%esp, %0\n\tnegl %0"
                   : "=&r"(r) : "r"(arg) : "eax", "memory");
  return r;
}
static ureg user_gate0(ureg arg) {
  (void)arg;
  __asm__ volatile(TRAP_BEGIN "pushl $0\n\tpushl $0\n\tlcall $0x5b, $0" TRAP_END "addl $8, %%esp" ::: "eax", "memory");
  return trap_vector;
}
static ureg user_int41(ureg arg) {
  __asm__ volatile("int $0x41" ::: "memory");
  return arg;
}
static ureg user_int_dpl0(ureg arg) {
  (void)arg;
  __asm__ volatile(TRAP_BEGIN "int $0x30" TRAP_END ::: "memory");
  return trap_error;
}
static ureg user_int3(ureg arg) {
  (void)arg;
  __asm__ volatile(TRAP_BEGIN "int3" TRAP_END ::: "memory");
  ureg v = trap_vector * 0x100 + (trap_ip - trap_expect_ip);
  __asm__ volatile(TRAP_BEGIN ".byte 0xcd, 0x03" TRAP_END ::: "memory");
  return v * 0x10000 + trap_vector * 0x100 + (trap_ip - trap_expect_ip);
}

static NOINLINE uint32_t near_tests(void) {
  uint32_t r, s1, s2;
  /* call through a register and through memory; ret imm16 */
  __asm__ volatile("jmp 2f\n"
                   "1: movl $0x11, %%eax\n\tret\n"
                   "3: movl 4(%%esp), %%eax\n\taddl 8(%%esp), %%eax\n\tret $8\n"
                   "2: movl $1b, %%ecx\n\tcall *%%ecx\n\tmovl %%eax, %0\n\t"
                   "movl %%esp, %%edx\n\tpushl $0x200\n\tpushl $0x30\n\tcall 3b\n\tsubl %%esp, %%edx\n\t"
                   "movl %%eax, %1\n\tmovl %%edx, %2"
                   : "=m"(r), "=m"(s1), "=m"(s2) :: "eax", "ecx", "edx", "memory");
  printf("near call *reg -> %x; ret $8 -> %x, esp delta %d\n", (unsigned)r, (unsigned)s1, (int)s2);
  static uint32_t target;
  __asm__ volatile("movl $1f, %1\n\tcall *%1\n\tjmp 2f\n1: movl $0x22, %%eax\n\tret\n2:" : "=a"(r), "=m"(target) :: "memory");
  printf("near call *mem -> %x\n", (unsigned)r);
  __asm__ volatile("movl $1f, %1\n\tjmp *%1\n\tmovl $0, %%eax\n\tjmp 2f\n1: movl $0x33, %%eax\n2:" : "=a"(r), "=m"(target) :: "memory");
  printf("near jmp *mem -> %x\n", (unsigned)r);
  return r;
}

static void far_tests(void) {
  uint32_t r, cs;
  __asm__ volatile("ljmp $0x08, $1f\n\tmovl $0, %%eax\n\tjmp 2f\n1: movl $0x44, %%eax\n2:" : "=a"(r));
  printf("ljmp ptr16:32 -> %x\n", (unsigned)r);
  static struct __attribute__((packed)) { uint32_t off; uint16_t sel; } fp;
  __asm__ volatile("movl $1f, %1\n\tmovw $0x08, %2\n\tljmp *%1\n\tmovl $0, %%eax\n\tjmp 2f\n1: movl $0x55, %%eax\n2:"
                   : "=a"(r), "=m"(fp.off), "=m"(fp.sel) :: "memory");
  printf("ljmp m16:32 -> %x\n", (unsigned)r);
  uint32_t d;
  __asm__ volatile("jmp 2f\n1: movl %%cs, %%eax\n\tmovl 4(%%esp), %%ecx\n\tlret $4\n"
                   "2: movl %%esp, %%edx\n\tpushl $0x99\n\tlcall $0x08, $1b\n\tsubl %%esp, %%edx"
                   : "=a"(cs), "=d"(d) :: "ecx", "memory");
  printf("lcall ptr16:32 / lret $4: cs=%x esp delta %d\n", (unsigned)cs, (int)d);
  __asm__ volatile("jmp 2f\n1: movl 4(%%esp), %%eax\n\tlret\n"
                   "2: movl $1b, %1\n\tmovw $0x08, %2\n\tlcall *%1" : "=a"(r), "=m"(fp.off), "=m"(fp.sel) :: "memory");
  printf("lcall m16:32 pushed cs=%x\n", (unsigned)r);

  /* a 16-bit code segment at 0x7000 */
  memcpy(phys_ptr(0x7000), code16, (size_t)(code16_end - code16));
  gdt_set(SEL_CODE16, 0x7000, 0xffff, 0x9a, 0x0);
  uint32_t a, b, c;
  __asm__ volatile("lcall $0x60, $0" : "=a"(a), "=b"(b), "=c"(c) :: "memory");
  printf("lcall into 16-bit code: ax=%04x ebx=%08x cs there=%04x\n", (unsigned)(a & 0xffff), (unsigned)b,
         (unsigned)(c & 0xffff));
}

static void loop_tests(void) {
  uint32_t n, c;
  __asm__ volatile("xorl %0, %0\n\tmovl $5, %%ecx\n1: incl %0\n\tloop 1b" : "=&r"(n), "=c"(c));
  printf("loop ecx=5: iterations=%u ecx=%x\n", (unsigned)n, (unsigned)c);
  /* loope: stop when ZF = 0 (the 3rd compare differs) */
  __asm__ volatile("xorl %0, %0\n\tmovl $10, %%ecx\n1: incl %0\n\tcmpl $3, %0\n\tloopne 1b" : "=&r"(n), "=c"(c) :: "cc");
  printf("loopne until n==3: n=%u ecx=%u\n", (unsigned)n, (unsigned)c);
  __asm__ volatile("xorl %0, %0\n\tmovl $10, %%ecx\n1: incl %0\n\tcmpl $4, %0\n\tloope 1b" : "=&r"(n), "=c"(c) :: "cc");
  printf("loope while n==4 (exits at once): n=%u ecx=%u\n", (unsigned)n, (unsigned)c);
  __asm__ volatile("xorl %0, %0\n\tmovl $3, %%ecx\n1: incl %0\n\tcmpl %0, %0\n\tloope 1b" : "=&r"(n), "=c"(c) :: "cc");
  printf("loope while equal: n=%u ecx=%u\n", (unsigned)n, (unsigned)c);
  __asm__ volatile("xorl %0, %0\n\tmovl $0x12340003, %%ecx\n1: incl %0\n\t.byte 0x67\n\tloop 1b" : "=&r"(n), "=c"(c));
  printf("addr16 loop (cx=3): n=%u ecx=%08x\n", (unsigned)n, (unsigned)c);
  __asm__ volatile("movl $1, %0\n\tjecxz 1f\n\tmovl $2, %0\n1:" : "=&r"(n) : "c"(0));
  printf("jecxz ecx=0 -> %u\n", (unsigned)n);
  __asm__ volatile("movl $1, %0\n\tjecxz 1f\n\tmovl $2, %0\n1:" : "=&r"(n) : "c"(0x10000));
  printf("jecxz ecx=10000 -> %u\n", (unsigned)n);
  __asm__ volatile("movl $1, %0\n\t.byte 0x67\n\tjecxz 1f\n\tmovl $2, %0\n1:" : "=&r"(n) : "c"(0x10000));
  printf("jcxz ecx=10000 -> %u\n", (unsigned)n);
}

static void int_tests(void) {
  trap_clear();
  int_count = 0;
  __asm__ volatile("int $0x42" ::: "memory");
  printf("int 0x42 ring 0: count=%lu last=%lx\n", (unsigned long)int_count, (unsigned long)int_last_vector);
  run_user(user_int41, 0);
  printf("int 0x41 ring 3: count=%lu last=%lx\n", (unsigned long)int_count, (unsigned long)int_last_vector);
  ureg e = run_user(user_int_dpl0, 0);
  printf("int 0x30 (DPL 0 gate) from ring 3: error=%04lx\n", (unsigned long)e);
  print_trap("  trap");
  ureg v = run_user(user_int3, 0);
  printf("ring 3: int3 vec/ip-delta=%04lx, int 3 (cd 03) vec/ip-delta=%04lx\n", (unsigned long)(v >> 16),
         (unsigned long)(v & 0xffff));
  trap_clear();
  __asm__ volatile("movb $0x7f, %%al\n\taddb $1, %%al\n\t" TRAP_BEGIN "into" TRAP_END ::: "eax", "cc", "memory");
  print_trap("into with OF=1");
  __asm__ volatile("xorl %%eax, %%eax\n\t" TRAP_BEGIN "into" TRAP_END ::: "eax", "cc", "memory");
  print_trap("into with OF=0");
  /* Not tested: INT1/ICEBP (F1). QEMU 7.2 raises #UD for it; hardware
   * raises #DB. */
  idt_set(0x43, idt_stub(0x43), SEL_KCODE, 0xe, 0, 0);
  __asm__ volatile(TRAP_BEGIN "int $0x43" TRAP_END ::: "memory");
  print_trap("int 0x43 (not-present gate)");
  idt_reset(0x43);
}

static void iret_tests(void) {
  uint32_t r, f;
  __asm__ volatile("pushl $0x8d7\n\tpushl $0x08\n\tpushl $1f\n\tiret\n1: pushf\n\tpopl %1\n\tmovl $0x66, %0"
                   : "=r"(r), "=r"(f) :: "cc", "memory");
  printf("iret same ring: r=%x flags=%03x\n", (unsigned)r, (unsigned)(f & 0xfff));
  /* IRET into the 16-bit code segment at 0x7000 (CS base 0x7000), which
   * returns with a 32-bit far RET: the frame's EFLAGS are restored */
  uint32_t a;
  __asm__ volatile("pushl $0x08\n\tpushl $1f\n\t"          /* where code16's lretl returns */
                   "pushl $0x0c3\n\tpushl $0x60\n\tpushl $0\n\tiret\n1: pushf\n\tpopl %1"
                   : "=a"(a), "=r"(f) :: "ebx", "ecx", "cc", "memory");
  printf("iret into 16-bit code segment: ax=%04x flags=%03x\n", (unsigned)(a & 0xffff), (unsigned)(f & 0xfff));
}

static void gate_tests(void) {
  gdt_set_call_gate(SEL_GATE3, SEL_KCODE, (ureg)gate_entry, 3, 2);
  gdt_set_call_gate(SEL_GATE0, SEL_KCODE, (ureg)gate_entry, 0, 2);
  memset(gate_res, 0, sizeof gate_res);
  ureg sp_after = run_user(user_gate3, 0x1111);
  printf("call gate ring 3 -> 0: cs=%x params=%x,%x caller cs=%x ss=%x esp=trap_stack%+d caller ss=%x\n",
         (unsigned)gate_res[0] & 0xffff, (unsigned)gate_res[1], (unsigned)gate_res[2], (unsigned)gate_res[3] & 0xffff,
         (unsigned)gate_res[4] & 0xffff, (int)(gate_res[5] - tss_get_sp0()), (unsigned)gate_res[6] & 0xffff);
  printf("  back in ring 3: esp after lret $8 - esp before the pushes = %d\n", (int)sp_after);
  memset(gate_res, 0, sizeof gate_res);
  __asm__ volatile("pushl $0xbbbb\n\tpushl $0xaaaa\n\tlcall $0x58, $0" ::: "eax", "memory");
  printf("call gate ring 0 -> 0: cs=%x params=%x,%x caller cs=%x\n", (unsigned)gate_res[0] & 0xffff,
         (unsigned)gate_res[1], (unsigned)gate_res[2], (unsigned)gate_res[3] & 0xffff);
  ureg v = run_user(user_gate0, 0);
  printf("DPL-0 call gate from ring 3: vector %lu\n", (unsigned long)v);
  print_trap("  trap");
}

int main(void) {
  printf("== control32 ==\n");
  near_tests();
  far_tests();
  loop_tests();
  int_tests();
  iret_tests();
  gate_tests();
  printf("control32: done\n");
  return 0;
}
