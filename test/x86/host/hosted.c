/* Developer tool, not part of the corpus run: lets a user-level corpus
 * program (ALU, shifts, x87, SSE, ...) run as a Linux process on the host
 * CPU, to compare QEMU's recorded output with real hardware (see
 * host-check.mjs). Exceptions become signals: the handler emulates the
 * runtime's TRAP_BEGIN/TRAP_END recovery with a best-effort vector. */
#undef main
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

typedef uintptr_t ureg;
extern volatile ureg trap_resume, trap_expect_ip;
extern volatile ureg trap_count, trap_vector, trap_error, trap_ip, trap_cs, trap_cr2, trap_flags, trap_sp;

/* Symbols of crt32.S/crt64.S that lib.c refers to. */
uint8_t isr_stubs[4096], trap_stack_top[16], user_stack_top[16], sysenter_stack_top[16],
    syscall_stack_top[16], ist_stack_top[16], rm_tramp_start[1], rm_tramp_end[1], rm_regs_area[64];
uint64_t gdt[32], boot_pml4[512];
uint32_t mb_magic = 0x2badb002, mb_info;
void sysenter_entry(void) {}
void syscall_entry(void) {}
void kernel_return(void) {}
void rm_enter(void) {}
ureg run_user_iopl(ureg (*fn)(ureg), ureg arg, int iopl) { (void)iopl; return fn(arg); }
ureg run_user_compat(ureg fn, ureg arg) { (void)fn; return arg; }

static char obuf[1 << 20];
static size_t on;
static void flush(void) {
  size_t off = 0;
  while (off < on) {
    ssize_t w = write(1, obuf + off, on - off);
    if (w <= 0) break;
    off += (size_t)w;
  }
  on = 0;
}
void host_putc(char c) {
  if (on == sizeof obuf) flush();
  obuf[on++] = c;
}
void host_exit(int status) {
  flush();
  _exit((status << 1) | 1);
}

static void on_signal(int sig, siginfo_t *si, void *uc_) {
  ucontext_t *uc = uc_;
#ifdef __x86_64__
  greg_t *ip = &uc->uc_mcontext.gregs[REG_RIP];
#else
  greg_t *ip = &uc->uc_mcontext.gregs[REG_EIP];
#endif
  if (!trap_resume) {
    static const char msg[] = "UNEXPECTED SIGNAL\n";
    flush();
    write(2, msg, sizeof msg - 1);
    _exit(0xfd);
  }
  trap_count++;
  trap_vector = sig == SIGFPE ? (si->si_code == FPE_INTDIV || si->si_code == FPE_INTOVF ? 0 : 19)
              : sig == SIGILL ? 6 : sig == SIGTRAP ? 3 : sig == SIGBUS ? 17 : 13;
  trap_error = 0;
  trap_ip = (ureg)*ip;
  *ip = (greg_t)trap_resume;
  trap_resume = 0;
}

__attribute__((constructor)) static void setup(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  int sigs[] = { SIGILL, SIGFPE, SIGSEGV, SIGBUS, SIGTRAP };
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, 0);
}

int corpus_main(void);
int main(void) { host_exit(corpus_main()); }
