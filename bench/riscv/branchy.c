/* Bare-metal branch-heavy benchmark: code whose control flow depends on the
 * data. Each round: a register bytecode VM (switch dispatch through a jump
 * table) runs a Collatz-length program and a sieve; a tokenizer state machine
 * scans generated source text and hashes identifiers, numbers and operators;
 * and a classification pass takes unpredictable branches over random data.
 * Prints one checksum (identical on every correct emulator) and exits 0.
 *
 * ROUNDS (-DROUNDS=n) scales the run time; the default is sized for about
 * 1-2 s on QEMU 7.2 TCG. */
#include "lib.h"

#ifndef ROUNDS
#define ROUNDS 40
#endif

#define NOINLINE __attribute__((noinline))

static uint64_t lcg_state;
static inline uint32_t lcg(void) {
  lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg_state >> 33);
}

/* ---- a register VM: 16 registers, 32-bit instructions op|a|b|c ---- */
enum {
  OP_HALT, OP_LI, OP_MOV, OP_ADD, OP_SUB, OP_MUL, OP_ADDI, OP_ANDI, OP_SHRI,
  OP_BEQ, OP_BNE, OP_BLT, OP_JMP, OP_LD, OP_ST, OP_XOR, OP_SHLI,
};
#define I(op, a, b, c) ((uint32_t)(op) | (uint32_t)(a) << 8 | (uint32_t)(b) << 16 | (uint32_t)(c) << 24)
/* LI a, imm16 */
#define LI(a, imm) I(OP_LI, a, (imm) & 0xff, ((imm) >> 8) & 0xff)

static uint32_t vm_mem[4096];

static NOINLINE uint64_t vm_run(const uint32_t *code, uint64_t *r) {
  uint64_t steps = 0;
  uint32_t pc = 0;
  for (;;) {
    uint32_t insn = code[pc++];
    uint32_t a = (insn >> 8) & 0xff, b = (insn >> 16) & 0xff, c = insn >> 24;
    steps++;
    switch (insn & 0xff) {
      case OP_HALT: return steps;
      case OP_LI: r[a] = b | c << 8; break;
      case OP_MOV: r[a] = r[b]; break;
      case OP_ADD: r[a] = r[b] + r[c]; break;
      case OP_SUB: r[a] = r[b] - r[c]; break;
      case OP_MUL: r[a] = r[b] * r[c]; break;
      case OP_ADDI: r[a] = r[b] + (int8_t)c; break;
      case OP_ANDI: r[a] = r[b] & c; break;
      case OP_SHRI: r[a] = r[b] >> c; break;
      case OP_SHLI: r[a] = r[b] << c; break;
      case OP_XOR: r[a] = r[b] ^ r[c]; break;
      case OP_BEQ: if (r[a] == r[b]) pc = c; break;
      case OP_BNE: if (r[a] != r[b]) pc = c; break;
      case OP_BLT: if (r[a] < r[b]) pc = c; break;
      case OP_JMP: pc = a; break;
      case OP_LD: r[a] = vm_mem[r[b] & 4095]; break;
      case OP_ST: vm_mem[r[b] & 4095] = (uint32_t)r[a]; break;
      default: return ~0ull;
    }
  }
}

/* Sum of Collatz path lengths of r0 .. r2-1; result in r1. */
static const uint32_t collatz_prog[] = {
  /* 0 */ LI(1, 0),
  /* 1 */ LI(6, 1),
  /* 2 */ LI(5, 3),
  /* 3 */ I(OP_MOV, 3, 0, 0),          /* outer: r3 = r0 */
  /* 4 */ I(OP_BEQ, 3, 6, 13),         /* inner: r3 == 1 -> next */
  /* 5 */ I(OP_ANDI, 4, 3, 1),
  /* 6 */ I(OP_ADDI, 1, 1, 1),         /* steps++ */
  /* 7 */ I(OP_BEQ, 4, 6, 10),         /* odd -> 10 */
  /* 8 */ I(OP_SHRI, 3, 3, 1),         /* even: r3 /= 2 */
  /* 9 */ I(OP_JMP, 4, 0, 0),
  /* 10 */ I(OP_MUL, 3, 3, 5),         /* odd: r3 = 3 r3 + 1 */
  /* 11 */ I(OP_ADDI, 3, 3, 1),
  /* 12 */ I(OP_JMP, 4, 0, 0),
  /* 13 */ I(OP_ADDI, 0, 0, 1),        /* next: r0++ */
  /* 14 */ I(OP_BLT, 0, 2, 3),
  /* 15 */ I(OP_HALT, 0, 0, 0),
};

/* Sieve of Eratosthenes over vm_mem[0..r2): count of primes in r1. */
static const uint32_t sieve_prog[] = {
  /* 0 */ LI(0, 0),
  /* 1 */ LI(5, 1),
  /* 2 */ I(OP_ST, 5, 0, 0),           /* clear: mem[r0] = 1 */
  /* 3 */ I(OP_ADDI, 0, 0, 1),
  /* 4 */ I(OP_BLT, 0, 2, 2),
  /* 5 */ LI(0, 2),                    /* r0 = candidate */
  /* 6 */ LI(1, 0),
  /* 7 */ I(OP_LD, 4, 0, 0),           /* outer: r4 = mem[r0] */
  /* 8 */ I(OP_BNE, 4, 5, 15),         /* composite -> next */
  /* 9 */ I(OP_ADDI, 1, 1, 1),         /* prime: count */
  /* 10 */ I(OP_ADD, 3, 0, 0),         /* r3 = 2 r0 */
  /* 11 */ LI(7, 0),
  /* 12 */ I(OP_BLT, 3, 2, 18),        /* r3 < limit -> mark */
  /* 13 */ I(OP_JMP, 15, 0, 0),
  /* 14 */ I(OP_HALT, 0, 0, 0),
  /* 15 */ I(OP_ADDI, 0, 0, 1),        /* next */
  /* 16 */ I(OP_BLT, 0, 2, 7),
  /* 17 */ I(OP_HALT, 0, 0, 0),
  /* 18 */ I(OP_ST, 7, 3, 0),          /* mark: mem[r3] = 0 */
  /* 19 */ I(OP_ADD, 3, 3, 0),         /* r3 += r0 */
  /* 20 */ I(OP_BLT, 3, 2, 18),
  /* 21 */ I(OP_JMP, 15, 0, 0),
};

/* ---- a tokenizer: identifiers, decimal/hex numbers, operators, comments ---- */
#define TEXT_LEN 16384
static char text[TEXT_LEN + 1];

static const char *const words[] = {
  "int", "return", "while", "for", "if", "else", "x", "y0", "count", "ptr_next", "_tmp", "value",
};
static const char ops[] = "+-*/=<>!&|^%;,(){}[]";

static NOINLINE void gen_text(void) {
  size_t i = 0;
  while (i < TEXT_LEN - 40) {
    uint32_t r = lcg();
    switch (r % 9) {
      case 0: case 1: case 2: {
        const char *w = words[(r >> 8) % ARRAY_SIZE(words)];
        while (*w) text[i++] = *w++;
        break;
      }
      case 3: {
        uint32_t v = (r >> 8) % 100000;
        char buf[12];
        int n = 0;
        do { buf[n++] = (char)('0' + v % 10); v /= 10; } while (v);
        while (n) text[i++] = buf[--n];
        break;
      }
      case 4: {
        text[i++] = '0';
        text[i++] = 'x';
        for (int k = 0; k < 1 + (int)((r >> 8) & 7); k++) text[i++] = "0123456789abcdef"[(r >> (12 + k)) & 15];
        break;
      }
      case 5: case 6:
        text[i++] = ops[(r >> 8) % (sizeof ops - 1)];
        if ((r >> 20) & 1) text[i++] = '=';
        break;
      case 7:
        if ((r >> 8) % 8 == 0) {
          const char *c = "/* note */";
          while (*c) text[i++] = *c++;
        } else {
          text[i++] = '\n';
        }
        break;
      default:
        text[i++] = ' ';
        break;
    }
  }
  while (i < TEXT_LEN) text[i++] = ' ';
  text[TEXT_LEN] = 0;
}

enum { T_IDENT, T_NUM, T_OP, T_COUNT };

static NOINLINE uint64_t tokenize(const char *p, uint64_t *counts) {
  uint64_t h = 0;
  for (;;) {
    char c = *p;
    if (c == 0) return h;
    if (c == ' ' || c == '\n' || c == '\t') {
      p++;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
      uint64_t th = 5381;
      while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || (*p >= '0' && *p <= '9')) {
        th = th * 33 + (uint8_t)*p++;
      }
      counts[T_IDENT]++;
      h = (h ^ th) * 0x100000001b3ULL;
    } else if (c >= '0' && c <= '9') {
      uint64_t v = 0;
      if (c == '0' && p[1] == 'x') {
        p += 2;
        for (;;) {
          char d = *p;
          if (d >= '0' && d <= '9') v = v * 16 + (uint64_t)(d - '0');
          else if (d >= 'a' && d <= 'f') v = v * 16 + (uint64_t)(d - 'a' + 10);
          else break;
          p++;
        }
      } else {
        while (*p >= '0' && *p <= '9') v = v * 10 + (uint64_t)(*p++ - '0');
      }
      counts[T_NUM]++;
      h += v;
    } else if (c == '/' && p[1] == '*') {
      p += 2;
      while (*p && !(*p == '*' && p[1] == '/')) p++;
      if (*p) p += 2;
    } else {
      /* operators, with the two-character forms ==, <=, >=, !=, &&, ||, += ... */
      int kind;
      switch (c) {
        case '+': case '-': case '*': case '/': case '%': case '^': kind = 1; break;
        case '=': case '<': case '>': case '!': kind = 2; break;
        case '&': case '|': kind = 3; break;
        case ';': case ',': kind = 4; break;
        default: kind = 5; break;
      }
      p++;
      if (*p == '=' && kind <= 3) {
        kind += 8;
        p++;
      } else if (kind == 3 && *p == c) {
        kind += 16;
        p++;
      }
      counts[T_OP]++;
      h = (h << 5 | h >> 59) ^ (uint64_t)(kind * 131 + c);
    }
  }
}

/* Unpredictable branches: classify random values into buckets. */
static uint32_t values[4096];

static NOINLINE uint64_t classify(const uint32_t *v, int n) {
  uint64_t small = 0, mid = 0, big = 0, odd = 0, acc = 0;
  for (int i = 0; i < n; i++) {
    uint32_t x = v[i];
    if (x < 0x40000000u) small++;
    else if (x < 0x90000000u) mid += x >> 28;
    else big ^= x;
    if (x & 1) odd++;
    if ((x & 6) == 6) acc += x >> 3;
    else if (x & 0x100) acc -= x & 0xff;
  }
  return small * 3 + mid * 5 + big + odd * 7 + acc;
}

int main(void) {
  println("branchy: start");
  lcg_state = 777;
  gen_text();
  uint64_t checksum = 0;
  for (int round = 0; round < ROUNDS; round++) {
    uint64_t r[16] = {0};
    r[0] = 1 + (uint64_t)round * 1000;
    r[2] = r[0] + 1200;
    checksum += vm_run(collatz_prog, r);
    checksum = checksum * 31 + r[1];

    for (int k = 0; k < 16; k++) r[k] = 0;
    r[2] = 4000 - (uint64_t)(round % 16) * 100;
    checksum ^= vm_run(sieve_prog, r) << 3;
    checksum = checksum * 31 + r[1];

    uint64_t counts[T_COUNT] = {0};
    /* Start at a different offset each round: different token boundaries. */
    checksum ^= tokenize(text + (round % 64), counts);
    checksum += counts[T_IDENT] * 1000003 + counts[T_NUM] * 1009 + counts[T_OP];

    for (int i = 0; i < (int)ARRAY_SIZE(values); i++) values[i] = lcg();
    for (int k = 0; k < 8; k++) checksum = (checksum << 1 | checksum >> 63) + classify(values, (int)ARRAY_SIZE(values));
  }
  print("branchy: rounds=");
  print_udec(ROUNDS);
  print(" checksum=");
  print_hex(checksum);
  nl();
  return 0;
}
