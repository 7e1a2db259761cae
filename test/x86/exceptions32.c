// x86: bits=32
/* Exceptions and protection, 32-bit code: segment register loads (#GP,
 * #NP, #SS with the selector as error code), segment limits as the
 * descriptors define them (LSL on expand-up/expand-down, byte/page
 * granular segments; a far JMP beyond the CS limit is #GP(0)), privileged
 * instructions in ring 3 (#GP(0)), invalid opcodes and LOCK misuse (#UD),
 * BOUND (#BR), #NM from CR0.TS/EM, #UD for SSE with CR4.OSFXSR = 0, #MF from
 * an unmasked x87 error, SYSENTER with SYSENTER_CS = 0, LAR/LSL/VERR/VERW,
 * STR/SGDT/SIDT/SMSW, CPUID (vendor string and a few feature bits),
 * RDMSR/WRMSR of IA32_SYSENTER_CS, RDTSC (only that it increases) and
 * CR4.TSD.
 *
 * Not tested because QEMU 7.2 (TCG) deviates from the hardware (see
 * README.md): limit and access-right checks on data accesses (expand-down,
 * read-only, null selector, SS limit), far CALL/RET beyond the CS limit,
 * #AC, #XM for unmasked SSE exceptions, #GP for unknown MSRs, C6 /1-/7. */
#include "lib.h"

#define SEL_DATA_SMALL 0x48   /* data, base 0x20000, limit 0xfff (bytes) */
#define SEL_DATA_RO    0x50   /* read-only data */
#define SEL_DATA_NP    0x58   /* not present */
#define SEL_DATA_DN32  0x60   /* expand-down, B=1, limit 0xfff */
#define SEL_DATA_DN16  0x68   /* expand-down, B=0, limit 0xfff */
#define SEL_CODE_XO    0x70   /* execute-only code */
#define SEL_DATA_DPL3  0x78   /* data DPL 3 */
#define SEL_DATA_4K    0x88   /* data, base 0, limit 0x1 with G=1 (8 KiB) */
#define SEL_CODE_LIM   0x90   /* ring-0 code, base 0, limit 0x1ff pages (2 MiB) */

static void load(const char *what, uint16_t sel, int seg) {
  trap_clear();
  switch (seg) {
  case 0: __asm__ volatile("push %%ds\n\t" TRAP_BEGIN "movw %0, %%ds" TRAP_END "pop %%ds" :: "r"(sel) : "memory"); break;
  case 1: __asm__ volatile("push %%es\n\t" TRAP_BEGIN "movw %0, %%es" TRAP_END "pop %%es" :: "r"(sel) : "memory"); break;
  case 2: __asm__ volatile("movw %%ss, %%dx\n\t" TRAP_BEGIN "movw %0, %%ss" TRAP_END "movw %%dx, %%ss" :: "r"(sel) : "edx", "memory"); break;
  case 3: __asm__ volatile("push %%fs\n\t" TRAP_BEGIN "movw %0, %%fs" TRAP_END "pop %%fs" :: "r"(sel) : "memory"); break;
  }
  print_trap(what);
}

static void segment_load_tests(void) {
  load("ds <- 0x1000 (beyond GDT limit)", 0x1000, 0);
  load("ds <- TSS selector", SEL_TSS, 0);
  load("ds <- execute-only code", SEL_CODE_XO, 0);
  load("ds <- readable code", SEL_KCODE, 0);
  load("ds <- not-present data", SEL_DATA_NP, 0);
  load("ds <- null", 0, 0);
  load("ds <- LDT selector (no LDT)", 0x4c, 0);
  load("ss <- not-present data", SEL_DATA_NP, 2);
  load("ss <- read-only data", SEL_DATA_RO, 2);
  load("ss <- DPL-3 data (CPL 0)", SEL_DATA_DPL3 | 3, 2);
  load("ss <- null", 0, 2);
  load("ss <- code", SEL_KCODE, 2);
  load("es <- DPL-3 data RPL 3 (ok)", SEL_DATA_DPL3 | 3, 1);
  load("fs <- ring-3 code (readable)", SEL_UCODE32, 3);
}

static void limit_tests(void) {
  /* LSL: the limit in bytes as the CPU computes it from the descriptor */
  static const struct { const char *n; uint16_t sel; } c[] = {
    { "expand-up byte-granular 0xfff", SEL_DATA_SMALL }, { "expand-down B=1 0xfff", SEL_DATA_DN32 },
    { "expand-down B=0 0xfff", SEL_DATA_DN16 }, { "page-granular 0x1", SEL_DATA_4K },
    { "code limit 0x1ff pages", SEL_CODE_LIM },
  };
  for (unsigned i = 0; i < ARRAY_SIZE(c); i++) {
    uint32_t lim;
    __asm__ volatile("lsll %1, %0" : "=r"(lim) : "r"((uint32_t)c[i].sel) : "cc");
    printf("lsl %s: %08x\n", c[i].n, (unsigned)lim);
  }
  /* far JMP checks the target offset against the new CS limit */
  trap_clear();
  uint32_t r = 0;
  __asm__ volatile(TRAP_BEGIN "ljmp $0x90, $1f\n1: movl $1, %0\n\tljmp $0x08, $2f\n2:" TRAP_END : "+r"(r) :: "memory");
  print_trap("ljmp within the CS limit");
  static struct __attribute__((packed)) { uint32_t off; uint16_t sel; } fp = { 0x300000, SEL_CODE_LIM };
  __asm__ volatile(TRAP_BEGIN "ljmp *%0" TRAP_END :: "m"(fp) : "memory");
  print_trap("ljmp beyond the CS limit");
}

static ureg user_priv(ureg which) {
  trap_clear();
  switch (which) {
  case 0: __asm__ volatile(TRAP_BEGIN "hlt" TRAP_END ::: "memory"); break;
  case 1: __asm__ volatile(TRAP_BEGIN "movl %%cr0, %%eax" TRAP_END ::: "eax", "memory"); break;
  case 2: __asm__ volatile(TRAP_BEGIN "lgdt (%%eax)" TRAP_END :: "a"(0) : "memory"); break;
  case 3: __asm__ volatile(TRAP_BEGIN "wrmsr" TRAP_END :: "c"(0x174), "a"(0), "d"(0) : "memory"); break;
  case 4: __asm__ volatile(TRAP_BEGIN "rdmsr" TRAP_END :: "c"(0x174) : "eax", "edx", "memory"); break;
  case 5: __asm__ volatile(TRAP_BEGIN "invlpg (%%eax)" TRAP_END :: "a"(0) : "memory"); break;
  case 6: __asm__ volatile(TRAP_BEGIN "clts" TRAP_END ::: "memory"); break;
  case 7: __asm__ volatile(TRAP_BEGIN "sti" TRAP_END ::: "memory"); break;
  case 8: __asm__ volatile(TRAP_BEGIN "inb $0x80, %%al" TRAP_END ::: "eax", "memory"); break;
  case 9: __asm__ volatile(TRAP_BEGIN "movl %%eax, %%dr7" TRAP_END :: "a"(0) : "memory"); break;
  case 10: __asm__ volatile(TRAP_BEGIN "ltr %%ax" TRAP_END :: "a"(SEL_TSS) : "memory"); break;
  case 11: __asm__ volatile(TRAP_BEGIN "lidt (%%eax)" TRAP_END :: "a"(0) : "memory"); break;
  case 12: __asm__ volatile(TRAP_BEGIN "sysexit" TRAP_END ::: "memory"); break;
  case 13: __asm__ volatile(TRAP_BEGIN "wbinvd" TRAP_END ::: "memory"); break;
  case 14: __asm__ volatile(TRAP_BEGIN "lmsw %%ax" TRAP_END :: "a"(1) : "memory"); break;
  case 15: __asm__ volatile(TRAP_BEGIN "rdtsc" TRAP_END ::: "eax", "edx", "memory"); break;
  }
  return trap_vector * 0x10000 + trap_error;
}

static void privilege_tests(void) {
  static const char *const names[] = { "hlt", "mov eax,cr0", "lgdt", "wrmsr", "rdmsr", "invlpg", "clts", "sti",
                                       "in al,0x80", "mov dr7,eax", "ltr", "lidt", "sysexit", "wbinvd", "lmsw",
                                       "rdtsc (TSD=0)" };
  for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
    ureg r = run_user(user_priv, i);
    printf("ring 3 %s: %s", names[i], r ? vector_name((int)(r >> 16)) : "no trap");
    if (r) printf("(%04lx)", (unsigned long)(r & 0xffff));
    printf("\n");
  }
  write_cr(4, read_cr(4) | 4); /* CR4.TSD */
  ureg r = run_user(user_priv, 15);
  printf("ring 3 rdtsc with CR4.TSD: %s(%04lx)\n", r ? vector_name((int)(r >> 16)) : "no trap", (unsigned long)(r & 0xffff));
  write_cr(4, read_cr(4) & ~(ureg)4);

}

static void opcode_tests(void) {
  struct { const char *n; int id; } c[] = {
    { "ud2", 0 }, { "0f ff (ud0)", 1 }, { "fe /2", 2 }, { "lock nop", 3 }, { "lock add reg,reg", 4 },
    { "mov eax,cr1", 5 }, { "lea with register operand", 6 }, { "lds with register operand", 7 },
    { "bound with register operand", 8 }, { "0f 04", 9 }, { "lock add mem,reg (ok)", 10 },
  };
  static volatile uint32_t m;
  for (unsigned i = 0; i < ARRAY_SIZE(c); i++) {
    trap_clear();
    switch (c[i].id) {
    case 0: __asm__ volatile(TRAP_BEGIN "ud2" TRAP_END ::: "memory"); break;
    case 1: __asm__ volatile(TRAP_BEGIN ".byte 0x0f, 0xff, 0xc0" TRAP_END ::: "memory"); break;
    case 2: __asm__ volatile(TRAP_BEGIN ".byte 0xfe, 0xd0" TRAP_END ::: "memory"); break;
    case 3: __asm__ volatile(TRAP_BEGIN ".byte 0xf0, 0x90" TRAP_END ::: "memory"); break;
    case 4: __asm__ volatile(TRAP_BEGIN ".byte 0xf0, 0x01, 0xc0" TRAP_END ::: "memory", "cc"); break;
    case 5: __asm__ volatile(TRAP_BEGIN ".byte 0x0f, 0x20, 0xc8" TRAP_END ::: "eax", "memory"); break;
    case 6: __asm__ volatile(TRAP_BEGIN ".byte 0x8d, 0xc3" TRAP_END ::: "eax", "memory"); break;
    case 7: __asm__ volatile(TRAP_BEGIN ".byte 0xc5, 0xc3" TRAP_END ::: "eax", "memory"); break;
    case 8: __asm__ volatile(TRAP_BEGIN ".byte 0x62, 0xc3" TRAP_END ::: "memory"); break;
    case 9: __asm__ volatile(TRAP_BEGIN ".byte 0x0f, 0x04" TRAP_END ::: "memory"); break;
    case 10: __asm__ volatile(TRAP_BEGIN "lock addl %%eax, %0" TRAP_END : "+m"(m) : "a"(1) : "memory", "cc"); break;
    }
    print_trap(c[i].n);
  }
  /* BOUND: #BR when the index is outside [lower, upper] */
  static int32_t bounds[2] = { 10, 20 };
  int32_t idx[] = { 10, 20, 9, 21, -1 };
  for (unsigned i = 0; i < ARRAY_SIZE(idx); i++) {
    char label[32];
    snprintf(label, sizeof label, "bound %d in [10,20]", (int)idx[i]);
    trap_clear();
    __asm__ volatile(TRAP_BEGIN "boundl %0, %1" TRAP_END :: "r"(idx[i]), "m"(bounds[0]) : "memory");
    print_trap(label);
  }
}

static void fpu_exception_tests(void) {
  /* #NM: CR0.TS with MP=1 on FP and WAIT; CR0.EM on FP */
  write_cr(0, read_cr(0) | CR0_TS);
  trap_clear();
  __asm__ volatile(TRAP_BEGIN "fld1" TRAP_END ::: "memory");
  print_trap("fld1 with CR0.TS");
  __asm__ volatile(TRAP_BEGIN "fwait" TRAP_END ::: "memory");
  print_trap("fwait with CR0.TS MP");
  __asm__ volatile(TRAP_BEGIN "movaps %%xmm0, %%xmm1" TRAP_END ::: "memory");
  print_trap("movaps with CR0.TS");
  __asm__ volatile("clts");
  write_cr(0, read_cr(0) | CR0_EM);
  __asm__ volatile(TRAP_BEGIN "fld1" TRAP_END ::: "memory");
  print_trap("fld1 with CR0.EM");
  __asm__ volatile(TRAP_BEGIN "fwait" TRAP_END ::: "memory");
  print_trap("fwait with CR0.EM (no TS)");
  __asm__ volatile(TRAP_BEGIN "addps %%xmm0, %%xmm1" TRAP_END ::: "memory");
  print_trap("addps with CR0.EM");
  write_cr(0, read_cr(0) & ~(ureg)CR0_EM);
  /* CR4.OSFXSR = 0: SSE is #UD */
  write_cr(4, read_cr(4) & ~(ureg)CR4_OSFXSR);
  __asm__ volatile(TRAP_BEGIN "addps %%xmm0, %%xmm1" TRAP_END ::: "memory");
  print_trap("addps with CR4.OSFXSR=0");
  write_cr(4, read_cr(4) | CR4_OSFXSR);
  __asm__ volatile("fninit");

  /* #MF: unmask ZE, divide by zero (pending), the next FP instruction traps */
  uint16_t cw = 0x037b, sw;
  __asm__ volatile("fldcw %0" :: "m"(cw));
  __asm__ volatile("fld1\n\tfldz\n\tfdivrp\n\t" TRAP_BEGIN "fwait" TRAP_END ::: "memory");
  __asm__ volatile("fnstsw %0" : "=m"(sw));
  print_trap("fwait after unmasked 1/0");
  printf("  status word %04x\n", sw);
  __asm__ volatile("fninit");

}

static ureg user_sysenter_bad(ureg arg) {
  (void)arg;
  trap_clear();
  __asm__ volatile(TRAP_BEGIN "sysenter" TRAP_END ::: "memory");
  return trap_vector * 0x10000 + trap_error;
}

static void system_info_tests(void) {
  uint32_t r[4];
  cpuid(0, 0, r);
  char vendor[13];
  memcpy(vendor, &r[1], 4);
  memcpy(vendor + 4, &r[3], 4);
  memcpy(vendor + 8, &r[2], 4);
  vendor[12] = 0;
  printf("cpuid vendor: %s\n", vendor);
  cpuid(1, 0, r);
  printf("cpuid 1 edx: fpu=%u tsc=%u msr=%u pae=%u cx8=%u sep=%u pge=%u cmov=%u pse=%u fxsr=%u mmx=%u sse=%u sse2=%u\n",
         r[3] & 1, (r[3] >> 4) & 1, (r[3] >> 5) & 1, (r[3] >> 6) & 1, (r[3] >> 8) & 1, (r[3] >> 11) & 1,
         (r[3] >> 13) & 1, (r[3] >> 15) & 1, (r[3] >> 3) & 1, (r[3] >> 24) & 1, (r[3] >> 23) & 1, (r[3] >> 25) & 1,
         (r[3] >> 26) & 1);
  printf("cpuid 1 ecx: sse3=%u\n", r[2] & 1);
  ureg f1 = read_flags();
  __asm__ volatile("pushf\n\txorl $0x200000, (%%esp)\n\tpopf" ::: "cc");
  ureg f2 = read_flags();
  printf("eflags.ID toggles: %lu\n", (unsigned long)(((f1 ^ f2) >> 21) & 1));

  wrmsr(MSR_SYSENTER_CS, 0x1234);
  printf("sysenter_cs after wrmsr 0x1234: %llx\n", (unsigned long long)rdmsr(MSR_SYSENTER_CS));
  wrmsr(MSR_SYSENTER_CS, 0);
  ureg s = run_user(user_sysenter_bad, 0);
  printf("sysenter with SYSENTER_CS=0: %s(%04lx)\n", s ? vector_name((int)(s >> 16)) : "no trap", (unsigned long)(s & 0xffff));

  uint32_t t0l, t0h, t1l, t1h;
  __asm__ volatile("rdtsc" : "=a"(t0l), "=d"(t0h));
  for (volatile int i = 0; i < 1000; i++) {
  }
  __asm__ volatile("rdtsc" : "=a"(t1l), "=d"(t1h));
  uint64_t t0 = ((uint64_t)t0h << 32) | t0l, t1 = ((uint64_t)t1h << 32) | t1l;
  printf("rdtsc increases: %d\n", t1 > t0);

  uint16_t tr;
  __asm__ volatile("str %0" : "=r"(tr));
  struct __attribute__((packed)) { uint16_t limit; uint32_t base; } g, i;
  __asm__ volatile("sgdt %0\n\tsidt %1" : "=m"(g), "=m"(i));
  uint32_t msw = 0xffffffff;
  __asm__ volatile("smsw %0" : "+r"(msw));
  printf("str=%x gdt limit=%x idt limit=%x smsw(r32)=%08x\n", tr, g.limit, i.limit, (unsigned)(msw & 0xffff003f));
  printf("cr0 bits PE MP EM TS NE WP AM PG: %08lx\n", (unsigned long)(read_cr(0) & 0x8005003f));

  /* LAR / LSL / VERR / VERW */
  static const uint16_t sels[] = { SEL_KCODE, SEL_KDATA, SEL_UCODE32 | 3, SEL_TSS, SEL_DATA_SMALL, SEL_DATA_NP, 0x1000, 0 };
  for (unsigned k = 0; k < ARRAY_SIZE(sels); k++) {
    uint32_t ar = 0xeeeeeeee, lim = 0xeeeeeeee;
    ureg fa, fl, fr, fw;
    __asm__ volatile("larl %2, %0\n\tpushf\n\tpop %1" : "+r"(ar), "=r"(fa) : "r"((uint32_t)sels[k]) : "cc");
    __asm__ volatile("lsll %2, %0\n\tpushf\n\tpop %1" : "+r"(lim), "=r"(fl) : "r"((uint32_t)sels[k]) : "cc");
    __asm__ volatile("verr %1\n\tpushf\n\tpop %0" : "=r"(fr) : "r"(sels[k]) : "cc");
    __asm__ volatile("verw %1\n\tpushf\n\tpop %0" : "=r"(fw) : "r"(sels[k]) : "cc");
    printf("sel %04x: lar=%08x/%lu lsl=%08x/%lu verr=%lu verw=%lu\n", sels[k], (unsigned)ar,
           (unsigned long)((fa >> 6) & 1), (unsigned)lim, (unsigned long)((fl >> 6) & 1),
           (unsigned long)((fr >> 6) & 1), (unsigned long)((fw >> 6) & 1));
  }
}

int main(void) {
  printf("== exceptions32 ==\n");
  gdt_set(SEL_DATA_SMALL, 0x20000, 0xfff, 0x92, 0x4);
  gdt_set(SEL_DATA_RO, 0, 0xfffff, 0x90, 0xc);
  gdt_set(SEL_DATA_NP, 0, 0xfffff, 0x12, 0xc);
  gdt_set(SEL_DATA_DN32, 0x20000 - 0x1000, 0xfff, 0x96, 0x4);
  gdt_set(SEL_DATA_DN16, 0x20000 - 0x1000, 0xfff, 0x96, 0x0);
  gdt_set(SEL_CODE_XO, 0, 0xfffff, 0x98, 0xc);
  gdt_set(SEL_DATA_DPL3, 0, 0xfffff, 0xf2, 0xc);
  gdt_set(SEL_DATA_4K, 0, 0x1, 0x92, 0xc);
  gdt_set(SEL_CODE_LIM, 0, 0x1ff, 0x9a, 0xc);
  segment_load_tests();
  limit_tests();
  privilege_tests();
  opcode_tests();
  fpu_exception_tests();
  system_info_tests();
  printf("exceptions32: done\n");
  return 0;
}
