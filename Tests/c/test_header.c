/*
 * test_header.c - include/seqrnn.h compiles cleanly as C99 (this file, with
 * -Wall -Wextra -Werror -pedantic and more; header_cxx.cpp does the same as
 * C++11), can be included twice, and declares what the documentation says:
 * enum constants with their fixed values and struct fields of the documented
 * types. It also links every function, so a declaration without an export
 * fails here at link time.
 */
#include "seqrnn.h"
#include "seqrnn.h" /* include guard */

#include <stddef.h>
#include <stdio.h>

/* C99 has no _Static_assert; a negative array size fails the build. */
#define STATIC_CHECK(name, cond)                                               \
  typedef char static_check_##name[(cond) ? 1 : -1]

STATIC_CHECK(ok_zero, SEQRNN_OK == 0);
STATIC_CHECK(invalid, SEQRNN_E_INVALID_ARGUMENT == 1);
STATIC_CHECK(null, SEQRNN_E_NULL_ARGUMENT == 2);
STATIC_CHECK(shape, SEQRNN_E_SHAPE_MISMATCH == 3);
STATIC_CHECK(range, SEQRNN_E_OUT_OF_RANGE == 4);
STATIC_CHECK(finite, SEQRNN_E_NON_FINITE == 5);
STATIC_CHECK(oom, SEQRNN_E_OUT_OF_MEMORY == 6);
STATIC_CHECK(io, SEQRNN_E_IO == 7);
STATIC_CHECK(format, SEQRNN_E_BAD_FORMAT == 8);
STATIC_CHECK(version, SEQRNN_E_UNSUPPORTED_VERSION == 9);
STATIC_CHECK(small, SEQRNN_E_BUFFER_TOO_SMALL == 10);
STATIC_CHECK(name, SEQRNN_E_UNKNOWN_NAME == 11);
STATIC_CHECK(unsupported, SEQRNN_E_UNSUPPORTED == 12);
STATIC_CHECK(internal, SEQRNN_E_INTERNAL == 13);
STATIC_CHECK(cells, SEQRNN_CELL_RNN_TANH == 0 && SEQRNN_CELL_RNN_RELU == 1 &&
                        SEQRNN_CELL_LSTM == 2 && SEQRNN_CELL_GRU == 3);
STATIC_CHECK(modes, SEQRNN_OUTPUT_SEQUENCE == 0 && SEQRNN_OUTPUT_LAST == 1);
STATIC_CHECK(losses, SEQRNN_LOSS_CROSS_ENTROPY == 0 && SEQRNN_LOSS_MSE == 1);
STATIC_CHECK(optimizers,
             SEQRNN_OPTIMIZER_SGD == 0 && SEQRNN_OPTIMIZER_ADAM == 1);
STATIC_CHECK(version_number,
             SEQRNN_VERSION_NUMBER == SEQRNN_VERSION_MAJOR * 10000 +
                                          SEQRNN_VERSION_MINOR * 100 +
                                          SEQRNN_VERSION_PATCH);
STATIC_CHECK(tensor_shape,
             sizeof(((seqrnn_tensor_info *)0)->shape) == 4 * sizeof(int64_t));
STATIC_CHECK(sizes_are_64_bit, sizeof(((seqrnn_batch *)0)->batch_size) == 8 &&
                                   sizeof(((seqrnn_batch *)0)->seq_len) == 8);

/* Every function, by address: linking fails if one is not exported. */
typedef void (*any_fn)(void);
static const any_fn all_functions[] = {
    (any_fn)seqrnn_version_number,
    (any_fn)seqrnn_version_string,
    (any_fn)seqrnn_status_string,
    (any_fn)seqrnn_last_error,
    (any_fn)seqrnn_model_default_params,
    (any_fn)seqrnn_model_create,
    (any_fn)seqrnn_model_free,
    (any_fn)seqrnn_model_get_params,
    (any_fn)seqrnn_batch_init,
    (any_fn)seqrnn_model_output_count,
    (any_fn)seqrnn_model_state_count,
    (any_fn)seqrnn_model_forward,
    (any_fn)seqrnn_model_evaluate,
    (any_fn)seqrnn_model_tensor_count,
    (any_fn)seqrnn_model_tensor_info,
    (any_fn)seqrnn_model_find_tensor,
    (any_fn)seqrnn_model_get_tensor,
    (any_fn)seqrnn_model_set_tensor,
    (any_fn)seqrnn_model_save,
    (any_fn)seqrnn_model_load,
    (any_fn)seqrnn_state_create,
    (any_fn)seqrnn_state_free,
    (any_fn)seqrnn_state_reset,
    (any_fn)seqrnn_state_step,
    (any_fn)seqrnn_state_get,
    (any_fn)seqrnn_state_set,
    (any_fn)seqrnn_train_default_params,
    (any_fn)seqrnn_trainer_create,
    (any_fn)seqrnn_trainer_free,
    (any_fn)seqrnn_trainer_step,
    (any_fn)seqrnn_trainer_compute_gradients,
    (any_fn)seqrnn_trainer_get_gradient,
    (any_fn)seqrnn_trainer_set_learning_rate,
    (any_fn)seqrnn_trainer_step_count,
    (any_fn)seqrnn_blas_info,
};

int main(void) {
  size_t n = sizeof all_functions / sizeof all_functions[0];
  size_t i;
  for (i = 0; i < n; i++) {
    if (all_functions[i] == NULL) {
      fprintf(stderr, "function %u is NULL\n", (unsigned)i);
      return 1;
    }
  }
  /* Struct fields of the documented types, usable from C99. */
  {
    seqrnn_model_params mp = seqrnn_model_default_params();
    seqrnn_train_params tp = seqrnn_train_default_params();
    seqrnn_batch batch = seqrnn_batch_init(2, 3);
    seqrnn_evaluation ev;
    seqrnn_tensor_info info;
    int32_t *cell = &mp.cell;
    uint64_t *seed = &mp.seed;
    float *lr = &tp.learning_rate;
    const int64_t **lengths = &batch.lengths;
    double *loss = &ev.loss;
    const char **name = &info.name;
    (void)cell;
    (void)seed;
    (void)lr;
    (void)lengths;
    (void)loss;
    (void)name;
    if (batch.batch_size != 2 || batch.seq_len != 3) {
      fprintf(stderr, "seqrnn_batch_init sizes wrong\n");
      return 1;
    }
  }
  printf("test_header (C99): %u functions linked; 1 passed, 0 failed\n",
         (unsigned)n);
  return 0;
}
