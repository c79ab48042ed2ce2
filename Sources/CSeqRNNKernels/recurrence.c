/*
 * The time loop of one recurrent layer direction on both cores (see
 * seqrnn_kernels.h, srnn_recurrence_forward/backward).
 *
 * Per step the layer needs h_prev x W_hh^T ([B,H] x [H,G*H]) and then the
 * fused cell pass. A BLAS call per step re-packs W_hh every time and, on
 * two threads, wakes its workers every time; at the sizes of an RNN step
 * both cost as much as the arithmetic. Here W_hh is packed once per call
 * into panels that match the micro-kernel, and the hidden units are split
 * between the team's threads: each thread computes the gate pre-activations
 * of its own units for every sequence, runs the cell pass on them, and the
 * threads meet at one barrier per step, when the whole new state exists.
 * Backward mirrors it: each thread turns the carried gradients of its units
 * into gate gradients, the threads meet, and each computes its units' slice
 * of dL/dh_prev = dG x W_hh from all gate gradients. Small layers split by
 * sequences instead (see member_share): no barrier in the loop at all.
 *
 * Each output element is a dot product summed in the same order whatever
 * the thread count, split or tile, so results do not depend on them.
 */
#include "recurrence_bf16.h"
#include "seqrnn_kernels.h"
#include "seqrnn_support.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define HAVE_AVX512_PATH 1
#else
#define HAVE_AVX512_PATH 0
#endif

#define INLINE static inline __attribute__((always_inline))

/* The register tiles must be fully unrolled, or their accumulators live on
 * the stack and every FMA becomes a load and a store. */
#if defined(__clang__)
#define UNROLL _Pragma("clang loop unroll(full)")
#else
#define UNROLL _Pragma("GCC unroll 8")
#endif

enum { LANES = 16, MAX_ROWS = 8, MAX_VECTORS = 4 };

/* ---- geometry -------------------------------------------------------- */

/* Units are handed to threads in granules: 64 units when the layer is big
 * enough (the backward panels are then 4 vectors wide), else 16. */
static int64_t granule(int64_t hidden) { return hidden >= 128 ? 64 : 16; }

/* Forward panels: LSTM/GRU panels hold 16 units x G gates; RNN panels hold
 * a whole granule. Each panel is [H][vectors * 16] floats. */
static int64_t forward_panel_units(int32_t cell, int64_t hidden) {
  return srnn_gate_count(cell) == 1 ? granule(hidden) : LANES;
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

static int64_t forward_packed_floats(int32_t cell, int64_t hidden) {
  int64_t units = forward_panel_units(cell, hidden);
  return ceil_div(hidden, units) * units * srnn_gate_count(cell) * hidden;
}

/* Backward panels: one granule of dh_prev outputs, [G*H][granule]. */
static int64_t backward_packed_floats(int32_t cell, int64_t hidden) {
  int64_t units = granule(hidden);
  return ceil_div(hidden, units) * units * srnn_gate_count(cell) * hidden;
}

/* Whether a forward pass packs W_hh: worth it only when many rows reuse
 * each panel (enough sequences and steps to repay one pass over W). */
static int packs_forward(int64_t batch, int64_t steps) {
  return batch > 4 && steps >= 4;
}

int64_t srnn_recurrence_forward_packed_size(int32_t cell, int64_t hidden,
                                            int64_t batch, int64_t steps) {
  return packs_forward(batch, steps) ? forward_packed_floats(cell, hidden) : 0;
}

int64_t srnn_recurrence_backward_packed_size(int32_t cell, int64_t hidden) {
  return backward_packed_floats(cell, hidden);
}

int64_t srnn_recurrence_scratch_size(int64_t batch, int64_t hidden,
                                     int32_t threads) {
  return (threads < 1 ? 1 : threads) * batch * hidden;
}

/* The units [begin, end) of member index of count. */
static void member_units(int64_t hidden, int index, int count, int64_t *begin,
                         int64_t *end) {
  int64_t g = granule(hidden), granules = ceil_div(hidden, g);
  int64_t first = granules * index / count,
          last = granules * (index + 1) / count;
  *begin = first * g < hidden ? first * g : hidden;
  *end = last * g < hidden ? last * g : hidden;
}

/* ---- packing ---------------------------------------------------------- */

/* Forward panel p: element [k][u * G + g][lane] = W[g*H + unit][k] with
 * unit = p * units + u * 16 + lane (0 beyond H). */
static void pack_forward_panel(const float *w, int32_t cell, int64_t hidden,
                               int64_t panel, float *out) {
  int64_t gates = srnn_gate_count(cell),
          units = forward_panel_units(cell, hidden);
  int64_t vectors = gates * units / LANES, width = vectors * LANES;
  for (int64_t k = 0; k < hidden; k++) {
    float *row = out + k * width;
    for (int64_t u = 0; u < units / LANES; u++)
      for (int64_t g = 0; g < gates; g++)
        for (int64_t lane = 0; lane < LANES; lane++) {
          int64_t unit = panel * units + u * LANES + lane;
          row[(u * gates + g) * LANES + lane] =
              unit < hidden ? w[(g * hidden + unit) * hidden + k] : 0.0f;
        }
  }
}

/* Backward panel q: element [n][lane'] = W[n][q * granule + lane'] (0
 * beyond H), n over all G*H rows. */
static void pack_backward_panel(const float *w, int32_t cell, int64_t hidden,
                                int64_t panel, float *out) {
  int64_t rows = srnn_gate_count(cell) * hidden, width = granule(hidden);
  for (int64_t n = 0; n < rows; n++)
    for (int64_t lane = 0; lane < width; lane++) {
      int64_t k = panel * width + lane;
      out[n * width + lane] = k < hidden ? w[n * hidden + k] : 0.0f;
    }
}

/* ---- the product: out[r][col[v] + lane] = sum over segments s, k of
 *      a_s[r][k] * panel[s * len + k][v * 16 + lane] --------------------- */

typedef struct product {
  int segments;
  const float *a[4]; /* row 0 of each segment */
  int64_t lda[4];
  int64_t length;     /* k per segment */
  const float *panel; /* [segments * length][vectors * 16] */
  int vectors;
  int64_t column[MAX_VECTORS]; /* output column of each vector */
  int lanes[MAX_VECTORS];      /* valid lanes of each vector (<= 16) */
  float *out;
  int64_t ldo;
} product;

static void product_rows_generic(const product *p, int64_t row0, int rows) {
  int64_t width = (int64_t)p->vectors * LANES;
  float acc[MAX_ROWS][MAX_VECTORS * LANES];
  memset(acc, 0, sizeof acc);
  const float *w = p->panel;
  for (int s = 0; s < p->segments; s++) {
    const float *a = p->a[s] + row0 * p->lda[s];
    for (int64_t k = 0; k < p->length; k++, w += width)
      for (int r = 0; r < rows; r++) {
        float x = a[r * p->lda[s] + k];
        for (int64_t c = 0; c < width; c++)
          acc[r][c] += x * w[c];
      }
  }
  for (int r = 0; r < rows; r++)
    for (int v = 0; v < p->vectors; v++)
      memcpy(p->out + (row0 + r) * p->ldo + p->column[v], &acc[r][v * LANES],
             sizeof(float) * (size_t)p->lanes[v]);
}

#if HAVE_AVX512_PATH
#define AVX512 __attribute__((target("avx512f")))

/* R rows x V vectors of accumulators stay in registers (R * V <= 32). */
/* R rows x V vectors of accumulators stay in registers (R * V <= 24), over
 * k in [k0, k1) of segment seg; accumulate: add to what out holds (the
 * earlier k blocks) instead of starting from zero. Storing a partial sum and
 * loading it back keeps every element's sum in the same order. */
AVX512 INLINE void tile_avx512(const product *p, int64_t row0, const int R,
                               const int V, int seg, int64_t k0, int64_t k1,
                               int accumulate) {
  __m512 acc[MAX_ROWS][MAX_VECTORS];
  UNROLL for (int v = 0; v < V; v++) {
    __mmask16 mask = (__mmask16)((1u << p->lanes[v]) - 1u);
    UNROLL for (int r = 0; r < R; r++) acc[r][v] =
        accumulate ? _mm512_maskz_loadu_ps(mask, p->out + (row0 + r) * p->ldo +
                                                     p->column[v])
                   : _mm512_setzero_ps();
  }
  const float *w = p->panel + (seg * p->length + k0) * V * LANES;
  const int64_t lda = p->lda[seg];
  const float *a = p->a[seg] + row0 * lda;
  for (int64_t k = k0; k < k1; k++, w += V * LANES) {
    __m512 wv[MAX_VECTORS];
    UNROLL for (int v = 0; v < V; v++) wv[v] = _mm512_loadu_ps(w + v * LANES);
    UNROLL for (int r = 0; r < R; r++) {
      __m512 x = _mm512_set1_ps(a[r * lda + k]);
      UNROLL for (int v = 0; v < V; v++) acc[r][v] =
          _mm512_fmadd_ps(x, wv[v], acc[r][v]);
    }
  }
  UNROLL for (int v = 0; v < V; v++) {
    __mmask16 mask = (__mmask16)((1u << p->lanes[v]) - 1u);
    UNROLL for (int r = 0; r < R; r++) _mm512_mask_storeu_ps(
        p->out + (row0 + r) * p->ldo + p->column[v], mask, acc[r][v]);
  }
}

/* Rows per tile: 6 x 4 vectors (24 accumulators) or 8 x 3 / 8 x 1, so
 * accumulators, panel vectors and the broadcast fit the 32 registers. */
#define TILE(R, V) tile_avx512(p, row0, R, V, seg, k0, k1, accumulate)
#define TILE_UP_TO_6(V)                                                        \
  case 1:                                                                      \
    TILE(1, V);                                                                \
    break;                                                                     \
  case 2:                                                                      \
    TILE(2, V);                                                                \
    break;                                                                     \
  case 3:                                                                      \
    TILE(3, V);                                                                \
    break;                                                                     \
  case 4:                                                                      \
    TILE(4, V);                                                                \
    break;                                                                     \
  case 5:                                                                      \
    TILE(5, V);                                                                \
    break;                                                                     \
  case 6:                                                                      \
    TILE(6, V);                                                                \
    break;

AVX512 static void product_rows_avx512(const product *p, int64_t row0, int rows,
                                       int seg, int64_t k0, int64_t k1,
                                       int accumulate) {
  if (p->vectors == 4) {
    switch (rows) {
      TILE_UP_TO_6(4)
    default:
      product_rows_generic(p, row0, rows);
      break;
    }
  } else if (p->vectors == 3) {
    switch (rows) {
      TILE_UP_TO_6(3)
    case 7:
      TILE(7, 3);
      break;
    case 8:
      TILE(8, 3);
      break;
    default:
      product_rows_generic(p, row0, rows);
      break;
    }
  } else if (p->vectors == 1) {
    switch (rows) {
      TILE_UP_TO_6(1)
    case 7:
      TILE(7, 1);
      break;
    case 8:
      TILE(8, 1);
      break;
    default:
      product_rows_generic(p, row0, rows);
      break;
    }
  } else {
    product_rows_generic(p, row0, rows);
  }
}

static int use_avx512(void) {
  static int known = -1;
  if (known < 0)
    known = __builtin_cpu_supports("avx512f") ? 1 : 0;
  return known;
}
#endif

/* All `batch` rows, in tiles the registers hold. */
/* k per block of the AVX-512 path: a 64-deep slice of a panel (at most
 * 16 KiB) stays in L1 while every row tile of the batch passes over it. */
enum { K_BLOCK = 64 };

static void product_run(const product *p, int64_t batch) {
  int tile = p->vectors == 4 ? 6 : MAX_ROWS;
#if HAVE_AVX512_PATH
  if (use_avx512() && (p->vectors == 1 || p->vectors == 3 || p->vectors == 4)) {
    for (int seg = 0; seg < p->segments; seg++)
      for (int64_t k0 = 0; k0 < p->length; k0 += K_BLOCK) {
        int64_t k1 = k0 + K_BLOCK < p->length ? k0 + K_BLOCK : p->length;
        int accumulate = seg > 0 || k0 > 0;
        for (int64_t row0 = 0; row0 < batch; row0 += tile) {
          int rows = batch - row0 < tile ? (int)(batch - row0) : tile;
          product_rows_avx512(p, row0, rows, seg, k0, k1, accumulate);
        }
      }
    return;
  }
#endif
  for (int64_t row0 = 0; row0 < batch; row0 += tile) {
    int rows = batch - row0 < tile ? (int)(batch - row0) : tile;
    product_rows_generic(p, row0, rows);
  }
}

/* ---- the unpacked product for few rows ------------------------------------
 * out[b][n] = dot(W[n][:], h[b][:]) straight from W's row-major layout.
 * Streaming (one step per call) and tiny batches are memory-bound: packing
 * W_hh would cost more than the step itself, and row dot products read W
 * exactly once per 4 sequences. */

typedef struct dot_product {
  const float *w; /* [rows][k] */
  const float *h; /* [batch][k] */
  int64_t k, batch;
  float *out; /* out[b * ldo + n] */
  int64_t ldo;
} dot_product;

static void dot_rows_generic(const dot_product *d, int64_t n0, int64_t n1) {
  for (int64_t b = 0; b < d->batch; b++)
    for (int64_t n = n0; n < n1; n++) {
      const float *w = d->w + n * d->k, *h = d->h + b * d->k;
      float sum = 0.0f;
      for (int64_t k = 0; k < d->k; k++)
        sum += w[k] * h[k];
      d->out[b * d->ldo + n] = sum;
    }
}

#if HAVE_AVX512_PATH
/* NB x NR accumulators of 16 lanes, reduced at the end. */
AVX512 INLINE void dot_tile_avx512(const dot_product *d, int64_t n0, int64_t b0,
                                   const int NR, const int NB) {
  __m512 acc[4][4];
  UNROLL for (int b = 0; b < NB; b++) UNROLL for (int r = 0; r < NR; r++)
      acc[b][r] = _mm512_setzero_ps();
  const int64_t k = d->k;
  for (int64_t i = 0; i < k; i += LANES) {
    __mmask16 mask =
        k - i >= LANES ? (__mmask16)0xFFFF : (__mmask16)((1u << (k - i)) - 1u);
    __m512 w[4];
    UNROLL for (int r = 0; r < NR; r++) w[r] =
        _mm512_maskz_loadu_ps(mask, d->w + (n0 + r) * k + i);
    UNROLL for (int b = 0; b < NB; b++) {
      __m512 x = _mm512_maskz_loadu_ps(mask, d->h + (b0 + b) * k + i);
      UNROLL for (int r = 0; r < NR; r++) acc[b][r] =
          _mm512_fmadd_ps(x, w[r], acc[b][r]);
    }
  }
  for (int b = 0; b < NB; b++)
    for (int r = 0; r < NR; r++)
      d->out[(b0 + b) * d->ldo + n0 + r] = _mm512_reduce_add_ps(acc[b][r]);
}

AVX512 static void dot_rows_avx512(const dot_product *d, int64_t n0,
                                   int64_t n1) {
  for (int64_t b0 = 0; b0 < d->batch; b0 += 4) {
    int64_t nb = d->batch - b0 < 4 ? d->batch - b0 : 4;
    int64_t n = n0;
    for (; n + 4 <= n1; n += 4) {
      switch (nb) {
      case 1:
        dot_tile_avx512(d, n, b0, 4, 1);
        break;
      case 2:
        dot_tile_avx512(d, n, b0, 4, 2);
        break;
      case 3:
        dot_tile_avx512(d, n, b0, 4, 3);
        break;
      default:
        dot_tile_avx512(d, n, b0, 4, 4);
        break;
      }
    }
    for (; n < n1; n++) {
      switch (nb) {
      case 1:
        dot_tile_avx512(d, n, b0, 1, 1);
        break;
      case 2:
        dot_tile_avx512(d, n, b0, 1, 2);
        break;
      case 3:
        dot_tile_avx512(d, n, b0, 1, 3);
        break;
      default:
        dot_tile_avx512(d, n, b0, 1, 4);
        break;
      }
    }
  }
}
#endif

/* Rows [n0, n1) of W against every sequence. */
static void dot_rows(const dot_product *d, int64_t n0, int64_t n1) {
#if HAVE_AVX512_PATH
  if (use_avx512()) {
    dot_rows_avx512(d, n0, n1);
    return;
  }
#endif
  dot_rows_generic(d, n0, n1);
}

/* ---- how the members share the work ------------------------------------ */

/* A member's share of each step: its units [u0, u1) of its sequences
 * [r0, r1). Two ways to split:
 * - by units (r0 = 0, r1 = B): each member computes the gates of its own
 *   units for every sequence; the new state is exchanged through a barrier
 *   every step, and each member reads only its own part of W_hh;
 * - by sequences (u0 = 0, u1 = H): each member runs its own sequences
 *   through all units; no state crosses between cores and there is no
 *   barrier in the loop, but each member reads all of W_hh every step.
 * Sequences win while W_hh fits a core's cache many times over (small
 * layers: the per-step exchange then costs as much as the arithmetic);
 * units win for large layers. Each output element is computed the same way
 * under either split, so results do not depend on it. */
typedef struct share {
  int64_t u0, u1, r0, r1;
  int by_rows;
} share;

/* Packed W_hh bytes up to which a layer is split by sequences. */
enum { ROW_SPLIT_MAX_BYTES = 1 << 19 };

/* Split by sequences, the members get equal shares: the cell passes cost
 * per sequence. (The bf16 products place each share on whole tiles of
 * their own, see recurrence_bf16.h.) */
static share member_share(const srnn_recurrence *job, int index, int count) {
  share w = {0, job->hidden, 0, job->batch, 0};
  int64_t bytes = srnn_gate_count(job->cell) * job->hidden * job->hidden * 4;
  int by_rows = job->split == SRNN_SPLIT_ROWS ||
                (job->split == SRNN_SPLIT_AUTO &&
                 bytes <= ROW_SPLIT_MAX_BYTES && job->batch >= 2 * count);
  if (count > 1 && by_rows) {
    w.by_rows = 1;
    w.r0 = job->batch * index / count;
    w.r1 = job->batch * (index + 1) / count;
  } else {
    member_units(job->hidden, index, count, &w.u0, &w.u1);
  }
  return w;
}

/* ---- the forward time loop --------------------------------------------- */

/* A call as its members see it: the job, and the bf16 products' state when
 * the job runs them (the opt-in precision; recurrence_bf16.c). */
typedef struct pass {
  const srnn_recurrence *job;
  int bf16;
  srnn_bf16_recurrence products;
} pass;

/* The left operand of the step's product for sequences [r0, r1): h_prev,
 * or (variational recurrent dropout) h_prev times the mask, written into
 * the member's scratch (laid out like h_prev). */
static const float *step_input(const srnn_recurrence *job, const float *h_prev,
                               int index, int64_t r0, int64_t r1) {
  if (job->recurrent_mask == NULL)
    return h_prev;
  int64_t h = job->hidden;
  float *masked = job->scratch + index * job->batch * h;
  for (int64_t i = r0 * h; i < r1 * h; i++)
    masked[i] = h_prev[i] * job->recurrent_mask[i];
  return masked;
}

/* Packs this member's units of the forward panels (every member's, in the
 * bf16 case), whichever way the steps are split. */
static void pack_forward(const pass *call, int index, int count, int packs) {
  const srnn_recurrence *job = call->job;
  int64_t h = job->hidden, begin, end;
  member_units(h, index, count, &begin, &end);
  if (call->bf16) {
    srnn_bf16_recurrence_pack(job, 0, &call->products, begin, end);
    return;
  }
  int64_t panel_units = forward_panel_units(job->cell, h);
  int64_t panel_floats = panel_units * srnn_gate_count(job->cell) * h;
  for (int64_t q = begin / panel_units; packs && q * panel_units < end; q++)
    pack_forward_panel(job->weight_hh, job->cell, h, q,
                       job->packed + q * panel_floats);
}

/* product[r][g*H + u] = (input x W_hh^T) for the share's units and rows. */
static void forward_product(const pass *call, const share *w,
                            const float *input, int parity, int packs) {
  const srnn_recurrence *job = call->job;
  const int64_t h = job->hidden, gates = srnn_gate_count(job->cell),
                gh = gates * h;
  const int64_t rows = w->r1 - w->r0;
  if (call->bf16) {
    srnn_bf16_recurrence_forward(job, &call->products, parity, w->u0, w->u1,
                                 w->r0, w->r1);
    return;
  }
  if (!packs) {
    dot_product d = {job->weight_hh, input + w->r0 * h,         h,
                     rows,           job->product + w->r0 * gh, gh};
    for (int64_t g = 0; g < gates; g++)
      dot_rows(&d, g * h + w->u0, g * h + w->u1);
    return;
  }
  const int64_t panel_units = forward_panel_units(job->cell, h);
  const int64_t panel_floats = panel_units * gates * h;
  for (int64_t q = w->u0 / panel_units; q * panel_units < w->u1; q++) {
    product p = {.segments = 1,
                 .a = {input + w->r0 * h},
                 .lda = {h},
                 .length = h,
                 .panel = job->packed + q * panel_floats,
                 .vectors = (int)(gates * panel_units / LANES),
                 .out = job->product + w->r0 * gh,
                 .ldo = gh};
    for (int64_t u = 0; u < panel_units / LANES; u++)
      for (int64_t g = 0; g < gates; g++) {
        int64_t first = q * panel_units + u * LANES;
        int64_t lanes = h - first < LANES ? h - first : LANES;
        p.column[u * gates + g] = g * h + first;
        p.lanes[u * gates + g] = lanes > 0 ? (int)lanes : 0;
      }
    product_run(&p, rows);
  }
}

static void forward_member(void *context, int index, int count,
                           srnn_barrier *barrier) {
  const pass *call = context;
  const srnn_recurrence *job = call->job;
  const int32_t cell = job->cell;
  const int64_t b_count = job->batch, h = job->hidden, t_count = job->steps;
  const int64_t gates = srnn_gate_count(cell), gh = gates * h;
  const share w = member_share(job, index, count);
  const int bf16 = call->bf16;
  const int packs = !bf16 && packs_forward(job->batch, job->steps);
  pack_forward(call, index, count, packs);
  if (bf16) /* this member's share of the initial state */
    srnn_bf16_recurrence_store(
        &call->products, 0,
        job->states + (job->reverse ? t_count : 0) * b_count * h, h,
        job->recurrent_mask, w.r0, w.r1, 0, w.u0, w.u1);
  /* Split by sequences, every member reads every panel: wait until all
   * are packed. Split by units, each reads its own, but the bf16 initial
   * state is read whole. */
  if (w.by_rows || bf16)
    srnn_barrier_wait(barrier);
  const int64_t n = w.u1 - w.u0;
  for (int64_t step = 0; step < t_count; step++) {
    int64_t s = job->reverse ? t_count - 1 - step : step;
    int64_t previous = job->reverse ? s + 1 : s,
            next = job->reverse ? s : s + 1;
    const float *h_prev = job->states + previous * b_count * h;
    float *h_next = job->states + next * b_count * h;
    float *g_step = job->gates + s * b_count * gh;
    float *out_step = job->output + s * b_count * job->output_stride;
    const float *c_prev = job->cells ? job->cells + previous * b_count * h : 0;
    float *c_next = job->cells ? job->cells + next * b_count * h : 0;
    if (n > 0 && w.r1 > w.r0) {
      const float *input =
          bf16 ? h_prev : step_input(job, h_prev, index, w.r0, w.r1);
      forward_product(call, &w, input, (int)(step & 1), packs);
      for (int64_t b = w.r0; b < w.r1; b++) {
        float *out = out_step + b * job->output_stride + w.u0;
        float *hn = h_next + b * h + w.u0;
        const float *hp = h_prev + b * h + w.u0;
        if (s >= job->lengths[b]) {
          /* Padding: the state passes through, the output is zero. */
          memcpy(hn, hp, sizeof(float) * (size_t)n);
          if (c_next)
            memcpy(c_next + b * h + w.u0, c_prev + b * h + w.u0,
                   sizeof(float) * (size_t)n);
          memset(out, 0, sizeof(float) * (size_t)n);
          continue;
        }
        float *g = g_step + b * gh + w.u0;
        const float *r = job->product + b * gh + w.u0;
        switch (cell) {
        case SRNN_CELL_RNN_TANH:
          srnn_rnn_tanh_forward(g, r, hn, out, n);
          break;
        case SRNN_CELL_RNN_RELU:
          srnn_rnn_relu_forward(g, r, hn, out, n);
          break;
        case SRNN_CELL_LSTM:
          srnn_lstm_forward(g, r, c_prev + b * h + w.u0, c_next + b * h + w.u0,
                            hn, out, n, h);
          break;
        default:
          srnn_gru_forward(g, r, job->gru_bias + w.u0, hp,
                           job->gru_hidden + (s * b_count + b) * h + w.u0, hn,
                           out, n, h);
          break;
        }
      }
      if (bf16) /* the next step's left operand */
        srnn_bf16_recurrence_store(&call->products, (int)((step + 1) & 1),
                                   h_next, h, job->recurrent_mask, w.r0, w.r1,
                                   0, w.u0, w.u1);
    }
    if (!w.by_rows) /* the whole new state exists */
      srnn_barrier_wait(barrier);
  }
}

void srnn_recurrence_forward(const srnn_recurrence *job) {
  pass call = {.job = job};
  /* Streaming and tiny batches stay fp32: packing would cost more than the
   * bf16 products save. */
  call.bf16 = packs_forward(job->batch, job->steps) &&
              srnn_bf16_recurrence_begin(job, 0, &call.products);
  srnn_team_run(job->threads, forward_member, &call);
}

/* ---- the backward time loop -------------------------------------------- */

/* product[r][u] = (dG x W_hh)[r][u] for the share's units and rows (GRU:
 * the n block goes through dL/d(W_hn h + b_hn)). */
static void backward_product(const pass *call, const share *w,
                             const float *dg_step, const float *dhn_step,
                             int parity) {
  const srnn_recurrence *job = call->job;
  const int64_t h = job->hidden, gates = srnn_gate_count(job->cell),
                gh = gates * h;
  if (call->bf16) {
    srnn_bf16_recurrence_backward(job, &call->products, parity, w->u0, w->u1,
                                  w->r0, w->r1);
    return;
  }
  const int64_t width = granule(h), panel_floats = width * gh;
  for (int64_t q = w->u0 / width; q * width < w->u1; q++) {
    product p = {.segments = (int)gates,
                 .length = h,
                 .panel = job->packed_backward + q * panel_floats,
                 .vectors = (int)(width / LANES),
                 .out = job->product + w->r0 * h,
                 .ldo = h};
    for (int64_t g = 0; g < gates; g++) {
      int gru_n = job->cell == SRNN_CELL_GRU && g == 2;
      p.a[g] = gru_n ? dhn_step + w->r0 * h : dg_step + w->r0 * gh + g * h;
      p.lda[g] = gru_n ? h : gh;
    }
    for (int v = 0; v < p.vectors; v++) {
      int64_t first = q * width + v * LANES;
      int64_t lanes = h - first < LANES ? h - first : LANES;
      p.column[v] = first;
      p.lanes[v] = lanes > 0 ? (int)lanes : 0;
    }
    product_run(&p, w->r1 - w->r0);
  }
}

/* Packs this member's units of the backward panels, whichever way the
 * steps are split. */
static void pack_backward(const pass *call, int index, int count) {
  const srnn_recurrence *job = call->job;
  int64_t h = job->hidden, begin, end;
  member_units(h, index, count, &begin, &end);
  if (call->bf16) {
    srnn_bf16_recurrence_pack(job, 1, &call->products, begin, end);
    return;
  }
  int64_t width = granule(h),
          panel_floats = width * srnn_gate_count(job->cell) * h;
  for (int64_t q = begin / width; q * width < end; q++)
    pack_backward_panel(job->weight_hh, job->cell, h, q,
                        job->packed_backward + q * panel_floats);
}

static void backward_member(void *context, int index, int count,
                            srnn_barrier *barrier) {
  const pass *call = context;
  const srnn_recurrence *job = call->job;
  const int bf16 = call->bf16;
  const int32_t cell = job->cell;
  const int64_t b_count = job->batch, h = job->hidden, t_count = job->steps;
  const int64_t gates = srnn_gate_count(cell), gh = gates * h;
  const share w = member_share(job, index, count);
  pack_backward(call, index, count);
  /* Split by sequences, every member reads every panel. */
  if (w.by_rows)
    srnn_barrier_wait(barrier);
  const int64_t n = w.u1 - w.u0;
  for (int64_t step = 0; step < t_count; step++) {
    int64_t s = job->reverse ? step : t_count - 1 - step;
    int64_t previous = job->reverse ? s + 1 : s,
            next = job->reverse ? s : s + 1;
    float *dg_step = job->gate_gradients + s * b_count * gh;
    float *dhn_step = job->gru_hidden_gradients
                          ? job->gru_hidden_gradients + s * b_count * h
                          : 0;
    const float *g_step = job->gates + s * b_count * gh;
    const float *dout_step =
        job->output_gradient + s * b_count * job->output_stride;
    const float *h_prev = job->states + previous * b_count * h;
    const float *h_next = job->states + next * b_count * h;
    /* 1. Gate gradients of the share. */
    for (int64_t b = w.r0; b < w.r1 && n > 0; b++) {
      float *dg = dg_step + b * gh + w.u0;
      if (s >= job->lengths[b]) {
        for (int64_t g = 0; g < gates; g++)
          memset(dg + g * h, 0, sizeof(float) * (size_t)n);
        if (dhn_step)
          memset(dhn_step + b * h + w.u0, 0, sizeof(float) * (size_t)n);
        continue;
      }
      const float *g = g_step + b * gh + w.u0;
      const float *dh = job->hidden_carry + b * h + w.u0;
      const float *dout = dout_step + b * job->output_stride + w.u0;
      switch (cell) {
      case SRNN_CELL_RNN_TANH:
      case SRNN_CELL_RNN_RELU:
        srnn_rnn_backward(h_next + b * h + w.u0, dh, dout, dg, n,
                          cell == SRNN_CELL_RNN_RELU);
        break;
      case SRNN_CELL_LSTM:
        srnn_lstm_backward(g, job->cells + (previous * b_count + b) * h + w.u0,
                           job->cells + (next * b_count + b) * h + w.u0, dh,
                           dout, job->cell_carry + b * h + w.u0, dg, n, h);
        break;
      default:
        srnn_gru_backward(g, h_prev + b * h + w.u0,
                          job->gru_hidden + (s * b_count + b) * h + w.u0, dh,
                          dout, dg, dhn_step + b * h + w.u0,
                          job->direct + b * h + w.u0, n, h);
        break;
      }
    }
    if (bf16) /* this step's left operand: every gate's gradients */
      for (int64_t g = 0; g < gates && n > 0; g++) {
        int gru_n = cell == SRNN_CELL_GRU && g == 2;
        srnn_bf16_recurrence_store(&call->products, (int)(step & 1),
                                   gru_n ? dhn_step : dg_step + g * h,
                                   gru_n ? h : gh, NULL, w.r0, w.r1, g * h,
                                   w.u0, w.u1);
      }
    if (!w.by_rows) /* every unit's gate gradients exist */
      srnn_barrier_wait(barrier);
    if (n == 0 || w.r1 <= w.r0)
      continue;
    /* 2. The share of dL/dh_prev = dG x W_hh. */
    backward_product(call, &w, dg_step, dhn_step, (int)(step & 1));
    /* 3. The carries of the share for the previous step. */
    for (int64_t b = w.r0; b < w.r1; b++) {
      if (s >= job->lengths[b])
        continue;
      float *carry = job->hidden_carry + b * h + w.u0;
      const float *result = job->product + b * h + w.u0;
      const float *mask =
          job->recurrent_mask ? job->recurrent_mask + b * h + w.u0 : 0;
      const float *direct = job->direct ? job->direct + b * h + w.u0 : 0;
      for (int64_t j = 0; j < n; j++) {
        float value = mask ? result[j] * mask[j] : result[j];
        carry[j] = direct ? value + direct[j] : value;
      }
    }
  }
}

void srnn_recurrence_backward(const srnn_recurrence *job) {
  pass call = {.job = job};
  call.bf16 = srnn_bf16_recurrence_begin(job, 1, &call.products);
  srnn_team_run(job->threads, backward_member, &call);
}
