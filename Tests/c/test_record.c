/*
 * test_record.c - seqrnn_model_record and seqrnn_model_record_sizes: the
 * recorded hidden states, LSTM cell states and gate activations of every
 * layer against a double-precision reference written here from PyTorch's
 * equations (weights read back by name), for every cell, uni- and
 * bidirectional, features and tokens, uneven lengths and initial states;
 * padded steps exactly zero; the last recorded step equal to forward's
 * final_h / final_c; and every error path.
 */
#include "test_util.h"

/* float32 engine against a float64 reference: errors ~1e-6, bugs ~1e-2. */
#define RTOL 1e-5
#define ATOL 1e-5

enum { B = 3, T = 6, I = 4, H = 5, L = 2, O = 3, V = 7 };
static const int64_t lengths[B] = {6, 2, 4};

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static int gate_blocks(int32_t cell) {
  return cell == SEQRNN_CELL_LSTM ? 4 : cell == SEQRNN_CELL_GRU ? 3 : 1;
}

static float *tensor(const seqrnn_model *model, const char *name) {
  seqrnn_tensor_info info;
  if (!EXPECT_OK(seqrnn_model_find_tensor(model, name, &info)))
    exit(2);
  float *w = tu_floats(info.count);
  EXPECT_OK(seqrnn_model_get_tensor(model, name, w, info.count));
  return w;
}

/* The reference recording of layer `recorded`: hidden and cell
 * [B][T][D*H], gates [B][T][D][G][H] (G = 0 for RNN). */
static void reference(const seqrnn_model *model, const seqrnn_model_params *p,
                      const float *x, const int32_t *ids, const float *h0,
                      const float *c0, int recorded, double *hid, double *cel,
                      double *gat) {
  const int D = p->bidirectional ? 2 : 1;
  const int G = gate_blocks(p->cell);
  const int RG =
      p->cell == SEQRNN_CELL_RNN_TANH || p->cell == SEQRNN_CELL_RNN_RELU ? 0
                                                                         : G;
  const int width0 = (int)p->input_size;
  float *emb = ids ? tensor(model, "embedding.weight") : NULL;
  /* Current layer input per (b, t), widest D*H. */
  int max_in = width0 > D * H ? width0 : D * H;
  double *in = tu_doubles((int64_t)B * T * max_in);
  double *out = tu_doubles((int64_t)B * T * D * H);
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++)
      for (int k = 0; k < width0; k++)
        in[(b * T + t) * max_in + k] = ids ? emb[ids[b * T + t] * width0 + k]
                                           : x[(b * T + t) * width0 + k];
  int width = width0;
  for (int l = 0; l <= recorded; l++) {
    for (int d = 0; d < D; d++) {
      char name[64];
      const char *suffix = d ? "_reverse" : "";
      snprintf(name, sizeof name, "rnn.weight_ih_l%d%s", l, suffix);
      float *wih = tensor(model, name);
      snprintf(name, sizeof name, "rnn.weight_hh_l%d%s", l, suffix);
      float *whh = tensor(model, name);
      snprintf(name, sizeof name, "rnn.bias_ih_l%d%s", l, suffix);
      float *bih = tensor(model, name);
      snprintf(name, sizeof name, "rnn.bias_hh_l%d%s", l, suffix);
      float *bhh = tensor(model, name);
      for (int b = 0; b < B; b++) {
        double h[H], c[H], xi[4 * H], hh[4 * H];
        int k0 = ((l * D + d) * B + b) * H;
        for (int j = 0; j < H; j++) {
          h[j] = h0 ? h0[k0 + j] : 0;
          c[j] = c0 ? c0[k0 + j] : 0;
        }
        int len = (int)lengths[b];
        for (int step = 0; step < len; step++) {
          int t = d == 0 ? step : len - 1 - step;
          const double *xt = in + (b * T + t) * max_in;
          for (int r = 0; r < G * H; r++) {
            xi[r] = bih[r];
            hh[r] = bhh[r];
            for (int k = 0; k < width; k++)
              xi[r] += wih[r * width + k] * xt[k];
            for (int k = 0; k < H; k++)
              hh[r] += whh[r * H + k] * h[k];
          }
          double act[4][H];
          for (int j = 0; j < H; j++) {
            switch (p->cell) {
            case SEQRNN_CELL_RNN_TANH:
              h[j] = tanh(xi[j] + hh[j]);
              break;
            case SEQRNN_CELL_RNN_RELU:
              h[j] = xi[j] + hh[j] > 0 ? xi[j] + hh[j] : 0;
              break;
            case SEQRNN_CELL_LSTM:
              act[0][j] = sigmoid(xi[j] + hh[j]);
              act[1][j] = sigmoid(xi[H + j] + hh[H + j]);
              act[2][j] = tanh(xi[2 * H + j] + hh[2 * H + j]);
              act[3][j] = sigmoid(xi[3 * H + j] + hh[3 * H + j]);
              c[j] = act[1][j] * c[j] + act[0][j] * act[2][j];
              h[j] = act[3][j] * tanh(c[j]);
              break;
            default: /* GRU: b_hn inside r * (W_hn h + b_hn) */
              act[0][j] = sigmoid(xi[j] + hh[j]);
              act[1][j] = sigmoid(xi[H + j] + hh[H + j]);
              act[2][j] = tanh(xi[2 * H + j] + act[0][j] * hh[2 * H + j]);
              h[j] = (1 - act[1][j]) * act[2][j] + act[1][j] * h[j];
            }
          }
          int pos = b * T + t;
          for (int j = 0; j < H; j++)
            out[pos * D * H + d * H + j] = h[j];
          if (l == recorded) {
            for (int j = 0; j < H; j++) {
              hid[pos * D * H + d * H + j] = h[j];
              if (cel)
                cel[pos * D * H + d * H + j] = c[j];
              for (int g = 0; g < RG; g++)
                gat[((pos * D + d) * RG + g) * H + j] = act[g][j];
            }
          }
        }
      }
      free(wih);
      free(whh);
      free(bih);
      free(bhh);
    }
    width = D * H;
    for (int i = 0; i < B * T; i++)
      for (int k = 0; k < D * H; k++)
        in[i * max_in + k] = out[i * D * H + k];
  }
  free(in);
  free(out);
  free(emb);
}

static void check_close(const float *got, const double *want, int64_t n,
                        const char *what, int32_t cell, int bidir, int layer) {
  float *w = tu_floats(n);
  for (int64_t i = 0; i < n; i++)
    w[i] = (float)want[i];
  if (!CHECK_CLOSE_ARRAYS(got, w, n, RTOL, ATOL))
    fprintf(stderr, "    %s of %s %s layer %d\n", what, tu_cell_name(cell),
            bidir ? "bi" : "uni", layer);
  free(w);
}

static void run_case(int32_t cell, int bidir, int tokens, uint64_t seed) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = cell;
  p.input_size = I;
  p.vocab_size = tokens ? V : 0;
  p.hidden_size = H;
  p.num_layers = L;
  p.bidirectional = bidir;
  p.output_size = O;
  p.seed = seed;
  seqrnn_model *model = tu_make_model(&p);
  const int D = bidir ? 2 : 1;
  const int lstm = cell == SEQRNN_CELL_LSTM;
  tu_rng rng = {seed};
  float x[B * T * I];
  int32_t ids[B * T];
  tu_fill(&rng, x, B * T * I, -1, 1);
  tu_fill_tokens(&rng, ids, B * T, V);
  int64_t S = (int64_t)L * D * B * H;
  float *h0 = tu_floats(S), *c0 = tu_floats(S);
  tu_fill(&rng, h0, S, -0.5f, 0.5f);
  tu_fill(&rng, c0, S, -0.5f, 0.5f);
  seqrnn_batch batch = seqrnn_batch_init(B, T);
  if (tokens)
    batch.tokens = ids;
  else
    batch.features = x;
  batch.lengths = lengths;
  batch.initial_h = h0;
  batch.initial_c = lstm ? c0 : NULL;

  seqrnn_record_sizes sizes;
  EXPECT_OK(seqrnn_model_record_sizes(model, B, T, &sizes));
  const int64_t G = sizes.gate_count;
  CHECK(sizes.hidden == (int64_t)B * T * D * H);
  CHECK(sizes.cell == (lstm ? sizes.hidden : 0));
  CHECK(G == (lstm ? 4 : cell == SEQRNN_CELL_GRU ? 3 : 0));
  CHECK(sizes.gates == sizes.hidden * G);

  float out[B * T * O], *fh = tu_floats(S), *fc = tu_floats(S);
  EXPECT_OK(seqrnn_model_forward(model, &batch, out, B * T * O, fh,
                                 lstm ? fc : NULL, S, NULL));
  for (int layer = 0; layer < L; layer++) {
    float *hid = tu_floats(sizes.hidden);
    float *cel = lstm ? tu_floats(sizes.cell) : NULL;
    float *gat = G ? tu_floats(sizes.gates) : NULL;
    /* Sentinels: padded steps must be overwritten with zeros. */
    for (int64_t i = 0; i < sizes.hidden; i++) {
      hid[i] = 42;
      if (cel)
        cel[i] = 42;
    }
    for (int64_t i = 0; i < sizes.gates; i++)
      gat[i] = 42;
    seqrnn_record_sizes needed = {0, 0, 0, 0};
    EXPECT_OK(seqrnn_model_record(model, &batch, layer, hid, sizes.hidden, cel,
                                  sizes.cell, gat, sizes.gates, &needed));
    CHECK(needed.hidden == sizes.hidden && needed.cell == sizes.cell &&
          needed.gates == sizes.gates && needed.gate_count == G);
    double *rh = tu_doubles(sizes.hidden), *rc = tu_doubles(sizes.hidden);
    double *rg = tu_doubles(sizes.gates > 0 ? sizes.gates : 1);
    reference(model, &p, x, tokens ? ids : NULL, h0, lstm ? c0 : NULL, layer,
              rh, lstm ? rc : NULL, rg);
    check_close(hid, rh, sizes.hidden, "hidden", cell, bidir, layer);
    if (lstm)
      check_close(cel, rc, sizes.cell, "cell", cell, bidir, layer);
    if (G)
      check_close(gat, rg, sizes.gates, "gates", cell, bidir, layer);

    for (int b = 0; b < B; b++) {
      int len = (int)lengths[b];
      for (int d = 0; d < D; d++) {
        /* Forward: the last valid step; backward: step 0 (its final). */
        int t = d == 0 ? len - 1 : 0;
        const float *at = hid + (b * T + t) * D * H + d * H;
        const float *fin = fh + ((layer * D + d) * B + b) * H;
        CHECK_MSG(tu_same_floats(at, fin, H),
                  "%s layer %d seq %d dir %d: last hidden != final_h",
                  tu_cell_name(cell), layer, b, d);
        if (lstm)
          CHECK(tu_same_floats(cel + (b * T + t) * D * H + d * H,
                               fc + ((layer * D + d) * B + b) * H, H));
      }
      int zero = 1;
      for (int t = len; t < T; t++) {
        for (int k = 0; k < D * H; k++) {
          zero &= hid[(b * T + t) * D * H + k] == 0;
          if (cel)
            zero &= cel[(b * T + t) * D * H + k] == 0;
        }
        for (int64_t k = 0; k < D * G * H; k++)
          zero &= gat[(b * T + t) * D * G * H + k] == 0;
      }
      CHECK_MSG(zero, "%s layer %d seq %d: padded steps are not zero",
                tu_cell_name(cell), layer, b);
    }
    /* Only the hidden states: the same values. */
    float *alone = tu_floats(sizes.hidden);
    EXPECT_OK(seqrnn_model_record(model, &batch, layer, alone, sizes.hidden,
                                  NULL, 0, NULL, 0, NULL));
    CHECK(tu_same_floats(alone, hid, sizes.hidden));
    free(alone);
    free(hid);
    free(cel);
    free(gat);
    free(rh);
    free(rc);
    free(rg);
  }
  /* The top layer's hidden states are the head's inputs. */
  float *top = tu_floats(sizes.hidden);
  EXPECT_OK(seqrnn_model_record(model, &batch, L - 1, top, sizes.hidden, NULL,
                                0, NULL, 0, NULL));
  float *hw = tensor(model, "head.weight"), *hb = tensor(model, "head.bias");
  float head[B * T * O];
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++)
      for (int o = 0; o < O; o++) {
        double s = t < lengths[b] ? hb[o] : 0;
        for (int k = 0; k < D * H && t < lengths[b]; k++)
          s += (double)hw[o * D * H + k] * top[(b * T + t) * D * H + k];
        head[(b * T + t) * O + o] = (float)s;
      }
  CHECK_CLOSE_ARRAYS(head, out, B * T * O, RTOL, ATOL);
  free(top);
  free(hw);
  free(hb);
  free(fh);
  free(fc);
  free(h0);
  free(c0);
  seqrnn_model_free(model);
}

static void test_against_reference(void) {
  uint64_t seed = 300;
  for (int c = 0; c < 4; c++)
    for (int bidir = 0; bidir < 2; bidir++)
      for (int tokens = 0; tokens < 2; tokens++)
        run_case(tu_all_cells[c], bidir, tokens, seed++);
}

static void test_errors(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = SEQRNN_CELL_GRU;
  p.input_size = 2;
  p.hidden_size = 3;
  p.num_layers = 2;
  p.output_size = 2;
  seqrnn_model *gru = tu_make_model(&p);
  p.cell = SEQRNN_CELL_RNN_TANH;
  seqrnn_model *rnn = tu_make_model(&p);
  p.cell = SEQRNN_CELL_LSTM;
  seqrnn_model *lstm = tu_make_model(&p);
  float x[2 * 4 * 2] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f,
                        0.9f, 1.0f, 1.1f, 1.2f, 1.3f, 1.4f, 1.5f, 1.6f};
  seqrnn_batch b = seqrnn_batch_init(2, 4);
  b.features = x;
  enum { N = 2 * 4 * 3 };
  float hid[N], cel[N], gat[4 * N];
  seqrnn_record_sizes sizes, needed;

  /* Sizes query. */
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_record_sizes(NULL, 2, 4, &sizes));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_record_sizes(gru, 2, 4, NULL));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_model_record_sizes(gru, 0, 4, &sizes));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_model_record_sizes(gru, 2, -1, &sizes));
  EXPECT_OK(seqrnn_model_record_sizes(rnn, 2, 4, &sizes));
  CHECK(sizes.hidden == N && sizes.cell == 0 && sizes.gates == 0 &&
        sizes.gate_count == 0);

  /* NULL model and batch. */
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_model_record(NULL, &b, 0, hid, N, NULL, 0, NULL, 0, NULL));
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_model_record(gru, NULL, 0, hid, N, NULL, 0, NULL, 0, NULL));
  /* Bad layer index, named in the message. */
  const int64_t bad_layers[3] = {-1, 2, 1000};
  for (int i = 0; i < 3; i++) {
    EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                  seqrnn_model_record(gru, &b, bad_layers[i], hid, N, NULL, 0,
                                      NULL, 0, NULL));
    CHECK(strstr(seqrnn_last_error(), "layer") != NULL);
  }
  /* A bad batch: the errors of forward. */
  seqrnn_batch bad = b;
  bad.seq_len = 0;
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_model_record(gru, &bad, 0, hid, N, NULL, 0, NULL, 0, NULL));
  bad = b;
  bad.features = NULL;
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_model_record(gru, &bad, 0, hid, N, NULL, 0, NULL, 0, NULL));
  int64_t bad_lengths[2] = {4, 5};
  bad = b;
  bad.lengths = bad_lengths;
  EXPECT_STATUS(
      SEQRNN_E_OUT_OF_RANGE,
      seqrnn_model_record(gru, &bad, 0, hid, N, NULL, 0, NULL, 0, NULL));
  float nan_x[16];
  memcpy(nan_x, x, sizeof x);
  nan_x[3] = NAN;
  bad = b;
  bad.features = nan_x;
  EXPECT_STATUS(
      SEQRNN_E_NON_FINITE,
      seqrnn_model_record(gru, &bad, 0, hid, N, NULL, 0, NULL, 0, NULL));
  /* Buffers the cell does not have. */
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED,
                seqrnn_model_record(gru, &b, 0, hid, N, cel, N, NULL, 0, NULL));
  CHECK(strstr(seqrnn_last_error(), "gru") != NULL);
  EXPECT_STATUS(
      SEQRNN_E_UNSUPPORTED,
      seqrnn_model_record(rnn, &b, 0, hid, N, NULL, 0, gat, 4 * N, NULL));
  CHECK(strstr(seqrnn_last_error(), "no gates") != NULL);
  /* Too small: the short buffer is named, out_needed filled, and nothing is
   * written. */
  for (int i = 0; i < N; i++)
    hid[i] = cel[i] = 7;
  for (int i = 0; i < 4 * N; i++)
    gat[i] = 7;
  needed.hidden = needed.cell = needed.gates = needed.gate_count = -1;
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_model_record(lstm, &b, 1, hid, N, cel, N, gat, 4 * N - 1,
                                    &needed));
  CHECK(strstr(seqrnn_last_error(), "gates") != NULL);
  CHECK(needed.hidden == N && needed.cell == N && needed.gates == 4 * N &&
        needed.gate_count == 4);
  EXPECT_STATUS(
      SEQRNN_E_BUFFER_TOO_SMALL,
      seqrnn_model_record(lstm, &b, 1, hid, N - 1, NULL, 0, NULL, 0, NULL));
  CHECK(strstr(seqrnn_last_error(), "hidden") != NULL);
  EXPECT_STATUS(
      SEQRNN_E_BUFFER_TOO_SMALL,
      seqrnn_model_record(lstm, &b, 1, NULL, 0, cel, 0, NULL, 0, NULL));
  CHECK(strstr(seqrnn_last_error(), "cell") != NULL);
  int untouched = 1;
  for (int i = 0; i < N; i++)
    untouched &= hid[i] == 7 && cel[i] == 7;
  for (int i = 0; i < 4 * N; i++)
    untouched &= gat[i] == 7;
  CHECK_MSG(untouched, "a failed record call wrote into a buffer");
  /* Everything NULL: only checks and runs. */
  EXPECT_OK(seqrnn_model_record(lstm, &b, 0, NULL, 0, NULL, 0, NULL, 0, NULL));
  EXPECT_OK(
      seqrnn_model_record(lstm, &b, 1, hid, N, cel, N, gat, 4 * N, &needed));
  seqrnn_model_free(gru);
  seqrnn_model_free(rnn);
  seqrnn_model_free(lstm);
}

int main(void) {
  TU_RUN(test_against_reference);
  TU_RUN(test_errors);
  return tu_finish("test_record");
}
