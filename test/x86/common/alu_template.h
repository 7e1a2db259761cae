/* Shared by int_alu32.c and int_alu64.c: each ALU instruction at each width
 * as a function that loads EFLAGS, runs exactly that instruction (register
 * operands) and returns the result and the EFLAGS after it.
 *
 * Flags printed: CF PF AF ZF SF OF (0x8d5), masked per instruction to the
 * ones the SDM defines: AND/OR/XOR/TEST leave AF undefined. */
#ifndef ALU_TEMPLATE_H
#define ALU_TEMPLATE_H
#include "lib.h"

#define FL_CF 0x001
#define FL_PF 0x004
#define FL_AF 0x010
#define FL_ZF 0x040
#define FL_SF 0x080
#define FL_OF 0x800
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
#define FL_LOGIC (FL_ARITH & ~FL_AF)

typedef uint64_t (*alu_fn)(uint64_t a, uint64_t b, ureg fin, ureg *fout);

#define ALU2(name, insn, T, cons)                                                              \
  static NOINLINE uint64_t name(uint64_t a, uint64_t b, ureg fin, ureg *fo) {                  \
    T x = (T)a;                                                                                \
    ureg f;                                                                                    \
    __asm__ volatile("push %[fi]\n\tpopf\n\t" insn " %[y], %[x]\n\tpushf\n\tpop %[f]"          \
                     : [x] "+" cons(x), [f] "=&r"(f)                                          \
                     : [y] cons((T)b), [fi] "r"(fin)                                           \
                     : "cc");                                                                  \
    *fo = f;                                                                                   \
    return x;                                                                                  \
  }
#define ALU1(name, insn, T, cons)                                                              \
  static NOINLINE uint64_t name(uint64_t a, uint64_t b, ureg fin, ureg *fo) {                  \
    T x = (T)a;                                                                                \
    ureg f;                                                                                    \
    (void)b;                                                                                   \
    __asm__ volatile("push %[fi]\n\tpopf\n\t" insn " %[x]\n\tpushf\n\tpop %[f]"                \
                     : [x] "+" cons(x), [f] "=&r"(f)                                          \
                     : [fi] "r"(fin)                                                           \
                     : "cc");                                                                  \
    *fo = f;                                                                                   \
    return x;                                                                                  \
  }

#define ALU_WIDTHS_2(op)                                                                       \
  ALU2(op##_8, #op "b", uint8_t, "q")                                                         \
  ALU2(op##_16, #op "w", uint16_t, "r")                                                       \
  ALU2(op##_32, #op "l", uint32_t, "r")
#define ALU_WIDTHS_1(op)                                                                       \
  ALU1(op##_8, #op "b", uint8_t, "q")                                                         \
  ALU1(op##_16, #op "w", uint16_t, "r")                                                       \
  ALU1(op##_32, #op "l", uint32_t, "r")

ALU_WIDTHS_2(add)
ALU_WIDTHS_2(adc)
ALU_WIDTHS_2(sub)
ALU_WIDTHS_2(sbb)
ALU_WIDTHS_2(cmp)
ALU_WIDTHS_2(and)
ALU_WIDTHS_2(or)
ALU_WIDTHS_2(xor)
ALU_WIDTHS_2(test)
ALU_WIDTHS_1(inc)
ALU_WIDTHS_1(dec)
ALU_WIDTHS_1(neg)
ALU_WIDTHS_1(not)
#ifdef __x86_64__
ALU2(add_64, "addq", uint64_t, "r")
ALU2(adc_64, "adcq", uint64_t, "r")
ALU2(sub_64, "subq", uint64_t, "r")
ALU2(sbb_64, "sbbq", uint64_t, "r")
ALU2(cmp_64, "cmpq", uint64_t, "r")
ALU2(and_64, "andq", uint64_t, "r")
ALU2(or_64, "orq", uint64_t, "r")
ALU2(xor_64, "xorq", uint64_t, "r")
ALU2(test_64, "testq", uint64_t, "r")
ALU1(inc_64, "incq", uint64_t, "r")
ALU1(dec_64, "decq", uint64_t, "r")
ALU1(neg_64, "negq", uint64_t, "r")
ALU1(not_64, "notq", uint64_t, "r")
#define ALU_FNS(op) { op##_8, op##_16, op##_32, op##_64 }
#else
#define ALU_FNS(op) { op##_8, op##_16, op##_32, 0 }
#endif

struct alu_op {
  const char *name;
  alu_fn fn[4];       /* 8, 16, 32, 64 */
  int unary;
  ureg fin;           /* EFLAGS before the instruction */
  ureg mask;          /* defined flags */
};

static const struct alu_op alu_ops[] = {
  { "add", ALU_FNS(add), 0, 0x002, FL_ARITH },
  { "adc0", ALU_FNS(adc), 0, 0x002, FL_ARITH },
  { "adc1", ALU_FNS(adc), 0, 0x003, FL_ARITH },
  { "sub", ALU_FNS(sub), 0, 0x002, FL_ARITH },
  { "sbb0", ALU_FNS(sbb), 0, 0x002, FL_ARITH },
  { "sbb1", ALU_FNS(sbb), 0, 0x003, FL_ARITH },
  { "cmp", ALU_FNS(cmp), 0, 0x002, FL_ARITH },
  { "and", ALU_FNS(and), 0, 0x002, FL_LOGIC },
  { "or", ALU_FNS(or), 0, 0x002, FL_LOGIC },
  { "xor", ALU_FNS(xor), 0, 0x002, FL_LOGIC },
  { "test", ALU_FNS(test), 0, 0x002, FL_LOGIC },
  /* INC/DEC leave CF alone: run with CF = 1 and with every flag set. */
  { "inc", ALU_FNS(inc), 1, 0x003, FL_ARITH },
  { "inc-allset", ALU_FNS(inc), 1, 0x8d7, FL_ARITH },
  { "dec", ALU_FNS(dec), 1, 0x003, FL_ARITH },
  { "dec-allset", ALU_FNS(dec), 1, 0x8d7, FL_ARITH },
  { "neg", ALU_FNS(neg), 1, 0x002, FL_ARITH },
  /* NOT changes no flag. */
  { "not", ALU_FNS(not), 1, 0x8d7, FL_ARITH },
  { "not-clear", ALU_FNS(not), 1, 0x002, FL_ARITH },
};

static const uint64_t alu_vals8[] = { 0x00, 0x01, 0x0f, 0x7f, 0x80, 0xff, 0x5a, 0xc3 };
static const uint64_t alu_vals16[] = { 0x0000, 0x0001, 0x00ff, 0x7fff, 0x8000, 0xffff, 0x5a0f, 0xc3a5 };
static const uint64_t alu_vals32[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x0000ffff, 0x12345678,
                                       0xedcba98f };
static const uint64_t alu_vals64[] = { 0, 1, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
                                       0xffffffffffffffffULL, 0x00000000ffffffffULL,
                                       0x123456789abcdef0ULL, 0xfedcba9876543211ULL };

/* One line per operand pair: "add.8 7f,01 = 80 f=890". */
static void alu_table(int wi) {
  static const int bits[4] = { 8, 16, 32, 64 };
  const uint64_t *vals = wi == 0 ? alu_vals8 : wi == 1 ? alu_vals16 : wi == 2 ? alu_vals32 : alu_vals64;
  int digits = bits[wi] / 4;
  for (unsigned o = 0; o < ARRAY_SIZE(alu_ops); o++) {
    const struct alu_op *op = &alu_ops[o];
    for (int i = 0; i < 8; i++) {
      for (int j = 0; j < (op->unary ? 1 : 8); j++) {
        ureg f;
        uint64_t r = op->fn[wi](vals[i], vals[j], op->fin, &f);
        if (op->unary) {
          printf("%s.%d %0*llx = %0*llx f=%03lx\n", op->name, bits[wi], digits, (unsigned long long)vals[i],
                 digits, (unsigned long long)r, (unsigned long)(f & op->mask));
        } else {
          printf("%s.%d %0*llx,%0*llx = %0*llx f=%03lx\n", op->name, bits[wi], digits,
                 (unsigned long long)vals[i], digits, (unsigned long long)vals[j], digits,
                 (unsigned long long)r, (unsigned long)(f & op->mask));
        }
      }
    }
  }
}

#endif
