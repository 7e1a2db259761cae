/* Shared by strings32.c and strings64.c: MOVS CMPS SCAS LODS STOS at every
 * element size, without prefix, with REP / REPE / REPNE, with DF clear and
 * set, for counts 0, 1 and 5. Each line prints the final count register,
 * the source/destination pointers relative to their buffers, the arithmetic
 * flags (unchanged for MOVS/LODS/STOS, those of the last comparison for
 * CMPS/SCAS, unchanged when the count is 0), the accumulator for LODS and
 * the destination buffer for MOVS/STOS. */
#ifndef STRING_TEMPLATE_H
#define STRING_TEMPLATE_H
#include "lib.h"

#define FL_ARITH 0x8d5
#define FL_DF 0x400
#define SBUF 64

static uint8_t s_src[SBUF] __attribute__((aligned(16)));
static uint8_t s_dst[SBUF] __attribute__((aligned(16)));

struct sres {
  ureg cx, si, di, ax, flags;
};

typedef void (*str_fn)(ureg cnt, ureg si, ureg di, ureg ax, ureg fin, struct sres *r);

#define STR_OP(name, insn)                                                                       \
  static NOINLINE void name(ureg cnt, ureg si, ureg di, ureg ax, ureg fin, struct sres *r) {     \
    ureg f;                                                                                      \
    __asm__ volatile("push %[fi]\n\tpopf\n\t" insn "\n\tpushf\n\tpop %[f]\n\tcld"                \
                     : "+c"(cnt), "+S"(si), "+D"(di), "+a"(ax), [f] "=&r"(f)                      \
                     : [fi] "r"(fin)                                                              \
                     : "memory", "cc");                                                           \
    r->cx = cnt; r->si = si; r->di = di; r->ax = ax; r->flags = f;                               \
  }

#define STR_SIZES(op, prefix)                                                                     \
  STR_OP(op##b_##prefix, #prefix " " #op "b")                                                    \
  STR_OP(op##w_##prefix, #prefix " " #op "w")                                                    \
  STR_OP(op##l_##prefix, #prefix " " #op "l")
#define STR_SIZES_NP(op)                                                                          \
  STR_OP(op##b_np, #op "b")                                                                      \
  STR_OP(op##w_np, #op "w")                                                                      \
  STR_OP(op##l_np, #op "l")

STR_SIZES_NP(movs)
STR_SIZES(movs, rep)
STR_SIZES_NP(cmps)
STR_SIZES(cmps, repe)
STR_SIZES(cmps, repne)
STR_SIZES_NP(scas)
STR_SIZES(scas, repe)
STR_SIZES(scas, repne)
STR_SIZES_NP(lods)
STR_SIZES(lods, rep)
STR_SIZES_NP(stos)
STR_SIZES(stos, rep)
#ifdef __x86_64__
STR_OP(movsq_np, "movsq")
STR_OP(movsq_rep, "rep movsq")
STR_OP(cmpsq_np, "cmpsq")
STR_OP(cmpsq_repe, "repe cmpsq")
STR_OP(cmpsq_repne, "repne cmpsq")
STR_OP(scasq_np, "scasq")
STR_OP(scasq_repe, "repe scasq")
STR_OP(scasq_repne, "repne scasq")
STR_OP(lodsq_np, "lodsq")
STR_OP(lodsq_rep, "rep lodsq")
STR_OP(stosq_np, "stosq")
STR_OP(stosq_rep, "rep stosq")
#define STR_FNS(op, p) { op##b_##p, op##w_##p, op##l_##p, op##q_##p }
#define STR_NSIZES 4
#else
#define STR_FNS(op, p) { op##b_##p, op##w_##p, op##l_##p, 0 }
#define STR_NSIZES 3
#endif

enum { S_MOVS, S_CMPS, S_SCAS, S_LODS, S_STOS };
enum { P_NONE, P_REP, P_REPNE };

struct str_op {
  const char *name;
  int kind, prefix;
  str_fn fn[4];
};

static const struct str_op str_ops[] = {
  { "movs", S_MOVS, P_NONE, STR_FNS(movs, np) },    { "rep movs", S_MOVS, P_REP, STR_FNS(movs, rep) },
  { "cmps", S_CMPS, P_NONE, STR_FNS(cmps, np) },    { "repe cmps", S_CMPS, P_REP, STR_FNS(cmps, repe) },
  { "repne cmps", S_CMPS, P_REPNE, STR_FNS(cmps, repne) },
  { "scas", S_SCAS, P_NONE, STR_FNS(scas, np) },    { "repe scas", S_SCAS, P_REP, STR_FNS(scas, repe) },
  { "repne scas", S_SCAS, P_REPNE, STR_FNS(scas, repne) },
  { "lods", S_LODS, P_NONE, STR_FNS(lods, np) },    { "rep lods", S_LODS, P_REP, STR_FNS(lods, rep) },
  { "stos", S_STOS, P_NONE, STR_FNS(stos, np) },    { "rep stos", S_STOS, P_REP, STR_FNS(stos, rep) },
};

/* Element k (0-based) of a run starting at byte offset start. */
static int str_elem(int start, int k, int size, int df) { return df ? start - k * size : start + k * size; }

static void string_tests(void) {
  static const char sz[4] = { 'b', 'w', 'l', 'q' };
  static const unsigned counts[3] = { 0, 1, 5 };
  const ureg acc = (ureg)0x5a5a5a5a5a5a5a5aULL;
  for (unsigned o = 0; o < ARRAY_SIZE(str_ops); o++) {
    const struct str_op *op = &str_ops[o];
    for (int si = 0; si < STR_NSIZES; si++) {
      int size = 1 << si;
      for (int df = 0; df < 2; df++) {
        for (int c = 0; c < 3; c++) {
          if (op->prefix == P_NONE && c != 2) continue;
          /* buffers: src = 0x40, 0x41, ...; dst depends on the op */
          for (int i = 0; i < SBUF; i++) s_src[i] = (uint8_t)(0x40 + i);
          int start = df ? 40 : 8;
          int k = 2;  /* the element where REPE/REPNE stop */
          int e = str_elem(start, k, size, df);
          if (op->kind == S_CMPS) {
            for (int i = 0; i < SBUF; i++) s_dst[i] = op->prefix == P_REPNE ? (uint8_t)~s_src[i] : s_src[i];
            for (int b = 0; b < size; b++) s_dst[e + b] = op->prefix == P_REPNE ? s_src[e + b] : (uint8_t)(s_src[e + b] ^ (b == size - 1 ? 0x80 : 0));
          } else if (op->kind == S_SCAS) {
            for (int i = 0; i < SBUF; i++) s_dst[i] = op->prefix == P_REPNE ? 0x33 : 0x5a;
            for (int b = 0; b < size; b++) s_dst[e + b] = op->prefix == P_REPNE ? 0x5a : (b == size - 1 ? 0x6a : 0x5a);
          } else {
            for (int i = 0; i < SBUF; i++) s_dst[i] = 0xee;
          }
          ureg fin = (c == 1 ? 0x8d7 : 0x002) | (df ? FL_DF : 0);
          struct sres r;
          op->fn[si](counts[c], (ureg)&s_src[start], (ureg)&s_dst[start], acc, fin, &r);
          printf("%s%c df=%d n=%u: cx=%lx si=%+ld di=%+ld", op->name, sz[si], df, counts[c],
                 (unsigned long)r.cx, (long)(r.si - (ureg)s_src), (long)(r.di - (ureg)s_dst));
          printf(" f=%03lx", (unsigned long)(r.flags & (FL_ARITH | FL_DF)));
          if (op->kind == S_LODS) printf(" ax=%llx", (unsigned long long)r.ax);
          if (op->kind == S_MOVS || op->kind == S_STOS) {
            printf(" dst=");
            for (int i = 0; i < SBUF; i++) printf("%02x", s_dst[i]);
          }
          printf("\n");
        }
      }
    }
  }
}

#endif
