/*
 * seq2seq.c - seqrnn._seqrnn.Seq2Seq over seqrnn_seq2seq (the encoder-decoder
 * section of seqrnn.h): one method per C call, arrays through the buffer
 * protocol, the GIL released around every call. A per-object mutex
 * serialises the users of one model (the C object is one thread at a time).
 *
 * Batches are passed positionally as (batch_size, source_len, source,
 * source_lengths, target_len, target, target_lengths); source and target are
 * int32 [batch][len] buffers, the lengths int64 [batch] or None.
 */
#include "ext.h"

#include <string.h>

typedef struct {
  PyObject_HEAD seqrnn_seq2seq *model; /* NULL once closed */
  PyThread_type_lock lock;
  PyObject *weakrefs;
} Seq2SeqObject;

static int check_open(Seq2SeqObject *self) {
  if (self->model == NULL) {
    ext_raise_closed("Seq2Seq");
    return -1;
  }
  return 0;
}

static void s2s_lock(Seq2SeqObject *self) {
  PyThread_acquire_lock(self->lock, WAIT_LOCK);
}

static void s2s_unlock(Seq2SeqObject *self) {
  PyThread_release_lock(self->lock);
}

/* ---- parameters ---------------------------------------------------------- */

/* Keyword arguments of Seq2Seq(); each sets one field of the params. */
enum kind { I32, I64, U64, F32, FLAG };
static const struct {
  const char *name;
  enum kind kind;
  size_t offset;
} fields[] = {
#define F(name, kind, field)                                                   \
  { name, kind, offsetof(seqrnn_seq2seq_params, field) }
    F("cell", I32, cell),
    F("source_vocab_size", I64, source_vocab_size),
    F("target_vocab_size", I64, target_vocab_size),
    F("embedding_size", I64, embedding_size),
    F("hidden_size", I64, hidden_size),
    F("num_layers", I64, num_layers),
    F("attention", I32, attention),
    F("bos_id", I32, bos_id),
    F("eos_id", I32, eos_id),
    F("init", I32, init),
    F("seed", U64, seed),
    F("optimizer", I32, train.optimizer),
    F("learning_rate", F32, train.learning_rate),
    F("clip_norm", F32, train.clip_norm),
    F("clip_value", F32, train.clip_value),
    F("weight_decay", F32, train.weight_decay),
    F("lr_schedule", I32, train.schedule),
    F("gamma", F32, train.gamma),
    F("step_size", I64, train.step_size),
    F("warmup_steps", I64, train.warmup_steps),
    F("total_steps", I64, train.total_steps),
    F("min_learning_rate", F32, train.min_learning_rate),
    F("train_seed", U64, train.seed),
    F("sampling_schedule", I32, sampling_schedule),
    F("sampling_start", F32, sampling_start),
    F("sampling_end", F32, sampling_end),
    F("sampling_decay", F32, sampling_decay),
    F("sampling_from_model", FLAG, sampling_from_model),
    F("dropout", F32, dropout),
    F("recurrent_dropout", F32, recurrent_dropout),
    F("bidirectional_encoder", FLAG, bidirectional_encoder),
#undef F
};

/* Applies the keyword arguments in kwargs to p; unknown keys are a
 * TypeError. */
static int params_from_kwargs(PyObject *kwargs, seqrnn_seq2seq_params *p) {
  if (kwargs == NULL)
    return 0;
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (PyDict_Next(kwargs, &pos, &key, &value)) {
    const char *name = PyUnicode_AsUTF8(key);
    if (name == NULL)
      return -1;
    size_t i = 0, n = sizeof fields / sizeof fields[0];
    while (i < n && strcmp(fields[i].name, name) != 0)
      i++;
    if (i == n) {
      PyErr_Format(PyExc_TypeError,
                   "Seq2Seq() got an unexpected keyword argument '%s'", name);
      return -1;
    }
    char *at = (char *)p + fields[i].offset;
    int rc = 0;
    switch (fields[i].kind) {
    case I32:
      rc = ext_to_int32(value, name, (int32_t *)at);
      break;
    case I64:
      rc = ext_to_int64(value, name, (int64_t *)at);
      break;
    case U64:
      rc = ext_to_uint64(value, name, (uint64_t *)at);
      break;
    case F32:
      rc = ext_to_float(value, name, (float *)at);
      break;
    case FLAG: {
      int flag = PyObject_IsTrue(value);
      if (flag < 0)
        return -1;
      *(int32_t *)at = flag;
      break;
    }
    }
    if (rc < 0)
      return -1;
  }
  return 0;
}

/* The params as a dict with the keyword names of Seq2Seq(). */
static PyObject *params_dict(const seqrnn_seq2seq_params *p) {
  PyObject *d = PyDict_New();
  if (d == NULL)
    return NULL;
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const char *at = (const char *)p + fields[i].offset;
    PyObject *v = NULL;
    switch (fields[i].kind) {
    case I32:
      v = PyLong_FromLong(*(const int32_t *)at);
      break;
    case I64:
      v = PyLong_FromLongLong(*(const int64_t *)at);
      break;
    case U64:
      v = PyLong_FromUnsignedLongLong(*(const uint64_t *)at);
      break;
    case F32:
      v = PyFloat_FromDouble(*(const float *)at);
      break;
    case FLAG:
      v = PyBool_FromLong(*(const int32_t *)at);
      break;
    }
    if (v == NULL || PyDict_SetItemString(d, fields[i].name, v) < 0) {
      Py_XDECREF(v);
      Py_DECREF(d);
      return NULL;
    }
    Py_DECREF(v);
  }
  return d;
}

/* ---- object -------------------------------------------------------------- */

static PyObject *wrap(PyTypeObject *type, seqrnn_seq2seq *handle) {
  Seq2SeqObject *self = (Seq2SeqObject *)type->tp_alloc(type, 0);
  if (self == NULL) {
    seqrnn_seq2seq_free(handle);
    return NULL;
  }
  self->model = handle;
  self->lock = PyThread_allocate_lock();
  if (self->lock == NULL) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  return (PyObject *)self;
}

static PyObject *s2s_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  if (PyTuple_GET_SIZE(args) != 0) {
    PyErr_SetString(PyExc_TypeError, "Seq2Seq() takes keyword arguments only");
    return NULL;
  }
  seqrnn_seq2seq_params p = seqrnn_seq2seq_default_params();
  if (params_from_kwargs(kwargs, &p) < 0)
    return NULL;
  seqrnn_seq2seq *handle = NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS st = (int)seqrnn_seq2seq_create(&p, &handle);
  Py_END_ALLOW_THREADS if (ext_status(st, "Seq2Seq") < 0) return NULL;
  return wrap(type, handle);
}

static void s2s_dealloc(Seq2SeqObject *self) {
  if (self->weakrefs != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  seqrnn_seq2seq_free(self->model);
  if (self->lock != NULL)
    PyThread_free_lock(self->lock);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ---- batches ------------------------------------------------------------- */

typedef struct {
  ext_buffer source, source_lengths, target, target_lengths;
} batch_buffers;

static void batch_release(batch_buffers *b) {
  ext_buffer_release(&b->source);
  ext_buffer_release(&b->source_lengths);
  ext_buffer_release(&b->target);
  ext_buffer_release(&b->target_lengths);
}

/* Parses the seven batch arguments from the front of args into *out,
 * checking each buffer against the sizes. Returns 0, or -1 with an
 * exception set and nothing held. rest receives the remaining arguments
 * (a new reference). */
static int batch_get(PyObject *args, const char *func, batch_buffers *bufs,
                     seqrnn_seq2seq_batch *out, PyObject **rest) {
  memset(bufs, 0, sizeof *bufs);
  if (PyTuple_GET_SIZE(args) < 7) {
    PyErr_Format(PyExc_TypeError,
                 "%s() needs batch_size, source_len, source, source_lengths, "
                 "target_len, target, target_lengths",
                 func);
    return -1;
  }
  memset(out, 0, sizeof *out);
  if (ext_to_int64(PyTuple_GET_ITEM(args, 0), "batch_size", &out->batch_size) <
          0 ||
      ext_to_int64(PyTuple_GET_ITEM(args, 1), "source_len", &out->source_len) <
          0 ||
      ext_to_int64(PyTuple_GET_ITEM(args, 4), "target_len", &out->target_len) <
          0)
    return -1;
  int64_t sources = ext_mul(out->batch_size, out->source_len);
  int64_t targets = ext_mul(out->batch_size, out->target_len);
  if (sources < 0 || targets < 0 || out->batch_size < 0) {
    ext_raise(ext_InvalidArgumentError,
              "%s: batch_size, source_len and target_len must be >= 0", func);
    return -1;
  }
  if (ext_buffer_get(PyTuple_GET_ITEM(args, 2), "source", EXT_INT32, 0, sources,
                     "[batch][source_len]", &bufs->source) < 0 ||
      ext_buffer_get(PyTuple_GET_ITEM(args, 3), "source_lengths", EXT_INT64, 0,
                     out->batch_size, "[batch]", &bufs->source_lengths) < 0 ||
      ext_buffer_get(PyTuple_GET_ITEM(args, 5), "target", EXT_INT32, 0, targets,
                     "[batch][target_len]", &bufs->target) < 0 ||
      ext_buffer_get(PyTuple_GET_ITEM(args, 6), "target_lengths", EXT_INT64, 0,
                     out->batch_size, "[batch]", &bufs->target_lengths) < 0) {
    batch_release(bufs);
    return -1;
  }
  out->source = ext_buffer_ptr(&bufs->source);
  out->source_lengths = ext_buffer_ptr(&bufs->source_lengths);
  out->target = ext_buffer_ptr(&bufs->target);
  out->target_lengths = ext_buffer_ptr(&bufs->target_lengths);
  *rest = PyTuple_GetSlice(args, 7, PyTuple_GET_SIZE(args));
  if (*rest == NULL) {
    batch_release(bufs);
    return -1;
  }
  return 0;
}

/* ---- methods --------------------------------------------------------------
 */

PyDoc_STRVAR(train_step_doc,
             "train_step($self, batch_size, source_len, source, "
             "source_lengths, target_len, target, target_lengths, /)\n--\n\n"
             "One training step (seqrnn_seq2seq_train_step); returns the mean\n"
             "per-token loss before the update.");

/* train_step and compute_gradients: same arguments, float result. */
static PyObject *loss_call(Seq2SeqObject *self, PyObject *args, int update) {
  batch_buffers bufs;
  seqrnn_seq2seq_batch batch;
  PyObject *rest;
  if (check_open(self) < 0 ||
      batch_get(args, update ? "train_step" : "compute_gradients", &bufs,
                &batch, &rest) < 0)
    return NULL;
  Py_DECREF(rest);
  float loss = 0;
  int st;
  Py_BEGIN_ALLOW_THREADS s2s_lock(self);
  st = self->model == NULL ? EXT_CLOSED
       : update
           ? (int)seqrnn_seq2seq_train_step(self->model, &batch, &loss)
           : (int)seqrnn_seq2seq_compute_gradients(self->model, &batch, &loss);
  s2s_unlock(self);
  Py_END_ALLOW_THREADS batch_release(&bufs);
  if (ext_status(st, "Seq2Seq") < 0)
    return NULL;
  return PyFloat_FromDouble(loss);
}

static PyObject *s2s_train_step(Seq2SeqObject *self, PyObject *args) {
  return loss_call(self, args, 1);
}

PyDoc_STRVAR(compute_gradients_doc,
             "compute_gradients($self, <batch>, /)\n--\n\n"
             "Teacher-forced loss and gradients without an update\n"
             "(seqrnn_seq2seq_compute_gradients); returns the loss.");

static PyObject *s2s_compute_gradients(Seq2SeqObject *self, PyObject *args) {
  return loss_call(self, args, 0);
}

PyDoc_STRVAR(evaluate_doc, "evaluate($self, <batch>, /)\n--\n\n"
                           "(loss, token_accuracy, count), teacher-forced\n"
                           "(seqrnn_seq2seq_evaluate).");

static PyObject *s2s_evaluate(Seq2SeqObject *self, PyObject *args) {
  batch_buffers bufs;
  seqrnn_seq2seq_batch batch;
  PyObject *rest;
  if (check_open(self) < 0 ||
      batch_get(args, "evaluate", &bufs, &batch, &rest) < 0)
    return NULL;
  Py_DECREF(rest);
  seqrnn_evaluation ev = {0};
  int st;
  Py_BEGIN_ALLOW_THREADS s2s_lock(self);
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_seq2seq_evaluate(self->model, &batch, &ev);
  s2s_unlock(self);
  Py_END_ALLOW_THREADS batch_release(&bufs);
  if (ext_status(st, "Seq2Seq") < 0)
    return NULL;
  return Py_BuildValue("ddL", ev.loss, ev.accuracy, (long long)ev.count);
}

PyDoc_STRVAR(logits_doc,
             "logits($self, <batch>, logits, attention, /)\n--\n\n"
             "Teacher-forced logits into the float32 buffer logits\n"
             "[batch][target_len+1][V] and attention weights into attention\n"
             "[batch][target_len+1][source_len] (or None)\n"
             "(seqrnn_seq2seq_logits).");

static PyObject *s2s_logits(Seq2SeqObject *self, PyObject *args) {
  batch_buffers bufs;
  seqrnn_seq2seq_batch batch;
  PyObject *rest;
  if (check_open(self) < 0 ||
      batch_get(args, "logits", &bufs, &batch, &rest) < 0)
    return NULL;
  PyObject *ologits, *oattention;
  ext_buffer lg, at;
  int ok = PyArg_ParseTuple(rest, "OO:logits", &ologits, &oattention);
  Py_DECREF(rest);
  if (!ok ||
      ext_buffer_get(ologits, "logits", EXT_FLOAT32, 1, -1, NULL, &lg) < 0) {
    batch_release(&bufs);
    return NULL;
  }
  if (ext_buffer_get(oattention, "attention", EXT_FLOAT32, 1, -1, NULL, &at) <
      0) {
    ext_buffer_release(&lg);
    batch_release(&bufs);
    return NULL;
  }
  int st;
  Py_BEGIN_ALLOW_THREADS s2s_lock(self);
  st =
      self->model == NULL
          ? EXT_CLOSED
          : (int)seqrnn_seq2seq_logits(self->model, &batch, ext_buffer_ptr(&lg),
                                       lg.count, ext_buffer_ptr(&at), at.count);
  s2s_unlock(self);
  Py_END_ALLOW_THREADS ext_buffer_release(&lg);
  ext_buffer_release(&at);
  batch_release(&bufs);
  if (ext_status(st, "Seq2Seq") < 0)
    return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(
    decode_doc,
    "decode($self, <batch>, max_length, beam_width, length_penalty, tokens,\n"
    "       lengths, scores, /)\n--\n\n"
    "Decodes into tokens (int32 [batch][max_length]), lengths (int64\n"
    "[batch]) and scores (float32 [batch] or None): greedy for beam_width\n"
    "0, else beam search (seqrnn_seq2seq_decode_greedy / _beam).");

static PyObject *s2s_decode(Seq2SeqObject *self, PyObject *args) {
  batch_buffers bufs;
  seqrnn_seq2seq_batch batch;
  PyObject *rest;
  if (check_open(self) < 0 ||
      batch_get(args, "decode", &bufs, &batch, &rest) < 0)
    return NULL;
  PyObject *omax, *owidth, *openalty, *otokens, *olengths, *oscores;
  int ok = PyArg_ParseTuple(rest, "OOOOOO:decode", &omax, &owidth, &openalty,
                            &otokens, &olengths, &oscores);
  Py_DECREF(rest);
  int64_t max_length = 0, width = 0;
  float penalty = 0;
  ext_buffer tk = {0}, ln = {0}, sc = {0};
  if (!ok || ext_to_int64(omax, "max_length", &max_length) < 0 ||
      ext_to_int64(owidth, "beam_width", &width) < 0 ||
      ext_to_float(openalty, "length_penalty", &penalty) < 0 ||
      ext_buffer_get(otokens, "tokens", EXT_INT32, 1, -1, NULL, &tk) < 0 ||
      ext_buffer_get(olengths, "lengths", EXT_INT64, 1, batch.batch_size,
                     "[batch]", &ln) < 0 ||
      ext_buffer_get(oscores, "scores", EXT_FLOAT32, 1, batch.batch_size,
                     "[batch]", &sc) < 0) {
    ext_buffer_release(&tk);
    ext_buffer_release(&ln);
    batch_release(&bufs);
    return NULL;
  }
  int st;
  Py_BEGIN_ALLOW_THREADS s2s_lock(self);
  if (self->model == NULL)
    st = EXT_CLOSED;
  else if (width == 0)
    st = (int)seqrnn_seq2seq_decode_greedy(
        self->model, &batch, max_length, ext_buffer_ptr(&tk), tk.count,
        ext_buffer_ptr(&ln), ext_buffer_ptr(&sc));
  else
    st = (int)seqrnn_seq2seq_decode_beam(
        self->model, &batch, max_length, width, penalty, ext_buffer_ptr(&tk),
        tk.count, ext_buffer_ptr(&ln), ext_buffer_ptr(&sc));
  s2s_unlock(self);
  Py_END_ALLOW_THREADS ext_buffer_release(&tk);
  ext_buffer_release(&ln);
  ext_buffer_release(&sc);
  batch_release(&bufs);
  if (ext_status(st, "Seq2Seq") < 0)
    return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(step_count_doc,
             "step_count($self, /)\n--\n\n"
             "Training steps taken (seqrnn_seq2seq_step_count).");

static PyObject *s2s_step_count(Seq2SeqObject *self, PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  int64_t steps = 0;
  if (ext_status((int)seqrnn_seq2seq_step_count(self->model, &steps),
                 "Seq2Seq") < 0)
    return NULL;
  return PyLong_FromLongLong(steps);
}

PyDoc_STRVAR(ratio_doc,
             "teacher_forcing_ratio($self, step, /)\n--\n\n"
             "The schedule's teacher-forcing ratio after step training steps\n"
             "(step < 0: now) (seqrnn_seq2seq_teacher_forcing_ratio).");

static PyObject *s2s_ratio(Seq2SeqObject *self, PyObject *arg) {
  int64_t step;
  if (check_open(self) < 0 || ext_to_int64(arg, "step", &step) < 0)
    return NULL;
  double ratio = 0;
  if (ext_status(
          (int)seqrnn_seq2seq_teacher_forcing_ratio(self->model, step, &ratio),
          "Seq2Seq") < 0)
    return NULL;
  return PyFloat_FromDouble(ratio);
}

PyDoc_STRVAR(set_lr_doc, "set_learning_rate($self, rate, /)\n--\n\n"
                         "Changes the base learning rate\n"
                         "(seqrnn_seq2seq_set_learning_rate).");

static PyObject *s2s_set_lr(Seq2SeqObject *self, PyObject *arg) {
  float rate;
  if (check_open(self) < 0 || ext_to_float(arg, "rate", &rate) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS s2s_lock(self);
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_seq2seq_set_learning_rate(self->model, rate);
  s2s_unlock(self);
  Py_END_ALLOW_THREADS if (ext_status(st, "Seq2Seq") < 0) return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(tensors_doc,
             "tensors($self, /)\n--\n\n"
             "[(name, shape tuple)] of every named tensor in state_dict order\n"
             "(seqrnn_seq2seq_tensor_count / _tensor_info).");

static PyObject *s2s_tensors(Seq2SeqObject *self, PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  int64_t count = 0;
  if (ext_status((int)seqrnn_seq2seq_tensor_count(self->model, &count),
                 "Seq2Seq") < 0)
    return NULL;
  PyObject *list = PyList_New(0);
  for (int64_t i = 0; list != NULL && i < count; i++) {
    seqrnn_tensor_info info;
    if (ext_status((int)seqrnn_seq2seq_tensor_info(self->model, i, &info),
                   "Seq2Seq") < 0) {
      Py_CLEAR(list);
      break;
    }
    PyObject *item =
        info.ndim == 1
            ? Py_BuildValue("s(L)", info.name, (long long)info.shape[0])
            : Py_BuildValue("s(LL)", info.name, (long long)info.shape[0],
                            (long long)info.shape[1]);
    if (item == NULL || PyList_Append(list, item) < 0) {
      Py_XDECREF(item);
      Py_CLEAR(list);
      break;
    }
    Py_DECREF(item);
  }
  return list;
}

/* get_tensor and get_gradient: (name, out buffer). */
static PyObject *copy_named(Seq2SeqObject *self, PyObject *args, int gradient) {
  PyObject *oname, *oout;
  if (!PyArg_ParseTuple(args, "OO", &oname, &oout))
    return NULL;
  const char *name = ext_name(oname, "name");
  ext_buffer out;
  if (name == NULL || check_open(self) < 0 ||
      ext_buffer_get(oout, "out", EXT_FLOAT32, 1, -1, NULL, &out) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS s2s_lock(self);
  st = self->model == NULL ? EXT_CLOSED
       : gradient
           ? (int)seqrnn_seq2seq_get_gradient(self->model, name,
                                              ext_buffer_ptr(&out), out.count)
           : (int)seqrnn_seq2seq_get_tensor(self->model, name,
                                            ext_buffer_ptr(&out), out.count);
  s2s_unlock(self);
  Py_END_ALLOW_THREADS ext_buffer_release(&out);
  if (ext_status(st, "Seq2Seq") < 0)
    return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(get_tensor_doc, "get_tensor($self, name, out, /)\n--\n\n"
                             "Copies a tensor into out (float32)\n"
                             "(seqrnn_seq2seq_get_tensor).");

static PyObject *s2s_get_tensor(Seq2SeqObject *self, PyObject *args) {
  return copy_named(self, args, 0);
}

PyDoc_STRVAR(get_gradient_doc,
             "get_gradient($self, name, out, /)\n--\n\n"
             "Copies the latest gradient of a tensor into out (float32)\n"
             "(seqrnn_seq2seq_get_gradient).");

static PyObject *s2s_get_gradient(Seq2SeqObject *self, PyObject *args) {
  return copy_named(self, args, 1);
}

PyDoc_STRVAR(set_tensor_doc,
             "set_tensor($self, name, data, /)\n--\n\n"
             "Replaces a tensor with data (float32, exactly its element\n"
             "count) (seqrnn_seq2seq_set_tensor).");

static PyObject *s2s_set_tensor(Seq2SeqObject *self, PyObject *args) {
  PyObject *oname, *odata;
  if (!PyArg_ParseTuple(args, "OO:set_tensor", &oname, &odata))
    return NULL;
  const char *name = ext_name(oname, "name");
  ext_buffer data;
  if (name == NULL || check_open(self) < 0 ||
      ext_buffer_get(odata, "data", EXT_FLOAT32, 0, -1, NULL, &data) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS s2s_lock(self);
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_seq2seq_set_tensor(self->model, name,
                                            ext_buffer_ptr(&data), data.count);
  s2s_unlock(self);
  Py_END_ALLOW_THREADS ext_buffer_release(&data);
  if (ext_status(st, "Seq2Seq") < 0)
    return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(save_doc, "save($self, path, /)\n--\n\n"
                       "Saves as safetensors (seqrnn_seq2seq_save).");

static PyObject *s2s_save(Seq2SeqObject *self, PyObject *arg) {
  PyObject *bytes;
  if (check_open(self) < 0 || !PyUnicode_FSConverter(arg, &bytes))
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS s2s_lock(self);
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_seq2seq_save(self->model, PyBytes_AS_STRING(bytes));
  s2s_unlock(self);
  Py_END_ALLOW_THREADS Py_DECREF(bytes);
  if (ext_status(st, "Seq2Seq") < 0)
    return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(load_doc,
             "load(path, /, **training)\n--\n\n"
             "Loads a model saved by save(); keyword arguments set the\n"
             "training and sampling fields (seqrnn_seq2seq_load).");

static PyObject *s2s_load(PyObject *type, PyObject *args, PyObject *kwargs) {
  PyObject *bytes;
  if (!PyArg_ParseTuple(args, "O&:load", PyUnicode_FSConverter, &bytes))
    return NULL;
  seqrnn_seq2seq_params p = seqrnn_seq2seq_default_params();
  if (params_from_kwargs(kwargs, &p) < 0) {
    Py_DECREF(bytes);
    return NULL;
  }
  seqrnn_seq2seq *handle = NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS st =
      (int)seqrnn_seq2seq_load(PyBytes_AS_STRING(bytes), &p, &handle);
  Py_END_ALLOW_THREADS Py_DECREF(bytes);
  if (ext_status(st, "Seq2Seq") < 0)
    return NULL;
  return wrap((PyTypeObject *)type, handle);
}

PyDoc_STRVAR(save_checkpoint_doc,
             "save_checkpoint($self, path, position=0, /)\n--\n\n"
             "Saves everything needed to resume training bit for bit, and\n"
             "position, an integer of your choosing\n"
             "(seqrnn_seq2seq_save_checkpoint).");

static PyObject *s2s_save_checkpoint(Seq2SeqObject *self, PyObject *args) {
  PyObject *opath, *oposition = NULL;
  if (!PyArg_ParseTuple(args, "O|O:save_checkpoint", &opath, &oposition))
    return NULL;
  int64_t position = 0;
  if (oposition != NULL && ext_to_int64(oposition, "position", &position) < 0)
    return NULL;
  PyObject *bytes;
  if (check_open(self) < 0 || !PyUnicode_FSConverter(opath, &bytes))
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS s2s_lock(self);
  st = self->model == NULL
           ? EXT_CLOSED
           : (int)seqrnn_seq2seq_save_checkpoint(
                 self->model, PyBytes_AS_STRING(bytes), position);
  s2s_unlock(self);
  Py_END_ALLOW_THREADS Py_DECREF(bytes);
  if (ext_status(st, "Seq2Seq") < 0)
    return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(load_checkpoint_doc,
             "load_checkpoint(path, /)\n--\n\n"
             "Loads a checkpoint written by save_checkpoint(): returns\n"
             "(model, position), a model that continues training exactly\n"
             "where the saved one stopped (seqrnn_seq2seq_load_checkpoint).");

static PyObject *s2s_load_checkpoint(PyObject *type, PyObject *arg) {
  PyObject *bytes;
  if (!PyUnicode_FSConverter(arg, &bytes))
    return NULL;
  seqrnn_seq2seq *handle = NULL;
  int64_t position = 0;
  int st;
  Py_BEGIN_ALLOW_THREADS st = (int)seqrnn_seq2seq_load_checkpoint(
      PyBytes_AS_STRING(bytes), &handle, &position);
  Py_END_ALLOW_THREADS Py_DECREF(bytes);
  if (ext_status(st, "Seq2Seq") < 0)
    return NULL;
  PyObject *model = wrap((PyTypeObject *)type, handle);
  if (model == NULL)
    return NULL;
  return Py_BuildValue("(NL)", model, (long long)position);
}

PyDoc_STRVAR(params_doc,
             "params($self, /)\n--\n\n"
             "The configuration and settings as a dict of Seq2Seq() keywords\n"
             "(seqrnn_seq2seq_get_params).");

static PyObject *s2s_params(Seq2SeqObject *self, PyObject *unused) {
  (void)unused;
  if (check_open(self) < 0)
    return NULL;
  seqrnn_seq2seq_params p;
  if (ext_status((int)seqrnn_seq2seq_get_params(self->model, &p), "Seq2Seq") <
      0)
    return NULL;
  return params_dict(&p);
}

PyDoc_STRVAR(default_params_doc,
             "default_params()\n--\n\n"
             "seqrnn_seq2seq_default_params() as a dict of Seq2Seq() "
             "keywords.");

static PyObject *s2s_default_params(PyObject *type, PyObject *unused) {
  (void)type, (void)unused;
  seqrnn_seq2seq_params p = seqrnn_seq2seq_default_params();
  return params_dict(&p);
}

PyDoc_STRVAR(close_doc, "close($self, /)\n--\n\n"
                        "Frees the model now; later calls raise.");

static PyObject *s2s_close(Seq2SeqObject *self, PyObject *unused) {
  (void)unused;
  Py_BEGIN_ALLOW_THREADS s2s_lock(self);
  seqrnn_seq2seq_free(self->model);
  self->model = NULL;
  s2s_unlock(self);
  Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

static PyMethodDef s2s_methods[] = {
    {"train_step", (PyCFunction)s2s_train_step, METH_VARARGS, train_step_doc},
    {"compute_gradients", (PyCFunction)s2s_compute_gradients, METH_VARARGS,
     compute_gradients_doc},
    {"evaluate", (PyCFunction)s2s_evaluate, METH_VARARGS, evaluate_doc},
    {"logits", (PyCFunction)s2s_logits, METH_VARARGS, logits_doc},
    {"decode", (PyCFunction)s2s_decode, METH_VARARGS, decode_doc},
    {"step_count", (PyCFunction)s2s_step_count, METH_NOARGS, step_count_doc},
    {"teacher_forcing_ratio", (PyCFunction)s2s_ratio, METH_O, ratio_doc},
    {"set_learning_rate", (PyCFunction)s2s_set_lr, METH_O, set_lr_doc},
    {"tensors", (PyCFunction)s2s_tensors, METH_NOARGS, tensors_doc},
    {"get_tensor", (PyCFunction)s2s_get_tensor, METH_VARARGS, get_tensor_doc},
    {"get_gradient", (PyCFunction)s2s_get_gradient, METH_VARARGS,
     get_gradient_doc},
    {"set_tensor", (PyCFunction)s2s_set_tensor, METH_VARARGS, set_tensor_doc},
    {"save", (PyCFunction)s2s_save, METH_O, save_doc},
    {"load", (PyCFunction)(void (*)(void))s2s_load,
     METH_VARARGS | METH_KEYWORDS | METH_CLASS, load_doc},
    {"save_checkpoint", (PyCFunction)s2s_save_checkpoint, METH_VARARGS,
     save_checkpoint_doc},
    {"load_checkpoint", (PyCFunction)s2s_load_checkpoint, METH_O | METH_CLASS,
     load_checkpoint_doc},
    {"params", (PyCFunction)s2s_params, METH_NOARGS, params_doc},
    {"default_params", (PyCFunction)s2s_default_params,
     METH_NOARGS | METH_CLASS, default_params_doc},
    {"close", (PyCFunction)s2s_close, METH_NOARGS, close_doc},
    {NULL, NULL, 0, NULL}};

PyDoc_STRVAR(s2s_doc,
             "Seq2Seq(**params)\n--\n\n"
             "An encoder-decoder with its trainer (seqrnn_seq2seq). Keyword\n"
             "arguments are the fields of seqrnn_seq2seq_params (training\n"
             "fields by their names, the training seed as train_seed and the\n"
             "learning-rate schedule as lr_schedule); see default_params().");

PyTypeObject ext_Seq2SeqType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "seqrnn._seqrnn.Seq2Seq",
    .tp_basicsize = sizeof(Seq2SeqObject),
    .tp_dealloc = (destructor)s2s_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = s2s_doc,
    .tp_methods = s2s_methods,
    .tp_new = s2s_new,
    .tp_weaklistoffset = offsetof(Seq2SeqObject, weakrefs),
};
