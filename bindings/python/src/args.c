/*
 * args.c - argument conversion and buffer checks.
 *
 * The C API cannot know how long a caller's buffer is: it reads as many
 * elements as the sizes it is given imply. So every input buffer is checked
 * here against those sizes before the call (ShapeError otherwise), and every
 * output buffer's real capacity is what the call receives.
 */
#include "ext.h"

#include <string.h>

int ext_add_object(PyObject *module, const char *name, PyObject *obj) {
  Py_INCREF(obj);
  if (PyModule_AddObject(module, name, obj) < 0) {
    Py_DECREF(obj);
    return -1;
  }
  return 0;
}

/* ---- numbers ------------------------------------------------------------- */

int64_t ext_mul(int64_t a, int64_t b) {
  if (a < 0 || b < 0 || (a != 0 && b > INT64_MAX / a))
    return -1;
  return a * b;
}

static PyObject *as_index(PyObject *obj, const char *name) {
  PyObject *index = PyNumber_Index(obj);
  if (index == NULL && PyErr_ExceptionMatches(PyExc_TypeError)) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "%s: expected an int, got %.100s", name,
                 Py_TYPE(obj)->tp_name);
  }
  return index;
}

int ext_to_int64(PyObject *obj, const char *name, int64_t *out) {
  PyObject *index = as_index(obj, name);
  if (index == NULL)
    return -1;
  int overflow = 0;
  long long value = PyLong_AsLongLongAndOverflow(index, &overflow);
  if (overflow != 0)
    PyErr_Format(PyExc_OverflowError,
                 "%s: %S does not fit in a signed 64-bit integer", name, index);
  Py_DECREF(index);
  if (overflow != 0 || (value == -1 && PyErr_Occurred()))
    return -1;
  *out = (int64_t)value;
  return 0;
}

int ext_to_int32(PyObject *obj, const char *name, int32_t *out) {
  int64_t value;
  if (ext_to_int64(obj, name, &value) < 0)
    return -1;
  if (value < INT32_MIN || value > INT32_MAX) {
    PyErr_Format(PyExc_OverflowError,
                 "%s: %lld does not fit in a signed 32-bit integer", name,
                 (long long)value);
    return -1;
  }
  *out = (int32_t)value;
  return 0;
}

int ext_to_uint64(PyObject *obj, const char *name, uint64_t *out) {
  PyObject *index = as_index(obj, name);
  if (index == NULL)
    return -1;
  unsigned long long value = PyLong_AsUnsignedLongLong(index);
  if (value == (unsigned long long)-1 && PyErr_Occurred()) {
    PyErr_Clear();
    PyErr_Format(PyExc_OverflowError,
                 "%s: %S is not in [0, 2**64) (an unsigned 64-bit integer)",
                 name, index);
    Py_DECREF(index);
    return -1;
  }
  Py_DECREF(index);
  *out = (uint64_t)value;
  return 0;
}

int ext_to_float(PyObject *obj, const char *name, float *out) {
  double value = PyFloat_AsDouble(obj);
  if (value == -1.0 && PyErr_Occurred()) {
    if (PyErr_ExceptionMatches(PyExc_TypeError)) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError, "%s: expected a real number, got %.100s",
                   name, Py_TYPE(obj)->tp_name);
    }
    return -1;
  }
  *out = (float)value;
  return 0;
}

int ext_require(const char *func, char **names, PyObject **values, int n) {
  for (int i = 0; i < n; i++) {
    if (values[i] == NULL) {
      PyErr_Format(PyExc_TypeError,
                   "%s() missing required keyword argument '%s'", func,
                   names[i]);
      return -1;
    }
  }
  return 0;
}

const char *ext_name(PyObject *obj, const char *arg) {
  if (!PyUnicode_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s: expected a str, got %.100s", arg,
                 Py_TYPE(obj)->tp_name);
    return NULL;
  }
  Py_ssize_t size;
  const char *text = PyUnicode_AsUTF8AndSize(obj, &size);
  if (text == NULL)
    return NULL;
  if ((Py_ssize_t)strlen(text) != size) {
    ext_raise(ext_InvalidArgumentError, "%s: contains a NUL character", arg);
    return NULL;
  }
  return text;
}

/* ---- buffers ------------------------------------------------------------- */

static const char *dtype_name(ext_dtype dtype) {
  switch (dtype) {
  case EXT_FLOAT32:
    return "float32";
  case EXT_INT32:
    return "int32";
  case EXT_FLOAT64:
    return "float64";
  default:
    return "int64";
  }
}

/* The struct-module format of a buffer matches dtype: a single code, native
 * or little-endian (on little-endian hosts) byte order, of the right size. */
static int format_matches(const Py_buffer *view, ext_dtype dtype) {
  const char *format = view->format != NULL ? view->format : "B";
  char order = format[0];
  if (order == '@' || order == '=' || order == (PY_LITTLE_ENDIAN ? '<' : '>') ||
      (!PY_LITTLE_ENDIAN && order == '!'))
    format++;
  if (format[0] == '\0' || format[1] != '\0')
    return 0;
  switch (dtype) {
  case EXT_FLOAT32:
    return format[0] == 'f' && view->itemsize == 4;
  case EXT_INT32:
    return strchr("bhilqn", format[0]) != NULL && view->itemsize == 4;
  case EXT_FLOAT64:
    return format[0] == 'd' && view->itemsize == 8;
  default:
    return strchr("bhilqn", format[0]) != NULL && view->itemsize == 8;
  }
}

int ext_buffer_get(PyObject *obj, const char *name, ext_dtype dtype,
                   int writable, int64_t need, const char *layout,
                   ext_buffer *out) {
  memset(out, 0, sizeof *out);
  if (obj == NULL || obj == Py_None)
    return 0;
  if (!PyObject_CheckBuffer(obj)) {
    PyErr_Format(PyExc_TypeError,
                 "%s: expected a buffer of %s (e.g. a numpy array), got "
                 "%.100s",
                 name, dtype_name(dtype), Py_TYPE(obj)->tp_name);
    return -1;
  }
  Py_buffer *view = &out->view;
  if (PyObject_GetBuffer(obj, view, PyBUF_FULL_RO) < 0) {
    view->obj = NULL;
    return -1;
  }
  if (!format_matches(view, dtype)) {
    PyErr_Format(PyExc_TypeError,
                 "%s: expected %s elements, got format '%s' with %zd-byte "
                 "items",
                 name, dtype_name(dtype),
                 view->format != NULL ? view->format : "B", view->itemsize);
  } else if (writable && view->readonly) {
    ext_raise(ext_InvalidArgumentError,
              "%s: the buffer is read-only; an output needs a writable one",
              name);
  } else if (!PyBuffer_IsContiguous(view, 'C')) {
    ext_raise(ext_InvalidArgumentError,
              "%s: expected a C-contiguous buffer (numpy: "
              "np.ascontiguousarray)",
              name);
  } else {
    out->count = (int64_t)(view->len / view->itemsize);
    if (need < 0 || out->count >= need)
      return 0;
    ext_raise(ext_ShapeError,
              "%s: needs at least %lld %s elements (%s), got %lld", name,
              (long long)need, dtype_name(dtype), layout,
              (long long)out->count);
  }
  PyBuffer_Release(view);
  view->obj = NULL;
  return -1;
}

void ext_buffer_release(ext_buffer *b) {
  if (b->view.obj != NULL) {
    PyBuffer_Release(&b->view);
    b->view.obj = NULL;
  }
}

void *ext_buffer_ptr(const ext_buffer *b) {
  return b->view.obj != NULL ? b->view.buf : NULL;
}

/* ---- batches ------------------------------------------------------------- */

void ext_batch_release(ext_batch_buffers *bufs) {
  ext_buffer_release(&bufs->features);
  ext_buffer_release(&bufs->tokens);
  ext_buffer_release(&bufs->lengths);
  ext_buffer_release(&bufs->initial_h);
  ext_buffer_release(&bufs->initial_c);
  ext_buffer_release(&bufs->target_classes);
  ext_buffer_release(&bufs->target_values);
  ext_buffer_release(&bufs->loss_weights);
}

/* need for an element count: -1 (no check) when the sizes are not valid,
 * since the C call then rejects them before reading any buffer; a count no
 * buffer can reach when the product overflows. */
static int64_t need_of(int sized, int64_t count) {
  if (!sized)
    return -1;
  return count < 0 ? INT64_MAX : count;
}

int ext_batch_get(const char *func, const seqrnn_model_params *p,
                  const ext_batch_args *args, ext_batch_buffers *bufs,
                  seqrnn_batch *out) {
  memset(bufs, 0, sizeof *bufs);
  char *names[] = {"batch_size", "seq_len"};
  PyObject *values[] = {args->batch_size, args->seq_len};
  int64_t B, T;
  if (ext_require(func, names, values, 2) < 0 ||
      ext_to_int64(args->batch_size, "batch_size", &B) < 0 ||
      ext_to_int64(args->seq_len, "seq_len", &T) < 0)
    return -1;

  const int sized = B > 0 && T > 0;
  /* Token models whose input_size is 0 embed to hidden_size. */
  const int64_t I = p->input_size > 0 ? p->input_size : p->hidden_size;
  const int64_t D = p->bidirectional ? 2 : 1;
  const int64_t O = p->output_size, H = p->hidden_size, L = p->num_layers;
  const int last = p->output_mode == SEQRNN_OUTPUT_LAST;
  const int64_t BT = ext_mul(B, T);
  const int64_t targets = last ? B : BT;

  char l_features[160], l_tokens[96], l_lengths[64], l_state[160];
  char l_classes[96], l_values[160];
  snprintf(l_features, sizeof l_features,
           "[batch_size=%lld][seq_len=%lld][input_size=%lld]", (long long)B,
           (long long)T, (long long)I);
  snprintf(l_tokens, sizeof l_tokens, "[batch_size=%lld][seq_len=%lld]",
           (long long)B, (long long)T);
  snprintf(l_lengths, sizeof l_lengths, "[batch_size=%lld]", (long long)B);
  snprintf(l_state, sizeof l_state,
           "[num_layers*directions=%lld][batch_size=%lld][hidden_size=%lld]",
           (long long)(L * D), (long long)B, (long long)H);
  snprintf(l_classes, sizeof l_classes, "%s", last ? l_lengths : l_tokens);
  if (last)
    snprintf(l_values, sizeof l_values, "[batch_size=%lld][output_size=%lld]",
             (long long)B, (long long)O);
  else
    snprintf(l_values, sizeof l_values,
             "[batch_size=%lld][seq_len=%lld][output_size=%lld]", (long long)B,
             (long long)T, (long long)O);

  if (ext_buffer_get(args->features, "features", EXT_FLOAT32, 0,
                     need_of(sized, ext_mul(BT, I)), l_features,
                     &bufs->features) < 0 ||
      ext_buffer_get(args->tokens, "tokens", EXT_INT32, 0, need_of(sized, BT),
                     l_tokens, &bufs->tokens) < 0 ||
      ext_buffer_get(args->lengths, "lengths", EXT_INT64, 0, need_of(sized, B),
                     l_lengths, &bufs->lengths) < 0 ||
      ext_buffer_get(args->initial_h, "initial_h", EXT_FLOAT32, 0,
                     need_of(sized, ext_mul(ext_mul(ext_mul(L, D), B), H)),
                     l_state, &bufs->initial_h) < 0 ||
      ext_buffer_get(args->initial_c, "initial_c", EXT_FLOAT32, 0,
                     need_of(sized, ext_mul(ext_mul(ext_mul(L, D), B), H)),
                     l_state, &bufs->initial_c) < 0 ||
      ext_buffer_get(args->target_classes, "target_classes", EXT_INT32, 0,
                     need_of(sized, targets), l_classes,
                     &bufs->target_classes) < 0 ||
      ext_buffer_get(args->target_values, "target_values", EXT_FLOAT32, 0,
                     need_of(sized, ext_mul(targets, O)), l_values,
                     &bufs->target_values) < 0 ||
      ext_buffer_get(args->loss_weights, "loss_weights", EXT_FLOAT32, 0,
                     need_of(sized, targets), l_classes,
                     &bufs->loss_weights) < 0) {
    ext_batch_release(bufs);
    return -1;
  }

  *out = seqrnn_batch_init(B, T);
  out->features = ext_buffer_ptr(&bufs->features);
  out->tokens = ext_buffer_ptr(&bufs->tokens);
  out->lengths = ext_buffer_ptr(&bufs->lengths);
  out->initial_h = ext_buffer_ptr(&bufs->initial_h);
  out->initial_c = ext_buffer_ptr(&bufs->initial_c);
  out->target_classes = ext_buffer_ptr(&bufs->target_classes);
  out->target_values = ext_buffer_ptr(&bufs->target_values);
  out->loss_weights = ext_buffer_ptr(&bufs->loss_weights);
  return 0;
}
