/*
 * test_threads.c - one model shared by several threads: concurrent forward
 * and evaluate calls give bitwise the results of a single thread; streaming
 * states on the same model in different threads do too; and the last error
 * message is per thread.
 */
#include "test_util.h"

#include <pthread.h>

enum { THREADS = 4, ROUNDS = 25, B = 6, T = 12, I = 5, O = 3 };

static seqrnn_model *model;
static float inputs[THREADS][B * T * I];
static int32_t classes[THREADS][B * T];
static float expected_out[THREADS][B * T * O];
static double expected_loss[THREADS];
static float expected_stream[THREADS][T][B * O];

typedef struct job {
  int index;
  int mismatches;
  int failures;
} job;

static seqrnn_batch batch_for(int i) {
  seqrnn_batch b = seqrnn_batch_init(B, T);
  b.features = inputs[i];
  b.target_classes = classes[i];
  return b;
}

static void *forward_worker(void *arg) {
  job *j = (job *)arg;
  float out[B * T * O];
  for (int r = 0; r < ROUNDS; r++) {
    /* Every thread runs its own inputs and, every other round, those of
     * another thread, so identical calls also overlap. */
    int i = r % 2 ? j->index : (j->index + r) % THREADS;
    seqrnn_batch b = batch_for(i);
    if (seqrnn_model_forward(model, &b, out, B * T * O, NULL, NULL, 0, NULL) !=
        SEQRNN_OK)
      j->failures++;
    else if (!tu_same_floats(out, expected_out[i], B * T * O))
      j->mismatches++;
    seqrnn_evaluation ev;
    if (seqrnn_model_evaluate(model, &b, &ev) != SEQRNN_OK)
      j->failures++;
    else if (ev.loss != expected_loss[i])
      j->mismatches++;
  }
  return NULL;
}

static void *stream_worker(void *arg) {
  job *j = (job *)arg;
  seqrnn_state *state = NULL;
  if (seqrnn_state_create(model, B, &state) != SEQRNN_OK) {
    j->failures++;
    return NULL;
  }
  for (int r = 0; r < 3; r++) {
    seqrnn_state_reset(state);
    for (int t = 0; t < T; t++) {
      float x[B * I], out[B * O];
      for (int b = 0; b < B; b++)
        memcpy(x + b * I, inputs[j->index] + (b * T + t) * I,
               sizeof(float) * I);
      if (seqrnn_state_step(state, x, NULL, out, B * O) != SEQRNN_OK)
        j->failures++;
      else if (!tu_same_floats(out, expected_stream[j->index][t], B * O))
        j->mismatches++;
    }
  }
  seqrnn_state_free(state);
  return NULL;
}

static void run_threads(void *(*fn)(void *), const char *what) {
  pthread_t threads[THREADS];
  job jobs[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i].index = i;
    jobs[i].mismatches = 0;
    jobs[i].failures = 0;
    CHECK(pthread_create(&threads[i], NULL, fn, &jobs[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(threads[i], NULL);
    CHECK_MSG(jobs[i].failures == 0, "%s thread %d: %d failed calls", what, i,
              jobs[i].failures);
    CHECK_MSG(jobs[i].mismatches == 0,
              "%s thread %d: %d results differ from one thread's", what, i,
              jobs[i].mismatches);
  }
}

static void test_shared_model(void) {
  /* Single-threaded results first. */
  for (int i = 0; i < THREADS; i++) {
    seqrnn_batch b = batch_for(i);
    EXPECT_OK(seqrnn_model_forward(model, &b, expected_out[i], B * T * O, NULL,
                                   NULL, 0, NULL));
    seqrnn_evaluation ev;
    EXPECT_OK(seqrnn_model_evaluate(model, &b, &ev));
    expected_loss[i] = ev.loss;
  }
  run_threads(forward_worker, "forward");
}

static void test_streams_in_threads(void) {
  for (int i = 0; i < THREADS; i++) {
    seqrnn_state *state = NULL;
    EXPECT_OK(seqrnn_state_create(model, B, &state));
    for (int t = 0; t < T; t++) {
      float x[B * I];
      for (int b = 0; b < B; b++)
        memcpy(x + b * I, inputs[i] + (b * T + t) * I, sizeof(float) * I);
      EXPECT_OK(
          seqrnn_state_step(state, x, NULL, expected_stream[i][t], B * O));
    }
    seqrnn_state_free(state);
  }
  run_threads(stream_worker, "stream");
}

static const char *main_message;
static int other_thread_saw_empty;
static int other_thread_failed_properly;

static void *error_worker(void *arg) {
  (void)arg;
  /* A new thread has no error yet, whatever other threads did. */
  other_thread_saw_empty = seqrnn_last_error()[0] == '\0';
  seqrnn_model *m = NULL;
  other_thread_failed_properly =
      seqrnn_model_create(NULL, &m) == SEQRNN_E_INVALID_ARGUMENT &&
      seqrnn_last_error()[0] != '\0';
  return NULL;
}

static void test_last_error_per_thread(void) {
  int64_t count = 0;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_model_state_count(model, -1, &count));
  char saved[1024];
  snprintf(saved, sizeof saved, "%s", seqrnn_last_error());
  main_message = saved;
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, error_worker, NULL) == 0);
  pthread_join(thread, NULL);
  CHECK_MSG(other_thread_saw_empty, "a new thread saw another's last error");
  CHECK(other_thread_failed_properly);
  CHECK_MSG(strcmp(seqrnn_last_error(), main_message) == 0,
            "another thread's failure replaced this thread's message: '%s'",
            seqrnn_last_error());
}

int main(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = SEQRNN_CELL_LSTM;
  p.input_size = I;
  p.hidden_size = 32;
  p.num_layers = 2;
  p.output_size = O;
  p.seed = 8;
  model = tu_make_model(&p);
  tu_rng rng = {123};
  for (int i = 0; i < THREADS; i++) {
    tu_fill(&rng, inputs[i], B * T * I, -1, 1);
    tu_fill_tokens(&rng, classes[i], B * T, O);
  }
  TU_RUN(test_shared_model);
  TU_RUN(test_streams_in_threads);
  TU_RUN(test_last_error_per_thread);
  seqrnn_model_free(model);
  return tu_finish("test_threads");
}
