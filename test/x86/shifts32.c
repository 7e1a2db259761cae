// x86: bits=32
/* Shifts and rotates, 32-bit code: the shift_template.h tables at 8/16/32
 * bits (count in CL), then the other encodings: by-one forms (D0/D1), imm8
 * forms (C0/C1) with counts 0, 1 and a count the 5-bit mask turns into 1,
 * the SAL alias /6, memory operands and SHLD/SHRD with an immediate. */
#include "shift_template.h"

static void show(const char *what, uint32_t v, ureg f, ureg mask) {
  printf("%s = %08x f=%03lx\n", what, (unsigned)v, (unsigned long)(f & mask));
}

static void encodings(void) {
  uint32_t a;
  ureg f;
  volatile uint32_t m32 = 0x80000001;
  volatile uint16_t m16 = 0x8001;
  volatile uint8_t m8 = 0x81;

  a = 0x81;
  __asm__ volatile("clc\n\t.byte 0xd0, 0xe0\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* shl al,1 */
  show("shl al,1 (d0 /4)", a, f, FL_CF | FL_PF | FL_ZF | FL_SF | FL_OF);
  a = 0x81;
  __asm__ volatile("clc\n\t.byte 0xd0, 0xf0\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* sal al,1 via /6 */
  show("sal al,1 (d0 /6)", a, f, FL_CF | FL_PF | FL_ZF | FL_SF | FL_OF);
  a = 0x80000000;
  __asm__ volatile(".byte 0xd1, 0xf8\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* sar eax,1 */
  show("sar eax,1 (d1 /7)", a, f, FL_CF | FL_PF | FL_ZF | FL_SF | FL_OF);
  a = 0x40000000;
  __asm__ volatile("stc\n\t.byte 0xd1, 0xd0\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* rcl eax,1 */
  show("rcl eax,1 (d1 /2)", a, f, FL_CF | FL_OF);
  a = 0x12345678;
  __asm__ volatile("pushl $0x8c3\n\tpopf\n\t.byte 0xc1, 0xe0, 0x00\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* shl eax,0 */
  show("flags 8c3; shl eax,imm 0 (c1)", a, f, FL_ARITH);
  a = 0x40000001;
  __asm__ volatile(".byte 0xc1, 0xe0, 0x21\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* shl eax,33 */
  show("shl eax,imm 33 (masked 1)", a, f, FL_CF | FL_PF | FL_ZF | FL_SF | FL_OF);
  a = 0x40000001;
  __asm__ volatile(".byte 0xc1, 0xc8, 0x24\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* ror eax,36 */
  show("ror eax,imm 36 (masked 4)", a, f, FL_CF);
  a = 0xc3;
  __asm__ volatile(".byte 0xc0, 0xc0, 0x0c\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* rol al,12 */
  show("rol al,imm 12", a, f, FL_CF);
  a = 0xabcd8001;
  __asm__ volatile(".byte 0x66, 0xc1, 0xe8, 0x0f\n\tpushf\n\tpop %1" : "+a"(a), "=r"(f) :: "cc"); /* shr ax,15 */
  show("shr ax,imm 15 (66 c1)", a, f, FL_CF | FL_PF | FL_ZF | FL_SF);

  __asm__ volatile("shll $4, %0\n\tpushf\n\tpop %1" : "+m"(m32), "=r"(f) :: "cc");
  show("shl [m32],4", m32, f, FL_CF | FL_PF | FL_ZF | FL_SF);
  __asm__ volatile("rorw $1, %0\n\tpushf\n\tpop %1" : "+m"(m16), "=r"(f) :: "cc");
  show("ror [m16],1", m16, f, FL_CF | FL_OF);
  __asm__ volatile("movb $3, %%cl\n\tstc\n\trcrb %%cl, %0\n\tpushf\n\tpop %1" : "+m"(m8), "=r"(f) :: "ecx", "cc");
  show("rcr [m8],cl=3", m8, f, FL_CF);
  __asm__ volatile("sarl $31, %0\n\tpushf\n\tpop %1" : "+m"(m32), "=r"(f) :: "cc");
  show("sar [m32],31", m32, f, FL_CF | FL_PF | FL_ZF | FL_SF);

  uint32_t hi = 0x12345678, lo = 0x9abcdef0;
  __asm__ volatile("shldl $8, %2, %0\n\tpushf\n\tpop %1" : "+r"(hi), "=r"(f) : "r"(lo) : "cc");
  show("shld r32,r32,imm 8", hi, f, FL_CF | FL_PF | FL_ZF | FL_SF);
  hi = 0x12345678;
  __asm__ volatile("shrdl $1, %2, %0\n\tpushf\n\tpop %1" : "+r"(hi), "=r"(f) : "r"(lo) : "cc");
  show("shrd r32,r32,imm 1", hi, f, FL_CF | FL_PF | FL_ZF | FL_SF | FL_OF);
  __asm__ volatile("shldl $12, %2, %0\n\tpushf\n\tpop %1" : "+m"(m32), "=r"(f) : "r"(lo) : "cc");
  show("shld [m32],r32,imm 12", m32, f, FL_CF | FL_PF | FL_ZF | FL_SF);
  __asm__ volatile("movb $40, %%cl\n\tshrdw %%cl, %2, %0\n\tpushf\n\tpop %1" : "+m"(m16), "=r"(f) : "r"((uint16_t)0x1234) : "ecx", "cc");
  show("shrd [m16],r16,cl=40 (masked 8)", m16, f, FL_CF | FL_PF | FL_ZF | FL_SF);
}

int main(void) {
  printf("== shifts32 ==\n");
  for (int w = 0; w < 3; w++) shift_table(w);
  encodings();
  printf("shifts32: done\n");
  return 0;
}
