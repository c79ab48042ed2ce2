/*
 * test_files.c - seqrnn_model_save / seqrnn_model_load: round trips for every
 * cell give identical weights and outputs; damaged files (missing, empty,
 * truncated at many lengths, random bytes, corrupted headers, a bumped
 * format version, wrong metadata, non-finite data) fail with a clear status
 * and never crash; saving to an unwritable path fails with SEQRNN_E_IO and
 * leaves an existing file intact.
 */
#include "test_util.h"

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void path_in_dir(char *out, size_t size, const char *name) {
  snprintf(out, size, "%s/%s", dir, name);
}

static unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *data = TU_NEW(unsigned char, n + 1);
  size_t got = fread(data, 1, (size_t)n, f);
  fclose(f);
  *size = got;
  return data;
}

static void write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(2);
  }
  if (size > 0 && fwrite(data, 1, size, f) != size) {
    fprintf(stderr, "short write to %s\n", path);
    exit(2);
  }
  fclose(f);
}

/* Number of directory entries other than . and .. */
static int entries_in_dir(void) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  if (d != NULL)
    closedir(d);
  return n;
}

static void remove_dir_contents(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[512];
  while (d != NULL && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (remove(path) != 0)
      rmdir(path);
  }
  if (d != NULL)
    closedir(d);
}

static seqrnn_model *make(int32_t cell, int64_t vocab, int bidir, int layers,
                          int32_t mode, int32_t loss) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = cell;
  p.vocab_size = vocab;
  p.input_size = 4;
  p.hidden_size = 6;
  p.num_layers = layers;
  p.bidirectional = bidir;
  p.output_size = 3;
  p.output_mode = mode;
  p.loss = loss;
  p.seed = 99 + (uint64_t)cell;
  return tu_make_model(&p);
}

/* Outputs of a fixed batch, for comparing two models. */
static void outputs_of(const seqrnn_model *model, float *out, int64_t cap) {
  seqrnn_model_params p;
  seqrnn_model_get_params(model, &p);
  enum { B = 2, T = 5 };
  float x[B * T * 4];
  int32_t ids[B * T];
  tu_rng rng = {5};
  tu_fill(&rng, x, B * T * 4, -1, 1);
  tu_fill_tokens(&rng, ids, B * T, p.vocab_size > 0 ? p.vocab_size : 1);
  const int64_t lengths[B] = {5, 3};
  seqrnn_batch batch = seqrnn_batch_init(B, T);
  batch.features = p.vocab_size > 0 ? NULL : x;
  batch.tokens = p.vocab_size > 0 ? ids : NULL;
  batch.lengths = lengths;
  memset(out, 0, sizeof(float) * (size_t)cap);
  EXPECT_OK(seqrnn_model_forward(model, &batch, out, cap, NULL, NULL, 0, NULL));
}

static void test_round_trip(void) {
  char path[512];
  for (int c = 0; c < 4; c++) {
    for (int variant = 0; variant < 3; variant++) {
      seqrnn_model *model =
          make(tu_all_cells[c], variant == 1 ? 11 : 0, variant != 0,
               1 + variant % 2, variant == 2 ? SEQRNN_OUTPUT_LAST : 0,
               variant == 2 ? SEQRNN_LOSS_MSE : SEQRNN_LOSS_CROSS_ENTROPY);
      path_in_dir(path, sizeof path, "model.safetensors");
      if (!EXPECT_OK(seqrnn_model_save(model, path))) {
        seqrnn_model_free(model);
        continue;
      }
      seqrnn_model *loaded = (seqrnn_model *)&loaded;
      if (EXPECT_OK(seqrnn_model_load(path, &loaded)) && loaded != NULL) {
        seqrnn_model_params a, b;
        seqrnn_model_get_params(model, &a);
        seqrnn_model_get_params(loaded, &b);
        CHECK_MSG(memcmp(&a, &b, sizeof a) == 0 ||
                      (a.cell == b.cell && a.input_size == b.input_size &&
                       a.vocab_size == b.vocab_size &&
                       a.hidden_size == b.hidden_size &&
                       a.num_layers == b.num_layers &&
                       a.bidirectional == b.bidirectional &&
                       a.output_size == b.output_size &&
                       a.output_mode == b.output_mode && a.loss == b.loss &&
                       a.seed == b.seed),
                  "%s variant %d: loaded params differ", tu_cell_name(a.cell),
                  variant);
        CHECK_MSG(tu_same_weights(model, loaded),
                  "%s variant %d: loaded weights differ", tu_cell_name(a.cell),
                  variant);
        float o1[64], o2[64];
        outputs_of(model, o1, 64);
        outputs_of(loaded, o2, 64);
        CHECK_MSG(tu_same_floats(o1, o2, 64),
                  "%s variant %d: loaded model gives other outputs",
                  tu_cell_name(a.cell), variant);

        /* Saving is deterministic: the loaded model saves the same bytes. */
        char path2[512];
        path_in_dir(path2, sizeof path2, "again.safetensors");
        EXPECT_OK(seqrnn_model_save(loaded, path2));
        size_t n1 = 0, n2 = 0;
        unsigned char *f1 = read_file(path, &n1), *f2 = read_file(path2, &n2);
        CHECK_MSG(f1 && f2 && n1 == n2 && memcmp(f1, f2, n1) == 0,
                  "saving the loaded model gives different bytes");
        free(f1);
        free(f2);
        seqrnn_model_free(loaded);
      }
      seqrnn_model_free(model);
      remove_dir_contents();
    }
  }
}

/* Save over an existing file: replaced, and no temporary file left. */
static void test_save_replaces(void) {
  char path[512];
  path_in_dir(path, sizeof path, "replace.safetensors");
  write_file(path, "old contents", 12);
  seqrnn_model *model = make(SEQRNN_CELL_GRU, 0, 0, 1, 0, 0);
  EXPECT_OK(seqrnn_model_save(model, path));
  CHECK_MSG(entries_in_dir() == 1, "%d files in the folder after save",
            entries_in_dir());
  seqrnn_model *loaded = NULL;
  EXPECT_OK(seqrnn_model_load(path, &loaded));
  CHECK(loaded != NULL && tu_same_weights(model, loaded));
  seqrnn_model_free(loaded);
  seqrnn_model_free(model);
  remove_dir_contents();
}

/* Loads path and expects `expected`; on failure *out must be NULL. */
static int expect_load(seqrnn_status expected, const char *path,
                       const char *what) {
  seqrnn_model *model = (seqrnn_model *)&model;
  seqrnn_status status = seqrnn_model_load(path, &model);
  int ok = CHECK_MSG(status == expected, "%s: expected %s, got %s (%s)", what,
                     seqrnn_status_string(expected),
                     seqrnn_status_string(status), seqrnn_last_error());
  if (status != SEQRNN_OK) {
    CHECK_MSG(model == NULL, "%s: out_model not NULL after failure", what);
    CHECK_MSG(seqrnn_last_error()[0] != '\0', "%s: no message", what);
  } else {
    seqrnn_model_free(model);
  }
  return ok;
}

/* The safetensors header: [u64 little-endian n][n bytes of JSON][data]. */
static uint64_t header_len(const unsigned char *f) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--)
    n = n << 8 | f[i];
  return n;
}

/* Writes a copy of the file with its JSON header replaced. */
static void write_with_header(const char *path, const unsigned char *file,
                              size_t size, const char *json) {
  size_t old_n = (size_t)header_len(file);
  size_t n = strlen(json);
  size_t padded = (n + 7) / 8 * 8;
  size_t data = size - 8 - old_n;
  unsigned char *out = TU_NEW(unsigned char, 8 + padded + data);
  for (int i = 0; i < 8; i++)
    out[i] = (unsigned char)((uint64_t)padded >> (8 * i));
  memcpy(out + 8, json, n);
  memset(out + 8 + n, ' ', padded - n);
  memcpy(out + 8 + padded, file + 8 + old_n, data);
  write_file(path, out, 8 + padded + data);
  free(out);
}

/* The file's JSON header as a C string (caller frees). */
static char *header_json(const unsigned char *file, size_t size) {
  uint64_t n = header_len(file);
  if (size < 8 || n > size - 8)
    return NULL;
  char *json = TU_NEW(char, n + 1);
  memcpy(json, file + 8, (size_t)n);
  json[n] = '\0';
  return json;
}

/* Replaces the first run of digits after `key` (after the metadata) with
 * `digits`; returns a new string or NULL if key or digits are missing. */
static char *replace_number_after(const char *json, const char *key,
                                  const char *digits) {
  const char *meta = strstr(json, "__metadata__");
  const char *k = strstr(meta ? meta : json, key);
  if (k == NULL)
    return NULL;
  const char *p = k + strlen(key);
  int skipped = 0;
  while (*p && (*p < '0' || *p > '9') && skipped < 8)
    p++, skipped++;
  if (*p < '0' || *p > '9')
    return NULL;
  const char *end = p;
  while (*end >= '0' && *end <= '9')
    end++;
  size_t n = strlen(json) + strlen(digits) + 1;
  char *out = TU_NEW(char, n);
  memcpy(out, json, (size_t)(p - json));
  strcpy(out + (p - json), digits);
  strcat(out, end);
  return out;
}

static char *replace_text(const char *json, const char *from, const char *to) {
  const char *at = strstr(json, from);
  if (at == NULL)
    return NULL;
  char *out = TU_NEW(char, strlen(json) + strlen(to) + 1);
  memcpy(out, json, (size_t)(at - json));
  strcpy(out + (at - json), to);
  strcat(out, at + strlen(from));
  return out;
}

static void test_damaged_files(void) {
  char good[512], bad[512];
  path_in_dir(good, sizeof good, "good.safetensors");
  path_in_dir(bad, sizeof bad, "bad.safetensors");
  seqrnn_model *model = make(SEQRNN_CELL_LSTM, 0, 1, 2, 0, 0);
  if (!EXPECT_OK(seqrnn_model_save(model, good)))
    return;
  size_t size = 0;
  unsigned char *file = read_file(good, &size);
  CHECK(file != NULL && size > 8);
  if (file == NULL || size <= 8)
    return;
  expect_load(SEQRNN_OK, good, "the intact file");

  /* Missing file, a folder, an empty file. */
  char missing[512];
  path_in_dir(missing, sizeof missing, "no-such-file.safetensors");
  expect_load(SEQRNN_E_IO, missing, "missing file");
  expect_load(SEQRNN_E_IO, dir, "a folder");
  write_file(bad, "", 0);
  expect_load(SEQRNN_E_BAD_FORMAT, bad, "empty file");

  /* Truncated at many lengths, from 1 byte to one byte short. */
  uint64_t hn = header_len(file);
  size_t cuts[] = {1,
                   4,
                   7,
                   8,
                   9,
                   16,
                   (size_t)(8 + hn / 2),
                   (size_t)(8 + hn - 1),
                   (size_t)(8 + hn),
                   (size_t)(8 + hn + 1),
                   size - 4,
                   size - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    if (cuts[i] >= size)
      continue;
    write_file(bad, file, cuts[i]);
    char what[64];
    snprintf(what, sizeof what, "truncated to %zu of %zu bytes", cuts[i], size);
    expect_load(SEQRNN_E_BAD_FORMAT, bad, what);
  }
  for (size_t cut = 10; cut < size; cut += size / 40 + 1) {
    write_file(bad, file, cut);
    char what[64];
    snprintf(what, sizeof what, "truncated to %zu of %zu bytes", cut, size);
    expect_load(SEQRNN_E_BAD_FORMAT, bad, what);
  }

  /* Extra bytes after the data are not a valid file either. */
  unsigned char *longer = TU_NEW(unsigned char, size + 16);
  memcpy(longer, file, size);
  write_file(bad, longer, size + 16);
  expect_load(SEQRNN_E_BAD_FORMAT, bad, "16 bytes appended");
  free(longer);

  /* Random bytes of several sizes, and random bytes behind a plausible
   * header length, and absurd header lengths. */
  tu_rng rng = {2024};
  size_t sizes[] = {1, 8, 9, 100, 1000, 5000};
  unsigned char *noise = TU_NEW(unsigned char, 5000);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    for (size_t k = 0; k < sizes[i]; k++)
      noise[k] = (unsigned char)tu_next(&rng);
    write_file(bad, noise, sizes[i]);
    expect_load(SEQRNN_E_BAD_FORMAT, bad, "random bytes");
    if (sizes[i] > 16) {
      uint64_t n = sizes[i] - 8 - (sizes[i] / 3);
      for (int b = 0; b < 8; b++)
        noise[b] = (unsigned char)(n >> (8 * b));
      write_file(bad, noise, sizes[i]);
      expect_load(SEQRNN_E_BAD_FORMAT, bad, "random JSON bytes");
    }
  }
  memset(noise, 0xff, 8);
  write_file(bad, noise, 64);
  expect_load(SEQRNN_E_BAD_FORMAT, bad, "header length 2^64-1");
  memset(noise, 0, 8);
  noise[4] = 1; /* 2^32 bytes of header in a 64-byte file */
  write_file(bad, noise, 64);
  expect_load(SEQRNN_E_BAD_FORMAT, bad, "header length 2^32");
  free(noise);

  /* Another format altogether. */
  const char *text = "This is not a model, just some text in a file.\n";
  write_file(bad, text, strlen(text));
  expect_load(SEQRNN_E_BAD_FORMAT, bad, "a text file");

  /* A valid safetensors file without seqrnn's metadata. */
  const char *plain = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[0,8]}}";
  size_t pn = strlen(plain), ppad = (pn + 7) / 8 * 8;
  unsigned char *pf = TU_NEW(unsigned char, 8 + ppad + 8);
  for (int b = 0; b < 8; b++)
    pf[b] = (unsigned char)((uint64_t)ppad >> (8 * b));
  memcpy(pf + 8, plain, pn);
  memset(pf + 8 + pn, ' ', ppad - pn);
  write_file(bad, pf, 8 + ppad + 8);
  expect_load(SEQRNN_E_BAD_FORMAT, bad, "safetensors without metadata");
  free(pf);

  char *json = header_json(file, size);
  CHECK(json != NULL && strstr(json, "__metadata__") != NULL);
  if (json != NULL) {
    /* Rewriting the header unchanged gives a loadable file (so the
     * failures below come from the changes themselves). */
    write_with_header(bad, file, size, json);
    expect_load(SEQRNN_OK, bad, "header rewritten unchanged");

    /* The format version bumped to 999. */
    char *bumped = replace_number_after(json, "format_version", "999");
    if (bumped == NULL)
      bumped = replace_number_after(json, "format", "999");
    if (bumped == NULL)
      bumped = replace_number_after(json, "version", "999");
    CHECK_MSG(bumped != NULL, "no format version in the metadata: %s", json);
    if (bumped != NULL) {
      write_with_header(bad, file, size, bumped);
      expect_load(SEQRNN_E_UNSUPPORTED_VERSION, bad, "format version 999");
      free(bumped);
    }

    /* Wrong metadata: a hidden size that does not match the tensors. */
    char *hidden = replace_number_after(json, "hidden_size", "7");
    CHECK_MSG(hidden != NULL, "no hidden_size in the metadata: %s", json);
    if (hidden != NULL) {
      write_with_header(bad, file, size, hidden);
      expect_load(SEQRNN_E_BAD_FORMAT, bad, "hidden_size 6 -> 7");
      free(hidden);
    }
    /* An unknown cell name. */
    char *cell = replace_text(json, "lstm", "lxtm");
    if (cell != NULL) {
      write_with_header(bad, file, size, cell);
      expect_load(SEQRNN_E_BAD_FORMAT, bad, "cell 'lxtm'");
      free(cell);
    }
    /* A tensor renamed (so one is missing and one unknown). */
    char *renamed = replace_text(json, "\"head.bias\"", "\"head.bias2\"");
    CHECK(renamed != NULL);
    if (renamed != NULL) {
      write_with_header(bad, file, size, renamed);
      expect_load(SEQRNN_E_BAD_FORMAT, bad, "head.bias renamed");
      free(renamed);
    }
    /* Metadata key misspelt: no metadata. */
    char *nometa = replace_text(json, "__metadata__", "__metadatx__");
    if (nometa != NULL) {
      write_with_header(bad, file, size, nometa);
      expect_load(SEQRNN_E_BAD_FORMAT, bad, "no __metadata__");
      free(nometa);
    }
    /* Another dtype. */
    char *f64 = replace_text(json, "\"F32\"", "\"F64\"");
    CHECK(f64 != NULL);
    if (f64 != NULL) {
      write_with_header(bad, file, size, f64);
      expect_load(SEQRNN_E_BAD_FORMAT, bad, "dtype F64");
      free(f64);
    }
    free(json);
  }

  /* A NaN among the weights. */
  unsigned char *nan_file = TU_NEW(unsigned char, size);
  memcpy(nan_file, file, size);
  float nan_value = NAN;
  memcpy(nan_file + size - 4, &nan_value, 4);
  write_file(bad, nan_file, size);
  expect_load(SEQRNN_E_NON_FINITE, bad, "NaN weight");
  free(nan_file);

  /* Single-byte corruptions anywhere in the header: any status, no crash,
   * and a failure always comes with NULL and a message. */
  unsigned char *flipped = TU_NEW(unsigned char, size);
  for (size_t pos = 0; pos < 8 + hn && pos < size; pos += 3) {
    memcpy(flipped, file, size);
    flipped[pos] ^= (unsigned char)(1u << (pos % 8));
    write_file(bad, flipped, size);
    seqrnn_model *m = (seqrnn_model *)&m;
    seqrnn_status status = seqrnn_model_load(bad, &m);
    if (status == SEQRNN_OK) {
      CHECK(m != NULL);
      seqrnn_model_free(m);
    } else {
      CHECK_MSG(m == NULL && seqrnn_last_error()[0] != '\0',
                "byte %zu flipped: failure without NULL and message", pos);
      CHECK_MSG(status == SEQRNN_E_BAD_FORMAT ||
                    status == SEQRNN_E_UNSUPPORTED_VERSION ||
                    status == SEQRNN_E_NON_FINITE ||
                    status == SEQRNN_E_OUT_OF_MEMORY,
                "byte %zu flipped: unexpected status %s", pos,
                seqrnn_status_string(status));
    }
  }
  free(flipped);
  free(file);
  seqrnn_model_free(model);
  remove_dir_contents();
}

static void test_save_errors(void) {
  seqrnn_model *model = make(SEQRNN_CELL_RNN_TANH, 0, 0, 1, 0, 0);
  char path[512];
  path_in_dir(path, sizeof path, "x.safetensors");
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_save(NULL, path));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_save(model, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_load(NULL, NULL));
  seqrnn_model *out = (seqrnn_model *)&out;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_load(NULL, &out));
  CHECK(out == NULL);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_load(path, NULL));

  char nodir[512];
  path_in_dir(nodir, sizeof nodir, "no/such/dir/x.safetensors");
  EXPECT_STATUS(SEQRNN_E_IO, seqrnn_model_save(model, nodir));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_model_save(model, ""));
  EXPECT_STATUS(SEQRNN_E_IO, seqrnn_model_save(model, dir)); /* a folder */
  CHECK(entries_in_dir() == 0);

  /* A write that fails part-way (the file size limit is hit) leaves the
   * existing file at the path as it was, and no temporary file behind. This
   * works for root too, unlike permission bits. */
  const char *old = "the previous model file";
  write_file(path, old, strlen(old));
  struct rlimit saved;
  getrlimit(RLIMIT_FSIZE, &saved);
  struct rlimit small = saved;
  small.rlim_cur = 64;
  void (*previous)(int) = signal(SIGXFSZ, SIG_IGN);
  if (setrlimit(RLIMIT_FSIZE, &small) == 0) {
    EXPECT_STATUS(SEQRNN_E_IO, seqrnn_model_save(model, path));
    setrlimit(RLIMIT_FSIZE, &saved);
    size_t n = 0;
    unsigned char *now = read_file(path, &n);
    CHECK_MSG(now != NULL && n == strlen(old) && memcmp(now, old, n) == 0,
              "a failed save changed the existing file");
    free(now);
    CHECK_MSG(entries_in_dir() == 1,
              "a failed save left %d files in the folder", entries_in_dir());
  } else {
    fprintf(stderr, "  (setrlimit failed; partial-write case skipped)\n");
  }
  signal(SIGXFSZ, previous);
  remove_dir_contents();
  seqrnn_model_free(model);
}

int main(void) {
  snprintf(dir, sizeof dir, "%s/seqrnn-test-files-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 2;
  }
  TU_RUN(test_round_trip);
  TU_RUN(test_save_replaces);
  TU_RUN(test_damaged_files);
  TU_RUN(test_save_errors);
  remove_dir_contents();
  rmdir(dir);
  return tu_finish("test_files");
}
