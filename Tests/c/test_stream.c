/*
 * test_stream.c - seqrnn_state: step-by-step outputs equal the full forward
 * at every step (each cell, 2 layers, SEQUENCE and LAST, features and
 * tokens), get/set/reset, and every error path.
 */
#include "test_util.h"

#define RTOL 1e-6
#define ATOL 1e-7

enum { B = 3, T = 6, I = 3, H = 5, O = 4, L = 2, V = 8 };

static seqrnn_model *make(int32_t cell, int tokens, int32_t mode, int bidir) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = cell;
  p.input_size = I;
  p.vocab_size = tokens ? V : 0;
  p.hidden_size = H;
  p.num_layers = L;
  p.bidirectional = bidir;
  p.output_size = O;
  p.output_mode = mode;
  p.seed = 31 + (uint64_t)cell;
  return tu_make_model(&p);
}

/* Full forward of the first `len` steps of x/ids ([B][T] layout). */
static int forward_prefix(const seqrnn_model *model, int tokens, const float *x,
                          const int32_t *ids, int64_t len, float *out,
                          int64_t cap, float *hn, float *cn) {
  float *xp = tu_floats(B * len * I);
  int32_t *ip = tu_ints(B * len);
  for (int b = 0; b < B; b++) {
    memcpy(xp + b * len * I, x + b * T * I, sizeof(float) * (size_t)(len * I));
    memcpy(ip + b * len, ids + b * T, sizeof(int32_t) * (size_t)len);
  }
  seqrnn_batch batch = seqrnn_batch_init(B, len);
  batch.features = tokens ? NULL : xp;
  batch.tokens = tokens ? ip : NULL;
  int ok = EXPECT_OK(
      seqrnn_model_forward(model, &batch, out, cap, hn, cn, L * B * H, NULL));
  free(xp);
  free(ip);
  return ok;
}

static void check_streaming(int32_t cell, int tokens, int32_t mode) {
  const int is_lstm = cell == SEQRNN_CELL_LSTM;
  seqrnn_model *model = make(cell, tokens, mode, 0);
  tu_rng rng = {(uint64_t)(cell * 4 + tokens * 2 + mode + 1)};
  float x[B * T * I];
  int32_t ids[B * T];
  tu_fill(&rng, x, B * T * I, -1.5f, 1.5f);
  tu_fill_tokens(&rng, ids, B * T, V);

  seqrnn_state *state = NULL;
  if (!EXPECT_OK(seqrnn_state_create(model, B, &state))) {
    seqrnn_model_free(model);
    return;
  }
  float first_run[T][B * O];
  for (int pass = 0; pass < 2; pass++) {
    for (int t = 0; t < T; t++) {
      float xt[B * I];
      int32_t it[B];
      for (int b = 0; b < B; b++) {
        memcpy(xt + b * I, x + (b * T + t) * I, sizeof(float) * I);
        it[b] = ids[b * T + t];
      }
      float step_out[B * O];
      if (!EXPECT_OK(seqrnn_state_step(state, tokens ? NULL : xt,
                                       tokens ? it : NULL, step_out, B * O)))
        break;
      if (pass == 1) {
        /* After reset the same inputs give the same outputs. */
        CHECK_MSG(tu_same_floats(step_out, first_run[t], B * O),
                  "%s: step %d differs after reset", tu_cell_name(cell), t);
        continue;
      }
      memcpy(first_run[t], step_out, sizeof step_out);

      /* The full forward over steps [0, t]: its output at step t (SEQUENCE)
       * or its LAST output, and its final states. */
      int64_t len = t + 1;
      int64_t cap = mode == SEQRNN_OUTPUT_SEQUENCE ? B * len * O : B * O;
      float *full = tu_floats(cap);
      float hn[L * B * H], cn[L * B * H];
      if (forward_prefix(model, tokens, x, ids, len, full, cap, hn,
                         is_lstm ? cn : NULL)) {
        float expected[B * O];
        for (int b = 0; b < B; b++)
          memcpy(expected + b * O,
                 mode == SEQRNN_OUTPUT_SEQUENCE ? full + (b * len + t) * O
                                                : full + b * O,
                 sizeof(float) * O);
        if (!tu_check_close_arrays(step_out, expected, B * O, RTOL, ATOL,
                                   __FILE__, __LINE__, "step vs full"))
          fprintf(stderr, "    %s %s %s, step %d\n", tu_cell_name(cell),
                  tokens ? "tokens" : "features", mode ? "last" : "sequence",
                  t);
        float h[L * B * H], c[L * B * H];
        EXPECT_OK(seqrnn_state_get(state, h, is_lstm ? c : NULL, L * B * H));
        CHECK(tu_check_close_arrays(h, hn, L * B * H, RTOL, ATOL, __FILE__,
                                    __LINE__, "state h vs final_h"));
        if (is_lstm)
          CHECK(tu_check_close_arrays(c, cn, L * B * H, RTOL, ATOL, __FILE__,
                                      __LINE__, "state c vs final_c"));
      }
      free(full);
    }
    if (pass == 0)
      EXPECT_OK(seqrnn_state_reset(state));
  }
  seqrnn_state_free(state);
  seqrnn_model_free(model);
}

static void test_streaming_equals_full(void) {
  for (int c = 0; c < 4; c++)
    for (int tokens = 0; tokens <= 1; tokens++)
      for (int32_t mode = 0; mode <= 1; mode++)
        check_streaming(tu_all_cells[c], tokens, mode);
}

/* set() installs a state that the next steps continue from, exactly as a
 * forward call with that initial state; reset() gives zeros; set(h, NULL)
 * zeroes an LSTM's cell state. */
static void test_get_set_reset(void) {
  for (int ci = 0; ci < 4; ci++) {
    int32_t cell = tu_all_cells[ci];
    int is_lstm = cell == SEQRNN_CELL_LSTM;
    seqrnn_model *model = make(cell, 0, SEQRNN_OUTPUT_SEQUENCE, 0);
    tu_rng rng = {(uint64_t)ci + 500};
    float h0[L * B * H], c0[L * B * H], x[B * I];
    tu_fill(&rng, h0, L * B * H, -0.9f, 0.9f);
    tu_fill(&rng, c0, L * B * H, -0.9f, 0.9f);
    tu_fill(&rng, x, B * I, -1, 1);
    seqrnn_state *state = NULL;
    if (!EXPECT_OK(seqrnn_state_create(model, B, &state)))
      continue;

    /* A new state is zero. */
    float h[L * B * H], c[L * B * H], zeros[L * B * H];
    memset(zeros, 0, sizeof zeros);
    EXPECT_OK(seqrnn_state_get(state, h, is_lstm ? c : NULL, L * B * H));
    CHECK(tu_same_floats(h, zeros, L * B * H));
    if (is_lstm)
      CHECK(tu_same_floats(c, zeros, L * B * H));

    /* set then get round-trips exactly. */
    EXPECT_OK(seqrnn_state_set(state, h0, is_lstm ? c0 : NULL, L * B * H));
    EXPECT_OK(seqrnn_state_get(state, h, is_lstm ? c : NULL, L * B * H));
    CHECK(tu_same_floats(h, h0, L * B * H));
    if (is_lstm)
      CHECK(tu_same_floats(c, c0, L * B * H));

    /* A step from the set state equals a one-step forward from h0/c0. */
    float step_out[B * O], full[B * O], hn[L * B * H], cn[L * B * H];
    EXPECT_OK(seqrnn_state_step(state, x, NULL, step_out, B * O));
    seqrnn_batch batch = seqrnn_batch_init(B, 1);
    batch.features = x;
    batch.initial_h = h0;
    batch.initial_c = is_lstm ? c0 : NULL;
    EXPECT_OK(seqrnn_model_forward(model, &batch, full, B * O, hn,
                                   is_lstm ? cn : NULL, L * B * H, NULL));
    CHECK(tu_check_close_arrays(step_out, full, B * O, RTOL, ATOL, __FILE__,
                                __LINE__, "step from set state"));
    EXPECT_OK(seqrnn_state_get(state, h, is_lstm ? c : NULL, L * B * H));
    CHECK(tu_check_close_arrays(h, hn, L * B * H, RTOL, ATOL, __FILE__,
                                __LINE__, "h after step from set state"));

    /* reset gives zeros again. */
    EXPECT_OK(seqrnn_state_reset(state));
    EXPECT_OK(seqrnn_state_get(state, h, is_lstm ? c : NULL, L * B * H));
    CHECK(tu_same_floats(h, zeros, L * B * H));
    if (is_lstm) {
      CHECK(tu_same_floats(c, zeros, L * B * H));
      /* set with c = NULL means zeros for the cell state. */
      EXPECT_OK(seqrnn_state_set(state, h0, c0, L * B * H));
      EXPECT_OK(seqrnn_state_set(state, h0, NULL, L * B * H));
      EXPECT_OK(seqrnn_state_get(state, h, c, L * B * H));
      CHECK(tu_same_floats(h, h0, L * B * H));
      CHECK(tu_same_floats(c, zeros, L * B * H));
      /* get with c = NULL is allowed for an LSTM too. */
      EXPECT_OK(seqrnn_state_get(state, h, NULL, L * B * H));
    }
    seqrnn_state_free(state);
    seqrnn_model_free(model);
  }
}

static void test_state_errors(void) {
  seqrnn_model *lstm = make(SEQRNN_CELL_LSTM, 0, 0, 0);
  seqrnn_model *gru = make(SEQRNN_CELL_GRU, 0, 0, 0);
  seqrnn_model *tok = make(SEQRNN_CELL_RNN_TANH, 1, 0, 0);
  seqrnn_model *bi = make(SEQRNN_CELL_LSTM, 0, 0, 1);

  /* create */
  seqrnn_state *state = (seqrnn_state *)&state;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_state_create(NULL, B, &state));
  CHECK(state == NULL);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_state_create(lstm, B, NULL));
  state = (seqrnn_state *)&state;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_state_create(lstm, 0, &state));
  CHECK(state == NULL);
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_state_create(lstm, -5, &state));
  state = (seqrnn_state *)&state;
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED, seqrnn_state_create(bi, B, &state));
  CHECK(state == NULL);

  seqrnn_state *s = NULL, *sg = NULL, *st = NULL;
  EXPECT_OK(seqrnn_state_create(lstm, B, &s));
  EXPECT_OK(seqrnn_state_create(gru, B, &sg));
  EXPECT_OK(seqrnn_state_create(tok, B, &st));
  if (s == NULL || sg == NULL || st == NULL)
    return;
  float x[B * I] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f};
  int32_t ids[B] = {1, 2, 3};
  float out[B * O], h[L * B * H], c[L * B * H], before[L * B * H];
  /* Move the state away from zeros, so that "unchanged" means something. */
  EXPECT_OK(seqrnn_state_step(s, x, NULL, out, B * O));
  EXPECT_OK(seqrnn_state_get(s, before, NULL, L * B * H));

  /* step */
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_state_step(NULL, x, NULL, out, B * O));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_state_step(s, x, NULL, NULL, B * O));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_state_step(s, NULL, NULL, out, B * O));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_state_step(st, NULL, NULL, out, B * O));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_state_step(s, NULL, ids, out, B * O));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_state_step(st, x, NULL, out, B * O));
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_state_step(s, x, NULL, out, B * O - 1));
  x[4] = NAN;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE, seqrnn_state_step(s, x, NULL, out, B * O));
  x[4] = INFINITY;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE, seqrnn_state_step(s, x, NULL, out, B * O));
  x[4] = 0.5f;
  ids[1] = V;
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_state_step(st, NULL, ids, out, B * O));
  ids[1] = -1;
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_state_step(st, NULL, ids, out, B * O));
  ids[1] = 2;
  EXPECT_OK(seqrnn_state_step(st, NULL, ids, out, B * O));

  /* get */
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_state_get(NULL, h, NULL, L * B * H));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_state_get(s, NULL, NULL, L * B * H));
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_state_get(s, h, c, L * B * H - 1));
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED, seqrnn_state_get(sg, h, c, L * B * H));
  EXPECT_OK(seqrnn_state_get(sg, h, NULL, L * B * H));
  EXPECT_OK(seqrnn_state_get(s, h, c, L * B * H + 100)); /* larger is fine */

  /* set */
  float hs[L * B * H], cs[L * B * H];
  tu_rng rng = {3};
  tu_fill(&rng, hs, L * B * H, -1, 1);
  tu_fill(&rng, cs, L * B * H, -1, 1);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_state_set(NULL, hs, NULL, L * B * H));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_state_set(s, NULL, cs, L * B * H));
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_state_set(s, hs, cs, L * B * H - 1));
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_state_set(s, hs, cs, L * B * H + 1));
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED, seqrnn_state_set(sg, hs, cs, L * B * H));
  hs[7] = NAN;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE, seqrnn_state_set(s, hs, cs, L * B * H));
  hs[7] = 0.25f;
  cs[3] = -INFINITY;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE, seqrnn_state_set(s, hs, cs, L * B * H));

  /* None of the failed calls changed the state. */
  EXPECT_OK(seqrnn_state_get(s, h, NULL, L * B * H));
  CHECK_MSG(tu_same_floats(h, before, L * B * H),
            "a failed step or set changed the state");

  /* reset */
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_state_reset(NULL));

  seqrnn_state_free(s);
  seqrnn_state_free(sg);
  seqrnn_state_free(st);
  seqrnn_model_free(lstm);
  seqrnn_model_free(gru);
  seqrnn_model_free(tok);
  seqrnn_model_free(bi);
}

/* A state keeps its model alive after the caller frees the model. */
static void test_state_outlives_model(void) {
  seqrnn_model *model = make(SEQRNN_CELL_GRU, 0, 0, 0);
  float x[B * I] = {0}, expected[B * O], out[B * O];
  seqrnn_state *a = NULL, *b = NULL;
  EXPECT_OK(seqrnn_state_create(model, B, &a));
  EXPECT_OK(seqrnn_state_create(model, B, &b));
  EXPECT_OK(seqrnn_state_step(a, x, NULL, expected, B * O));
  seqrnn_model_free(model);
  EXPECT_OK(seqrnn_state_step(b, x, NULL, out, B * O));
  CHECK(tu_same_floats(out, expected, B * O));
  seqrnn_state_free(a);
  EXPECT_OK(seqrnn_state_step(b, x, NULL, out, B * O));
  seqrnn_state_free(b);
}

int main(void) {
  TU_RUN(test_streaming_equals_full);
  TU_RUN(test_get_set_reset);
  TU_RUN(test_state_errors);
  TU_RUN(test_state_outlives_model);
  return tu_finish("test_stream");
}
