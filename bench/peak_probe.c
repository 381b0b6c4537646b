/*===- peak_probe.c - The CPU's measured fp32 FMA peak --------------------===*
 *
 * A yardstick for bench/side_by_side.py: how many fp32 GFLOP/s this machine
 * reaches with nothing but fused multiply-adds on registers. Each thread runs
 * CHAINS independent accumulator chains (c = c * a + b), enough to cover the
 * FMA latency on every FMA port, with no memory traffic at all, so the result
 * is the arithmetic ceiling that a GEMM can approach but not pass.
 *
 * One source, two builds (side_by_side.py does this with the system cc):
 *   cc -O2 -mavx2 -mfma                   peak_probe.c -o peak_probe_avx2   -lpthread
 *   cc -O2 -mavx512f -DPROBE_AVX512       peak_probe.c -o peak_probe_avx512 -lpthread
 *
 *   peak_probe [--seconds S] [--trials T] [threads ...]     (default: 1 and nproc)
 *
 * For each thread count it runs T trials of about S seconds (threads start
 * together on a barrier; the time is the slowest thread's) and prints one
 * JSON object: the best trial's GFLOP/s (the peak) and the median.
 *
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef PROBE_AVX512
typedef __m512 vec;
#define LANES 16
#define ISA "avx512"
#define ISA_CHECK "avx512f"
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
#else
typedef __m256 vec;
#define LANES 8
#define ISA "avx2"
#define ISA_CHECK "fma"
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define STORE _mm256_storeu_ps
#endif

/* 12 chains: latency 4 x 2 FMA ports needs 8; 12 leaves slack, and with a
 * and b they fit in the 16 ymm registers of AVX2. */
#define CHAINS 12

static volatile float g_a = 0.999999f, g_b = 1e-7f;
static volatile float g_sink;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* iters x CHAINS x LANES FMAs, i.e. twice as many FLOPs. */
static float chains(long iters) {
  const vec a = SET1(g_a), b = SET1(g_b);
  vec c0 = SET1(0.0f), c1 = SET1(0.1f), c2 = SET1(0.2f), c3 = SET1(0.3f);
  vec c4 = SET1(0.4f), c5 = SET1(0.5f), c6 = SET1(0.6f), c7 = SET1(0.7f);
  vec c8 = SET1(0.8f), c9 = SET1(0.9f), c10 = SET1(1.0f), c11 = SET1(1.1f);
  for (long i = 0; i < iters; ++i) {
    c0 = FMA(c0, a, b);
    c1 = FMA(c1, a, b);
    c2 = FMA(c2, a, b);
    c3 = FMA(c3, a, b);
    c4 = FMA(c4, a, b);
    c5 = FMA(c5, a, b);
    c6 = FMA(c6, a, b);
    c7 = FMA(c7, a, b);
    c8 = FMA(c8, a, b);
    c9 = FMA(c9, a, b);
    c10 = FMA(c10, a, b);
    c11 = FMA(c11, a, b);
    /* Keep the compiler from reasoning across iterations. */
    __asm__ volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5));
    __asm__ volatile("" : "+x"(c6), "+x"(c7), "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));
  }
  vec s = ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(c4, c5), ADD(c6, c7)));
  s = ADD(s, ADD(ADD(c8, c9), ADD(c10, c11)));
  float out[LANES];
  STORE(out, s);
  float total = 0;
  for (int i = 0; i < LANES; ++i)
    total += out[i];
  return total;
}

typedef struct {
  pthread_barrier_t *barrier;
  long iters;
  double end;
  float result;
} worker;

static void *work(void *arg) {
  worker *w = (worker *)arg;
  pthread_barrier_wait(w->barrier);
  w->result = chains(w->iters);
  w->end = now();
  return NULL;
}

/* GFLOP/s of `threads` threads each running `iters` iterations. */
static double trial(int threads, long iters) {
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1);
  worker *w = calloc((size_t)threads, sizeof *w);
  pthread_t *t = calloc((size_t)threads, sizeof *t);
  for (int i = 0; i < threads; ++i) {
    w[i].barrier = &barrier;
    w[i].iters = iters;
    if (pthread_create(&t[i], NULL, work, &w[i]) != 0) {
      fprintf(stderr, "peak_probe: error: cannot start thread %d\n", i);
      exit(1);
    }
  }
  double start = now();
  pthread_barrier_wait(&barrier);
  double end = start;
  float sink = 0;
  for (int i = 0; i < threads; ++i) {
    pthread_join(t[i], NULL);
    if (w[i].end > end)
      end = w[i].end;
    sink += w[i].result;
  }
  g_sink = sink;
  pthread_barrier_destroy(&barrier);
  free(w);
  free(t);
  double flops = 2.0 * CHAINS * LANES * (double)iters * threads;
  return flops / (end - start) * 1e-9;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  double seconds = 0.2;
  int trials = 5;
  int counts[64], n = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = atof(argv[++i]);
    } else if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc) {
      trials = atoi(argv[++i]);
    } else if (argv[i][0] != '-' && n < 64 && atoi(argv[i]) > 0) {
      counts[n++] = atoi(argv[i]);
    } else {
      fprintf(stderr, "usage: peak_probe [--seconds S] [--trials T] [threads ...]\n");
      return 2;
    }
  }
  if (seconds <= 0 || trials < 1) {
    fprintf(stderr, "peak_probe: error: --seconds and --trials must be positive\n");
    return 2;
  }
  if (!__builtin_cpu_supports(ISA_CHECK)) {
    fprintf(stderr, "peak_probe: error: this CPU has no %s\n", ISA);
    return 1;
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (n == 0) {
    counts[n++] = 1;
    if (cpus > 1)
      counts[n++] = (int)cpus;
  }

  /* Calibrate on one thread: iterations for about `seconds`. */
  long iters = 1 << 16;
  for (;;) {
    double t0 = now();
    g_sink = chains(iters);
    double dt = now() - t0;
    if (dt > 0.02 || iters > (1L << 40)) {
      iters = (long)((double)iters * seconds / dt) + 1;
      break;
    }
    iters *= 4;
  }

  printf("{\"isa\": \"%s\", \"lanes\": %d, \"chains\": %d, \"cpus\": %ld, \"seconds\": %g, "
         "\"results\": [",
         ISA, LANES, CHAINS, cpus, seconds);
  for (int c = 0; c < n; ++c) {
    double *g = calloc((size_t)trials, sizeof *g);
    for (int k = 0; k < trials; ++k)
      g[k] = trial(counts[c], iters);
    qsort(g, (size_t)trials, sizeof *g, compare);
    printf("%s{\"threads\": %d, \"gflops_best\": %.2f, \"gflops_median\": %.2f, \"trials\": [",
           c ? ", " : "", counts[c], g[trials - 1], g[trials / 2]);
    for (int k = 0; k < trials; ++k)
      printf("%s%.2f", k ? ", " : "", g[k]);
    printf("]}");
    free(g);
  }
  printf("]}\n");
  return fflush(stdout) == 0 ? 0 : 1;
}
