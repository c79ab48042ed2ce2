/*
 * model.c - seqrnn._seqrnn.Model over seqrnn_model.
 */
#include "ext.h"

#include <string.h>

/* ---- the lock ------------------------------------------------------------ */

void ext_model_lock_shared(ModelObject *m) { pthread_rwlock_rdlock(&m->lock); }

void ext_model_lock_exclusive(ModelObject *m) {
  pthread_rwlock_wrlock(&m->lock);
}

void ext_model_unlock(ModelObject *m) { pthread_rwlock_unlock(&m->lock); }

static int lock_init(pthread_rwlock_t *lock) {
  pthread_rwlockattr_t attr;
  if (pthread_rwlockattr_init(&attr) != 0)
    return -1;
#ifdef __GLIBC__
  /* A stream of forward calls must not starve set_tensor or training. */
  pthread_rwlockattr_setkind_np(&attr,
                                PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
  int rc = pthread_rwlock_init(lock, &attr);
  pthread_rwlockattr_destroy(&attr);
  return rc == 0 ? 0 : -1;
}

int ext_status(int status, const char *what) {
  if (status == SEQRNN_OK)
    return 0;
  if (status == EXT_CLOSED)
    ext_raise_closed(what);
  else
    ext_raise_status((seqrnn_status)status);
  return -1;
}

static int check_open(ModelObject *self) {
  if (self->closed) {
    ext_raise_closed("Model");
    return -1;
  }
  return 0;
}

/* ---- creation and release ------------------------------------------------ */

/* Wraps a new model handle in a Model object (taking it over). */
static PyObject *model_wrap(PyTypeObject *type, seqrnn_model *handle) {
  ModelObject *self = (ModelObject *)type->tp_alloc(type, 0);
  if (self == NULL) {
    seqrnn_model_free(handle);
    return NULL;
  }
  if (lock_init(&self->lock) < 0) {
    seqrnn_model_free(handle);
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  self->lock_ready = 1;
  self->model = handle;
  seqrnn_status st = seqrnn_model_get_params(handle, &self->params);
  if (st != SEQRNN_OK) {
    ext_raise_status(st);
    Py_DECREF(self);
    return NULL;
  }
  return (PyObject *)self;
}

PyObject *ext_model_wrap(seqrnn_model *handle) {
  return model_wrap(&ext_ModelType, handle);
}

static PyObject *model_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
  static char *kw[] = {"cell",
                       "input_size",
                       "vocab_size",
                       "hidden_size",
                       "num_layers",
                       "bidirectional",
                       "output_size",
                       "output_mode",
                       "loss",
                       "seed",
                       "dropout",
                       "head_dropout",
                       "recurrent_dropout",
                       "zoneout",
                       "init",
                       "forget_bias_one",
                       NULL};
  PyObject *v[16] = {NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$OOOOOOOOOOOOOOOO:Model", kw,
                                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                                   &v[6], &v[7], &v[8], &v[9], &v[10], &v[11],
                                   &v[12], &v[13], &v[14], &v[15]) ||
      ext_require("Model", kw, v, 10) < 0)
    return NULL;
  seqrnn_model_params p = seqrnn_model_default_params();
  int bidirectional = 0;
  if (ext_to_int32(v[0], "cell", &p.cell) < 0 ||
      ext_to_int64(v[1], "input_size", &p.input_size) < 0 ||
      ext_to_int64(v[2], "vocab_size", &p.vocab_size) < 0 ||
      ext_to_int64(v[3], "hidden_size", &p.hidden_size) < 0 ||
      ext_to_int64(v[4], "num_layers", &p.num_layers) < 0 ||
      (bidirectional = PyObject_IsTrue(v[5])) < 0 ||
      ext_to_int64(v[6], "output_size", &p.output_size) < 0 ||
      ext_to_int32(v[7], "output_mode", &p.output_mode) < 0 ||
      ext_to_int32(v[8], "loss", &p.loss) < 0 ||
      ext_to_uint64(v[9], "seed", &p.seed) < 0)
    return NULL;
  p.bidirectional = bidirectional;
  /* Optional regularisation and initialisation settings (default 0). */
  double rates[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4; i++) {
    if (v[10 + i] == NULL)
      continue;
    rates[i] = PyFloat_AsDouble(v[10 + i]);
    if (rates[i] == -1.0 && PyErr_Occurred())
      return NULL;
  }
  p.dropout = (float)rates[0];
  p.head_dropout = (float)rates[1];
  p.recurrent_dropout = (float)rates[2];
  p.zoneout = (float)rates[3];
  if ((v[14] != NULL && ext_to_int32(v[14], "init", &p.init) < 0))
    return NULL;
  if (v[15] != NULL) {
    int forget = PyObject_IsTrue(v[15]);
    if (forget < 0)
      return NULL;
    p.forget_bias_one = forget;
  }

  seqrnn_model *handle = NULL;
  seqrnn_status st;
  Py_BEGIN_ALLOW_THREADS st = seqrnn_model_create(&p, &handle);
  Py_END_ALLOW_THREADS if (st != SEQRNN_OK) return ext_raise_status(st);
  return model_wrap(type, handle);
}

static void model_dealloc(ModelObject *self) {
  if (self->weakrefs != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  /* No other thread can be inside a method: each holds a reference. */
  seqrnn_model_free(self->model);
  if (self->lock_ready)
    pthread_rwlock_destroy(&self->lock);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(model_load_doc,
             "load(path)\n--\n\n"
             "Loads a model saved by save() (seqrnn_model_load).\n\n"
             "path: str, bytes or os.PathLike. Raises FileError when the file\n"
             "cannot be read, FormatError when it is not a seqrnn model file\n"
             "or has a newer format version.");

static PyObject *model_load(PyObject *unused, PyObject *arg) {
  (void)unused;
  PyObject *path = NULL;
  if (!PyUnicode_FSConverter(arg, &path))
    return NULL;
  seqrnn_model *handle = NULL;
  seqrnn_status st;
  Py_BEGIN_ALLOW_THREADS st =
      seqrnn_model_load(PyBytes_AS_STRING(path), &handle);
  Py_END_ALLOW_THREADS Py_DECREF(path);
  if (st != SEQRNN_OK)
    return ext_raise_status(st);
  return model_wrap(&ext_ModelType, handle);
}

PyDoc_STRVAR(model_close_doc,
             "close($self, /)\n--\n\n"
             "Releases the model's weights now instead of when the object is\n"
             "collected (seqrnn_model_free); waits for calls running in other\n"
             "threads. States and Trainers made from it keep working; every\n"
             "other method then raises InvalidArgumentError. Closing twice is\n"
             "a no-op.");

static PyObject *model_close(ModelObject *self, PyObject *unused) {
  (void)unused;
  if (self->closed)
    Py_RETURN_NONE;
  self->closed = 1;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_exclusive(self);
  seqrnn_model_free(self->model);
  self->model = NULL;
  ext_model_unlock(self);
  Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

static PyObject *model_get_closed(ModelObject *self, void *unused) {
  (void)unused;
  return PyBool_FromLong(self->closed);
}

/* ---- configuration ------------------------------------------------------- */

PyDoc_STRVAR(model_params_doc,
             "params($self, /)\n--\n\n"
             "The model's configuration (seqrnn_model_get_params) as a dict\n"
             "with the keys of Model(): cell, input_size, vocab_size,\n"
             "hidden_size, num_layers, bidirectional (bool), output_size,\n"
             "output_mode, loss, seed, dropout, head_dropout,\n"
             "recurrent_dropout, zoneout, init, forget_bias_one (bool).");

PyObject *ext_model_params_dict(const seqrnn_model_params *p) {
  return Py_BuildValue(
      "{s:i,s:L,s:L,s:L,s:L,s:N,s:L,s:i,s:i,s:K,s:d,s:d,s:d,s:d,s:i,s:N}",
      "cell", (int)p->cell, "input_size", (long long)p->input_size,
      "vocab_size", (long long)p->vocab_size, "hidden_size",
      (long long)p->hidden_size, "num_layers", (long long)p->num_layers,
      "bidirectional", PyBool_FromLong(p->bidirectional), "output_size",
      (long long)p->output_size, "output_mode", (int)p->output_mode, "loss",
      (int)p->loss, "seed", (unsigned long long)p->seed, "dropout",
      (double)p->dropout, "head_dropout", (double)p->head_dropout,
      "recurrent_dropout", (double)p->recurrent_dropout, "zoneout",
      (double)p->zoneout, "init", (int)p->init, "forget_bias_one",
      PyBool_FromLong(p->forget_bias_one));
}

static PyObject *model_params(ModelObject *self, PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  return ext_model_params_dict(&self->params);
}

PyDoc_STRVAR(model_output_count_doc,
             "output_count($self, batch_size, seq_len, /)\n--\n\n"
             "Number of float32 elements forward() writes to outputs for a\n"
             "batch of these sizes (seqrnn_model_output_count).");

static PyObject *model_output_count(ModelObject *self, PyObject *args) {
  PyObject *ob, *ot;
  int64_t batch_size, seq_len, count = 0;
  if (!PyArg_ParseTuple(args, "OO:output_count", &ob, &ot) ||
      ext_to_int64(ob, "batch_size", &batch_size) < 0 ||
      ext_to_int64(ot, "seq_len", &seq_len) < 0 || check_open(self) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(self);
  st = self->model == NULL ? EXT_CLOSED
                           : (int)seqrnn_model_output_count(
                                 self->model, batch_size, seq_len, &count);
  ext_model_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Model") < 0) return NULL;
  return PyLong_FromLongLong(count);
}

PyDoc_STRVAR(model_state_count_doc,
             "state_count($self, batch_size, /)\n--\n\n"
             "Number of float32 elements of one state buffer (initial_h,\n"
             "final_h, ...): num_layers * directions * batch_size *\n"
             "hidden_size (seqrnn_model_state_count).");

static PyObject *model_state_count(ModelObject *self, PyObject *arg) {
  int64_t batch_size, count = 0;
  if (ext_to_int64(arg, "batch_size", &batch_size) < 0 || check_open(self) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(self);
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_model_state_count(self->model, batch_size, &count);
  ext_model_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Model") < 0) return NULL;
  return PyLong_FromLongLong(count);
}

/* ---- precision ------------------------------------------------------------
 */

PyDoc_STRVAR(model_set_precision_doc,
             "set_precision($self, precision, /)\n--\n\n"
             "Sets the arithmetic of the matrix products: 0 float32, 1\n"
             "bfloat16 on AMX (seqrnn_model_set_precision).");

static PyObject *model_set_precision(ModelObject *self, PyObject *arg) {
  int32_t precision;
  if (ext_to_int32(arg, "precision", &precision) < 0 || check_open(self) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_exclusive(self);
  st = self->model == NULL ? EXT_CLOSED
                           : (int)seqrnn_model_set_precision(
                                 self->model, (seqrnn_precision)precision);
  ext_model_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Model") < 0) return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(model_get_precision_doc,
             "get_precision($self, /)\n--\n\n"
             "The arithmetic of the matrix products: 0 float32, 1 bfloat16\n"
             "(seqrnn_model_get_precision).");

static PyObject *model_get_precision(ModelObject *self, PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  seqrnn_precision precision = SEQRNN_PRECISION_FLOAT32;
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(self);
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_model_get_precision(self->model, &precision);
  ext_model_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Model") < 0) return NULL;
  return PyLong_FromLong((long)precision);
}

/* ---- forward and evaluate ------------------------------------------------ */

PyDoc_STRVAR(
    model_forward_doc,
    "forward($self, outputs, /, *, batch_size, seq_len, features=None,\n"
    "        tokens=None, lengths=None, initial_h=None, initial_c=None,\n"
    "        final_h=None, final_c=None)\n--\n\n"
    "Full-sequence forward pass (seqrnn_model_forward), GIL released.\n\n"
    "Writes the head's outputs into outputs, a writable C-contiguous\n"
    "float32 buffer of at least output_count(batch_size, seq_len)\n"
    "elements, and, when given, the final states into final_h / final_c\n"
    "(writable float32, state_count(batch_size) elements each).\n"
    "Inputs are read-only C-contiguous buffers: features float32\n"
    "[batch_size][seq_len][input_size] (feature models) or tokens int32\n"
    "[batch_size][seq_len] (token models); lengths int64 [batch_size];\n"
    "initial_h / initial_c float32 [num_layers*directions][batch_size]\n"
    "[hidden_size]. Several threads may run forward on one model at once.\n"
    "Raises TypeError for a wrong element type, ShapeError for a buffer\n"
    "too short for the sizes, BufferTooSmallError for a short output.");

static PyObject *model_forward(ModelObject *self, PyObject *args,
                               PyObject *kwds) {
  static char *kw[] = {"outputs", "batch_size", "seq_len",   "features",
                       "tokens",  "lengths",    "initial_h", "initial_c",
                       "final_h", "final_c",    NULL};
  PyObject *outputs, *final_h = NULL, *final_c = NULL;
  ext_batch_args a = {0};
  if (!PyArg_ParseTupleAndKeywords(
          args, kwds, "O|$OOOOOOOOO:forward", kw, &outputs, &a.batch_size,
          &a.seq_len, &a.features, &a.tokens, &a.lengths, &a.initial_h,
          &a.initial_c, &final_h, &final_c) ||
      check_open(self) < 0)
    return NULL;
  ext_batch_buffers bufs;
  seqrnn_batch batch;
  if (ext_batch_get("forward", &self->params, &a, &bufs, &batch) < 0)
    return NULL;
  ext_buffer out = {0}, fh = {0}, fc = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(outputs, "outputs", EXT_FLOAT32, 1, -1, NULL, &out) == 0 &&
      ext_buffer_get(final_h, "final_h", EXT_FLOAT32, 1, -1, NULL, &fh) == 0 &&
      ext_buffer_get(final_c, "final_c", EXT_FLOAT32, 1, -1, NULL, &fc) == 0) {
    /* One capacity for both state buffers: the smaller one's. */
    int64_t states_capacity = 0;
    if (fh.view.obj != NULL && fc.view.obj != NULL)
      states_capacity = fh.count < fc.count ? fh.count : fc.count;
    else if (fh.view.obj != NULL || fc.view.obj != NULL)
      states_capacity = fh.view.obj != NULL ? fh.count : fc.count;
    int st;
    Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(self);
    st = self->model == NULL ? EXT_CLOSED
                             : (int)seqrnn_model_forward(
                                   self->model, &batch, ext_buffer_ptr(&out),
                                   out.count, ext_buffer_ptr(&fh),
                                   ext_buffer_ptr(&fc), states_capacity, NULL);
    ext_model_unlock(self);
    Py_END_ALLOW_THREADS if (ext_status(st, "Model") == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&out);
  ext_buffer_release(&fh);
  ext_buffer_release(&fc);
  ext_batch_release(&bufs);
  return result;
}

PyDoc_STRVAR(
    model_evaluate_doc,
    "evaluate($self, /, *, batch_size, seq_len, features=None, tokens=None,\n"
    "         lengths=None, initial_h=None, initial_c=None,\n"
    "         target_classes=None, target_values=None,\n"
    "         loss_weights=None)\n--\n\n"
    "Loss and accuracy on a batch without changing anything\n"
    "(seqrnn_model_evaluate), GIL released. Returns (loss, accuracy,\n"
    "count): the mean loss, the accuracy (NaN for MSE models) and the\n"
    "number of positions they are over. Inputs as in forward();\n"
    "target_classes int32 [batch_size][seq_len] (sequence output) or\n"
    "[batch_size] (last output) for cross-entropy models, target_values\n"
    "float32 shaped like the outputs for MSE models; loss_weights float32\n"
    "shaped like target_classes weighs each position's loss.");

static PyObject *model_evaluate(ModelObject *self, PyObject *args,
                                PyObject *kwds) {
  static char *kw[] = {
      "batch_size",    "seq_len",      "features",  "tokens",
      "lengths",       "initial_h",    "initial_c", "target_classes",
      "target_values", "loss_weights", NULL};
  ext_batch_args a = {0};
  if (!PyArg_ParseTupleAndKeywords(
          args, kwds, "|$OOOOOOOOOO:evaluate", kw, &a.batch_size, &a.seq_len,
          &a.features, &a.tokens, &a.lengths, &a.initial_h, &a.initial_c,
          &a.target_classes, &a.target_values, &a.loss_weights) ||
      check_open(self) < 0)
    return NULL;
  ext_batch_buffers bufs;
  seqrnn_batch batch;
  if (ext_batch_get("evaluate", &self->params, &a, &bufs, &batch) < 0)
    return NULL;
  seqrnn_evaluation ev = {0};
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(self);
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_model_evaluate(self->model, &batch, &ev);
  ext_model_unlock(self);
  Py_END_ALLOW_THREADS PyObject *result = NULL;
  if (ext_status(st, "Model") == 0)
    result = Py_BuildValue("(ddL)", ev.loss, ev.accuracy, (long long)ev.count);
  ext_batch_release(&bufs);
  return result;
}

/* ---- named tensors ------------------------------------------------------- */

/* A tensor's name and shape, copied out of the model under its lock so that
 * no Python object is made while the lock is held. */
typedef struct {
  char *name;
  int32_t ndim;
  int64_t shape[4];
} tensor_copy;

static int copy_info(const seqrnn_tensor_info *info, tensor_copy *out) {
  size_t size = strlen(info->name) + 1;
  out->name = PyMem_RawMalloc(size);
  if (out->name == NULL)
    return -1;
  memcpy(out->name, info->name, size);
  out->ndim = info->ndim < 0 ? 0 : (info->ndim > 4 ? 4 : info->ndim);
  memcpy(out->shape, info->shape, sizeof out->shape);
  return 0;
}

static PyObject *shape_tuple(const tensor_copy *t) {
  PyObject *shape = PyTuple_New(t->ndim);
  for (int32_t d = 0; shape != NULL && d < t->ndim; d++) {
    PyObject *n = PyLong_FromLongLong(t->shape[d]);
    if (n == NULL)
      Py_CLEAR(shape);
    else
      PyTuple_SET_ITEM(shape, d, n);
  }
  return shape;
}

PyDoc_STRVAR(model_tensors_doc,
             "tensors($self, /)\n--\n\n"
             "The model's named tensors as a list of (name, shape) in\n"
             "PyTorch's state_dict order (seqrnn_model_tensor_count and\n"
             "seqrnn_model_tensor_info).");

static PyObject *model_tensors(ModelObject *self, PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  int64_t count = 0;
  tensor_copy *copies = NULL;
  int st, nomem = 0;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(self);
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_model_tensor_count(self->model, &count);
  if (st == SEQRNN_OK && count > 0) {
    copies = PyMem_RawCalloc((size_t)count, sizeof *copies);
    nomem = copies == NULL;
    for (int64_t i = 0; !nomem && st == SEQRNN_OK && i < count; i++) {
      seqrnn_tensor_info info;
      st = (int)seqrnn_model_tensor_info(self->model, i, &info);
      if (st == SEQRNN_OK)
        nomem = copy_info(&info, &copies[i]) < 0;
    }
  }
  ext_model_unlock(self);
  Py_END_ALLOW_THREADS PyObject *list = NULL;
  if (nomem)
    PyErr_NoMemory();
  else if (ext_status(st, "Model") == 0)
    list = PyList_New((Py_ssize_t)count);
  for (int64_t i = 0; list != NULL && i < count; i++) {
    PyObject *shape = shape_tuple(&copies[i]);
    PyObject *item =
        shape == NULL ? NULL : Py_BuildValue("(sN)", copies[i].name, shape);
    if (item == NULL)
      Py_CLEAR(list);
    else
      PyList_SET_ITEM(list, (Py_ssize_t)i, item);
  }
  for (int64_t i = 0; copies != NULL && i < count; i++)
    PyMem_RawFree(copies[i].name);
  PyMem_RawFree(copies);
  return list;
}

PyDoc_STRVAR(model_find_tensor_doc,
             "find_tensor($self, name, /)\n--\n\n"
             "The shape (a tuple) of the tensor called name\n"
             "(seqrnn_model_find_tensor); UnknownNameError if the model has\n"
             "no such tensor.");

static PyObject *model_find_tensor(ModelObject *self, PyObject *arg) {
  const char *name = ext_name(arg, "name");
  if (name == NULL || check_open(self) < 0)
    return NULL;
  tensor_copy copy = {0};
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(self);
  seqrnn_tensor_info info;
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_model_find_tensor(self->model, name, &info);
  if (st == SEQRNN_OK) {
    copy.ndim = info.ndim < 0 ? 0 : (info.ndim > 4 ? 4 : info.ndim);
    memcpy(copy.shape, info.shape, sizeof copy.shape);
  }
  ext_model_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Model") < 0) return NULL;
  return shape_tuple(&copy);
}

PyDoc_STRVAR(
    model_get_tensor_doc,
    "get_tensor($self, name, out, /)\n--\n\n"
    "Copies the tensor called name (row-major, PyTorch's layout) into\n"
    "out, a writable C-contiguous float32 buffer with room for its\n"
    "elements (seqrnn_model_get_tensor). Raises UnknownNameError,\n"
    "BufferTooSmallError.");

static PyObject *model_get_tensor(ModelObject *self, PyObject *args) {
  PyObject *oname, *oout;
  if (!PyArg_ParseTuple(args, "OO:get_tensor", &oname, &oout))
    return NULL;
  const char *name = ext_name(oname, "name");
  ext_buffer out;
  if (name == NULL || check_open(self) < 0 ||
      ext_buffer_get(oout, "out", EXT_FLOAT32, 1, -1, NULL, &out) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(self);
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_model_get_tensor(self->model, name,
                                          ext_buffer_ptr(&out), out.count);
  ext_model_unlock(self);
  Py_END_ALLOW_THREADS int rc = ext_status(st, "Model");
  ext_buffer_release(&out);
  if (rc < 0)
    return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(model_set_tensor_doc,
             "set_tensor($self, name, data, /)\n--\n\n"
             "Replaces the tensor called name with data, a C-contiguous\n"
             "float32 buffer of exactly its element count, all finite\n"
             "(seqrnn_model_set_tensor). Waits for running forward calls and\n"
             "blocks new ones while it runs. Raises UnknownNameError,\n"
             "ShapeError, NonFiniteError.");

static PyObject *model_set_tensor(ModelObject *self, PyObject *args) {
  PyObject *oname, *odata;
  if (!PyArg_ParseTuple(args, "OO:set_tensor", &oname, &odata))
    return NULL;
  const char *name = ext_name(oname, "name");
  ext_buffer data;
  if (name == NULL || check_open(self) < 0)
    return NULL;
  if (odata == Py_None) {
    PyErr_SetString(PyExc_TypeError,
                    "data: expected a buffer of float32, got None");
    return NULL;
  }
  if (ext_buffer_get(odata, "data", EXT_FLOAT32, 0, -1, NULL, &data) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_exclusive(self);
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_model_set_tensor(self->model, name,
                                          ext_buffer_ptr(&data), data.count);
  ext_model_unlock(self);
  Py_END_ALLOW_THREADS int rc = ext_status(st, "Model");
  ext_buffer_release(&data);
  if (rc < 0)
    return NULL;
  Py_RETURN_NONE;
}

/* ---- files --------------------------------------------------------------- */

PyDoc_STRVAR(model_save_doc,
             "save($self, path, /)\n--\n\n"
             "Saves the model as safetensors at path (str, bytes or\n"
             "os.PathLike), atomically (seqrnn_model_save), GIL released.\n"
             "Raises FileError when the file cannot be written.");

static PyObject *model_save(ModelObject *self, PyObject *arg) {
  PyObject *path = NULL;
  if (check_open(self) < 0 || !PyUnicode_FSConverter(arg, &path))
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(self);
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_model_save(self->model, PyBytes_AS_STRING(path));
  ext_model_unlock(self);
  Py_END_ALLOW_THREADS Py_DECREF(path);
  if (ext_status(st, "Model") < 0)
    return NULL;
  Py_RETURN_NONE;
}

/* ---- the type ------------------------------------------------------------ */

static PyMethodDef model_methods[] = {
    {"load", (PyCFunction)model_load, METH_O | METH_STATIC, model_load_doc},
    {"params", (PyCFunction)model_params, METH_NOARGS, model_params_doc},
    {"output_count", (PyCFunction)model_output_count, METH_VARARGS,
     model_output_count_doc},
    {"state_count", (PyCFunction)model_state_count, METH_O,
     model_state_count_doc},
    {"set_precision", (PyCFunction)model_set_precision, METH_O,
     model_set_precision_doc},
    {"get_precision", (PyCFunction)model_get_precision, METH_NOARGS,
     model_get_precision_doc},
    {"forward", (PyCFunction)(void (*)(void))model_forward,
     METH_VARARGS | METH_KEYWORDS, model_forward_doc},
    {"evaluate", (PyCFunction)(void (*)(void))model_evaluate,
     METH_VARARGS | METH_KEYWORDS, model_evaluate_doc},
    {"tensors", (PyCFunction)model_tensors, METH_NOARGS, model_tensors_doc},
    {"find_tensor", (PyCFunction)model_find_tensor, METH_O,
     model_find_tensor_doc},
    {"get_tensor", (PyCFunction)model_get_tensor, METH_VARARGS,
     model_get_tensor_doc},
    {"set_tensor", (PyCFunction)model_set_tensor, METH_VARARGS,
     model_set_tensor_doc},
    {"save", (PyCFunction)model_save, METH_O, model_save_doc},
    {"close", (PyCFunction)model_close, METH_NOARGS, model_close_doc},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef model_getset[] = {{"closed", (getter)model_get_closed, NULL,
                                      "True once close() was called.", NULL},
                                     {NULL, NULL, NULL, NULL, NULL}};

PyDoc_STRVAR(
    model_doc,
    "Model(*, cell, input_size, vocab_size, hidden_size, num_layers,\n"
    "      bidirectional, output_size, output_mode, loss, seed)\n--\n\n"
    "A recurrent model: weights and configuration (seqrnn_model).\n\n"
    "Every argument is required and keyword-only; they are the fields of\n"
    "seqrnn_model_params (cell: CELL_*, output_mode: OUTPUT_*, loss:\n"
    "LOSS_* constants of this module; bidirectional: bool; seed: an\n"
    "unsigned 64-bit int). Creation releases the GIL.\n\n"
    "forward, evaluate, get_tensor, save and the tensor queries may run\n"
    "from several threads at once; set_tensor and Trainer.step wait for\n"
    "them and run alone.");

PyTypeObject ext_ModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "seqrnn._seqrnn.Model",
    .tp_basicsize = sizeof(ModelObject),
    .tp_dealloc = (destructor)model_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = model_doc,
    .tp_methods = model_methods,
    .tp_getset = model_getset,
    .tp_new = model_new,
    .tp_weaklistoffset = offsetof(ModelObject, weakrefs),
};
