/*
 * record.c - record() and record_sizes(), module functions over
 * seqrnn_model_record and seqrnn_model_record_sizes: a layer's per-step
 * hidden states, LSTM cell states and gate activations ("a look inside").
 *
 * Module functions taking the Model (like load_word_vectors) keep this
 * concern out of model.c. record() shares the model's lock, as forward does.
 */
#include "ext.h"

const char ext_record_sizes_doc[] = PyDoc_STR(
    "record_sizes(model, batch_size, seq_len, /)\n--\n\n"
    "Element counts of record()'s buffers for a batch of these sizes\n"
    "(seqrnn_model_record_sizes), as a dict with the keys hidden, cell\n"
    "(0 unless LSTM), gates (0 for RNN cells) and gate_count (4 LSTM,\n"
    "3 GRU, 0 RNN). Raises InvalidArgumentError for sizes <= 0.");

PyObject *ext_record_sizes(PyObject *module, PyObject *args) {
  (void)module;
  ModelObject *model;
  PyObject *obatch, *oseq;
  int64_t batch_size, seq_len;
  if (!PyArg_ParseTuple(args, "O!OO:record_sizes", &ext_ModelType, &model,
                        &obatch, &oseq) ||
      ext_to_int64(obatch, "batch_size", &batch_size) < 0 ||
      ext_to_int64(oseq, "seq_len", &seq_len) < 0)
    return NULL;
  if (model->closed)
    return ext_raise_closed("Model");
  seqrnn_record_sizes s;
  int st;
  Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(model);
  st = model->model == NULL ? EXT_CLOSED
                            : (int)seqrnn_model_record_sizes(
                                  model->model, batch_size, seq_len, &s);
  ext_model_unlock(model);
  Py_END_ALLOW_THREADS if (ext_status(st, "Model") < 0) return NULL;
  return Py_BuildValue("{s:L,s:L,s:L,s:L}", "hidden", (long long)s.hidden,
                       "cell", (long long)s.cell, "gates", (long long)s.gates,
                       "gate_count", (long long)s.gate_count);
}

const char ext_record_doc[] = PyDoc_STR(
    "record(model, layer, hidden, cell, gates, /, *, batch_size, seq_len,\n"
    "       features=None, tokens=None, lengths=None, initial_h=None,\n"
    "       initial_c=None)\n--\n\n"
    "Runs model over a batch and writes layer `layer`'s per-step\n"
    "activations (seqrnn_model_record), GIL released. hidden, cell and\n"
    "gates are writable C-contiguous float32 buffers or None: hidden and\n"
    "cell [batch_size][seq_len][directions*hidden_size], gates\n"
    "[batch_size][seq_len][directions][gate_count][hidden_size] (sizes\n"
    "from record_sizes). Zeros past each length. The batch arguments are\n"
    "forward()'s. Raises OutOfRangeError for a bad layer, UnsupportedError\n"
    "for cell (non-LSTM) or gates (RNN), BufferTooSmallError for a short\n"
    "buffer, and forward()'s errors.");

PyObject *ext_record(PyObject *module, PyObject *args, PyObject *kwds) {
  (void)module;
  static char *kw[] = {"",       "",           "",          "",
                       "",       "batch_size", "seq_len",   "features",
                       "tokens", "lengths",    "initial_h", "initial_c",
                       NULL};
  ModelObject *model;
  PyObject *olayer, *ohidden, *ocell, *ogates;
  ext_batch_args a = {0};
  if (!PyArg_ParseTupleAndKeywords(
          args, kwds, "O!OOOO|$OOOOOOO:record", kw, &ext_ModelType, &model,
          &olayer, &ohidden, &ocell, &ogates, &a.batch_size, &a.seq_len,
          &a.features, &a.tokens, &a.lengths, &a.initial_h, &a.initial_c))
    return NULL;
  int64_t layer;
  if (ext_to_int64(olayer, "layer", &layer) < 0)
    return NULL;
  if (model->closed)
    return ext_raise_closed("Model");
  ext_batch_buffers bufs;
  seqrnn_batch batch;
  if (ext_batch_get("record", &model->params, &a, &bufs, &batch) < 0)
    return NULL;
  ext_buffer hid = {0}, cel = {0}, gat = {0};
  PyObject *result = NULL;
  if (ext_buffer_get(ohidden, "hidden", EXT_FLOAT32, 1, -1, NULL, &hid) == 0 &&
      ext_buffer_get(ocell, "cell", EXT_FLOAT32, 1, -1, NULL, &cel) == 0 &&
      ext_buffer_get(ogates, "gates", EXT_FLOAT32, 1, -1, NULL, &gat) == 0) {
    int st;
    Py_BEGIN_ALLOW_THREADS ext_model_lock_shared(model);
    st = model->model == NULL
             ? EXT_CLOSED
             : (int)seqrnn_model_record(model->model, &batch, layer,
                                        ext_buffer_ptr(&hid), hid.count,
                                        ext_buffer_ptr(&cel), cel.count,
                                        ext_buffer_ptr(&gat), gat.count, NULL);
    ext_model_unlock(model);
    Py_END_ALLOW_THREADS if (ext_status(st, "Model") == 0) result =
        Py_NewRef(Py_None);
  }
  ext_buffer_release(&hid);
  ext_buffer_release(&cel);
  ext_buffer_release(&gat);
  ext_batch_release(&bufs);
  return result;
}
