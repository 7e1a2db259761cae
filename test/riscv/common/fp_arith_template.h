/* Shared body of fp_single.c and fp_double.c. The includer defines:
 *   SUF      ".s" or ".d"
 *   PREC     "s" or "d" (used in labels)
 *   LOADV(x) the 64-bit f-register image of a table value (NaN-boxed for .s)
 *   fvals[]  the operand table (raw bit patterns)
 *   print_fp(uint64_t r)  prints a result (for .s: low 32 bits, with a '!'
 *            suffix when the value is not properly NaN-boxed)
 *
 * Every result is printed with the fflags it raised ("result/flags"). rne
 * results are printed in full; for the other static modes a result equal to
 * the rne one (value and flags) prints as "=". The dynamic-mode (frm)
 * variants are compared against the static ones and only disagreements are
 * printed.
 */

#define RM_LIST(X, op) X(op, rne, "rne") X(op, rtz, "rtz") X(op, rdn, "rdn") X(op, rup, "rup") X(op, rmm, "rmm") X(op, dyn, "dyn")

typedef uint64_t (*fp2_fn)(uint64_t, uint64_t);
typedef uint64_t (*fp1_fn)(uint64_t);

#define DEF2(op, tag, rm) static uint64_t op##_##tag(uint64_t a, uint64_t b) { return FOP2R(#op SUF, rm, a, b); }
#define DEF1(op, tag, rm) static uint64_t op##_##tag(uint64_t a) { return FOP1R(#op SUF, rm, a); }
RM_LIST(DEF2, fadd)
RM_LIST(DEF2, fsub)
RM_LIST(DEF2, fmul)
RM_LIST(DEF2, fdiv)
RM_LIST(DEF1, fsqrt)
#define TABLE2(op, tag, rm) op##_##tag,
#define TABLE1(op, tag, rm) op##_##tag,

static const char *const rm_names[6] = {"rne", "rtz", "rdn", "rup", "rmm", "dyn"};
static const struct { const char *name; fp2_fn fn[6]; } arith2[] = {
  {"fadd", {RM_LIST(TABLE2, fadd)}},
  {"fsub", {RM_LIST(TABLE2, fsub)}},
  {"fmul", {RM_LIST(TABLE2, fmul)}},
  {"fdiv", {RM_LIST(TABLE2, fdiv)}},
};
static const fp1_fn sqrt_fns[6] = {RM_LIST(TABLE1, fsqrt)};

#define DEFN2(name, op) static uint64_t name(uint64_t a, uint64_t b) { return FOP2(op SUF, a, b); }
#define DEFC2(name, op) static uint64_t name(uint64_t a, uint64_t b) { return FCMP(op SUF, a, b); }
DEFN2(f_min, "fmin") DEFN2(f_max, "fmax") DEFN2(f_sgnj, "fsgnj") DEFN2(f_sgnjn, "fsgnjn")
DEFN2(f_sgnjx, "fsgnjx")
DEFC2(f_eq, "feq") DEFC2(f_lt, "flt") DEFC2(f_le, "fle")

static const struct { const char *name; fp2_fn fn; int int_result; } misc2[] = {
  {"fmin", f_min, 0}, {"fmax", f_max, 0}, {"fsgnj", f_sgnj, 0}, {"fsgnjn", f_sgnjn, 0},
  {"fsgnjx", f_sgnjx, 0}, {"feq", f_eq, 1}, {"flt", f_lt, 1}, {"fle", f_le, 1},
};

#define NF ARRAY_SIZE(fvals)

static void print_flags(uint64_t f) {
  uart_putc('/');
  print_hexn(f, 2);
}

static void print_op_header(const char *name, const char *rm, unsigned i) {
  print(name);
  print(SUF);
  if (rm) {
    uart_putc(' ');
    print(rm);
  }
  print(" a");
  print_udec(i);
  print(":");
}

static void test_arith(void) {
  for (unsigned o = 0; o < ARRAY_SIZE(arith2); o++) {
    /* fsub is fadd with a negated operand: its static non-rne tables add
     * little but output, so it is checked in rne plus the dyn comparison. */
    unsigned static_rms = arith2[o].fn[0] == fsub_rne ? 1 : 5;
    for (unsigned rm = 0; rm < static_rms; rm++) {
      for (unsigned i = 0; i < NF; i++) {
        print_op_header(arith2[o].name, rm_names[rm], i);
        for (unsigned j = 0; j < NF; j++) {
          fflags_clear();
          uint64_t r = arith2[o].fn[rm](LOADV(fvals[i]), LOADV(fvals[j]));
          uint64_t f = fflags_swap0();
          uart_putc(' ');
          if (rm != 0) {
            /* other modes: "=" when result and flags equal the rne ones */
            uint64_t r0 = arith2[o].fn[0](LOADV(fvals[i]), LOADV(fvals[j]));
            uint64_t f0 = fflags_swap0();
            if (r == r0 && f == f0) {
              uart_putc('=');
              continue;
            }
          }
          print_fp(r);
          print_flags(f);
        }
        nl();
      }
    }
    /* dynamic rounding: frm = each mode, must equal the static result */
    unsigned mismatches = 0;
    for (unsigned rm = 0; rm < 5; rm++) {
      frm_set(rm);
      for (unsigned i = 0; i < NF; i++) {
        for (unsigned j = 0; j < NF; j++) {
          fflags_clear();
          uint64_t rs = arith2[o].fn[rm](LOADV(fvals[i]), LOADV(fvals[j]));
          uint64_t fs = fflags_swap0();
          uint64_t rd = arith2[o].fn[5](LOADV(fvals[i]), LOADV(fvals[j]));
          uint64_t fd = fflags_swap0();
          if (rs != rd || fs != fd) {
            if (mismatches++ < 4) {
              print(arith2[o].name); print(SUF); print(" dyn frm="); print_udec(rm);
              print(" a"); print_udec(i); print(" b"); print_udec(j);
              print(": "); print_hex(rd); print_flags(fd);
              print(" static "); print_hex(rs); print_flags(fs); nl();
            }
          }
        }
      }
    }
    frm_set(0);
    print(arith2[o].name); print(SUF); print(" dyn mismatches="); print_udec(mismatches); nl();
  }
}

static void test_sqrt(void) {
  for (unsigned rm = 0; rm < 6; rm++) {
    if (rm == 5) frm_set(3); /* dyn = rup */
    print("fsqrt"); print(SUF); uart_putc(' '); print(rm_names[rm]); print(":");
    for (unsigned i = 0; i < NF; i++) {
      fflags_clear();
      uint64_t r = sqrt_fns[rm](LOADV(fvals[i]));
      uint64_t f = fflags_swap0();
      uart_putc(' ');
      print_fp(r);
      print_flags(f);
    }
    nl();
  }
  frm_set(0);
}

static void test_misc(void) {
  for (unsigned o = 0; o < ARRAY_SIZE(misc2); o++) {
    for (unsigned i = 0; i < NF; i++) {
      print_op_header(misc2[o].name, 0, i);
      for (unsigned j = 0; j < NF; j++) {
        fflags_clear();
        uint64_t r = misc2[o].fn(LOADV(fvals[i]), LOADV(fvals[j]));
        uint64_t f = fflags_swap0();
        uart_putc(' ');
        if (misc2[o].int_result) print_udec(r);
        else print_fp(r);
        print_flags(f);
      }
      nl();
    }
  }
  print("fclass"); print(SUF); print(":");
  for (unsigned i = 0; i < NF; i++) {
    fflags_clear();
    uint64_t r = FTOI("fclass" SUF, LOADV(fvals[i]));
    uint64_t f = fflags_swap0();
    uart_putc(' ');
    print_hexn(r, 3);
    print_flags(f);
  }
  nl();
}

/* fflags accumulate until cleared; fcsr = frm << 5 | fflags. */
static void test_flag_accumulation(void) {
  fflags_clear();
  (void)arith2[3].fn[0](LOADV(fvals[2]), LOADV(fvals[0]));   /* 1/0: DZ */
  (void)arith2[0].fn[0](LOADV(fvals[7]), LOADV(fvals[2]));   /* sNaN: NV */
  (void)arith2[3].fn[0](LOADV(fvals[2]), LOADV(fvals[13]));  /* inexact */
  frm_set(2);
  print("accumulated fcsr="); print_hex(csr_read(fcsr));
  print(" fflags="); print_hex(csr_read(fflags));
  print(" frm="); print_hex(csr_read(frm)); nl();
  frm_set(0);
  fflags_clear();
}

static void run_fp_arith_tests(void) {
  for (unsigned i = 0; i < NF; i++) {
    print("v"); print_udec(i); print("="); print_hex(fvals[i]); nl();
  }
  test_arith();
  test_sqrt();
  test_misc();
  test_flag_accumulation();
}
