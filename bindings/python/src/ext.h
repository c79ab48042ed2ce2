/*
 * ext.h - shared declarations of the seqrnn._seqrnn extension, a thin layer
 * over include/seqrnn.h: one method per C call, arrays through the buffer
 * protocol, the GIL released around every call that may take time.
 *
 * Locking (every lock is taken with the GIL released, and no lock is held
 * while waiting for the GIL, so Python threads can never deadlock on them):
 * - each Model has a readers-writer lock: forward, evaluate, get_tensor,
 *   save, tensor queries, creating a State and Trainer.compute_gradients
 *   share it; set_tensor, Trainer.step, creating a Trainer and close() take
 *   it exclusively;
 * - each State and Trainer has a mutex (PyThread lock) serialising its
 *   users, taken before its model's lock.
 */
#ifndef SEQRNN_EXT_H
#define SEQRNN_EXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "seqrnn.h"

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *obj) {
  Py_INCREF(obj);
  return obj;
}
#endif

/* Adds obj to module under name without stealing the reference. */
int ext_add_object(PyObject *module, const char *name, PyObject *obj);

/* ---- objects ------------------------------------------------------------ */

typedef struct {
  PyObject_HEAD seqrnn_model *model; /* NULL once closed */
  seqrnn_model_params params; /* configuration, cached (it never changes) */
  int closed;                 /* set by close() with the GIL held */
  int lock_ready;             /* lock initialised (dealloc destroys it) */
  pthread_rwlock_t lock;
  PyObject *weakrefs;
} ModelObject;

typedef struct {
  PyObject_HEAD seqrnn_state *state; /* NULL once closed */
  ModelObject *owner;                /* strong reference */
  PyThread_type_lock lock;
  int closed;
  int64_t batch_size;
  int64_t state_count;
  PyObject *weakrefs;
} StateObject;

typedef struct {
  PyObject_HEAD seqrnn_trainer *trainer; /* NULL once closed */
  ModelObject *owner;                    /* strong reference */
  PyThread_type_lock lock;
  int closed;
  PyObject *weakrefs;
} TrainerObject;

extern PyTypeObject ext_ModelType;
extern PyTypeObject ext_StateType;
extern PyTypeObject ext_TrainerType;
extern PyTypeObject ext_MetricsType;       /* metrics.c */
extern PyTypeObject ext_EarlyStoppingType; /* early_stopping.c */
extern PyTypeObject ext_Seq2SeqType;       /* seq2seq.c */

/* load_word_vectors(model, path, vocabulary), a module function
 * (early_stopping.c). */
PyObject *ext_load_word_vectors(PyObject *module, PyObject *args);
extern const char ext_load_word_vectors_doc[];

/* Sampling and scoring, module functions (generation.c): generate
 * (seqrnn_model_generate), surprisal (seqrnn_model_surprisal),
 * sample_logits (seqrnn_sample_logits), rng_init (seqrnn_rng_init). */
PyObject *ext_generate(PyObject *module, PyObject *args, PyObject *kwds);
PyObject *ext_surprisal(PyObject *module, PyObject *args, PyObject *kwds);
PyObject *ext_sample_logits(PyObject *module, PyObject *args, PyObject *kwds);
PyObject *ext_rng_init(PyObject *module, PyObject *args);
extern const char ext_generate_doc[], ext_surprisal_doc[],
    ext_sample_logits_doc[], ext_rng_init_doc[];

/* record(model, layer, hidden, cell, gates, **batch) and
 * record_sizes(model, batch_size, seq_len), module functions (record.c). */
PyObject *ext_record(PyObject *module, PyObject *args, PyObject *kwds);
extern const char ext_record_doc[];
PyObject *ext_record_sizes(PyObject *module, PyObject *args);
extern const char ext_record_sizes_doc[];

/* Text tools (text.c): tokenize (seqrnn_tokenize), the Vocabulary type over
 * seqrnn_vocabulary and its constructors, pad_batch (seqrnn_pad_batch),
 * bucket_batches (seqrnn_bucket_batches). */
extern PyTypeObject ext_VocabularyType;
PyObject *ext_tokenize(PyObject *module, PyObject *args);
PyObject *ext_vocabulary_create(PyObject *module, PyObject *args);
PyObject *ext_vocabulary_build(PyObject *module, PyObject *args);
PyObject *ext_vocabulary_build_from_tokens(PyObject *module, PyObject *args);
PyObject *ext_vocabulary_load(PyObject *module, PyObject *arg);
PyObject *ext_vocabulary_from_json(PyObject *module, PyObject *arg);
PyObject *ext_pad_batch(PyObject *module, PyObject *args);
PyObject *ext_bucket_batches(PyObject *module, PyObject *args);
extern const char ext_tokenize_doc[], ext_vocabulary_create_doc[],
    ext_vocabulary_build_doc[], ext_vocabulary_build_from_tokens_doc[],
    ext_vocabulary_load_doc[], ext_vocabulary_from_json_doc[],
    ext_pad_batch_doc[], ext_bucket_batches_doc[];

/* Forecasting (forecast.c), one module function per call of the section:
 * scaler_fit, scaler_transform, scaler_inverse_transform, make_windows,
 * forecast_persistence, forecast_next, forecast_recursive, linear_ar_fit,
 * linear_ar_predict, forecast_rmse, forecast_mae (float64 buffers). */
PyObject *ext_scaler_fit(PyObject *module, PyObject *args);
PyObject *ext_scaler_transform(PyObject *module, PyObject *args);
PyObject *ext_scaler_inverse_transform(PyObject *module, PyObject *args);
PyObject *ext_make_windows(PyObject *module, PyObject *args);
PyObject *ext_forecast_persistence(PyObject *module, PyObject *args);
PyObject *ext_forecast_next(PyObject *module, PyObject *args);
PyObject *ext_forecast_recursive(PyObject *module, PyObject *args);
PyObject *ext_linear_ar_fit(PyObject *module, PyObject *args);
PyObject *ext_linear_ar_predict(PyObject *module, PyObject *args);
PyObject *ext_forecast_rmse(PyObject *module, PyObject *args);
PyObject *ext_forecast_mae(PyObject *module, PyObject *args);
extern const char ext_scaler_fit_doc[], ext_scaler_transform_doc[],
    ext_scaler_inverse_transform_doc[], ext_make_windows_doc[],
    ext_forecast_persistence_doc[], ext_forecast_next_doc[],
    ext_forecast_recursive_doc[], ext_linear_ar_fit_doc[],
    ext_linear_ar_predict_doc[], ext_forecast_rmse_doc[],
    ext_forecast_mae_doc[];

/* The status a call reports when its object was closed while it waited for
 * the lock. */
#define EXT_CLOSED (-1)

/* 0 for SEQRNN_OK; otherwise raises InvalidArgumentError("<what> is closed")
 * for EXT_CLOSED or the status's error, and returns -1. */
int ext_status(int status, const char *what);

/* A seqrnn_model_params as the dict Model.params() returns. */
PyObject *ext_model_params_dict(const seqrnn_model_params *p);

/* A new Model object around handle, which it takes over (freed on failure).
 * Returns NULL with an exception set on failure. */
PyObject *ext_model_wrap(seqrnn_model *handle);

/* Model lock, called with the GIL released. */
void ext_model_lock_shared(ModelObject *m);
void ext_model_lock_exclusive(ModelObject *m);
void ext_model_unlock(ModelObject *m);

/* ---- errors (errors.c) --------------------------------------------------- */

extern PyObject *ext_Error;
extern PyObject *ext_InvalidArgumentError;
extern PyObject *ext_ShapeError;

/* Creates the exception classes and adds them to module. */
int ext_errors_init(PyObject *module);

/* The exception class for a status code (a borrowed reference). */
PyObject *ext_error_class(int status);

/* Raises the exception of status with this thread's seqrnn_last_error()
 * text (call it on the thread that made the failing call). Returns NULL. */
PyObject *ext_raise_status(seqrnn_status status);

/* Raises cls (an Error subclass) with a formatted message. Returns NULL. */
PyObject *ext_raise(PyObject *cls, const char *format, ...);

/* Raises InvalidArgumentError("<what> is closed"). Returns NULL. */
PyObject *ext_raise_closed(const char *what);

/* ---- arguments and buffers (args.c) ------------------------------------- */

typedef enum { EXT_FLOAT32, EXT_INT32, EXT_INT64, EXT_FLOAT64 } ext_dtype;

/* A buffer taken from a Python object; view.obj is NULL when none is held
 * (the argument was None or absent). Zero-initialise before use. */
typedef struct {
  Py_buffer view;
  int64_t count; /* elements */
} ext_buffer;

/* Takes a C-contiguous buffer of dtype from obj for argument name.
 * obj NULL or None: nothing is taken (ptr NULL). writable: the buffer must
 * be writable. need >= 0: the buffer must hold at least need elements
 * (layout names them in the error message), else ShapeError.
 * Raises TypeError for a non-buffer or a wrong element type,
 * InvalidArgumentError for a read-only or non-contiguous buffer.
 * Returns 0, or -1 with an exception set and nothing held. */
int ext_buffer_get(PyObject *obj, const char *name, ext_dtype dtype,
                   int writable, int64_t need, const char *layout,
                   ext_buffer *out);

/* Releases a buffer taken by ext_buffer_get (no-op if none is held). */
void ext_buffer_release(ext_buffer *b);

/* The buffer's data, or NULL when none is held. */
void *ext_buffer_ptr(const ext_buffer *b);

/* a * b for sizes >= 0, -1 on overflow (or if either is negative). */
int64_t ext_mul(int64_t a, int64_t b);

/* Converts an integer-like object (__index__) to int64_t / int32_t /
 * uint64_t for argument name. Returns 0 or -1 (TypeError, OverflowError). */
int ext_to_int64(PyObject *obj, const char *name, int64_t *out);
int ext_to_int32(PyObject *obj, const char *name, int32_t *out);
int ext_to_uint64(PyObject *obj, const char *name, uint64_t *out);
/* Converts a real number to float. Returns 0 or -1 (TypeError). */
int ext_to_float(PyObject *obj, const char *name, float *out);

/* Checks that every keyword argument in names[0..n) was given (values[i]
 * non-NULL); raises TypeError naming the first missing one. */
int ext_require(const char *func, char **names, PyObject **values, int n);

/* A tensor name argument as NUL-terminated UTF-8 owned by obj. Raises
 * TypeError for a non-str, InvalidArgumentError for an embedded NUL. */
const char *ext_name(PyObject *obj, const char *arg);

/* The keyword arguments describing a batch (seqrnn_batch). */
typedef struct {
  PyObject *batch_size, *seq_len;
  PyObject *features, *tokens, *lengths, *initial_h, *initial_c;
  PyObject *target_classes, *target_values, *loss_weights;
} ext_batch_args;

/* The buffers held for a batch. Zero-initialise before use. */
typedef struct {
  ext_buffer features, tokens, lengths, initial_h, initial_c;
  ext_buffer target_classes, target_values, loss_weights;
} ext_batch_buffers;

/* Converts args (of the method func) into *out for model params p, taking
 * and checking every buffer against the sizes the C call will read from it.
 * Returns 0, or -1 with an exception set and nothing held. */
int ext_batch_get(const char *func, const seqrnn_model_params *p,
                  const ext_batch_args *args, ext_batch_buffers *bufs,
                  seqrnn_batch *out);

/* Releases every buffer of a batch. */
void ext_batch_release(ext_batch_buffers *bufs);

#endif /* SEQRNN_EXT_H */
