/*
 * test_reference.c - forward outputs and final states against a
 * straightforward reference written here from PyTorch's equations
 * (torch.nn.RNN/LSTM/GRU and nn.Linear), in double precision, for every
 * cell, 1 and 2 layers, uni and bi, features and tokens, SEQUENCE and LAST,
 * with uneven lengths and initial states. The weights are set through
 * seqrnn_model_set_tensor with PyTorch's names and layouts, so this also
 * checks the gate orders (LSTM i,f,g,o; GRU r,z,n with b_hn inside r*(.)).
 */
#include "test_util.h"

typedef struct ref_model {
  int32_t cell;
  int layers, dirs, in0, hidden, out, vocab, mode;
  int gates;
  /* [layer][dir] */
  float *w_ih[4][2], *w_hh[4][2], *b_ih[4][2], *b_hh[4][2];
  float *head_w, *head_b, *emb;
} ref_model;

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* Sets every tensor of the model to random values and keeps a copy. */
static void randomize(seqrnn_model *model, ref_model *r, tu_rng *rng) {
  char name[64];
  for (int l = 0; l < r->layers; l++) {
    int in = l == 0 ? r->in0 : r->dirs * r->hidden;
    for (int d = 0; d < r->dirs; d++) {
      const char *suffix = d ? "_reverse" : "";
      int gh = r->gates * r->hidden;
      struct {
        const char *kind;
        float **slot;
        int64_t count;
      } parts[4] = {{"weight_ih", &r->w_ih[l][d], (int64_t)gh * in},
                    {"weight_hh", &r->w_hh[l][d], (int64_t)gh * r->hidden},
                    {"bias_ih", &r->b_ih[l][d], gh},
                    {"bias_hh", &r->b_hh[l][d], gh}};
      for (int p = 0; p < 4; p++) {
        snprintf(name, sizeof name, "rnn.%s_l%d%s", parts[p].kind, l, suffix);
        *parts[p].slot = tu_floats(parts[p].count);
        tu_fill(rng, *parts[p].slot, parts[p].count, -0.7f, 0.7f);
        EXPECT_OK(seqrnn_model_set_tensor(model, name, *parts[p].slot,
                                          parts[p].count));
      }
    }
  }
  int64_t hw = (int64_t)r->out * r->dirs * r->hidden;
  r->head_w = tu_floats(hw);
  r->head_b = tu_floats(r->out);
  tu_fill(rng, r->head_w, hw, -0.7f, 0.7f);
  tu_fill(rng, r->head_b, r->out, -0.7f, 0.7f);
  EXPECT_OK(seqrnn_model_set_tensor(model, "head.weight", r->head_w, hw));
  EXPECT_OK(seqrnn_model_set_tensor(model, "head.bias", r->head_b, r->out));
  if (r->vocab > 0) {
    r->emb = tu_floats((int64_t)r->vocab * r->in0);
    tu_fill(rng, r->emb, (int64_t)r->vocab * r->in0, -1, 1);
    EXPECT_OK(seqrnn_model_set_tensor(model, "embedding.weight", r->emb,
                                      (int64_t)r->vocab * r->in0));
  }
}

static void free_ref(ref_model *r) {
  for (int l = 0; l < r->layers; l++)
    for (int d = 0; d < r->dirs; d++) {
      free(r->w_ih[l][d]);
      free(r->w_hh[l][d]);
      free(r->b_ih[l][d]);
      free(r->b_hh[l][d]);
    }
  free(r->head_w);
  free(r->head_b);
  free(r->emb);
}

/* One cell step for one sequence: x [in], h and c [hidden] updated. */
static void cell_step(const ref_model *r, int l, int d, const double *x, int in,
                      double *h, double *c) {
  const int H = r->hidden, G = r->gates;
  double *gi = tu_doubles(G * H), *gh = tu_doubles(G * H);
  for (int j = 0; j < G * H; j++) {
    double a = r->b_ih[l][d][j], b = r->b_hh[l][d][j];
    for (int k = 0; k < in; k++)
      a += (double)r->w_ih[l][d][(int64_t)j * in + k] * x[k];
    for (int k = 0; k < H; k++)
      b += (double)r->w_hh[l][d][(int64_t)j * H + k] * h[k];
    gi[j] = a;
    gh[j] = b;
  }
  for (int j = 0; j < H; j++) {
    switch (r->cell) {
    case SEQRNN_CELL_RNN_TANH:
      h[j] = tanh(gi[j] + gh[j]);
      break;
    case SEQRNN_CELL_RNN_RELU:
      h[j] = gi[j] + gh[j] > 0 ? gi[j] + gh[j] : 0;
      break;
    case SEQRNN_CELL_LSTM: {
      double i = sigmoid(gi[j] + gh[j]);
      double f = sigmoid(gi[H + j] + gh[H + j]);
      double g = tanh(gi[2 * H + j] + gh[2 * H + j]);
      double o = sigmoid(gi[3 * H + j] + gh[3 * H + j]);
      c[j] = f * c[j] + i * g;
      h[j] = o * tanh(c[j]);
      break;
    }
    case SEQRNN_CELL_GRU: {
      double rr = sigmoid(gi[j] + gh[j]);
      double z = sigmoid(gi[H + j] + gh[H + j]);
      double n = tanh(gi[2 * H + j] + rr * gh[2 * H + j]);
      h[j] = (1 - z) * n + z * h[j];
      break;
    }
    }
  }
  free(gi);
  free(gh);
}

/* Reference forward of the whole batch. */
static void ref_forward(const ref_model *r, int B, int T, const float *x,
                        const int32_t *ids, const int64_t *lengths,
                        const float *h0, const float *c0, double *out,
                        double *hn, double *cn) {
  const int H = r->hidden, D = r->dirs, L = r->layers, O = r->out;
  for (int b = 0; b < B; b++) {
    int len = (int)lengths[b];
    int in = r->in0;
    double *input = tu_doubles((int64_t)T * (in > D * H ? in : D * H));
    for (int t = 0; t < len; t++)
      for (int k = 0; k < in; k++)
        input[t * in + k] = r->vocab > 0 ? r->emb[ids[b * T + t] * in + k]
                                         : x[((int64_t)b * T + t) * in + k];
    double *layer_out = tu_doubles((int64_t)T * D * H);
    for (int l = 0; l < L; l++) {
      for (int d = 0; d < D; d++) {
        double *h = tu_doubles(H), *c = tu_doubles(H);
        int ld = l * D + d;
        for (int j = 0; j < H; j++) {
          h[j] = h0 ? h0[((int64_t)ld * B + b) * H + j] : 0;
          c[j] = c0 ? c0[((int64_t)ld * B + b) * H + j] : 0;
        }
        for (int s = 0; s < len; s++) {
          int t = d == 0 ? s : len - 1 - s;
          cell_step(r, l, d, input + (int64_t)t * in, in, h, c);
          for (int j = 0; j < H; j++)
            layer_out[((int64_t)t * D + d) * H + j] = h[j];
        }
        for (int j = 0; j < H; j++) {
          hn[((int64_t)ld * B + b) * H + j] = h[j];
          if (cn)
            cn[((int64_t)ld * B + b) * H + j] = c[j];
        }
        free(h);
        free(c);
      }
      in = D * H;
      memcpy(input, layer_out, sizeof(double) * (size_t)(len * D * H));
    }
    if (r->mode == SEQRNN_OUTPUT_SEQUENCE) {
      for (int t = 0; t < T; t++)
        for (int o = 0; o < O; o++) {
          double v = 0;
          if (t < len) {
            v = r->head_b[o];
            for (int k = 0; k < D * H; k++)
              v += (double)r->head_w[o * D * H + k] *
                   layer_out[(int64_t)t * D * H + k];
          }
          out[((int64_t)b * T + t) * O + o] = v;
        }
    } else {
      /* Forward direction at its last valid step, backward at step 0. */
      for (int o = 0; o < O; o++) {
        double v = r->head_b[o];
        for (int k = 0; k < H; k++)
          v += (double)r->head_w[o * D * H + k] *
               layer_out[(int64_t)(len - 1) * D * H + k];
        if (D == 2)
          for (int k = 0; k < H; k++)
            v += (double)r->head_w[o * D * H + H + k] * layer_out[H + k];
        out[(int64_t)b * O + o] = v;
      }
    }
    free(input);
    free(layer_out);
  }
}

static void check_case(int32_t cell, int layers, int bidir, int tokens,
                       int32_t mode, int with_initial) {
  enum { B = 3, T = 6, I = 4, H = 5, O = 3, V = 7 };
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = cell;
  p.input_size = I;
  p.vocab_size = tokens ? V : 0;
  p.hidden_size = H;
  p.num_layers = layers;
  p.bidirectional = bidir;
  p.output_size = O;
  p.output_mode = mode;
  seqrnn_model *model = tu_make_model(&p);
  ref_model r;
  memset(&r, 0, sizeof r);
  r.cell = cell;
  r.layers = layers;
  r.dirs = bidir ? 2 : 1;
  r.in0 = I;
  r.hidden = H;
  r.out = O;
  r.vocab = tokens ? V : 0;
  r.mode = mode;
  r.gates = cell == SEQRNN_CELL_LSTM ? 4 : cell == SEQRNN_CELL_GRU ? 3 : 1;
  tu_rng rng = {
      (uint64_t)(cell * 97 + layers * 13 + bidir * 5 + tokens * 3 + mode)};
  randomize(model, &r, &rng);

  const int is_lstm = cell == SEQRNN_CELL_LSTM;
  const int64_t S = (int64_t)layers * r.dirs * B * H;
  const int64_t n_out = mode == SEQRNN_OUTPUT_SEQUENCE ? B * T * O : B * O;
  const int64_t lengths[B] = {6, 2, 5};
  float *x = tu_floats(B * T * I);
  int32_t ids[B * T];
  tu_fill(&rng, x, B * T * I, -1.2f, 1.2f);
  tu_fill_tokens(&rng, ids, B * T, V);
  float *h0 = tu_floats(S), *c0 = tu_floats(S);
  tu_fill(&rng, h0, S, -0.5f, 0.5f);
  tu_fill(&rng, c0, S, -0.5f, 0.5f);

  seqrnn_batch batch = seqrnn_batch_init(B, T);
  batch.features = tokens ? NULL : x;
  batch.tokens = tokens ? ids : NULL;
  batch.lengths = lengths;
  batch.initial_h = with_initial ? h0 : NULL;
  batch.initial_c = with_initial && is_lstm ? c0 : NULL;
  float *out = tu_floats(n_out), *hn = tu_floats(S), *cn = tu_floats(S);
  double *rout = tu_doubles(n_out), *rhn = tu_doubles(S), *rcn = tu_doubles(S);
  ref_forward(&r, B, T, x, ids, lengths, with_initial ? h0 : NULL,
              with_initial && is_lstm ? c0 : NULL, rout, rhn, rcn);
  if (EXPECT_OK(seqrnn_model_forward(model, &batch, out, n_out, hn,
                                     is_lstm ? cn : NULL, S, NULL))) {
    float *fout = tu_floats(n_out), *fhn = tu_floats(S), *fcn = tu_floats(S);
    for (int64_t i = 0; i < n_out; i++)
      fout[i] = (float)rout[i];
    for (int64_t i = 0; i < S; i++) {
      fhn[i] = (float)rhn[i];
      fcn[i] = (float)rcn[i];
    }
    /* float32 arithmetic against a double reference: a few ulp per
     * operation over a handful of steps stays well inside 1e-5. */
    int ok = tu_check_close_arrays(out, fout, n_out, 1e-5, 1e-6, __FILE__,
                                   __LINE__, "outputs vs reference");
    ok &= tu_check_close_arrays(hn, fhn, S, 1e-5, 1e-6, __FILE__, __LINE__,
                                "final_h vs reference");
    if (is_lstm)
      ok &= tu_check_close_arrays(cn, fcn, S, 1e-5, 1e-6, __FILE__, __LINE__,
                                  "final_c vs reference");
    if (!ok)
      fprintf(stderr, "    case: %s layers=%d %s %s %s%s\n", tu_cell_name(cell),
              layers, bidir ? "bi" : "uni", tokens ? "tokens" : "features",
              mode ? "last" : "sequence", with_initial ? " +h0" : "");
    free(fout);
    free(fhn);
    free(fcn);
  }
  free(x);
  free(h0);
  free(c0);
  free(out);
  free(hn);
  free(cn);
  free(rout);
  free(rhn);
  free(rcn);
  free_ref(&r);
  seqrnn_model_free(model);
}

static void test_matches_reference(void) {
  for (int c = 0; c < 4; c++)
    for (int layers = 1; layers <= 2; layers++)
      for (int bidir = 0; bidir <= 1; bidir++)
        for (int tokens = 0; tokens <= 1; tokens++)
          for (int32_t mode = 0; mode <= 1; mode++)
            check_case(tu_all_cells[c], layers, bidir, tokens, mode,
                       (layers + bidir + tokens + mode) % 2);
}

/* A hand-computed case: a 1-unit tanh RNN with known weights. */
static void test_hand_computed_rnn(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = SEQRNN_CELL_RNN_TANH;
  p.input_size = 1;
  p.hidden_size = 1;
  p.output_size = 1;
  p.loss = SEQRNN_LOSS_MSE;
  seqrnn_model *model = tu_make_model(&p);
  const float w_ih = 0.5f, w_hh = -0.25f, b_ih = 0.1f, b_hh = 0.05f;
  const float hw = 2.0f, hb = -1.0f;
  EXPECT_OK(seqrnn_model_set_tensor(model, "rnn.weight_ih_l0", &w_ih, 1));
  EXPECT_OK(seqrnn_model_set_tensor(model, "rnn.weight_hh_l0", &w_hh, 1));
  EXPECT_OK(seqrnn_model_set_tensor(model, "rnn.bias_ih_l0", &b_ih, 1));
  EXPECT_OK(seqrnn_model_set_tensor(model, "rnn.bias_hh_l0", &b_hh, 1));
  EXPECT_OK(seqrnn_model_set_tensor(model, "head.weight", &hw, 1));
  EXPECT_OK(seqrnn_model_set_tensor(model, "head.bias", &hb, 1));
  const float x[3] = {1.0f, -2.0f, 0.5f};
  float out[3];
  seqrnn_batch batch = seqrnn_batch_init(1, 3);
  batch.features = x;
  EXPECT_OK(seqrnn_model_forward(model, &batch, out, 3, NULL, NULL, 0, NULL));
  double h = 0;
  for (int t = 0; t < 3; t++) {
    h = tanh(0.5 * x[t] + 0.1 - 0.25 * h + 0.05);
    CHECK_MSG(tu_close(out[t], 2.0 * h - 1.0, 1e-6, 1e-7),
              "step %d: %.9g, expected %.9g", t, out[t], 2.0 * h - 1.0);
  }
  seqrnn_model_free(model);
}

int main(void) {
  TU_RUN(test_hand_computed_rnn);
  TU_RUN(test_matches_reference);
  return tu_finish("test_reference");
}
