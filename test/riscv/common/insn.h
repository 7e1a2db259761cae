/* Inline-asm wrappers that force a specific instruction, so each test runs the
 * instruction it names rather than whatever the compiler prefers. */
#ifndef RISCV_TEST_INSN_H
#define RISCV_TEST_INSN_H

#include <stdint.h>

#define U64(x) ((uint64_t)(x))

/* rd = op rs1, rs2 */
#define RR(op, a, b) ({ uint64_t _r; \
  __asm__ volatile(op " %0, %1, %2" : "=r"(_r) : "r"(U64(a)), "r"(U64(b))); _r; })
/* rd = op rs1, imm */
#define RI(op, a, imm) ({ uint64_t _r; \
  __asm__ volatile(op " %0, %1, %2" : "=r"(_r) : "r"(U64(a)), "i"(imm)); _r; })
/* rd = op rs1 */
#define R1(op, a) ({ uint64_t _r; \
  __asm__ volatile(op " %0, %1" : "=r"(_r) : "r"(U64(a))); _r; })

/* FP helpers: operate on raw bit patterns so NaN payloads and signed zeros
 * survive; return the integer view of the result (fmv.x.d of the f register,
 * so single-precision results show their NaN-boxing). */
#define FOP2(op, a, b) ({ uint64_t _r; \
  __asm__ volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n " op " ft2, ft0, ft1\n fmv.x.d %0, ft2" \
    : "=r"(_r) : "r"(U64(a)), "r"(U64(b)) : "ft0", "ft1", "ft2"); _r; })
#define FOP1(op, a) ({ uint64_t _r; \
  __asm__ volatile("fmv.d.x ft0, %1\n " op " ft2, ft0\n fmv.x.d %0, ft2" \
    : "=r"(_r) : "r"(U64(a)) : "ft0", "ft2"); _r; })
#define FOP3(op, a, b, c) ({ uint64_t _r; \
  __asm__ volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n fmv.d.x ft2, %3\n " op " ft3, ft0, ft1, ft2\n fmv.x.d %0, ft3" \
    : "=r"(_r) : "r"(U64(a)), "r"(U64(b)), "r"(U64(c)) : "ft0", "ft1", "ft2", "ft3"); _r; })
/* Same with an explicit static rounding mode operand ("rne", "rtz", "rdn",
 * "rup", "rmm" or "dyn"). */
#define FOP2R(op, rm, a, b) ({ uint64_t _r; \
  __asm__ volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n " op " ft2, ft0, ft1, " rm "\n fmv.x.d %0, ft2" \
    : "=r"(_r) : "r"(U64(a)), "r"(U64(b)) : "ft0", "ft1", "ft2"); _r; })
#define FOP1R(op, rm, a) ({ uint64_t _r; \
  __asm__ volatile("fmv.d.x ft0, %1\n " op " ft2, ft0, " rm "\n fmv.x.d %0, ft2" \
    : "=r"(_r) : "r"(U64(a)) : "ft0", "ft2"); _r; })
#define FOP3R(op, rm, a, b, c) ({ uint64_t _r; \
  __asm__ volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n fmv.d.x ft2, %3\n " op " ft3, ft0, ft1, ft2, " rm "\n fmv.x.d %0, ft3" \
    : "=r"(_r) : "r"(U64(a)), "r"(U64(b)), "r"(U64(c)) : "ft0", "ft1", "ft2", "ft3"); _r; })
#define FTOIR(op, rm, a) ({ uint64_t _r; \
  __asm__ volatile("fmv.d.x ft0, %1\n " op " %0, ft0, " rm : "=r"(_r) : "r"(U64(a)) : "ft0"); _r; })
#define ITOFR(op, rm, a) ({ uint64_t _r; \
  __asm__ volatile(op " ft0, %1, " rm "\n fmv.x.d %0, ft0" : "=r"(_r) : "r"(U64(a)) : "ft0"); _r; })

/* FP compare/classify/convert to integer: integer rd. */
#define FCMP(op, a, b) ({ uint64_t _r; \
  __asm__ volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n " op " %0, ft0, ft1" \
    : "=r"(_r) : "r"(U64(a)), "r"(U64(b)) : "ft0", "ft1"); _r; })
#define FTOI(op, a) ({ uint64_t _r; \
  __asm__ volatile("fmv.d.x ft0, %1\n " op " %0, ft0" \
    : "=r"(_r) : "r"(U64(a)) : "ft0"); _r; })
/* Integer to FP: FP rd, integer rs1. */
#define ITOF(op, a) ({ uint64_t _r; \
  __asm__ volatile(op " ft0, %1\n fmv.x.d %0, ft0" \
    : "=r"(_r) : "r"(U64(a)) : "ft0"); _r; })

/* NaN-box a single-precision bit pattern. */
#define BOX(x) (U64(x) | 0xffffffff00000000ULL)

static inline uint64_t fflags_swap0(void) {
  uint64_t f;
  __asm__ volatile("fsflags %0, x0" : "=r"(f));
  return f;
}
static inline void fflags_clear(void) { __asm__ volatile("fsflags x0"); }
static inline void frm_set(uint64_t rm) { __asm__ volatile("fsrm %0" :: "r"(rm)); }
static inline uint64_t frm_get(void) {
  uint64_t r;
  __asm__ volatile("frrm %0" : "=r"(r));
  return r;
}

#endif
