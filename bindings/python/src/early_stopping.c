/*
 * early_stopping.c - seqrnn._seqrnn.EarlyStopping over
 * seqrnn_early_stopping, and load_word_vectors() over
 * seqrnn_model_load_word_vectors: the calls that copy weights into or out of
 * a model from outside training.
 *
 * EarlyStopping's mutex serialises its users; update() shares its model's
 * lock (it copies the weights out), restore() and load_word_vectors() take
 * it exclusively (they write the weights).
 */
#include "ext.h"

typedef struct {
  PyObject_HEAD seqrnn_early_stopping *es; /* NULL once closed */
  PyThread_type_lock lock;
  int closed;
  PyObject *weakrefs;
} EarlyStoppingObject;

static int check_open(EarlyStoppingObject *self) {
  if (self->closed) {
    ext_raise_closed("EarlyStopping");
    return -1;
  }
  return 0;
}

static PyObject *es_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
  static char *kw[] = {"maximize", "patience", "min_delta", NULL};
  int maximize;
  PyObject *opatience;
  double min_delta;
  int64_t patience;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "pOd:EarlyStopping", kw,
                                   &maximize, &opatience, &min_delta) ||
      ext_to_int64(opatience, "patience", &patience) < 0)
    return NULL;
  EarlyStoppingObject *self = (EarlyStoppingObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  self->lock = PyThread_allocate_lock();
  if (self->lock == NULL) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  seqrnn_status st =
      seqrnn_early_stopping_create(maximize, patience, min_delta, &self->es);
  if (st != SEQRNN_OK) {
    ext_raise_status(st);
    Py_DECREF(self);
    return NULL;
  }
  return (PyObject *)self;
}

static void es_dealloc(EarlyStoppingObject *self) {
  if (self->weakrefs != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  seqrnn_early_stopping_free(self->es);
  if (self->lock != NULL)
    PyThread_free_lock(self->lock);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(es_close_doc,
             "close($self, /)\n--\n\n"
             "Frees the tracker and its copy of the best weights now\n"
             "(seqrnn_early_stopping_free); its methods then raise\n"
             "InvalidArgumentError. Closing twice is a no-op.");

static PyObject *es_close(EarlyStoppingObject *self, PyObject *unused) {
  (void)unused;
  if (self->closed)
    Py_RETURN_NONE;
  self->closed = 1;
  Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, WAIT_LOCK);
  seqrnn_early_stopping_free(self->es);
  self->es = NULL;
  PyThread_release_lock(self->lock);
  Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

/* Runs update (value given) or restore (value NULL) on model. */
static PyObject *es_call(EarlyStoppingObject *self, ModelObject *model,
                         const double *value) {
  if (check_open(self) < 0)
    return NULL;
  if (model->closed)
    return ext_raise_closed("Model");
  int st;
  int32_t stop = 0;
  const char *closed = "EarlyStopping";
  Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, WAIT_LOCK);
  if (value != NULL)
    ext_model_lock_shared(model);
  else
    ext_model_lock_exclusive(model);
  if (self->es == NULL) {
    st = EXT_CLOSED;
  } else if (model->model == NULL) {
    st = EXT_CLOSED;
    closed = "Model";
  } else if (value != NULL) {
    st = (int)seqrnn_early_stopping_update(self->es, model->model, *value,
                                           &stop);
  } else {
    st = (int)seqrnn_early_stopping_restore(self->es, model->model);
  }
  ext_model_unlock(model);
  PyThread_release_lock(self->lock);
  Py_END_ALLOW_THREADS if (ext_status(st, closed) < 0) return NULL;
  if (value != NULL)
    return PyBool_FromLong(stop);
  Py_RETURN_NONE;
}

PyDoc_STRVAR(
    es_update_doc,
    "update($self, model, value, /)\n--\n\n"
    "Records value for model; on an improvement copies the model's weights\n"
    "as the best so far (seqrnn_early_stopping_update). Returns True once\n"
    "patience evaluations passed without improvement. Raises\n"
    "NonFiniteError for NaN or infinite values, ShapeError for a model of\n"
    "another architecture than earlier calls.");

static PyObject *es_update(EarlyStoppingObject *self, PyObject *args) {
  ModelObject *model;
  double value;
  if (!PyArg_ParseTuple(args, "O!d:update", &ext_ModelType, &model, &value))
    return NULL;
  return es_call(self, model, &value);
}

PyDoc_STRVAR(es_restore_doc,
             "restore($self, model, /)\n--\n\n"
             "Copies the best weights back into model\n"
             "(seqrnn_early_stopping_restore), the model locked against every\n"
             "other use. Raises UnsupportedError before the first update(),\n"
             "ShapeError for a model of another architecture.");

static PyObject *es_restore(EarlyStoppingObject *self, PyObject *arg) {
  if (!PyObject_TypeCheck(arg, &ext_ModelType)) {
    PyErr_Format(PyExc_TypeError, "restore: expected a Model, got %.100s",
                 Py_TYPE(arg)->tp_name);
    return NULL;
  }
  return es_call(self, (ModelObject *)arg, NULL);
}

PyDoc_STRVAR(es_best_doc,
             "best($self, /)\n--\n\n"
             "(value, index) of the best update so far, index counting\n"
             "update() calls from 0 (seqrnn_early_stopping_best); None\n"
             "before the first update().");

static PyObject *es_best(EarlyStoppingObject *self, PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  double value = 0;
  int64_t index = 0;
  int st;
  Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, WAIT_LOCK);
  st = self->es == NULL
           ? EXT_CLOSED
           : (int)seqrnn_early_stopping_best(self->es, &value, &index);
  PyThread_release_lock(self->lock);
  Py_END_ALLOW_THREADS if (st == SEQRNN_E_UNSUPPORTED) Py_RETURN_NONE;
  if (ext_status(st, "EarlyStopping") < 0)
    return NULL;
  return Py_BuildValue("(dL)", value, (long long)index);
}

static PyObject *es_get_closed(EarlyStoppingObject *self, void *unused) {
  (void)unused;
  return PyBool_FromLong(self->closed);
}

static PyMethodDef es_methods[] = {
    {"update", (PyCFunction)es_update, METH_VARARGS, es_update_doc},
    {"restore", (PyCFunction)es_restore, METH_O, es_restore_doc},
    {"best", (PyCFunction)es_best, METH_NOARGS, es_best_doc},
    {"close", (PyCFunction)es_close, METH_NOARGS, es_close_doc},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef es_getset[] = {{"closed", (getter)es_get_closed, NULL,
                                   "True once close() was called.", NULL},
                                  {NULL, NULL, NULL, NULL, NULL}};

PyDoc_STRVAR(
    es_doc,
    "EarlyStopping(maximize, patience, min_delta)\n--\n\n"
    "Tracks a validation metric and keeps a copy of the best weights\n"
    "(seqrnn_early_stopping): maximize True when larger values are better;\n"
    "a value improves when it beats the best by more than min_delta.\n"
    "Calls from several threads are serialised by its own lock.");

PyTypeObject ext_EarlyStoppingType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "seqrnn._seqrnn.EarlyStopping",
    .tp_basicsize = sizeof(EarlyStoppingObject),
    .tp_dealloc = (destructor)es_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = es_doc,
    .tp_methods = es_methods,
    .tp_getset = es_getset,
    .tp_new = es_new,
    .tp_weaklistoffset = offsetof(EarlyStoppingObject, weakrefs),
};

/* ---- pretrained embeddings ----------------------------------------------- */

const char ext_load_word_vectors_doc[] = PyDoc_STR(
    "load_word_vectors(model, path, vocabulary, /)\n--\n\n"
    "Fills rows of model's embedding.weight from a GloVe or word2vec text\n"
    "file (seqrnn_model_load_word_vectors): row i receives the vector of\n"
    "vocabulary[i] (a sequence of str, one per token id; \"\" matches no\n"
    "line). GIL released, the model locked against every other use.\n"
    "Returns the number of rows filled. Raises UnsupportedError (feature\n"
    "model), ShapeError (vocabulary length, vector width), FileError,\n"
    "FormatError, NonFiniteError; on error the model is unchanged.");

PyObject *ext_load_word_vectors(PyObject *module, PyObject *args) {
  (void)module;
  ModelObject *model;
  PyObject *opath, *ovocabulary;
  if (!PyArg_ParseTuple(args, "O!OO:load_word_vectors", &ext_ModelType, &model,
                        &opath, &ovocabulary))
    return NULL;
  if (model->closed)
    return ext_raise_closed("Model");
  PyObject *path = NULL;
  if (!PyUnicode_FSConverter(opath, &path))
    return NULL;
  PyObject *words = PySequence_Fast(
      ovocabulary, "vocabulary: expected a sequence of str (one per token id)");
  if (words == NULL) {
    Py_DECREF(path);
    return NULL;
  }
  Py_ssize_t n = PySequence_Fast_GET_SIZE(words);
  const char **texts = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof *texts);
  PyObject *result = NULL;
  if (texts == NULL) {
    PyErr_NoMemory();
    goto done;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    char arg[48];
    snprintf(arg, sizeof arg, "vocabulary[%zd]", i);
    /* UTF-8 owned by the str, alive while words holds it. */
    texts[i] = ext_name(PySequence_Fast_GET_ITEM(words, i), arg);
    if (texts[i] == NULL)
      goto done;
  }
  int st;
  int64_t found = 0;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_exclusive(model);
  st = model->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_model_load_word_vectors(model->model,
                                                 PyBytes_AS_STRING(path), texts,
                                                 (int64_t)n, &found);
  ext_model_unlock(model);
  Py_END_ALLOW_THREADS if (ext_status(st, "Model") == 0) result =
      PyLong_FromLongLong((long long)found);
done:
  PyMem_Free(texts);
  Py_DECREF(words);
  Py_DECREF(path);
  return result;
}
