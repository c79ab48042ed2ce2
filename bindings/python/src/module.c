/*
 * module.c - the seqrnn._seqrnn module: versions, runtime information,
 * constants, default parameters, and the import-time version check.
 */
#include "ext.h"

PyDoc_STRVAR(
    version_number_doc,
    "version_number()\n--\n\n"
    "The loaded library's version number, MAJOR * 10000 + MINOR * 100\n"
    "+ PATCH (seqrnn_version_number).");

static PyObject *version_number(PyObject *module, PyObject *unused) {
  (void)module, (void)unused;
  return PyLong_FromUnsignedLong(seqrnn_version_number());
}

PyDoc_STRVAR(version_string_doc,
             "version_string()\n--\n\n"
             "The loaded library's version, \"MAJOR.MINOR.PATCH\"\n"
             "(seqrnn_version_string).");

static PyObject *version_string(PyObject *module, PyObject *unused) {
  (void)module, (void)unused;
  return PyUnicode_FromString(seqrnn_version_string());
}

PyDoc_STRVAR(blas_info_doc,
             "blas_info()\n--\n\n"
             "The BLAS in use, e.g. \"OpenBLAS 0.3.21 (cooperlake)\" or\n"
             "\"built-in\" (seqrnn_blas_info); loads it if needed, GIL\n"
             "released.");

static PyObject *blas_info(PyObject *module, PyObject *unused) {
  (void)module, (void)unused;
  const char *text;
  Py_BEGIN_ALLOW_THREADS text = seqrnn_blas_info();
  Py_END_ALLOW_THREADS return PyUnicode_FromString(text);
}

PyDoc_STRVAR(set_num_threads_doc,
             "set_num_threads(threads, /)\n--\n\n"
             "Sets how many threads seqrnn's compute may use, 1 to 1024\n"
             "(seqrnn_set_num_threads).");

static PyObject *set_num_threads(PyObject *module, PyObject *arg) {
  (void)module;
  int32_t threads;
  if (ext_to_int32(arg, "threads", &threads) < 0)
    return NULL;
  int st;
  Py_BEGIN_ALLOW_THREADS st = (int)seqrnn_set_num_threads(threads);
  Py_END_ALLOW_THREADS if (ext_status(st, "set_num_threads") < 0) return NULL;
  Py_RETURN_NONE;
}

PyDoc_STRVAR(get_num_threads_doc,
             "get_num_threads()\n--\n\n"
             "The number of threads seqrnn's compute may use\n"
             "(seqrnn_get_num_threads).");

static PyObject *get_num_threads(PyObject *module, PyObject *unused) {
  (void)module, (void)unused;
  return PyLong_FromLong(seqrnn_get_num_threads());
}

PyDoc_STRVAR(precision_available_doc,
             "precision_available(precision, /)\n--\n\n"
             "Whether this machine can run a precision: 0 float32, 1 bfloat16\n"
             "(seqrnn_precision_available).");

static PyObject *precision_available(PyObject *module, PyObject *arg) {
  (void)module;
  int32_t precision;
  if (ext_to_int32(arg, "precision", &precision) < 0)
    return NULL;
  return PyBool_FromLong(
      seqrnn_precision_available((seqrnn_precision)precision));
}

PyDoc_STRVAR(status_string_doc, "status_string(status, /)\n--\n\n"
                                "Static English text for a seqrnn_status code\n"
                                "(seqrnn_status_string).");

static PyObject *status_string(PyObject *module, PyObject *arg) {
  (void)module;
  int32_t status;
  if (ext_to_int32(arg, "status", &status) < 0)
    return NULL;
  return PyUnicode_FromString(seqrnn_status_string((seqrnn_status)status));
}

PyDoc_STRVAR(error_class_doc,
             "error_class(status, /)\n--\n\n"
             "The exception class this module raises for a seqrnn_status code\n"
             "(Error for codes it does not know).");

static PyObject *error_class(PyObject *module, PyObject *arg) {
  (void)module;
  int32_t status;
  if (ext_to_int32(arg, "status", &status) < 0)
    return NULL;
  return Py_NewRef(ext_error_class(status));
}

PyDoc_STRVAR(default_model_params_doc,
             "default_model_params()\n--\n\n"
             "The library's default model configuration\n"
             "(seqrnn_model_default_params) as a dict with the keys of\n"
             "Model().");

static PyObject *default_model_params(PyObject *module, PyObject *unused) {
  (void)module, (void)unused;
  seqrnn_model_params p = seqrnn_model_default_params();
  return ext_model_params_dict(&p);
}

PyDoc_STRVAR(default_train_params_doc,
             "default_train_params()\n--\n\n"
             "The library's default training settings\n"
             "(seqrnn_train_default_params) as a dict with the keyword\n"
             "arguments of Trainer().");

static PyObject *default_train_params(PyObject *module, PyObject *unused) {
  (void)module, (void)unused;
  seqrnn_train_params p = seqrnn_train_default_params();
  return Py_BuildValue(
      "{s:i,s:d,s:d,s:d,s:d,s:d,s:d,s:N,s:d,s:d,s:d,s:d,s:i,s:L,s:d,s:L,s:L,"
      "s:d,s:L,s:N,s:N,s:K}",
      "optimizer", (int)p.optimizer, "learning_rate", (double)p.learning_rate,
      "momentum", (double)p.momentum, "beta1", (double)p.beta1, "beta2",
      (double)p.beta2, "epsilon", (double)p.epsilon, "clip_norm",
      (double)p.clip_norm, "nesterov", PyBool_FromLong(p.nesterov),
      "rmsprop_alpha", (double)p.rmsprop_alpha, "l2_penalty",
      (double)p.l2_penalty, "weight_decay", (double)p.weight_decay,
      "clip_value", (double)p.clip_value, "schedule", (int)p.schedule,
      "step_size", (long long)p.step_size, "gamma", (double)p.gamma,
      "warmup_steps", (long long)p.warmup_steps, "total_steps",
      (long long)p.total_steps, "min_learning_rate",
      (double)p.min_learning_rate, "patience", (long long)p.patience,
      "plateau_maximize", PyBool_FromLong(p.plateau_maximize), "stateful",
      PyBool_FromLong(p.stateful), "seed", (unsigned long long)p.seed);
}

static PyMethodDef module_methods[] = {
    {"version_number", version_number, METH_NOARGS, version_number_doc},
    {"version_string", version_string, METH_NOARGS, version_string_doc},
    {"blas_info", blas_info, METH_NOARGS, blas_info_doc},
    {"set_num_threads", set_num_threads, METH_O, set_num_threads_doc},
    {"get_num_threads", get_num_threads, METH_NOARGS, get_num_threads_doc},
    {"precision_available", precision_available, METH_O,
     precision_available_doc},
    {"status_string", status_string, METH_O, status_string_doc},
    {"error_class", error_class, METH_O, error_class_doc},
    {"default_model_params", default_model_params, METH_NOARGS,
     default_model_params_doc},
    {"default_train_params", default_train_params, METH_NOARGS,
     default_train_params_doc},
    {"load_word_vectors", ext_load_word_vectors, METH_VARARGS,
     ext_load_word_vectors_doc},
    /* sampling and scoring (generation.c) */
    {"generate", (PyCFunction)(void (*)(void))ext_generate,
     METH_VARARGS | METH_KEYWORDS, ext_generate_doc},
    {"surprisal", (PyCFunction)(void (*)(void))ext_surprisal,
     METH_VARARGS | METH_KEYWORDS, ext_surprisal_doc},
    {"sample_logits", (PyCFunction)(void (*)(void))ext_sample_logits,
     METH_VARARGS | METH_KEYWORDS, ext_sample_logits_doc},
    {"rng_init", ext_rng_init, METH_VARARGS, ext_rng_init_doc},
    /* a look inside (record.c) */
    {"record", (PyCFunction)(void (*)(void))ext_record,
     METH_VARARGS | METH_KEYWORDS, ext_record_doc},
    {"record_sizes", ext_record_sizes, METH_VARARGS, ext_record_sizes_doc},
    /* forecasting (forecast.c) */
    {"scaler_fit", ext_scaler_fit, METH_VARARGS, ext_scaler_fit_doc},
    {"scaler_transform", ext_scaler_transform, METH_VARARGS,
     ext_scaler_transform_doc},
    {"scaler_inverse_transform", ext_scaler_inverse_transform, METH_VARARGS,
     ext_scaler_inverse_transform_doc},
    {"make_windows", ext_make_windows, METH_VARARGS, ext_make_windows_doc},
    {"forecast_persistence", ext_forecast_persistence, METH_VARARGS,
     ext_forecast_persistence_doc},
    {"forecast_next", ext_forecast_next, METH_VARARGS, ext_forecast_next_doc},
    {"forecast_recursive", ext_forecast_recursive, METH_VARARGS,
     ext_forecast_recursive_doc},
    {"linear_ar_fit", ext_linear_ar_fit, METH_VARARGS, ext_linear_ar_fit_doc},
    {"linear_ar_predict", ext_linear_ar_predict, METH_VARARGS,
     ext_linear_ar_predict_doc},
    {"forecast_rmse", ext_forecast_rmse, METH_VARARGS, ext_forecast_rmse_doc},
    {"forecast_mae", ext_forecast_mae, METH_VARARGS, ext_forecast_mae_doc},
    /* text tools (text.c) */
    {"tokenize", ext_tokenize, METH_VARARGS, ext_tokenize_doc},
    {"vocabulary_create", ext_vocabulary_create, METH_VARARGS,
     ext_vocabulary_create_doc},
    {"vocabulary_build", ext_vocabulary_build, METH_VARARGS,
     ext_vocabulary_build_doc},
    {"vocabulary_build_from_tokens", ext_vocabulary_build_from_tokens,
     METH_VARARGS, ext_vocabulary_build_from_tokens_doc},
    {"vocabulary_load", ext_vocabulary_load, METH_O, ext_vocabulary_load_doc},
    {"vocabulary_from_json", ext_vocabulary_from_json, METH_O,
     ext_vocabulary_from_json_doc},
    {"pad_batch", ext_pad_batch, METH_VARARGS, ext_pad_batch_doc},
    {"bucket_batches", ext_bucket_batches, METH_VARARGS,
     ext_bucket_batches_doc},
    {NULL, NULL, 0, NULL}};

PyDoc_STRVAR(
    module_doc,
    "Thin C extension over libseqrnn's C API (seqrnn.h): Model, State,\n"
    "Trainer, the exception tree and the API's constants. Arrays cross by\n"
    "the buffer protocol (numpy arrays or any C-contiguous buffer of the\n"
    "right element type) without copies, and the GIL is released during\n"
    "every compute call. The pure-Python package seqrnn builds on it.\n\n"
    "HEADER_VERSION is the SEQRNN_VERSION_NUMBER this extension was built\n"
    "against; importing it with a library of another version fails.");

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT,
                                        "seqrnn._seqrnn",
                                        module_doc,
                                        -1,
                                        module_methods,
                                        NULL,
                                        NULL,
                                        NULL,
                                        NULL};

static const struct {
  const char *name;
  long value;
} constants[] = {
    {"CELL_RNN_TANH", SEQRNN_CELL_RNN_TANH},
    {"CELL_RNN_RELU", SEQRNN_CELL_RNN_RELU},
    {"CELL_LSTM", SEQRNN_CELL_LSTM},
    {"CELL_GRU", SEQRNN_CELL_GRU},
    {"OUTPUT_SEQUENCE", SEQRNN_OUTPUT_SEQUENCE},
    {"OUTPUT_LAST", SEQRNN_OUTPUT_LAST},
    {"LOSS_CROSS_ENTROPY", SEQRNN_LOSS_CROSS_ENTROPY},
    {"LOSS_MSE", SEQRNN_LOSS_MSE},
    {"OPTIMIZER_SGD", SEQRNN_OPTIMIZER_SGD},
    {"OPTIMIZER_ADAM", SEQRNN_OPTIMIZER_ADAM},
    {"OPTIMIZER_ADAMW", SEQRNN_OPTIMIZER_ADAMW},
    {"OPTIMIZER_RMSPROP", SEQRNN_OPTIMIZER_RMSPROP},
    {"SCHEDULE_CONSTANT", SEQRNN_SCHEDULE_CONSTANT},
    {"SCHEDULE_STEP", SEQRNN_SCHEDULE_STEP},
    {"SCHEDULE_EXPONENTIAL", SEQRNN_SCHEDULE_EXPONENTIAL},
    {"SCHEDULE_COSINE", SEQRNN_SCHEDULE_COSINE},
    {"SCHEDULE_PLATEAU", SEQRNN_SCHEDULE_PLATEAU},
    {"INIT_PYTORCH", SEQRNN_INIT_PYTORCH},
    {"INIT_XAVIER", SEQRNN_INIT_XAVIER},
    {"INIT_ORTHOGONAL", SEQRNN_INIT_ORTHOGONAL},
    {"ATTENTION_NONE", SEQRNN_ATTENTION_NONE},
    {"ATTENTION_DOT", SEQRNN_ATTENTION_DOT},
    {"ATTENTION_GENERAL", SEQRNN_ATTENTION_GENERAL},
    {"SAMPLING_NONE", SEQRNN_SAMPLING_NONE},
    {"SAMPLING_CONSTANT", SEQRNN_SAMPLING_CONSTANT},
    {"SAMPLING_LINEAR", SEQRNN_SAMPLING_LINEAR},
    {"SAMPLING_EXPONENTIAL", SEQRNN_SAMPLING_EXPONENTIAL},
    {"SAMPLING_INVERSE_SIGMOID", SEQRNN_SAMPLING_INVERSE_SIGMOID},
    {"SCALER_STANDARD", SEQRNN_SCALER_STANDARD}, /* forecast.c */
    {"SCALER_MINMAX", SEQRNN_SCALER_MINMAX},
    {"TOKENS_WORDS", SEQRNN_TOKENS_WORDS},
    {"TOKENS_WHITESPACE", SEQRNN_TOKENS_WHITESPACE},
    {"TOKENS_CUSTOM", SEQRNN_TOKENS_CUSTOM},
    {"OK", SEQRNN_OK},
    {"E_INVALID_ARGUMENT", SEQRNN_E_INVALID_ARGUMENT},
    {"E_NULL_ARGUMENT", SEQRNN_E_NULL_ARGUMENT},
    {"E_SHAPE_MISMATCH", SEQRNN_E_SHAPE_MISMATCH},
    {"E_OUT_OF_RANGE", SEQRNN_E_OUT_OF_RANGE},
    {"E_NON_FINITE", SEQRNN_E_NON_FINITE},
    {"E_OUT_OF_MEMORY", SEQRNN_E_OUT_OF_MEMORY},
    {"E_IO", SEQRNN_E_IO},
    {"E_BAD_FORMAT", SEQRNN_E_BAD_FORMAT},
    {"E_UNSUPPORTED_VERSION", SEQRNN_E_UNSUPPORTED_VERSION},
    {"E_BUFFER_TOO_SMALL", SEQRNN_E_BUFFER_TOO_SMALL},
    {"E_UNKNOWN_NAME", SEQRNN_E_UNKNOWN_NAME},
    {"E_UNSUPPORTED", SEQRNN_E_UNSUPPORTED},
    {"E_INTERNAL", SEQRNN_E_INTERNAL},
    {"HEADER_VERSION", SEQRNN_VERSION_NUMBER},
};

static int add_types(PyObject *module) {
  struct {
    const char *name;
    PyTypeObject *type;
  } types[] = {{"Model", &ext_ModelType},
               {"State", &ext_StateType},
               {"Trainer", &ext_TrainerType},
               {"Metrics", &ext_MetricsType},
               {"EarlyStopping", &ext_EarlyStoppingType},
               {"Seq2Seq", &ext_Seq2SeqType},
               {"Vocabulary", &ext_VocabularyType}};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    if (PyType_Ready(types[i].type) < 0 ||
        ext_add_object(module, types[i].name, (PyObject *)types[i].type) < 0)
      return -1;
  }
  return 0;
}

PyMODINIT_FUNC PyInit__seqrnn(void) {
  /* Refuse a library of another version than the header we were built with:
   * the structs and enums crossing the ABI may differ. */
  unsigned long loaded = seqrnn_version_number();
  if (loaded != SEQRNN_VERSION_NUMBER) {
    PyErr_Format(PyExc_ImportError,
                 "seqrnn: the loaded library libseqrnn is version %s (%lu), "
                 "but this extension was built for %d.%d.%d (%d); reinstall "
                 "seqrnn so that both come from the same build",
                 seqrnn_version_string(), loaded, SEQRNN_VERSION_MAJOR,
                 SEQRNN_VERSION_MINOR, SEQRNN_VERSION_PATCH,
                 SEQRNN_VERSION_NUMBER);
    return NULL;
  }
  PyObject *module = PyModule_Create(&module_def);
  if (module == NULL)
    return NULL;
  for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
    if (PyModule_AddIntConstant(module, constants[i].name, constants[i].value) <
        0)
      goto fail;
  }
  if (ext_errors_init(module) < 0 || add_types(module) < 0)
    goto fail;
  return module;
fail:
  Py_DECREF(module);
  return NULL;
}
