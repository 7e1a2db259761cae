/* Bare-metal floating-point benchmark (F and D extensions). Each round: dot
 * products in double and in float (fmadd), a 24x24 double matrix multiply, a
 * five-body gravitational simulation (the classic n-body kernel: sqrt and
 * division), float sqrt/min/max/sign-injection, and int <-> float <-> double
 * conversions with every rounding direction the C casts use. Results are
 * folded into the checksum bit for bit, so it is identical only on emulators
 * that round exactly like the hardware spec says. Prints it and exits 0.
 *
 * ROUNDS (-DROUNDS=n) scales the run time; the default is sized for about
 * 1-2 s on QEMU 7.2 TCG. */
/* -fno-math-errno: sqrt as one fsqrt instruction (there is no libm here). */
// build-flags: -fno-math-errno
#include "lib.h"

#ifndef ROUNDS
#define ROUNDS 100
#endif

#define NOINLINE __attribute__((noinline))

static uint64_t lcg_state;
static inline uint32_t lcg(void) {
  lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg_state >> 32);
}
/* Uniform in [-1, 1). */
static inline double rnd(void) { return (double)(int32_t)lcg() * (1.0 / 2147483648.0); }

static inline uint64_t dbits(double d) {
  union { double d; uint64_t u; } x = {.d = d};
  return x.u;
}
static inline uint32_t fbits(float f) {
  union { float f; uint32_t u; } x = {.f = f};
  return x.u;
}
static inline uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ULL + (h >> 29); }

/* ---- dot products ---- */
#define VN 2048
static double va[VN], vb[VN];
static float fa[VN], fb[VN];

static NOINLINE double dot_d(const double *a, const double *b, int n) {
  double s0 = 0, s1 = 0;
  for (int i = 0; i < n; i += 2) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
  }
  return s0 + s1;
}

static NOINLINE float dot_f(const float *a, const float *b, int n) {
  float s = 0;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* ---- matrix multiply ---- */
#define MN 24
static double ma[MN][MN], mb[MN][MN], mc[MN][MN];

static NOINLINE void matmul(void) {
  for (int i = 0; i < MN; i++) {
    for (int j = 0; j < MN; j++) {
      double s = 0;
      for (int k = 0; k < MN; k++) s += ma[i][k] * mb[k][j];
      mc[i][j] = s;
    }
  }
}

/* ---- n-body (sun, four planets) ---- */
#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24
struct body { double x, y, z, vx, vy, vz, mass; };
#define NB 5
static struct body bodies[NB];

static void nbody_init(void) {
  static const struct body init[NB] = {
    {0, 0, 0, 0, 0, 0, SOLAR_MASS},
    {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
     1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
     -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS},
    {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
     -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
     2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS},
    {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
     2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
     -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS},
    {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
     2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
     -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS},
  };
  for (int i = 0; i < NB; i++) bodies[i] = init[i];
  double px = 0, py = 0, pz = 0;
  for (int i = 0; i < NB; i++) {
    px += bodies[i].vx * bodies[i].mass;
    py += bodies[i].vy * bodies[i].mass;
    pz += bodies[i].vz * bodies[i].mass;
  }
  bodies[0].vx = -px / SOLAR_MASS;
  bodies[0].vy = -py / SOLAR_MASS;
  bodies[0].vz = -pz / SOLAR_MASS;
}

static NOINLINE void nbody_advance(double dt, int steps) {
  for (int s = 0; s < steps; s++) {
    for (int i = 0; i < NB; i++) {
      struct body *bi = &bodies[i];
      for (int j = i + 1; j < NB; j++) {
        struct body *bj = &bodies[j];
        double dx = bi->x - bj->x, dy = bi->y - bj->y, dz = bi->z - bj->z;
        double d2 = dx * dx + dy * dy + dz * dz;
        double dist = __builtin_sqrt(d2);
        double mag = dt / (d2 * dist);
        bi->vx -= dx * bj->mass * mag;
        bi->vy -= dy * bj->mass * mag;
        bi->vz -= dz * bj->mass * mag;
        bj->vx += dx * bi->mass * mag;
        bj->vy += dy * bi->mass * mag;
        bj->vz += dz * bi->mass * mag;
      }
    }
    for (int i = 0; i < NB; i++) {
      bodies[i].x += dt * bodies[i].vx;
      bodies[i].y += dt * bodies[i].vy;
      bodies[i].z += dt * bodies[i].vz;
    }
  }
}

static double nbody_energy(void) {
  double e = 0;
  for (int i = 0; i < NB; i++) {
    struct body *b = &bodies[i];
    e += 0.5 * b->mass * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
    for (int j = i + 1; j < NB; j++) {
      double dx = b->x - bodies[j].x, dy = b->y - bodies[j].y, dz = b->z - bodies[j].z;
      e -= b->mass * bodies[j].mass / __builtin_sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return e;
}

/* ---- float sqrt, min/max, sign injection ---- */
/* gcc 12 calls libm for fminf/fmaxf (there is none here): the instructions. */
static inline float fmin_s(float a, float b) {
  float r;
  __asm__("fmin.s %0, %1, %2" : "=f"(r) : "f"(a), "f"(b));
  return r;
}
static inline float fmax_s(float a, float b) {
  float r;
  __asm__("fmax.s %0, %1, %2" : "=f"(r) : "f"(a), "f"(b));
  return r;
}

static NOINLINE uint64_t float_misc(const float *a, int n) {
  uint64_t h = 0;
  float lo = 1e30f, hi = -1e30f, acc = 0;
  for (int i = 0; i < n; i++) {
    float x = a[i];
    float r = __builtin_sqrtf(__builtin_fabsf(x));
    lo = fmin_s(lo, x);
    hi = fmax_s(hi, r);
    acc += __builtin_copysignf(r, x) / (1.0f + __builtin_fabsf(x));
  }
  h = mix(h, fbits(lo));
  h = mix(h, fbits(hi));
  return mix(h, fbits(acc));
}

/* ---- conversions ---- */
static NOINLINE uint64_t conversions(const double *a, int n, double scale) {
  uint64_t h = 0;
  for (int i = 0; i < n; i++) {
    double d = a[i] * scale;
    int64_t l = (int64_t)d;                 /* fcvt.l.d rtz */
    int32_t w = (int32_t)(d * 1e-6);        /* fcvt.w.d rtz */
    uint64_t lu = (uint64_t)(d < 0 ? -d : d);  /* fcvt.lu.d */
    float f = (float)d;                     /* fcvt.s.d (dynamic rounding) */
    double back = (double)f;                /* fcvt.d.s */
    double fl = (double)l;                  /* fcvt.d.l */
    float fw = (float)w;                    /* fcvt.s.w */
    float flu = (float)lu;                  /* fcvt.s.lu */
    h = mix(h, (uint64_t)l ^ ((uint64_t)(uint32_t)w << 7));
    h = mix(h, lu + dbits(back - d));
    h = mix(h, dbits(fl) ^ fbits(fw) ^ ((uint64_t)fbits(flu) << 32));
  }
  return h;
}

int main(void) {
  println("float: start");
  lcg_state = 31337;
  for (int i = 0; i < VN; i++) {
    va[i] = rnd();
    vb[i] = rnd() * 3.0;
    fa[i] = (float)rnd();
    fb[i] = (float)(rnd() * 0.5);
  }
  for (int i = 0; i < MN; i++) {
    for (int j = 0; j < MN; j++) {
      ma[i][j] = rnd();
      mb[i][j] = rnd() / (1.0 + i + j);
    }
  }
  nbody_init();
  uint64_t checksum = 0;
  for (int round = 0; round < ROUNDS; round++) {
    for (int k = 0; k < 24; k++) {
      double d = dot_d(va, vb, VN);
      float f = dot_f(fa, fb, VN);
      checksum = mix(checksum, dbits(d) ^ fbits(f));
      va[k * 37 % VN] = d * 0.001;
      fa[k * 41 % VN] = f * 0.01f;
    }
    for (int k = 0; k < 6; k++) {
      matmul();
      /* feed the result back, normalised, so every multiply sees new data */
      for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) ma[i][j] = mc[i][j] / (1.0 + __builtin_fabs(mc[i][j]));
    }
    checksum = mix(checksum, dbits(mc[round % MN][(round * 7) % MN]));
    nbody_advance(0.01, 2000);
    checksum = mix(checksum, dbits(nbody_energy()));
    checksum = mix(checksum, float_misc(fa, VN));
    checksum = mix(checksum, conversions(va, VN, 1e9 * (1 + round % 7)));
  }
  print("float: rounds=");
  print_udec(ROUNDS);
  print(" checksum=");
  print_hex(checksum);
  nl();
  return 0;
}
