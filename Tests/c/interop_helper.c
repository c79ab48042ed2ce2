/*
 * interop_helper.c - the C side of Tests/interop/check_c_model.py.
 *
 *   interop_helper save PATH   creates a 2-layer bidirectional token LSTM,
 *                              sets every tensor to the values
 *                              value(tensor index, element index) below,
 *                              saves it, and prints one line per tensor:
 *                              "name ndim dim0 [dim1]"
 *   interop_helper check PATH  loads PATH (written by Python from the saved
 *                              file with every value doubled) and checks
 *                              each tensor holds 2 * value(i, k) exactly
 *
 * The values are small multiples of 1/64, exact in float32 and in Python.
 */
#include "seqrnn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float value(int64_t tensor, int64_t k) {
  return (float)((tensor * 7919 + k * 31) % 257 - 128) / 64.0f;
}

static int fail(const char *what) {
  fprintf(stderr, "interop_helper: %s: %s\n", what, seqrnn_last_error());
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3 ||
      (strcmp(argv[1], "save") != 0 && strcmp(argv[1], "check") != 0)) {
    fprintf(stderr, "usage: interop_helper save|check PATH\n");
    return 2;
  }
  seqrnn_model *model = NULL;
  float scale = 1.0f;
  if (strcmp(argv[1], "save") == 0) {
    seqrnn_model_params p = seqrnn_model_default_params();
    p.cell = SEQRNN_CELL_LSTM;
    p.vocab_size = 7;
    p.input_size = 5;
    p.hidden_size = 6;
    p.num_layers = 2;
    p.bidirectional = 1;
    p.output_size = 4;
    p.seed = 3;
    if (seqrnn_model_create(&p, &model) != SEQRNN_OK)
      return fail("create");
  } else {
    if (seqrnn_model_load(argv[2], &model) != SEQRNN_OK)
      return fail("load");
    scale = 2.0f;
  }
  int64_t count = 0;
  seqrnn_model_tensor_count(model, &count);
  int bad = 0;
  for (int64_t i = 0; i < count; i++) {
    seqrnn_tensor_info info;
    seqrnn_model_tensor_info(model, i, &info);
    float *data = malloc(sizeof(float) * (size_t)info.count);
    if (data == NULL)
      return 2;
    if (scale == 1.0f) {
      for (int64_t k = 0; k < info.count; k++)
        data[k] = value(i, k);
      if (seqrnn_model_set_tensor(model, info.name, data, info.count) !=
          SEQRNN_OK)
        return fail("set_tensor");
      printf("%s %d", info.name, info.ndim);
      for (int d = 0; d < info.ndim; d++)
        printf(" %lld", (long long)info.shape[d]);
      printf("\n");
    } else {
      seqrnn_model_get_tensor(model, info.name, data, info.count);
      for (int64_t k = 0; k < info.count; k++)
        if (data[k] != 2.0f * value(i, k)) {
          fprintf(stderr, "%s[%lld] = %g, expected %g\n", info.name,
                  (long long)k, data[k], 2.0f * value(i, k));
          bad++;
          break;
        }
    }
    free(data);
  }
  if (scale == 1.0f && seqrnn_model_save(model, argv[2]) != SEQRNN_OK)
    return fail("save");
  seqrnn_model_free(model);
  if (bad == 0 && scale != 1.0f)
    printf("loaded the Python-written file: all %lld tensors as expected\n",
           (long long)count);
  return bad == 0 ? 0 : 1;
}
