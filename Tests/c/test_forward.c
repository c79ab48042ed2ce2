/*
 * test_forward.c - seqrnn_model_forward: every error path, padded batches
 * equal to each sequence run alone, initial states continuing a sequence,
 * LAST against SEQUENCE outputs, and determinism.
 */
#include "test_util.h"

/* Relative tolerance of "to float rounding" comparisons (the 1e-6
 * relative), with a tiny absolute floor for values near zero. */
#define RTOL 1e-6
#define ATOL 1e-7

static seqrnn_model *make(int32_t cell, int64_t vocab, int layers, int bidir,
                          int32_t mode, uint64_t seed) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = cell;
  p.vocab_size = vocab;
  p.input_size = 3;
  p.hidden_size = 5;
  p.num_layers = layers;
  p.bidirectional = bidir;
  p.output_size = 4;
  p.output_mode = mode;
  p.seed = seed;
  return tu_make_model(&p);
}

static void test_forward_errors(void) {
  seqrnn_model *lstm = make(SEQRNN_CELL_LSTM, 0, 2, 0, 0, 1);
  seqrnn_model *tok = make(SEQRNN_CELL_LSTM, 6, 1, 0, 0, 2);
  seqrnn_model *gru = make(SEQRNN_CELL_GRU, 0, 2, 0, 0, 3);
  seqrnn_model *rnn = make(SEQRNN_CELL_RNN_TANH, 0, 1, 0, 0, 4);
  enum { B = 2, T = 3, I = 3, O = 4, S = 2 * 2 * 5 };
  float x[B * T * I];
  tu_rng rng = {7};
  tu_fill(&rng, x, B * T * I, -1, 1);
  int32_t ids[B * T] = {0, 1, 2, 3, 4, 5};
  float out[B * T * O], h[S], c[S];
  int64_t needed = -1;

  seqrnn_batch b = seqrnn_batch_init(B, T);
  b.features = x;
  EXPECT_OK(seqrnn_model_forward(lstm, &b, out, B * T * O, h, c, S, &needed));
  CHECK(needed == B * T * O);
  EXPECT_OK(
      seqrnn_model_forward(lstm, &b, out, B * T * O, NULL, NULL, 0, NULL));

  /* NULL handle, batch, outputs. */
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_model_forward(NULL, &b, out, B * T * O, NULL, NULL, 0, NULL));
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_model_forward(lstm, NULL, out, B * T * O, NULL, NULL, 0, NULL));
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_model_forward(lstm, &b, NULL, B * T * O, NULL, NULL, 0, NULL));

  /* Sizes <= 0. */
  seqrnn_batch bad = b;
  bad.batch_size = 0;
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_forward(lstm, &bad, out, B * T * O, NULL, NULL, 0, NULL));
  bad.batch_size = -2;
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_forward(lstm, &bad, out, B * T * O, NULL, NULL, 0, NULL));
  bad = b;
  bad.seq_len = 0;
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_forward(lstm, &bad, out, B * T * O, NULL, NULL, 0, NULL));
  bad.seq_len = -1;
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_forward(lstm, &bad, out, B * T * O, NULL, NULL, 0, NULL));

  /* Features missing for a feature model, tokens missing for a token
   * model: NULL argument; the other kind of input given instead: invalid
   * (as seqrnn_state_step documents). */
  bad = seqrnn_batch_init(B, T);
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_model_forward(lstm, &bad, out, B * T * O, NULL, NULL, 0, NULL));
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_model_forward(tok, &bad, out, B * T * O, NULL, NULL, 0, NULL));
  bad.tokens = ids;
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_forward(lstm, &bad, out, B * T * O, NULL, NULL, 0, NULL));
  bad = seqrnn_batch_init(B, T);
  bad.features = x;
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_forward(tok, &bad, out, B * T * O, NULL, NULL, 0, NULL));

  /* Token ids out of range (only within each sequence's length). */
  seqrnn_batch tb = seqrnn_batch_init(B, T);
  tb.tokens = ids;
  EXPECT_OK(
      seqrnn_model_forward(tok, &tb, out, B * T * O, NULL, NULL, 0, NULL));
  int32_t bad_ids[B * T] = {0, 1, 6, 3, 4, 5};
  tb.tokens = bad_ids;
  EXPECT_STATUS(
      SEQRNN_E_OUT_OF_RANGE,
      seqrnn_model_forward(tok, &tb, out, B * T * O, NULL, NULL, 0, NULL));
  bad_ids[2] = -1;
  EXPECT_STATUS(
      SEQRNN_E_OUT_OF_RANGE,
      seqrnn_model_forward(tok, &tb, out, B * T * O, NULL, NULL, 0, NULL));
  bad_ids[2] = 2147483647;
  EXPECT_STATUS(
      SEQRNN_E_OUT_OF_RANGE,
      seqrnn_model_forward(tok, &tb, out, B * T * O, NULL, NULL, 0, NULL));
  /* ... but an id past a sequence's length is ignored. */
  int64_t lens_tok[B] = {2, 3};
  tb.lengths = lens_tok;
  EXPECT_OK(
      seqrnn_model_forward(tok, &tb, out, B * T * O, NULL, NULL, 0, NULL));

  /* Lengths of 0, negative, or beyond seq_len. */
  int64_t lens[B] = {3, 0};
  seqrnn_batch lb = b;
  lb.lengths = lens;
  EXPECT_STATUS(
      SEQRNN_E_OUT_OF_RANGE,
      seqrnn_model_forward(lstm, &lb, out, B * T * O, NULL, NULL, 0, NULL));
  lens[1] = T + 1;
  EXPECT_STATUS(
      SEQRNN_E_OUT_OF_RANGE,
      seqrnn_model_forward(lstm, &lb, out, B * T * O, NULL, NULL, 0, NULL));
  lens[1] = -1;
  EXPECT_STATUS(
      SEQRNN_E_OUT_OF_RANGE,
      seqrnn_model_forward(lstm, &lb, out, B * T * O, NULL, NULL, 0, NULL));
  lens[1] = 1;
  EXPECT_OK(
      seqrnn_model_forward(lstm, &lb, out, B * T * O, NULL, NULL, 0, NULL));

  /* Non-finite features and initial states. */
  float xn[B * T * I];
  memcpy(xn, x, sizeof x);
  xn[4] = NAN;
  seqrnn_batch nb = b;
  nb.features = xn;
  EXPECT_STATUS(
      SEQRNN_E_NON_FINITE,
      seqrnn_model_forward(lstm, &nb, out, B * T * O, NULL, NULL, 0, NULL));
  xn[4] = INFINITY;
  EXPECT_STATUS(
      SEQRNN_E_NON_FINITE,
      seqrnn_model_forward(lstm, &nb, out, B * T * O, NULL, NULL, 0, NULL));
  xn[4] = -INFINITY;
  EXPECT_STATUS(
      SEQRNN_E_NON_FINITE,
      seqrnn_model_forward(lstm, &nb, out, B * T * O, NULL, NULL, 0, NULL));
  float h0[S] = {0};
  h0[S - 1] = NAN;
  nb = b;
  nb.initial_h = h0;
  EXPECT_STATUS(
      SEQRNN_E_NON_FINITE,
      seqrnn_model_forward(lstm, &nb, out, B * T * O, NULL, NULL, 0, NULL));

  /* Output buffer too small: the needed count is reported. */
  needed = -1;
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_model_forward(lstm, &b, out, B * T * O - 1, NULL, NULL,
                                     0, &needed));
  CHECK(needed == B * T * O);
  needed = -1;
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_model_forward(lstm, &b, out, 0, NULL, NULL, 0, &needed));
  CHECK(needed == B * T * O);
  /* State buffers too small. */
  EXPECT_STATUS(
      SEQRNN_E_BUFFER_TOO_SMALL,
      seqrnn_model_forward(lstm, &b, out, B * T * O, h, NULL, S - 1, NULL));
  EXPECT_STATUS(
      SEQRNN_E_BUFFER_TOO_SMALL,
      seqrnn_model_forward(lstm, &b, out, B * T * O, NULL, c, S - 1, NULL));

  /* final_c is only for LSTM models. */
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED,
                seqrnn_model_forward(gru, &b, out, B * T * O, h, c, S, NULL));
  EXPECT_STATUS(
      SEQRNN_E_UNSUPPORTED,
      seqrnn_model_forward(rnn, &b, out, B * T * O, NULL, c, S, NULL));
  EXPECT_OK(seqrnn_model_forward(gru, &b, out, B * T * O, h, NULL, S, NULL));

  seqrnn_model_free(lstm);
  seqrnn_model_free(tok);
  seqrnn_model_free(gru);
  seqrnn_model_free(rnn);
}

/* A padded batch gives each sequence the outputs and final states it gets
 * alone, for every cell, uni and bi, SEQUENCE and LAST, features and tokens,
 * with and without initial states. */
static void check_padded(int32_t cell, int bidir, int32_t mode, int tokens,
                         int with_initial) {
  enum { B = 4, T = 7, I = 3, H = 5, O = 4, L = 2, V = 9 };
  const int D = bidir ? 2 : 1;
  const int is_lstm = cell == SEQRNN_CELL_LSTM;
  seqrnn_model *model =
      make(cell, tokens ? V : 0, L, bidir, mode, 100 + (uint64_t)cell);
  const int64_t lengths[B] = {7, 3, 1, 5};
  const int64_t S = (int64_t)L * D * B * H;
  const int64_t out_per_seq = mode == SEQRNN_OUTPUT_SEQUENCE ? T * O : O;
  tu_rng rng = {(uint64_t)(cell * 1000 + bidir * 100 + mode * 10 + tokens)};

  float *x = tu_floats(B * T * I);
  int32_t *ids = tu_ints(B * T);
  tu_fill(&rng, x, B * T * I, -1.5f, 1.5f);
  tu_fill_tokens(&rng, ids, B * T, V);
  /* Padding holds values that would change the results if they were used. */
  for (int b = 0; b < B; b++)
    for (int64_t t = lengths[b]; t < T; t++) {
      for (int i = 0; i < I; i++)
        x[(b * T + t) * I + i] = 1000.0f * (float)(t + 1);
      ids[b * T + t] = (int32_t)(t % V);
    }
  float *h0 = tu_floats(S), *c0 = tu_floats(S);
  tu_fill(&rng, h0, S, -0.8f, 0.8f);
  tu_fill(&rng, c0, S, -0.8f, 0.8f);

  seqrnn_batch batch = seqrnn_batch_init(B, T);
  batch.features = tokens ? NULL : x;
  batch.tokens = tokens ? ids : NULL;
  batch.lengths = lengths;
  batch.initial_h = with_initial ? h0 : NULL;
  batch.initial_c = with_initial && is_lstm ? c0 : NULL;
  float *out = tu_floats(B * out_per_seq);
  float *hn = tu_floats(S), *cn = tu_floats(S);
  /* Poison the outputs: SEQUENCE must write zeros past each length. */
  for (int64_t i = 0; i < B * out_per_seq; i++)
    out[i] = 12345.0f;
  int ok = EXPECT_OK(seqrnn_model_forward(model, &batch, out, B * out_per_seq,
                                          hn, is_lstm ? cn : NULL, S, NULL));

  for (int b = 0; ok && b < B; b++) {
    const int64_t len = lengths[b];
    const int64_t S1 = (int64_t)L * D * H;
    float *x1 = tu_floats(len * I);
    int32_t *ids1 = tu_ints(len);
    float *h01 = tu_floats(S1), *c01 = tu_floats(S1);
    memcpy(x1, x + b * T * I, sizeof(float) * (size_t)(len * I));
    memcpy(ids1, ids + b * T, sizeof(int32_t) * (size_t)len);
    for (int ld = 0; ld < L * D; ld++) {
      memcpy(h01 + ld * H, h0 + (ld * B + b) * H, sizeof(float) * H);
      memcpy(c01 + ld * H, c0 + (ld * B + b) * H, sizeof(float) * H);
    }
    seqrnn_batch one = seqrnn_batch_init(1, len);
    one.features = tokens ? NULL : x1;
    one.tokens = tokens ? ids1 : NULL;
    one.initial_h = with_initial ? h01 : NULL;
    one.initial_c = with_initial && is_lstm ? c01 : NULL;
    const int64_t out1_count = mode == SEQRNN_OUTPUT_SEQUENCE ? len * O : O;
    float *out1 = tu_floats(out1_count);
    float *hn1 = tu_floats(S1), *cn1 = tu_floats(S1);
    if (EXPECT_OK(seqrnn_model_forward(model, &one, out1, out1_count, hn1,
                                       is_lstm ? cn1 : NULL, S1, NULL))) {
      const float *mine = out + b * out_per_seq;
      CHECK_MSG(tu_check_close_arrays(mine, out1, out1_count, RTOL, ATOL,
                                      __FILE__, __LINE__, "outputs"),
                "%s %s %s %s%s: sequence %d (length %lld) outputs differ "
                "from running it alone",
                tu_cell_name(cell), bidir ? "bi" : "uni",
                mode ? "last" : "sequence", tokens ? "tokens" : "features",
                with_initial ? " +h0" : "", b, (long long)len);
      if (mode == SEQRNN_OUTPUT_SEQUENCE) {
        int zeros = 1;
        for (int64_t i = len * O; i < T * O; i++)
          zeros &= mine[i] == 0.0f;
        CHECK_MSG(zeros, "%s: outputs past length %lld are not zeros",
                  tu_cell_name(cell), (long long)len);
      }
      float *hb = tu_floats(S1), *cb = tu_floats(S1);
      for (int ld = 0; ld < L * D; ld++) {
        memcpy(hb + ld * H, hn + (ld * B + b) * H, sizeof(float) * H);
        memcpy(cb + ld * H, cn + (ld * B + b) * H, sizeof(float) * H);
      }
      CHECK_MSG(tu_check_close_arrays(hb, hn1, S1, RTOL, ATOL, __FILE__,
                                      __LINE__, "final_h"),
                "%s %s: sequence %d final_h differs from alone",
                tu_cell_name(cell), bidir ? "bi" : "uni", b);
      if (is_lstm)
        CHECK_MSG(tu_check_close_arrays(cb, cn1, S1, RTOL, ATOL, __FILE__,
                                        __LINE__, "final_c"),
                  "%s %s: sequence %d final_c differs from alone",
                  tu_cell_name(cell), bidir ? "bi" : "uni", b);
      free(hb);
      free(cb);
    }
    free(x1);
    free(ids1);
    free(h01);
    free(c01);
    free(out1);
    free(hn1);
    free(cn1);
  }
  free(x);
  free(ids);
  free(h0);
  free(c0);
  free(out);
  free(hn);
  free(cn);
  seqrnn_model_free(model);
}

static void test_padded_equals_alone(void) {
  for (int c = 0; c < 4; c++)
    for (int bidir = 0; bidir <= 1; bidir++)
      for (int32_t mode = 0; mode <= 1; mode++)
        for (int tokens = 0; tokens <= 1; tokens++)
          check_padded(tu_all_cells[c], bidir, mode, tokens,
                       (c + bidir + mode + tokens) % 2);
}

/* Running steps [0, k) and then [k, T) from the first part's final states
 * gives the outputs and final states of one run over [0, T). */
static void test_initial_state_continues(void) {
  enum { B = 3, T = 9, K = 4, I = 3, H = 5, O = 4, L = 2 };
  for (int ci = 0; ci < 4; ci++) {
    int32_t cell = tu_all_cells[ci];
    int is_lstm = cell == SEQRNN_CELL_LSTM;
    seqrnn_model *model = make(cell, 0, L, 0, SEQRNN_OUTPUT_SEQUENCE, 5);
    tu_rng rng = {(uint64_t)ci + 11};
    float x[B * T * I], xa[B * K * I], xb[B * (T - K) * I];
    tu_fill(&rng, x, B * T * I, -1, 1);
    for (int b = 0; b < B; b++) {
      memcpy(xa + b * K * I, x + b * T * I, sizeof(float) * K * I);
      memcpy(xb + b * (T - K) * I, x + (b * T + K) * I,
             sizeof(float) * (T - K) * I);
    }
    float full[B * T * O], outa[B * K * O], outb[B * (T - K) * O];
    float hf[L * B * H], cf[L * B * H], ha[L * B * H], ca[L * B * H],
        hb[L * B * H], cb[L * B * H];
    seqrnn_batch bf = seqrnn_batch_init(B, T);
    bf.features = x;
    EXPECT_OK(seqrnn_model_forward(model, &bf, full, B * T * O, hf,
                                   is_lstm ? cf : NULL, L * B * H, NULL));
    seqrnn_batch ba = seqrnn_batch_init(B, K);
    ba.features = xa;
    EXPECT_OK(seqrnn_model_forward(model, &ba, outa, B * K * O, ha,
                                   is_lstm ? ca : NULL, L * B * H, NULL));
    seqrnn_batch bb = seqrnn_batch_init(B, T - K);
    bb.features = xb;
    bb.initial_h = ha;
    bb.initial_c = is_lstm ? ca : NULL;
    EXPECT_OK(seqrnn_model_forward(model, &bb, outb, B * (T - K) * O, hb,
                                   is_lstm ? cb : NULL, L * B * H, NULL));
    float joined[B * T * O];
    for (int b = 0; b < B; b++) {
      memcpy(joined + b * T * O, outa + b * K * O, sizeof(float) * K * O);
      memcpy(joined + (b * T + K) * O, outb + b * (T - K) * O,
             sizeof(float) * (T - K) * O);
    }
    CHECK_MSG(tu_check_close_arrays(joined, full, B * T * O, 1e-5, 1e-6,
                                    __FILE__, __LINE__, "continued outputs"),
              "%s: continuing from final states differs", tu_cell_name(cell));
    CHECK(tu_check_close_arrays(hb, hf, L * B * H, 1e-5, 1e-6, __FILE__,
                                __LINE__, "continued final_h"));
    if (is_lstm)
      CHECK(tu_check_close_arrays(cb, cf, L * B * H, 1e-5, 1e-6, __FILE__,
                                  __LINE__, "continued final_c"));
    /* And the initial state matters. */
    float zero_start[B * (T - K) * O];
    bb.initial_h = NULL;
    bb.initial_c = NULL;
    EXPECT_OK(seqrnn_model_forward(model, &bb, zero_start, B * (T - K) * O,
                                   NULL, NULL, 0, NULL));
    CHECK_MSG(!tu_same_floats(zero_start, outb, B * (T - K) * O),
              "%s: initial_h had no effect", tu_cell_name(cell));
    seqrnn_model_free(model);
  }
}

/* Copies every tensor of src into dst (same architecture but output mode). */
static void copy_weights(const seqrnn_model *src, seqrnn_model *dst) {
  int64_t count = 0;
  seqrnn_model_tensor_count(src, &count);
  for (int64_t i = 0; i < count; i++) {
    seqrnn_tensor_info info;
    seqrnn_model_tensor_info(src, i, &info);
    float *w = tu_floats(info.count);
    EXPECT_OK(seqrnn_model_get_tensor(src, info.name, w, info.count));
    EXPECT_OK(seqrnn_model_set_tensor(dst, info.name, w, info.count));
    free(w);
  }
}

/* Zeroes the head.weight columns of one direction (0 forward, 1 backward). */
static void zero_head_direction(seqrnn_model *model, int direction, int H) {
  seqrnn_tensor_info info;
  EXPECT_OK(seqrnn_model_find_tensor(model, "head.weight", &info));
  float *w = tu_floats(info.count);
  seqrnn_model_get_tensor(model, "head.weight", w, info.count);
  for (int64_t r = 0; r < info.shape[0]; r++)
    for (int j = 0; j < H; j++)
      w[r * info.shape[1] + direction * H + j] = 0;
  EXPECT_OK(seqrnn_model_set_tensor(model, "head.weight", w, info.count));
  free(w);
}

/* LAST gives the SEQUENCE output at each sequence's last valid step; for a
 * bidirectional model the forward half comes from that step and the
 * backward half from step 0 (checked one half at a time by zeroing the
 * other half of the head). */
static void test_last_matches_sequence(void) {
  enum { B = 3, T = 6, I = 3, H = 5, O = 4 };
  const int64_t lengths[B] = {6, 2, 4};
  for (int ci = 0; ci < 4; ci++) {
    int32_t cell = tu_all_cells[ci];
    for (int bidir = 0; bidir <= 1; bidir++) {
      for (int half = 0; half < (bidir ? 2 : 1); half++) {
        seqrnn_model *seq = make(cell, 0, 2, bidir, SEQRNN_OUTPUT_SEQUENCE, 9);
        seqrnn_model *last = make(cell, 0, 2, bidir, SEQRNN_OUTPUT_LAST, 77);
        copy_weights(seq, last);
        if (bidir) {
          /* half 0 keeps the forward direction, half 1 the backward. */
          zero_head_direction(seq, 1 - half, H);
          zero_head_direction(last, 1 - half, H);
        }
        tu_rng rng = {(uint64_t)(ci * 10 + bidir * 2 + half)};
        float x[B * T * I], so[B * T * O], lo[B * O], expected[B * O];
        tu_fill(&rng, x, B * T * I, -1, 1);
        seqrnn_batch batch = seqrnn_batch_init(B, T);
        batch.features = x;
        batch.lengths = lengths;
        EXPECT_OK(seqrnn_model_forward(seq, &batch, so, B * T * O, NULL, NULL,
                                       0, NULL));
        EXPECT_OK(
            seqrnn_model_forward(last, &batch, lo, B * O, NULL, NULL, 0, NULL));
        for (int b = 0; b < B; b++) {
          int64_t t = half == 0 ? lengths[b] - 1 : 0;
          memcpy(expected + b * O, so + (b * T + t) * O, sizeof(float) * O);
        }
        CHECK_MSG(tu_check_close_arrays(lo, expected, B * O, RTOL, ATOL,
                                        __FILE__, __LINE__, "last"),
                  "%s %s (%s half): LAST output is not the SEQUENCE output at "
                  "the expected step",
                  tu_cell_name(cell), bidir ? "bi" : "uni",
                  half ? "backward" : "forward");
        seqrnn_model_free(seq);
        seqrnn_model_free(last);
      }
    }
  }
}

/* The same call twice gives bitwise the same outputs; the model is not
 * changed by forward. */
static void test_deterministic(void) {
  enum { B = 5, T = 11, I = 3, O = 4 };
  seqrnn_model *model = make(SEQRNN_CELL_LSTM, 0, 2, 1, 0, 3);
  tu_rng rng = {99};
  float x[B * T * I], a[B * T * O], b[B * T * O];
  tu_fill(&rng, x, B * T * I, -1, 1);
  seqrnn_batch batch = seqrnn_batch_init(B, T);
  batch.features = x;
  EXPECT_OK(
      seqrnn_model_forward(model, &batch, a, B * T * O, NULL, NULL, 0, NULL));
  EXPECT_OK(
      seqrnn_model_forward(model, &batch, b, B * T * O, NULL, NULL, 0, NULL));
  CHECK(tu_same_floats(a, b, B * T * O));
  /* Different inputs, different outputs. */
  x[0] += 0.5f;
  EXPECT_OK(
      seqrnn_model_forward(model, &batch, b, B * T * O, NULL, NULL, 0, NULL));
  CHECK(!tu_same_floats(a, b, B * T * O));
  seqrnn_model_free(model);
}

int main(void) {
  TU_RUN(test_forward_errors);
  TU_RUN(test_padded_equals_alone);
  TU_RUN(test_initial_state_continues);
  TU_RUN(test_last_matches_sequence);
  TU_RUN(test_deterministic);
  return tu_finish("test_forward");
}
