/*
 * seqrnn.h - the C interface of libseqrnn: train and run recurrent networks
 * (tanh/relu RNN, LSTM, GRU) with PyTorch-compatible weights.
 *
 * This header is the single source of truth of the ABI. The Swift exports in
 * Sources/SeqRNNCAPI implement it with `@c @implementation`, so any drift
 * between a declaration here and its implementation is a compile error.
 *
 * Conventions (see docs/architecture.md):
 * - Every fallible call returns a seqrnn_status; SEQRNN_OK is 0. On failure
 *   seqrnn_last_error() gives this thread's detailed message, out-params are
 *   set to NULL (pointers) or left untouched (values), and no model, state or
 *   trainer is changed.
 * - Buffers are float32 (token ids and class targets int32), C-contiguous and
 *   batch-major: [batch][time][features]. Sizes are int64_t. Capacities are
 *   counted in elements, not bytes. The library never keeps a caller's
 *   pointer after a call returns.
 * - Handles: seqrnn_model (read-only during inference, shareable across
 *   threads), seqrnn_state (streaming; one thread at a time), seqrnn_trainer
 *   (one thread at a time; it updates its model, which must then not be used
 *   by other threads during a step). States and trainers keep their model
 *   alive: freeing the model while they exist is safe.
 *   Every _create has a _free, and _free(NULL) is a no-op.
 */
#ifndef SEQRNN_H
#define SEQRNN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Versions
 * ------------------------------------------------------------------------- */

#define SEQRNN_VERSION_MAJOR 0
#define SEQRNN_VERSION_MINOR 1
#define SEQRNN_VERSION_PATCH 0
/** MAJOR * 10000 + MINOR * 100 + PATCH; compare with seqrnn_version_number().
 */
#define SEQRNN_VERSION_NUMBER                                                  \
  (SEQRNN_VERSION_MAJOR * 10000 + SEQRNN_VERSION_MINOR * 100 +                 \
   SEQRNN_VERSION_PATCH)

/** The version number of the loaded library (SEQRNN_VERSION_NUMBER it was
 *  built with). Bindings refuse a library whose number differs from the
 *  header they were compiled against. Thread-safe. */
uint32_t seqrnn_version_number(void);

/** The loaded library's version as static text, "MAJOR.MINOR.PATCH".
 *  Thread-safe; never NULL. */
const char *seqrnn_version_string(void);

/* ---------------------------------------------------------------------------
 * Status codes (explicit values, append-only)
 * ------------------------------------------------------------------------- */

typedef enum seqrnn_status {
  SEQRNN_OK = 0,
  /** An argument has a value outside what the call accepts (a size <= 0, an
   *  unknown enum value, a bad option). */
  SEQRNN_E_INVALID_ARGUMENT = 1,
  /** A required pointer (handle, buffer, path, name) is NULL. */
  SEQRNN_E_NULL_ARGUMENT = 2,
  /** A buffer's shape or element count does not match the model. */
  SEQRNN_E_SHAPE_MISMATCH = 3,
  /** A token id, class target or sequence length is out of its range. */
  SEQRNN_E_OUT_OF_RANGE = 4,
  /** Input values, targets, weights, loss or gradients are NaN or infinite. */
  SEQRNN_E_NON_FINITE = 5,
  /** Memory for the requested sizes could not be allocated. */
  SEQRNN_E_OUT_OF_MEMORY = 6,
  /** A file could not be opened, read, written or renamed. */
  SEQRNN_E_IO = 7,
  /** A file is not a valid seqrnn safetensors model (truncated, corrupt,
   *  another format, or tensors missing or of the wrong shape). */
  SEQRNN_E_BAD_FORMAT = 8,
  /** A file was written by a newer, incompatible format version. */
  SEQRNN_E_UNSUPPORTED_VERSION = 9,
  /** An output buffer is smaller than needed; the needed element count is
   *  reported where the call has an out_needed parameter. */
  SEQRNN_E_BUFFER_TOO_SMALL = 10,
  /** A tensor name is not one of the model's. */
  SEQRNN_E_UNKNOWN_NAME = 11,
  /** The operation does not apply to this model (for example streaming a
   *  bidirectional model, or a cell state for a non-LSTM model). */
  SEQRNN_E_UNSUPPORTED = 12,
  /** A bug in seqrnn; please report it with seqrnn_last_error(). */
  SEQRNN_E_INTERNAL = 13
} seqrnn_status;

/** Static English text for a status code ("invalid argument", ...); never
 *  NULL, also for unknown codes. Thread-safe. */
const char *seqrnn_status_string(seqrnn_status status);

/** The detailed message of this thread's most recent failed call (naming the
 *  argument and what was expected), or "" if none failed yet. The text stays
 *  valid until this thread's next failing call. Never NULL. */
const char *seqrnn_last_error(void);

/* ---------------------------------------------------------------------------
 * Enumerations used in the parameter structs (stored there as int32_t)
 * ------------------------------------------------------------------------- */

/** Recurrent cell types, with PyTorch's equations and gate orders. */
typedef enum seqrnn_cell {
  SEQRNN_CELL_RNN_TANH = 0, /**< h' = tanh(W_ih x + b_ih + W_hh h + b_hh) */
  SEQRNN_CELL_RNN_RELU = 1, /**< h' = relu(W_ih x + b_ih + W_hh h + b_hh) */
  SEQRNN_CELL_LSTM = 2,     /**< gates i, f, g, o */
  SEQRNN_CELL_GRU = 3       /**< gates r, z, n; b_hn inside r * (...) */
} seqrnn_cell;

/** Where the output head is applied. */
typedef enum seqrnn_output_mode {
  /** Many-to-many: an output at every step, [batch][time][output_size];
   *  steps past a sequence's length are written as zeros. */
  SEQRNN_OUTPUT_SEQUENCE = 0,
  /** Many-to-one: one output per sequence, [batch][output_size], from its
   *  last valid step (bidirectional: the forward direction's last valid step
   *  and the backward direction's first step, concatenated). */
  SEQRNN_OUTPUT_LAST = 1
} seqrnn_output_mode;

/** Training and evaluation loss. */
typedef enum seqrnn_loss {
  /** Softmax cross-entropy over output_size classes, mean over valid
   *  positions; targets are int32 class indices. */
  SEQRNN_LOSS_CROSS_ENTROPY = 0,
  /** Mean squared error, mean over valid positions times output_size;
   *  targets are float32 values shaped like the outputs. */
  SEQRNN_LOSS_MSE = 1
} seqrnn_loss;

/** Optimizers. */
typedef enum seqrnn_optimizer {
  SEQRNN_OPTIMIZER_SGD = 0, /**< SGD with optional (heavy-ball) momentum */
  SEQRNN_OPTIMIZER_ADAM = 1 /**< Adam (Kingma and Ba), as torch.optim.Adam */
} seqrnn_optimizer;

/* ---------------------------------------------------------------------------
 * Models
 * ------------------------------------------------------------------------- */

/** Weights and configuration. Read-only during forward/evaluate, so one
 *  model may serve many threads at once; set_tensor and training steps must
 *  not run concurrently with anything else on the same model. */
typedef struct seqrnn_model seqrnn_model;

/** The configuration of a model. Start from seqrnn_model_default_params()
 *  and change the fields you need; unknown enum values are rejected. */
typedef struct seqrnn_model_params {
  int32_t cell;          /**< seqrnn_cell; default SEQRNN_CELL_LSTM */
  int64_t input_size;    /**< features per step; with vocab_size > 0 the
                              embedding width (0 there means hidden_size);
                              default 0 */
  int64_t vocab_size;    /**< > 0: inputs are int32 token ids in
                              [0, vocab_size) through a learned embedding;
                              0: inputs are float features; default 0 */
  int64_t hidden_size;   /**< units per layer and direction; default 64 */
  int64_t num_layers;    /**< stacked recurrent layers; default 1 */
  int32_t bidirectional; /**< 0 or 1; default 0 */
  int64_t output_size;   /**< classes (cross-entropy) or values (MSE) of the
                              dense head; default 1 */
  int32_t output_mode;   /**< seqrnn_output_mode; default SEQUENCE */
  int32_t loss;          /**< seqrnn_loss; default CROSS_ENTROPY */
  uint64_t seed;         /**< weight initialisation seed (PyTorch's default
                              distributions); same seed, same weights;
                              default 0 */
} seqrnn_model_params;

/** The default model parameters (see the field comments). Thread-safe. */
seqrnn_model_params seqrnn_model_default_params(void);

/** Creates a model with freshly initialised weights.
 *  params: in, NULL means defaults (which need input_size or vocab_size,
 *  so NULL alone fails with SEQRNN_E_INVALID_ARGUMENT).
 *  out_model: out, owned by the caller, release with seqrnn_model_free.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT,
 *  SEQRNN_E_OUT_OF_MEMORY. Thread-safe. */
seqrnn_status seqrnn_model_create(const seqrnn_model_params *params,
                                  seqrnn_model **out_model);

/** Releases the caller's reference to a model; states and trainers created
 *  from it keep it alive until they are freed. NULL is a no-op. */
void seqrnn_model_free(seqrnn_model *model);

/** Writes the model's configuration to *out_params.
 *  Returns SEQRNN_OK or SEQRNN_E_NULL_ARGUMENT. */
seqrnn_status seqrnn_model_get_params(const seqrnn_model *model,
                                      seqrnn_model_params *out_params);

/** One batch of sequences, batch-major. Used by forward, evaluation and
 *  training; fields a call does not need may stay NULL. */
typedef struct seqrnn_batch {
  int64_t batch_size; /**< sequences in the batch, > 0 */
  int64_t seq_len;    /**< time steps of the buffers, > 0 */
  /** Feature models: [batch][seq_len][input_size] float32; else NULL. */
  const float *features;
  /** Token models: [batch][seq_len] int32 ids in [0, vocab_size); else NULL.
   *  Ids past a sequence's length are ignored. */
  const int32_t *tokens;
  /** Optional [batch] lengths in [1, seq_len]; NULL means all seq_len.
   *  Steps past a length neither change that sequence's state nor count in
   *  its loss, and its backward direction starts at its own end. */
  const int64_t *lengths;
  /** Optional initial hidden state [num_layers * directions][batch][hidden]
   *  (PyTorch's h_0 layout); NULL means zeros. */
  const float *initial_h;
  /** Optional initial LSTM cell state, same layout; NULL means zeros. */
  const float *initial_c;
  /** Cross-entropy targets: int32 class ids in [0, output_size), shaped
   *  [batch][seq_len] (SEQUENCE) or [batch] (LAST). Entries past a length
   *  are ignored. NULL where no loss is computed. */
  const int32_t *target_classes;
  /** MSE targets: float32, [batch][seq_len][output_size] (SEQUENCE) or
   *  [batch][output_size] (LAST). NULL where no loss is computed. */
  const float *target_values;
} seqrnn_batch;

/** An all-NULL batch of the given sizes; fill in the pointers. */
seqrnn_batch seqrnn_batch_init(int64_t batch_size, int64_t seq_len);

/** Number of output elements forward writes for a batch of these sizes:
 *  batch * seq_len * output_size (SEQUENCE) or batch * output_size (LAST).
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT. */
seqrnn_status seqrnn_model_output_count(const seqrnn_model *model,
                                        int64_t batch_size, int64_t seq_len,
                                        int64_t *out_count);

/** Number of elements of one state buffer (final_h, final_c, initial_h):
 *  num_layers * directions * batch_size * hidden_size. */
seqrnn_status seqrnn_model_state_count(const seqrnn_model *model,
                                       int64_t batch_size, int64_t *out_count);

/** Full-sequence forward pass.
 *  batch: in (inputs, lengths, optional initial states; targets ignored).
 *  outputs: out, capacity outputs_capacity elements: the head's outputs
 *  (logits for cross-entropy, values for MSE), see seqrnn_output_mode.
 *  final_h, final_c: out, optional (NULL to skip), each of capacity
 *  states_capacity: the states after each sequence's last valid step
 *  (reverse direction: after its first step), PyTorch's h_n/c_n layout.
 *  final_c must be NULL for non-LSTM models.
 *  out_needed: out, optional: the outputs element count, also written when
 *  the call fails with SEQRNN_E_BUFFER_TOO_SMALL.
 *  Exactly one of batch->features (feature models) and batch->tokens (token
 *  models) is given; the other one set is SEQRNN_E_INVALID_ARGUMENT, and
 *  initial_c or final_c for a non-LSTM model is SEQRNN_E_UNSUPPORTED.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT,
 *  SEQRNN_E_OUT_OF_RANGE, SEQRNN_E_NON_FINITE, SEQRNN_E_BUFFER_TOO_SMALL,
 *  SEQRNN_E_UNSUPPORTED, SEQRNN_E_OUT_OF_MEMORY.
 *  May run concurrently with other forward/evaluate calls on the model. */
seqrnn_status seqrnn_model_forward(const seqrnn_model *model,
                                   const seqrnn_batch *batch, float *outputs,
                                   int64_t outputs_capacity, float *final_h,
                                   float *final_c, int64_t states_capacity,
                                   int64_t *out_needed);

/** Loss and, for cross-entropy, accuracy over a batch. */
typedef struct seqrnn_evaluation {
  double loss;     /**< mean loss over valid positions */
  double accuracy; /**< fraction of valid positions whose arg-max output is
                        the target (cross-entropy); NAN for MSE */
  int64_t count;   /**< number of valid positions (per step or per
                        sequence) the means are over */
} seqrnn_evaluation;

/** Computes loss (and accuracy) on a batch without changing anything.
 *  batch: in, with target_classes (cross-entropy) or target_values (MSE).
 *  out_evaluation: out.
 *  Returns the statuses of seqrnn_model_forward, and SEQRNN_E_NON_FINITE
 *  when the loss is not finite. May run concurrently with other
 *  forward/evaluate calls on the model. */
seqrnn_status seqrnn_model_evaluate(const seqrnn_model *model,
                                    const seqrnn_batch *batch,
                                    seqrnn_evaluation *out_evaluation);

/* ---------------------------------------------------------------------------
 * Named tensors (PyTorch names and layouts)
 *
 * embedding.weight [vocab][input]           (token models only)
 * rnn.weight_ih_l{k}[_reverse] [gates*hidden][layer input]
 * rnn.weight_hh_l{k}[_reverse] [gates*hidden][hidden]
 * rnn.bias_ih_l{k}[_reverse], rnn.bias_hh_l{k}[_reverse] [gates*hidden]
 * head.weight [output][directions*hidden], head.bias [output]
 * gates: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n).
 * ------------------------------------------------------------------------- */

/** Name and shape of one of a model's tensors. */
typedef struct seqrnn_tensor_info {
  const char *name; /**< NUL-terminated; valid while the model lives */
  int32_t ndim;     /**< 1 or 2 */
  int64_t shape[4]; /**< first ndim entries used, the rest 0 */
  int64_t count;    /**< product of the shape */
} seqrnn_tensor_info;

/** Number of named tensors of the model, for iterating with
 *  seqrnn_model_tensor_info. Returns SEQRNN_OK or SEQRNN_E_NULL_ARGUMENT. */
seqrnn_status seqrnn_model_tensor_count(const seqrnn_model *model,
                                        int64_t *out_count);

/** Name and shape of tensor number index in [0, count), in PyTorch's
 *  state_dict order. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_OUT_OF_RANGE. */
seqrnn_status seqrnn_model_tensor_info(const seqrnn_model *model, int64_t index,
                                       seqrnn_tensor_info *out_info);

/** Name and shape of the tensor called name. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_UNKNOWN_NAME. */
seqrnn_status seqrnn_model_find_tensor(const seqrnn_model *model,
                                       const char *name,
                                       seqrnn_tensor_info *out_info);

/** Copies the tensor called name into out (capacity elements, row-major).
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_UNKNOWN_NAME,
 *  SEQRNN_E_BUFFER_TOO_SMALL. May run concurrently with forward calls. */
seqrnn_status seqrnn_model_get_tensor(const seqrnn_model *model,
                                      const char *name, float *out,
                                      int64_t capacity);

/** Replaces the tensor called name with count values from data (row-major,
 *  count must equal the tensor's element count; all finite).
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_UNKNOWN_NAME,
 *  SEQRNN_E_SHAPE_MISMATCH, SEQRNN_E_NON_FINITE. Not concurrent with any
 *  other use of the model. */
seqrnn_status seqrnn_model_set_tensor(seqrnn_model *model, const char *name,
                                      const float *data, int64_t count);

/* ---------------------------------------------------------------------------
 * Files (safetensors; configuration as JSON in the header metadata)
 * ------------------------------------------------------------------------- */

/** Saves the model to path as safetensors. The file is written next to path
 *  under a temporary name, flushed, then renamed over path, so path never
 *  holds a half-written file. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_INVALID_ARGUMENT (empty path), SEQRNN_E_IO. May run
 *  concurrently with forward calls. */
seqrnn_status seqrnn_model_save(const seqrnn_model *model, const char *path);

/** Loads a model saved by seqrnn_model_save (or any safetensors file with
 *  the same metadata and tensors). out_model: out, owned by the caller.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT
 *  (empty path), SEQRNN_E_IO, SEQRNN_E_BAD_FORMAT,
 *  SEQRNN_E_UNSUPPORTED_VERSION, SEQRNN_E_NON_FINITE,
 *  SEQRNN_E_OUT_OF_MEMORY. Thread-safe. */
seqrnn_status seqrnn_model_load(const char *path, seqrnn_model **out_model);

/* ---------------------------------------------------------------------------
 * Streaming inference: one time step per call
 * ------------------------------------------------------------------------- */

/** Hidden (and cell) state of a unidirectional model for step-by-step
 *  inference of batch_size sequences. One thread at a time. */
typedef struct seqrnn_state seqrnn_state;

/** Creates a zeroed streaming state for model and batch_size sequences.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT,
 *  SEQRNN_E_UNSUPPORTED (bidirectional model), SEQRNN_E_OUT_OF_MEMORY. */
seqrnn_status seqrnn_state_create(const seqrnn_model *model, int64_t batch_size,
                                  seqrnn_state **out_state);

/** Frees a state. NULL is a no-op. */
void seqrnn_state_free(seqrnn_state *state);

/** Sets the state back to zeros. Returns SEQRNN_OK or
 *  SEQRNN_E_NULL_ARGUMENT. */
seqrnn_status seqrnn_state_reset(seqrnn_state *state);

/** Advances every sequence one step and writes the head's outputs for that
 *  step, [batch][output_size], exactly as the full-sequence forward gives
 *  them at that step (for LAST models: as if the sequence ended there).
 *  Give features [batch][input_size] for feature models or tokens [batch]
 *  for token models, the other NULL.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_OUT_OF_RANGE,
 *  SEQRNN_E_NON_FINITE, SEQRNN_E_BUFFER_TOO_SMALL, SEQRNN_E_INVALID_ARGUMENT
 *  (features given to a token model or the reverse). */
seqrnn_status seqrnn_state_step(seqrnn_state *state, const float *features,
                                const int32_t *tokens, float *outputs,
                                int64_t outputs_capacity);

/** Copies the current hidden state (and, for LSTM, the cell state; c may be
 *  NULL) in PyTorch's [num_layers][batch][hidden] layout; capacity applies
 *  to each buffer. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_BUFFER_TOO_SMALL, SEQRNN_E_UNSUPPORTED (c for a non-LSTM). */
seqrnn_status seqrnn_state_get(const seqrnn_state *state, float *h, float *c,
                               int64_t capacity);

/** Replaces the current state with h (and c for LSTM; NULL means zeros),
 *  count elements each, which must equal seqrnn_model_state_count.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_SHAPE_MISMATCH,
 *  SEQRNN_E_NON_FINITE, SEQRNN_E_UNSUPPORTED (c for a non-LSTM). */
seqrnn_status seqrnn_state_set(seqrnn_state *state, const float *h,
                               const float *c, int64_t count);

/* ---------------------------------------------------------------------------
 * Training
 * ------------------------------------------------------------------------- */

/** Optimizer state, settings and step counter for training one model. One
 *  thread at a time; it updates its model in place. */
typedef struct seqrnn_trainer seqrnn_trainer;

/** Training settings. Start from seqrnn_train_default_params(). */
typedef struct seqrnn_train_params {
  int32_t optimizer;   /**< seqrnn_optimizer; default ADAM */
  float learning_rate; /**< > 0; default 1e-3 */
  float momentum;      /**< SGD momentum in [0, 1); default 0 */
  float beta1;         /**< Adam beta1 in [0, 1); default 0.9 */
  float beta2;         /**< Adam beta2 in [0, 1); default 0.999 */
  float epsilon;       /**< Adam epsilon > 0; default 1e-8 */
  float clip_norm;     /**< clip gradients to this global L2 norm; 0 = off;
                            default 0 */
} seqrnn_train_params;

/** The default training parameters (see the field comments). */
seqrnn_train_params seqrnn_train_default_params(void);

/** Creates a trainer for model. params: in, NULL = defaults.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT,
 *  SEQRNN_E_OUT_OF_MEMORY. */
seqrnn_status seqrnn_trainer_create(seqrnn_model *model,
                                    const seqrnn_train_params *params,
                                    seqrnn_trainer **out_trainer);

/** Frees a trainer (its model lives on while other references exist). NULL
 *  is a no-op. */
void seqrnn_trainer_free(seqrnn_trainer *trainer);

/** One training step on a batch with targets: forward, backpropagation
 *  through time, optional clipping, optimizer update. out_loss: out,
 *  optional, the batch's mean loss before the update.
 *  If the loss or any gradient is not finite the step is refused with
 *  SEQRNN_E_NON_FINITE and the model is left as it was.
 *  Returns the statuses of seqrnn_model_evaluate. */
seqrnn_status seqrnn_trainer_step(seqrnn_trainer *trainer,
                                  const seqrnn_batch *batch, float *out_loss);

/** Computes loss and gradients for a batch without updating the model (for
 *  gradient checks and custom optimizers); read them with
 *  seqrnn_trainer_get_gradient. out_loss: out, optional. */
seqrnn_status seqrnn_trainer_compute_gradients(seqrnn_trainer *trainer,
                                               const seqrnn_batch *batch,
                                               float *out_loss);

/** Copies the gradient of the tensor called name from the most recent step
 *  or compute_gradients call (before clipping) into out, capacity elements.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_UNKNOWN_NAME,
 *  SEQRNN_E_BUFFER_TOO_SMALL. */
seqrnn_status seqrnn_trainer_get_gradient(const seqrnn_trainer *trainer,
                                          const char *name, float *out,
                                          int64_t capacity);

/** Changes the learning rate used by subsequent steps (> 0, finite).
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT. */
seqrnn_status seqrnn_trainer_set_learning_rate(seqrnn_trainer *trainer,
                                               float learning_rate);

/** Number of optimizer updates applied so far. Returns SEQRNN_OK or
 *  SEQRNN_E_NULL_ARGUMENT. */
seqrnn_status seqrnn_trainer_step_count(const seqrnn_trainer *trainer,
                                        int64_t *out_steps);

/** Loss, accuracy (cross-entropy; NAN for MSE) and count of the batch of the
 *  most recent successful seqrnn_trainer_step or compute_gradients call,
 *  measured before the update, so training metrics need no second forward
 *  pass. Before any step, count is 0 and loss and accuracy are NAN.
 *  Returns SEQRNN_OK or SEQRNN_E_NULL_ARGUMENT. */
seqrnn_status seqrnn_trainer_last_evaluation(const seqrnn_trainer *trainer,
                                             seqrnn_evaluation *out_evaluation);

/* ---------------------------------------------------------------------------
 * Runtime information
 * ------------------------------------------------------------------------- */

/** Name of the BLAS in use, e.g. "OpenBLAS 0.3.21 (cooperlake)" or
 *  "built-in" when no BLAS library could be loaded. Static text, never
 *  NULL. Loads the BLAS if it was not loaded yet. Thread-safe. */
const char *seqrnn_blas_info(void);

/** Sets how many threads seqrnn's compute may use in this process (BLAS
 *  threads and seqrnn's own parallel work), 1 or more; the default is the
 *  number of online CPUs. Results do not depend on it beyond float rounding
 *  of BLAS reductions. Call it between calls, not during one.
 *  Returns SEQRNN_OK or SEQRNN_E_INVALID_ARGUMENT (threads < 1 or > 1024). */
seqrnn_status seqrnn_set_num_threads(int32_t threads);

/** The number of threads set by seqrnn_set_num_threads (or the default).
 *  Thread-safe. */
int32_t seqrnn_get_num_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* SEQRNN_H */
