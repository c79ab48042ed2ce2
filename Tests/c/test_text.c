/*
 * test_text.c - the text tools through the public header only: the
 * tokenizer against hand-split sentences (Python's re semantics, Unicode
 * included), vocabularies of small corpora checked by hand (order,
 * min_frequency, max_size, unknown words), encode/decode, save/load round
 * trips and files written by Python, padding, length buckets (every index
 * once, sorted within batches, reproducible from seed and epoch), and every
 * bad input answering its status code with nothing written.
 */
#include "test_util.h"

#include <unistd.h>

/* Tokenizes text and checks the tokens against want[0..n). */
static void expect_tokens(const seqrnn_tokenizer_params *p, const char *text,
                          const char *const *want, int64_t n) {
  char chars[512];
  int64_t offsets[64], count = -1, needed = -1;
  if (!EXPECT_OK(seqrnn_tokenize(p, text, -1, chars, sizeof chars, offsets, 64,
                                 &count, &needed)))
    return;
  CHECK_MSG(count == n, "'%s': %lld tokens, want %lld", text, (long long)count,
            (long long)n);
  for (int64_t i = 0; i < n && i < count; i++)
    CHECK_MSG(strcmp(chars + offsets[i], want[i]) == 0,
              "'%s': token %lld is '%s', want '%s'", text, (long long)i,
              chars + offsets[i], want[i]);
  CHECK(offsets[count] == needed);
}

static void tokenizer_rules(void) {
  tu_current = "tokenizer_rules";
  seqrnn_tokenizer_params p = seqrnn_tokenizer_default_params();
  CHECK(p.rule == SEQRNN_TOKENS_WORDS && p.lower == 1);
  const char *a[] = {"don't", "panic", ",", "it's", "fine", "!"};
  expect_tokens(&p, "Don't panic, it's fine!", a, 6);
  const char *b[] = {"a", "well-made", "film", ".",  ".",
                     ".", "10",        "/",    "10", "!"};
  expect_tokens(&p, "A well-made film ... 10/10!", b, 10);
  /* A separator joins only before a word character; U+2019 joins too. */
  const char *c[] = {"rock", "'", "n", "'",
                     "roll", "-", "x", "o\xe2\x80\x99neil"};
  expect_tokens(&p, "rock 'n' roll - x O\xe2\x80\x99Neil", c, 8);
  /* Unicode: letters and digits of every script are \w; NBSP is space;
   * final sigma as Python's str.lower(). */
  const char *d[] = {"caf\xc3\xa9", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82",
                     "\xd9\xa3\xd9\xa4", "_x_"};
  expect_tokens(&p,
                "CAF\xc3\x89\xc2\xa0\xce\x9f\xce\x94\xce\x9f\xce\xa3 "
                "\xd9\xa3\xd9\xa4 _x_",
                d, 4);
  expect_tokens(&p, " \t\n ", NULL, 0);
  p.lower = 0;
  const char *e[] = {"Hi", "THERE"};
  expect_tokens(&p, "Hi THERE", e, 2);
  p.rule = SEQRNN_TOKENS_WHITESPACE;
  const char *f[] = {"Wo", "n't", "stop", "."};
  expect_tokens(&p, "Wo n't  stop .", f, 4);
  /* A custom rule spelling the built-in pattern is that rule. */
  p.rule = SEQRNN_TOKENS_CUSTOM;
  p.pattern = "\\S+";
  expect_tokens(&p, "Wo n't  stop .", f, 4);
}

static void tokenize_buffers_and_errors(void) {
  tu_current = "tokenize_buffers_and_errors";
  const char *text = "ab, cd";
  int64_t count = -1, needed = -1, offsets[4];
  char chars[16];
  /* The size query, then too small buffers, then a NUL inside the text. */
  EXPECT_OK(seqrnn_tokenize(NULL, text, -1, NULL, 0, NULL, 0, &count, &needed));
  CHECK(count == 3 && needed == 3 + 2 + 3);
  count = needed = -1;
  EXPECT_STATUS(
      SEQRNN_E_BUFFER_TOO_SMALL,
      seqrnn_tokenize(NULL, text, -1, chars, 7, offsets, 4, &count, &needed));
  CHECK(count == 3 && needed == 8);
  EXPECT_STATUS(
      SEQRNN_E_BUFFER_TOO_SMALL,
      seqrnn_tokenize(NULL, text, -1, chars, 16, offsets, 3, &count, NULL));
  EXPECT_OK(
      seqrnn_tokenize(NULL, "a\0b", 3, chars, 16, offsets, 4, &count, NULL));
  CHECK(count == 3 && offsets[1] == 2 && offsets[2] == 4 && chars[2] == '\0');
  EXPECT_OK(
      seqrnn_tokenize(NULL, "abc", 2, chars, 16, offsets, 4, &count, NULL));
  CHECK(count == 1 && strcmp(chars, "ab") == 0);

  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_tokenize(NULL, NULL, 0, NULL, 0, NULL, 0, &count, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_tokenize(NULL, text, -1, NULL, 0, NULL, 0, NULL, NULL));
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_tokenize(NULL, text, -1, NULL, 8, offsets, 4, &count, NULL));
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_tokenize(NULL, "ok \xff bad", -1, NULL, 0, NULL, 0, &count, NULL));
  CHECK(strstr(seqrnn_last_error(), "byte 3") != NULL);
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_tokenize(NULL, "\xed\xa0\x80", -1, NULL, 0, NULL, 0,
                                &count, NULL)); /* a surrogate */
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_tokenize(NULL, "\xc0\xaf", -1, NULL, 0, NULL, 0, &count,
                                NULL)); /* overlong */
  seqrnn_tokenizer_params p = seqrnn_tokenizer_default_params();
  p.rule = 7;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_tokenize(&p, text, -1, NULL, 0, NULL, 0, &count, NULL));
  p = seqrnn_tokenizer_default_params();
  p.lower = 2;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_tokenize(&p, text, -1, NULL, 0, NULL, 0, &count, NULL));
  p = seqrnn_tokenizer_default_params();
  p.rule = SEQRNN_TOKENS_CUSTOM;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_tokenize(&p, text, -1, NULL, 0, NULL, 0, &count, NULL));
  p.pattern = "[a-z]+";
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED,
                seqrnn_tokenize(&p, text, -1, NULL, 0, NULL, 0, &count, NULL));
}

static const char *const corpus[] = {
    "The cat sat on the mat.",
    "The dog sat, the cat ran!",
    "A dog's day",
};

/* The words of v in id order match want[0..n). */
static void expect_words(const seqrnn_vocabulary *v, const char *const *want,
                         int64_t n) {
  int64_t size = -1;
  EXPECT_OK(seqrnn_vocabulary_size(v, &size));
  CHECK_MSG(size == n, "size %lld, want %lld", (long long)size, (long long)n);
  for (int64_t i = 0; i < n && i < size; i++) {
    const char *w = NULL;
    EXPECT_OK(seqrnn_vocabulary_word(v, i, &w));
    CHECK_MSG(w != NULL && strcmp(w, want[i]) == 0,
              "word %lld is '%s', want '%s'", (long long)i, w ? w : "(null)",
              want[i]);
  }
}

static void vocabulary_build(void) {
  tu_current = "vocabulary_build";
  seqrnn_vocabulary *v = NULL;
  EXPECT_OK(seqrnn_vocabulary_build(corpus, NULL, 3, 1, 0, NULL, &v));
  /* Counts by hand: the 4, cat 2, sat 2, every other token 1. */
  const char *all[] = {"<pad>", "<unk>", "the", "cat",   "sat", "!",  ",",  ".",
                       "a",     "day",   "dog", "dog's", "mat", "on", "ran"};
  expect_words(v, all, 15);
  int32_t id = -1;
  EXPECT_OK(seqrnn_vocabulary_id(v, "the", &id));
  CHECK(id == 2);
  EXPECT_OK(seqrnn_vocabulary_id(v, "zebra", &id));
  CHECK(id == 1);
  EXPECT_OK(seqrnn_vocabulary_id(v, "<pad>", &id));
  CHECK(id == 0);
  int64_t count = -1;
  int32_t has = -1;
  EXPECT_OK(seqrnn_vocabulary_count(v, 2, &count, &has));
  CHECK(count == 4 && has == 1);
  EXPECT_OK(seqrnn_vocabulary_count(v, 4, &count, NULL));
  CHECK(count == 2);
  EXPECT_OK(seqrnn_vocabulary_count(v, 1, &count, NULL));
  CHECK(count == 0);
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_vocabulary_count(v, 15, &count, NULL));
  const char *w = "x";
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE, seqrnn_vocabulary_word(v, -1, &w));
  CHECK(w == NULL);
  int32_t has_tokenizer = -1;
  seqrnn_tokenizer_params tp;
  EXPECT_OK(seqrnn_vocabulary_get_tokenizer(v, &has_tokenizer, &tp));
  CHECK(has_tokenizer == 1 && tp.rule == SEQRNN_TOKENS_WORDS && tp.lower == 1);
  seqrnn_vocabulary_free(v);

  /* Texts with sizes; min_frequency; max_size; the same ids in any order. */
  const char *reversed[] = {corpus[2], corpus[1], corpus[0]};
  const int64_t sizes[] = {11, 25, 23};
  EXPECT_OK(seqrnn_vocabulary_build(reversed, sizes, 3, 2, 0, NULL, &v));
  const char *frequent[] = {"<pad>", "<unk>", "the", "cat", "sat"};
  expect_words(v, frequent, 5);
  seqrnn_vocabulary_free(v);
  EXPECT_OK(seqrnn_vocabulary_build(corpus, NULL, 3, 1, 4, NULL, &v));
  expect_words(v, frequent, 4);
  seqrnn_vocabulary_free(v);
  EXPECT_OK(seqrnn_vocabulary_build(corpus, NULL, 3, 1, 2, NULL, &v));
  expect_words(v, frequent, 2);
  seqrnn_vocabulary_free(v);

  /* From tokens: taken as they are; reserved words are not counted. */
  const char *tokens[] = {"B", "a", "a", "<unk>", "<pad>"};
  EXPECT_OK(seqrnn_vocabulary_build_from_tokens(tokens, 5, 1, 0, NULL, &v));
  const char *ab[] = {"<pad>", "<unk>", "a", "B"};
  expect_words(v, ab, 4);
  seqrnn_vocabulary_free(v);

  /* Bad inputs: nothing is made. */
  v = (seqrnn_vocabulary *)1;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_build(corpus, NULL, 3, 0, 0, NULL, &v));
  CHECK(v == NULL);
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_build(corpus, NULL, 3, 1, 1, NULL, &v));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_build(corpus, NULL, -1, 1, 0, NULL, &v));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_vocabulary_build(NULL, NULL, 3, 1, 0, NULL, &v));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_vocabulary_build(corpus, NULL, 3, 1, 0, NULL, NULL));
  const char *broken[] = {"fine", "bad \xff"};
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_build(broken, NULL, 2, 1, 0, NULL, &v));
  CHECK(strstr(seqrnn_last_error(), "texts[1]") != NULL);
  const int64_t bad_sizes[] = {4, -2};
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_build(broken, bad_sizes, 2, 1, 0, NULL, &v));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_build_from_tokens(broken, 2, 1, 0, NULL, &v));
  const char *with_null[] = {"a", NULL};
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_vocabulary_build_from_tokens(
                                            with_null, 2, 1, 0, NULL, &v));
  seqrnn_tokenizer_params custom = seqrnn_tokenizer_default_params();
  custom.rule = SEQRNN_TOKENS_CUSTOM;
  custom.pattern = "[a-z]+";
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED,
                seqrnn_vocabulary_build(corpus, NULL, 3, 1, 0, &custom, &v));
  CHECK(v == NULL);
  /* ...but token lists may carry a custom tokenizer (files round-trip). */
  EXPECT_OK(seqrnn_vocabulary_build_from_tokens(tokens, 5, 1, 0, &custom, &v));
  EXPECT_OK(seqrnn_vocabulary_get_tokenizer(v, &has_tokenizer, &tp));
  CHECK(has_tokenizer == 1 && tp.rule == SEQRNN_TOKENS_CUSTOM &&
        tp.pattern != NULL && strcmp(tp.pattern, "[a-z]+") == 0);
  int32_t ids[4];
  int64_t n = -1;
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED,
                seqrnn_vocabulary_encode(v, "a b", -1, ids, 4, &n));
  seqrnn_vocabulary_free(v);
}

static void vocabulary_create(void) {
  tu_current = "vocabulary_create";
  const char *words[] = {"good", "bad", "caf\xc3\xa9"};
  const int64_t counts[] = {5, 3, 0};
  seqrnn_vocabulary *v = NULL;
  EXPECT_OK(seqrnn_vocabulary_create(words, 3, counts, NULL, &v));
  const char *want[] = {"<pad>", "<unk>", "good", "bad", "caf\xc3\xa9"};
  expect_words(v, want, 5);
  int64_t count = -1;
  EXPECT_OK(seqrnn_vocabulary_count(v, 3, &count, NULL));
  CHECK(count == 3);
  int32_t has = -1;
  seqrnn_tokenizer_params tp;
  EXPECT_OK(seqrnn_vocabulary_get_tokenizer(v, &has, &tp));
  CHECK(has == 0);
  int32_t ids[4];
  int64_t n = -1;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_encode(v, "good", -1, ids, 4, &n));
  const char *tokens[] = {"good", "awful", "bad", "caf\xc3\xa9"};
  EXPECT_OK(seqrnn_vocabulary_encode_tokens(v, tokens, 4, ids));
  CHECK(ids[0] == 2 && ids[1] == 1 && ids[2] == 3 && ids[3] == 4);
  seqrnn_vocabulary_free(v);

  EXPECT_OK(seqrnn_vocabulary_create(NULL, 0, NULL, NULL, &v));
  expect_words(v, want, 2);
  EXPECT_OK(seqrnn_vocabulary_count(v, 0, &count, &has));
  CHECK(count == 0 && has == 0);
  seqrnn_vocabulary_free(v);
  seqrnn_vocabulary_free(NULL);

  const char *twice[] = {"a", "b", "a"};
  v = (seqrnn_vocabulary *)1;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_create(twice, 3, NULL, NULL, &v));
  CHECK(v == NULL && strstr(seqrnn_last_error(), "twice") != NULL);
  const char *reserved[] = {"<unk>"};
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_create(reserved, 1, NULL, NULL, &v));
  const char *empty[] = {""};
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_create(empty, 1, NULL, NULL, &v));
  const int64_t negative[] = {1, -1, 0};
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_create(words, 3, negative, NULL, &v));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_vocabulary_create(NULL, 2, NULL, NULL, &v));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_create(words, -1, NULL, NULL, &v));
  seqrnn_tokenizer_params bad = seqrnn_tokenizer_default_params();
  bad.rule = -1;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_create(words, 3, NULL, &bad, &v));
}

static void encode_decode(void) {
  tu_current = "encode_decode";
  seqrnn_vocabulary *v = NULL;
  EXPECT_OK(seqrnn_vocabulary_build(corpus, NULL, 3, 1, 0, NULL, &v));
  int32_t ids[16];
  int64_t n = -1;
  EXPECT_OK(seqrnn_vocabulary_encode(v, "The cat ran on the ZEBRA!", -1, NULL,
                                     0, &n));
  CHECK(n == 7);
  n = -1;
  EXPECT_STATUS(
      SEQRNN_E_BUFFER_TOO_SMALL,
      seqrnn_vocabulary_encode(v, "The cat ran on the ZEBRA!", -1, ids, 6, &n));
  CHECK(n == 7);
  EXPECT_OK(seqrnn_vocabulary_encode(v, "The cat ran on the ZEBRA!", -1, ids,
                                     16, &n));
  const int32_t want[] = {2, 3, 14, 13, 2, 1, 5};
  CHECK(n == 7 && memcmp(ids, want, sizeof want) == 0);
  EXPECT_OK(seqrnn_vocabulary_encode(v, "", -1, ids, 16, &n));
  CHECK(n == 0);
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_encode(v, "\xff", -1, ids, 16, &n));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_vocabulary_encode(v, "a", -1, NULL, 4, &n));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_vocabulary_encode(NULL, "a", -1, ids, 4, &n));

  const int32_t coded[] = {2, 3, 0, 1, 0};
  const char *words[5] = {0};
  EXPECT_OK(seqrnn_vocabulary_decode(v, coded, 5, 1, words, 5, &n));
  CHECK(n == 3 && strcmp(words[0], "the") == 0 &&
        strcmp(words[1], "cat") == 0 && strcmp(words[2], "<unk>") == 0);
  EXPECT_OK(seqrnn_vocabulary_decode(v, coded, 5, 0, words, 5, &n));
  CHECK(n == 5 && strcmp(words[2], "<pad>") == 0);
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_vocabulary_decode(v, coded, 5, 0, words, 4, &n));
  const int32_t out_of_range[] = {2, 15};
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_vocabulary_decode(v, out_of_range, 2, 1, words, 5, &n));
  CHECK(strstr(seqrnn_last_error(), "ids[1]") != NULL);
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_decode(v, coded, 5, 2, words, 5, &n));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_decode(v, coded, -1, 1, words, 5, &n));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_vocabulary_encode_tokens(v, NULL, -1, ids));
  EXPECT_OK(seqrnn_vocabulary_encode_tokens(v, NULL, 0, NULL));
  const char *with_null[] = {"a", NULL};
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_vocabulary_encode_tokens(v, with_null, 2, ids));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_vocabulary_id(v, NULL, ids));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_vocabulary_size(NULL, &n));
  seqrnn_vocabulary_free(v);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return;
  fputs(text, f);
  fclose(f);
}

static void files(void) {
  tu_current = "files";
  char dir[] = "/tmp/seqrnn_text_XXXXXX";
  if (!CHECK(mkdtemp(dir) != NULL))
    return;
  char path[256];
  snprintf(path, sizeof path, "%s/vocab.json", dir);
  seqrnn_tokenizer_params tp = seqrnn_tokenizer_default_params();
  tp.lower = 0;
  seqrnn_vocabulary *v = NULL, *w = NULL;
  EXPECT_OK(seqrnn_vocabulary_build(corpus, NULL, 3, 1, 0, &tp, &v));
  EXPECT_OK(seqrnn_vocabulary_save(v, path));
  EXPECT_OK(seqrnn_vocabulary_load(path, &w));
  int64_t a = 0, b = 0;
  EXPECT_OK(seqrnn_vocabulary_size(v, &a));
  EXPECT_OK(seqrnn_vocabulary_size(w, &b));
  CHECK(a == b);
  for (int64_t i = 0; i < a && a == b; i++) {
    const char *x, *y;
    int64_t cx, cy;
    seqrnn_vocabulary_word(v, i, &x);
    seqrnn_vocabulary_word(w, i, &y);
    seqrnn_vocabulary_count(v, i, &cx, NULL);
    seqrnn_vocabulary_count(w, i, &cy, NULL);
    CHECK(strcmp(x, y) == 0 && cx == cy);
  }
  int32_t has = 0;
  seqrnn_tokenizer_params got;
  EXPECT_OK(seqrnn_vocabulary_get_tokenizer(w, &has, &got));
  CHECK(has == 1 && got.lower == 0 && got.rule == SEQRNN_TOKENS_WORDS);
  seqrnn_vocabulary_free(v);
  seqrnn_vocabulary_free(w);

  /* A file as Python's json.dumps(..., indent=0) writes it, with a custom
   * pattern and Unicode escapes. */
  write_file(path, "{\n\"format\": \"seqrnn.vocabulary\",\n\"format_version\": "
                   "1,\n\"words\": [\n\"<pad>\",\n\"<unk>\",\n\"caf\\u00e9\","
                   "\n\"na\xc3\xafve\"\n],\n\"counts\": [\n0,\n0,\n7,\n2\n],\n"
                   "\"tokenizer\": {\n\"lower\": true,\n\"pattern\": "
                   "\"[a-z]+\"\n}\n}");
  EXPECT_OK(seqrnn_vocabulary_load(path, &w));
  int32_t id = 0;
  EXPECT_OK(seqrnn_vocabulary_id(w, "caf\xc3\xa9", &id));
  CHECK(id == 2);
  EXPECT_OK(seqrnn_vocabulary_count(w, 3, &a, NULL));
  CHECK(a == 2);
  EXPECT_OK(seqrnn_vocabulary_get_tokenizer(w, &has, &got));
  CHECK(has == 1 && got.rule == SEQRNN_TOKENS_CUSTOM &&
        strcmp(got.pattern, "[a-z]+") == 0);
  /* It saves the custom pattern back. */
  char again[256];
  snprintf(again, sizeof again, "%s/again.json", dir);
  EXPECT_OK(seqrnn_vocabulary_save(w, again));
  seqrnn_vocabulary_free(w);
  EXPECT_OK(seqrnn_vocabulary_load(again, &w));
  EXPECT_OK(seqrnn_vocabulary_get_tokenizer(w, &has, &got));
  CHECK(got.rule == SEQRNN_TOKENS_CUSTOM && strcmp(got.pattern, "[a-z]+") == 0);
  seqrnn_vocabulary_free(w);

  /* JSON in memory: the same text the file holds, and back. */
  EXPECT_OK(seqrnn_vocabulary_load(again, &w));
  int64_t needed = -1;
  EXPECT_OK(seqrnn_vocabulary_to_json(w, NULL, 0, &needed));
  char *json = malloc((size_t)needed);
  if (CHECK(json != NULL && needed > 20)) {
    EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                  seqrnn_vocabulary_to_json(w, json, needed - 1, &a));
    CHECK(a == needed);
    EXPECT_OK(seqrnn_vocabulary_to_json(w, json, needed, &a));
    CHECK((int64_t)strlen(json) == needed - 1);
    CHECK(strstr(json, "\"format\":\"seqrnn.vocabulary\"") != NULL);
    CHECK(strstr(json, "\"counts\":[0,0,7,2]") != NULL);
    FILE *f = fopen(again, "r");
    char file_text[512] = {0};
    if (f != NULL) {
      CHECK(fread(file_text, 1, sizeof file_text - 1, f) == (size_t)needed - 1);
      fclose(f);
    }
    CHECK(strcmp(file_text, json) == 0);
    seqrnn_vocabulary *x = NULL;
    EXPECT_OK(seqrnn_vocabulary_from_json(json, -1, &x));
    EXPECT_OK(seqrnn_vocabulary_id(x, "na\xc3\xafve", &id));
    CHECK(id == 3);
    seqrnn_vocabulary_free(x);
    x = (seqrnn_vocabulary *)1;
    EXPECT_STATUS(SEQRNN_E_BAD_FORMAT,
                  seqrnn_vocabulary_from_json(json, needed - 2, &x));
    CHECK(x == NULL);
  }
  free(json);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_vocabulary_to_json(w, NULL, 0, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_vocabulary_to_json(w, NULL, 4, &a));
  seqrnn_vocabulary_free(w);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_vocabulary_from_json(NULL, 0, &w));

  /* Bad files. */
  const struct {
    const char *text;
    seqrnn_status status;
    const char *message;
  } bad[] = {
      {"{not json", SEQRNN_E_BAD_FORMAT, "not a JSON vocabulary"},
      {"{\"format\": \"other\", \"words\": []}", SEQRNN_E_BAD_FORMAT,
       "not a seqrnn vocabulary"},
      {"{\"format\": \"seqrnn.vocabulary\", \"format_version\": 99, "
       "\"words\": [\"<pad>\", \"<unk>\"]}",
       SEQRNN_E_UNSUPPORTED_VERSION, "newer"},
      {"{\"format\": \"seqrnn.vocabulary\", \"format_version\": 1, "
       "\"words\": [\"a\", \"<pad>\", \"<unk>\"]}",
       SEQRNN_E_BAD_FORMAT, "ids 0 and 1"},
      {"{\"format\": \"seqrnn.vocabulary\", \"format_version\": 1, "
       "\"words\": [\"<pad>\", \"<unk>\", \"a\", \"a\"]}",
       SEQRNN_E_BAD_FORMAT, "twice"},
      {"{\"format\": \"seqrnn.vocabulary\", \"format_version\": 1, "
       "\"words\": [\"<pad>\", \"<unk>\", 3]}",
       SEQRNN_E_BAD_FORMAT, "words[2]"},
      {"{\"format\": \"seqrnn.vocabulary\", \"format_version\": 1, "
       "\"words\": [\"<pad>\", \"<unk>\", \"a\"], \"counts\": [0, 0]}",
       SEQRNN_E_BAD_FORMAT, "counts"},
      {"{\"format\": \"seqrnn.vocabulary\", \"format_version\": 1, "
       "\"words\": [\"<pad>\", \"<unk>\"], \"tokenizer\": {\"lower\": 1}}",
       SEQRNN_E_BAD_FORMAT, "tokenizer"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_file(path, bad[i].text);
    w = (seqrnn_vocabulary *)1;
    EXPECT_STATUS(bad[i].status, seqrnn_vocabulary_load(path, &w));
    CHECK_MSG(strstr(seqrnn_last_error(), bad[i].message) != NULL,
              "file %zu: message '%s' lacks '%s'", i, seqrnn_last_error(),
              bad[i].message);
    CHECK(w == NULL);
  }
  char missing[256];
  snprintf(missing, sizeof missing, "%s/missing.json", dir);
  EXPECT_STATUS(SEQRNN_E_IO, seqrnn_vocabulary_load(missing, &w));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_vocabulary_load("", &w));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_vocabulary_load(NULL, &w));
  EXPECT_OK(seqrnn_vocabulary_create(NULL, 0, NULL, NULL, &v));
  char nowhere[300];
  snprintf(nowhere, sizeof nowhere, "%s/no/such/dir.json", dir);
  EXPECT_STATUS(SEQRNN_E_IO, seqrnn_vocabulary_save(v, nowhere));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_vocabulary_save(v, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_vocabulary_save(NULL, path));
  seqrnn_vocabulary_free(v);
  unlink(path);
  unlink(again);
  rmdir(dir);
}

static void pad_batch(void) {
  tu_current = "pad_batch";
  const int32_t a[] = {4, 5, 6}, b[] = {7}, c[] = {8, 9};
  const int32_t *seqs[] = {a, b, c};
  const int64_t lengths[] = {3, 1, 2};
  int32_t ids[9];
  int64_t out_lengths[3], seq_len = -1;
  EXPECT_OK(seqrnn_pad_batch(seqs, lengths, 3, 0, 0, NULL, 0, NULL, &seq_len));
  CHECK(seq_len == 3);
  EXPECT_OK(
      seqrnn_pad_batch(seqs, lengths, 3, 0, 0, ids, 9, out_lengths, &seq_len));
  const int32_t want[] = {4, 5, 6, 7, 0, 0, 8, 9, 0};
  CHECK(memcmp(ids, want, sizeof want) == 0);
  CHECK(out_lengths[0] == 3 && out_lengths[1] == 1 && out_lengths[2] == 2);
  EXPECT_OK(
      seqrnn_pad_batch(seqs, lengths, 2, 2, 3, ids, 9, out_lengths, &seq_len));
  const int32_t cut[] = {4, 5, 7, 3};
  CHECK(seq_len == 2 && memcmp(ids, cut, sizeof cut) == 0 &&
        out_lengths[0] == 2 && out_lengths[1] == 1);
  seq_len = -1;
  EXPECT_STATUS(
      SEQRNN_E_BUFFER_TOO_SMALL,
      seqrnn_pad_batch(seqs, lengths, 3, 0, 0, ids, 8, NULL, &seq_len));
  CHECK(seq_len == 3);

  const int64_t with_empty[] = {3, 0, 2};
  EXPECT_STATUS(
      SEQRNN_E_SHAPE_MISMATCH,
      seqrnn_pad_batch(seqs, with_empty, 3, 0, 0, ids, 9, NULL, &seq_len));
  CHECK(strstr(seqrnn_last_error(), "lengths[1]") != NULL);
  EXPECT_STATUS(
      SEQRNN_E_SHAPE_MISMATCH,
      seqrnn_pad_batch(seqs, lengths, 0, 0, 0, ids, 9, NULL, &seq_len));
  const int32_t negative[] = {1, -2};
  const int32_t *bad[] = {negative};
  const int64_t two[] = {2};
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_pad_batch(bad, two, 1, 0, 0, ids, 9, NULL, &seq_len));
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_pad_batch(seqs, lengths, 3, -1, 0, ids, 9, NULL, &seq_len));
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_pad_batch(seqs, lengths, 3, 0, -1, ids, 9, NULL, &seq_len));
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_pad_batch(NULL, lengths, 3, 0, 0, ids, 9, NULL, &seq_len));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_pad_batch(seqs, lengths, 3, 0, 0, ids, 9, NULL, NULL));
  const int32_t *holes[] = {a, NULL};
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_pad_batch(holes, lengths, 2, 0, 0, ids, 9, NULL, &seq_len));
}

/* Every index once; sorted by length within batches; the short batch last. */
static int valid_buckets(const int64_t *order, const int64_t *lengths,
                         int64_t n, int64_t batch) {
  char *seen = calloc((size_t)n, 1);
  int ok = seen != NULL;
  for (int64_t i = 0; ok && i < n; i++) {
    if (order[i] < 0 || order[i] >= n || seen[order[i]])
      ok = 0;
    else
      seen[order[i]] = 1;
    if (ok && i % batch != 0 && lengths[order[i - 1]] > lengths[order[i]])
      ok = 0;
  }
  free(seen);
  return ok;
}

static void buckets(void) {
  tu_current = "buckets";
  enum { N = 103 };
  int64_t lengths[N], order[N], again[N], other[N];
  uint64_t x = 12345;
  for (int i = 0; i < N; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    lengths[i] = 1 + (int64_t)((x >> 33) % 49);
  }
  EXPECT_OK(seqrnn_bucket_batches(lengths, N, 8, 1, 1, 0, 3, order));
  CHECK(valid_buckets(order, lengths, N, 8));
  EXPECT_OK(seqrnn_bucket_batches(lengths, N, 8, 1, 1, 0, 3, again));
  CHECK(memcmp(order, again, sizeof order) == 0);
  EXPECT_OK(seqrnn_bucket_batches(lengths, N, 8, 1, 1, 1, 3, other));
  CHECK(valid_buckets(other, lengths, N, 8));
  CHECK(memcmp(order, other, sizeof order) != 0); /* another epoch */
  EXPECT_OK(seqrnn_bucket_batches(lengths, N, 8, 1, 2, 0, 3, other));
  CHECK(memcmp(order, other, sizeof order) != 0); /* another seed */
  /* Chunks of 3 batches: each run of 24 shuffled indices is sorted, so a
   * batch spans far fewer lengths than the whole range. */
  int64_t spread = 0;
  for (int k = 0; k + 8 <= N; k += 8)
    spread += lengths[order[k + 7]] - lengths[order[k]];
  CHECK_MSG(spread / (N / 8) < 20, "mean spread %lld",
            (long long)(spread / 12));

  const int64_t small[] = {5, 1, 4, 2, 3, 1};
  int64_t sorted[6];
  EXPECT_OK(seqrnn_bucket_batches(small, 6, 4, 0, 0, 0, 1, sorted));
  const int64_t want[] = {1, 5, 3, 4, 2, 0};
  CHECK(memcmp(sorted, want, sizeof want) == 0);
  EXPECT_OK(seqrnn_bucket_batches(small, 6, 100, 1, 3, 0, 20, sorted));
  CHECK(valid_buckets(sorted, small, 6, 100)); /* one short batch, sorted */

  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_bucket_batches(small, 0, 4, 1, 0, 0, 1, sorted));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_bucket_batches(small, 6, 0, 1, 0, 0, 1, sorted));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_bucket_batches(small, 6, 4, 1, 0, 0, 0, sorted));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_bucket_batches(small, 6, 4, 2, 0, 0, 1, sorted));
  const int64_t negative[] = {1, -1};
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_bucket_batches(negative, 2, 4, 1, 0, 0, 1, sorted));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_bucket_batches(NULL, 6, 4, 1, 0, 0, 1, sorted));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_bucket_batches(small, 6, 4, 1, 0, 0, 1, NULL));
}

int main(void) {
  tokenizer_rules();
  tokenize_buffers_and_errors();
  vocabulary_build();
  vocabulary_create();
  encode_decode();
  files();
  pad_batch();
  buckets();
  return tu_finish("test_text");
}
