// x86: bits=32
/* SSE, SSE2, SSE3 and MMX from 32-bit code (sse_template.h): arithmetic,
 * NaN propagation, DAZ/FTZ, conversions in every rounding mode, compares,
 * packed integers, shuffles, moves, alignment faults, horizontal ops, MMX
 * and EMMS. */
#include "sse_template.h"

int main(void) {
  printf("== sse32 ==\n");
  sse_all();
  printf("sse32: done\n");
  return 0;
}
