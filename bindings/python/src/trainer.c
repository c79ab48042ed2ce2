/*
 * trainer.c - seqrnn._seqrnn.Trainer over seqrnn_trainer.
 *
 * The trainer's mutex serialises its users; step() then takes its model's
 * lock exclusively (it updates the weights), compute_gradients() shares it.
 */
#include "ext.h"

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

static PyObject *trainer_new(PyTypeObject *type, PyObject *args,
                             PyObject *kwds) {
  static char *kw[] = {"model",    "optimizer", "learning_rate",
                       "momentum", "beta1",     "beta2",
                       "epsilon",  "clip_norm", NULL};
  ModelObject *model;
  PyObject *v[7] = {NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!|$OOOOOOO:Trainer", kw,
                                   &ext_ModelType, &model, &v[0], &v[1], &v[2],
                                   &v[3], &v[4], &v[5], &v[6]) ||
      ext_require("Trainer", kw + 1, v, 7) < 0)
    return NULL;
  seqrnn_train_params p = seqrnn_train_default_params();
  if (ext_to_int32(v[0], "optimizer", &p.optimizer) < 0 ||
      ext_to_float(v[1], "learning_rate", &p.learning_rate) < 0 ||
      ext_to_float(v[2], "momentum", &p.momentum) < 0 ||
      ext_to_float(v[3], "beta1", &p.beta1) < 0 ||
      ext_to_float(v[4], "beta2", &p.beta2) < 0 ||
      ext_to_float(v[5], "epsilon", &p.epsilon) < 0 ||
      ext_to_float(v[6], "clip_norm", &p.clip_norm) < 0)
    return NULL;
  if (model->closed)
    return ext_raise_closed("Model");
  TrainerObject *self = (TrainerObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  self->owner = (ModelObject *)Py_NewRef((PyObject *)model);
  self->lock = PyThread_allocate_lock();
  if (self->lock == NULL) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_exclusive(model);
  st = model->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_trainer_create(model->model, &p, &self->trainer);
  ext_model_unlock(model);
  Py_END_ALLOW_THREADS if (ext_status(st, "Model") < 0) {
    Py_DECREF(self);
    return NULL;
  }
  return (PyObject *)self;
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
      "batch_size", "seq_len",   "features",       "tokens",        "lengths",
      "initial_h",  "initial_c", "target_classes", "target_values", NULL};
  const char *func = update ? "step" : "compute_gradients";
  ext_batch_args a = {0};
  if (!PyArg_ParseTupleAndKeywords(
          args, kwds,
          update ? "|$OOOOOOOOO:step" : "|$OOOOOOOOO:compute_gradients", kw,
          &a.batch_size, &a.seq_len, &a.features, &a.tokens, &a.lengths,
          &a.initial_h, &a.initial_c, &a.target_classes, &a.target_values) ||
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
    "     target_classes=None, target_values=None)\n--\n\n"
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
    "                  target_values=None)\n--\n\n"
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
    "        epsilon, clip_norm)\n--\n\n"
    "Optimizer state and step counter for training model\n"
    "(seqrnn_trainer); every setting is required and keyword-only, as in\n"
    "seqrnn_train_params (optimizer: OPTIMIZER_SGD or OPTIMIZER_ADAM;\n"
    "clip_norm 0 turns clipping off). Calls from several threads are\n"
    "serialised by the trainer's own lock. Keeps its model alive, even\n"
    "after model.close().");

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
