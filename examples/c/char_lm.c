/*
 * char_lm.c - a character-level language model in plain C99 on libseqrnn.
 *
 * Reads a text file, builds the vocabulary of the bytes it contains, trains
 * a 2-layer LSTM to predict the next character on random windows of the
 * text (printing step, loss and characters per second), reports the loss on
 * held-out text, and then prints text sampled one character at a time with
 * a streaming state and a temperature.
 *
 * Build (after installing seqrnn):
 *   cc -std=c99 -O2 char_lm.c $(pkg-config --cflags --libs seqrnn) -lm
 * Run:
 *   ./char_lm [options] [FILE]        (FILE defaults to DEFAULT_CORPUS)
 * Options:
 *   --steps N        training steps (default 300)
 *   --seconds X      stop training after X seconds even if steps remain
 *                    (default 0: no time limit)
 *   --hidden N       LSTM units per layer (default 128)
 *   --layers N       stacked LSTM layers (default 2)
 *   --seq-len N      characters per training window (default 64)
 *   --batch N        windows per step (default 32)
 *   --lr X           Adam learning rate (default 0.003)
 *   --temperature X  sampling temperature; lower is more conservative
 *                    (default 0.7)
 *   --sample N       characters to sample after training (default 400)
 *   --seed N         seed of weights, windows and sampling (default 1)
 *   --save PATH      save the trained model (safetensors) to PATH
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#endif

#include <seqrnn.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CORPUS "/usr/share/common-licenses/GPL-3"

typedef struct options {
  const char *path;
  const char *save_path;
  long steps, hidden, layers, seq_len, batch, sample;
  double lr, temperature, seconds;
  unsigned long long seed;
} options;

/* ---- small utilities ---------------------------------------------------- */

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* xorshift64*: a small, good-enough generator for windows and sampling. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}
static double rng_uniform(void) { /* [0, 1) */
  return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

/* Prints the library's message for a failed call and exits. */
static void check(seqrnn_status status, const char *what) {
  if (status != SEQRNN_OK) {
    fprintf(stderr, "char_lm: %s failed: %s (%s)\n", what,
            seqrnn_status_string(status), seqrnn_last_error());
    exit(1);
  }
}

static unsigned char *read_text(const char *path, long *out_size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    return NULL;
  }
  size_t capacity = 1 << 16, size = 0, got;
  unsigned char *text = malloc(capacity);
  while (text != NULL &&
         (got = fread(text + size, 1, capacity - size, f)) > 0) {
    size += got;
    if (size == capacity) {
      unsigned char *bigger = realloc(text, capacity *= 2);
      if (bigger == NULL)
        free(text);
      text = bigger;
    }
  }
  fclose(f);
  if (text == NULL)
    fprintf(stderr, "char_lm: out of memory reading %s\n", path);
  *out_size = (long)size;
  return text;
}

static int parse_options(int argc, char **argv, options *o) {
  o->path = DEFAULT_CORPUS;
  o->save_path = NULL;
  o->steps = 300;
  o->hidden = 128;
  o->layers = 2;
  o->seq_len = 64;
  o->batch = 32;
  o->sample = 400;
  o->lr = 0.003;
  o->temperature = 0.7;
  o->seconds = 0;
  o->seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    long *target = NULL;
    if (strcmp(a, "--steps") == 0)
      target = &o->steps;
    else if (strcmp(a, "--hidden") == 0)
      target = &o->hidden;
    else if (strcmp(a, "--layers") == 0)
      target = &o->layers;
    else if (strcmp(a, "--seq-len") == 0)
      target = &o->seq_len;
    else if (strcmp(a, "--batch") == 0)
      target = &o->batch;
    else if (strcmp(a, "--sample") == 0)
      target = &o->sample;
    if (target != NULL || strcmp(a, "--lr") == 0 ||
        strcmp(a, "--temperature") == 0 || strcmp(a, "--seed") == 0 ||
        strcmp(a, "--seconds") == 0 || strcmp(a, "--save") == 0) {
      if (v == NULL) {
        fprintf(stderr, "char_lm: %s needs a value\n", a);
        return 0;
      }
      i++;
      if (target != NULL)
        *target = strtol(v, NULL, 10);
      else if (strcmp(a, "--lr") == 0)
        o->lr = strtod(v, NULL);
      else if (strcmp(a, "--temperature") == 0)
        o->temperature = strtod(v, NULL);
      else if (strcmp(a, "--seconds") == 0)
        o->seconds = strtod(v, NULL);
      else if (strcmp(a, "--seed") == 0)
        o->seed = strtoull(v, NULL, 10);
      else
        o->save_path = v;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      return -1;
    } else if (a[0] == '-') {
      fprintf(stderr, "char_lm: unknown option %s\n", a);
      return 0;
    } else {
      o->path = a;
    }
  }
  if (o->steps < 0 || o->hidden <= 0 || o->layers <= 0 || o->seq_len <= 1 ||
      o->batch <= 0 || o->sample < 0 || !(o->lr > 0) || !(o->temperature > 0)) {
    fprintf(stderr, "char_lm: invalid option value\n");
    return 0;
  }
  return 1;
}

/* ---- the model ------------------------------------------------------------
 */

/* Fills one batch of random windows from text[lo, hi): tokens are
 * characters t..t+L-1 and targets the characters one step later. */
static void fill_windows(const int32_t *ids, long lo, long hi, long batch,
                         long seq_len, int32_t *tokens, int32_t *targets) {
  long span = hi - lo - seq_len - 1;
  for (long b = 0; b < batch; b++) {
    long start = lo + (long)(rng_uniform() * (double)(span + 1));
    memcpy(tokens + b * seq_len, ids + start, sizeof(int32_t) * seq_len);
    memcpy(targets + b * seq_len, ids + start + 1, sizeof(int32_t) * seq_len);
  }
}

/* Draws a class from softmax(logits / temperature). */
static int sample_from(const float *logits, int n, double temperature,
                       double *probs) {
  double max = logits[0], sum = 0;
  for (int i = 1; i < n; i++)
    if (logits[i] > max)
      max = logits[i];
  for (int i = 0; i < n; i++)
    sum += probs[i] = exp((logits[i] - max) / temperature);
  double r = rng_uniform() * sum;
  for (int i = 0; i < n; i++) {
    r -= probs[i];
    if (r < 0)
      return i;
  }
  return n - 1;
}

int main(int argc, char **argv) {
  options opt;
  int parsed = parse_options(argc, argv, &opt);
  if (parsed <= 0) { /* -1: --help, 0: a bad option */
    fprintf(parsed < 0 ? stdout : stderr,
            "usage: char_lm [--steps N] [--seconds X] [--hidden N] "
            "[--layers N] [--seq-len N]\n"
            "               [--batch N] [--lr X] [--temperature X] "
            "[--sample N] [--seed N]\n"
            "               [--save PATH] [FILE]\n"
            "FILE defaults to " DEFAULT_CORPUS "\n");
    return parsed < 0 ? 0 : 2;
  }
  rng_state = opt.seed * 0x9E3779B97F4A7C15ull + 1;

  /* 1. The text and its vocabulary: every distinct byte gets an id. */
  long size = 0;
  unsigned char *text = read_text(opt.path, &size);
  if (text == NULL)
    return 1;
  if (size < 4 * (opt.seq_len + 1)) {
    fprintf(stderr, "char_lm: %s is too short (%ld bytes) for --seq-len %ld\n",
            opt.path, size, opt.seq_len);
    return 1;
  }
  int id_of[256], vocab = 0;
  unsigned char char_of[256];
  for (int c = 0; c < 256; c++)
    id_of[c] = -1;
  for (long i = 0; i < size; i++)
    if (id_of[text[i]] < 0) {
      char_of[vocab] = text[i];
      id_of[text[i]] = vocab++;
    }
  int32_t *ids = malloc(sizeof(int32_t) * (size_t)size);
  if (ids == NULL)
    return 1;
  for (long i = 0; i < size; i++)
    ids[i] = id_of[text[i]];
  /* The last tenth of the text is held out to measure generalisation. */
  long split = size - size / 10;
  printf("seqrnn %s, BLAS: %s\n", seqrnn_version_string(), seqrnn_blas_info());
  printf("corpus: %s, %ld characters, vocabulary %d\n", opt.path, size, vocab);

  /* 2. A 2-layer LSTM over token ids: embedding -> LSTM -> dense head with
   *    one logit per character, at every step, trained with cross-entropy. */
  seqrnn_model_params mp = seqrnn_model_default_params();
  mp.cell = SEQRNN_CELL_LSTM;
  mp.vocab_size = vocab;
  mp.input_size = 0; /* embedding width = hidden size */
  mp.hidden_size = opt.hidden;
  mp.num_layers = opt.layers;
  mp.output_size = vocab;
  mp.output_mode = SEQRNN_OUTPUT_SEQUENCE;
  mp.loss = SEQRNN_LOSS_CROSS_ENTROPY;
  mp.seed = opt.seed;
  seqrnn_model *model = NULL;
  check(seqrnn_model_create(&mp, &model), "seqrnn_model_create");

  seqrnn_train_params tp = seqrnn_train_default_params();
  tp.optimizer = SEQRNN_OPTIMIZER_ADAM;
  tp.learning_rate = (float)opt.lr;
  tp.clip_norm = 5.0f; /* as char-rnn: keeps early steps stable */
  seqrnn_trainer *trainer = NULL;
  check(seqrnn_trainer_create(model, &tp, &trainer), "seqrnn_trainer_create");

  /* 3. Training on random windows. */
  const long B = opt.batch, L = opt.seq_len;
  int32_t *tokens = malloc(sizeof(int32_t) * (size_t)(B * L));
  int32_t *targets = malloc(sizeof(int32_t) * (size_t)(B * L));
  if (tokens == NULL || targets == NULL)
    return 1;
  seqrnn_batch batch = seqrnn_batch_init(B, L);
  batch.tokens = tokens;
  batch.target_classes = targets;
  printf("training: %ld steps of %ld windows x %ld characters, LSTM %ld x "
         "%ld\n",
         opt.steps, B, L, opt.layers, opt.hidden);
  /* A progress line every tenth of the steps, and at least every 10 s. */
  const long log_every = opt.steps >= 20 ? opt.steps / 10 : 1;
  double start = now_seconds(), interval_start = start, loss_sum = 0;
  long interval_steps = 0, done = 0;
  for (long step = 1; step <= opt.steps; step++) {
    fill_windows(ids, 0, split, B, L, tokens, targets);
    float loss = 0;
    check(seqrnn_trainer_step(trainer, &batch, &loss), "seqrnn_trainer_step");
    loss_sum += loss;
    interval_steps++;
    done = step;
    double now = now_seconds();
    int out_of_time = opt.seconds > 0 && now - start >= opt.seconds;
    if (step % log_every == 0 || step == opt.steps || out_of_time ||
        now - interval_start >= 10.0) {
      printf("step %5ld  loss %.3f  %8.0f chars/s\n", step,
             loss_sum / (double)interval_steps,
             (double)(interval_steps * B * L) / (now - interval_start));
      fflush(stdout);
      loss_sum = 0;
      interval_steps = 0;
      interval_start = now;
    }
    if (out_of_time) {
      printf("stopping: --seconds %g reached\n", opt.seconds);
      break;
    }
  }
  if (opt.steps > 0)
    printf("trained %ld steps in %.1f s\n", done, now_seconds() - start);

  /* 4. Loss on held-out text (bits per character is loss / ln 2). */
  if (size - split > L + 1) {
    fill_windows(ids, split, size, B, L, tokens, targets);
    seqrnn_evaluation ev;
    check(seqrnn_model_evaluate(model, &batch, &ev), "seqrnn_model_evaluate");
    printf("held-out loss %.3f (%.2f bits/char), accuracy %.1f%%\n", ev.loss,
           ev.loss / log(2.0), 100.0 * ev.accuracy);
  }

  if (opt.save_path != NULL) {
    check(seqrnn_model_save(model, opt.save_path), "seqrnn_model_save");
    printf("saved the model to %s\n", opt.save_path);
  }

  /* 5. Sampling: a streaming state advances one character per call; its
   *    logits give the distribution of the next character. */
  if (opt.sample > 0) {
    seqrnn_state *state = NULL;
    check(seqrnn_state_create(model, 1, &state), "seqrnn_state_create");
    float *logits = malloc(sizeof(float) * (size_t)vocab);
    double *probs = malloc(sizeof(double) * (size_t)vocab);
    if (logits == NULL || probs == NULL)
      return 1;
    /* Prime the state with the start of a random held-out line. */
    long at = split + (long)(rng_uniform() * (double)(size - split - 1));
    while (at > 0 && text[at - 1] != '\n')
      at--;
    int32_t current = ids[at];
    printf("\n--- sample (temperature %.2f) ---\n%c", opt.temperature,
           char_of[current]);
    for (long i = 1; i < opt.sample; i++) {
      check(seqrnn_state_step(state, NULL, &current, logits, vocab),
            "seqrnn_state_step");
      current = sample_from(logits, vocab, opt.temperature, probs);
      putchar(char_of[current]);
    }
    printf("\n--- end of sample ---\n");
    free(logits);
    free(probs);
    seqrnn_state_free(state);
  }

  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
  free(tokens);
  free(targets);
  free(ids);
  free(text);
  return 0;
}
