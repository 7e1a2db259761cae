/* Host oracle: runs x87 cases on the real CPU (x86-64 Linux). One case per line on
 * stdin:
 *     name CW SW TAG EFLAGS MEMLEN MEMHEX|- CODEHEX ST0 .. ST7
 * (ST as "seee:mmmmmmmmmmmmmmmm"); prints the result lines described in runner.h, or
 * "name fault N" if the case raised signal N (an unmasked exception, for instance). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "runner.h"

static sigjmp_buf recover;
static void on_signal(int sig) { siglongjmp(recover, sig); }

static int unhex(const char *s, uint8_t *out, int max) {
  int n = 0;
  if (strcmp(s, "-") == 0) return 0;
  while (s[0] && s[1] && n < max) {
    unsigned v;
    sscanf(s, "%2x", &v);
    out[n++] = v;
    s += 2;
  }
  return n;
}

int main(void) {
  uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  static uint8_t buf[X87_BUF_SIZE] __attribute__((aligned(64)));
  static uint8_t mem[X87_BUF_SIZE], code[256];
  static char line[65536], name[256], memhex[2 * X87_BUF_SIZE + 8], codehex[600], result[8192];
  if (page == MAP_FAILED) return 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  while (fgets(line, sizeof line, stdin)) {
    x87_case c;
    unsigned cw, sw, tag, memlen;
    unsigned long long eflags;
    char regs[8][32];
    if (sscanf(line, "%255s %x %x %x %llx %u %2055s %599s %31s %31s %31s %31s %31s %31s %31s %31s", name, &cw, &sw, &tag,
               &eflags, &memlen, memhex, codehex, regs[0], regs[1], regs[2], regs[3], regs[4], regs[5], regs[6],
               regs[7]) != 16)
      continue;
    c.name = name;
    c.cw = cw;
    c.sw = sw;
    c.tag = tag;
    c.eflags = eflags;
    c.memlen = memlen;
    c.meminlen = unhex(memhex, mem, X87_BUF_SIZE);
    c.mem = mem;
    c.codelen = unhex(codehex, code, sizeof code);
    c.code = code;
    for (int i = 0; i < 8; i++) {
      unsigned se;
      unsigned long long m;
      sscanf(regs[i], "%4x:%16llx", &se, &m);
      for (int k = 0; k < 8; k++) c.regs[10 * i + k] = m >> (8 * k);
      c.regs[10 * i + 8] = se;
      c.regs[10 * i + 9] = se >> 8;
    }
    int sig = sigsetjmp(recover, 1);
    if (sig) {
      __asm__ volatile("fninit");
      printf("%s fault %d\n", name, sig);
      continue;
    }
    x87_run(page, buf, &c, result);
    puts(result);
  }
  return 0;
}
