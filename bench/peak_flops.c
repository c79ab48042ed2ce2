/* Measured fp32 peak of this machine: a register-only FMA loop.
 *
 * Usage: peak_flops [THREADS [REPETITIONS [MILLION_ITERATIONS]]]
 *        (defaults 1, 5, 20)
 *
 * Each thread runs ACC independent chains of vector FMAs (acc = acc * m + a)
 * that never touch memory inside the loop: with ACC chains in flight, an FMA
 * latency of 4 cycles and 2 FMA ports, 8 chains would keep both ports busy;
 * 16 leave a margin. AVX-512 (16 floats per FMA) when the CPU has it, else
 * AVX2 + FMA (8 floats), else plain scalar code (reported as "scalar"). Every
 * FMA counts 2 FLOPs per lane. THREADS threads (pthreads) start together at a
 * barrier; a repetition's time is the wall time from the barrier until the
 * last thread is done. Prints one JSON object on stdout:
 *
 *   {"isa": "avx512", "threads": 2, "accumulators": 16, "repetitions": [...],
 *    "gflops": <best repetition>, "gflops_per_thread": <best / threads>}
 *
 * Built by bench/peak.py with the system C compiler (cc -O2 -pthread); the
 * instruction sets are chosen at run time, so no -march flag is needed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

#define ACC 16

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The loops return a value derived from every accumulator, so the compiler
 * cannot drop any chain; the multiplier is just below 1 and the addend small
 * so the values stay finite and normal. */

#if HAVE_X86
__attribute__((target("avx512f"))) static float loop_avx512(long iters,
                                                            float seed) {
  __m512 acc[ACC];
  const __m512 m = _mm512_set1_ps(0.999999f);
  const __m512 a = _mm512_set1_ps(1e-7f);
  for (int k = 0; k < ACC; k++)
    acc[k] = _mm512_set1_ps(seed + (float)k);
  for (long i = 0; i < iters; i++) {
#pragma GCC unroll 16
    for (int k = 0; k < ACC; k++)
      acc[k] = _mm512_fmadd_ps(acc[k], m, a);
  }
  __m512 sum = acc[0];
  for (int k = 1; k < ACC; k++)
    sum = _mm512_add_ps(sum, acc[k]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) static float loop_avx2(long iters,
                                                           float seed) {
  __m256 acc[ACC];
  const __m256 m = _mm256_set1_ps(0.999999f);
  const __m256 a = _mm256_set1_ps(1e-7f);
  for (int k = 0; k < ACC; k++)
    acc[k] = _mm256_set1_ps(seed + (float)k);
  for (long i = 0; i < iters; i++) {
#pragma GCC unroll 16
    for (int k = 0; k < ACC; k++)
      acc[k] = _mm256_fmadd_ps(acc[k], m, a);
  }
  __m256 sum = acc[0];
  for (int k = 1; k < ACC; k++)
    sum = _mm256_add_ps(sum, acc[k]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  float total = 0.0f;
  for (int j = 0; j < 8; j++)
    total += lanes[j];
  return total;
}
#endif

static float loop_scalar(long iters, float seed) {
  float acc[ACC];
  for (int k = 0; k < ACC; k++)
    acc[k] = seed + (float)k;
  for (long i = 0; i < iters; i++) {
    for (int k = 0; k < ACC; k++)
      acc[k] = acc[k] * 0.999999f + 1e-7f;
  }
  float total = 0.0f;
  for (int k = 0; k < ACC; k++)
    total += acc[k];
  return total;
}

typedef float (*loop_fn)(long, float);

typedef struct {
  pthread_barrier_t *barrier;
  loop_fn loop;
  long iters;
  float seed;
  volatile float result;
  double cpu_seconds;
} job;

static double thread_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *worker(void *arg) {
  job *j = (job *)arg;
  pthread_barrier_wait(j->barrier);
  double start = thread_cpu();
  j->result = j->loop(j->iters, j->seed);
  j->cpu_seconds = thread_cpu() - start;
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  long iters = (argc > 3 ? atol(argv[3]) : 20) * 1000000L;
  if (threads < 1 || threads > 1024 || reps < 1 || iters < 1) {
    fprintf(stderr,
            "usage: peak_flops [THREADS [REPETITIONS [MILLION_ITERATIONS]]]\n");
    return 2;
  }

  const char *isa = "scalar";
  loop_fn loop = loop_scalar;
  int lanes = 1;
#if HAVE_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    isa = "avx512";
    loop = loop_avx512;
    lanes = 16;
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    isa = "avx2";
    loop = loop_avx2;
    lanes = 8;
  }
#endif
  /* Scalar code would take far too long at the vector iteration count. */
  if (lanes == 1)
    iters /= 16;

  /* One untimed short run warms the vector units up (AVX-512 frequency
   * licence, page faults of the stacks). */
  loop(iters / 10 + 1, 1.0f);

  const double flops =
      2.0 * (double)lanes * ACC * (double)iters * (double)threads;
  double best = 0.0, best_cpu = 0.0;
  printf("{\"isa\": \"%s\", \"threads\": %d, \"accumulators\": %d, "
         "\"flops_per_repetition\": %.0f, \"repetitions\": [",
         isa, threads, ACC, flops);
  for (int r = 0; r < reps; r++) {
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1);
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    job *jobs = calloc((size_t)threads, sizeof *jobs);
    if (ids == NULL || jobs == NULL) {
      fprintf(stderr, "peak_flops: out of memory\n");
      return 1;
    }
    for (int t = 0; t < threads; t++) {
      jobs[t] = (job){&barrier, loop, iters, 1.0f + (float)t, 0.0f, 0.0};
      if (pthread_create(&ids[t], NULL, worker, &jobs[t]) != 0) {
        fprintf(stderr, "peak_flops: pthread_create failed\n");
        return 1;
      }
    }
    pthread_barrier_wait(&barrier);
    double start = now();
    float check = 0.0f;
    double cpu = 0.0;
    for (int t = 0; t < threads; t++) {
      pthread_join(ids[t], NULL);
      check += jobs[t].result;
      cpu += jobs[t].cpu_seconds;
    }
    double seconds = now() - start;
    pthread_barrier_destroy(&barrier);
    free(ids);
    free(jobs);
    if (check != check) { /* NaN: the loop went wrong */
      fprintf(stderr, "peak_flops: non-finite result\n");
      return 1;
    }
    double gflops = flops / seconds / 1e9;
    /* FLOPs per second of CPU time the threads actually got, times the
     * threads: what the cores deliver while running this loop, even when
     * other processes took some of the wall time (a shared machine). */
    double gflops_cpu = cpu > 0 ? flops / (cpu / threads) / 1e9 : 0.0;
    if (gflops > best)
      best = gflops;
    if (gflops_cpu > best_cpu)
      best_cpu = gflops_cpu;
    printf("%s{\"seconds\": %.6f, \"cpu_seconds\": %.6f, \"gflops\": %.3f, "
           "\"gflops_cpu_time\": %.3f}",
           r ? ", " : "", seconds, cpu, gflops, gflops_cpu);
  }
  printf("], \"gflops\": %.3f, \"gflops_per_thread\": %.3f, "
         "\"gflops_cpu_time\": %.3f, \"gflops_per_thread_cpu_time\": %.3f}\n",
         best, best / threads, best_cpu, best_cpu / threads);
  return 0;
}
