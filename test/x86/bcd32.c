// x86: bits=32
/* BCD adjust instructions (invalid in 64-bit mode, hence 32-bit only):
 * DAA DAS AAA AAS for every AL with each AF/CF input, AAM and AAD with
 * bases 10, 16, 7 and 0 (AAM 0 raises #DE). Flags printed: DAA/DAS CF PF
 * AF ZF SF (OF undefined); AAA/AAS CF AF (the rest undefined); AAM/AAD PF
 * ZF SF (OF AF CF undefined). */
#include "lib.h"

#define FL_CF 0x001
#define FL_PF 0x004
#define FL_AF 0x010
#define FL_ZF 0x040
#define FL_SF 0x080

static uint32_t run(int op, uint32_t ax, ureg fin, ureg *fo) {
  ureg f;
  switch (op) {
  case 0: __asm__ volatile("push %2\n\tpopf\n\tdaa\n\tpushf\n\tpop %1" : "+a"(ax), "=&r"(f) : "r"(fin) : "cc"); break;
  case 1: __asm__ volatile("push %2\n\tpopf\n\tdas\n\tpushf\n\tpop %1" : "+a"(ax), "=&r"(f) : "r"(fin) : "cc"); break;
  case 2: __asm__ volatile("push %2\n\tpopf\n\taaa\n\tpushf\n\tpop %1" : "+a"(ax), "=&r"(f) : "r"(fin) : "cc"); break;
  default: __asm__ volatile("push %2\n\tpopf\n\taas\n\tpushf\n\tpop %1" : "+a"(ax), "=&r"(f) : "r"(fin) : "cc"); break;
  }
  *fo = f;
  return ax;
}

int main(void) {
  printf("== bcd32 ==\n");
  static const char *const names[4] = { "daa", "das", "aaa", "aas" };
  static const ureg masks[4] = { FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF, FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF,
                                 FL_CF | FL_AF, FL_CF | FL_AF };
  for (int op = 0; op < 4; op++) {
    for (uint32_t al = 0; al < 256; al++) {
      uint32_t ah = op < 2 ? 0x5a : (al & 1 ? 0xff : 0x12);
      printf("%s %02x%02x:", names[op], (unsigned)ah, (unsigned)al);
      for (int in = 0; in < 4; in++) {
        ureg fin = 0x002 | (in & 1 ? FL_CF : 0) | (in & 2 ? FL_AF : 0), f;
        uint32_t r = run(op, 0xabcd0000 | (ah << 8) | al, fin, &f);
        printf(" %08x/%02lx", (unsigned)r, (unsigned long)(f & masks[op]));
      }
      printf("\n");
    }
  }

  /* AAM / AAD with several bases (imm8 encodings D4 ib / D5 ib) */
  static const uint32_t axs[] = { 0x0000, 0x0009, 0x000a, 0x0063, 0x00ff, 0x0580, 0x0909, 0xff0f, 0x1234 };
  for (unsigned i = 0; i < ARRAY_SIZE(axs); i++) {
    uint32_t r[6];
    unsigned long f[6];
    uint32_t ax;
    ax = axs[i]; __asm__ volatile("aam\n\tpushf\n\tpop %1" : "+a"(ax), "=r"(f[0]) :: "cc"); r[0] = ax;
    ax = axs[i]; __asm__ volatile(".byte 0xd4, 0x10\n\tpushf\n\tpop %1" : "+a"(ax), "=r"(f[1]) :: "cc"); r[1] = ax;
    ax = axs[i]; __asm__ volatile(".byte 0xd4, 0x07\n\tpushf\n\tpop %1" : "+a"(ax), "=r"(f[2]) :: "cc"); r[2] = ax;
    ax = axs[i]; __asm__ volatile("aad\n\tpushf\n\tpop %1" : "+a"(ax), "=r"(f[3]) :: "cc"); r[3] = ax;
    ax = axs[i]; __asm__ volatile(".byte 0xd5, 0x10\n\tpushf\n\tpop %1" : "+a"(ax), "=r"(f[4]) :: "cc"); r[4] = ax;
    ax = axs[i]; __asm__ volatile(".byte 0xd5, 0x00\n\tpushf\n\tpop %1" : "+a"(ax), "=r"(f[5]) :: "cc"); r[5] = ax;
    printf("ax=%04x aam10=%04x/%02lx aam16=%04x/%02lx aam7=%04x/%02lx aad10=%04x/%02lx aad16=%04x/%02lx aad0=%04x/%02lx\n",
           (unsigned)axs[i], r[0] & 0xffff, f[0] & (FL_PF | FL_ZF | FL_SF), r[1] & 0xffff,
           f[1] & (FL_PF | FL_ZF | FL_SF), r[2] & 0xffff, f[2] & (FL_PF | FL_ZF | FL_SF), r[3] & 0xffff,
           f[3] & (FL_PF | FL_ZF | FL_SF), r[4] & 0xffff, f[4] & (FL_PF | FL_ZF | FL_SF), r[5] & 0xffff,
           f[5] & (FL_PF | FL_ZF | FL_SF));
  }
  uint32_t ax = 0x1234;
  __asm__ volatile(TRAP_BEGIN ".byte 0xd4, 0x00" TRAP_END : "+a"(ax) :: "cc", "memory");
  print_trap("aam 0");
  printf("ax after aam 0: %04x\n", (unsigned)ax);
  printf("bcd32: done\n");
  return 0;
}
