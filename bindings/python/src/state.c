/*
 * state.c - seqrnn._seqrnn.State over seqrnn_state (streaming inference).
 *
 * The state's mutex serialises its users; a step also shares its model's
 * lock (taken second), since it reads the weights a Trainer may update.
 */
#include "ext.h"

static int check_open(StateObject *self) {
  if (self->closed) {
    ext_raise_closed("State");
    return -1;
  }
  return 0;
}

/* Takes and releases the state's mutex; called with the GIL released. */
static void state_lock(StateObject *self) {
  PyThread_acquire_lock(self->lock, WAIT_LOCK);
}

static void state_unlock(StateObject *self) {
  PyThread_release_lock(self->lock);
}

static PyObject *state_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
  static char *kw[] = {"model", "batch_size", NULL};
  ModelObject *model;
  PyObject *obatch;
  int64_t batch_size;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O:State", kw, &ext_ModelType,
                                   &model, &obatch) ||
      ext_to_int64(obatch, "batch_size", &batch_size) < 0)
    return NULL;
  if (model->closed)
    return ext_raise_closed("Model");
  StateObject *self = (StateObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  self->owner = (ModelObject *)Py_NewRef((PyObject *)model);
  self->batch_size = batch_size;
  self->lock = PyThread_allocate_lock();
  if (self->lock == NULL) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(model);
  if (model->model == NULL) {
    st = EXT_CLOSED;
  } else {
    st = (int)seqrnn_state_create(model->model, batch_size, &self->state);
    if (st == SEQRNN_OK)
      st = (int)seqrnn_model_state_count(model->model, batch_size,
                                         &self->state_count);
  }
  ext_model_unlock(model);
  Py_END_ALLOW_THREADS if (ext_status(st, "Model") < 0) {
    Py_DECREF(self);
    return NULL;
  }
  return (PyObject *)self;
}

static void state_dealloc(StateObject *self) {
  if (self->weakrefs != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  seqrnn_state_free(self->state);
  if (self->lock != NULL)
    PyThread_free_lock(self->lock);
  Py_XDECREF(self->owner);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(state_close_doc,
             "close($self, /)\n--\n\n"
             "Frees the state now (seqrnn_state_free), after any call running\n"
             "in another thread; its methods then raise InvalidArgumentError.\n"
             "Closing twice is a no-op.");

static PyObject *state_close(StateObject *self, PyObject *unused) {
  (void)unused;
  if (self->closed)
    Py_RETURN_NONE;
  self->closed = 1;
  Py_BEGIN_ALLOW_THREADS state_lock(self);
  seqrnn_state_free(self->state);
  self->state = NULL;
  state_unlock(self);
  Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

PyDoc_STRVAR(
    state_step_doc,
    "step($self, outputs, /, *, features=None, tokens=None)\n--\n\n"
    "Advances every sequence one step (seqrnn_state_step), GIL released:\n"
    "features float32 [batch_size][input_size] for feature models or tokens\n"
    "int32 [batch_size] for token models. Writes the head's outputs for the\n"
    "step, [batch_size][output_size], into outputs (writable float32).");

static PyObject *state_step(StateObject *self, PyObject *args, PyObject *kwds) {
  static char *kw[] = {"outputs", "features", "tokens", NULL};
  PyObject *outputs, *ofeatures = NULL, *otokens = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$OO:step", kw, &outputs,
                                   &ofeatures, &otokens) ||
      check_open(self) < 0)
    return NULL;
  const seqrnn_model_params *p = &self->owner->params;
  const int64_t B = self->batch_size;
  const int64_t I = p->input_size > 0 ? p->input_size : p->hidden_size;
  int64_t need = ext_mul(B, I);
  char l_features[96], l_tokens[64];
  snprintf(l_features, sizeof l_features, "[batch_size=%lld][input_size=%lld]",
           (long long)B, (long long)I);
  snprintf(l_tokens, sizeof l_tokens, "[batch_size=%lld]", (long long)B);
  ext_buffer out = {0}, features = {0}, tokens = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(outputs, "outputs", EXT_FLOAT32, 1, -1, NULL, &out) == 0 &&
      ext_buffer_get(ofeatures, "features", EXT_FLOAT32, 0,
                     need < 0 ? INT64_MAX : need, l_features, &features) == 0 &&
      ext_buffer_get(otokens, "tokens", EXT_INT32, 0, B, l_tokens, &tokens) ==
          0) {
    int st;
    Py_BEGIN_ALLOW_THREADS state_lock(self);
    ext_model_lock_shared(self->owner);
    st = self->state == NULL
             ? EXT_CLOSED
             : (int)seqrnn_state_step(self->state, ext_buffer_ptr(&features),
                                      ext_buffer_ptr(&tokens),
                                      ext_buffer_ptr(&out), out.count);
    ext_model_unlock(self->owner);
    state_unlock(self);
    Py_END_ALLOW_THREADS if (ext_status(st, "State") == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&out);
  ext_buffer_release(&features);
  ext_buffer_release(&tokens);
  return result;
}

PyDoc_STRVAR(state_reset_doc, "reset($self, /)\n--\n\n"
                              "Sets the state back to zeros "
                              "(seqrnn_state_reset).");

static PyObject *state_reset(StateObject *self, PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS state_lock(self);
  st = self->state == NULL ? EXT_CLOSED : (int)seqrnn_state_reset(self->state);
  state_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "State") < 0) return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(
    state_get_doc,
    "get($self, h, c=None, /)\n--\n\n"
    "Copies the hidden state into h (and, for LSTM models, the cell state\n"
    "into c), writable float32 buffers of state_count elements each,\n"
    "PyTorch's [num_layers][batch_size][hidden_size] layout\n"
    "(seqrnn_state_get). Raises UnsupportedError for c of a non-LSTM.");

static PyObject *state_get(StateObject *self, PyObject *args) {
  PyObject *oh, *oc = Py_None;
  if (!PyArg_ParseTuple(args, "O|O:get", &oh, &oc) || check_open(self) < 0)
    return NULL;
  ext_buffer h = {0}, c = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(oh, "h", EXT_FLOAT32, 1, -1, NULL, &h) == 0 &&
      ext_buffer_get(oc, "c", EXT_FLOAT32, 1, -1, NULL, &c) == 0) {
    /* One capacity for both buffers: the smaller one's. */
    int64_t capacity = h.count;
    if (c.view.obj != NULL && (h.view.obj == NULL || c.count < capacity))
      capacity = c.count;
    int st;
    Py_BEGIN_ALLOW_THREADS state_lock(self);
    st = self->state == NULL
             ? EXT_CLOSED
             : (int)seqrnn_state_get(self->state, ext_buffer_ptr(&h),
                                     ext_buffer_ptr(&c), capacity);
    state_unlock(self);
    Py_END_ALLOW_THREADS if (ext_status(st, "State") == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&h);
  ext_buffer_release(&c);
  return result;
}

PyDoc_STRVAR(
    state_set_doc,
    "set($self, h, c=None, /)\n--\n\n"
    "Replaces the state with h (and, for LSTM models, c; None means\n"
    "zeros), C-contiguous float32 buffers of exactly state_count elements\n"
    "each (seqrnn_state_set). Raises ShapeError, NonFiniteError,\n"
    "UnsupportedError (c for a non-LSTM).");

static PyObject *state_set(StateObject *self, PyObject *args) {
  PyObject *oh, *oc = Py_None;
  if (!PyArg_ParseTuple(args, "O|O:set", &oh, &oc) || check_open(self) < 0)
    return NULL;
  ext_buffer h = {0}, c = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(oh, "h", EXT_FLOAT32, 0, -1, NULL, &h) == 0 &&
      ext_buffer_get(oc, "c", EXT_FLOAT32, 0, -1, NULL, &c) == 0) {
    /* The call reads count elements from each buffer. */
    if (c.view.obj != NULL && c.count != h.count) {
      ext_raise(ext_ShapeError,
                "c: has %lld elements but h has %lld; both need state_count "
                "(%lld)",
                (long long)c.count, (long long)h.count,
                (long long)self->state_count);
    } else {
      int st;
      Py_BEGIN_ALLOW_THREADS state_lock(self);
      st = self->state == NULL
               ? EXT_CLOSED
               : (int)seqrnn_state_set(self->state, ext_buffer_ptr(&h),
                                       ext_buffer_ptr(&c), h.count);
      state_unlock(self);
      Py_END_ALLOW_THREADS if (ext_status(st, "State") == 0) result =
          Py_NewRef(Py_None);
    }
  }
  ext_buffer_release(&h);
  ext_buffer_release(&c);
  return result;
}

static PyObject *state_get_closed(StateObject *self, void *unused) {
  (void)unused;
  return PyBool_FromLong(self->closed);
}

static PyObject *state_get_batch_size(StateObject *self, void *unused) {
  (void)unused;
  return PyLong_FromLongLong(self->batch_size);
}

static PyObject *state_get_state_count(StateObject *self, void *unused) {
  (void)unused;
  return PyLong_FromLongLong(self->state_count);
}

static PyObject *state_get_model(StateObject *self, void *unused) {
  (void)unused;
  return Py_NewRef((PyObject *)self->owner);
}

static PyMethodDef state_methods[] = {
    {"step", (PyCFunction)(void (*)(void))state_step,
     METH_VARARGS | METH_KEYWORDS, state_step_doc},
    {"reset", (PyCFunction)state_reset, METH_NOARGS, state_reset_doc},
    {"get", (PyCFunction)state_get, METH_VARARGS, state_get_doc},
    {"set", (PyCFunction)state_set, METH_VARARGS, state_set_doc},
    {"close", (PyCFunction)state_close, METH_NOARGS, state_close_doc},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef state_getset[] = {
    {"batch_size", (getter)state_get_batch_size, NULL,
     "Number of sequences the state advances together.", NULL},
    {"state_count", (getter)state_get_state_count, NULL,
     "Elements of one state buffer for get()/set(): num_layers * "
     "batch_size * hidden_size.",
     NULL},
    {"model", (getter)state_get_model, NULL, "The Model this state runs.",
     NULL},
    {"closed", (getter)state_get_closed, NULL, "True once close() was called.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyDoc_STRVAR(
    state_doc,
    "State(model, batch_size)\n--\n\n"
    "Zeroed hidden (and cell) state of a unidirectional model for\n"
    "step-by-step inference of batch_size sequences (seqrnn_state).\n"
    "Calls from several threads are serialised by the state's own lock.\n"
    "Raises UnsupportedError for a bidirectional model. Keeps its model\n"
    "alive, even after model.close().");

PyTypeObject ext_StateType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "seqrnn._seqrnn.State",
    .tp_basicsize = sizeof(StateObject),
    .tp_dealloc = (destructor)state_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = state_doc,
    .tp_methods = state_methods,
    .tp_getset = state_getset,
    .tp_new = state_new,
    .tp_weaklistoffset = offsetof(StateObject, weakrefs),
};
