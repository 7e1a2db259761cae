/* The x87 case runner shared by the host oracle (hosted.c, real CPU) and the QEMU
 * program (baremetal.c, a Multiboot program for qemu-system-x86_64).
 *
 * A case is: an initial x87 state as a 108-byte FRSTOR image (control word, status
 * word with TOP, tag word, ST0..ST7), EFLAGS, the first bytes of a 1 KiB data buffer
 * that rbx points to, and x86-64 machine code (x87 instructions addressing [rbx+d]).
 * The runner builds and calls
 *     push rbx; mov rbx, rdi; push qword [rcx]; popfq; frstor [rsi]
 *     <code>
 *     pushfq; pop qword [rcx]; fnsave [rdx]; pop rbx; ret
 * and prints one line:
 *     name CW SW TAG EFLAGS MEM ST0 .. ST7
 * (hex; EFLAGS masked to the six arithmetic flags; MEM the first memlen bytes of the
 * buffer, "-" if none; an empty register as "-", else "seee:mmmmmmmmmmmmmmmm"). */
#ifndef X87_RUNNER_H
#define X87_RUNNER_H

#include <stdint.h>

#define X87_BUF_SIZE 1024

typedef struct {
  const char *name;
  uint16_t cw, sw, tag;
  uint64_t eflags;
  int memlen;                /* bytes of the buffer printed after the run */
  int meminlen;              /* initial bytes given (the rest is zero) */
  const uint8_t *mem;
  int codelen;
  const uint8_t *code;
  uint8_t regs[80];          /* ST0..ST7, 10 bytes each */
} x87_case;

typedef void (*x87_stub)(uint8_t *buf, const uint8_t *img, uint8_t *out, uint64_t *flags);

static const uint8_t X87_PRE[] = { 0x53, 0x48, 0x89, 0xfb, 0xff, 0x31, 0x9d, 0xdd, 0x26 };
static const uint8_t X87_POST[] = { 0x9c, 0x8f, 0x01, 0xdd, 0x32, 0x5b, 0xc3 };

/* Writes the stub for c into page; returns it as a function. */
static x87_stub x87_build(uint8_t *page, const x87_case *c) {
  int n = 0;
  for (unsigned i = 0; i < sizeof X87_PRE; i++) page[n++] = X87_PRE[i];
  for (int i = 0; i < c->codelen; i++) page[n++] = c->code[i];
  for (unsigned i = 0; i < sizeof X87_POST; i++) page[n++] = X87_POST[i];
  __builtin___clear_cache((char *)page, (char *)page + n);
  return (x87_stub)(uintptr_t)page;
}

static void x87_image(const x87_case *c, uint8_t img[108]) {
  for (int i = 0; i < 108; i++) img[i] = 0;
  img[0] = c->cw; img[1] = c->cw >> 8;
  img[4] = c->sw; img[5] = c->sw >> 8;
  img[8] = c->tag; img[9] = c->tag >> 8;
  for (int i = 0; i < 80; i++) img[28 + i] = c->regs[i];
}

static char *x87_hex(char *p, uint64_t v, int digits) {
  static const char hexd[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; i--) *p++ = hexd[(v >> (4 * i)) & 15];
  return p;
}

/* Formats the result line into line (at least 3 KiB). */
static void x87_format(char *line, const x87_case *c, const uint8_t out[108], const uint8_t *buf, uint64_t flags) {
  char *p = line;
  for (const char *s = c->name; *s; s++) *p++ = *s;
  *p++ = ' ';
  uint16_t tag = out[8] | (out[9] << 8);
  uint16_t sw = out[4] | (out[5] << 8);
  p = x87_hex(p, out[0] | (out[1] << 8), 4); *p++ = ' ';
  p = x87_hex(p, sw, 4); *p++ = ' ';
  p = x87_hex(p, tag, 4); *p++ = ' ';
  p = x87_hex(p, flags & 0x8d5, 3); *p++ = ' ';
  if (c->memlen == 0) *p++ = '-';
  for (int i = 0; i < c->memlen; i++) p = x87_hex(p, buf[i], 2);
  int top = (sw >> 11) & 7;
  for (int i = 0; i < 8; i++) {
    *p++ = ' ';
    if (((tag >> (2 * ((top + i) & 7))) & 3) == 3) {
      *p++ = '-';
      continue;
    }
    const uint8_t *r = out + 28 + 10 * i;
    p = x87_hex(p, r[8] | (r[9] << 8), 4);
    *p++ = ':';
    uint64_t m = 0;
    for (int k = 7; k >= 0; k--) m = (m << 8) | r[k];
    p = x87_hex(p, m, 16);
  }
  *p = 0;
}

/* Runs one case; page is writable and executable, buf X87_BUF_SIZE bytes, 64-byte aligned. */
static void x87_run(uint8_t *page, uint8_t *buf, const x87_case *c, char *line) {
  static uint8_t img[108] __attribute__((aligned(16)));
  static uint8_t out[108] __attribute__((aligned(16)));
  x87_image(c, img);
  for (int i = 0; i < X87_BUF_SIZE; i++) buf[i] = i < c->meminlen ? c->mem[i] : 0;
  uint64_t flags = c->eflags;
  x87_stub f = x87_build(page, c);
  f(buf, img, out, &flags);
  x87_format(line, c, out, buf, flags);
}

#endif
