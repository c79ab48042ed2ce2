/*
 * test_forecast.c - the forecasting section of seqrnn.h: scalers against
 * statistics computed here in long double, windows against an index loop,
 * persistence, the linear AR fit against the exact generating process,
 * residual orthogonality (the normal equations) and the minimum-norm
 * solution of a collinear design, one-step forecasts of a tanh RNN of known
 * weights against its equations in double, recursive forecasts against
 * step-by-step one-step calls, RMSE/MAE by hand, and every error path.
 */
#include "test_util.h"

enum { F = 2, H = 3 };

static int close_d(double a, double b, double rtol, double atol) {
  return tu_close(a, b, rtol, atol);
}

/* A smooth two-feature series with a little noise, [n][F]. */
static void make_series(double *x, int n, uint64_t seed) {
  tu_rng rng = {seed};
  for (int t = 0; t < n; t++)
    for (int f = 0; f < F; f++)
      x[t * F + f] =
          10 + 3 * sin(t / (4.0 + f)) + tu_uniform(&rng, -0.2f, 0.2f);
}

/* ---- scaling --------------------------------------------------------------
 */

static void test_scaler_statistics(void) {
  enum { T = 50 };
  double x[T * F], offset[F], scale[F];
  make_series(x, T, 1);
  EXPECT_OK(seqrnn_scaler_fit(SEQRNN_SCALER_STANDARD, x, T, F, offset, scale));
  for (int f = 0; f < F; f++) {
    long double sum = 0, squares = 0;
    for (int t = 0; t < T; t++)
      sum += x[t * F + f];
    long double mean = sum / T;
    for (int t = 0; t < T; t++)
      squares += (x[t * F + f] - mean) * (x[t * F + f] - mean);
    CHECK(close_d(offset[f], (double)mean, 1e-14, 0));
    CHECK(close_d(scale[f], sqrt((double)(squares / T)), 1e-13, 0));
  }
  /* Scaled training data has mean 0 and population std 1. */
  double z[T * F], back[T * F];
  EXPECT_OK(seqrnn_scaler_transform(offset, scale, F, x, T * F, z));
  for (int f = 0; f < F; f++) {
    double m = 0, s = 0;
    for (int t = 0; t < T; t++)
      m += z[t * F + f] / T;
    for (int t = 0; t < T; t++)
      s += (z[t * F + f] - m) * (z[t * F + f] - m) / T;
    CHECK(fabs(m) < 1e-13 && fabs(s - 1) < 1e-13);
  }
  EXPECT_OK(seqrnn_scaler_inverse_transform(offset, scale, F, z, T * F, back));
  int exact_formula = 1, round_trip = 1;
  for (int i = 0; i < T * F; i++) {
    exact_formula &= z[i] == (x[i] - offset[i % F]) / scale[i % F];
    round_trip &= close_d(back[i], x[i], 1e-14, 0);
  }
  CHECK(exact_formula && round_trip);
  /* In place gives the same numbers. */
  EXPECT_OK(seqrnn_scaler_transform(offset, scale, F, x, T * F, x));
  CHECK(memcmp(x, z, sizeof z) == 0);

  /* Min-max: training data spans [0, 1]; a constant feature is shifted. */
  double m[4 * F] = {2, 1, 2, 3, 2, 5, 2, 2};
  EXPECT_OK(seqrnn_scaler_fit(SEQRNN_SCALER_MINMAX, m, 4, F, offset, scale));
  CHECK(offset[0] == 2 && scale[0] == 1 && offset[1] == 1 && scale[1] == 4);
  double in[4] = {3, 3, 2, 0}, out[4];
  EXPECT_OK(seqrnn_scaler_transform(offset, scale, F, in, 4, out));
  CHECK(out[0] == 1 && out[1] == 0.5 && out[2] == 0 && out[3] == -0.25);
  /* Standard on a constant feature of a value the mean cannot represent
   * exactly after summing: still offset = value, scale = 1. */
  double c[3] = {0.1, 0.1, 0.1};
  EXPECT_OK(seqrnn_scaler_fit(SEQRNN_SCALER_STANDARD, c, 3, 1, offset, scale));
  CHECK(offset[0] == 0.1 && scale[0] == 1);
  /* NaN passes through a transform (a gap stays a gap). */
  double gap = NAN;
  EXPECT_OK(seqrnn_scaler_transform(offset, scale, 1, &gap, 1, &gap));
  CHECK(isnan(gap));
}

static void test_scaler_errors(void) {
  double x[4] = {1, 2, 3, 4}, offset[2] = {0, 0}, scale[2] = {1, 1}, out[4];
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_scaler_fit((seqrnn_scaler_method)7, x, 4, 1, offset, scale));
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_scaler_fit(SEQRNN_SCALER_STANDARD, NULL, 4, 1, offset, scale));
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_scaler_fit(SEQRNN_SCALER_STANDARD, x, 0, 1, offset, scale));
  x[2] = INFINITY;
  offset[0] = 42;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE, seqrnn_scaler_fit(SEQRNN_SCALER_MINMAX, x,
                                                       4, 1, offset, scale));
  CHECK(offset[0] == 42); /* untouched on failure */
  x[2] = 3;
  double huge[2] = {-1.5e308, 1.5e308};
  EXPECT_STATUS(
      SEQRNN_E_NON_FINITE,
      seqrnn_scaler_fit(SEQRNN_SCALER_MINMAX, huge, 2, 1, offset, scale));
  offset[0] = 0;
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_scaler_transform(offset, scale, 2, x, 3, out));
  scale[1] = 0;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_scaler_transform(offset, scale, 2, x, 4, out));
  scale[1] = 1;
  offset[1] = NAN;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_scaler_inverse_transform(offset, scale, 2, x, 4, out));
  offset[1] = 0;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_scaler_transform(offset, scale, 2, x, -2, out));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_scaler_transform(offset, NULL, 2, x, 4, out));
  EXPECT_OK(seqrnn_scaler_transform(offset, scale, 2, x, 0, out));
}

/* ---- windows and persistence ------------------------------------------------
 */

static void test_windows(void) {
  enum { T = 20, L = 4, HZ = 3, N = T - L - HZ + 1 };
  double x[T * F];
  for (int i = 0; i < T * F; i++)
    x[i] = i * 0.5 - 3;
  double w[N * L * F], y[N * F];
  int64_t count = -1;
  EXPECT_OK(
      seqrnn_make_windows(x, T, F, L, HZ, w, N * L * F, y, N * F, &count));
  CHECK(count == N);
  int same = 1;
  for (int i = 0; i < N; i++) {
    for (int s = 0; s < L; s++)
      for (int f = 0; f < F; f++)
        same &= w[(i * L + s) * F + f] == x[(i + s) * F + f];
    for (int f = 0; f < F; f++)
      same &= y[i * F + f] == x[(i + L + HZ - 1) * F + f];
  }
  CHECK(same);

  double p[N * F];
  EXPECT_OK(seqrnn_forecast_persistence(w, N, L, F, p, N * F));
  int last = 1;
  for (int i = 0; i < N; i++)
    for (int f = 0; f < F; f++)
      last &= p[i * F + f] == x[(i + L - 1) * F + f];
  CHECK(last);

  /* Errors: too few steps, sizes, capacity (count still reported). */
  EXPECT_STATUS(
      SEQRNN_E_SHAPE_MISMATCH,
      seqrnn_make_windows(x, 5, F, 4, 2, w, N * L * F, y, N * F, &count));
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_make_windows(x, T, F, 0, 1, w, N * L * F, y, N * F, NULL));
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_make_windows(x, T, F, L, 0, w, N * L * F, y, N * F, NULL));
  count = -1;
  EXPECT_STATUS(
      SEQRNN_E_BUFFER_TOO_SMALL,
      seqrnn_make_windows(x, T, F, L, HZ, w, N * L * F - 1, y, N * F, &count));
  CHECK(count == N);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_make_windows(x, T, F, L, HZ, NULL, 0, y, N * F, NULL));
  x[7] = NAN;
  EXPECT_STATUS(
      SEQRNN_E_NON_FINITE,
      seqrnn_make_windows(x, T, F, L, HZ, w, N * L * F, y, N * F, NULL));
  w[3] = INFINITY;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_forecast_persistence(w, N, L, F, p, N * F));
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_forecast_persistence(w, N, L, F, p, 1));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_forecast_persistence(w, 0, L, F, p, N * F));
}

/* ---- linear AR
 * ----------------------------------------------------------------- */

static void test_linear_ar_exact_process(void) {
  /* x_t = 0.6 x_{t-1} - 0.3 x_{t-2} + 2: the fit must give exactly these. */
  enum { T = 40, L = 2, N = T - L };
  double x[T] = {1.0, 0.5};
  for (int t = 2; t < T; t++)
    x[t] = 0.6 * x[t - 1] - 0.3 * x[t - 2] + 2.0;
  double w[N * L], y[N], coef[L], intercept[1];
  EXPECT_OK(seqrnn_make_windows(x, T, 1, L, 1, w, N * L, y, N, NULL));
  EXPECT_OK(seqrnn_linear_ar_fit(w, y, N, L, 1, coef, L, intercept, 1));
  /* The window's order is oldest first: coef[0] multiplies x_{t-2}. */
  CHECK_MSG(close_d(coef[0], -0.3, 0, 1e-9) && close_d(coef[1], 0.6, 0, 1e-9),
            "coef %.17g %.17g", coef[0], coef[1]);
  CHECK_MSG(close_d(intercept[0], 2.0, 0, 1e-8), "intercept %.17g",
            intercept[0]);
  double next[N];
  EXPECT_OK(seqrnn_linear_ar_predict(coef, intercept, w, N, L, 1, next, N));
  double worst = 0;
  for (int i = 0; i < N; i++)
    worst = fmax(worst, fabs(next[i] - y[i]));
  CHECK_MSG(worst < 1e-9, "worst one-step error %g", worst);
}

static void test_linear_ar_normal_equations(void) {
  /* Noisy two-feature data: the residual of a least-squares fit is
   * orthogonal to every design column (A^T r = 0), and predict equals the
   * affine formula written out here. */
  enum { T = 90, L = 3, N = T - L, P = L * F };
  double x[T * F], w[N * P], y[N * F], coef[P * F], intercept[F];
  make_series(x, T, 3);
  EXPECT_OK(seqrnn_make_windows(x, T, F, L, 1, w, N * P, y, N * F, NULL));
  EXPECT_OK(seqrnn_linear_ar_fit(w, y, N, L, F, coef, P * F, intercept, F));
  double fitted[N * F];
  EXPECT_OK(
      seqrnn_linear_ar_predict(coef, intercept, w, N, L, F, fitted, N * F));
  int formula = 1;
  for (int i = 0; i < N; i++)
    for (int g = 0; g < F; g++) {
      double v = intercept[g];
      for (int j = 0; j < P; j++)
        v += w[i * P + j] * coef[j * F + g];
      formula &= close_d(fitted[i * F + g], v, 1e-13, 1e-13);
    }
  CHECK(formula);
  double worst = 0;
  for (int g = 0; g < F; g++)
    for (int j = -1; j < P; j++) { /* -1: the column of ones */
      double dot = 0, norm = 0, rnorm = 0;
      for (int i = 0; i < N; i++) {
        double a = j < 0 ? 1.0 : w[i * P + j];
        double r = y[i * F + g] - fitted[i * F + g];
        dot += a * r;
        norm += a * a;
        rnorm += r * r;
      }
      worst = fmax(worst, fabs(dot) / sqrt(norm * rnorm));
    }
  CHECK_MSG(worst < 1e-10, "cosine of residual and a column: %g", worst);

  /* Any other coefficients fit worse (a perturbation raises the residual). */
  double base = 0, moved = 0;
  for (int i = 0; i < N; i++) {
    double r = y[i * F] - fitted[i * F];
    double r2 = r - 1e-3 * w[i * P + 1];
    base += r * r;
    moved += r2 * r2;
  }
  CHECK(moved > base);
}

static void test_linear_ar_collinear(void) {
  /* A constant series c: every column of the design [1, c, c] is parallel,
   * and the minimum-norm solution of x0 + c x1 + c x2 = c is
   * c / (1 + 2 c^2) * (1, c, c), as numpy.linalg.lstsq gives. */
  enum { T = 12, L = 2, N = T - L };
  double c = 3.0, x[T], w[N * L], y[N], coef[L], intercept[1];
  for (int t = 0; t < T; t++)
    x[t] = c;
  EXPECT_OK(seqrnn_make_windows(x, T, 1, L, 1, w, N * L, y, N, NULL));
  EXPECT_OK(seqrnn_linear_ar_fit(w, y, N, L, 1, coef, L, intercept, 1));
  double k = c / (1 + 2 * c * c);
  CHECK_MSG(close_d(intercept[0], k, 1e-12, 0) &&
                close_d(coef[0], k * c, 1e-12, 0) &&
                close_d(coef[1], k * c, 1e-12, 0),
            "got %.17g %.17g %.17g, want %.17g %.17g %.17g", intercept[0],
            coef[0], coef[1], k, k * c, k * c);
  /* Fewer windows than coefficients: the fit interpolates them. */
  double few_w[2 * 3] = {1, 2, 4, 0, -1, 5}, few_y[2] = {3, 7};
  double few_coef[3], few_b[1], few_out[2];
  EXPECT_OK(seqrnn_linear_ar_fit(few_w, few_y, 2, 3, 1, few_coef, 3, few_b, 1));
  EXPECT_OK(
      seqrnn_linear_ar_predict(few_coef, few_b, few_w, 2, 3, 1, few_out, 2));
  CHECK(close_d(few_out[0], 3, 1e-12, 0) && close_d(few_out[1], 7, 1e-12, 0));
}

static void test_linear_ar_errors(void) {
  double w[4] = {1, 2, 3, 4}, y[2] = {3, 5}, coef[2], b[1], out[2];
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_linear_ar_fit(w, y, 2, 2, 1, coef, 1, b, 1));
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_linear_ar_fit(w, y, 2, 2, 1, coef, 2, b, 0));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_linear_ar_fit(w, NULL, 2, 2, 1, coef, 2, b, 1));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_linear_ar_fit(w, y, 2, 0, 1, coef, 2, b, 1));
  y[1] = NAN;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_linear_ar_fit(w, y, 2, 2, 1, coef, 2, b, 1));
  coef[0] = 1, coef[1] = INFINITY, b[0] = 0;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_linear_ar_predict(coef, b, w, 2, 2, 1, out, 2));
  coef[1] = 1;
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_linear_ar_predict(coef, b, w, 2, 2, 1, out, 1));
}

/* ---- model forecasts
 * ---------------------------------------------------------- */

static seqrnn_model *make_model(int32_t cell, int64_t vocab, int64_t in,
                                int64_t out, int32_t mode, int32_t loss) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = cell;
  p.vocab_size = vocab;
  p.input_size = in;
  p.hidden_size = H;
  p.output_size = out;
  p.output_mode = mode;
  p.loss = loss;
  seqrnn_model *m = NULL;
  EXPECT_OK(seqrnn_model_create(&p, &m));
  return m;
}

/* The tanh RNN's weights, as float (what the model holds). */
typedef struct {
  float w_ih[H * F], w_hh[H * H], b_ih[H], b_hh[H], w_head[F * H], b_head[F];
} rnn_weights;

static seqrnn_model *known_rnn(rnn_weights *w) {
  tu_rng rng = {11};
  tu_fill(&rng, w->w_ih, H * F, -0.8f, 0.8f);
  tu_fill(&rng, w->w_hh, H * H, -0.6f, 0.6f);
  tu_fill(&rng, w->b_ih, H, -0.2f, 0.2f);
  tu_fill(&rng, w->b_hh, H, -0.2f, 0.2f);
  tu_fill(&rng, w->w_head, F * H, -0.7f, 0.7f);
  tu_fill(&rng, w->b_head, F, -0.2f, 0.2f);
  seqrnn_model *m = make_model(SEQRNN_CELL_RNN_TANH, 0, F, F,
                               SEQRNN_OUTPUT_LAST, SEQRNN_LOSS_MSE);
  EXPECT_OK(seqrnn_model_set_tensor(m, "rnn.weight_ih_l0", w->w_ih, H * F));
  EXPECT_OK(seqrnn_model_set_tensor(m, "rnn.weight_hh_l0", w->w_hh, H * H));
  EXPECT_OK(seqrnn_model_set_tensor(m, "rnn.bias_ih_l0", w->b_ih, H));
  EXPECT_OK(seqrnn_model_set_tensor(m, "rnn.bias_hh_l0", w->b_hh, H));
  EXPECT_OK(seqrnn_model_set_tensor(m, "head.weight", w->w_head, F * H));
  EXPECT_OK(seqrnn_model_set_tensor(m, "head.bias", w->b_head, F));
  return m;
}

/* h_t = tanh(W_ih x_t + b_ih + W_hh h + b_hh); forecast = W h_T + b, in
 * double from the window rounded to float (as the model sees it). */
static void rnn_next(const rnn_weights *w, const double *window, int lags,
                     double *out) {
  double h[H] = {0};
  for (int s = 0; s < lags; s++) {
    double nh[H];
    for (int j = 0; j < H; j++) {
      double a = (double)w->b_ih[j] + w->b_hh[j];
      for (int f = 0; f < F; f++)
        a += (double)w->w_ih[j * F + f] * (float)window[s * F + f];
      for (int k = 0; k < H; k++)
        a += (double)w->w_hh[j * H + k] * h[k];
      nh[j] = tanh(a);
    }
    memcpy(h, nh, sizeof h);
  }
  for (int g = 0; g < F; g++) {
    out[g] = w->b_head[g];
    for (int j = 0; j < H; j++)
      out[g] += (double)w->w_head[g * H + j] * h[j];
  }
}

static void test_forecast_next_and_recursive(void) {
  enum { T = 40, L = 5, N = T - L, STEPS = 6, B = 3 };
  rnn_weights wts;
  seqrnn_model *m = known_rnn(&wts);
  double x[T * F], w[N * L * F], y[N * F], got[N * F];
  make_series(x, T, 5);
  for (int i = 0; i < T * F; i++)
    x[i] = (x[i] - 10) / 3;
  EXPECT_OK(seqrnn_make_windows(x, T, F, L, 1, w, N * L * F, y, N * F, NULL));
  EXPECT_OK(seqrnn_forecast_next(m, w, N, L, F, got, N * F));
  int ok = 1;
  for (int i = 0; i < N; i++) {
    double want[F];
    rnn_next(&wts, w + i * L * F, L, want);
    for (int g = 0; g < F; g++)
      ok &= close_d(got[i * F + g], want[g], 1e-5, 1e-6);
  }
  CHECK(ok);

  /* Recursive: B histories at once against feeding one-step calls by hand. */
  double rec[B * STEPS * F];
  EXPECT_OK(seqrnn_forecast_recursive(m, w, B, L, F, STEPS, NULL, NULL, rec,
                                      B * STEPS * F));
  int same = 1, matches_equations = 1;
  for (int b = 0; b < B; b++) {
    double win[L * F], ref[L * F];
    memcpy(win, w + b * L * F, sizeof win);
    memcpy(ref, win, sizeof ref);
    for (int k = 0; k < STEPS; k++) {
      double next[F], want[F];
      EXPECT_OK(seqrnn_forecast_next(m, win, 1, L, F, next, F));
      rnn_next(&wts, ref, L, want);
      for (int g = 0; g < F; g++) {
        same &= rec[(b * STEPS + k) * F + g] == next[g];
        matches_equations &=
            close_d(rec[(b * STEPS + k) * F + g], want[g], 1e-5, 1e-6);
      }
      memmove(win, win + F, (L - 1) * F * sizeof(double));
      memcpy(win + (L - 1) * F, next, sizeof next);
      memmove(ref, ref + F, (L - 1) * F * sizeof(double));
      memcpy(ref + (L - 1) * F, want, sizeof want);
    }
  }
  CHECK(same && matches_equations);

  /* With a scaler: history in original units, forecasts scaled back. */
  double offset[F] = {7, -2}, scale[F] = {50, 0.5};
  double raw[B * L * F], scaled_rec[B * STEPS * F], expect[B * STEPS * F];
  EXPECT_OK(
      seqrnn_scaler_inverse_transform(offset, scale, F, w, B * L * F, raw));
  EXPECT_OK(seqrnn_forecast_recursive(m, raw, B, L, F, STEPS, offset, scale,
                                      scaled_rec, B * STEPS * F));
  EXPECT_OK(seqrnn_scaler_inverse_transform(offset, scale, F, rec,
                                            B * STEPS * F, expect));
  ok = 1;
  for (int i = 0; i < B * STEPS * F; i++)
    ok &= close_d(scaled_rec[i], expect[i], 1e-5, 1e-5);
  CHECK(ok);

  /* Errors. */
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_forecast_recursive(m, w, B, L, F, 0, NULL, NULL, rec,
                                          B * STEPS * F));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_forecast_recursive(m, w, B, L, F, STEPS, offset, NULL,
                                          rec, B * STEPS * F));
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_forecast_recursive(m, w, B, L, F, STEPS, NULL, NULL, rec,
                                          B * STEPS * F - 1));
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_forecast_next(m, w, 2, L, 1, got, N * F));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_forecast_next(NULL, w, N, L, F, got, N * F));
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_forecast_next(m, w, N, L, F, got, N * F - 1));
  scale[1] = -1;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_forecast_recursive(m, raw, B, L, F, STEPS, offset, scale,
                                          rec, B * STEPS * F));
  w[4] = NAN;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_forecast_next(m, w, N, L, F, got, N * F));
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_forecast_recursive(m, w, B, L, F, STEPS, NULL, NULL, rec,
                                          B * STEPS * F));

  /* Weights whose forecasts overflow give a clear error, not infinities:
   * saturated units (h = 1) times a head of 3e38 sum past FLT_MAX. */
  float ones[H * F], huge[F * H], zeros[H * H] = {0};
  for (int i = 0; i < H * F; i++)
    ones[i] = 1, huge[i] = 3e38f;
  EXPECT_OK(seqrnn_model_set_tensor(m, "rnn.weight_ih_l0", ones, H * F));
  EXPECT_OK(seqrnn_model_set_tensor(m, "rnn.weight_hh_l0", zeros, H * H));
  EXPECT_OK(seqrnn_model_set_tensor(m, "head.weight", huge, F * H));
  for (int i = 0; i < L * F; i++)
    w[i] = 10;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_forecast_next(m, w, 1, L, F, got, F));
  EXPECT_STATUS(
      SEQRNN_E_NON_FINITE,
      seqrnn_forecast_recursive(m, w, 1, L, F, 2, NULL, NULL, rec, 2 * F));
  CHECK(strstr(seqrnn_last_error(), "forecast") != NULL);
  seqrnn_model_free(m);
}

static void test_forecast_model_kinds(void) {
  double w[2 * 3 * F] = {0}, out[2 * F * 4];
  struct {
    seqrnn_model *m;
    seqrnn_status want;
  } cases[] = {
      /* a token model */
      {make_model(SEQRNN_CELL_GRU, 5, 0, F, SEQRNN_OUTPUT_LAST,
                  SEQRNN_LOSS_MSE),
       SEQRNN_E_INVALID_ARGUMENT},
      /* output per step */
      {make_model(SEQRNN_CELL_GRU, 0, F, F, SEQRNN_OUTPUT_SEQUENCE,
                  SEQRNN_LOSS_MSE),
       SEQRNN_E_INVALID_ARGUMENT},
      /* a classifier */
      {make_model(SEQRNN_CELL_LSTM, 0, F, F, SEQRNN_OUTPUT_LAST,
                  SEQRNN_LOSS_CROSS_ENTROPY),
       SEQRNN_E_INVALID_ARGUMENT},
      /* output_size != features */
      {make_model(SEQRNN_CELL_LSTM, 0, F, 1, SEQRNN_OUTPUT_LAST,
                  SEQRNN_LOSS_MSE),
       SEQRNN_E_SHAPE_MISMATCH},
      /* a good one (LSTM) */
      {make_model(SEQRNN_CELL_LSTM, 0, F, F, SEQRNN_OUTPUT_LAST,
                  SEQRNN_LOSS_MSE),
       SEQRNN_OK},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    EXPECT_STATUS(cases[i].want,
                  seqrnn_forecast_next(cases[i].m, w, 2, 3, F, out, 2 * F));
    EXPECT_STATUS(cases[i].want,
                  seqrnn_forecast_recursive(cases[i].m, w, 2, 3, F, 4, NULL,
                                            NULL, out, 2 * F * 4));
    seqrnn_model_free(cases[i].m);
  }
}

/* ---- error measures
 * ------------------------------------------------------------ */

static void test_error_measures(void) {
  double truth[4] = {1, 2, 4, 7}, forecast[4] = {2, 2, 1, 7}, v = -1;
  EXPECT_OK(seqrnn_forecast_rmse(truth, forecast, 4, &v));
  CHECK(close_d(v, sqrt((1.0 + 9.0) / 4), 1e-15, 0));
  EXPECT_OK(seqrnn_forecast_mae(truth, forecast, 4, &v));
  CHECK(v == 1.0);
  EXPECT_OK(seqrnn_forecast_rmse(truth, truth, 4, &v));
  CHECK(v == 0.0);
  /* Many values: the pairwise sum keeps a long mean exact here. */
  enum { N = 10000 };
  static double a[N], b[N];
  for (int i = 0; i < N; i++)
    a[i] = i % 2 ? 0.1 : -0.1, b[i] = 0;
  EXPECT_OK(seqrnn_forecast_mae(a, b, N, &v));
  CHECK(close_d(v, 0.1, 1e-14, 0));
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_forecast_rmse(truth, forecast, 0, &v));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_forecast_mae(truth, forecast, -1, &v));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_forecast_mae(truth, forecast, 4, NULL));
  forecast[2] = NAN;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_forecast_mae(truth, forecast, 4, &v));
}

int main(void) {
  TU_RUN(test_scaler_statistics);
  TU_RUN(test_scaler_errors);
  TU_RUN(test_windows);
  TU_RUN(test_linear_ar_exact_process);
  TU_RUN(test_linear_ar_normal_equations);
  TU_RUN(test_linear_ar_collinear);
  TU_RUN(test_linear_ar_errors);
  TU_RUN(test_forecast_next_and_recursive);
  TU_RUN(test_forecast_model_kinds);
  TU_RUN(test_error_measures);
  return tu_finish("test_forecast");
}
