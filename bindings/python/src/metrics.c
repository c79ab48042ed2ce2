/*
 * metrics.c - seqrnn._seqrnn.Metrics over seqrnn_metrics: loss, accuracy,
 * per-class and macro precision / recall / F1, perplexity, bits per token
 * and the confusion matrix, accumulated over many batches.
 *
 * The accumulator's mutex serialises its users; update() then shares its
 * model's lock (it only reads the model).
 */
#include "ext.h"

#include <string.h>

typedef struct {
  PyObject_HEAD seqrnn_metrics *metrics; /* NULL once closed */
  PyThread_type_lock lock;
  int closed;
  int64_t num_classes;
  PyObject *weakrefs;
} MetricsObject;

static int check_open(MetricsObject *self) {
  if (self->closed) {
    ext_raise_closed("Metrics");
    return -1;
  }
  return 0;
}

/* Takes and releases the accumulator's mutex; called with the GIL released. */
static void metrics_lock(MetricsObject *self) {
  PyThread_acquire_lock(self->lock, WAIT_LOCK);
}

static void metrics_unlock(MetricsObject *self) {
  PyThread_release_lock(self->lock);
}

static PyObject *metrics_new(PyTypeObject *type, PyObject *args,
                             PyObject *kwds) {
  static char *kw[] = {"num_classes", NULL};
  PyObject *onum;
  int64_t num_classes;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:Metrics", kw, &onum) ||
      ext_to_int64(onum, "num_classes", &num_classes) < 0)
    return NULL;
  MetricsObject *self = (MetricsObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  self->num_classes = num_classes;
  self->lock = PyThread_allocate_lock();
  if (self->lock == NULL) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  seqrnn_status st = seqrnn_metrics_create(num_classes, &self->metrics);
  if (st != SEQRNN_OK) {
    ext_raise_status(st);
    Py_DECREF(self);
    return NULL;
  }
  return (PyObject *)self;
}

static void metrics_dealloc(MetricsObject *self) {
  if (self->weakrefs != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  seqrnn_metrics_free(self->metrics);
  if (self->lock != NULL)
    PyThread_free_lock(self->lock);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(metrics_close_doc,
             "close($self, /)\n--\n\n"
             "Frees the accumulator now (seqrnn_metrics_free), after any call\n"
             "running in another thread; its methods then raise\n"
             "InvalidArgumentError. Closing twice is a no-op.");

static PyObject *metrics_close(MetricsObject *self, PyObject *unused) {
  (void)unused;
  if (self->closed)
    Py_RETURN_NONE;
  self->closed = 1;
  Py_BEGIN_ALLOW_THREADS metrics_lock(self);
  seqrnn_metrics_free(self->metrics);
  self->metrics = NULL;
  metrics_unlock(self);
  Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

PyDoc_STRVAR(metrics_reset_doc,
             "reset($self, /)\n--\n\n"
             "Empties the accumulator (seqrnn_metrics_reset).");

static PyObject *metrics_reset(MetricsObject *self, PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS metrics_lock(self);
  st = self->metrics == NULL ? EXT_CLOSED
                             : (int)seqrnn_metrics_reset(self->metrics);
  metrics_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Metrics") < 0) return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(
    metrics_update_doc,
    "update($self, model, /, *, batch_size, seq_len, features=None,\n"
    "       tokens=None, lengths=None, initial_h=None, initial_c=None,\n"
    "       target_classes=None, target_values=None, loss_weights=None)\n"
    "--\n\n"
    "Runs model on a batch with targets and adds its loss and, for\n"
    "cross-entropy models, its arg-max predictions (seqrnn_metrics_update),\n"
    "GIL released, the model's lock shared. Arguments as in\n"
    "Model.evaluate(). Raises ShapeError when num_classes is not the\n"
    "model's output_size (cross-entropy) or 0 (MSE).");

static PyObject *metrics_update(MetricsObject *self, PyObject *args,
                                PyObject *kwds) {
  static char *kw[] = {"model",         "batch_size",   "seq_len",
                       "features",      "tokens",       "lengths",
                       "initial_h",     "initial_c",    "target_classes",
                       "target_values", "loss_weights", NULL};
  ModelObject *model;
  ext_batch_args a = {0};
  if (!PyArg_ParseTupleAndKeywords(
          args, kwds, "O!|$OOOOOOOOOO:update", kw, &ext_ModelType, &model,
          &a.batch_size, &a.seq_len, &a.features, &a.tokens, &a.lengths,
          &a.initial_h, &a.initial_c, &a.target_classes, &a.target_values,
          &a.loss_weights) ||
      check_open(self) < 0)
    return NULL;
  if (model->closed)
    return ext_raise_closed("Model");
  ext_batch_buffers bufs;
  seqrnn_batch batch;
  if (ext_batch_get("update", &model->params, &a, &bufs, &batch) < 0)
    return NULL;
  int st;
  const char *closed = "Metrics";
  Py_BEGIN_ALLOW_THREADS metrics_lock(self);
  ext_model_lock_shared(model);
  if (self->metrics == NULL) {
    st = EXT_CLOSED;
  } else if (model->model == NULL) {
    st = EXT_CLOSED;
    closed = "Model";
  } else {
    st = (int)seqrnn_metrics_update(self->metrics, model->model, &batch);
  }
  ext_model_unlock(model);
  metrics_unlock(self);
  Py_END_ALLOW_THREADS ext_batch_release(&bufs);
  if (ext_status(st, closed) < 0)
    return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(metrics_add_predictions_doc,
             "add_predictions($self, predicted, targets, /)\n--\n\n"
             "Adds (predicted, target) class pairs computed elsewhere, two\n"
             "int32 buffers of the same length, without a loss\n"
             "(seqrnn_metrics_add_predictions). Raises OutOfRangeError for a\n"
             "class outside [0, num_classes); then nothing is added.");

static PyObject *metrics_add_predictions(MetricsObject *self, PyObject *args) {
  PyObject *opredicted, *otargets;
  if (!PyArg_ParseTuple(args, "OO:add_predictions", &opredicted, &otargets) ||
      check_open(self) < 0)
    return NULL;
  ext_buffer predicted, targets;
  if (ext_buffer_get(opredicted, "predicted", EXT_INT32, 0, -1, NULL,
                     &predicted) < 0)
    return NULL;
  if (ext_buffer_get(otargets, "targets", EXT_INT32, 0, -1, NULL, &targets) <
      0) {
    ext_buffer_release(&predicted);
    return NULL;
  }
  PyObject *result = NULL;
  if (predicted.view.obj == NULL || targets.view.obj == NULL) {
    PyErr_SetString(PyExc_TypeError,
                    "add_predictions: predicted and targets must be buffers");
  } else if (predicted.count != targets.count) {
    ext_raise(ext_ShapeError,
              "add_predictions: predicted has %lld elements but targets has "
              "%lld",
              (long long)predicted.count, (long long)targets.count);
  } else {
    int st;
    Py_BEGIN_ALLOW_THREADS metrics_lock(self);
    st = self->metrics == NULL ? EXT_CLOSED
                               : (int)seqrnn_metrics_add_predictions(
                                     self->metrics, ext_buffer_ptr(&predicted),
                                     ext_buffer_ptr(&targets), predicted.count);
    metrics_unlock(self);
    Py_END_ALLOW_THREADS if (ext_status(st, "Metrics") == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&predicted);
  ext_buffer_release(&targets);
  return result;
}

PyDoc_STRVAR(metrics_summary_doc,
             "summary($self, /)\n--\n\n"
             "Everything accumulated (seqrnn_metrics_get_summary) as a dict:\n"
             "loss, perplexity, bits_per_token, accuracy, macro_precision,\n"
             "macro_recall, macro_f1 (floats, NaN where undefined) and count.");

static PyObject *metrics_summary(MetricsObject *self, PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  seqrnn_metrics_summary s;
  memset(&s, 0, sizeof s);
  int st;
  Py_BEGIN_ALLOW_THREADS metrics_lock(self);
  st = self->metrics == NULL
           ? EXT_CLOSED
           : (int)seqrnn_metrics_get_summary(self->metrics, &s);
  metrics_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Metrics") < 0) return NULL;
  return Py_BuildValue(
      "{s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:L}", "loss", s.loss, "perplexity",
      s.perplexity, "bits_per_token", s.bits_per_token, "accuracy", s.accuracy,
      "macro_precision", s.macro_precision, "macro_recall", s.macro_recall,
      "macro_f1", s.macro_f1, "count", (long long)s.count);
}

PyDoc_STRVAR(metrics_class_metrics_doc,
             "class_metrics($self, index, /)\n--\n\n"
             "(precision, recall, f1, support) of one class\n"
             "(seqrnn_metrics_get_class). Raises OutOfRangeError.");

static PyObject *metrics_class_metrics(MetricsObject *self, PyObject *arg) {
  int64_t index;
  if (ext_to_int64(arg, "index", &index) < 0 || check_open(self) < 0)
    return NULL;
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
  int st;
  Py_BEGIN_ALLOW_THREADS metrics_lock(self);
  st = self->metrics == NULL
           ? EXT_CLOSED
           : (int)seqrnn_metrics_get_class(self->metrics, index, &precision,
                                           &recall, &f1, &support);
  metrics_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Metrics") < 0) return NULL;
  return Py_BuildValue("(dddL)", precision, recall, f1, (long long)support);
}

PyDoc_STRVAR(metrics_confusion_doc,
             "confusion($self, out, /)\n--\n\n"
             "Copies the confusion matrix [target][predicted] into out, a\n"
             "writable int64 buffer of num_classes**2 elements\n"
             "(seqrnn_metrics_get_confusion). Raises BufferTooSmallError.");

static PyObject *metrics_confusion(MetricsObject *self, PyObject *arg) {
  ext_buffer out;
  if (check_open(self) < 0 ||
      ext_buffer_get(arg, "out", EXT_INT64, 1, -1, NULL, &out) < 0)
    return NULL;
  if (out.view.obj == NULL) {
    PyErr_SetString(PyExc_TypeError, "confusion: out must be a buffer");
    return NULL;
  }
  int st;
  Py_BEGIN_ALLOW_THREADS metrics_lock(self);
  st = self->metrics == NULL
           ? EXT_CLOSED
           : (int)seqrnn_metrics_get_confusion(self->metrics,
                                               ext_buffer_ptr(&out), out.count);
  metrics_unlock(self);
  Py_END_ALLOW_THREADS ext_buffer_release(&out);
  if (ext_status(st, "Metrics") < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *metrics_get_num_classes(MetricsObject *self, void *unused) {
  (void)unused;
  return PyLong_FromLongLong((long long)self->num_classes);
}

static PyObject *metrics_get_closed(MetricsObject *self, void *unused) {
  (void)unused;
  return PyBool_FromLong(self->closed);
}

static PyMethodDef metrics_methods[] = {
    {"reset", (PyCFunction)metrics_reset, METH_NOARGS, metrics_reset_doc},
    {"update", (PyCFunction)(void (*)(void))metrics_update,
     METH_VARARGS | METH_KEYWORDS, metrics_update_doc},
    {"add_predictions", (PyCFunction)metrics_add_predictions, METH_VARARGS,
     metrics_add_predictions_doc},
    {"summary", (PyCFunction)metrics_summary, METH_NOARGS, metrics_summary_doc},
    {"class_metrics", (PyCFunction)metrics_class_metrics, METH_O,
     metrics_class_metrics_doc},
    {"confusion", (PyCFunction)metrics_confusion, METH_O,
     metrics_confusion_doc},
    {"close", (PyCFunction)metrics_close, METH_NOARGS, metrics_close_doc},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef metrics_getset[] = {
    {"num_classes", (getter)metrics_get_num_classes, NULL,
     "Classes of the accumulator (0: loss only).", NULL},
    {"closed", (getter)metrics_get_closed, NULL,
     "True once close() was called.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyDoc_STRVAR(metrics_doc,
             "Metrics(num_classes)\n--\n\n"
             "A streaming accumulator of loss, accuracy, per-class and macro\n"
             "precision / recall / F1, perplexity, bits per token and the\n"
             "confusion matrix (seqrnn_metrics); num_classes is the model's\n"
             "output_size for cross-entropy models, 0 for MSE (loss only).\n"
             "Calls from several threads are serialised by its own lock.");

PyTypeObject ext_MetricsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "seqrnn._seqrnn.Metrics",
    .tp_basicsize = sizeof(MetricsObject),
    .tp_dealloc = (destructor)metrics_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = metrics_doc,
    .tp_methods = metrics_methods,
    .tp_getset = metrics_getset,
    .tp_new = metrics_new,
    .tp_weaklistoffset = offsetof(MetricsObject, weakrefs),
};
