// x86: bits=32
/* Integer ALU, 32-bit code: ADD ADC SUB SBB CMP AND OR XOR TEST INC DEC NEG
 * NOT at 8/16/32 bits over a table of edge operands (flags masked to the
 * defined ones, see common/alu_template.h), then the other encodings of the
 * same instructions: accumulator forms, sign-extended imm8 (0x83), the 0x82
 * alias, memory operands, LOCK, high-byte registers, the one-byte INC/DEC
 * (0x40-0x4f) and the 16-bit operand-size prefix on memory. */
#include "alu_template.h"

static void show(const char *what, uint32_t v, ureg f, ureg mask) {
  printf("%s = %08x f=%03lx\n", what, (unsigned)v, (unsigned long)(f & mask));
}

static void encodings(void) {
  uint32_t a, b;
  ureg f;
  volatile uint32_t mem32 = 0x7ffffffe;
  volatile uint16_t mem16 = 0xfffe;
  volatile uint8_t mem8 = 0x7f;

  a = 0x12345678;
  __asm__ volatile("addb $0x90, %%al\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc");
  show("add al,imm8 (04)", a, f, FL_ARITH);
  a = 0x7fffffff;
  __asm__ volatile("addl $1, %%eax\n\t" ".byte 0x05\n\t.long 0x10\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc");
  show("add eax,imm32 (05)", a, f, FL_ARITH);
  b = 5;
  __asm__ volatile(".byte 0x83, 0xc3, 0xff\n\tpushf\n\tpop %1" : "+b"(b), "=r"(f) :: "cc"); /* add ebx,-1 */
  show("add ebx,simm8 -1 (83)", b, f, FL_ARITH);
  b = 0x80000000;
  __asm__ volatile(".byte 0x81, 0xeb\n\t.long 0x00000001\n\tpushf\n\tpop %1" : "+b"(b), "=r"(f) :: "cc"); /* sub ebx,1 */
  show("sub ebx,imm32 (81)", b, f, FL_ARITH);
  b = 0x1234;
  __asm__ volatile(".byte 0x66, 0x83, 0xe3, 0x80\n\tpushf\n\tpop %1" : "+b"(b), "=r"(f) :: "cc"); /* and bx,0xff80 */
  show("and bx,simm8 (66 83)", b, f, FL_LOGIC);
  a = 0x000000fe;
  __asm__ volatile(".byte 0x82, 0xc0, 0x03\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* add al,3 via 0x82 */
  show("add al,imm8 (82 alias)", a, f, FL_ARITH);
  a = 0x80;
  __asm__ volatile(".byte 0x82, 0xf8, 0x80\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* cmp al,0x80 via 0x82 */
  show("cmp al,imm8 (82 /7)", a, f, FL_ARITH);
  a = 0x55aa;
  __asm__ volatile("testb $0xa0, %%al\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* A8 */
  show("test al,imm8 (a8)", a, f, FL_LOGIC);
  a = 0x80000000;
  __asm__ volatile("testl $0x80000000, %%eax\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* A9 */
  show("test eax,imm32 (a9)", a, f, FL_LOGIC);
  b = 0x00c3;
  __asm__ volatile("testb $0x3c, %%bl\n\tpushf\n\tpop %1" : "+b"(b), "=r"(f) :: "cc"); /* F6 /0 */
  show("test bl,imm8 (f6)", b, f, FL_LOGIC);

  /* memory destination and source */
  __asm__ volatile("addl $1, %0\n\tpushf\n\tpop %1" : "+m"(mem32), "=r"(f) :: "cc");
  show("add [m32],1", mem32, f, FL_ARITH);
  a = 1;
  __asm__ volatile("addl %2, %0\n\tpushf\n\tpop %1" : "+r"(a), "=r"(f) : "m"(mem32) : "cc");
  show("add r32,[m32]", a, f, FL_ARITH);
  __asm__ volatile("incw %0\n\tpushf\n\tpop %1" : "+m"(mem16), "=r"(f) :: "cc");
  show("inc word [m16]", mem16, f, FL_ARITH);
  __asm__ volatile("incw %0\n\tpushf\n\tpop %1" : "+m"(mem16), "=r"(f) :: "cc");
  show("inc word [m16] again", mem16, f, FL_ARITH);
  __asm__ volatile("negb %0\n\tpushf\n\tpop %1" : "+m"(mem8), "=r"(f) :: "cc");
  show("neg byte [m8]", mem8, f, FL_ARITH);
  __asm__ volatile("lock subl $0x10, %0\n\tpushf\n\tpop %1" : "+m"(mem32), "=r"(f) :: "cc");
  show("lock sub [m32],0x10", mem32, f, FL_ARITH);
  __asm__ volatile("lock notl %0" : "+m"(mem32));
  show("lock not [m32]", mem32, 0, 0);
  a = 0x0f;
  __asm__ volatile("lock orl %1, %0\n\tpushf\n\tpop %1" : "+m"(mem32), "+r"(a) :: "cc");
  show("lock or [m32],r", mem32, a, FL_LOGIC);
  __asm__ volatile("stc\n\tlock adcb $0x80, %0\n\tpushf\n\tpop %1" : "+m"(mem8), "=r"(f) :: "cc");
  show("lock adc byte [m8]", mem8, f, FL_ARITH);

  /* high-byte registers */
  a = 0x1234;
  b = 0x5678;
  __asm__ volatile("addb %%bh, %%ah\n\tsubb %%ah, %%bl\n\tpushf\n\tpop %2" : "+a"(a), "+b"(b), "=r"(f) :: "cc");
  printf("ah+=bh; bl-=ah: eax=%08x ebx=%08x f=%03lx\n", (unsigned)a, (unsigned)b, (unsigned long)(f & FL_ARITH));
  a = 0xff00ff00;
  __asm__ volatile("xorb %%ah, %%al\n\tnotb %%ah\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc");
  show("xor al,ah; not ah", a, f, FL_LOGIC);

  /* one-byte INC/DEC r32 (0x40-0x4f) and the 16-bit prefix */
  a = 0xffffffff;
  b = 0x00010000;
  __asm__ volatile(".byte 0x40\n\t.byte 0x4b\n\tpushf\n\tpop %2" : "+a"(a), "+b"(b), "=r"(f) :: "cc");
  printf("inc eax (40); dec ebx (4b): eax=%08x ebx=%08x f=%03lx\n", (unsigned)a, (unsigned)b,
         (unsigned long)(f & FL_ARITH));
  a = 0xabcdffff;
  __asm__ volatile(".byte 0x66, 0x40\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc");
  show("inc ax (66 40)", a, f, FL_ARITH);

  /* zeroing idioms still set flags */
  a = 0x1234;
  __asm__ volatile("stc\n\txorl %%eax, %%eax\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc");
  show("xor eax,eax", a, f, FL_LOGIC);
  a = 0x1234;
  __asm__ volatile("stc\n\tsubl %%eax, %%eax\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc");
  show("sub eax,eax", a, f, FL_ARITH);
  a = 0x1234;
  __asm__ volatile("clc\n\tsbbl %%eax, %%eax\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc");
  show("clc; sbb eax,eax", a, f, FL_ARITH);
  a = 0x1234;
  __asm__ volatile("stc\n\tsbbl %%eax, %%eax\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc");
  show("stc; sbb eax,eax", a, f, FL_ARITH);

  /* CMC/CLC/STC and flag chains through ADC */
  uint32_t lo = 0xffffffff, hi = 0x7fffffff;
  __asm__ volatile("addl $1, %0\n\tadcl $0, %1\n\tpushf\n\tpop %2" : "+r"(lo), "+r"(hi), "=r"(f) :: "cc");
  printf("64-bit add chain: %08x%08x f=%03lx\n", (unsigned)hi, (unsigned)lo, (unsigned long)(f & FL_ARITH));
  lo = 0;
  hi = 0x80000000;
  __asm__ volatile("subl $1, %0\n\tsbbl $0, %1\n\tpushf\n\tpop %2" : "+r"(lo), "+r"(hi), "=r"(f) :: "cc");
  printf("64-bit sub chain: %08x%08x f=%03lx\n", (unsigned)hi, (unsigned)lo, (unsigned long)(f & FL_ARITH));
  __asm__ volatile("clc\n\tcmc\n\tpushf\n\tpop %0" : "=r"(f) :: "cc");
  printf("clc;cmc cf=%lu\n", (unsigned long)(f & 1));
  __asm__ volatile("stc\n\tcmc\n\tpushf\n\tpop %0" : "=r"(f) :: "cc");
  printf("stc;cmc cf=%lu\n", (unsigned long)(f & 1));
}

int main(void) {
  printf("== int_alu32 ==\n");
  for (int w = 0; w < 3; w++) alu_table(w);
  encodings();
  printf("int_alu32: done\n");
  return 0;
}
