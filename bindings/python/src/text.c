/*
 * text.c - the text tools of seqrnn.h: tokenize (seqrnn_tokenize), the
 * Vocabulary type over seqrnn_vocabulary (create, build, build from tokens,
 * load, from_json and the lookups), pad_batch (seqrnn_pad_batch) and
 * bucket_batches (seqrnn_bucket_batches). The pure-Python layer is
 * seqrnn/text.py.
 *
 * A tokenizer crosses as a tuple (rule, lower, pattern) with pattern None
 * except for TOKENS_CUSTOM. A seqrnn_vocabulary never changes once made, so
 * the calls need no lock; the GIL is released around those that may take
 * time (they only read str buffers this module keeps referenced).
 */
#include "ext.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  PyObject_HEAD seqrnn_vocabulary *vocabulary;
  PyObject *weakrefs;
} VocabularyObject;

/* ---- helpers ------------------------------------------------------------- */

/* A str as UTF-8 with its size (NULs allowed); owned by obj. */
static const char *utf8_of(PyObject *obj, const char *name, Py_ssize_t *size) {
  if (!PyUnicode_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s: expected a str, got %.100s", name,
                 Py_TYPE(obj)->tp_name);
    return NULL;
  }
  return PyUnicode_AsUTF8AndSize(obj, size);
}

/* Fills *out from a (rule, lower, pattern) tuple. The pattern's UTF-8 is
 * owned by the tuple. Returns 0 or -1. */
static int tokenizer_params(PyObject *obj, seqrnn_tokenizer_params *out) {
  PyObject *rule, *lower, *pattern;
  if (!PyTuple_Check(obj) ||
      !PyArg_ParseTuple(obj, "OOO:tokenizer", &rule, &lower, &pattern)) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError,
                      "tokenizer: expected a tuple (rule, lower, pattern)");
    return -1;
  }
  *out = seqrnn_tokenizer_default_params();
  if (ext_to_int32(rule, "rule", &out->rule) < 0 ||
      ext_to_int32(lower, "lower", &out->lower) < 0)
    return -1;
  out->pattern = NULL;
  if (pattern != Py_None &&
      (out->pattern = ext_name(pattern, "pattern")) == NULL)
    return -1;
  return 0;
}

/* A (rule, lower, pattern) tuple of C params. */
static PyObject *tokenizer_tuple(const seqrnn_tokenizer_params *p) {
  if (p->rule == SEQRNN_TOKENS_CUSTOM && p->pattern != NULL)
    return Py_BuildValue("(iNs)", (int)p->rule, PyBool_FromLong(p->lower),
                         p->pattern);
  return Py_BuildValue("(iNO)", (int)p->rule, PyBool_FromLong(p->lower),
                       Py_None);
}

/* The UTF-8 pointers (and sizes) of a sequence of str, which *held keeps
 * alive (a new reference). NUL-terminated callers need no NULs inside:
 * with sizes NULL the strings are checked for them. Returns 0 or -1. */
static int utf8_array(PyObject *seq, const char *name, PyObject **held,
                      const char ***ptrs, int64_t **sizes, Py_ssize_t *count) {
  *held = PySequence_Fast(seq, "expected a list of str");
  if (*held == NULL)
    return -1;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(*held);
  *ptrs = PyMem_Malloc(sizeof(char *) * (size_t)(n ? n : 1));
  if (sizes != NULL)
    *sizes = PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  if (*ptrs == NULL || (sizes != NULL && *sizes == NULL)) {
    PyErr_NoMemory();
    goto fail;
  }
  PyObject **items = PySequence_Fast_ITEMS(*held);
  for (Py_ssize_t i = 0; i < n; i++) {
    Py_ssize_t size;
    const char *text = utf8_of(items[i], name, &size);
    if (text == NULL)
      goto fail;
    if (sizes == NULL && (Py_ssize_t)strlen(text) != size) {
      ext_raise(ext_InvalidArgumentError, "%s[%zd]: contains a NUL character",
                name, i);
      goto fail;
    }
    (*ptrs)[i] = text;
    if (sizes != NULL)
      (*sizes)[i] = (int64_t)size;
  }
  *count = n;
  return 0;
fail:
  PyMem_Free((void *)*ptrs);
  *ptrs = NULL;
  if (sizes != NULL) {
    PyMem_Free(*sizes);
    *sizes = NULL;
  }
  Py_CLEAR(*held);
  return -1;
}

static PyObject *wrap_vocabulary(seqrnn_vocabulary *handle);

/* ---- tokenize ------------------------------------------------------------ */

const char ext_tokenize_doc[] = PyDoc_STR(
    "tokenize(text, tokenizer, /)\n--\n\n"
    "The tokens of text (a str) as a list of str (seqrnn_tokenize), GIL\n"
    "released; tokenizer is a tuple (rule, lower, pattern). Raises\n"
    "UnsupportedError for TOKENS_CUSTOM.");

PyObject *ext_tokenize(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *otext, *otok;
  if (!PyArg_ParseTuple(args, "OO:tokenize", &otext, &otok))
    return NULL;
  seqrnn_tokenizer_params p;
  Py_ssize_t size;
  const char *text = utf8_of(otext, "text", &size);
  if (text == NULL || tokenizer_params(otok, &p) < 0)
    return NULL;
  /* A first guess that fits most texts (lower-casing rarely grows them),
   * then the exact sizes the call reports. */
  int64_t chars_cap = 2 * (int64_t)size + 16, offsets_cap = size + 2;
  for (int attempt = 0; attempt < 2; attempt++) {
    char *chars = PyMem_Malloc((size_t)chars_cap);
    int64_t *offsets = PyMem_Malloc(sizeof(int64_t) * (size_t)offsets_cap);
    if (chars == NULL || offsets == NULL) {
      PyMem_Free(chars);
      PyMem_Free(offsets);
      return PyErr_NoMemory();
    }
    int64_t count = 0, needed = 0;
    seqrnn_status st;
    Py_BEGIN_ALLOW_THREADS st =
        seqrnn_tokenize(&p, text, (int64_t)size, chars, chars_cap, offsets,
                        offsets_cap, &count, &needed);
    Py_END_ALLOW_THREADS if (st == SEQRNN_E_BUFFER_TOO_SMALL && attempt == 0) {
      PyMem_Free(chars);
      PyMem_Free(offsets);
      chars_cap = needed;
      offsets_cap = count + 1;
      continue;
    }
    PyObject *result = NULL;
    if (st != SEQRNN_OK) {
      ext_raise_status(st);
    } else if ((result = PyList_New((Py_ssize_t)count)) != NULL) {
      for (int64_t i = 0; i < count; i++) {
        PyObject *token = PyUnicode_DecodeUTF8(
            chars + offsets[i], (Py_ssize_t)(offsets[i + 1] - offsets[i] - 1),
            "strict");
        if (token == NULL) {
          Py_CLEAR(result);
          break;
        }
        PyList_SET_ITEM(result, (Py_ssize_t)i, token);
      }
    }
    PyMem_Free(chars);
    PyMem_Free(offsets);
    return result;
  }
  return ext_raise(ext_Error, "tokenize: the token sizes kept changing");
}

/* ---- vocabulary constructors --------------------------------------------- */

const char ext_vocabulary_create_doc[] = PyDoc_STR(
    "vocabulary_create(words, counts, tokenizer, /)\n--\n\n"
    "A Vocabulary of words (a list of str; ids 2, 3, ...), counts (a list\n"
    "of int or None) and tokenizer (a tuple or None)\n"
    "(seqrnn_vocabulary_create).");

PyObject *ext_vocabulary_create(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *owords, *ocounts, *otok;
  if (!PyArg_ParseTuple(args, "OOO:vocabulary_create", &owords, &ocounts,
                        &otok))
    return NULL;
  seqrnn_tokenizer_params p;
  if (otok != Py_None && tokenizer_params(otok, &p) < 0)
    return NULL;
  PyObject *held = NULL, *held_counts = NULL;
  const char **words = NULL;
  int64_t *counts = NULL;
  Py_ssize_t n = 0;
  PyObject *result = NULL;
  if (utf8_array(owords, "words", &held, &words, NULL, &n) < 0)
    return NULL;
  if (ocounts != Py_None) {
    held_counts = PySequence_Fast(ocounts, "counts: expected a list of int");
    if (held_counts == NULL)
      goto done;
    Py_ssize_t m = PySequence_Fast_GET_SIZE(held_counts);
    if (m != n) {
      ext_raise(ext_ShapeError, "counts: %zd counts for %zd words", m, n);
      goto done;
    }
    counts = PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    if (counts == NULL) {
      PyErr_NoMemory();
      goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
      if (ext_to_int64(PySequence_Fast_GET_ITEM(held_counts, i), "counts",
                       &counts[i]) < 0)
        goto done;
  }
  seqrnn_vocabulary *v = NULL;
  seqrnn_status st;
  Py_BEGIN_ALLOW_THREADS st = seqrnn_vocabulary_create(
      words, (int64_t)n, counts, otok == Py_None ? NULL : &p, &v);
  Py_END_ALLOW_THREADS if (st != SEQRNN_OK) ext_raise_status(st);
  else result = wrap_vocabulary(v);
done:
  PyMem_Free((void *)words);
  PyMem_Free(counts);
  Py_XDECREF(held);
  Py_XDECREF(held_counts);
  return result;
}

const char ext_vocabulary_build_doc[] = PyDoc_STR(
    "vocabulary_build(texts, min_frequency, max_size, tokenizer, /)\n--\n\n"
    "A Vocabulary of the tokens of texts (a list of str) seen at least\n"
    "min_frequency times, at most max_size ids (0: no limit)\n"
    "(seqrnn_vocabulary_build), GIL released.");

PyObject *ext_vocabulary_build(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *otexts, *omin, *omax, *otok;
  if (!PyArg_ParseTuple(args, "OOOO:vocabulary_build", &otexts, &omin, &omax,
                        &otok))
    return NULL;
  seqrnn_tokenizer_params p;
  int64_t min_frequency, max_size;
  if (ext_to_int64(omin, "min_frequency", &min_frequency) < 0 ||
      ext_to_int64(omax, "max_size", &max_size) < 0 ||
      tokenizer_params(otok, &p) < 0)
    return NULL;
  PyObject *held = NULL;
  const char **texts = NULL;
  int64_t *sizes = NULL;
  Py_ssize_t n = 0;
  if (utf8_array(otexts, "texts", &held, &texts, &sizes, &n) < 0)
    return NULL;
  seqrnn_vocabulary *v = NULL;
  seqrnn_status st;
  Py_BEGIN_ALLOW_THREADS st = seqrnn_vocabulary_build(
      texts, sizes, (int64_t)n, min_frequency, max_size, &p, &v);
  Py_END_ALLOW_THREADS PyMem_Free((void *)texts);
  PyMem_Free(sizes);
  Py_DECREF(held);
  if (st != SEQRNN_OK)
    return ext_raise_status(st);
  return wrap_vocabulary(v);
}

const char ext_vocabulary_build_from_tokens_doc[] = PyDoc_STR(
    "vocabulary_build_from_tokens(tokens, min_frequency, max_size,\n"
    "                             tokenizer, /)\n--\n\n"
    "vocabulary_build from the tokens of all texts (a list of str, taken\n"
    "as they are) (seqrnn_vocabulary_build_from_tokens), GIL released.");

PyObject *ext_vocabulary_build_from_tokens(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *otokens, *omin, *omax, *otok;
  if (!PyArg_ParseTuple(args, "OOOO:vocabulary_build_from_tokens", &otokens,
                        &omin, &omax, &otok))
    return NULL;
  seqrnn_tokenizer_params p;
  int64_t min_frequency, max_size;
  if (ext_to_int64(omin, "min_frequency", &min_frequency) < 0 ||
      ext_to_int64(omax, "max_size", &max_size) < 0 ||
      tokenizer_params(otok, &p) < 0)
    return NULL;
  PyObject *held = NULL;
  const char **tokens = NULL;
  Py_ssize_t n = 0;
  if (utf8_array(otokens, "tokens", &held, &tokens, NULL, &n) < 0)
    return NULL;
  seqrnn_vocabulary *v = NULL;
  seqrnn_status st;
  Py_BEGIN_ALLOW_THREADS st = seqrnn_vocabulary_build_from_tokens(
      tokens, (int64_t)n, min_frequency, max_size, &p, &v);
  Py_END_ALLOW_THREADS PyMem_Free((void *)tokens);
  Py_DECREF(held);
  if (st != SEQRNN_OK)
    return ext_raise_status(st);
  return wrap_vocabulary(v);
}

const char ext_vocabulary_load_doc[] = PyDoc_STR(
    "vocabulary_load(path, /)\n--\n\n"
    "The Vocabulary saved at path (a str) (seqrnn_vocabulary_load), GIL\n"
    "released.");

PyObject *ext_vocabulary_load(PyObject *module, PyObject *arg) {
  (void)module;
  const char *path = ext_name(arg, "path");
  if (path == NULL)
    return NULL;
  seqrnn_vocabulary *v = NULL;
  seqrnn_status st;
  Py_BEGIN_ALLOW_THREADS st = seqrnn_vocabulary_load(path, &v);
  Py_END_ALLOW_THREADS if (st != SEQRNN_OK) return ext_raise_status(st);
  return wrap_vocabulary(v);
}

const char ext_vocabulary_from_json_doc[] =
    PyDoc_STR("vocabulary_from_json(text, /)\n--\n\n"
              "The Vocabulary of a vocabulary file's JSON text (a str)\n"
              "(seqrnn_vocabulary_from_json).");

PyObject *ext_vocabulary_from_json(PyObject *module, PyObject *arg) {
  (void)module;
  Py_ssize_t size;
  const char *text = utf8_of(arg, "text", &size);
  if (text == NULL)
    return NULL;
  seqrnn_vocabulary *v = NULL;
  seqrnn_status st;
  Py_BEGIN_ALLOW_THREADS st =
      seqrnn_vocabulary_from_json(text, (int64_t)size, &v);
  Py_END_ALLOW_THREADS if (st != SEQRNN_OK) return ext_raise_status(st);
  return wrap_vocabulary(v);
}

/* ---- the Vocabulary type ------------------------------------------------- */

static PyObject *wrap_vocabulary(seqrnn_vocabulary *handle) {
  VocabularyObject *self =
      (VocabularyObject *)ext_VocabularyType.tp_alloc(&ext_VocabularyType, 0);
  if (self == NULL) {
    seqrnn_vocabulary_free(handle);
    return NULL;
  }
  self->vocabulary = handle;
  return (PyObject *)self;
}

static void vocabulary_dealloc(VocabularyObject *self) {
  if (self->weakrefs != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  seqrnn_vocabulary_free(self->vocabulary);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(vocabulary_size_doc,
             "size($self, /)\n--\n\n"
             "The number of ids (seqrnn_vocabulary_size).");

static PyObject *vocabulary_size(VocabularyObject *self, PyObject *unused) {
  (void)unused;
  int64_t size = 0;
  seqrnn_status st = seqrnn_vocabulary_size(self->vocabulary, &size);
  if (st != SEQRNN_OK)
    return ext_raise_status(st);
  return PyLong_FromLongLong((long long)size);
}

PyDoc_STRVAR(vocabulary_word_doc, "word($self, id, /)\n--\n\n"
                                  "The word of id (seqrnn_vocabulary_word).");

static PyObject *vocabulary_word(VocabularyObject *self, PyObject *arg) {
  int64_t id;
  if (ext_to_int64(arg, "id", &id) < 0)
    return NULL;
  const char *word = NULL;
  seqrnn_status st = seqrnn_vocabulary_word(self->vocabulary, id, &word);
  if (st != SEQRNN_OK)
    return ext_raise_status(st);
  return PyUnicode_FromString(word);
}

PyDoc_STRVAR(vocabulary_words_doc,
             "words($self, /)\n--\n\n"
             "The word of every id as a list (seqrnn_vocabulary_word for each\n"
             "id).");

static PyObject *vocabulary_words(VocabularyObject *self, PyObject *unused) {
  (void)unused;
  int64_t size = 0;
  seqrnn_status st = seqrnn_vocabulary_size(self->vocabulary, &size);
  if (st != SEQRNN_OK)
    return ext_raise_status(st);
  PyObject *list = PyList_New((Py_ssize_t)size);
  for (int64_t i = 0; list != NULL && i < size; i++) {
    const char *word = NULL;
    st = seqrnn_vocabulary_word(self->vocabulary, i, &word);
    PyObject *item =
        st == SEQRNN_OK ? PyUnicode_FromString(word) : ext_raise_status(st);
    if (item == NULL)
      Py_CLEAR(list);
    else
      PyList_SET_ITEM(list, (Py_ssize_t)i, item);
  }
  return list;
}

PyDoc_STRVAR(vocabulary_id_doc,
             "id($self, word, /)\n--\n\n"
             "The id of word, 1 when unknown (seqrnn_vocabulary_id).");

static PyObject *vocabulary_id(VocabularyObject *self, PyObject *arg) {
  const char *word = ext_name(arg, "word");
  if (word == NULL)
    return NULL;
  int32_t id = 0;
  seqrnn_status st = seqrnn_vocabulary_id(self->vocabulary, word, &id);
  if (st != SEQRNN_OK)
    return ext_raise_status(st);
  return PyLong_FromLong(id);
}

PyDoc_STRVAR(vocabulary_count_doc,
             "count($self, id, /)\n--\n\n"
             "(count, has_counts) of id (seqrnn_vocabulary_count).");

static PyObject *vocabulary_count(VocabularyObject *self, PyObject *arg) {
  int64_t id, count = 0;
  int32_t has = 0;
  if (ext_to_int64(arg, "id", &id) < 0)
    return NULL;
  seqrnn_status st =
      seqrnn_vocabulary_count(self->vocabulary, id, &count, &has);
  if (st != SEQRNN_OK)
    return ext_raise_status(st);
  return Py_BuildValue("(LN)", (long long)count, PyBool_FromLong(has));
}

PyDoc_STRVAR(vocabulary_tokenizer_doc,
             "tokenizer($self, /)\n--\n\n"
             "The tokenizer as (rule, lower, pattern), or None\n"
             "(seqrnn_vocabulary_get_tokenizer).");

static PyObject *vocabulary_tokenizer(VocabularyObject *self,
                                      PyObject *unused) {
  (void)unused;
  int32_t has = 0;
  seqrnn_tokenizer_params p;
  seqrnn_status st =
      seqrnn_vocabulary_get_tokenizer(self->vocabulary, &has, &p);
  if (st != SEQRNN_OK)
    return ext_raise_status(st);
  if (!has)
    Py_RETURN_NONE;
  return tokenizer_tuple(&p);
}

PyDoc_STRVAR(vocabulary_encode_doc,
             "encode($self, text, /)\n--\n\n"
             "The int32 ids of text (a str) split by the vocabulary's\n"
             "tokenizer, as a bytearray (seqrnn_vocabulary_encode), GIL\n"
             "released.");

static PyObject *vocabulary_encode(VocabularyObject *self, PyObject *arg) {
  Py_ssize_t size;
  const char *text = utf8_of(arg, "text", &size);
  if (text == NULL)
    return NULL;
  /* A guess of one id per byte fits every text without case changes that
   * grow it; otherwise the call reports the exact count for a retry. */
  int64_t capacity = (int64_t)size + 1;
  for (int attempt = 0; attempt < 2; attempt++) {
    PyObject *out =
        PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(4 * capacity));
    if (out == NULL)
      return NULL;
    int32_t *ids = (int32_t *)PyByteArray_AS_STRING(out);
    int64_t count = 0;
    seqrnn_status st;
    Py_BEGIN_ALLOW_THREADS st = seqrnn_vocabulary_encode(
        self->vocabulary, text, (int64_t)size, ids, capacity, &count);
    Py_END_ALLOW_THREADS if (st == SEQRNN_E_BUFFER_TOO_SMALL && attempt == 0) {
      Py_DECREF(out);
      capacity = count;
      continue;
    }
    if (st != SEQRNN_OK) {
      Py_DECREF(out);
      return ext_raise_status(st);
    }
    if (PyByteArray_Resize(out, (Py_ssize_t)(4 * count)) < 0) {
      Py_DECREF(out);
      return NULL;
    }
    return out;
  }
  return ext_raise(ext_Error, "encode: the token count kept changing");
}

PyDoc_STRVAR(vocabulary_encode_tokens_doc,
             "encode_tokens($self, tokens, out, /)\n--\n\n"
             "Writes the ids of tokens (a list of str) into out, a writable\n"
             "int32 buffer of len(tokens) elements\n"
             "(seqrnn_vocabulary_encode_tokens).");

static PyObject *vocabulary_encode_tokens(VocabularyObject *self,
                                          PyObject *args) {
  PyObject *otokens, *oout;
  if (!PyArg_ParseTuple(args, "OO:encode_tokens", &otokens, &oout))
    return NULL;
  PyObject *held = NULL;
  const char **tokens = NULL;
  Py_ssize_t n = 0;
  if (utf8_array(otokens, "tokens", &held, &tokens, NULL, &n) < 0)
    return NULL;
  ext_buffer out = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(oout, "out", EXT_INT32, 1, (int64_t)n, "[len(tokens)]",
                     &out) == 0) {
    seqrnn_status st;
    Py_BEGIN_ALLOW_THREADS st = seqrnn_vocabulary_encode_tokens(
        self->vocabulary, tokens, (int64_t)n, ext_buffer_ptr(&out));
    Py_END_ALLOW_THREADS if (st != SEQRNN_OK) ext_raise_status(st);
    else result = Py_NewRef(Py_None);
  }
  ext_buffer_release(&out);
  PyMem_Free((void *)tokens);
  Py_DECREF(held);
  return result;
}

PyDoc_STRVAR(vocabulary_decode_doc,
             "decode($self, ids, skip_pad, /)\n--\n\n"
             "The words of ids (an int32 buffer) as a list of str\n"
             "(seqrnn_vocabulary_decode).");

static PyObject *vocabulary_decode(VocabularyObject *self, PyObject *args) {
  PyObject *oids;
  int skip_pad;
  if (!PyArg_ParseTuple(args, "Op:decode", &oids, &skip_pad))
    return NULL;
  ext_buffer ids = {0};
  if (ext_buffer_get(oids, "ids", EXT_INT32, 0, -1, NULL, &ids) < 0)
    return NULL;
  PyObject *result = NULL;
  const char **words =
      PyMem_Malloc(sizeof(char *) * (size_t)(ids.count ? ids.count : 1));
  if (words == NULL) {
    PyErr_NoMemory();
  } else {
    int64_t n = 0;
    seqrnn_status st =
        seqrnn_vocabulary_decode(self->vocabulary, ext_buffer_ptr(&ids),
                                 ids.count, skip_pad, words, ids.count, &n);
    if (st != SEQRNN_OK) {
      ext_raise_status(st);
    } else if ((result = PyList_New((Py_ssize_t)n)) != NULL) {
      for (int64_t i = 0; i < n; i++) {
        PyObject *word = PyUnicode_FromString(words[i]);
        if (word == NULL) {
          Py_CLEAR(result);
          break;
        }
        PyList_SET_ITEM(result, (Py_ssize_t)i, word);
      }
    }
  }
  PyMem_Free((void *)words);
  ext_buffer_release(&ids);
  return result;
}

PyDoc_STRVAR(vocabulary_save_doc,
             "save($self, path, /)\n--\n\n"
             "Writes the vocabulary's JSON file atomically\n"
             "(seqrnn_vocabulary_save), GIL released.");

static PyObject *vocabulary_save(VocabularyObject *self, PyObject *arg) {
  const char *path = ext_name(arg, "path");
  if (path == NULL)
    return NULL;
  seqrnn_status st;
  Py_BEGIN_ALLOW_THREADS st = seqrnn_vocabulary_save(self->vocabulary, path);
  Py_END_ALLOW_THREADS if (st != SEQRNN_OK) return ext_raise_status(st);
  Py_RETURN_NONE;
}

PyDoc_STRVAR(vocabulary_to_json_doc,
             "to_json($self, /)\n--\n\n"
             "The vocabulary file's JSON text as a str\n"
             "(seqrnn_vocabulary_to_json).");

static PyObject *vocabulary_to_json(VocabularyObject *self, PyObject *unused) {
  (void)unused;
  int64_t needed = 0;
  seqrnn_status st =
      seqrnn_vocabulary_to_json(self->vocabulary, NULL, 0, &needed);
  if (st != SEQRNN_OK)
    return ext_raise_status(st);
  char *text = PyMem_Malloc((size_t)needed);
  if (text == NULL)
    return PyErr_NoMemory();
  st = seqrnn_vocabulary_to_json(self->vocabulary, text, needed, &needed);
  PyObject *result =
      st == SEQRNN_OK
          ? PyUnicode_DecodeUTF8(text, (Py_ssize_t)(needed - 1), "strict")
          : ext_raise_status(st);
  PyMem_Free(text);
  return result;
}

static PyMethodDef vocabulary_methods[] = {
    {"size", (PyCFunction)vocabulary_size, METH_NOARGS, vocabulary_size_doc},
    {"word", (PyCFunction)vocabulary_word, METH_O, vocabulary_word_doc},
    {"words", (PyCFunction)vocabulary_words, METH_NOARGS, vocabulary_words_doc},
    {"id", (PyCFunction)vocabulary_id, METH_O, vocabulary_id_doc},
    {"count", (PyCFunction)vocabulary_count, METH_O, vocabulary_count_doc},
    {"tokenizer", (PyCFunction)vocabulary_tokenizer, METH_NOARGS,
     vocabulary_tokenizer_doc},
    {"encode", (PyCFunction)vocabulary_encode, METH_O, vocabulary_encode_doc},
    {"encode_tokens", (PyCFunction)vocabulary_encode_tokens, METH_VARARGS,
     vocabulary_encode_tokens_doc},
    {"decode", (PyCFunction)vocabulary_decode, METH_VARARGS,
     vocabulary_decode_doc},
    {"save", (PyCFunction)vocabulary_save, METH_O, vocabulary_save_doc},
    {"to_json", (PyCFunction)vocabulary_to_json, METH_NOARGS,
     vocabulary_to_json_doc},
    {NULL, NULL, 0, NULL}};

PyTypeObject ext_VocabularyType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "seqrnn._seqrnn.Vocabulary",
    .tp_basicsize = sizeof(VocabularyObject),
    .tp_dealloc = (destructor)vocabulary_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("A seqrnn_vocabulary (immutable; made by the module's\n"
                        "vocabulary_* functions)."),
    .tp_weaklistoffset = offsetof(VocabularyObject, weakrefs),
    .tp_methods = vocabulary_methods,
};

/* ---- padding and buckets ------------------------------------------------- */

const char ext_pad_batch_doc[] = PyDoc_STR(
    "pad_batch(sequences, max_len, pad_id, out, out_lengths, /)\n"
    "--\n\n"
    "Pads sequences (a list of int32 buffers) into out, a writable int32\n"
    "buffer [len][seq_len], and their kept lengths into out_lengths\n"
    "(int64 [len]); returns seq_len (seqrnn_pad_batch). max_len 0 keeps\n"
    "every id.");

PyObject *ext_pad_batch(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *oseqs, *omax, *opad, *oout, *olengths;
  if (!PyArg_ParseTuple(args, "OOOOO:pad_batch", &oseqs, &omax, &opad, &oout,
                        &olengths))
    return NULL;
  int64_t max_len;
  int32_t pad_id;
  if (ext_to_int64(omax, "max_len", &max_len) < 0 ||
      ext_to_int32(opad, "pad_id", &pad_id) < 0)
    return NULL;
  PyObject *held = PySequence_Fast(oseqs, "sequences: expected a list");
  if (held == NULL)
    return NULL;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(held);
  ext_buffer *bufs = PyMem_Calloc((size_t)(n ? n : 1), sizeof(ext_buffer));
  const int32_t **ptrs = PyMem_Malloc(sizeof(int32_t *) * (size_t)(n ? n : 1));
  int64_t *lengths = PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  ext_buffer out = {0}, out_lengths = {0};
  PyObject *result = NULL;
  Py_ssize_t taken = 0;
  if (bufs == NULL || ptrs == NULL || lengths == NULL) {
    PyErr_NoMemory();
    goto done;
  }
  for (; taken < n; taken++) {
    if (ext_buffer_get(PySequence_Fast_GET_ITEM(held, taken), "sequences",
                       EXT_INT32, 0, -1, NULL, &bufs[taken]) < 0)
      goto done;
    ptrs[taken] = ext_buffer_ptr(&bufs[taken]);
    lengths[taken] = bufs[taken].count;
  }
  if (ext_buffer_get(oout, "out", EXT_INT32, 1, -1, NULL, &out) < 0 ||
      ext_buffer_get(olengths, "out_lengths", EXT_INT64, 1, (int64_t)n, "[len]",
                     &out_lengths) < 0)
    goto done;
  int64_t seq_len = 0;
  seqrnn_status st;
  Py_BEGIN_ALLOW_THREADS st = seqrnn_pad_batch(
      ptrs, lengths, (int64_t)n, max_len, pad_id, ext_buffer_ptr(&out),
      out.count, ext_buffer_ptr(&out_lengths), &seq_len);
  Py_END_ALLOW_THREADS if (st != SEQRNN_OK) ext_raise_status(st);
  else result = PyLong_FromLongLong((long long)seq_len);
done:
  for (Py_ssize_t i = 0; i < taken && bufs != NULL; i++)
    ext_buffer_release(&bufs[i]);
  ext_buffer_release(&out);
  ext_buffer_release(&out_lengths);
  PyMem_Free(bufs);
  PyMem_Free((void *)ptrs);
  PyMem_Free(lengths);
  Py_DECREF(held);
  return result;
}

const char ext_bucket_batches_doc[] = PyDoc_STR(
    "bucket_batches(lengths, batch_size, shuffle, seed, epoch, chunk_batches,\n"
    "               out, /)\n--\n\n"
    "Writes the length-bucketed order of the sequences of lengths (int64)\n"
    "into out (writable int64, len(lengths) elements); batch k is\n"
    "out[k * batch_size:(k + 1) * batch_size] (seqrnn_bucket_batches).");

PyObject *ext_bucket_batches(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *olengths, *obatch, *oseed, *oepoch, *ochunk, *oout;
  int shuffle;
  if (!PyArg_ParseTuple(args, "OOpOOOO:bucket_batches", &olengths, &obatch,
                        &shuffle, &oseed, &oepoch, &ochunk, &oout))
    return NULL;
  int64_t batch, chunk;
  uint64_t seed, epoch;
  if (ext_to_int64(obatch, "batch_size", &batch) < 0 ||
      ext_to_uint64(oseed, "seed", &seed) < 0 ||
      ext_to_uint64(oepoch, "epoch", &epoch) < 0 ||
      ext_to_int64(ochunk, "chunk_batches", &chunk) < 0)
    return NULL;
  ext_buffer lengths = {0}, out = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(olengths, "lengths", EXT_INT64, 0, -1, NULL, &lengths) ==
          0 &&
      ext_buffer_get(oout, "out", EXT_INT64, 1, lengths.count, "[len(lengths)]",
                     &out) == 0) {
    seqrnn_status st;
    Py_BEGIN_ALLOW_THREADS st = seqrnn_bucket_batches(
        ext_buffer_ptr(&lengths), lengths.count, batch, shuffle, seed, epoch,
        chunk, ext_buffer_ptr(&out));
    Py_END_ALLOW_THREADS if (st != SEQRNN_OK) ext_raise_status(st);
    else result = Py_NewRef(Py_None);
  }
  ext_buffer_release(&lengths);
  ext_buffer_release(&out);
  return result;
}
