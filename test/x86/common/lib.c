/* Runtime of the bare-metal x86 corpus: serial output, printf, exit, the
 * GDT/IDT/TSS set-up, exception dispatch, ring-3 runs, SYSENTER/SYSCALL
 * entry handlers, paging helpers and the real-mode call. Shared by 32-bit
 * (crt32.S) and 64-bit (crt64.S) programs; built with -mgeneral-regs-only. */
#include "lib.h"

/* ---------------------------------------------------------------- output */

#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20

#ifdef HOSTED
/* host/hosted.c: the same program as a Linux process (developer tool). */
extern void host_putc(char c);
extern __attribute__((noreturn)) void host_exit(int status);
void serial_putc(char c) { host_putc(c); }
#else
void serial_putc(char c) {
  /* Bounded wait: an emulator whose LSR never reports THRE must not hang
   * us; generous, because QEMU keeps THRE clear while its stdout pipe is
   * full. */
  for (uint32_t i = 0; i < 64000000u && !(inb(COM1_PORT + UART_LSR) & UART_LSR_THRE); i++) {
  }
  outb(COM1_PORT + UART_THR, (uint8_t)c);
}
#endif

void debugcon_putc(char c) { outb(DEBUGCON_PORT, (uint8_t)c); }

void print(const char *s) {
  while (*s) serial_putc(*s++);
}

struct sink {
  char *buf;      /* NULL: serial */
  size_t size;
  size_t n;
};

static void sink_put(struct sink *s, char c) {
  if (s->buf) {
    if (s->n + 1 < s->size) s->buf[s->n] = c;
  } else {
    serial_putc(c);
  }
  s->n++;
}

static void emit_number(struct sink *s, uint64_t v, int neg, unsigned base, int upper, int width,
                        int zero, int left, char sign_char) {
  char tmp[24];
  int n = 0;
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    tmp[n++] = digits[v % base];
    v /= base;
  } while (v);
  char sign = neg ? '-' : sign_char;
  int len = n + (sign ? 1 : 0);
  if (!left && !zero) {
    for (int i = len; i < width; i++) sink_put(s, ' ');
  }
  if (sign) sink_put(s, sign);
  if (!left && zero) {
    for (int i = len; i < width; i++) sink_put(s, '0');
  }
  while (n) sink_put(s, tmp[--n]);
  if (left) {
    for (int i = len; i < width; i++) sink_put(s, ' ');
  }
}

static int format(struct sink *s, const char *fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      sink_put(s, *fmt);
      continue;
    }
    fmt++;
    int zero = 0, left = 0;
    char sign_char = 0;
    for (;; fmt++) {
      if (*fmt == '0') zero = 1;
      else if (*fmt == '-') left = 1;
      else if (*fmt == '+') sign_char = '+';
      else if (*fmt == ' ') { if (!sign_char) sign_char = ' '; }
      else break;
    }
    int width = 0;
    if (*fmt == '*') {
      width = va_arg(ap, int);
      if (width < 0) { left = 1; width = -width; }
      fmt++;
    } else {
      while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    }
    if (left) zero = 0;
    int lng = 0; /* 0 int, 1 long, 2 long long, -1 short, -2 char */
    for (;; fmt++) {
      if (*fmt == 'l') lng++;
      else if (*fmt == 'h') lng--;
      else if (*fmt == 'z' || *fmt == 't') lng = sizeof(size_t) == 8 ? 2 : 0;
      else if (*fmt == 'j') lng = 2;
      else break;
    }
    char c = *fmt;
    if (!c) break;
    switch (c) {
    case 'd': case 'i': {
      int64_t v;
      if (lng >= 2) v = va_arg(ap, long long);
      else if (lng == 1) v = va_arg(ap, long);
      else v = va_arg(ap, int);
      if (lng == -1) v = (short)v;
      if (lng <= -2) v = (signed char)v;
      emit_number(s, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, 0, width, zero, left, sign_char);
      break;
    }
    case 'u': case 'x': case 'X': case 'o': case 'p': {
      uint64_t v;
      if (c == 'p') v = (uintptr_t)va_arg(ap, void *);
      else if (lng >= 2) v = va_arg(ap, unsigned long long);
      else if (lng == 1) v = va_arg(ap, unsigned long);
      else v = va_arg(ap, unsigned int);
      if (lng == -1) v = (uint16_t)v;
      if (lng <= -2) v = (uint8_t)v;
      unsigned base = c == 'u' ? 10 : c == 'o' ? 8 : 16;
      emit_number(s, v, 0, base, c == 'X', width, zero, left, 0);
      break;
    }
    case 'c': {
      char ch = (char)va_arg(ap, int);
      if (!left) for (int i = 1; i < width; i++) sink_put(s, ' ');
      sink_put(s, ch);
      if (left) for (int i = 1; i < width; i++) sink_put(s, ' ');
      break;
    }
    case 's': {
      const char *str = va_arg(ap, const char *);
      if (!str) str = "(null)";
      int len = (int)strlen(str);
      if (!left) for (int i = len; i < width; i++) sink_put(s, ' ');
      while (*str) sink_put(s, *str++);
      if (left) for (int i = len; i < width; i++) sink_put(s, ' ');
      break;
    }
    case '%':
      sink_put(s, '%');
      break;
    default:
      sink_put(s, '%');
      sink_put(s, c);
      break;
    }
  }
  return (int)s->n;
}

int vprintf(const char *fmt, va_list ap) {
  struct sink s = { 0, 0, 0 };
  return format(&s, fmt, ap);
}

int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
  struct sink s = { buf, size, 0 };
  va_list ap;
  va_start(ap, fmt);
  int n = format(&s, fmt, ap);
  va_end(ap);
  if (size) buf[s.n < size ? s.n : size - 1] = 0;
  return n;
}

void print_hexle(const char *name, const void *p, int n) {
  const uint8_t *b = p;
  printf("%s=", name);
  for (int i = n - 1; i >= 0; i--) printf("%02x", b[i]);
}

/* ------------------------------------------------------------------ exit */

void exit_program(int status) {
#ifdef HOSTED
  host_exit(status);
#endif
  outl(DEBUG_EXIT_PORT, (uint32_t)status);
  for (;;) __asm__ volatile("cli; hlt");
}

/* ----------------------------------------------------- descriptor tables */

extern uint8_t isr_stubs[];
extern uint8_t trap_stack_top[];
extern void sysenter_entry(void);
extern void syscall_entry(void);
extern void kernel_return(void);

#ifdef __x86_64__
struct __attribute__((packed)) tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base;
};
struct idt_gate { uint64_t lo, hi; };
#else
struct __attribute__((packed)) tss {
  uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
  uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
  uint32_t es, cs, ss, ds, fs, gs, ldt;
  uint16_t trap, iomap_base;
};
struct idt_gate { uint64_t g; };
#endif

/* The TSS is followed by its I/O permission bitmap (65536 bits) and the
 * terminating 0xff byte the CPU may read past the last port. */
static struct __attribute__((packed, aligned(128))) {
  struct tss t;
  uint8_t iomap[8192];
  uint8_t end;
} tss_block;

static struct idt_gate idt[256] __attribute__((aligned(16)));

void gdt_set(int sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  uint64_t d = (limit & 0xffffULL) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
               ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)(flags & 0xf) << 52) |
               ((uint64_t)(base >> 24) << 56);
  gdt[sel >> 3] = d;
}

void gdt_clear(int sel) { gdt[sel >> 3] = 0; }

void gdt_set_call_gate(int sel, uint16_t target_sel, ureg offset, int dpl, int params) {
  uint64_t d = (offset & 0xffffULL) | ((uint64_t)target_sel << 16) | ((uint64_t)(params & 0x1f) << 32) |
               ((uint64_t)(0x80 | (dpl << 5) | 0xc) << 40) | ((uint64_t)((offset >> 16) & 0xffff) << 48);
  gdt[sel >> 3] = d;
#ifdef __x86_64__
  gdt[(sel >> 3) + 1] = (uint64_t)offset >> 32;
#endif
}

void idt_set(int vec, ureg handler, uint16_t sel, int type, int dpl, int present) {
  uint64_t lo = (handler & 0xffffULL) | ((uint64_t)sel << 16) |
                ((uint64_t)(((present ? 0x80 : 0) | (dpl << 5) | type)) << 40) |
                ((uint64_t)((handler >> 16) & 0xffff) << 48);
#ifdef __x86_64__
  idt[vec].lo = lo;
  idt[vec].hi = (uint64_t)handler >> 32;
#else
  idt[vec].g = lo;
#endif
}

ureg idt_stub(int vec) { return (ureg)isr_stubs + 16 * (ureg)vec; }

static int default_dpl(int vec) {
  return (vec == 3 || vec == 4 || vec == VEC_USER_EXIT || (vec >= VEC_TEST_BASE && vec < VEC_TEST_BASE + 16)) ? 3 : 0;
}

#ifdef __x86_64__
void idt_set_ist(int vec, int ist) {
  idt[vec].lo = (idt[vec].lo & ~(7ULL << 32)) | ((uint64_t)(ist & 7) << 32);
}
#endif

void idt_reset(int vec) { idt_set(vec, idt_stub(vec), SEL_KCODE, 0xe, default_dpl(vec), 1); }

void reload_segments(void) {
  __asm__ volatile("mov %0, %%ds\n\tmov %0, %%es\n\tmov %0, %%fs\n\tmov %0, %%gs\n\tmov %0, %%ss"
                   :: "r"((uint32_t)SEL_KDATA) : "memory");
}

void tss_io_allow(uint16_t port, int allow) {
  if (allow) tss_block.iomap[port >> 3] &= (uint8_t)~(1u << (port & 7));
  else tss_block.iomap[port >> 3] |= (uint8_t)(1u << (port & 7));
}

ureg tss_get_sp0(void) {
#ifdef __x86_64__
  return tss_block.t.rsp[0];
#else
  return tss_block.t.esp0;
#endif
}

struct __attribute__((packed)) dtr {
  uint16_t limit;
  ureg base;
};

void x86_init(void) {
  /* Mask every IRQ at both 8259 PICs: programs run with IF = 0, and this
   * keeps any stray interrupt away even if one sets IF. */
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
  /* TSS: ring-0 stack for traps from ring 3; I/O bitmap denies every port. */
  memset(&tss_block, 0, sizeof tss_block);
  memset(tss_block.iomap, 0xff, sizeof tss_block.iomap);
  tss_block.end = 0xff;
  tss_block.t.iomap_base = (uint16_t)offsetof(__typeof__(tss_block), iomap);
#ifdef __x86_64__
  tss_block.t.rsp[0] = (uint64_t)trap_stack_top;
  extern uint8_t ist_stack_top[];
  tss_block.t.ist[0] = (uint64_t)ist_stack_top;
  gdt_set(SEL_TSS, (uint32_t)(uintptr_t)&tss_block, sizeof tss_block - 1, 0x89, 0);
  gdt[(SEL_TSS >> 3) + 1] = (uint64_t)(uintptr_t)&tss_block >> 32;
#else
  tss_block.t.esp0 = (uint32_t)trap_stack_top;
  tss_block.t.ss0 = SEL_KDATA;
  gdt_set(SEL_TSS, (uint32_t)&tss_block, sizeof tss_block - 1, 0x89, 0);
#endif
  __asm__ volatile("ltr %w0" :: "r"(SEL_TSS));

  for (int v = 0; v < 256; v++) idt_reset(v);
  struct dtr idtr = { sizeof idt - 1, (ureg)idt };
  __asm__ volatile("lidt %0" :: "m"(idtr));

  /* x87 and SSE: CR0.EM = TS = 0, MP = NE = 1 (x87 errors as #MF);
   * CR4.OSFXSR/OSXMMEXCPT (crt64 sets them already). */
  ureg cr0 = read_cr(0);
  cr0 = (cr0 & ~(ureg)(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE;
  write_cr(0, cr0);
  write_cr(4, read_cr(4) | CR4_OSFXSR | CR4_OSXMMEXCPT);
  uint32_t mxcsr = 0x1f80;
  __asm__ volatile("fninit\n\tldmxcsr %0" :: "m"(mxcsr));
}

int cpu_has(int which, int bit) {
  uint32_t r[4];
  switch (which) {
  case CPUID_1_EDX: cpuid(1, 0, r); return (r[3] >> bit) & 1;
  case CPUID_1_ECX: cpuid(1, 0, r); return (r[2] >> bit) & 1;
  case CPUID_81_EDX:
  case CPUID_81_ECX:
    cpuid(0x80000000u, 0, r);
    if (r[0] < 0x80000001u) return 0;
    cpuid(0x80000001u, 0, r);
    return ((which == CPUID_81_EDX ? r[3] : r[2]) >> bit) & 1;
  case CPUID_7_EBX:
    cpuid(0, 0, r);
    if (r[0] < 7) return 0;
    cpuid(7, 0, r);
    return (r[1] >> bit) & 1;
  }
  return 0;
}

/* ----------------------------------------------------------------- traps */

static trap_hook_t current_hook;
volatile ureg trap_resume, trap_expect_ip;
volatile ureg trap_count, trap_vector, trap_error, trap_ip, trap_cs, trap_cr2, trap_flags, trap_sp;
volatile ureg int_count, int_last_vector;

void set_trap_hook(trap_hook_t hook) { current_hook = hook; }

void trap_clear(void) {
  trap_count = trap_vector = trap_error = trap_ip = trap_cs = trap_cr2 = trap_flags = trap_sp = 0;
}

static const char *const vector_names[32] = {
  "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS", "#GP",
  "#PF", "v15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "v22", "v23", "v24", "v25", "v26", "v27",
  "v28", "#VC", "#SX", "v31",
};

const char *vector_name(int vec) { return vec >= 0 && vec < 32 ? vector_names[vec] : "int"; }

static int has_error_code(ureg v) {
  return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

void print_trap(const char *label) {
  if (!trap_count) {
    printf("%s: no trap\n", label);
  } else {
    printf("%s: %s", label, vector_name((int)trap_vector));
    if (has_error_code(trap_vector)) printf("(%04lx)", (unsigned long)trap_error);
    if (trap_vector == 14) printf(" cr2=%lx", (unsigned long)trap_cr2);
    ureg d = trap_ip - trap_expect_ip;
    if (d < 64) printf(" ip=+%lu", (unsigned long)d);
    else printf(" ip=other");
    if (trap_count > 1) printf(" count=%lu", (unsigned long)trap_count);
    printf("\n");
  }
  trap_clear();
}

void trap_dispatch(struct trap_frame *f) {
  if (current_hook && current_hook(f)) return;
  ureg v = f->vector;
  if (v >= 32) {
    int_count++;
    int_last_vector = v;
    return;
  }
  int from_user = (f->cs & 3) != 0;
  if (trap_resume) {
    trap_count++;
    trap_vector = v;
    trap_error = f->error;
    trap_ip = f->ip;
    trap_cs = f->cs;
    trap_flags = f->flags;
    trap_cr2 = read_cr(2);
#ifdef __x86_64__
    trap_sp = f->sp;
#else
    trap_sp = from_user ? f->sp : (ureg)&f->sp;
#endif
    f->ip = trap_resume;
    trap_resume = 0;
    return;
  }
  (void)from_user;
  printf("UNEXPECTED TRAP %s vec=%lu err=%lx ip=%lx cs=%lx flags=%lx cr2=%lx\n",
         vector_name((int)v), (unsigned long)v, (unsigned long)f->error, (unsigned long)f->ip,
         (unsigned long)f->cs, (unsigned long)f->flags, (unsigned long)read_cr(2));
  exit_program(0x7e);
}

/* ---------------------------------------------------------------- ring 3 */

extern ureg run_user_iopl(user_fn_t fn, ureg arg, int iopl);

ureg run_user(user_fn_t fn, ureg arg) { return run_user_iopl(fn, arg, 0); }

volatile ureg sys_calls;
volatile ureg sys_kernel_flags, sys_user_cx, sys_user_r11;

#ifdef __x86_64__
extern uint8_t syscall_stack_top[];
ureg syscall_handler(ureg nr, ureg arg) {
  if (nr == SYS_ECHO) {
    sys_calls++;
    return arg + 1;
  }
  return (ureg)-1;
}

void syscall_setup(void) {
  wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
  /* SYSCALL: CS = 0x08, SS = 0x10. SYSRET: CS = 0x18+16 = 0x28 | 3, SS = 0x20 | 3. */
  wrmsr(MSR_STAR, ((uint64_t)SEL_UCODE32 << 48) | ((uint64_t)SEL_KCODE << 32));
  wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)syscall_entry);
  wrmsr(MSR_FMASK, 0x700);  /* clear TF, IF, DF on entry */
}
#else
extern uint8_t sysenter_stack_top[];
ureg sysenter_handler(ureg nr, ureg arg) {
  if (nr == SYS_ECHO) {
    sys_calls++;
    return arg + 1;
  }
  return (ureg)-1;
}

void sysenter_setup(void) {
  wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
  wrmsr(MSR_SYSENTER_ESP, (uint32_t)sysenter_stack_top);
  wrmsr(MSR_SYSENTER_EIP, (uint32_t)sysenter_entry);
}
#endif

/* ---------------------------------------------------------------- paging */

#define POOL_PAGES 96
static uint8_t pt_pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static int pt_pool_next;
#define TEST_PAGES 32
static uint8_t test_pool[TEST_PAGES][4096] __attribute__((aligned(4096)));
static int test_pool_next;

static void *pt_alloc(void) {
  if (pt_pool_next >= POOL_PAGES) {
    print("page-table pool exhausted\n");
    exit_program(0x7d);
  }
  void *p = pt_pool[pt_pool_next++];
  memset(p, 0, 4096);
  return p;
}

void *alloc_page(void) {
  if (test_pool_next >= TEST_PAGES) {
    print("test page pool exhausted\n");
    exit_program(0x7d);
  }
  void *p = test_pool[test_pool_next++];
  memset(p, 0, 4096);
  return p;
}

#ifndef __x86_64__
static uint32_t *pd32;

void paging32_enable(int pse, int wp) {
  pt_pool_next = 0;
  pd32 = pt_alloc();
  for (uint32_t mb4 = 0; mb4 < IDENTITY_MB / 4; mb4++) {
    if (pse) {
      pd32[mb4] = (mb4 << 22) | PTE_PS | PTE_U | PTE_W | PTE_P;
    } else {
      uint32_t *pt = pt_alloc();
      for (uint32_t i = 0; i < 1024; i++) pt[i] = (mb4 << 22) | (i << 12) | PTE_U | PTE_W | PTE_P;
      pd32[mb4] = (uint32_t)pt | PTE_U | PTE_W | PTE_P;
    }
  }
  write_cr(3, pd32);
  write_cr(4, (read_cr(4) & ~(ureg)CR4_PAE) | (pse ? CR4_PSE : 0));
  ureg cr0 = read_cr(0) | CR0_PG;
  cr0 = wp ? (cr0 | CR0_WP) : (cr0 & ~(ureg)CR0_WP);
  write_cr(0, cr0);
}

uint32_t *pte32(uint32_t va) {
  uint32_t pde = pd32[va >> 22];
  if (!(pde & PTE_P) || (pde & PTE_PS)) return &pd32[va >> 22];
  return &((uint32_t *)(pde & ~0xfffu))[(va >> 12) & 1023];
}

void map32(uint32_t va, uint32_t pa, uint32_t flags) {
  uint32_t *pde = &pd32[va >> 22];
  if (!(*pde & PTE_P)) {
    *pde = (uint32_t)pt_alloc() | PTE_U | PTE_W | PTE_P;
  } else if (*pde & PTE_PS) {
    uint32_t base = *pde & 0xffc00000u, fl = *pde & 0xfffu & ~(uint32_t)PTE_PS;
    uint32_t *pt = pt_alloc();
    for (uint32_t i = 0; i < 1024; i++) pt[i] = (base + (i << 12)) | fl;
    *pde = (uint32_t)pt | PTE_U | PTE_W | PTE_P;
  }
  uint32_t *pt = (uint32_t *)(*pde & ~0xfffu);
  pt[(va >> 12) & 1023] = (pa & ~0xfffu) | flags;
  flush_tlb();
}

static uint64_t *pdpt_pae;

void paging_pae_enable(int wp, int nxe) {
  pt_pool_next = 0;
  pdpt_pae = pt_alloc();   /* only the first 32 bytes are the PDPT */
  for (int i = 0; i < 4; i++) pdpt_pae[i] = (uint32_t)pt_alloc() | PTE_P;
  uint64_t *pd0 = (uint64_t *)(uint32_t)(pdpt_pae[0] & ~0xfffULL);
  for (uint32_t mb2 = 0; mb2 < IDENTITY_MB / 2; mb2++) {
    uint64_t *pt = pt_alloc();
    for (uint32_t i = 0; i < 512; i++) pt[i] = (mb2 << 21) | (i << 12) | PTE_U | PTE_W | PTE_P;
    pd0[mb2] = (uint32_t)pt | PTE_U | PTE_W | PTE_P;
  }
  if (nxe) wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
  write_cr(3, pdpt_pae);
  write_cr(4, (read_cr(4) & ~(ureg)CR4_PSE) | CR4_PAE);
  ureg cr0 = read_cr(0) | CR0_PG;
  cr0 = wp ? (cr0 | CR0_WP) : (cr0 & ~(ureg)CR0_WP);
  write_cr(0, cr0);
}

uint64_t *pte_pae(uint32_t va) {
  uint64_t *pd = (uint64_t *)(uint32_t)(pdpt_pae[va >> 30] & ~0xfffULL);
  uint64_t *pde = &pd[(va >> 21) & 511];
  if (!(*pde & PTE_P) || (*pde & PTE_PS)) return pde;
  return &((uint64_t *)(uint32_t)(*pde & 0xfffff000ULL))[(va >> 12) & 511];
}

void map_pae(uint32_t va, uint64_t pa, uint64_t flags) {
  uint64_t *pd = (uint64_t *)(uint32_t)(pdpt_pae[va >> 30] & ~0xfffULL);
  uint64_t *pde = &pd[(va >> 21) & 511];
  if (!(*pde & PTE_P)) {
    *pde = (uint32_t)pt_alloc() | PTE_U | PTE_W | PTE_P;
  } else if (*pde & PTE_PS) {
    uint64_t base = *pde & 0xffe00000ULL, fl = *pde & (0xfffULL | PTE_NX) & ~PTE_PS;
    uint64_t *pt = pt_alloc();
    for (uint32_t i = 0; i < 512; i++) pt[i] = (base + (i << 12)) | fl;
    *pde = (uint32_t)pt | PTE_U | PTE_W | PTE_P;
  }
  uint64_t *pt = (uint64_t *)(uint32_t)(*pde & 0xfffff000ULL);
  pt[(va >> 12) & 511] = (pa & ~0xfffULL) | flags;
  flush_tlb();
}

void paging_disable(void) {
  write_cr(0, read_cr(0) & ~(ureg)(CR0_PG | CR0_WP));
  write_cr(4, read_cr(4) & ~(ureg)(CR4_PAE | CR4_PSE | CR4_PGE));
  write_cr(3, 0);
}
#else
extern uint64_t boot_pml4[];

static uint64_t *next_table(uint64_t *entry) {
  if (!(*entry & PTE_P)) *entry = (uint64_t)(uintptr_t)pt_alloc() | PTE_U | PTE_W | PTE_P;
  return (uint64_t *)(uintptr_t)(*entry & 0x000ffffffffff000ULL);
}

uint64_t *pte64(uint64_t va) {
  uint64_t *e = &boot_pml4[(va >> 39) & 511];
  for (int shift = 30; shift >= 12; shift -= 9) {
    if (!(*e & PTE_P)) return e;
    uint64_t *t = (uint64_t *)(uintptr_t)(*e & 0x000ffffffffff000ULL);
    e = &t[(va >> shift) & 511];
    if (shift != 12 && (*e & PTE_PS)) return e;
  }
  return e;
}

void map64(uint64_t va, uint64_t pa, uint64_t flags) {
  uint64_t *pdpt = next_table(&boot_pml4[(va >> 39) & 511]);
  uint64_t *pd = next_table(&pdpt[(va >> 30) & 511]);
  uint64_t *pde = &pd[(va >> 21) & 511];
  if ((*pde & PTE_P) && (*pde & PTE_PS)) {
    uint64_t base = *pde & 0x000fffffffe00000ULL, fl = *pde & (0xfffULL | PTE_NX) & ~PTE_PS;
    uint64_t *pt = pt_alloc();
    for (uint64_t i = 0; i < 512; i++) pt[i] = (base + (i << 12)) | fl;
    *pde = (uint64_t)(uintptr_t)pt | PTE_U | PTE_W | PTE_P;
  }
  uint64_t *pt = next_table(pde);
  pt[(va >> 12) & 511] = (pa & 0x000ffffffffff000ULL) | flags;
  flush_tlb();
}
#endif

/* ------------------------------------------------------------- real mode */

#ifndef __x86_64__
extern uint8_t rm_tramp_start[], rm_tramp_end[], rm_regs_area[];
extern void rm_enter(void);
#define RM_TRAMP_ADDR 0x8000

void realmode_call(const void *code, size_t len, struct rm_regs *r) {
  uint8_t *low = (uint8_t *)(uintptr_t)RM_TRAMP_ADDR;
  memcpy(low, rm_tramp_start, (size_t)(rm_tramp_end - rm_tramp_start));
  memcpy((void *)(uintptr_t)RM_CODE_ADDR, code, len);
  gdt_set(SEL_KCODE16, RM_TRAMP_ADDR, 0xffff, 0x9a, 0);
  gdt_set(SEL_KDATA16, 0, 0xffff, 0x92, 0);
  struct rm_regs *lr = (struct rm_regs *)(low + (rm_regs_area - rm_tramp_start));
  memcpy(lr, r, sizeof *r);
  rm_enter();
  memcpy(r, lr, sizeof *r);
}
#endif

/* ------------------------------------------------------- string helpers */

void *memset(void *d, int c, size_t n) {
  uint8_t *p = d;
  while (n--) *p++ = (uint8_t)c;
  return d;
}

void *memcpy(void *d, const void *s, size_t n) {
  uint8_t *dp = d;
  const uint8_t *sp = s;
  while (n--) *dp++ = *sp++;
  return d;
}

void *memmove(void *d, const void *s, size_t n) {
  uint8_t *dp = d;
  const uint8_t *sp = s;
  if (dp < sp) {
    while (n--) *dp++ = *sp++;
  } else {
    while (n--) dp[n] = sp[n];
  }
  return d;
}

int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *x = a, *y = b;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}
