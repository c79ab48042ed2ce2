/*
 * C (+)= op(A) x op(B) with bf16 inputs and fp32 sums on AMX, for the
 * opt-in bf16 precision (see seqrnn_kernels.h, srnn_gemm_bf16).
 *
 * Both operands are converted once per call (A to padded bf16 rows, B to
 * packed column groups), then the product runs in blocks that stay in
 * cache: 512 values of k (a 32-row slice of A is 32 KiB, in L1) times up to
 * 512 columns of B (512 KiB, in L2). The team's members split the column
 * groups; every output element is summed in the same order whatever the
 * split, so results do not depend on the thread count.
 *
 * A transposed A would be converted with strided reads; when A is the
 * larger operand (weight gradients: dW = dG^T x X) the call computes
 * C^T = op(B)^T x op(A)^T instead, into a buffer each member adds to C
 * transposed. A layer's two weight gradients share that B (dG), so
 * srnn_gemm_bf16_weight_gradients stacks X^T and H^T into one A and packs
 * dG once.
 */
#include "amx_tiles.h"
#include "seqrnn_kernels.h"
#include "seqrnn_support.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { K_CHUNK_BLOCKS = 16, GROUP_CHUNK = 32 };

/* ---- per-thread scratch (grow-only, freed when the thread exits) ------- */

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

typedef struct scratch {
  void *memory;
  size_t bytes;
} scratch;

static void scratch_free(void *p) {
  scratch *s = p;
  free(s->memory);
  free(s);
}

static void scratch_make_key(void) {
  pthread_key_create(&scratch_key, scratch_free);
}

void *srnn_bf16_scratch(size_t bytes) {
  pthread_once(&scratch_once, scratch_make_key);
  scratch *s = pthread_getspecific(scratch_key);
  if (s == NULL) {
    s = calloc(1, sizeof *s);
    if (s == NULL || pthread_setspecific(scratch_key, s) != 0) {
      free(s);
      return NULL;
    }
  }
  if (s->bytes < bytes) {
    void *grown = aligned_alloc(64, srnn_round_up((int64_t)bytes, 64));
    if (grown == NULL)
      return NULL;
    free(s->memory);
    s->memory = grown;
    s->bytes = bytes;
  }
  return s->memory;
}

/* ---- the job --------------------------------------------------------------
 */

/* One part of A's rows: rows [row0, row0 + rows) of the product's A come
 * from src (row r of the part is src's row r, or its column r when the
 * job's A is transposed). */
typedef struct a_part {
  const float *src;
  int64_t ld, row0, rows;
} a_part;

typedef struct gemm_job {
  /* The product as computed: out[m][n] (+)= A'(m, k) B'(k, n), A' stacked
   * from up to two parts (the weight gradients' X^T and H^T). */
  a_part parts[2];
  int part_count;
  int a_transposed;
  const float *b;
  int64_t ldb;
  int b_transposed;
  int64_t m, n, k, kblocks, groups, lda_bf16;
  float *out;
  int64_t ldo;
  int accumulate;
  /* Swapped: out holds C^T; each member adds its columns of it to C, the
   * rows of each A part to that part's C. */
  float *c[2];
  int64_t ldc[2];
  int c_accumulate;
  uint16_t *a_bf16, *b_packed;
  const uint16_t **group_tile;
  int64_t *group_column;
  int *group_lanes;
} gemm_job;

static void gemm_member(void *context, int index, int count,
                        srnn_barrier *barrier) {
  gemm_job *job = context;
  /* 1. This member's rows of A and its column groups of B. */
  int64_t r0 = job->m * index / count, r1 = job->m * (index + 1) / count;
  for (int q = 0; q < job->part_count; q++) {
    const a_part *part = &job->parts[q];
    int64_t lo = r0 > part->row0 ? r0 : part->row0;
    int64_t hi = r1 < part->row0 + part->rows ? r1 : part->row0 + part->rows;
    if (hi <= lo)
      continue;
    int64_t first = lo - part->row0;
    srnn_bf16_rows(part->src + (job->a_transposed ? first : first * part->ld),
                   part->ld, job->a_transposed, hi - lo, job->k,
                   job->a_bf16 + lo * job->lda_bf16, job->lda_bf16);
  }
  int64_t g0 = job->groups * index / count,
          g1 = job->groups * (index + 1) / count;
  int64_t c0 = g0 * SRNN_BF16_GROUP,
          c1 = g1 * SRNN_BF16_GROUP < job->n ? g1 * SRNN_BF16_GROUP : job->n;
  if (c1 > c0)
    srnn_bf16_pack(job->b + (job->b_transposed ? c0 * job->ldb : c0), job->ldb,
                   job->b_transposed, job->k, c1 - c0,
                   job->b_packed + g0 * job->kblocks * SRNN_BF16_TILE);
  srnn_barrier_wait(barrier);
  if (g1 <= g0)
    return;
  /* 2. Its column groups, in cache-sized blocks of k and columns. */
  srnn_amx_begin();
  for (int64_t kb = 0; kb < job->kblocks; kb += K_CHUNK_BLOCKS) {
    int64_t blocks =
        job->kblocks - kb < K_CHUNK_BLOCKS ? job->kblocks - kb : K_CHUNK_BLOCKS;
    for (int64_t g = g0; g < g1; g += GROUP_CHUNK) {
      int64_t groups = g1 - g < GROUP_CHUNK ? g1 - g : GROUP_CHUNK;
      const uint16_t *tiles[GROUP_CHUNK];
      for (int64_t i = 0; i < groups; i++)
        tiles[i] = job->group_tile[g + i] + kb * SRNN_BF16_TILE;
      srnn_amx_product p = {
          .a = job->a_bf16 + kb * SRNN_BF16_KBLOCK,
          .lda = job->lda_bf16,
          .rows = job->m,
          .kblocks = blocks,
          .b = tiles,
          .column = job->group_column + g,
          .lanes = job->group_lanes + g,
          .groups = groups,
          .out = job->out,
          .ldo = job->ldo,
          .accumulate = job->accumulate || kb > 0,
      };
      srnn_amx_run(&p);
    }
  }
  srnn_amx_end();
  /* 3. Swapped: this member's columns of C^T are rows c0..c1 of each C. */
  for (int q = 0; q < job->part_count && job->c[q] != NULL; q++) {
    const a_part *part = &job->parts[q];
    for (int64_t i = c0; i < c1; i++) {
      float *row = job->c[q] + i * job->ldc[q];
      const float *column = job->out + part->row0 * job->ldo + i;
      for (int64_t j = 0; j < part->rows; j++) {
        float v = column[j * job->ldo];
        row[j] = job->c_accumulate ? row[j] + v : v;
      }
    }
  }
}

/* Converts, packs and runs job (its parts, m, n, k, B and the swap's
 * outputs set) with out = C when not swapped. Returns 0 when the scratch
 * cannot be had. */
static int run_job(gemm_job *job, int swapped, float *c, int64_t ldc,
                   float beta) {
  job->lda_bf16 = srnn_round_up(job->k, SRNN_BF16_KBLOCK);
  job->kblocks = job->lda_bf16 / SRNN_BF16_KBLOCK;
  job->groups = srnn_round_up(job->n, SRNN_BF16_GROUP) / SRNN_BF16_GROUP;
  size_t a_bytes = (size_t)srnn_round_up(job->m, 16) * job->lda_bf16 * 2;
  size_t b_bytes = (size_t)(job->groups * job->kblocks * SRNN_BF16_TILE * 2);
  size_t index_bytes = (size_t)job->groups * (sizeof(void *) + 8 + 8);
  size_t out_bytes = swapped ? (size_t)(job->m * job->n) * sizeof(float) : 0;
  char *memory =
      srnn_bf16_scratch(a_bytes + b_bytes + index_bytes + out_bytes + 64);
  if (memory == NULL)
    return 0;
  job->a_bf16 = (uint16_t *)memory;
  job->b_packed = (uint16_t *)(memory + a_bytes);
  char *index = memory + a_bytes + b_bytes;
  job->group_tile = (const uint16_t **)index;
  job->group_column = (int64_t *)(index + job->groups * sizeof(void *));
  job->group_lanes = (int *)(index + job->groups * (sizeof(void *) + 8));
  for (int64_t g = 0; g < job->groups; g++) {
    job->group_tile[g] = job->b_packed + g * job->kblocks * SRNN_BF16_TILE;
    job->group_column[g] = g * SRNN_BF16_GROUP;
    int64_t lanes = job->n - g * SRNN_BF16_GROUP;
    job->group_lanes[g] =
        lanes < SRNN_BF16_GROUP ? (int)lanes : SRNN_BF16_GROUP;
  }
  /* Zero-padded rows past m are read by the last tile's loads. */
  memset(job->a_bf16 + job->m * job->lda_bf16, 0,
         (size_t)(srnn_round_up(job->m, 16) - job->m) * job->lda_bf16 * 2);
  if (swapped) {
    job->out =
        (float *)(((uintptr_t)(index + index_bytes) + 63) & ~(uintptr_t)63);
    job->ldo = job->n;
    job->accumulate = 0;
    job->c_accumulate = beta != 0.0f;
  } else {
    job->out = c, job->ldo = ldc, job->accumulate = beta != 0.0f;
  }
  int threads = srnn_thread_budget();
  srnn_team_run(threads < 2 ? 1 : 2, gemm_member, job);
  return 1;
}

int srnn_gemm_bf16(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                   float alpha, const float *a, int64_t lda, const float *b,
                   int64_t ldb, float beta, float *c, int64_t ldc) {
  if (alpha != 1.0f || (beta != 0.0f && beta != 1.0f) || m <= 0 || n <= 0 ||
      k <= 0 || !srnn_amx_usable())
    return 0;
  /* C^T = op(B)^T op(A)^T when that avoids converting a large transposed A. */
  int swapped = trans_a && n < m;
  gemm_job job = {0};
  job.part_count = 1;
  if (swapped) {
    job.parts[0] = (a_part){b, ldb, 0, n};
    job.a_transposed = !trans_b;
    job.b = a, job.ldb = lda, job.b_transposed = !trans_a;
    job.m = n, job.n = m;
    job.c[0] = c, job.ldc[0] = ldc;
  } else {
    job.parts[0] = (a_part){a, lda, 0, m};
    job.a_transposed = trans_a;
    job.b = b, job.ldb = ldb, job.b_transposed = trans_b;
    job.m = m, job.n = n;
  }
  job.k = k;
  return run_job(&job, swapped, c, ldc, beta);
}

int srnn_gemm_bf16_weight_gradients(int64_t k, int64_t n, const float *dg,
                                    int64_t ldg, const float *x, int64_t mx,
                                    int64_t ldx, float *dwx, int64_t ldwx,
                                    const float *h, int64_t mh, int64_t ldh,
                                    float *dwh, int64_t ldwh, float beta) {
  if ((beta != 0.0f && beta != 1.0f) || k <= 0 || n <= 0 || mx <= 0 ||
      mh <= 0 || !srnn_amx_usable())
    return 0;
  /* [dWx^T; dWh^T] = [X^T; H^T] x dG: one product, dG packed once. */
  gemm_job job = {0};
  job.part_count = 2;
  job.parts[0] = (a_part){x, ldx, 0, mx};
  job.parts[1] = (a_part){h, ldh, mx, mh};
  job.a_transposed = 1;
  job.b = dg, job.ldb = ldg, job.b_transposed = 0;
  job.m = mx + mh, job.n = n, job.k = k;
  job.c[0] = dwx, job.ldc[0] = ldwx;
  job.c[1] = dwh, job.ldc[1] = ldwh;
  return run_job(&job, 1, NULL, 0, beta);
}

int srnn_bf16_available(void) { return srnn_amx_usable(); }
