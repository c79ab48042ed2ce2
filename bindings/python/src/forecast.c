/*
 * forecast.c - module functions over the forecasting section of seqrnn.h,
 * one per C call: scaler_fit, scaler_transform, scaler_inverse_transform,
 * make_windows, forecast_persistence, forecast_next, forecast_recursive,
 * linear_ar_fit, linear_ar_predict, forecast_rmse, forecast_mae. The
 * pure-Python layer is seqrnn/forecast.py.
 *
 * The section works in double, so its buffers are float64 (EXT_FLOAT64).
 * Every input buffer is checked against the sizes the C call will read, as
 * args.c does; the GIL is released around each call, and the model calls share
 * the model's lock as forward does.
 */
#include "ext.h"

/* The elements an input of these sizes holds: 0 when a size is < 1 (the C
 * call reports it without reading), -1 with an exception on overflow. */
static int64_t elements(int64_t a, int64_t b, int64_t c) {
  if (a < 1 || b < 1 || c < 1)
    return 0;
  int64_t ab = ext_mul(a, b), abc = ab < 0 ? -1 : ext_mul(ab, c);
  if (abc < 0)
    ext_raise(ext_InvalidArgumentError, "sizes %lld * %lld * %lld overflow",
              (long long)a, (long long)b, (long long)c);
  return abc;
}

/* Converts the size arguments names[i] of objs[i] into out[i]. */
static int sizes(PyObject **objs, const char **names, int64_t *out, int n) {
  for (int i = 0; i < n; i++)
    if (ext_to_int64(objs[i], names[i], &out[i]) < 0)
      return -1;
  return 0;
}

/* ---- scaling ------------------------------------------------------------- */

const char ext_scaler_fit_doc[] = PyDoc_STR(
    "scaler_fit(method, train, time, features, out_offset, out_scale, /)\n"
    "--\n\n"
    "Fits a scaler (seqrnn_scaler_fit), GIL released: method 0 standard,\n"
    "1 min-max; train float64 [time][features]; out_offset and out_scale\n"
    "writable float64 of at least features elements. Raises\n"
    "InvalidArgumentError for a bad method or size, NonFiniteError.");

PyObject *ext_scaler_fit(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *omethod, *train, *o[2], *offset, *scale;
  int32_t method;
  int64_t n[2];
  if (!PyArg_ParseTuple(args, "OOOOOO:scaler_fit", &omethod, &train, &o[0],
                        &o[1], &offset, &scale) ||
      ext_to_int32(omethod, "method", &method) < 0 ||
      sizes(o, (const char *[]){"time", "features"}, n, 2) < 0)
    return NULL;
  int64_t need = elements(n[0], n[1], 1);
  if (need < 0)
    return NULL;
  ext_buffer bt = {0}, bo = {0}, bs = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(train, "train", EXT_FLOAT64, 0, need, "[time][features]",
                     &bt) == 0 &&
      ext_buffer_get(offset, "out_offset", EXT_FLOAT64, 1, n[1] > 0 ? n[1] : 0,
                     "[features]", &bo) == 0 &&
      ext_buffer_get(scale, "out_scale", EXT_FLOAT64, 1, n[1] > 0 ? n[1] : 0,
                     "[features]", &bs) == 0) {
    int st;
    Py_BEGIN_ALLOW_THREADS st = (int)seqrnn_scaler_fit(
        (seqrnn_scaler_method)method, ext_buffer_ptr(&bt), n[0], n[1],
        ext_buffer_ptr(&bo), ext_buffer_ptr(&bs));
    Py_END_ALLOW_THREADS if (ext_status(st, "scaler_fit") == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&bt);
  ext_buffer_release(&bo);
  ext_buffer_release(&bs);
  return result;
}

/* scaler_transform and scaler_inverse_transform. */
static PyObject *scaler_apply(PyObject *args, int inverse) {
  const char *fn = inverse ? "scaler_inverse_transform" : "scaler_transform";
  PyObject *offset, *scale, *values, *out;
  if (!PyArg_ParseTuple(args,
                        inverse ? "OOOO:scaler_inverse_transform"
                                : "OOOO:scaler_transform",
                        &offset, &scale, &values, &out))
    return NULL;
  ext_buffer bo = {0}, bs = {0}, bv = {0}, bout = {0};
  PyObject *result = NULL;
  /* The scaler's width is offset's length; the others must match it. */
  if (ext_buffer_get(offset, "offset", EXT_FLOAT64, 0, -1, NULL, &bo) == 0 &&
      ext_buffer_get(scale, "scale", EXT_FLOAT64, 0, bo.count, "[features]",
                     &bs) == 0 &&
      ext_buffer_get(values, "values", EXT_FLOAT64, 0, -1, NULL, &bv) == 0 &&
      ext_buffer_get(out, "out", EXT_FLOAT64, 1, bv.count, "as many as values",
                     &bout) == 0) {
    int st;
    Py_BEGIN_ALLOW_THREADS st =
        inverse ? (int)seqrnn_scaler_inverse_transform(
                      ext_buffer_ptr(&bo), ext_buffer_ptr(&bs), bo.count,
                      ext_buffer_ptr(&bv), bv.count, ext_buffer_ptr(&bout))
                : (int)seqrnn_scaler_transform(
                      ext_buffer_ptr(&bo), ext_buffer_ptr(&bs), bo.count,
                      ext_buffer_ptr(&bv), bv.count, ext_buffer_ptr(&bout));
    Py_END_ALLOW_THREADS if (ext_status(st, fn) == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&bo);
  ext_buffer_release(&bs);
  ext_buffer_release(&bv);
  ext_buffer_release(&bout);
  return result;
}

const char ext_scaler_transform_doc[] = PyDoc_STR(
    "scaler_transform(offset, scale, values, out, /)\n--\n\n"
    "out = (values - offset) / scale along the last axis\n"
    "(seqrnn_scaler_transform), GIL released. All float64; features =\n"
    "len(offset); len(values) a multiple of it; out writable, as long as\n"
    "values (may be values itself). Raises ShapeError, InvalidArgumentError\n"
    "(a scale <= 0), NonFiniteError (the scaler).");

PyObject *ext_scaler_transform(PyObject *module, PyObject *args) {
  (void)module;
  return scaler_apply(args, 0);
}

const char ext_scaler_inverse_transform_doc[] = PyDoc_STR(
    "scaler_inverse_transform(offset, scale, values, out, /)\n--\n\n"
    "out = values * scale + offset (seqrnn_scaler_inverse_transform);\n"
    "as scaler_transform.");

PyObject *ext_scaler_inverse_transform(PyObject *module, PyObject *args) {
  (void)module;
  return scaler_apply(args, 1);
}

/* ---- windows and baselines ----------------------------------------------- */

const char ext_make_windows_doc[] = PyDoc_STR(
    "make_windows(series, time, features, lags, horizon, out_windows,\n"
    "             out_targets, /)\n--\n\n"
    "Cuts series (float64 [time][features]) into windows and targets\n"
    "(seqrnn_make_windows), GIL released: out_windows writable float64\n"
    "[count][lags][features], out_targets [count][features], count =\n"
    "time - lags - horizon + 1, which it returns. Raises\n"
    "InvalidArgumentError (sizes < 1), ShapeError (too few steps),\n"
    "NonFiniteError, BufferTooSmallError.");

PyObject *ext_make_windows(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *series, *o[4], *windows, *targets;
  int64_t n[4];
  if (!PyArg_ParseTuple(args, "OOOOOOO:make_windows", &series, &o[0], &o[1],
                        &o[2], &o[3], &windows, &targets) ||
      sizes(o, (const char *[]){"time", "features", "lags", "horizon"}, n, 4) <
          0)
    return NULL;
  int64_t need = elements(n[0], n[1], 1);
  if (need < 0)
    return NULL;
  ext_buffer bs = {0}, bw = {0}, bt = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(series, "series", EXT_FLOAT64, 0, need, "[time][features]",
                     &bs) == 0 &&
      ext_buffer_get(windows, "out_windows", EXT_FLOAT64, 1, -1, NULL, &bw) ==
          0 &&
      ext_buffer_get(targets, "out_targets", EXT_FLOAT64, 1, -1, NULL, &bt) ==
          0) {
    int st;
    int64_t count = 0;
    Py_BEGIN_ALLOW_THREADS st = (int)seqrnn_make_windows(
        ext_buffer_ptr(&bs), n[0], n[1], n[2], n[3], ext_buffer_ptr(&bw),
        bw.count, ext_buffer_ptr(&bt), bt.count, &count);
    Py_END_ALLOW_THREADS if (ext_status(st, "make_windows") == 0) result =
        PyLong_FromLongLong((long long)count);
  }
  ext_buffer_release(&bs);
  ext_buffer_release(&bw);
  ext_buffer_release(&bt);
  return result;
}

const char ext_forecast_persistence_doc[] = PyDoc_STR(
    "forecast_persistence(windows, count, lags, features, out, /)\n--\n\n"
    "Each window's last step (seqrnn_forecast_persistence), GIL released:\n"
    "windows float64 [count][lags][features], out writable float64\n"
    "[count][features]. Raises InvalidArgumentError, NonFiniteError,\n"
    "BufferTooSmallError.");

PyObject *ext_forecast_persistence(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *windows, *o[3], *out;
  int64_t n[3];
  if (!PyArg_ParseTuple(args, "OOOOO:forecast_persistence", &windows, &o[0],
                        &o[1], &o[2], &out) ||
      sizes(o, (const char *[]){"count", "lags", "features"}, n, 3) < 0)
    return NULL;
  int64_t need = elements(n[0], n[1], n[2]);
  if (need < 0)
    return NULL;
  ext_buffer bw = {0}, bo = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(windows, "windows", EXT_FLOAT64, 0, need,
                     "[count][lags][features]", &bw) == 0 &&
      ext_buffer_get(out, "out", EXT_FLOAT64, 1, -1, NULL, &bo) == 0) {
    int st;
    Py_BEGIN_ALLOW_THREADS st = (int)seqrnn_forecast_persistence(
        ext_buffer_ptr(&bw), n[0], n[1], n[2], ext_buffer_ptr(&bo), bo.count);
    Py_END_ALLOW_THREADS if (ext_status(st, "forecast_persistence") == 0)
        result = Py_NewRef(Py_None);
  }
  ext_buffer_release(&bw);
  ext_buffer_release(&bo);
  return result;
}

const char ext_linear_ar_fit_doc[] = PyDoc_STR(
    "linear_ar_fit(windows, targets, count, lags, features, out_coef,\n"
    "              out_intercept, /)\n--\n\n"
    "Least-squares AR fit (seqrnn_linear_ar_fit), GIL released: windows\n"
    "float64 [count][lags][features], targets [count][features]; out_coef\n"
    "writable float64 [lags * features][features], out_intercept\n"
    "[features]. The minimum-norm solution numpy.linalg.lstsq gives.\n"
    "Raises InvalidArgumentError, NonFiniteError, BufferTooSmallError.");

PyObject *ext_linear_ar_fit(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *windows, *targets, *o[3], *coef, *intercept;
  int64_t n[3];
  if (!PyArg_ParseTuple(args, "OOOOOOO:linear_ar_fit", &windows, &targets,
                        &o[0], &o[1], &o[2], &coef, &intercept) ||
      sizes(o, (const char *[]){"count", "lags", "features"}, n, 3) < 0)
    return NULL;
  int64_t need = elements(n[0], n[1], n[2]), tneed = elements(n[0], n[2], 1);
  if (need < 0 || tneed < 0)
    return NULL;
  ext_buffer bw = {0}, bt = {0}, bc = {0}, bi = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(windows, "windows", EXT_FLOAT64, 0, need,
                     "[count][lags][features]", &bw) == 0 &&
      ext_buffer_get(targets, "targets", EXT_FLOAT64, 0, tneed,
                     "[count][features]", &bt) == 0 &&
      ext_buffer_get(coef, "out_coef", EXT_FLOAT64, 1, -1, NULL, &bc) == 0 &&
      ext_buffer_get(intercept, "out_intercept", EXT_FLOAT64, 1, -1, NULL,
                     &bi) == 0) {
    int st;
    Py_BEGIN_ALLOW_THREADS st = (int)seqrnn_linear_ar_fit(
        ext_buffer_ptr(&bw), ext_buffer_ptr(&bt), n[0], n[1], n[2],
        ext_buffer_ptr(&bc), bc.count, ext_buffer_ptr(&bi), bi.count);
    Py_END_ALLOW_THREADS if (ext_status(st, "linear_ar_fit") == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&bw);
  ext_buffer_release(&bt);
  ext_buffer_release(&bc);
  ext_buffer_release(&bi);
  return result;
}

const char ext_linear_ar_predict_doc[] = PyDoc_STR(
    "linear_ar_predict(coef, intercept, windows, count, lags, features,\n"
    "                  out, /)\n--\n\n"
    "AR forecasts (seqrnn_linear_ar_predict), GIL released: coef float64\n"
    "[lags * features][features], intercept [features], windows\n"
    "[count][lags][features], out writable [count][features]. Raises\n"
    "InvalidArgumentError, NonFiniteError, BufferTooSmallError.");

PyObject *ext_linear_ar_predict(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *coef, *intercept, *windows, *o[3], *out;
  int64_t n[3];
  if (!PyArg_ParseTuple(args, "OOOOOOO:linear_ar_predict", &coef, &intercept,
                        &windows, &o[0], &o[1], &o[2], &out) ||
      sizes(o, (const char *[]){"count", "lags", "features"}, n, 3) < 0)
    return NULL;
  int64_t need = elements(n[0], n[1], n[2]), cneed = elements(n[1], n[2], n[2]);
  if (need < 0 || cneed < 0)
    return NULL;
  ext_buffer bc = {0}, bi = {0}, bw = {0}, bo = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(coef, "coef", EXT_FLOAT64, 0, cneed,
                     "[lags * features][features]", &bc) == 0 &&
      ext_buffer_get(intercept, "intercept", EXT_FLOAT64, 0,
                     n[2] > 0 ? n[2] : 0, "[features]", &bi) == 0 &&
      ext_buffer_get(windows, "windows", EXT_FLOAT64, 0, need,
                     "[count][lags][features]", &bw) == 0 &&
      ext_buffer_get(out, "out", EXT_FLOAT64, 1, -1, NULL, &bo) == 0) {
    int st;
    Py_BEGIN_ALLOW_THREADS st = (int)seqrnn_linear_ar_predict(
        ext_buffer_ptr(&bc), ext_buffer_ptr(&bi), ext_buffer_ptr(&bw), n[0],
        n[1], n[2], ext_buffer_ptr(&bo), bo.count);
    Py_END_ALLOW_THREADS if (ext_status(st, "linear_ar_predict") == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&bc);
  ext_buffer_release(&bi);
  ext_buffer_release(&bw);
  ext_buffer_release(&bo);
  return result;
}

/* ---- model forecasts ----------------------------------------------------- */

const char ext_forecast_next_doc[] = PyDoc_STR(
    "forecast_next(model, windows, count, lags, features, out, /)\n--\n\n"
    "One-step forecasts of a model (seqrnn_forecast_next), GIL released,\n"
    "model lock shared: windows float64 [count][lags][features], out\n"
    "writable float64 [count][features]. The model needs float inputs,\n"
    "output 'last', loss 'mse' and input_size == output_size == features.\n"
    "Raises InvalidArgumentError (the model kind, sizes), ShapeError\n"
    "(widths), NonFiniteError, BufferTooSmallError.");

PyObject *ext_forecast_next(PyObject *module, PyObject *args) {
  (void)module;
  ModelObject *model;
  PyObject *windows, *o[3], *out;
  int64_t n[3];
  if (!PyArg_ParseTuple(args, "O!OOOOO:forecast_next", &ext_ModelType, &model,
                        &windows, &o[0], &o[1], &o[2], &out) ||
      sizes(o, (const char *[]){"count", "lags", "features"}, n, 3) < 0)
    return NULL;
  if (model->closed)
    return ext_raise_closed("Model");
  int64_t need = elements(n[0], n[1], n[2]);
  if (need < 0)
    return NULL;
  ext_buffer bw = {0}, bo = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(windows, "windows", EXT_FLOAT64, 0, need,
                     "[count][lags][features]", &bw) == 0 &&
      ext_buffer_get(out, "out", EXT_FLOAT64, 1, -1, NULL, &bo) == 0) {
    int st;
    Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(model);
    st = model->model == NULL
             ? EXT_CLOSED
             : (int)seqrnn_forecast_next(model->model, ext_buffer_ptr(&bw),
                                         n[0], n[1], n[2], ext_buffer_ptr(&bo),
                                         bo.count);
    ext_model_unlock(model);
    Py_END_ALLOW_THREADS if (ext_status(st, "Model") == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&bw);
  ext_buffer_release(&bo);
  return result;
}

const char ext_forecast_recursive_doc[] = PyDoc_STR(
    "forecast_recursive(model, history, count, lags, features, steps,\n"
    "                   offset, scale, out, /)\n--\n\n"
    "Recursive forecasts (seqrnn_forecast_recursive), GIL released, model\n"
    "lock shared: history float64 [count][lags][features]; offset and\n"
    "scale: a scaler's float64 [features] arrays, or both None; out\n"
    "writable float64 [count][steps][features]. Raises forecast_next's\n"
    "errors and InvalidArgumentError for steps < 1.");

PyObject *ext_forecast_recursive(PyObject *module, PyObject *args) {
  (void)module;
  ModelObject *model;
  PyObject *history, *o[4], *offset, *scale, *out;
  int64_t n[4];
  if (!PyArg_ParseTuple(args, "O!OOOOOOOO:forecast_recursive", &ext_ModelType,
                        &model, &history, &o[0], &o[1], &o[2], &o[3], &offset,
                        &scale, &out) ||
      sizes(o, (const char *[]){"count", "lags", "features", "steps"}, n, 4) <
          0)
    return NULL;
  if (model->closed)
    return ext_raise_closed("Model");
  int64_t need = elements(n[0], n[1], n[2]);
  if (need < 0)
    return NULL;
  int64_t width = n[2] > 0 ? n[2] : 0;
  ext_buffer bh = {0}, boff = {0}, bs = {0}, bo = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(history, "history", EXT_FLOAT64, 0, need,
                     "[count][lags][features]", &bh) == 0 &&
      ext_buffer_get(offset, "offset", EXT_FLOAT64, 0, width, "[features]",
                     &boff) == 0 &&
      ext_buffer_get(scale, "scale", EXT_FLOAT64, 0, width, "[features]",
                     &bs) == 0 &&
      ext_buffer_get(out, "out", EXT_FLOAT64, 1, -1, NULL, &bo) == 0) {
    int st;
    Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(model);
    st = model->model == NULL
             ? EXT_CLOSED
             : (int)seqrnn_forecast_recursive(
                   model->model, ext_buffer_ptr(&bh), n[0], n[1], n[2], n[3],
                   ext_buffer_ptr(&boff), ext_buffer_ptr(&bs),
                   ext_buffer_ptr(&bo), bo.count);
    ext_model_unlock(model);
    Py_END_ALLOW_THREADS if (ext_status(st, "Model") == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&bh);
  ext_buffer_release(&boff);
  ext_buffer_release(&bs);
  ext_buffer_release(&bo);
  return result;
}

/* ---- error measures ------------------------------------------------------ */

/* forecast_rmse and forecast_mae. */
static PyObject *error_measure(PyObject *args, int absolute) {
  const char *fn = absolute ? "forecast_mae" : "forecast_rmse";
  PyObject *truth, *forecast;
  if (!PyArg_ParseTuple(args, absolute ? "OO:forecast_mae" : "OO:forecast_rmse",
                        &truth, &forecast))
    return NULL;
  ext_buffer bt = {0}, bf = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(truth, "truth", EXT_FLOAT64, 0, -1, NULL, &bt) == 0 &&
      ext_buffer_get(forecast, "forecast", EXT_FLOAT64, 0, bt.count,
                     "as many as truth", &bf) == 0) {
    if (bf.count != bt.count) {
      ext_raise(ext_ShapeError,
                "%s: truth and forecast differ in length: %lld and %lld", fn,
                (long long)bt.count, (long long)bf.count);
    } else {
      int st;
      double value = 0;
      Py_BEGIN_ALLOW_THREADS st =
          absolute
              ? (int)seqrnn_forecast_mae(ext_buffer_ptr(&bt),
                                         ext_buffer_ptr(&bf), bt.count, &value)
              : (int)seqrnn_forecast_rmse(
                    ext_buffer_ptr(&bt), ext_buffer_ptr(&bf), bt.count, &value);
      Py_END_ALLOW_THREADS if (ext_status(st, fn) == 0) result =
          PyFloat_FromDouble(value);
    }
  }
  ext_buffer_release(&bt);
  ext_buffer_release(&bf);
  return result;
}

const char ext_forecast_rmse_doc[] = PyDoc_STR(
    "forecast_rmse(truth, forecast, /)\n--\n\n"
    "Root mean squared error of two float64 buffers of the same length\n"
    "(seqrnn_forecast_rmse). Raises ShapeError (lengths differ, or\n"
    "empty), NonFiniteError.");

PyObject *ext_forecast_rmse(PyObject *module, PyObject *args) {
  (void)module;
  return error_measure(args, 0);
}

const char ext_forecast_mae_doc[] =
    PyDoc_STR("forecast_mae(truth, forecast, /)\n--\n\n"
              "Mean absolute error (seqrnn_forecast_mae); as forecast_rmse.");

PyObject *ext_forecast_mae(PyObject *module, PyObject *args) {
  (void)module;
  return error_measure(args, 1);
}
