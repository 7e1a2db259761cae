/* Drives page_cross.S: each function sits at page-boundary offsets; run each
 * several times so both first translation and cached execution are checked. */
#include "lib.h"

extern uint64_t pc_straddle(void);
extern uint64_t pc_last_half(void);
extern uint64_t pc_loop_across(void);
extern uint64_t pc_jump_far(void);
extern uint64_t pc_straddle_branch(void);
extern uint64_t pc_straddle_jal(void);
extern uint64_t pc_fallthrough(void);
extern uint64_t pc_cbranch_last(void);
extern uint64_t pc_straddle_jalr(void);
extern char pc_pages_base[];

static const struct { const char *name; uint64_t (*fn)(void); } fns[] = {
  {"straddle", pc_straddle},
  {"last_half", pc_last_half},
  {"loop_across", pc_loop_across},
  {"jump_far", pc_jump_far},
  {"straddle_branch", pc_straddle_branch},
  {"straddle_jal", pc_straddle_jal},
  {"fallthrough", pc_fallthrough},
  {"cbranch_last", pc_cbranch_last},
  {"straddle_jalr", pc_straddle_jalr},
};

int main(void) {
  println("== page_cross ==");
  print_kv("base page offset", (uint64_t)pc_pages_base & 0xfff);
  for (int round = 0; round < 3; round++) {
    for (unsigned i = 0; i < ARRAY_SIZE(fns); i++) {
      print(fns[i].name);
      print(" round ");
      print_udec(round);
      print(" = ");
      print_udec(fns[i].fn());
      print(" @+");
      print_hexn((uint64_t)fns[i].fn - (uint64_t)pc_pages_base, 5);
      nl();
    }
  }
  /* auipc executed in the page after a straddling jal */
  uint64_t a1;
  __asm__ volatile("call pc_straddle_jal\n mv %0, a1" : "=r"(a1) :: "ra", "a0", "a1", "t0", "t1", "memory");
  print_kv("auipc after crossing", a1 - (uint64_t)pc_pages_base);
  println("page_cross: done");
  return 0;
}
