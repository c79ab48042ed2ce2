/*
 * generation.c - module functions over the sampling and scoring calls of
 * seqrnn.h: generate (seqrnn_model_generate), surprisal
 * (seqrnn_model_surprisal), sample_logits (seqrnn_sample_logits) and
 * rng_init (seqrnn_rng_init). The pure-Python layer is seqrnn/generation.py.
 */
#include "ext.h"

#include <string.h>

/* Fills a seqrnn_sample_params from the keyword values (NULL = default). */
static int sample_params(PyObject *temperature, PyObject *top_k,
                         PyObject *top_p, PyObject *greedy, PyObject *seed,
                         seqrnn_sample_params *out) {
  *out = seqrnn_sample_default_params();
  if (temperature != NULL &&
      ext_to_float(temperature, "temperature", &out->temperature) < 0)
    return -1;
  if (top_k != NULL && ext_to_int64(top_k, "top_k", &out->top_k) < 0)
    return -1;
  if (top_p != NULL && ext_to_float(top_p, "top_p", &out->top_p) < 0)
    return -1;
  if (greedy != NULL && ext_to_int32(greedy, "greedy", &out->greedy) < 0)
    return -1;
  if (seed != NULL && ext_to_uint64(seed, "seed", &out->seed) < 0)
    return -1;
  return 0;
}

const char ext_generate_doc[] = PyDoc_STR(
    "generate(model, out, /, *, primes, lengths, batch_size, max_prime_len,\n"
    "         n, temperature=1.0, top_k=0, top_p=1.0, greedy=0, seed=0)\n"
    "--\n\n"
    "Continues batch_size primes by n sampled tokens each\n"
    "(seqrnn_model_generate), GIL released. primes: int32\n"
    "[batch_size][max_prime_len]; lengths: int64 [batch_size], each in\n"
    "[1, max_prime_len]; out: writable int32, at least batch_size * n\n"
    "elements, receives [batch_size][n]. Sequence b samples with seed + b.\n"
    "Raises the errors of the C call (InvalidArgumentError for bad\n"
    "settings or a model that is not a token language model,\n"
    "UnsupportedError for a bidirectional one, OutOfRangeError for ids\n"
    "and lengths, BufferTooSmallError).");

PyObject *ext_generate(PyObject *module, PyObject *args, PyObject *kwds) {
  (void)module;
  static char *kw[] = {"model",      "out",           "primes", "lengths",
                       "batch_size", "max_prime_len", "n",      "temperature",
                       "top_k",      "top_p",         "greedy", "seed",
                       NULL};
  ModelObject *model;
  PyObject *out, *primes = NULL, *lengths = NULL, *obatch = NULL,
                 *owidth = NULL, *on = NULL, *temperature = NULL, *top_k = NULL,
                 *top_p = NULL, *greedy = NULL, *seed = NULL;
  if (!PyArg_ParseTupleAndKeywords(
          args, kwds, "O!O|$OOOOOOOOOO:generate", kw, &ext_ModelType, &model,
          &out, &primes, &lengths, &obatch, &owidth, &on, &temperature, &top_k,
          &top_p, &greedy, &seed))
    return NULL;
  char *required[] = {"primes", "lengths", "batch_size", "max_prime_len", "n"};
  PyObject *values[] = {primes, lengths, obatch, owidth, on};
  if (ext_require("generate", required, values, 5) < 0)
    return NULL;
  if (model->closed)
    return ext_raise_closed("Model");
  int64_t batch, width, n;
  seqrnn_sample_params sp;
  if (ext_to_int64(obatch, "batch_size", &batch) < 0 ||
      ext_to_int64(owidth, "max_prime_len", &width) < 0 ||
      ext_to_int64(on, "n", &n) < 0 ||
      sample_params(temperature, top_k, top_p, greedy, seed, &sp) < 0)
    return NULL;
  /* Sizes < 1 are the C call's to report; the buffers are then not read. */
  int64_t prime_count = batch > 0 && width > 0 ? ext_mul(batch, width) : 0;
  if (prime_count < 0)
    return ext_raise(ext_InvalidArgumentError,
                     "generate: batch_size * max_prime_len is too large");
  ext_buffer bp = {0}, bl = {0}, bo = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(primes, "primes", EXT_INT32, 0, prime_count,
                     "[batch_size][max_prime_len]", &bp) == 0 &&
      ext_buffer_get(lengths, "lengths", EXT_INT64, 0, batch > 0 ? batch : 0,
                     "[batch_size]", &bl) == 0 &&
      ext_buffer_get(out, "out", EXT_INT32, 1, -1, NULL, &bo) == 0) {
    int st;
    Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(model);
    st = model->model == NULL
             ? EXT_CLOSED
             : (int)seqrnn_model_generate(model->model, ext_buffer_ptr(&bp),
                                          ext_buffer_ptr(&bl), batch, width, n,
                                          &sp, ext_buffer_ptr(&bo), bo.count);
    ext_model_unlock(model);
    Py_END_ALLOW_THREADS if (ext_status(st, "Model") == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&bp);
  ext_buffer_release(&bl);
  ext_buffer_release(&bo);
  return result;
}

const char ext_surprisal_doc[] = PyDoc_STR(
    "surprisal(model, out, /, *, batch_size, seq_len, features=None,\n"
    "          tokens=None, lengths=None, initial_h=None, initial_c=None,\n"
    "          target_classes)\n--\n\n"
    "Per-step negative log-likelihood in nats of each target class\n"
    "(seqrnn_model_surprisal), GIL released: out, writable float32 of at\n"
    "least batch_size * seq_len elements, receives [batch_size][seq_len],\n"
    "0 past each length. Inputs as in Model.forward; target_classes int32\n"
    "[batch_size][seq_len]. Raises UnsupportedError for MSE or\n"
    "last-output models.");

PyObject *ext_surprisal(PyObject *module, PyObject *args, PyObject *kwds) {
  (void)module;
  static char *kw[] = {"model",          "out",       "batch_size",
                       "seq_len",        "features",  "tokens",
                       "lengths",        "initial_h", "initial_c",
                       "target_classes", NULL};
  ModelObject *model;
  PyObject *out;
  ext_batch_args a = {0};
  if (!PyArg_ParseTupleAndKeywords(
          args, kwds, "O!O|$OOOOOOOO:surprisal", kw, &ext_ModelType, &model,
          &out, &a.batch_size, &a.seq_len, &a.features, &a.tokens, &a.lengths,
          &a.initial_h, &a.initial_c, &a.target_classes))
    return NULL;
  if (model->closed)
    return ext_raise_closed("Model");
  ext_batch_buffers bufs;
  seqrnn_batch batch;
  if (ext_batch_get("surprisal", &model->params, &a, &bufs, &batch) < 0)
    return NULL;
  ext_buffer bo = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(out, "out", EXT_FLOAT32, 1, -1, NULL, &bo) == 0) {
    int st;
    Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(model);
    st = model->model == NULL
             ? EXT_CLOSED
             : (int)seqrnn_model_surprisal(model->model, &batch,
                                           ext_buffer_ptr(&bo), bo.count);
    ext_model_unlock(model);
    Py_END_ALLOW_THREADS if (ext_status(st, "Model") == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&bo);
  ext_batch_release(&bufs);
  return result;
}

const char ext_sample_logits_doc[] = PyDoc_STR(
    "sample_logits(logits, out, rng, /, *, rows, count, temperature=1.0,\n"
    "              top_k=0, top_p=1.0, greedy=0)\n--\n\n"
    "Draws one token per row of logits (seqrnn_sample_logits), GIL\n"
    "released: logits float32 [rows][count]; out writable int32, at least\n"
    "rows elements; rng a writable int64 buffer of 4 elements holding a\n"
    "seqrnn_rng (see rng_init), advanced in place.");

PyObject *ext_sample_logits(PyObject *module, PyObject *args, PyObject *kwds) {
  (void)module;
  static char *kw[] = {"logits",      "out",   "rng",   "rows",   "count",
                       "temperature", "top_k", "top_p", "greedy", NULL};
  PyObject *logits, *out, *rng, *orows = NULL, *ocount = NULL,
                                *temperature = NULL, *top_k = NULL,
                                *top_p = NULL, *greedy = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO|$OOOOOO:sample_logits", kw,
                                   &logits, &out, &rng, &orows, &ocount,
                                   &temperature, &top_k, &top_p, &greedy))
    return NULL;
  char *required[] = {"rows", "count"};
  PyObject *values[] = {orows, ocount};
  int64_t rows, count;
  seqrnn_sample_params sp;
  if (ext_require("sample_logits", required, values, 2) < 0 ||
      ext_to_int64(orows, "rows", &rows) < 0 ||
      ext_to_int64(ocount, "count", &count) < 0 ||
      sample_params(temperature, top_k, top_p, greedy, NULL, &sp) < 0)
    return NULL;
  int64_t need = rows > 0 && count > 0 ? ext_mul(rows, count) : 0;
  if (need < 0)
    return ext_raise(ext_InvalidArgumentError,
                     "sample_logits: rows * count is too large");
  ext_buffer bl = {0}, bo = {0}, br = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(logits, "logits", EXT_FLOAT32, 0, need, "[rows][count]",
                     &bl) == 0 &&
      ext_buffer_get(out, "out", EXT_INT32, 1, rows > 0 ? rows : 0, "[rows]",
                     &bo) == 0 &&
      ext_buffer_get(rng, "rng", EXT_INT64, 1, 4, "[4]", &br) == 0) {
    seqrnn_rng state;
    memcpy(&state, ext_buffer_ptr(&br), sizeof state);
    int st;
    Py_BEGIN_ALLOW_THREADS st = (int)seqrnn_sample_logits(
        ext_buffer_ptr(&bl), rows, count, &sp, &state, ext_buffer_ptr(&bo));
    Py_END_ALLOW_THREADS if (ext_status(st, "sample_logits") == 0) {
      memcpy(ext_buffer_ptr(&br), &state, sizeof state);
      result = Py_NewRef(Py_None);
    }
  }
  ext_buffer_release(&bl);
  ext_buffer_release(&bo);
  ext_buffer_release(&br);
  return result;
}

const char ext_rng_init_doc[] = PyDoc_STR(
    "rng_init(rng, seed, /)\n--\n\n"
    "Writes seqrnn_rng_init(seed) into rng, a writable int64 buffer of 4\n"
    "elements (the generator's 4 words, reinterpreted).");

PyObject *ext_rng_init(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *rng, *oseed;
  uint64_t seed;
  if (!PyArg_ParseTuple(args, "OO:rng_init", &rng, &oseed) ||
      ext_to_uint64(oseed, "seed", &seed) < 0)
    return NULL;
  ext_buffer br = {0};
  if (ext_buffer_get(rng, "rng", EXT_INT64, 1, 4, "[4]", &br) < 0)
    return NULL;
  seqrnn_rng state = seqrnn_rng_init(seed);
  memcpy(ext_buffer_ptr(&br), &state, sizeof state);
  ext_buffer_release(&br);
  Py_RETURN_NONE;
}
