// header_cxx.cpp - include/seqrnn.h compiles cleanly as C++11 with
// -Wall -Wextra -Werror -pedantic, has C linkage there (the program links
// against libseqrnn.so and calls it), and can be included twice.
#include "seqrnn.h"

#include <cstdio>
#include <cstring>

static_assert(SEQRNN_OK == 0, "SEQRNN_OK must be 0");
static_assert(SEQRNN_E_INTERNAL == 13, "status values are fixed");
static_assert(SEQRNN_CELL_GRU == 3, "cell values are fixed");
static_assert(SEQRNN_VERSION_NUMBER == SEQRNN_VERSION_MAJOR * 10000 +
                                           SEQRNN_VERSION_MINOR * 100 +
                                           SEQRNN_VERSION_PATCH,
              "version number formula");

int main() {
  if (seqrnn_version_number() != SEQRNN_VERSION_NUMBER) {
    std::fprintf(stderr, "version mismatch\n");
    return 1;
  }
  seqrnn_model_params params = seqrnn_model_default_params();
  params.input_size = 3;
  params.hidden_size = 4;
  params.cell = SEQRNN_CELL_GRU;
  seqrnn_model *model = nullptr;
  if (seqrnn_model_create(&params, &model) != SEQRNN_OK) {
    std::fprintf(stderr, "create: %s\n", seqrnn_last_error());
    return 1;
  }
  seqrnn_tensor_info info;
  if (seqrnn_model_find_tensor(model, "rnn.weight_ih_l0", &info) != SEQRNN_OK ||
      info.ndim != 2 || info.shape[0] != 12 || info.shape[1] != 3) {
    std::fprintf(stderr, "find_tensor from C++ failed\n");
    seqrnn_model_free(model);
    return 1;
  }
  seqrnn_model_free(model);
  const char *text = seqrnn_status_string(SEQRNN_E_IO);
  if (text == nullptr || std::strlen(text) == 0) {
    std::fprintf(stderr, "status string empty\n");
    return 1;
  }
  std::printf("test_header_cxx (C++11): 1 passed, 0 failed\n");
  return 0;
}
