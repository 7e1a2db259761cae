// x86: bits=64
/* The x87 FPU from 64-bit code (the same tests as x87.c; a 64-bit
 * build can also be compared with the host CPU, see host/) (x87_template.h): loads and stores of
 * 32/64/80-bit and integer values in every rounding mode, FIST/FISTTP,
 * arithmetic (register forms) over special values, precision x rounding
 * control, FSQRT FRNDINT FABS FCHS FXTRACT FSCALE FPREM FPREM1 FTST FXAM,
 * constants per rounding mode, FCOM/FUCOM/FCOMI/FUCOMIP, stack and tag
 * word (FNSTENV, FINCSTP, FFREE, FXCH), FNSAVE/FRSTOR, FXSAVE/FXRSTOR,
 * FBLD/FBSTP, and the transcendental instructions. */
#include "x87_template.h"

int main(void) {
  printf("== x87_64 ==\n");
  x87_all();
  printf("x87_64: done\n");
  return 0;
}
