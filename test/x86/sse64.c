// x86: bits=64
/* SSE, SSE2, SSE3 and MMX from 64-bit code (adds the 64-bit integer conversions) (sse_template.h): arithmetic,
 * NaN propagation, DAZ/FTZ, conversions in every rounding mode, compares,
 * packed integers, shuffles, moves, alignment faults, horizontal ops, MMX
 * and EMMS. */
#include "sse_template.h"

int main(void) {
  printf("== sse64 ==\n");
  sse_all();
  printf("sse64: done\n");
  return 0;
}
