/* The RISC-V benchmark sources' lib.h interface (bench/riscv uses test/riscv/common),
 * mapped onto the x86 test runtime (test/x86/common), so the same workload sources
 * build for both architectures. */
#include "../../../test/x86/common/lib.h"

static inline void println(const char *s) { printf("%s\n", s); }
static inline void print_udec(unsigned long long v) { printf("%llu", v); }
static inline void print_hex(unsigned long long v) { printf("%016llx", v); }
static inline void nl(void) { printf("\n"); }
