/*
 * trainer.c - seqrnn._seqrnn.Trainer over seqrnn_trainer.
 *
 * The trainer's mutex serialises its users; step() then takes its model's
 * lock exclusively (it updates the weights), compute_gradients() and
 * save_checkpoint() share it.
 */
#include "ext.h"

#include <string.h>

static int check_open(TrainerObject *self) {
  if (self->closed) {
    ext_raise_closed("Trainer");
    return -1;
  }
  return 0;
}

/* Takes and releases the trainer's mutex; called with the GIL released. */
static void trainer_lock(TrainerObject *self) {
  PyThread_acquire_lock(self->lock, WAIT_LOCK);
}

static void trainer_unlock(TrainerObject *self) {
  PyThread_release_lock(self->lock);
}

/* Optional keyword arguments of Trainer() beyond the seven required ones,
 * in seqrnn_train_params order. */
enum { REQUIRED = 7, OPTIONAL = 15 };

/* Converts the optional settings into p (absent ones keep the defaults). */
static int optional_params(PyObject **v, seqrnn_train_params *p) {
  int flags[3] = {p->nesterov, p->plateau_maximize, p->stateful};
  PyObject *flag_args[3] = {v[0], v[13], v[14]};
  for (int i = 0; i < 3; i++) {
    if (flag_args[i] == NULL)
      continue;
    if ((flags[i] = PyObject_IsTrue(flag_args[i])) < 0)
      return -1;
  }
  p->nesterov = flags[0];
  p->plateau_maximize = flags[1];
  p->stateful = flags[2];
#define OPT(index, convert, name, field)                                       \
  (v[index] != NULL && convert(v[index], name, &p->field) < 0)
  if (OPT(1, ext_to_float, "rmsprop_alpha", rmsprop_alpha) ||
      OPT(2, ext_to_float, "l2_penalty", l2_penalty) ||
      OPT(3, ext_to_float, "weight_decay", weight_decay) ||
      OPT(4, ext_to_float, "clip_value", clip_value) ||
      OPT(5, ext_to_int32, "schedule", schedule) ||
      OPT(6, ext_to_int64, "step_size", step_size) ||
      OPT(7, ext_to_float, "gamma", gamma) ||
      OPT(8, ext_to_int64, "warmup_steps", warmup_steps) ||
      OPT(9, ext_to_int64, "total_steps", total_steps) ||
      OPT(10, ext_to_float, "min_learning_rate", min_learning_rate) ||
      OPT(11, ext_to_int64, "patience", patience) ||
      OPT(12, ext_to_uint64, "seed", seed))
    return -1;
#undef OPT
  return 0;
}

/* A new Trainer object around handle (taken over), owned by model. */
static PyObject *trainer_wrap(PyTypeObject *type, ModelObject *model,
                              seqrnn_trainer *handle) {
  TrainerObject *self = (TrainerObject *)type->tp_alloc(type, 0);
  if (self == NULL) {
    seqrnn_trainer_free(handle);
    return NULL;
  }
  self->owner = (ModelObject *)Py_NewRef((PyObject *)model);
  self->trainer = handle;
  self->lock = PyThread_allocate_lock();
  if (self->lock == NULL) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  return (PyObject *)self;
}

static PyObject *trainer_new(PyTypeObject *type, PyObject *args,
                             PyObject *kwds) {
  static char *kw[] = {"model",
                       "optimizer",
                       "learning_rate",
                       "momentum",
                       "beta1",
                       "beta2",
                       "epsilon",
                       "clip_norm",
                       "nesterov",
                       "rmsprop_alpha",
                       "l2_penalty",
                       "weight_decay",
                       "clip_value",
                       "schedule",
                       "step_size",
                       "gamma",
                       "warmup_steps",
                       "total_steps",
                       "min_learning_rate",
                       "patience",
                       "seed",
                       "plateau_maximize",
                       "stateful",
                       NULL};
  ModelObject *model;
  PyObject *v[REQUIRED + OPTIONAL] = {NULL};
  if (!PyArg_ParseTupleAndKeywords(
          args, kwds, "O!|$OOOOOOOOOOOOOOOOOOOOOO:Trainer", kw, &ext_ModelType,
          &model, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
          &v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15], &v[16], &v[17],
          &v[18], &v[19], &v[20], &v[21]) ||
      ext_require("Trainer", kw + 1, v, REQUIRED) < 0)
    return NULL;
  seqrnn_train_params p = seqrnn_train_default_params();
  if (ext_to_int32(v[0], "optimizer", &p.optimizer) < 0 ||
      ext_to_float(v[1], "learning_rate", &p.learning_rate) < 0 ||
      ext_to_float(v[2], "momentum", &p.momentum) < 0 ||
      ext_to_float(v[3], "beta1", &p.beta1) < 0 ||
      ext_to_float(v[4], "beta2", &p.beta2) < 0 ||
      ext_to_float(v[5], "epsilon", &p.epsilon) < 0 ||
      ext_to_float(v[6], "clip_norm", &p.clip_norm) < 0 ||
      optional_params(v + REQUIRED, &p) < 0)
    return NULL;
  if (model->closed)
    return ext_raise_closed("Model");
  seqrnn_trainer *handle = NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_exclusive(model);
  st = model->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_trainer_create(model->model, &p, &handle);
  ext_model_unlock(model);
  Py_END_ALLOW_THREADS if (ext_status(st, "Model") < 0) return NULL;
  return trainer_wrap(type, model, handle);
}

static void trainer_dealloc(TrainerObject *self) {
  if (self->weakrefs != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  seqrnn_trainer_free(self->trainer);
  if (self->lock != NULL)
    PyThread_free_lock(self->lock);
  Py_XDECREF(self->owner);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(trainer_close_doc,
             "close($self, /)\n--\n\n"
             "Frees the trainer now (seqrnn_trainer_free), after any call\n"
             "running in another thread; its methods then raise\n"
             "InvalidArgumentError. Closing twice is a no-op.");

static PyObject *trainer_close(TrainerObject *self, PyObject *unused) {
  (void)unused;
  if (self->closed)
    Py_RETURN_NONE;
  self->closed = 1;
  Py_BEGIN_ALLOW_THREADS trainer_lock(self);
  seqrnn_trainer_free(self->trainer);
  self->trainer = NULL;
  trainer_unlock(self);
  Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

/* step() and compute_gradients(): one batch with targets, the loss back. */
static PyObject *run_batch(TrainerObject *self, PyObject *args, PyObject *kwds,
                           int update) {
  static char *kw[] = {
      "batch_size",    "seq_len",      "features",  "tokens",
      "lengths",       "initial_h",    "initial_c", "target_classes",
      "target_values", "loss_weights", NULL};
  const char *func = update ? "step" : "compute_gradients";
  ext_batch_args a = {0};
  if (!PyArg_ParseTupleAndKeywords(
          args, kwds,
          update ? "|$OOOOOOOOOO:step" : "|$OOOOOOOOOO:compute_gradients", kw,
          &a.batch_size, &a.seq_len, &a.features, &a.tokens, &a.lengths,
          &a.initial_h, &a.initial_c, &a.target_classes, &a.target_values,
          &a.loss_weights) ||
      check_open(self) < 0)
    return NULL;
  ext_batch_buffers bufs;
  seqrnn_batch batch;
  if (ext_batch_get(func, &self->owner->params, &a, &bufs, &batch) < 0)
    return NULL;
  float loss = 0.0f;
  int st;
  Py_BEGIN_ALLOW_THREADS trainer_lock(self);
  if (update)
    ext_model_lock_exclusive(self->owner);
  else
    ext_model_lock_shared(self->owner);
  if (self->trainer == NULL)
    st = EXT_CLOSED;
  else if (update)
    st = (int)seqrnn_trainer_step(self->trainer, &batch, &loss);
  else
    st = (int)seqrnn_trainer_compute_gradients(self->trainer, &batch, &loss);
  ext_model_unlock(self->owner);
  trainer_unlock(self);
  Py_END_ALLOW_THREADS PyObject *result = NULL;
  if (ext_status(st, "Trainer") == 0)
    result = PyFloat_FromDouble((double)loss);
  ext_batch_release(&bufs);
  return result;
}

PyDoc_STRVAR(
    trainer_step_doc,
    "step($self, /, *, batch_size, seq_len, features=None, tokens=None,\n"
    "     lengths=None, initial_h=None, initial_c=None,\n"
    "     target_classes=None, target_values=None, loss_weights=None)\n"
    "--\n\n"
    "One training step on a batch with targets (seqrnn_trainer_step):\n"
    "forward, backpropagation through time, optional clipping, optimizer\n"
    "update; GIL released, the model locked against every other use.\n"
    "Arguments as in Model.evaluate(). Returns the batch's mean loss\n"
    "before the update. Raises NonFiniteError (model left unchanged) when\n"
    "the loss or a gradient is not finite.");

static PyObject *trainer_step(TrainerObject *self, PyObject *args,
                              PyObject *kwds) {
  return run_batch(self, args, kwds, 1);
}

PyDoc_STRVAR(
    trainer_compute_gradients_doc,
    "compute_gradients($self, /, *, batch_size, seq_len, features=None,\n"
    "                  tokens=None, lengths=None, initial_h=None,\n"
    "                  initial_c=None, target_classes=None,\n"
    "                  target_values=None, loss_weights=None)\n--\n\n"
    "Loss and gradients of a batch without updating the model\n"
    "(seqrnn_trainer_compute_gradients), GIL released; read them with\n"
    "get_gradient(). Arguments as in step(). Returns the mean loss.");

static PyObject *trainer_compute_gradients(TrainerObject *self, PyObject *args,
                                           PyObject *kwds) {
  return run_batch(self, args, kwds, 0);
}

PyDoc_STRVAR(trainer_get_gradient_doc,
             "get_gradient($self, name, out, /)\n--\n\n"
             "Copies the gradient of the tensor called name from the latest\n"
             "step() or compute_gradients() (before clipping) into out, a\n"
             "writable float32 buffer (seqrnn_trainer_get_gradient). Raises\n"
             "UnknownNameError, BufferTooSmallError.");

static PyObject *trainer_get_gradient(TrainerObject *self, PyObject *args) {
  PyObject *oname, *oout;
  if (!PyArg_ParseTuple(args, "OO:get_gradient", &oname, &oout))
    return NULL;
  const char *name = ext_name(oname, "name");
  ext_buffer out;
  if (name == NULL || check_open(self) < 0 ||
      ext_buffer_get(oout, "out", EXT_FLOAT32, 1, -1, NULL, &out) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS trainer_lock(self);
  st = self->trainer == NULL
           ? EXT_CLOSED
           : (int)seqrnn_trainer_get_gradient(self->trainer, name,
                                              ext_buffer_ptr(&out), out.count);
  trainer_unlock(self);
  Py_END_ALLOW_THREADS int rc = ext_status(st, "Trainer");
  ext_buffer_release(&out);
  if (rc < 0)
    return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(trainer_get_state_doc,
             "get_state($self, h, c=None, /)\n--\n\n"
             "Copies the final hidden (and LSTM cell) states of the latest\n"
             "step, [num_layers*directions][batch][hidden] float32, into the\n"
             "writable buffers h and c (seqrnn_trainer_get_state).");

static PyObject *trainer_get_state(TrainerObject *self, PyObject *args) {
  PyObject *oh, *oc = Py_None;
  if (!PyArg_ParseTuple(args, "O|O:get_state", &oh, &oc) ||
      check_open(self) < 0)
    return NULL;
  ext_buffer h, c;
  memset(&c, 0, sizeof c);
  if (ext_buffer_get(oh, "h", EXT_FLOAT32, 1, -1, NULL, &h) < 0)
    return NULL;
  if (ext_buffer_get(oc, "c", EXT_FLOAT32, 1, -1, NULL, &c) < 0) {
    ext_buffer_release(&h);
    return NULL;
  }
  int64_t capacity = h.count;
  if (ext_buffer_ptr(&c) != NULL && c.count < capacity)
    capacity = c.count;
  int st;
  Py_BEGIN_ALLOW_THREADS trainer_lock(self);
  st = self->trainer == NULL
           ? EXT_CLOSED
           : (int)seqrnn_trainer_get_state(self->trainer, ext_buffer_ptr(&h),
                                           ext_buffer_ptr(&c), capacity);
  trainer_unlock(self);
  Py_END_ALLOW_THREADS int rc = ext_status(st, "Trainer");
  ext_buffer_release(&h);
  ext_buffer_release(&c);
  if (rc < 0)
    return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(trainer_reset_state_doc,
             "reset_state($self, reset=None, /)\n--\n\n"
             "Stateful training: zeroes the carried states of the sequences\n"
             "whose entry of the sequence reset is true (a document\n"
             "boundary), or of all sequences when reset is None\n"
             "(seqrnn_trainer_reset_state).");

static PyObject *trainer_reset_state(TrainerObject *self, PyObject *args) {
  PyObject *oreset = Py_None;
  if (!PyArg_ParseTuple(args, "|O:reset_state", &oreset) ||
      check_open(self) < 0)
    return NULL;
  uint8_t *flags = NULL;
  Py_ssize_t count = 0;
  if (oreset != Py_None) {
    PyObject *seq = PySequence_Fast(oreset, "reset: expected a sequence");
    if (seq == NULL)
      return NULL;
    count = PySequence_Fast_GET_SIZE(seq);
    flags = PyMem_Malloc(count > 0 ? (size_t)count : 1);
    if (flags == NULL) {
      Py_DECREF(seq);
      return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < count; i++) {
      int truth = PyObject_IsTrue(PySequence_Fast_GET_ITEM(seq, i));
      if (truth < 0) {
        PyMem_Free(flags);
        Py_DECREF(seq);
        return NULL;
      }
      flags[i] = (uint8_t)truth;
    }
    Py_DECREF(seq);
  }
  int st;
  Py_BEGIN_ALLOW_THREADS trainer_lock(self);
  st = self->trainer == NULL
           ? EXT_CLOSED
           : (int)seqrnn_trainer_reset_state(self->trainer, flags, count);
  trainer_unlock(self);
  Py_END_ALLOW_THREADS PyMem_Free(flags);
  if (ext_status(st, "Trainer") < 0)
    return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(trainer_set_learning_rate_doc,
             "set_learning_rate($self, learning_rate, /)\n--\n\n"
             "Changes the learning rate of later steps (> 0, finite)\n"
             "(seqrnn_trainer_set_learning_rate).");

static PyObject *trainer_set_learning_rate(TrainerObject *self, PyObject *arg) {
  float lr;
  if (ext_to_float(arg, "learning_rate", &lr) < 0 || check_open(self) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS trainer_lock(self);
  st = self->trainer == NULL
           ? EXT_CLOSED
           : (int)seqrnn_trainer_set_learning_rate(self->trainer, lr);
  trainer_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Trainer") < 0) return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(trainer_step_count_doc,
             "step_count($self, /)\n--\n\n"
             "Number of optimizer updates applied so far\n"
             "(seqrnn_trainer_step_count).");

static PyObject *trainer_step_count(TrainerObject *self, PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  int64_t steps = 0;
  int st;
  Py_BEGIN_ALLOW_THREADS trainer_lock(self);
  st = self->trainer == NULL
           ? EXT_CLOSED
           : (int)seqrnn_trainer_step_count(self->trainer, &steps);
  trainer_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Trainer") < 0) return NULL;
  return PyLong_FromLongLong(steps);
}

PyDoc_STRVAR(trainer_last_evaluation_doc,
             "last_evaluation($self, /)\n--\n\n"
             "(loss, accuracy, count) of the latest step's batch, before its\n"
             "update; accuracy is nan for MSE models, and count is 0 before\n"
             "the first step (seqrnn_trainer_last_evaluation).");

static PyObject *trainer_last_evaluation(TrainerObject *self,
                                         PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  seqrnn_evaluation result = {0, 0, 0};
  int st;
  Py_BEGIN_ALLOW_THREADS trainer_lock(self);
  st = self->trainer == NULL
           ? EXT_CLOSED
           : (int)seqrnn_trainer_last_evaluation(self->trainer, &result);
  trainer_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Trainer") < 0) return NULL;
  return Py_BuildValue("(ddL)", result.loss, result.accuracy,
                       (long long)result.count);
}

PyDoc_STRVAR(trainer_learning_rate_doc,
             "learning_rate($self, /)\n--\n\n"
             "The learning rate the next update uses, after warm-up and\n"
             "schedule (seqrnn_trainer_learning_rate).");

static PyObject *trainer_learning_rate(TrainerObject *self, PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  float rate = 0;
  int st;
  Py_BEGIN_ALLOW_THREADS trainer_lock(self);
  st = self->trainer == NULL
           ? EXT_CLOSED
           : (int)seqrnn_trainer_learning_rate(self->trainer, &rate);
  trainer_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Trainer") < 0) return NULL;
  return PyFloat_FromDouble((double)rate);
}

PyDoc_STRVAR(trainer_report_metric_doc,
             "report_metric($self, value, /)\n--\n\n"
             "Reports a validation metric (e.g. once per epoch) to the\n"
             "SCHEDULE_PLATEAU schedule; other schedules ignore it\n"
             "(seqrnn_trainer_report_metric). Raises NonFiniteError for nan\n"
             "or infinity.");

static PyObject *trainer_report_metric(TrainerObject *self, PyObject *arg) {
  double value = PyFloat_AsDouble(arg);
  if (value == -1.0 && PyErr_Occurred()) {
    if (PyErr_ExceptionMatches(PyExc_TypeError)) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError, "value: expected a real number, got %.100s",
                   Py_TYPE(arg)->tp_name);
    }
    return NULL;
  }
  if (check_open(self) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS trainer_lock(self);
  st = self->trainer == NULL
           ? EXT_CLOSED
           : (int)seqrnn_trainer_report_metric(self->trainer, value);
  trainer_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Trainer") < 0) return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(trainer_set_frozen_doc,
             "set_frozen($self, name, frozen, /)\n--\n\n"
             "Freezes (frozen true) or unfreezes the tensor called name:\n"
             "frozen tensors still get gradients (get_gradient) but no\n"
             "updates, and their optimizer state does not advance\n"
             "(seqrnn_trainer_set_frozen). Raises UnknownNameError.");

static PyObject *trainer_set_frozen(TrainerObject *self, PyObject *args) {
  PyObject *oname, *oflag;
  if (!PyArg_ParseTuple(args, "OO:set_frozen", &oname, &oflag))
    return NULL;
  const char *name = ext_name(oname, "name");
  if (name == NULL)
    return NULL;
  int frozen = PyObject_IsTrue(oflag);
  if (frozen < 0 || check_open(self) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS trainer_lock(self);
  st = self->trainer == NULL ? EXT_CLOSED
                             : (int)seqrnn_trainer_set_frozen(
                                   self->trainer, name, (int32_t)frozen);
  trainer_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Trainer") < 0) return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(
    trainer_save_checkpoint_doc,
    "save_checkpoint($self, path, position=0, /)\n--\n\n"
    "Saves weights, optimizer state, step count, schedule, mask RNG,\n"
    "carried states, frozen tensors and settings to path (str, bytes or\n"
    "os.PathLike) as one safetensors file, atomically, with position (an\n"
    "int64 of the caller's choosing, e.g. the next batch) "
    "(seqrnn_trainer_save_checkpoint); GIL released, the model shared.\n"
    "Raises FileError.");

static PyObject *trainer_save_checkpoint(TrainerObject *self, PyObject *args) {
  PyObject *opath, *oposition = NULL;
  if (!PyArg_ParseTuple(args, "O|O:save_checkpoint", &opath, &oposition))
    return NULL;
  int64_t position = 0;
  if (oposition != NULL && ext_to_int64(oposition, "position", &position) < 0)
    return NULL;
  PyObject *path = NULL;
  if (!PyUnicode_FSConverter(opath, &path))
    return NULL;
  if (check_open(self) < 0) {
    Py_DECREF(path);
    return NULL;
  }
  int st;
  Py_BEGIN_ALLOW_THREADS trainer_lock(self);
  ext_model_lock_shared(self->owner);
  st = self->trainer == NULL
           ? EXT_CLOSED
           : (int)seqrnn_trainer_save_checkpoint(
                 self->trainer, PyBytes_AS_STRING(path), position);
  ext_model_unlock(self->owner);
  trainer_unlock(self);
  Py_END_ALLOW_THREADS Py_DECREF(path);
  if (ext_status(st, "Trainer") < 0)
    return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(
    trainer_load_checkpoint_doc,
    "load_checkpoint(path, /)\n--\n\n"
    "Loads a checkpoint written by save_checkpoint()\n"
    "(seqrnn_trainer_load_checkpoint): returns (model, trainer,\n"
    "position), a new Model and a Trainer that continue exactly where\n"
    "the saved one stopped, and the saved position. Raises FileError when\n"
    "the file cannot be read, FormatError when it is damaged, not a\n"
    "checkpoint, or of a newer format version.");

static PyObject *trainer_load_checkpoint(PyObject *unused, PyObject *arg) {
  (void)unused;
  PyObject *path = NULL;
  if (!PyUnicode_FSConverter(arg, &path))
    return NULL;
  seqrnn_model *model_handle = NULL;
  seqrnn_trainer *trainer_handle = NULL;
  int64_t position = 0;
  seqrnn_status st;
  Py_BEGIN_ALLOW_THREADS st = seqrnn_trainer_load_checkpoint(
      PyBytes_AS_STRING(path), &model_handle, &trainer_handle, &position);
  Py_END_ALLOW_THREADS Py_DECREF(path);
  if (st != SEQRNN_OK)
    return ext_raise_status(st);
  PyObject *model = ext_model_wrap(model_handle);
  if (model == NULL) {
    seqrnn_trainer_free(trainer_handle);
    return NULL;
  }
  PyObject *trainer =
      trainer_wrap(&ext_TrainerType, (ModelObject *)model, trainer_handle);
  if (trainer == NULL) {
    Py_DECREF(model);
    return NULL;
  }
  return Py_BuildValue("(NNL)", model, trainer, (long long)position);
}

static PyObject *trainer_get_closed(TrainerObject *self, void *unused) {
  (void)unused;
  return PyBool_FromLong(self->closed);
}

static PyObject *trainer_get_model(TrainerObject *self, void *unused) {
  (void)unused;
  return Py_NewRef((PyObject *)self->owner);
}

static PyMethodDef trainer_methods[] = {
    {"step", (PyCFunction)(void (*)(void))trainer_step,
     METH_VARARGS | METH_KEYWORDS, trainer_step_doc},
    {"compute_gradients",
     (PyCFunction)(void (*)(void))trainer_compute_gradients,
     METH_VARARGS | METH_KEYWORDS, trainer_compute_gradients_doc},
    {"get_gradient", (PyCFunction)trainer_get_gradient, METH_VARARGS,
     trainer_get_gradient_doc},
    {"set_learning_rate", (PyCFunction)trainer_set_learning_rate, METH_O,
     trainer_set_learning_rate_doc},
    {"step_count", (PyCFunction)trainer_step_count, METH_NOARGS,
     trainer_step_count_doc},
    {"last_evaluation", (PyCFunction)trainer_last_evaluation, METH_NOARGS,
     trainer_last_evaluation_doc},
    {"get_state", (PyCFunction)trainer_get_state, METH_VARARGS,
     trainer_get_state_doc},
    {"reset_state", (PyCFunction)trainer_reset_state, METH_VARARGS,
     trainer_reset_state_doc},
    {"learning_rate", (PyCFunction)trainer_learning_rate, METH_NOARGS,
     trainer_learning_rate_doc},
    {"report_metric", (PyCFunction)trainer_report_metric, METH_O,
     trainer_report_metric_doc},
    {"set_frozen", (PyCFunction)trainer_set_frozen, METH_VARARGS,
     trainer_set_frozen_doc},
    {"save_checkpoint", (PyCFunction)trainer_save_checkpoint, METH_VARARGS,
     trainer_save_checkpoint_doc},
    {"load_checkpoint", (PyCFunction)trainer_load_checkpoint,
     METH_O | METH_STATIC, trainer_load_checkpoint_doc},
    {"close", (PyCFunction)trainer_close, METH_NOARGS, trainer_close_doc},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef trainer_getset[] = {
    {"model", (getter)trainer_get_model, NULL,
     "The Model this trainer updates.", NULL},
    {"closed", (getter)trainer_get_closed, NULL,
     "True once close() was called.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyDoc_STRVAR(
    trainer_doc,
    "Trainer(model, *, optimizer, learning_rate, momentum, beta1, beta2,\n"
    "        epsilon, clip_norm, nesterov=False, rmsprop_alpha=0.99,\n"
    "        l2_penalty=0, weight_decay=0, clip_value=0, schedule=0,\n"
    "        step_size=1000, gamma=0.1, warmup_steps=0, total_steps=10000,\n"
    "        min_learning_rate=0, patience=10, seed=0,\n"
    "        plateau_maximize=False, stateful=False)\n--\n\n"
    "Optimizer state, schedule, mask RNG and step counter for training\n"
    "model (seqrnn_trainer). The first seven settings are required, the\n"
    "others default to seqrnn_train_default_params(); all are\n"
    "keyword-only and mean what the seqrnn_train_params fields of the same\n"
    "names mean (optimizer: OPTIMIZER_SGD, OPTIMIZER_ADAM, 2 = AdamW,\n"
    "3 = RMSprop; schedule: 0 constant, 1 step, 2 exponential, 3 cosine,\n"
    "4 plateau; clip_norm and clip_value 0 turn clipping off). Calls from\n"
    "several threads are serialised by the trainer's own lock. Keeps its\n"
    "model alive, even after model.close().");

PyTypeObject ext_TrainerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "seqrnn._seqrnn.Trainer",
    .tp_basicsize = sizeof(TrainerObject),
    .tp_dealloc = (destructor)trainer_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = trainer_doc,
    .tp_methods = trainer_methods,
    .tp_getset = trainer_getset,
    .tp_new = trainer_new,
    .tp_weaklistoffset = offsetof(TrainerObject, weakrefs),
};
