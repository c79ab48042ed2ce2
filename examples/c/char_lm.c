/*
 * char_lm.c - a character-level language model in plain C99 on libseqrnn.
 *
 * Reads a text file, builds the vocabulary of the bytes it contains, trains
 * a 2-layer LSTM to predict the next character on random windows of the
 * text (printing step, loss and characters per second), reports the loss on
 * held-out text, and then prints text sampled with seqrnn_model_generate
 * (temperature, top-k and top-p), primed with the start of a held-out line
 * or with --prime.
 *
 * Build (after installing seqrnn):
 *   cc -std=c99 -O2 char_lm.c $(pkg-config --cflags --libs seqrnn) -lm
 * Run:
 *   ./char_lm [options] [FILE]        (FILE defaults to DEFAULT_CORPUS;
 *                                     --data FILE says the same)
 * Options:
 *   --steps N        training steps (default 300)
 *   --seconds X      stop training after X seconds even if steps remain
 *                    (default 0: no time limit)
 *   --hidden N       LSTM units per layer (default 128)
 *   --layers N       stacked LSTM layers (default 2)
 *   --seq-len N      characters per training window (default 64)
 *   --batch N        windows per step (default 32)
 *   --lr X           Adam learning rate (default 0.003)
 *   --temperature X  sampling temperature; lower is more conservative,
 *                    0 is greedy (default 0.7)
 *   --top-k N        sample among the N most likely characters (default 0:
 *                    all)
 *   --top-p X        sample among the most likely characters that make up
 *                    probability X (nucleus sampling; default 1: all)
 *   --prime TEXT     text to continue (default: the start of a held-out
 *                    line); characters not in the corpus are skipped
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
  const char *prime;
  long steps, hidden, layers, seq_len, batch, sample, top_k;
  double lr, temperature, seconds, top_p;
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
  o->prime = NULL;
  o->top_k = 0;
  o->top_p = 1.0;
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
    else if (strcmp(a, "--top-k") == 0)
      target = &o->top_k;
    if (target != NULL || strcmp(a, "--lr") == 0 ||
        strcmp(a, "--temperature") == 0 || strcmp(a, "--seed") == 0 ||
        strcmp(a, "--seconds") == 0 || strcmp(a, "--save") == 0 ||
        strcmp(a, "--top-p") == 0 || strcmp(a, "--prime") == 0 ||
        strcmp(a, "--data") == 0) {
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
      else if (strcmp(a, "--top-p") == 0)
        o->top_p = strtod(v, NULL);
      else if (strcmp(a, "--prime") == 0)
        o->prime = v;
      else if (strcmp(a, "--data") == 0)
        o->path = v;
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
      o->batch <= 0 || o->sample < 0 || !(o->lr > 0) ||
      !(o->temperature >= 0) || o->top_k < 0 ||
      !(o->top_p > 0 && o->top_p <= 1)) {
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

int main(int argc, char **argv) {
  options opt;
  int parsed = parse_options(argc, argv, &opt);
  if (parsed <= 0) { /* -1: --help, 0: a bad option */
    fprintf(parsed < 0 ? stdout : stderr,
            "usage: char_lm [--steps N] [--seconds X] [--hidden N] "
            "[--layers N] [--seq-len N]\n"
            "               [--batch N] [--lr X] [--temperature X] "
            "[--top-k N] [--top-p X]\n"
            "               [--sample N] [--prime TEXT] [--seed N] "
            "[--save PATH] [[--data] FILE]\n"
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

  /* 5. Sampling: seqrnn_model_generate runs the prime through the model,
   *    then draws each next character (temperature, top-k, top-p) and feeds
   *    it back. The prime is --prime, or the start of a random held-out
   *    line. */
  if (opt.sample > 0) {
    long prime_capacity = opt.prime != NULL ? (long)strlen(opt.prime) : 40;
    int32_t *prime = malloc(sizeof(int32_t) * (size_t)(prime_capacity + 1));
    int32_t *sampled = malloc(sizeof(int32_t) * (size_t)opt.sample);
    if (prime == NULL || sampled == NULL)
      return 1;
    int64_t prime_len = 0;
    if (opt.prime != NULL) {
      for (const char *c = opt.prime; *c != '\0'; c++)
        if (id_of[(unsigned char)*c] >= 0)
          prime[prime_len++] = id_of[(unsigned char)*c];
    } else {
      long at = split + (long)(rng_uniform() * (double)(size - split - 1));
      while (at > 0 && text[at - 1] != '\n')
        at--;
      while (prime_len < prime_capacity && at + prime_len < size &&
             text[at + prime_len] != '\n')
        prime[prime_len] = ids[at + prime_len], prime_len++;
    }
    if (prime_len == 0) /* an empty line or prime: start from a newline */
      prime[prime_len++] =
          id_of['\n'] >= 0 ? id_of['\n'] : ids[split]; /* any character */
    seqrnn_sample_params sp = seqrnn_sample_default_params();
    sp.temperature = (float)opt.temperature;
    sp.top_k = opt.top_k;
    sp.top_p = (float)opt.top_p;
    sp.seed = opt.seed;
    check(seqrnn_model_generate(model, prime, &prime_len, 1, prime_len,
                                opt.sample, &sp, sampled, opt.sample),
          "seqrnn_model_generate");
    printf("\n--- sample (temperature %.2f, top-k %ld, top-p %.2f) ---\n",
           opt.temperature, opt.top_k, opt.top_p);
    for (int64_t i = 0; i < prime_len; i++)
      putchar(char_of[prime[i]]);
    for (long i = 0; i < opt.sample; i++)
      putchar(char_of[sampled[i]]);
    printf("\n--- end of sample ---\n");
    free(prime);
    free(sampled);
  }

  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
  free(tokens);
  free(targets);
  free(ids);
  free(text);
  return 0;
}
