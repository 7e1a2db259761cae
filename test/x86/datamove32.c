// x86: bits=32
/* Data movement and addressing, 32-bit code: MOVZX/MOVSX, CBW CWDE CWD CDQ,
 * LEA with every 32-bit addressing form (SIB, no base, EBP base, scaled
 * index, wrap-around) and every 16-bit form (0x67: BX/BP + SI/DI, disp16,
 * 64 KiB wrap), LEA with a 16-bit destination, ENTER with nesting levels
 * 0-3 and 33 (level is taken mod 32) and LEAVE, PUSHA/POPA and their 16-bit
 * forms, PUSHF/POPF (which EFLAGS bits ring 0 can change; ring 3 cannot
 * change IOPL or IF), LAHF/SAHF, XLAT, MOV from segment registers, PUSH
 * imm8/imm32 and segment registers, multi-byte NOPs and PREFETCH hints. */
#include "lib.h"

#define LEA32(desc, expr)                                                                          \
  do {                                                                                             \
    uint32_t r;                                                                                    \
    __asm__ volatile("push %%ebp\n\tmovl $0x11110010, %%ebx\n\tmovl $0x22220fff, %%esi\n\t"         \
                     "movl $0x3333f001, %%edi\n\tmovl $0x44448000, %%ecx\n\tmovl $0xffffffff, %%edx\n\t" \
                     "movl $0x00001234, %%ebp\n\tlea " expr ", %%eax\n\tpop %%ebp"                  \
                     : "=a"(r) :: "ebx", "ecx", "edx", "esi", "edi");                               \
    printf("lea %-26s = %08x\n", desc, (unsigned)r);                                               \
  } while (0)

#define LEA16(desc, expr)                                                                          \
  do {                                                                                             \
    uint32_t r;                                                                                    \
    __asm__ volatile("push %%ebp\n\tmovl $0xaaaa8010, %%ebx\n\tmovl $0xbbbb9fff, %%esi\n\t"         \
                     "movl $0xcccc0002, %%edi\n\tmovl $0xddddfff0, %%ebp\n\tmovl $0x55555555, %%eax\n\t" \
                     "lea " expr ", %%eax\n\tpop %%ebp"                                             \
                     : "=a"(r) :: "ebx", "esi", "edi");                                             \
    printf("lea16 %-24s = %08x\n", desc, (unsigned)r);                                             \
  } while (0)

static void lea_tests(void) {
  LEA32("(%ebx)", "(%%ebx)");
  LEA32("0x7f(%ebx)", "0x7f(%%ebx)");
  LEA32("-0x80(%ebx)", "-0x80(%%ebx)");
  LEA32("0x12345(%ebx)", "0x12345(%%ebx)");
  LEA32("(%ebx,%esi)", "(%%ebx,%%esi)");
  LEA32("(%ebx,%esi,2)", "(%%ebx,%%esi,2)");
  LEA32("4(%ebx,%esi,8)", "4(%%ebx,%%esi,8)");
  LEA32("(,%esi,4)", "(,%%esi,4)");
  LEA32("0x100(,%edi,8)", "0x100(,%%edi,8)");
  LEA32("(%ebp)", "(%%ebp)");
  LEA32("0x10(%ebp,%ecx,1)", "0x10(%%ebp,%%ecx,1)");
  LEA32("0x1000", "0x1000");
  LEA32("(%edx,%edx,4)", "(%%edx,%%edx,4)");
  LEA32("0xffffffff(%edx)", "0xffffffff(%%edx)");
  LEA32("-1(%ecx,%edi,2)", "-1(%%ecx,%%edi,2)");
  LEA32("0(%ebx,%ebx,1)", "0(%%ebx,%%ebx,1)");
  /* 16-bit address size (0x67) */
  LEA16("(%bx,%si)", "(%%bx,%%si)");
  LEA16("(%bx,%di)", "(%%bx,%%di)");
  LEA16("(%bp,%si)", "(%%bp,%%si)");
  LEA16("(%bp,%di)", "(%%bp,%%di)");
  LEA16("(%si)", "(%%si)");
  LEA16("(%di)", "(%%di)");
  LEA16("0x1234 (disp16)", "0x1234");
  LEA16("(%bx)", "(%%bx)");
  LEA16("0x7f(%bx,%si)", "0x7f(%%bx,%%si)");
  LEA16("-1(%bp,%di)", "-1(%%bp,%%di)");
  LEA16("0x8000(%bx,%si)", "0x8000(%%bx,%%si)");
  LEA16("(%bp) (disp8 0)", "(%%bp)");
  /* 16-bit destination: only AX changes */
  uint32_t r = 0x99999999;
  __asm__ volatile("movl $0x12345678, %%ebx\n\tleaw 0x1111(%%ebx), %%ax" : "+a"(r) :: "ebx");
  printf("leaw 0x1111(%%ebx),%%ax = %08x\n", (unsigned)r);
}

static void extend_tests(void) {
  uint32_t r;
  r = 0xdeadbeef;
  __asm__ volatile("movzbl %b1, %0" : "=r"(r) : "q"(0x80));
  printf("movzx r32,r8 = %08x\n", (unsigned)r);
  __asm__ volatile("movsbl %b1, %0" : "=r"(r) : "q"(0x80));
  printf("movsx r32,r8 = %08x\n", (unsigned)r);
  __asm__ volatile("movswl %w1, %0" : "=r"(r) : "r"(0x8001));
  printf("movsx r32,r16 = %08x\n", (unsigned)r);
  __asm__ volatile("movzwl %w1, %0" : "=r"(r) : "r"(0xffff8001));
  printf("movzx r32,r16 = %08x\n", (unsigned)r);
  r = 0x12345678;
  __asm__ volatile("movsbw %b1, %w0" : "+r"(r) : "q"(0xf0));
  printf("movsx r16,r8 = %08x\n", (unsigned)r);
  r = 0x12345678;
  __asm__ volatile("movzbw %b1, %w0" : "+r"(r) : "q"(0xf0));
  printf("movzx r16,r8 = %08x\n", (unsigned)r);
  static volatile uint8_t mb = 0xfe;
  static volatile uint16_t mw = 0x8000;
  __asm__ volatile("movsbl %1, %0" : "=r"(r) : "m"(mb));
  printf("movsx r32,m8 = %08x\n", (unsigned)r);
  __asm__ volatile("movzwl %1, %0" : "=r"(r) : "m"(mw));
  printf("movzx r32,m16 = %08x\n", (unsigned)r);
  __asm__ volatile("movzbl %%ah, %0" : "=r"(r) : "a"(0x1234abcd));
  printf("movzx r32,ah = %08x\n", (unsigned)r);

  uint32_t a, d;
  a = 0x12345680; __asm__ volatile("cbtw" : "+a"(a));
  printf("cbw  80 -> %08x\n", (unsigned)a);
  a = 0x1234567f; __asm__ volatile("cbtw" : "+a"(a));
  printf("cbw  7f -> %08x\n", (unsigned)a);
  a = 0x12348000; __asm__ volatile("cwtl" : "+a"(a));
  printf("cwde 8000 -> %08x\n", (unsigned)a);
  a = 0xffff7fff; __asm__ volatile("cwtl" : "+a"(a));
  printf("cwde 7fff -> %08x\n", (unsigned)a);
  a = 0x00008000; d = 0x12345678; __asm__ volatile("cwtd" : "+a"(a), "+d"(d));
  printf("cwd  8000 -> dx:ax %08x:%08x\n", (unsigned)d, (unsigned)a);
  a = 0x80000000; d = 0x12345678; __asm__ volatile("cltd" : "+a"(a), "+d"(d));
  printf("cdq  80000000 -> %08x:%08x\n", (unsigned)d, (unsigned)a);
  a = 0x7fffffff; d = 0x12345678; __asm__ volatile("cltd" : "+a"(a), "+d"(d));
  printf("cdq  7fffffff -> %08x:%08x\n", (unsigned)d, (unsigned)a);
}

/* ENTER/LEAVE on a private stack with a fake frame chain at EBP. */
uint32_t enter_stack[32], enter_chain[8], enter_res[4], enter_saved_esp;
#define ENTER_TEST(size, level)                                                                     \
  do {                                                                                             \
    for (int i = 0; i < 32; i++) enter_stack[i] = 0xee000000u + i;                                 \
    for (int i = 0; i < 8; i++) enter_chain[i] = 0xc0000000u + i;                                  \
    __asm__ volatile("push %%ebp\n\tmovl %%esp, enter_saved_esp\n\t"                                \
                     "movl $enter_stack+128, %%esp\n\tmovl $enter_chain+28, %%ebp\n\t"             \
                     "enter $" #size ", $" #level "\n\t"                                            \
                     "movl %%esp, enter_res\n\tmovl %%ebp, enter_res+4\n\t"                         \
                     "leave\n\tmovl %%esp, enter_res+8\n\tmovl %%ebp, enter_res+12\n\t"             \
                     "movl enter_saved_esp, %%esp\n\tpop %%ebp" ::: "memory");                      \
    printf("enter %u,%u: esp=stk%+d ebp=stk%+d leave: esp=stk%+d ebp=chain%+d stack:", size, level, \
           (int)(enter_res[0] - (uint32_t)&enter_stack[32]), (int)(enter_res[1] - (uint32_t)&enter_stack[32]), \
           (int)(enter_res[2] - (uint32_t)&enter_stack[32]), (int)(enter_res[3] - (uint32_t)&enter_chain[0])); \
    for (int i = 24; i < 32; i++) {                                                                \
      uint32_t v = enter_stack[i];                                                                 \
      if (v >= (uint32_t)enter_stack && v <= (uint32_t)&enter_stack[32]) printf(" stk%+d", (int)(v - (uint32_t)&enter_stack[32])); \
      else if (v >= (uint32_t)enter_chain && v <= (uint32_t)&enter_chain[8]) printf(" chain%+d", (int)(v - (uint32_t)enter_chain)); \
      else printf(" %08x", (unsigned)v);                                                           \
    }                                                                                              \
    printf("\n");                                                                                  \
  } while (0)

static void enter_tests(void) {
  ENTER_TEST(0, 0);
  ENTER_TEST(16, 0);
  ENTER_TEST(8, 1);
  ENTER_TEST(8, 2);
  ENTER_TEST(4, 3);
  ENTER_TEST(0, 33);
}

uint32_t pa_stack[16], pa_res[8], pa_saved_esp, pa_orig_esp;
static void pusha_tests(void) {
  for (int i = 0; i < 16; i++) pa_stack[i] = 0xee;
  __asm__ volatile("pushal\n\tmovl %%esp, pa_saved_esp\n\tmovl $pa_stack+64, %%esp\n\t"
                   "movl $0xa1, %%eax\n\tmovl $0xc1, %%ecx\n\tmovl $0xd1, %%edx\n\tmovl $0xb1, %%ebx\n\t"
                   "movl $0x51, %%esi\n\tmovl $0xd2, %%edi\n\tmovl $0xbb, %%ebp\n\t"
                   "pushal\n\t"
                   "movl 12(%%esp), %%eax\n\tmovl %%eax, pa_orig_esp\n\t"
                   "movl $0x99, 12(%%esp)\n\t"  /* the saved ESP slot: POPA skips it */
                   "movl $0x0e0f, 0(%%esp)\n\t" /* EDI slot */
                   "popal\n\t"
                   "movl %%eax, pa_res\n\tmovl %%ecx, pa_res+4\n\tmovl %%edx, pa_res+8\n\tmovl %%ebx, pa_res+12\n\t"
                   "movl %%esp, pa_res+16\n\tmovl %%ebp, pa_res+20\n\tmovl %%esi, pa_res+24\n\tmovl %%edi, pa_res+28\n\t"
                   "movl pa_saved_esp, %%esp\n\tpopal" ::: "memory");
  printf("pusha image:");
  for (int i = 8; i < 16; i++) {
    uint32_t v = pa_stack[i];
    if (i == 11) printf(" esp=stk%+d", (int)(pa_orig_esp - (uint32_t)&pa_stack[16]));
    else printf(" %02x", (unsigned)v);
  }
  printf("\npopa: eax=%x ecx=%x edx=%x ebx=%x esp=stk%+d ebp=%x esi=%x edi=%x\n", (unsigned)pa_res[0],
         (unsigned)pa_res[1], (unsigned)pa_res[2], (unsigned)pa_res[3], (int)(pa_res[4] - (uint32_t)&pa_stack[16]),
         (unsigned)pa_res[5], (unsigned)pa_res[6], (unsigned)pa_res[7]);
  /* 16-bit PUSHA: 8 words */
  for (int i = 0; i < 16; i++) pa_stack[i] = 0xeeeeeeee;
  __asm__ volatile("pushal\n\tmovl %%esp, pa_saved_esp\n\tmovl $pa_stack+64, %%esp\n\t"
                   "movl $0x1111aaaa, %%eax\n\tmovl $0x2222cccc, %%ecx\n\tmovl $0x3333dddd, %%edx\n\t"
                   "movl $0x4444bbbb, %%ebx\n\tmovl $0x5555eeee, %%esi\n\tmovl $0x6666ffff, %%edi\n\tmovl $0x77771234, %%ebp\n\t"
                   "pushaw\n\tmovl %%esp, pa_res\n\tmovw $0x4321, 0(%%esp)\n\tpopaw\n\tmovl %%edi, pa_res+4\n\tmovl %%esp, pa_res+8\n\t"
                   "movl pa_saved_esp, %%esp\n\tpopal" ::: "memory");
  const uint16_t *w = (const uint16_t *)&pa_stack[12];
  printf("pushaw image:");
  for (int i = 0; i < 8; i++) printf(" %04x", i == 3 ? 0 : w[i]);
  printf(" (sp slot=%s)\npopaw: edi=%08x esp=stk%+d\n",
         w[3] == (uint16_t)(uint32_t)&pa_stack[16] ? "original sp" : "other", (unsigned)pa_res[1],
         (int)(pa_res[2] - (uint32_t)&pa_stack[16]));
}

static ureg user_popf(ureg v) {
  ureg f;
  __asm__ volatile("push %1\n\tpopf\n\tpushf\n\tpop %0" : "=r"(f) : "r"(v) : "cc");
  return f;
}

static void flags_tests(void) {
  ureg f, saved = read_flags();
  /* everything but TF (8) and IF (9), in ring 0 */
  __asm__ volatile("push %1\n\tpopf\n\tpushf\n\tpop %0" : "=r"(f) : "r"((ureg)0xfffffcff) : "cc");
  __asm__ volatile("push %0\n\tpopf" :: "r"(saved) : "cc");
  printf("ring 0 popf ~(TF|IF) -> %08lx\n", (unsigned long)f);
  __asm__ volatile("push %1\n\tpopf\n\tpushf\n\tpop %0" : "=r"(f) : "r"((ureg)0) : "cc");
  __asm__ volatile("push %0\n\tpopf" :: "r"(saved) : "cc");
  printf("ring 0 popf 0 -> %08lx\n", (unsigned long)f);
  printf("ring 3 iopl 0 popf 0x3202|arith -> %08lx\n", (unsigned long)run_user(user_popf, 0x3ad7));
  /* with IOPL 3, ring 3 may change IF (not tried: no interrupt may arrive) but still not IOPL */
  printf("ring 3 iopl 3 popf 0x00d7 -> %08lx\n", (unsigned long)run_user_iopl(user_popf, 0x0d7, 3));
  /* 16-bit POPF leaves the upper EFLAGS half alone */
  __asm__ volatile("push %1\n\tpopf\n\tpushw $0x08d7\n\tpopfw\n\tpushf\n\tpop %0" : "=r"(f) : "r"((ureg)0x40000) : "cc");
  __asm__ volatile("push %0\n\tpopf" :: "r"(saved) : "cc");
  printf("popfw 08d7 with AC set -> %08lx\n", (unsigned long)f);

  uint32_t a = 0xff00;
  __asm__ volatile("sahf\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc");
  printf("sahf ff -> flags %03lx\n", (unsigned long)(f & 0xfff));
  a = 0x2a00;
  __asm__ volatile("sahf\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc");
  printf("sahf 2a -> flags %03lx\n", (unsigned long)(f & 0xfff));
  a = 0x12345678;
  __asm__ volatile("push %1\n\tpopf\n\tlahf" : "+a"(a) : "r"((ureg)0x8d7) : "cc");
  printf("lahf (flags 8d7) -> eax %08x\n", (unsigned)a);
  a = 0x12345678;
  __asm__ volatile("push %1\n\tpopf\n\tlahf" : "+a"(a) : "r"((ureg)0x002) : "cc");
  printf("lahf (flags 002) -> eax %08x\n", (unsigned)a);
}

static uint8_t xlat_table[256];

static void misc_tests(void) {
  for (int i = 0; i < 256; i++) xlat_table[i] = (uint8_t)(255 - i * 3);
  uint32_t a = 0xabcd0080;
  __asm__ volatile("xlat" : "+a"(a) : "b"(xlat_table));
  printf("xlat al=80 -> %08x\n", (unsigned)a);
  a = 0xabcd00ff;
  __asm__ volatile("xlat" : "+a"(a) : "b"(xlat_table));
  printf("xlat al=ff -> %08x\n", (unsigned)a);
  gdt_set(0x48, (uint32_t)&xlat_table[16], 0xfffff, 0x92, 0xc);
  a = 0x01;
  __asm__ volatile("movw $0x48, %%cx\n\tmovw %%cx, %%fs\n\txlat %%fs:(%%ebx)\n\tmovw $0x10, %%cx\n\tmovw %%cx, %%fs"
                   : "+a"(a) : "b"(0) : "ecx");
  printf("fs: xlat (fs base = table+16) al=01 -> %08x\n", (unsigned)a);

  uint32_t r = 0xffffffff;
  __asm__ volatile("movl %%ds, %0" : "+r"(r));
  printf("mov r32,ds -> %08x\n", (unsigned)r);
  r = 0xffffffff;
  __asm__ volatile("movw %%cs, %w0" : "+r"(r));
  printf("mov r16,cs -> %08x\n", (unsigned)r);
  static volatile union { uint32_t d; uint16_t w; } m = { 0xffffffff };
  __asm__ volatile("movw %%ss, %0" : "=m"(m.w));
  printf("mov m16,ss -> %08x\n", (unsigned)m.d);

  uint32_t lo, hi, lo2;
  __asm__ volatile("movl %%esp, %%ecx\n\tpushl $-2\n\tpushl $0x12345678\n\tpushw $0x7777\n\t"
                   "popw %%dx\n\tpopl %%eax\n\tpopl %%ebx\n\tsubl %%esp, %%ecx"
                   : "=a"(lo), "=b"(hi), "=d"(lo2), "=c"(r));
  printf("push imm8 -2 / imm32 / pushw: %08x %08x %04x esp delta %d\n", (unsigned)hi, (unsigned)lo,
         (unsigned)(lo2 & 0xffff), (int)r);
  __asm__ volatile("movl %%esp, %%ecx\n\tpushl %%ds\n\tpopl %%eax\n\tpushw %%es\n\tpopw %%bx\n\tsubl %%esp, %%ecx"
                   : "=a"(lo), "=b"(hi), "=c"(r));
  printf("push ds/popl: %04x, pushw es/popw: %04x, esp delta %d\n", (unsigned)(lo & 0xffff),
         (unsigned)(hi & 0xffff), (int)r);
  __asm__ volatile("pushl $0x10\n\tpopl %%fs\n\tmovw %%fs, %%ax" : "=a"(r));
  printf("pop fs -> %04x\n", (unsigned)(r & 0xffff));

  /* NOPs and hints: nothing changes, nothing faults */
  __asm__ volatile(".byte 0x0f, 0x1f, 0x00\n\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n\t"
                   ".byte 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00\n\t"
                   "pause\n\t.byte 0x66, 0x90\n\tprefetcht0 0x7ffffff0\n\tprefetchnta (%%eax)\n\t"
                   ".byte 0x0f, 0x18, 0x20" /* reserved prefetch hint /4: a NOP */
                   :: "a"(0xfffffff0) : "memory");
  printf("nops and prefetch hints: ok\n");
}

int main(void) {
  printf("== datamove32 ==\n");
  lea_tests();
  extend_tests();
  enter_tests();
  pusha_tests();
  flags_tests();
  misc_tests();
  printf("datamove32: done\n");
  return 0;
}
