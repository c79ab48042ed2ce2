/*
 * The recurrence's per-step products in bfloat16 on AMX (see
 * recurrence_bf16.h).
 */
#include "recurrence_bf16.h"

#include "amx_tiles.h"

#include <string.h>

/* Column groups handed to one srnn_amx_run call (its tables live on the
 * stack). */
enum { GROUPS_PER_RUN = 64 };

/* The row of left[] where sequence r0 of a member's range is stored: r0
 * rounded up to whole tiles (see recurrence_bf16.h). */
static int64_t first_slot(int64_t r0) { return srnn_round_up(r0, 16); }

/* The k of the step's product: H forward, G*H backward. */
static int64_t product_depth(const srnn_recurrence *job, int backward) {
  return backward ? srnn_gate_count(job->cell) * job->hidden : job->hidden;
}

static int64_t panel_values(const srnn_recurrence *job, int backward,
                            int64_t kblocks, int64_t unit_groups) {
  int64_t gates = backward ? 1 : srnn_gate_count(job->cell);
  return gates * unit_groups * kblocks * SRNN_BF16_TILE;
}

int srnn_bf16_recurrence_begin(const srnn_recurrence *job, int backward,
                               srnn_bf16_recurrence *state) {
  if (!job->bf16 || !srnn_amx_usable())
    return 0;
  int64_t depth = product_depth(job, backward);
  state->lda = srnn_round_up(depth, SRNN_BF16_KBLOCK);
  state->kblocks = state->lda / SRNN_BF16_KBLOCK;
  state->unit_groups =
      srnn_round_up(job->hidden, SRNN_BF16_GROUP) / SRNN_BF16_GROUP;
  int64_t panels =
      panel_values(job, backward, state->kblocks, state->unit_groups);
  /* Shifting a member's rows up to a tile boundary adds at most 15 rows;
   * the last tile reads up to 15 more. */
  int64_t left = (srnn_round_up(job->batch, 16) + 16) * state->lda;
  uint16_t *memory = srnn_bf16_scratch((size_t)(panels + 2 * left) * 2);
  if (memory == NULL)
    return 0;
  state->panels = memory;
  state->left[0] = memory + panels;
  state->left[1] = memory + panels + left;
  /* Padding rows and columns are read by the tile loads and must be 0. */
  memset(state->left[0], 0, (size_t)(2 * left) * 2);
  return 1;
}

void srnn_bf16_recurrence_pack(const srnn_recurrence *job, int backward,
                               const srnn_bf16_recurrence *state, int64_t begin,
                               int64_t end) {
  if (begin >= end)
    return;
  int64_t h = job->hidden, group0 = begin / SRNN_BF16_GROUP;
  int64_t tiles_per_group = state->kblocks;
  if (backward) {
    /* B(n, u) = W[n][u]: columns [begin, end) of the [G*H][H] matrix. */
    srnn_bf16_pack(job->weight_hh + begin, h, 0, srnn_gate_count(job->cell) * h,
                   end - begin,
                   state->panels + group0 * tiles_per_group * SRNN_BF16_TILE);
    return;
  }
  /* Per gate g, B(k, u) = W[g*H + u][k]: rows of W, transposed. */
  for (int64_t g = 0; g < srnn_gate_count(job->cell); g++)
    srnn_bf16_pack(job->weight_hh + (g * h + begin) * h, h, 1, h, end - begin,
                   state->panels + (g * state->unit_groups + group0) *
                                       tiles_per_group * SRNN_BF16_TILE);
}

void srnn_bf16_recurrence_store(const srnn_bf16_recurrence *state, int parity,
                                const float *rows, int64_t stride,
                                const float *mask, int64_t r0, int64_t r1,
                                int64_t offset, int64_t u0, int64_t u1) {
  int64_t n = u1 - u0;
  if (n <= 0)
    return;
  float masked[256];
  uint16_t *first = state->left[parity] + (first_slot(r0) - r0) * state->lda;
  for (int64_t b = r0; b < r1; b++) {
    const float *row = rows + b * stride + u0;
    uint16_t *dst = first + b * state->lda + offset + u0;
    if (mask == NULL) {
      srnn_bf16_convert(row, n, dst);
      continue;
    }
    /* The recurrent product sees the masked state (variational dropout). */
    for (int64_t j = 0; j < n; j += 256) {
      int64_t count = n - j < 256 ? n - j : 256;
      for (int64_t i = 0; i < count; i++)
        masked[i] = row[j + i] * mask[b * stride + u0 + j + i];
      srnn_bf16_convert(masked, count, dst + j);
    }
  }
}

/* Runs the groups of one call in chunks of GROUPS_PER_RUN. */
typedef struct group_list {
  const uint16_t *tile[GROUPS_PER_RUN];
  int64_t column[GROUPS_PER_RUN];
  int lanes[GROUPS_PER_RUN];
  int64_t count;
} group_list;

/* Sequences [r0, r1) of the left operand against the listed groups; out
 * points at row r0. */
static void flush(const srnn_bf16_recurrence *state, int parity, int64_t r0,
                  int64_t r1, float *out, int64_t ldo, group_list *list) {
  if (list->count == 0)
    return;
  srnn_amx_product p = {.a = state->left[parity] + first_slot(r0) * state->lda,
                        .lda = state->lda,
                        .rows = r1 - r0,
                        .kblocks = state->kblocks,
                        .b = list->tile,
                        .column = list->column,
                        .lanes = list->lanes,
                        .groups = list->count,
                        .out = out,
                        .ldo = ldo,
                        .accumulate = 0};
  srnn_amx_run(&p);
  list->count = 0;
}

static void add_group(const srnn_bf16_recurrence *state, int parity, int64_t r0,
                      int64_t r1, float *out, int64_t ldo, group_list *list,
                      const uint16_t *tile, int64_t column, int64_t lanes) {
  list->tile[list->count] = tile;
  list->column[list->count] = column;
  list->lanes[list->count] = (int)lanes;
  if (++list->count == GROUPS_PER_RUN)
    flush(state, parity, r0, r1, out, ldo, list);
}

void srnn_bf16_recurrence_forward(const srnn_recurrence *job,
                                  const srnn_bf16_recurrence *state, int parity,
                                  int64_t u0, int64_t u1, int64_t r0,
                                  int64_t r1) {
  int64_t h = job->hidden, gh = srnn_gate_count(job->cell) * h;
  float *out = job->product + r0 * gh;
  group_list list;
  list.count = 0;
  srnn_amx_begin();
  /* Unit-group major, gates inner: the cell pass of a unit needs all its
   * gates, and neighbouring groups share the left tiles in L1. */
  for (int64_t u = u0; u < u1; u += SRNN_BF16_GROUP)
    for (int64_t g = 0; g < srnn_gate_count(job->cell); g++) {
      int64_t group = g * state->unit_groups + u / SRNN_BF16_GROUP;
      int64_t lanes = u1 - u < SRNN_BF16_GROUP ? u1 - u : SRNN_BF16_GROUP;
      add_group(state, parity, r0, r1, out, gh, &list,
                state->panels + group * state->kblocks * SRNN_BF16_TILE,
                g * h + u, lanes);
    }
  flush(state, parity, r0, r1, out, gh, &list);
  srnn_amx_end();
}

void srnn_bf16_recurrence_backward(const srnn_recurrence *job,
                                   const srnn_bf16_recurrence *state,
                                   int parity, int64_t u0, int64_t u1,
                                   int64_t r0, int64_t r1) {
  float *out = job->product + r0 * job->hidden;
  group_list list;
  list.count = 0;
  srnn_amx_begin();
  for (int64_t u = u0; u < u1; u += SRNN_BF16_GROUP) {
    int64_t lanes = u1 - u < SRNN_BF16_GROUP ? u1 - u : SRNN_BF16_GROUP;
    add_group(state, parity, r0, r1, out, job->hidden, &list,
              state->panels +
                  (u / SRNN_BF16_GROUP) * state->kblocks * SRNN_BF16_TILE,
              u, lanes);
  }
  flush(state, parity, r0, r1, out, job->hidden, &list);
  srnn_amx_end();
}
