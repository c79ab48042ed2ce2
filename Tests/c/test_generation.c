/*
 * test_generation.c - sampling (seqrnn_sample_logits, seqrnn_model_generate)
 * and per-step surprisal (seqrnn_model_surprisal): empirical token
 * frequencies against the exact temperature/top-k/top-p distribution
 * (a chi-square bound from the sample size), greedy and top-k 1 equal to
 * the arg-max, seeds, batch rows equal to one-sequence calls, generation
 * equal to stepping a state and sampling by hand, surprisal equal to the
 * log-softmax of the forward outputs, and every error path.
 */
#include "test_util.h"

enum { V = 6, H = 7, NPRIME = 5 };

/* ---- the reference distribution, written from the header's text -------- */

/* Fills p[V] with the probabilities seqrnn_sample_logits must draw from. */
static void reference_distribution(const float *logits, int n, double temp,
                                   int64_t top_k, double top_p, double *p) {
  int order[64];
  for (int i = 0; i < n; i++)
    order[i] = i;
  /* Insertion sort, descending logits, ties to the lower id. */
  for (int i = 1; i < n; i++) {
    int x = order[i], j = i - 1;
    while (j >= 0 && (logits[order[j]] < logits[x] ||
                      (logits[order[j]] == logits[x] && order[j] > x))) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = x;
  }
  int k = top_k > 0 && top_k < n ? (int)top_k : n;
  double w[64], total = 0;
  for (int j = 0; j < k; j++)
    total += w[j] = exp(((double)logits[order[j]] - logits[order[0]]) / temp);
  int kept = k;
  if (top_p < 1) {
    double before = 0;
    kept = 0;
    while (kept < k && (kept == 0 || before / total < top_p))
      before += w[kept++];
  }
  double mass = 0;
  for (int j = 0; j < kept; j++)
    mass += w[j];
  for (int i = 0; i < n; i++)
    p[i] = 0;
  for (int j = 0; j < kept; j++)
    p[order[j]] = w[j] / mass;
}

/* The chi-square value exceeded with probability 1e-6 for df degrees of
 * freedom (Wilson-Hilferty; z = 4.753 is the normal's 1e-6 upper tail). */
static double chi2_critical(int df) {
  double a = 2.0 / (9.0 * df), z = 4.753;
  double c = 1 - a + z * sqrt(a);
  return df * c * c * c;
}

static void check_frequencies(const float *logits, float temp, int64_t top_k,
                              float top_p) {
  enum { ROWS = 4000, CALLS = 50 }; /* 200000 draws */
  float *rows = tu_floats(ROWS * V);
  int32_t *tokens = tu_ints(ROWS);
  for (int r = 0; r < ROWS; r++)
    memcpy(rows + r * V, logits, sizeof(float) * V);
  seqrnn_sample_params sp = seqrnn_sample_default_params();
  sp.temperature = temp;
  sp.top_k = top_k;
  sp.top_p = top_p;
  seqrnn_rng rng = seqrnn_rng_init(12345u + (uint64_t)top_k);
  double counts[V] = {0};
  for (int c = 0; c < CALLS; c++) {
    if (!EXPECT_OK(seqrnn_sample_logits(rows, ROWS, V, &sp, &rng, tokens)))
      break;
    for (int r = 0; r < ROWS; r++)
      counts[tokens[r]] += 1;
  }
  double p[V], chi2 = 0, n = (double)ROWS * CALLS;
  int df = -1;
  reference_distribution(logits, V, temp, top_k, top_p, p);
  for (int i = 0; i < V; i++) {
    if (p[i] == 0) {
      CHECK_MSG(counts[i] == 0,
                "token %d is outside the kept set (T %g k %lld "
                "p %g) but was drawn %g times",
                i, (double)temp, (long long)top_k, (double)top_p, counts[i]);
      continue;
    }
    df++;
    chi2 += (counts[i] - n * p[i]) * (counts[i] - n * p[i]) / (n * p[i]);
  }
  if (df > 0)
    CHECK_MSG(chi2 < chi2_critical(df),
              "T %g top_k %lld top_p %g: chi-square %.2f >= %.2f (df %d)",
              (double)temp, (long long)top_k, (double)top_p, chi2,
              chi2_critical(df), df);
  free(rows);
  free(tokens);
}

static void test_sample_frequencies(void) {
  /* A tie at the top-k boundary (ids 1 and 2) and an arg-max at the end. */
  const float logits[V] = {2.0f, 1.0f, 1.0f, 0.5f, -1.0f, 3.0f};
  check_frequencies(logits, 1.0f, 0, 1.0f);
  check_frequencies(logits, 0.7f, 0, 1.0f);
  check_frequencies(logits, 2.5f, 0, 1.0f);
  check_frequencies(logits, 1.0f, 3, 1.0f); /* keeps 5, 0, 1: not 2 */
  check_frequencies(logits, 1.0f, 0, 0.8f);
  check_frequencies(logits, 1.5f, 4, 0.6f);
  check_frequencies(logits, 0.8f, 10, 0.95f); /* k beyond the vocabulary */
  /* The reference itself: top-k 3 drops the later of the tied ids. */
  double p[V];
  reference_distribution(logits, V, 1.0, 3, 1.0, p);
  CHECK(p[1] > 0 && p[2] == 0 && p[3] == 0 && p[4] == 0);
  /* top-p: probabilities e^3, e^2, e^1, e^1, ... over their sum 34.9: the
   * first is 0.575 of the mass, the first two 0.787, so p = 0.5 keeps one
   * token, p = 0.75 two and p = 0.8 three (the lower of the tied ids). */
  reference_distribution(logits, V, 1.0, 0, 0.5, p);
  CHECK(p[5] == 1.0);
  reference_distribution(logits, V, 1.0, 0, 0.75, p);
  CHECK(p[5] > 0 && p[0] > 0 && p[1] == 0);
  reference_distribution(logits, V, 1.0, 0, 0.8, p);
  CHECK(p[1] > 0 && p[2] == 0);
  check_frequencies(logits, 1.0f, 0, 0.75f);
}

static void test_greedy_is_argmax(void) {
  /* Ties at the maximum go to the lower id. */
  const float logits[2 * V] = {0.0f,  4.0f,  1.0f,  4.0f,  -2.0f, 3.0f,
                               -1.0f, -3.0f, -0.5f, -2.0f, -0.5f, -4.0f};
  int32_t out[2] = {-1, -1};
  seqrnn_rng rng = seqrnn_rng_init(7), before = rng;
  seqrnn_sample_params sp = seqrnn_sample_default_params();
  sp.greedy = 1;
  EXPECT_OK(seqrnn_sample_logits(logits, 2, V, &sp, &rng, out));
  CHECK(out[0] == 1 && out[1] == 2);
  CHECK(memcmp(&rng, &before, sizeof rng) == 0); /* greedy draws nothing */
  sp = seqrnn_sample_default_params();
  sp.temperature = 0;
  out[0] = out[1] = -1;
  EXPECT_OK(seqrnn_sample_logits(logits, 2, V, &sp, &rng, out));
  CHECK(out[0] == 1 && out[1] == 2);
  sp = seqrnn_sample_default_params();
  sp.top_k = 1;
  for (int i = 0; i < 50; i++) {
    out[0] = out[1] = -1;
    EXPECT_OK(seqrnn_sample_logits(logits, 2, V, &sp, &rng, out));
    CHECK(out[0] == 1 && out[1] == 2);
  }
  /* A tiny nucleus keeps only the arg-max too. */
  sp = seqrnn_sample_default_params();
  sp.top_p = 1e-6f;
  out[0] = out[1] = -1;
  EXPECT_OK(seqrnn_sample_logits(logits, 2, V, &sp, &rng, out));
  CHECK(out[0] == 1 && out[1] == 2);
}

static void test_rng_is_reproducible(void) {
  const float logits[V] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
  seqrnn_rng a = seqrnn_rng_init(99), b = seqrnn_rng_init(99),
             c = seqrnn_rng_init(100);
  seqrnn_sample_params sp = seqrnn_sample_default_params();
  int32_t ta[64], tb[64], tc[64];
  float rows[64 * V];
  for (int r = 0; r < 64; r++)
    memcpy(rows + r * V, logits, sizeof logits);
  EXPECT_OK(seqrnn_sample_logits(rows, 64, V, &sp, &a, ta));
  for (int r = 0; r < 64; r++) /* one row per call: the same draws */
    EXPECT_OK(seqrnn_sample_logits(rows, 1, V, &sp, &b, tb + r));
  EXPECT_OK(seqrnn_sample_logits(rows, 64, V, &sp, &c, tc));
  CHECK(memcmp(ta, tb, sizeof ta) == 0);
  CHECK(memcmp(ta, tc, sizeof ta) != 0);
  CHECK(memcmp(&a, &b, sizeof a) == 0);
}

/* ---- generation with a model ------------------------------------------- */

static seqrnn_model *make_lm(int32_t cell, int32_t mode, uint64_t seed) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = cell;
  p.vocab_size = V;
  p.input_size = 4;
  p.hidden_size = H;
  p.num_layers = 2;
  p.output_size = V;
  p.output_mode = mode;
  p.seed = seed;
  return tu_make_model(&p);
}

/* What generate must give for one prime: step a state through the prime,
 * then sample with seqrnn_rng_init(seed) and feed each token back. */
static void generate_by_hand(const seqrnn_model *model, const int32_t *prime,
                             int64_t length, int64_t n,
                             const seqrnn_sample_params *sp, uint64_t seed,
                             int32_t *out) {
  seqrnn_state *state = NULL;
  EXPECT_OK(seqrnn_state_create(model, 1, &state));
  float logits[V];
  for (int64_t s = 0; s < length; s++)
    EXPECT_OK(seqrnn_state_step(state, NULL, prime + s, logits, V));
  seqrnn_rng rng = seqrnn_rng_init(seed);
  for (int64_t t = 0; t < n; t++) {
    EXPECT_OK(seqrnn_sample_logits(logits, 1, V, sp, &rng, out + t));
    if (t + 1 < n)
      EXPECT_OK(seqrnn_state_step(state, NULL, out + t, logits, V));
  }
  seqrnn_state_free(state);
}

static void check_generate(int32_t cell, int32_t mode) {
  enum { B = 3, N = 25 };
  seqrnn_model *model = make_lm(cell, mode, 40 + (uint64_t)cell);
  tu_rng r = {(uint64_t)(cell + 3 * mode + 1)};
  int32_t primes[B * NPRIME];
  tu_fill_tokens(&r, primes, B * NPRIME, V);
  const int64_t lengths[B] = {NPRIME, 2, 1};
  seqrnn_sample_params settings[3] = {seqrnn_sample_default_params(),
                                      seqrnn_sample_default_params(),
                                      seqrnn_sample_default_params()};
  settings[0].seed = 5;
  settings[1].temperature = 0.6f, settings[1].top_k = 3, settings[1].seed = 77;
  settings[2].top_p = 0.7f, settings[2].seed = UINT64_MAX; /* wraps */
  for (int k = 0; k < 3; k++) {
    int32_t out[B * N], hand[N], one[N];
    if (!EXPECT_OK(seqrnn_model_generate(model, primes, lengths, B, NPRIME, N,
                                         &settings[k], out, B * N)))
      continue;
    for (int b = 0; b < B; b++) {
      uint64_t seed = settings[k].seed + (uint64_t)b;
      generate_by_hand(model, primes + b * NPRIME, lengths[b], N, &settings[k],
                       seed, hand);
      CHECK_MSG(memcmp(out + b * N, hand, sizeof hand) == 0,
                "%s mode %d settings %d row %d differs from stepping by hand",
                tu_cell_name(cell), mode, k, b);
      seqrnn_sample_params single = settings[k];
      single.seed = seed;
      EXPECT_OK(seqrnn_model_generate(model, primes + b * NPRIME, &lengths[b],
                                      1, lengths[b], N, &single, one, N));
      CHECK_MSG(memcmp(out + b * N, one, sizeof one) == 0,
                "%s settings %d: batch row %d != a one-sequence call",
                tu_cell_name(cell), k, b);
    }
    /* The same call again gives the same tokens. */
    int32_t again[B * N];
    EXPECT_OK(seqrnn_model_generate(model, primes, lengths, B, NPRIME, N,
                                    &settings[k], again, B * N));
    CHECK(memcmp(out, again, sizeof out) == 0);
  }
  seqrnn_model_free(model);
}

static void test_generate_matches_stepping(void) {
  for (int c = 0; c < 4; c++) {
    check_generate(tu_all_cells[c], SEQRNN_OUTPUT_SEQUENCE);
    check_generate(tu_all_cells[c], SEQRNN_OUTPUT_LAST);
  }
}

/* Greedy generation is the arg-max chain of full forward passes. */
static void test_generate_greedy(void) {
  enum { N = 15, MAXT = NPRIME + N };
  seqrnn_model *model = make_lm(SEQRNN_CELL_LSTM, SEQRNN_OUTPUT_SEQUENCE, 3);
  int32_t seq[MAXT] = {4, 1, 3};
  int64_t len = 3;
  int32_t out[N];
  seqrnn_sample_params sp = seqrnn_sample_default_params();
  sp.greedy = 1;
  EXPECT_OK(seqrnn_model_generate(model, seq, &len, 1, len, N, &sp, out, N));
  float logits[MAXT * V];
  for (int t = 0; t < N; t++) {
    seqrnn_batch batch = seqrnn_batch_init(1, len);
    batch.tokens = seq;
    EXPECT_OK(seqrnn_model_forward(model, &batch, logits, MAXT * V, NULL, NULL,
                                   0, NULL));
    const float *last = logits + (len - 1) * V;
    int best = 0;
    for (int i = 1; i < V; i++)
      if (last[i] > last[best])
        best = i;
    seq[len++] = best;
  }
  CHECK(memcmp(out, seq + 3, sizeof out) == 0);
  int32_t zero_temp[N];
  sp = seqrnn_sample_default_params();
  sp.temperature = 0;
  len = 3;
  EXPECT_OK(
      seqrnn_model_generate(model, seq, &len, 1, len, N, &sp, zero_temp, N));
  CHECK(memcmp(out, zero_temp, sizeof out) == 0);
  /* n = 0 writes nothing (a NULL-free call with no room needed). */
  int32_t untouched = -7;
  EXPECT_OK(
      seqrnn_model_generate(model, seq, &len, 1, len, 0, &sp, &untouched, 0));
  CHECK(untouched == -7);
  seqrnn_model_free(model);
}

/* ---- surprisal ----------------------------------------------------------- */

static void test_surprisal(void) {
  enum { B = 3, T = 6 };
  for (int c = 0; c < 4; c++) {
    seqrnn_model *model =
        make_lm(tu_all_cells[c], SEQRNN_OUTPUT_SEQUENCE, 9 + (uint64_t)c);
    tu_rng r = {(uint64_t)(c + 11)};
    int32_t ids[B * T], targets[B * T];
    tu_fill_tokens(&r, ids, B * T, V);
    tu_fill_tokens(&r, targets, B * T, V);
    const int64_t lengths[B] = {T, 3, 1};
    seqrnn_batch batch = seqrnn_batch_init(B, T);
    batch.tokens = ids;
    batch.lengths = lengths;
    batch.target_classes = targets;
    float logits[B * T * V], got[B * T];
    EXPECT_OK(seqrnn_model_forward(model, &batch, logits, B * T * V, NULL, NULL,
                                   0, NULL));
    if (!EXPECT_OK(seqrnn_model_surprisal(model, &batch, got, B * T)))
      continue;
    double sum = 0;
    int count = 0;
    for (int b = 0; b < B; b++)
      for (int s = 0; s < T; s++) {
        const float *row = logits + (b * T + s) * V;
        float value = got[b * T + s];
        if (s >= lengths[b]) {
          CHECK_MSG(value == 0, "padding [%d][%d] = %g, not 0", b, s,
                    (double)value);
          continue;
        }
        double top = row[0], z = 0;
        for (int i = 1; i < V; i++)
          top = row[i] > top ? row[i] : top;
        for (int i = 0; i < V; i++)
          z += exp(row[i] - top);
        double expected = top + log(z) - row[targets[b * T + s]];
        CHECK_MSG(tu_close(value, expected, 1e-5, 1e-6),
                  "%s [%d][%d]: %.8g vs %.8g", tu_cell_name(tu_all_cells[c]), b,
                  s, (double)value, expected);
        sum += value;
        count++;
      }
    seqrnn_evaluation ev;
    EXPECT_OK(seqrnn_model_evaluate(model, &batch, &ev));
    CHECK_MSG(tu_close(sum / count, ev.loss, 1e-5, 1e-6),
              "mean surprisal %.8g vs evaluate loss %.8g", sum / count,
              ev.loss);
    /* loss_weights are ignored, even all-zero ones. */
    float weights[B * T] = {0}, weighted[B * T];
    batch.loss_weights = weights;
    EXPECT_OK(seqrnn_model_surprisal(model, &batch, weighted, B * T));
    CHECK(tu_same_floats(got, weighted, B * T));
    seqrnn_model_free(model);
  }
}

/* ---- errors -------------------------------------------------------------- */

static void test_sample_errors(void) {
  float logits[V] = {0, 1, 2, 3, 4, 5};
  int32_t out = -1;
  seqrnn_rng rng = seqrnn_rng_init(1), saved = rng;
  seqrnn_sample_params ok = seqrnn_sample_default_params();
  CHECK(ok.temperature == 1.0f && ok.top_k == 0 && ok.top_p == 1.0f &&
        ok.greedy == 0 && ok.seed == 0);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_sample_logits(NULL, 1, V, &ok, &rng, &out));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_sample_logits(logits, 1, V, &ok, NULL, &out));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_sample_logits(logits, 1, V, &ok, &rng, NULL));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_sample_logits(logits, 0, V, &ok, &rng, &out));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_sample_logits(logits, 1, 0, &ok, &rng, &out));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_sample_logits(logits, -1, V, &ok, &rng, &out));
  struct {
    float temperature, top_p;
    int64_t top_k;
    int32_t greedy;
    const char *what;
  } bad[] = {
      {NAN, 1, 0, 0, "temperature"},   {INFINITY, 1, 0, 0, "temperature"},
      {-0.5f, 1, 0, 0, "temperature"}, {1, 0, 0, 0, "top_p"},
      {1, -0.1f, 0, 0, "top_p"},       {1, 1.5f, 0, 0, "top_p"},
      {1, NAN, 0, 0, "top_p"},         {1, 1, -1, 0, "top_k"},
      {1, 1, INT64_MIN, 0, "top_k"},   {1, 1, 0, 2, "greedy"},
      {1, 1, 0, -1, "greedy"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    seqrnn_sample_params sp = seqrnn_sample_default_params();
    sp.temperature = bad[i].temperature;
    sp.top_p = bad[i].top_p;
    sp.top_k = bad[i].top_k;
    sp.greedy = bad[i].greedy;
    EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                  seqrnn_sample_logits(logits, 1, V, &sp, &rng, &out));
    CHECK_MSG(strstr(seqrnn_last_error(), bad[i].what) != NULL,
              "message '%s' does not name %s", seqrnn_last_error(),
              bad[i].what);
  }
  logits[3] = NAN;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_sample_logits(logits, 1, V, &ok, &rng, &out));
  CHECK(strstr(seqrnn_last_error(), "logits[0][3]") != NULL);
  logits[3] = -INFINITY;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_sample_logits(logits, 1, V, &ok, &rng, &out));
  CHECK(out == -1 && memcmp(&rng, &saved, sizeof rng) == 0);
  logits[3] = 3;
  EXPECT_OK(seqrnn_sample_logits(logits, 1, V, NULL, &rng, &out)); /* NULL */
  CHECK(out >= 0 && out < V);
}

static void test_generate_errors(void) {
  seqrnn_model *lm = make_lm(SEQRNN_CELL_GRU, SEQRNN_OUTPUT_SEQUENCE, 1);
  int32_t primes[2 * 3] = {1, 2, 3, 4, 5, 0};
  int64_t lengths[2] = {3, 2};
  int32_t out[2 * 4];
  seqrnn_sample_params sp = seqrnn_sample_default_params();
  EXPECT_OK(seqrnn_model_generate(lm, primes, lengths, 2, 3, 4, NULL, out, 8));
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_model_generate(NULL, primes, lengths, 2, 3, 4, &sp, out, 8));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_generate(lm, NULL, lengths, 2, 3, 4, &sp, out, 8));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_generate(lm, primes, NULL, 2, 3, 4, &sp, out, 8));
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_model_generate(lm, primes, lengths, 2, 3, 4, &sp, NULL, 8));
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_generate(lm, primes, lengths, 0, 3, 4, &sp, out, 8));
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_generate(lm, primes, lengths, 2, 0, 4, &sp, out, 8));
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_generate(lm, primes, lengths, 2, 3, -1, &sp, out, 8));
  int32_t before[8];
  memcpy(before, out, sizeof out);
  EXPECT_STATUS(
      SEQRNN_E_BUFFER_TOO_SMALL,
      seqrnn_model_generate(lm, primes, lengths, 2, 3, 4, &sp, out, 7));
  CHECK(memcmp(before, out, sizeof out) == 0);
  int64_t bad_lengths[2] = {3, 0};
  EXPECT_STATUS(
      SEQRNN_E_OUT_OF_RANGE,
      seqrnn_model_generate(lm, primes, bad_lengths, 2, 3, 4, &sp, out, 8));
  bad_lengths[1] = 4;
  EXPECT_STATUS(
      SEQRNN_E_OUT_OF_RANGE,
      seqrnn_model_generate(lm, primes, bad_lengths, 2, 3, 4, &sp, out, 8));
  primes[4] = V; /* inside sequence 1's length */
  EXPECT_STATUS(
      SEQRNN_E_OUT_OF_RANGE,
      seqrnn_model_generate(lm, primes, lengths, 2, 3, 4, &sp, out, 8));
  primes[4] = -1;
  EXPECT_STATUS(
      SEQRNN_E_OUT_OF_RANGE,
      seqrnn_model_generate(lm, primes, lengths, 2, 3, 4, &sp, out, 8));
  primes[4] = 5;
  primes[5] = 99; /* past sequence 1's length: ignored */
  EXPECT_OK(seqrnn_model_generate(lm, primes, lengths, 2, 3, 4, &sp, out, 8));
  sp.temperature = NAN;
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_generate(lm, primes, lengths, 2, 3, 4, &sp, out, 8));
  CHECK(strstr(seqrnn_last_error(), "temperature") != NULL);
  sp = seqrnn_sample_default_params();
  sp.top_p = 2;
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_generate(lm, primes, lengths, 2, 3, 4, &sp, out, 8));

  /* Models that are not token language models. */
  seqrnn_model_params p = seqrnn_model_default_params();
  p.input_size = 3, p.hidden_size = 4, p.output_size = V;
  seqrnn_model *features = tu_make_model(&p);
  p.vocab_size = V, p.output_size = V - 1;
  seqrnn_model *narrow = tu_make_model(&p);
  p.output_size = V, p.loss = SEQRNN_LOSS_MSE;
  seqrnn_model *mse = tu_make_model(&p);
  p.loss = SEQRNN_LOSS_CROSS_ENTROPY, p.bidirectional = 1;
  seqrnn_model *bidir = tu_make_model(&p);
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_generate(features, primes, lengths, 2, 3, 4, NULL, out, 8));
  CHECK(strstr(seqrnn_last_error(), "token model") != NULL);
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_generate(narrow, primes, lengths, 2, 3, 4, NULL, out, 8));
  CHECK(strstr(seqrnn_last_error(), "output_size") != NULL);
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_generate(mse, primes, lengths, 2, 3, 4, NULL, out, 8));
  EXPECT_STATUS(
      SEQRNN_E_UNSUPPORTED,
      seqrnn_model_generate(bidir, primes, lengths, 2, 3, 4, NULL, out, 8));

  /* Surprisal errors. */
  primes[5] = 0;
  int32_t targets[2 * 3] = {0, 1, 2, 3, 4, 5};
  float scores[2 * 3];
  seqrnn_batch batch = seqrnn_batch_init(2, 3);
  batch.tokens = primes;
  batch.target_classes = targets;
  EXPECT_OK(seqrnn_model_surprisal(lm, &batch, scores, 6));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_surprisal(NULL, &batch, scores, 6));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_surprisal(lm, NULL, scores, 6));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_surprisal(lm, &batch, NULL, 6));
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_model_surprisal(lm, &batch, scores, 5));
  batch.target_classes = NULL;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_surprisal(lm, &batch, scores, 6));
  batch.target_classes = targets;
  targets[2] = V;
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_model_surprisal(lm, &batch, scores, 6));
  targets[2] = 2;
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED,
                seqrnn_model_surprisal(mse, &batch, scores, 6));
  seqrnn_model *last = make_lm(SEQRNN_CELL_GRU, SEQRNN_OUTPUT_LAST, 1);
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED,
                seqrnn_model_surprisal(last, &batch, scores, 6));
  seqrnn_model_free(last);
  seqrnn_model_free(features);
  seqrnn_model_free(narrow);
  seqrnn_model_free(mse);
  seqrnn_model_free(bidir);
  seqrnn_model_free(lm);
}

int main(void) {
  TU_RUN(test_sample_frequencies);
  TU_RUN(test_greedy_is_argmax);
  TU_RUN(test_rng_is_reproducible);
  TU_RUN(test_generate_matches_stepping);
  TU_RUN(test_generate_greedy);
  TU_RUN(test_surprisal);
  TU_RUN(test_sample_errors);
  TU_RUN(test_generate_errors);
  return tu_finish("test_generation");
}
