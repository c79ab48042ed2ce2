/*
 * test_precision.c - seqrnn_precision_available, seqrnn_model_set_precision
 * and seqrnn_model_get_precision: float32 is the default and always
 * available; bfloat16 (where this machine has AMX) changes the forward
 * outputs by more than nothing and less than its rounding allows (3e-2 of
 * the outputs' scale; a wrong weight or step is off by O(1)), switching back
 * restores float32's exact outputs, a loaded model starts in float32, and
 * every error path gives its status.
 */
#include "test_util.h"

enum { B = 8, T = 12, I = 40, H = 70, O = 3 };

static seqrnn_model *make_model(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = SEQRNN_CELL_LSTM;
  p.input_size = I;
  p.hidden_size = H;
  p.num_layers = 2;
  p.output_size = O;
  p.loss = SEQRNN_LOSS_MSE;
  return tu_make_model(&p);
}

static void forward(const seqrnn_model *model, const float *x, float *out) {
  seqrnn_batch batch = seqrnn_batch_init(B, T);
  batch.features = x;
  EXPECT_OK(seqrnn_model_forward(model, &batch, out, (int64_t)B * T * O, NULL,
                                 NULL, 0, NULL));
}

static void test_default_and_errors(void) {
  seqrnn_model *model = make_model();
  seqrnn_precision precision = SEQRNN_PRECISION_BFLOAT16;
  CHECK(seqrnn_precision_available(SEQRNN_PRECISION_FLOAT32) == 1);
  CHECK(seqrnn_precision_available((seqrnn_precision)7) == 0);
  EXPECT_OK(seqrnn_model_get_precision(model, &precision));
  CHECK(precision == SEQRNN_PRECISION_FLOAT32);
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_model_set_precision(model, (seqrnn_precision)7));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_set_precision(NULL, SEQRNN_PRECISION_FLOAT32));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_get_precision(model, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_get_precision(NULL, &precision));
  if (!seqrnn_precision_available(SEQRNN_PRECISION_BFLOAT16))
    EXPECT_STATUS(SEQRNN_E_UNSUPPORTED,
                  seqrnn_model_set_precision(model, SEQRNN_PRECISION_BFLOAT16));
  seqrnn_model_free(model);
}

static void test_bfloat16_outputs(void) {
  if (!seqrnn_precision_available(SEQRNN_PRECISION_BFLOAT16)) {
    printf("  (bfloat16 not available here: skipped)\n");
    return;
  }
  seqrnn_model *model = make_model();
  tu_rng rng = {42};
  float *x = tu_floats((int64_t)B * T * I);
  float *exact = tu_floats((int64_t)B * T * O);
  float *rounded = tu_floats((int64_t)B * T * O);
  float *again = tu_floats((int64_t)B * T * O);
  tu_fill(&rng, x, (int64_t)B * T * I, -1.0f, 1.0f);
  forward(model, x, exact);
  EXPECT_OK(seqrnn_model_set_precision(model, SEQRNN_PRECISION_BFLOAT16));
  seqrnn_precision precision = SEQRNN_PRECISION_FLOAT32;
  EXPECT_OK(seqrnn_model_get_precision(model, &precision));
  CHECK(precision == SEQRNN_PRECISION_BFLOAT16);
  forward(model, x, rounded);
  double scale = 0.0, difference = 0.0;
  for (int64_t i = 0; i < (int64_t)B * T * O; i++) {
    scale = fmax(scale, fabs(exact[i]));
    difference = fmax(difference, fabs(rounded[i] - exact[i]));
  }
  CHECK_MSG(difference > 0.0 && difference <= 3e-2 * scale,
            "bfloat16 moved outputs by %g (scale %g)", difference, scale);
  /* Not saved: a loaded copy runs float32. */
  const char *path = "test_precision.safetensors";
  EXPECT_OK(seqrnn_model_save(model, path));
  seqrnn_model *loaded = NULL;
  EXPECT_OK(seqrnn_model_load(path, &loaded));
  EXPECT_OK(seqrnn_model_get_precision(loaded, &precision));
  CHECK(precision == SEQRNN_PRECISION_FLOAT32);
  forward(loaded, x, again);
  CHECK(tu_same_floats(again, exact, (int64_t)B * T * O));
  remove(path);
  EXPECT_OK(seqrnn_model_set_precision(model, SEQRNN_PRECISION_FLOAT32));
  forward(model, x, again);
  CHECK(tu_same_floats(again, exact, (int64_t)B * T * O));
  seqrnn_model_free(loaded);
  seqrnn_model_free(model);
  free(x);
  free(exact);
  free(rounded);
  free(again);
}

int main(void) {
  TU_RUN(test_default_and_errors);
  TU_RUN(test_bfloat16_outputs);
  return tu_finish("test_precision");
}
