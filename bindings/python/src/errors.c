/*
 * errors.c - the exception tree of seqrnn._seqrnn and the mapping of
 * seqrnn_status codes onto it.
 *
 * Every class derives from Error (itself an Exception) and, where one fits,
 * from the matching built-in exception, so `except ValueError` or
 * `except OSError` catch them too. Instances carry .message (the library's
 * seqrnn_last_error() text) and .status (the seqrnn_status code; the class
 * attribute gives the class's usual code for errors raised from Python).
 */
#include "ext.h"

#include <stdarg.h>
#include <string.h>

PyObject *ext_Error;
PyObject *ext_InvalidArgumentError;
PyObject *ext_ShapeError;
static PyObject *OutOfRangeError;
static PyObject *NonFiniteError;
static PyObject *BufferTooSmallError;
static PyObject *UnknownNameError;
static PyObject *UnsupportedError;
static PyObject *FileError;
static PyObject *FormatError;
static PyObject *OutOfMemoryError;
static PyObject *InternalError;

/* ---- Error.__init__ and Error.__str__ ----------------------------------- */

static int error_set_message(PyObject *self, PyObject *message) {
  PyObject *text =
      PyUnicode_Check(message) ? Py_NewRef(message) : PyObject_Str(message);
  if (text == NULL)
    return -1;
  PyObject *args = PyTuple_Pack(1, message);
  int rc = args == NULL ? -1 : PyObject_SetAttrString(self, "args", args);
  if (rc == 0)
    rc = PyObject_SetAttrString(self, "message", text);
  Py_XDECREF(args);
  Py_DECREF(text);
  return rc;
}

static PyObject *error_init(PyObject *self, PyObject *args, PyObject *kwds) {
  static char *kwlist[] = {"message", "status", NULL};
  PyObject *message = NULL;
  PyObject *status = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO:Error", kwlist, &message,
                                   &status))
    return NULL;
  if (message != NULL && error_set_message(self, message) < 0)
    return NULL;
  if (status != Py_None) {
    if (!PyLong_Check(status)) {
      PyErr_SetString(PyExc_TypeError, "Error: status must be an int");
      return NULL;
    }
    if (PyObject_SetAttrString(self, "status", status) < 0)
      return NULL;
  }
  Py_RETURN_NONE;
}

static PyObject *error_str(PyObject *self, PyObject *unused) {
  (void)unused;
  PyObject *message = PyObject_GetAttrString(self, "message");
  if (message == NULL)
    return NULL;
  if (PyUnicode_Check(message) && PyUnicode_GetLength(message) > 0)
    return message;
  Py_DECREF(message);
  return ((PyTypeObject *)PyExc_Exception)->tp_str(self);
}

static PyMethodDef error_init_def = {
    "__init__", (PyCFunction)(void (*)(void))error_init,
    METH_VARARGS | METH_KEYWORDS,
    "__init__($self, /, message='', status=None)\n--\n\n"
    "Sets .message (and .args) to message and, if given, .status."};

static PyMethodDef error_str_def = {"__str__", error_str, METH_NOARGS,
                                    "The message."};

static int add_method(PyObject *cls, PyMethodDef *def) {
  PyObject *descr = PyDescr_NewMethod((PyTypeObject *)cls, def);
  if (descr == NULL)
    return -1;
  int rc = PyObject_SetAttrString(cls, def->ml_name, descr);
  Py_DECREF(descr);
  return rc;
}

/* ---- the classes --------------------------------------------------------- */

typedef struct {
  const char *name;    /* "seqrnn._seqrnn.X" */
  PyObject **slot;     /* where the class is kept */
  int status;          /* class attribute .status */
  PyObject **bases[2]; /* besides Error (or Exception for Error itself) */
  const char *doc;
} error_spec;

static const error_spec specs[] = {
    {"seqrnn._seqrnn.Error",
     &ext_Error,
     0,
     {NULL, NULL},
     "Base class of every seqrnn error.\n\n"
     "Attributes: message (str, the library's detailed text) and status\n"
     "(int, the seqrnn_status code of the C API; 0 for an Error raised\n"
     "without one)."},
    {"seqrnn._seqrnn.InvalidArgumentError",
     &ext_InvalidArgumentError,
     SEQRNN_E_INVALID_ARGUMENT,
     {&PyExc_ValueError, NULL},
     "An argument has a value the call does not accept (a size <= 0, an\n"
     "unknown enum value, a missing input, a closed object).\n"
     "Statuses SEQRNN_E_INVALID_ARGUMENT and SEQRNN_E_NULL_ARGUMENT."},
    {"seqrnn._seqrnn.ShapeError",
     &ext_ShapeError,
     SEQRNN_E_SHAPE_MISMATCH,
     {&PyExc_ValueError, NULL},
     "An array's shape or element count does not match the model\n"
     "(SEQRNN_E_SHAPE_MISMATCH, or a buffer too short for the sizes given)."},
    {"seqrnn._seqrnn.OutOfRangeError",
     &OutOfRangeError,
     SEQRNN_E_OUT_OF_RANGE,
     {&PyExc_ValueError, NULL},
     "A token id, class target or sequence length is out of its range\n"
     "(SEQRNN_E_OUT_OF_RANGE)."},
    {"seqrnn._seqrnn.NonFiniteError",
     &NonFiniteError,
     SEQRNN_E_NON_FINITE,
     {&PyExc_ValueError, NULL},
     "Inputs, targets, weights, loss or gradients are NaN or infinite\n"
     "(SEQRNN_E_NON_FINITE)."},
    {"seqrnn._seqrnn.BufferTooSmallError",
     &BufferTooSmallError,
     SEQRNN_E_BUFFER_TOO_SMALL,
     {&PyExc_ValueError, NULL},
     "An output buffer is smaller than the call needs\n"
     "(SEQRNN_E_BUFFER_TOO_SMALL)."},
    {"seqrnn._seqrnn.UnknownNameError",
     &UnknownNameError,
     SEQRNN_E_UNKNOWN_NAME,
     {&PyExc_KeyError, NULL},
     "A tensor name is not one of the model's (SEQRNN_E_UNKNOWN_NAME)."},
    {"seqrnn._seqrnn.UnsupportedError",
     &UnsupportedError,
     SEQRNN_E_UNSUPPORTED,
     {&PyExc_NotImplementedError, NULL},
     "The operation does not apply to this model, e.g. streaming a\n"
     "bidirectional model (SEQRNN_E_UNSUPPORTED)."},
    {"seqrnn._seqrnn.FileError",
     &FileError,
     SEQRNN_E_IO,
     {&PyExc_OSError, NULL},
     "A file could not be opened, read, written or renamed (SEQRNN_E_IO)."},
    {"seqrnn._seqrnn.FormatError",
     &FormatError,
     SEQRNN_E_BAD_FORMAT,
     {&FileError, NULL},
     "A file is not a valid seqrnn model, or was written by a newer format\n"
     "version (SEQRNN_E_BAD_FORMAT, SEQRNN_E_UNSUPPORTED_VERSION)."},
    {"seqrnn._seqrnn.OutOfMemoryError",
     &OutOfMemoryError,
     SEQRNN_E_OUT_OF_MEMORY,
     {&PyExc_MemoryError, NULL},
     "Memory for the requested sizes could not be allocated\n"
     "(SEQRNN_E_OUT_OF_MEMORY)."},
    {"seqrnn._seqrnn.InternalError",
     &InternalError,
     SEQRNN_E_INTERNAL,
     {NULL, NULL},
     "A bug in seqrnn (SEQRNN_E_INTERNAL); please report it with the\n"
     "message."},
};

static PyObject *make_class(const error_spec *s) {
  PyObject *dict =
      Py_BuildValue("{s:i,s:s}", "status", s->status, "message", "");
  if (dict == NULL)
    return NULL;
  PyObject *bases;
  if (s->slot == &ext_Error)
    bases = PyTuple_Pack(1, PyExc_Exception);
  else if (s->bases[0] == &FileError)
    bases = PyTuple_Pack(1, FileError);
  else if (s->bases[0] != NULL)
    bases = PyTuple_Pack(2, ext_Error, *s->bases[0]);
  else
    bases = PyTuple_Pack(1, ext_Error);
  PyObject *cls = bases == NULL
                      ? NULL
                      : PyErr_NewExceptionWithDoc(s->name, s->doc, bases, dict);
  Py_XDECREF(bases);
  Py_DECREF(dict);
  return cls;
}

int ext_errors_init(PyObject *module) {
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    const error_spec *s = &specs[i];
    PyObject *cls = make_class(s);
    if (cls == NULL)
      return -1;
    if (s->slot == &ext_Error && (add_method(cls, &error_init_def) < 0 ||
                                  add_method(cls, &error_str_def) < 0)) {
      Py_DECREF(cls);
      return -1;
    }
    *s->slot = cls; /* the module-level reference, kept for good */
    const char *short_name = strrchr(s->name, '.') + 1;
    if (ext_add_object(module, short_name, cls) < 0)
      return -1;
  }
  return 0;
}

PyObject *ext_error_class(int status) {
  switch (status) {
  case SEQRNN_E_INVALID_ARGUMENT:
  case SEQRNN_E_NULL_ARGUMENT:
    return ext_InvalidArgumentError;
  case SEQRNN_E_SHAPE_MISMATCH:
    return ext_ShapeError;
  case SEQRNN_E_OUT_OF_RANGE:
    return OutOfRangeError;
  case SEQRNN_E_NON_FINITE:
    return NonFiniteError;
  case SEQRNN_E_OUT_OF_MEMORY:
    return OutOfMemoryError;
  case SEQRNN_E_IO:
    return FileError;
  case SEQRNN_E_BAD_FORMAT:
  case SEQRNN_E_UNSUPPORTED_VERSION:
    return FormatError;
  case SEQRNN_E_BUFFER_TOO_SMALL:
    return BufferTooSmallError;
  case SEQRNN_E_UNKNOWN_NAME:
    return UnknownNameError;
  case SEQRNN_E_UNSUPPORTED:
    return UnsupportedError;
  case SEQRNN_E_INTERNAL:
    return InternalError;
  default:
    return ext_Error;
  }
}

/* Raises cls(message, status); status < 0 keeps the class's default. */
static PyObject *raise_with(PyObject *cls, PyObject *message, int status) {
  PyObject *exc = status < 0
                      ? PyObject_CallOneArg(cls, message)
                      : PyObject_CallFunction(cls, "Oi", message, status);
  if (exc != NULL) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
  }
  return NULL;
}

PyObject *ext_raise_status(seqrnn_status status) {
  const char *text = seqrnn_last_error();
  if (text == NULL || text[0] == '\0')
    text = seqrnn_status_string(status);
  PyObject *message =
      PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "backslashreplace");
  if (message == NULL)
    return NULL;
  raise_with(ext_error_class((int)status), message, (int)status);
  Py_DECREF(message);
  return NULL;
}

PyObject *ext_raise(PyObject *cls, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  PyObject *message = PyUnicode_FromFormatV(format, ap);
  va_end(ap);
  if (message == NULL)
    return NULL;
  raise_with(cls, message, -1);
  Py_DECREF(message);
  return NULL;
}

PyObject *ext_raise_closed(const char *what) {
  return ext_raise(ext_InvalidArgumentError,
                   "%s is closed (close() was called); create a new one", what);
}
