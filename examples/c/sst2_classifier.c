/*
 * sst2_classifier.c - sentence sentiment (SST-2) in plain C99 on libseqrnn.
 *
 * Reads DIR/train.txt, dev.txt and test.txt ("label text" per line, label 0
 * or 1), splits sentences on whitespace and lower-cases them
 * (seqrnn_tokenize's WHITESPACE rule), builds the vocabulary of the training
 * sentences with seqrnn_vocabulary_build (words seen fewer than --min-freq
 * times become <unk>; ids by frequency, then alphabetically; 0 is <pad>, 1
 * <unk>), and trains a bidirectional LSTM classifier (output LAST: one
 * prediction per sentence) with embeddings learned from scratch. Batches hold
 * sentences of similar lengths (seqrnn_bucket_batches: shuffled chunks sorted
 * by length), padded by seqrnn_pad_batch; every training word is hidden as
 * <unk> with probability --word-dropout, and early stopping keeps the weights
 * of the epoch with the best dev accuracy. --models such classifiers (seeds
 * seed, seed + 1, ...) vote by averaging their class probabilities, as the
 * Python example does; the test accuracy and macro F1 of each model and of
 * the ensemble come from seqrnn_metrics. --save-vocab PATH writes the
 * vocabulary as JSON (seqrnn.text.Vocabulary.load in Python reads it).
 *
 * Build (after installing seqrnn):
 *   cc -std=c99 -O2 sst2_classifier.c $(pkg-config --cflags --libs seqrnn)
 * Run:
 *   ./sst2_classifier [options] [DIR]
 * DIR must hold the three files (SST-2 as distributed with the project's
 * data sets, ../shared/data/sst2 beside the checkout); without them it
 * stops with a message.
 * Options:
 *   --quick          a small run (a fifth of the training data, 4 epochs,
 *                    one model)
 *   --epochs N       at most N epochs (default 15)
 *   --patience N     stop after N epochs without a better dev accuracy (4)
 *   --hidden N       LSTM units per direction (default 64)
 *   --embed N        embedding width (default 64)
 *   --batch N        sentences per step (default 32)
 *   --lr X           Adam learning rate (default 0.002)
 *   --min-freq N     keep words seen at least N times in train (default 2)
 *   --word-dropout X probability of hiding a training word (default 0.2)
 *   --threads N      compute threads (default 1)
 *   --seed N         seed of weights, dropout and batches (default 0)
 *   --models N       classifiers in the ensemble (default 3)
 *   --save-vocab P   write the vocabulary to the JSON file P
 * The last line is "RESULT test_accuracy=... macro_f1=... seconds=...".
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, strdup */
#endif

#include <seqrnn.h>

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAD_ID 0
#define UNK_ID 1
#define EVAL_BATCH 256

typedef struct options {
  const char *dir, *save_vocab;
  long epochs, patience, hidden, embed, batch, min_freq, threads, quick, models;
  double lr, word_dropout;
  unsigned long long seed;
} options;

/* One split: sentences as id arrays (ids[i] has lengths[i] entries). */
typedef struct split {
  long count;
  int32_t **ids;
  int64_t *lengths;
  int32_t *labels;
  char **texts; /* the raw sentences, until they are encoded */
} split;

/* ---- small utilities ---------------------------------------------------- */

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_state; /* xorshift64* */
static uint64_t rng_next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}
static double rng_uniform(void) {
  return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

static void check(seqrnn_status status, const char *what) {
  if (status != SEQRNN_OK) {
    fprintf(stderr, "sst2_classifier: %s failed: %s (%s)\n", what,
            seqrnn_status_string(status), seqrnn_last_error());
    exit(1);
  }
}

static void *xmalloc(size_t size) {
  void *p = malloc(size ? size : 1);
  if (p == NULL) {
    fprintf(stderr, "sst2_classifier: out of memory\n");
    exit(1);
  }
  return p;
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xmalloc(n), s, n);
}

/* ---- data -----------------------------------------------------------------
 */

/* Adds one "label text" line to s; returns 0 for a malformed line. */
static int add_line(split *s, const char *line, long *capacity) {
  while (*line == ' ' || *line == '\t')
    line++;
  if (*line == '\0' || *line == '\n' || *line == '\r')
    return 1; /* blank lines are skipped */
  if ((line[0] != '0' && line[0] != '1') || !isspace((unsigned char)line[1]))
    return 0;
  if (s->count == *capacity) {
    *capacity = *capacity ? 2 * *capacity : 1024;
    char **texts = realloc(s->texts, sizeof(char *) * (size_t)*capacity);
    int32_t *labels = realloc(s->labels, sizeof(int32_t) * (size_t)*capacity);
    if (texts == NULL || labels == NULL) {
      fprintf(stderr, "sst2_classifier: out of memory\n");
      exit(1);
    }
    s->texts = texts;
    s->labels = labels;
  }
  s->labels[s->count] = line[0] - '0';
  s->texts[s->count] = xstrdup(line + 2);
  s->count++;
  return 1;
}

/* Reads DIR/name.txt into s; returns 0 when the file cannot be opened. */
static int read_split(const char *dir, const char *name, split *s) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.txt", dir, name);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return 0;
  char line[1 << 14];
  long capacity = 0, number = 0;
  memset(s, 0, sizeof *s);
  while (fgets(line, sizeof line, f) != NULL) {
    number++;
    if (!add_line(s, line, &capacity)) {
      fprintf(stderr,
              "sst2_classifier: %s:%ld: expected '0 text' or '1 text'\n", path,
              number);
      exit(1);
    }
  }
  fclose(f);
  return 1;
}

/* ---- vocabulary and ids (the library's text tools) -------------------- */

/* Whitespace tokens, lower-cased. */
static seqrnn_tokenizer_params whitespace_tokens(void) {
  seqrnn_tokenizer_params p = seqrnn_tokenizer_default_params();
  p.rule = SEQRNN_TOKENS_WHITESPACE;
  p.lower = 1;
  return p;
}

/* Encodes s's sentences with v's ids (unknown -> <unk>; an empty sentence
 * becomes a single <unk>, since a sequence needs at least one step). */
static void encode_split(split *s, const seqrnn_vocabulary *v) {
  s->ids = xmalloc(sizeof(int32_t *) * (size_t)s->count);
  s->lengths = xmalloc(sizeof(int64_t) * (size_t)s->count);
  for (long i = 0; i < s->count; i++) {
    int64_t n = 0;
    check(seqrnn_vocabulary_encode(v, s->texts[i], -1, NULL, 0, &n),
          "seqrnn_vocabulary_encode");
    s->ids[i] = xmalloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1));
    s->ids[i][0] = UNK_ID;
    if (n > 0)
      check(seqrnn_vocabulary_encode(v, s->texts[i], -1, s->ids[i], n, &n),
            "seqrnn_vocabulary_encode");
    s->lengths[i] = n > 0 ? n : 1;
  }
}

/* ---- batches ----------------------------------------------------------------
 */

/* Fills a batch of the sentences members[0..n) of s: ids padded to the
 * longest (seqrnn_pad_batch), optional word dropout, labels. Returns the
 * padded length. */
static long fill_batch(const split *s, const long *members, long n,
                       double word_dropout, int32_t *tokens, int64_t capacity,
                       int64_t *lengths, int32_t *labels) {
  const int32_t **rows = xmalloc(sizeof(int32_t *) * (size_t)n);
  int64_t *row_lengths = xmalloc(sizeof(int64_t) * (size_t)n);
  for (long b = 0; b < n; b++) {
    rows[b] = s->ids[members[b]];
    row_lengths[b] = s->lengths[members[b]];
    labels[b] = s->labels[members[b]];
  }
  int64_t T = 0;
  check(seqrnn_pad_batch(rows, row_lengths, n, 0, PAD_ID, tokens, capacity,
                         lengths, &T),
        "seqrnn_pad_batch");
  free(rows);
  free(row_lengths);
  if (word_dropout > 0)
    for (long b = 0; b < n; b++)
      for (int64_t t = 0; t < lengths[b]; t++)
        if (rng_uniform() < word_dropout)
          tokens[b * T + t] = UNK_ID;
  return (long)T;
}

/* Adds the model's predictions on all of s to metrics (after a reset). */
static void measure(seqrnn_metrics *metrics, const seqrnn_model *model,
                    const split *s, int32_t *tokens, int64_t capacity,
                    int64_t *lengths, int32_t *labels) {
  long members[EVAL_BATCH];
  check(seqrnn_metrics_reset(metrics), "seqrnn_metrics_reset");
  for (long start = 0; start < s->count; start += EVAL_BATCH) {
    long n = s->count - start < EVAL_BATCH ? s->count - start : EVAL_BATCH;
    for (long b = 0; b < n; b++)
      members[b] = start + b;
    long T = fill_batch(s, members, n, 0.0, tokens, capacity, lengths, labels);
    seqrnn_batch batch = seqrnn_batch_init(n, T);
    batch.tokens = tokens;
    batch.lengths = lengths;
    batch.target_classes = labels;
    check(seqrnn_metrics_update(metrics, model, &batch),
          "seqrnn_metrics_update");
  }
}

/* Adds each sentence's class probabilities (softmax of the logits) to
 * sums[i * 2 + c]: the ensemble averages them. */
static void add_probabilities(const seqrnn_model *model, const split *s,
                              double *sums, int32_t *tokens, int64_t capacity,
                              int64_t *lengths, int32_t *labels) {
  long members[EVAL_BATCH];
  float logits[EVAL_BATCH * 2];
  for (long start = 0; start < s->count; start += EVAL_BATCH) {
    long n = s->count - start < EVAL_BATCH ? s->count - start : EVAL_BATCH;
    for (long b = 0; b < n; b++)
      members[b] = start + b;
    long T = fill_batch(s, members, n, 0.0, tokens, capacity, lengths, labels);
    seqrnn_batch batch = seqrnn_batch_init(n, T);
    batch.tokens = tokens;
    batch.lengths = lengths;
    check(
        seqrnn_model_forward(model, &batch, logits, n * 2, NULL, NULL, 0, NULL),
        "seqrnn_model_forward");
    for (long b = 0; b < n; b++) {
      double top =
          logits[2 * b] > logits[2 * b + 1] ? logits[2 * b] : logits[2 * b + 1];
      double e0 = exp(logits[2 * b] - top), e1 = exp(logits[2 * b + 1] - top);
      sums[(start + b) * 2] += e0 / (e0 + e1);
      sums[(start + b) * 2 + 1] += e1 / (e0 + e1);
    }
  }
}

/* Scratch of one run: padded batches and orders. */
typedef struct buffers {
  int32_t *tokens, *labels;
  int64_t *lengths, *order, capacity;
  long *members;
} buffers;

/* Trains one bidirectional LSTM (seed `seed`) on train with early stopping
 * on dev accuracy; returns it with its best epoch's weights. */
static seqrnn_model *train_one(const options *opt, unsigned long long seed,
                               int64_t vocab_size, const split *train,
                               const split *dev, buffers *buf) {
  rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
  seqrnn_model_params mp = seqrnn_model_default_params();
  mp.cell = SEQRNN_CELL_LSTM;
  mp.vocab_size = vocab_size;
  mp.input_size = opt->embed;
  mp.hidden_size = opt->hidden;
  mp.bidirectional = 1;
  mp.output_size = 2;
  mp.output_mode = SEQRNN_OUTPUT_LAST;
  mp.loss = SEQRNN_LOSS_CROSS_ENTROPY;
  mp.recurrent_dropout = 0.25f;
  mp.head_dropout = 0.5f;
  mp.seed = seed;
  seqrnn_model *model = NULL;
  check(seqrnn_model_create(&mp, &model), "seqrnn_model_create");
  seqrnn_train_params tp = seqrnn_train_default_params();
  tp.learning_rate = (float)opt->lr;
  tp.clip_norm = 5.0f;
  tp.seed = seed;
  seqrnn_trainer *trainer = NULL;
  check(seqrnn_trainer_create(model, &tp, &trainer), "seqrnn_trainer_create");
  seqrnn_metrics *metrics = NULL;
  check(seqrnn_metrics_create(2, &metrics), "seqrnn_metrics_create");
  seqrnn_early_stopping *stop = NULL;
  check(seqrnn_early_stopping_create(1, opt->patience, 0.0, &stop),
        "seqrnn_early_stopping_create");
  long n_batches = (train->count + opt->batch - 1) / opt->batch;

  /* Epochs of length-bucketed batches; dev accuracy after each. */
  for (long epoch = 0; epoch < opt->epochs; epoch++) {
    double start = now_seconds(), loss_sum = 0;
    /* Shuffled chunks of 20 batches sorted by length, batches shuffled, a
     * new order each epoch. */
    check(seqrnn_bucket_batches(train->lengths, train->count, opt->batch, 1,
                                seed, (uint64_t)epoch, 20, buf->order),
          "seqrnn_bucket_batches");
    for (long k = 0; k < n_batches; k++) {
      long first = k * opt->batch;
      long n =
          train->count - first < opt->batch ? train->count - first : opt->batch;
      for (long b = 0; b < n; b++)
        buf->members[b] = (long)buf->order[first + b];
      long T =
          fill_batch(train, buf->members, n, opt->word_dropout, buf->tokens,
                     buf->capacity, buf->lengths, buf->labels);
      seqrnn_batch batch = seqrnn_batch_init(n, T);
      batch.tokens = buf->tokens;
      batch.lengths = buf->lengths;
      batch.target_classes = buf->labels;
      float loss = 0;
      check(seqrnn_trainer_step(trainer, &batch, &loss), "seqrnn_trainer_step");
      loss_sum += loss;
    }
    measure(metrics, model, dev, buf->tokens, buf->capacity, buf->lengths,
            buf->labels);
    seqrnn_metrics_summary s;
    check(seqrnn_metrics_get_summary(metrics, &s),
          "seqrnn_metrics_get_summary");
    int32_t halt = 0;
    check(seqrnn_early_stopping_update(stop, model, s.accuracy, &halt),
          "seqrnn_early_stopping_update");
    printf("epoch %2ld  loss %.3f  dev accuracy %.4f  (%.1f s)\n", epoch + 1,
           loss_sum / (double)n_batches, s.accuracy, now_seconds() - start);
    fflush(stdout);
    if (halt)
      break;
  }
  /* The best epoch's weights. */
  check(seqrnn_early_stopping_restore(stop, model),
        "seqrnn_early_stopping_restore");
  double best = 0;
  int64_t best_epoch = 0;
  check(seqrnn_early_stopping_best(stop, &best, &best_epoch),
        "seqrnn_early_stopping_best");
  printf("model seed %llu: best dev accuracy %.4f (epoch %lld)\n", seed, best,
         (long long)best_epoch + 1);
  seqrnn_early_stopping_free(stop);
  seqrnn_metrics_free(metrics);
  seqrnn_trainer_free(trainer);
  return model;
}

/* ---- options
 * ------------------------------------------------------------------ */

static int parse_options(int argc, char **argv, options *o) {
  o->dir = NULL;
  o->save_vocab = NULL;
  o->epochs = 15;
  o->patience = 4;
  o->hidden = 64;
  o->embed = 64;
  o->batch = 32;
  o->min_freq = 2;
  o->threads = 1;
  o->quick = 0;
  o->lr = 0.002;
  o->word_dropout = 0.2;
  o->seed = 0;
  o->models = 3;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    long *target = NULL;
    double *real = NULL;
    if (strcmp(a, "--quick") == 0) {
      o->quick = 1;
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
      return -1;
    if (strcmp(a, "--epochs") == 0)
      target = &o->epochs;
    else if (strcmp(a, "--patience") == 0)
      target = &o->patience;
    else if (strcmp(a, "--hidden") == 0)
      target = &o->hidden;
    else if (strcmp(a, "--embed") == 0)
      target = &o->embed;
    else if (strcmp(a, "--batch") == 0)
      target = &o->batch;
    else if (strcmp(a, "--min-freq") == 0)
      target = &o->min_freq;
    else if (strcmp(a, "--threads") == 0)
      target = &o->threads;
    else if (strcmp(a, "--models") == 0)
      target = &o->models;
    else if (strcmp(a, "--lr") == 0)
      real = &o->lr;
    else if (strcmp(a, "--word-dropout") == 0)
      real = &o->word_dropout;
    if (strcmp(a, "--save-vocab") == 0) {
      if (v == NULL) {
        fprintf(stderr, "sst2_classifier: %s needs a value\n", a);
        return 0;
      }
      o->save_vocab = v;
      i++;
      continue;
    }
    if (target != NULL || real != NULL || strcmp(a, "--seed") == 0) {
      if (v == NULL) {
        fprintf(stderr, "sst2_classifier: %s needs a value\n", a);
        return 0;
      }
      i++;
      if (target != NULL)
        *target = strtol(v, NULL, 10);
      else if (real != NULL)
        *real = strtod(v, NULL);
      else
        o->seed = strtoull(v, NULL, 10);
    } else if (a[0] == '-') {
      fprintf(stderr, "sst2_classifier: unknown option %s\n", a);
      return 0;
    } else {
      o->dir = a;
    }
  }
  if (o->epochs < 1 || o->patience < 1 || o->hidden < 1 || o->embed < 1 ||
      o->batch < 1 || o->min_freq < 1 || o->threads < 1 || o->models < 1 ||
      !(o->lr > 0) || !(o->word_dropout >= 0 && o->word_dropout < 1)) {
    fprintf(stderr, "sst2_classifier: invalid option value\n");
    return 0;
  }
  return 1;
}

/* ---- main
 * --------------------------------------------------------------------- */

int main(int argc, char **argv) {
  options opt;
  int parsed = parse_options(argc, argv, &opt);
  if (parsed <= 0) {
    fprintf(parsed < 0 ? stdout : stderr,
            "usage: sst2_classifier [--quick] [--epochs N] [--patience N] "
            "[--hidden N] [--embed N]\n"
            "       [--batch N] [--lr X] [--min-freq N] [--word-dropout X] "
            "[--threads N] [--seed N]\n"
            "       [--models N] [--save-vocab PATH] [DIR]\n");
    return parsed < 0 ? 0 : 2;
  }
  rng_state = opt.seed * 0x9E3779B97F4A7C15ull + 1;
  check(seqrnn_set_num_threads((int32_t)opt.threads), "seqrnn_set_num_threads");
  double began = now_seconds();

  /* 1. The three splits (SST-2 is read where it lives, never copied). */
  split train, dev, test;
  if (opt.dir == NULL || !read_split(opt.dir, "train", &train) ||
      !read_split(opt.dir, "dev", &dev) ||
      !read_split(opt.dir, "test", &test)) {
    fprintf(stderr,
            "sst2_classifier: %s/{train,dev,test}.txt not found; give the "
            "SST-2 directory (e.g. ../shared/data/sst2 beside the checkout)\n",
            opt.dir ? opt.dir : "(no DIR)");
    return 1;
  }
  if (opt.quick) { /* a fifth of the training sentences, fewer epochs */
    if (train.count > 1000) {
      for (long i = train.count / 5; i < train.count; i++)
        free(train.texts[i]);
      train.count /= 5;
    }
    opt.epochs = 4;
    opt.hidden = 32;
    opt.models = 1;
  }

  /* 2. Vocabulary from the training sentences only, then ids. */
  seqrnn_tokenizer_params tokens_rule = whitespace_tokens();
  seqrnn_vocabulary *vocab = NULL;
  check(seqrnn_vocabulary_build((const char *const *)train.texts, NULL,
                                train.count, opt.min_freq, 0, &tokens_rule,
                                &vocab),
        "seqrnn_vocabulary_build");
  int64_t vocab_size = 0;
  check(seqrnn_vocabulary_size(vocab, &vocab_size), "seqrnn_vocabulary_size");
  if (opt.save_vocab != NULL)
    check(seqrnn_vocabulary_save(vocab, opt.save_vocab),
          "seqrnn_vocabulary_save");
  encode_split(&train, vocab);
  encode_split(&dev, vocab);
  encode_split(&test, vocab);
  printf("seqrnn %s; train %ld, dev %ld, test %ld sentences; vocabulary %lld "
         "ids (min_freq %ld)\n",
         seqrnn_version_string(), train.count, dev.count, test.count,
         (long long)vocab_size, opt.min_freq);

  /* 3. Buffers for the longest sentence of any split. */
  long max_len = 1;
  split *all[3] = {&train, &dev, &test};
  for (int k = 0; k < 3; k++)
    for (long i = 0; i < all[k]->count; i++)
      if (all[k]->lengths[i] > max_len)
        max_len = (long)all[k]->lengths[i];
  const long rows = opt.batch > EVAL_BATCH ? opt.batch : EVAL_BATCH;
  buffers buf;
  buf.capacity = (int64_t)rows * max_len;
  buf.tokens = xmalloc(sizeof(int32_t) * (size_t)buf.capacity);
  buf.lengths = xmalloc(sizeof(int64_t) * (size_t)rows);
  buf.labels = xmalloc(sizeof(int32_t) * (size_t)rows);
  buf.order = xmalloc(sizeof(int64_t) * (size_t)train.count);
  buf.members = xmalloc(sizeof(long) * (size_t)rows);

  /* 4. --models bidirectional LSTMs (seeds seed, seed + 1, ...), each with
   *    its best epoch's weights; the test prediction averages their class
   *    probabilities, as the Python example does. */
  double *sums = calloc((size_t)test.count * 2, sizeof(double));
  int32_t *predicted = xmalloc(sizeof(int32_t) * (size_t)test.count);
  seqrnn_metrics *metrics = NULL;
  check(seqrnn_metrics_create(2, &metrics), "seqrnn_metrics_create");
  for (long m = 0; m < opt.models; m++) {
    seqrnn_model *model = train_one(&opt, opt.seed + (unsigned long long)m,
                                    vocab_size, &train, &dev, &buf);
    measure(metrics, model, &test, buf.tokens, buf.capacity, buf.lengths,
            buf.labels);
    seqrnn_metrics_summary single;
    check(seqrnn_metrics_get_summary(metrics, &single),
          "seqrnn_metrics_get_summary");
    printf("model seed %llu: test accuracy %.4f\n",
           opt.seed + (unsigned long long)m, single.accuracy);
    add_probabilities(model, &test, sums, buf.tokens, buf.capacity, buf.lengths,
                      buf.labels);
    seqrnn_model_free(model);
  }

  /* 5. The ensemble on the test sentences. */
  for (long i = 0; i < test.count; i++)
    predicted[i] = sums[2 * i + 1] > sums[2 * i] ? 1 : 0;
  check(seqrnn_metrics_reset(metrics), "seqrnn_metrics_reset");
  check(seqrnn_metrics_add_predictions(metrics, predicted, test.labels,
                                       test.count),
        "seqrnn_metrics_add_predictions");
  seqrnn_metrics_summary s;
  check(seqrnn_metrics_get_summary(metrics, &s), "seqrnn_metrics_get_summary");
  double seconds = now_seconds() - began;
  printf("ensemble of %ld: test accuracy %.4f, macro F1 %.4f; %.0f s\n",
         opt.models, s.accuracy, s.macro_f1, seconds);
  printf("RESULT test_accuracy=%.4f macro_f1=%.4f seconds=%.1f\n", s.accuracy,
         s.macro_f1, seconds);

  seqrnn_metrics_free(metrics);
  free(sums);
  free(predicted);
  free(buf.tokens);
  free(buf.lengths);
  free(buf.labels);
  free(buf.order);
  free(buf.members);
  for (int k = 0; k < 3; k++) {
    for (long i = 0; i < all[k]->count; i++) {
      free(all[k]->ids[i]);
      free(all[k]->texts[i]);
    }
    free(all[k]->ids);
    free(all[k]->lengths);
    free(all[k]->labels);
    free(all[k]->texts);
  }
  seqrnn_vocabulary_free(vocab);
  return 0;
}
