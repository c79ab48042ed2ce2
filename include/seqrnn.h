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
#define SEQRNN_VERSION_MINOR 4
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

/** Weight initialisation schemes of the recurrent layers (the embedding is
 *  always N(0, 1) and the head PyTorch's nn.Linear default). */
typedef enum seqrnn_init {
  /** PyTorch's nn.RNN/LSTM/GRU default: every weight and bias
   *  U(-1/sqrt(H), 1/sqrt(H)). */
  SEQRNN_INIT_PYTORCH = 0,
  /** Glorot/Xavier uniform for each gate block of W_ih and W_hh
   *  (fan_in + fan_out of the block), zero biases. */
  SEQRNN_INIT_XAVIER = 1,
  /** Glorot uniform W_ih, orthogonal W_hh per gate block, zero biases
   *  (Keras's default for recurrent layers). */
  SEQRNN_INIT_ORTHOGONAL = 2
} seqrnn_init;

/** Optimizers. */
typedef enum seqrnn_optimizer {
  SEQRNN_OPTIMIZER_SGD = 0,    /**< SGD, optional momentum and Nesterov,
                                    as torch.optim.SGD */
  SEQRNN_OPTIMIZER_ADAM = 1,   /**< Adam (Kingma and Ba), as torch.optim.Adam */
  SEQRNN_OPTIMIZER_ADAMW = 2,  /**< Adam with decoupled weight decay, as
                                    torch.optim.AdamW */
  SEQRNN_OPTIMIZER_RMSPROP = 3 /**< RMSprop, as torch.optim.RMSprop */
} seqrnn_optimizer;

/** Learning-rate schedules, applied per optimizer update (step). */
typedef enum seqrnn_schedule {
  SEQRNN_SCHEDULE_CONSTANT = 0,    /**< the rate stays learning_rate */
  SEQRNN_SCHEDULE_STEP = 1,        /**< times gamma every step_size updates */
  SEQRNN_SCHEDULE_EXPONENTIAL = 2, /**< times gamma every update */
  SEQRNN_SCHEDULE_COSINE = 3,      /**< cosine from learning_rate down to
                                        min_learning_rate over total_steps */
  SEQRNN_SCHEDULE_PLATEAU = 4      /**< times gamma when the value given to
                                        seqrnn_trainer_report_metric has not
                                        improved for patience reports */
} seqrnn_schedule;

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
  /* Regularisation, in [0, 1), all default 0. Dropout acts only in training
   * steps (seqrnn_trainer_step / compute_gradients), with masks drawn from
   * the trainer's seed; forward, evaluate and streaming never drop. */
  float dropout;           /**< on the outputs of every layer but the last
                                (PyTorch's nn.LSTM dropout) */
  float head_dropout;      /**< on the inputs of the head */
  float recurrent_dropout; /**< variational dropout on the previous hidden
                                state entering W_hh: one mask per sequence,
                                layer and direction, reused at every step */
  float zoneout;           /**< each unit keeps its previous hidden (and LSTM
                                cell) value with this probability at each
                                training step; forward and evaluate use the
                                expectation h = z h_prev + (1 - z) h_new */
  int32_t init;            /**< seqrnn_init; default SEQRNN_INIT_PYTORCH */
  int32_t forget_bias_one; /**< LSTM, 1: forget-gate biases start at 1 in
                                bias_ih and 0 in bias_hh; default 0 */
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

/** The arithmetic of a model's matrix products. */
typedef enum seqrnn_precision {
  /** float32 throughout: the default; matches PyTorch to about 1e-6. */
  SEQRNN_PRECISION_FLOAT32 = 0,
  /** Opt-in, for speed on CPUs with AMX (Intel Xeon 4th generation and
   *  later): every matrix product (input projections, recurrent steps,
   *  output head and their gradients) rounds its inputs to bfloat16 and
   *  sums in float32 on the tile unit. Weights, states, cell arithmetic,
   *  loss and optimizer stay float32 (mixed precision). */
  SEQRNN_PRECISION_BFLOAT16 = 1
} seqrnn_precision;

/** 1 when this machine can run precision (bfloat16 needs AMX-BF16 and the
 *  kernel's permission to use the tile registers), else 0. */
int32_t seqrnn_precision_available(seqrnn_precision precision);

/** Sets the arithmetic of the model's matrix products for every later
 *  forward pass, evaluation, generation and training step (also those of
 *  states and trainers made from it). A compute setting: not saved in the
 *  model file, and a loaded model starts in float32. Must not overlap with
 *  any other use of the model. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_INVALID_ARGUMENT (not a seqrnn_precision) or
 *  SEQRNN_E_UNSUPPORTED (this machine cannot run it). */
seqrnn_status seqrnn_model_set_precision(seqrnn_model *model,
                                         seqrnn_precision precision);

/** Writes the model's precision to *out_precision. Returns SEQRNN_OK or
 *  SEQRNN_E_NULL_ARGUMENT. */
seqrnn_status seqrnn_model_get_precision(const seqrnn_model *model,
                                         seqrnn_precision *out_precision);

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
  /** Optional loss weight of each position, float32 >= 0, [batch][seq_len]
   *  (SEQUENCE) or [batch] (LAST); NULL means 1 everywhere. The loss is the
   *  weighted mean sum(w * loss) / sum(w) over valid positions (0 weights
   *  ignore a position, larger ones weigh it, e.g. per class). */
  const float *loss_weights;
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
 * A look inside: per-step states and gates of one layer
 *
 * seqrnn_model_record runs a forward pass and copies out, for one recurrent
 * layer (both directions of a bidirectional one), what it computed at every
 * step, batch-major (H = hidden_size, D = directions, G = gate_count):
 *   hidden [batch][seq_len][D*H]   the layer's outputs h_t (forward
 *                                  direction's units first, as PyTorch's
 *                                  `output`); for the top layer these are
 *                                  what the head reads
 *   cell   [batch][seq_len][D*H]   LSTM cell states c_t
 *   gates  [batch][seq_len][D][G][H]  gate activations after their
 *                                  nonlinearity, in PyTorch's order:
 *                                  LSTM i, f, g, o (sigmoid, sigmoid, tanh,
 *                                  sigmoid); GRU r, z, n (sigmoid, sigmoid,
 *                                  tanh). RNN cells have no gates (G = 0):
 *                                  their hidden state is their activation.
 * Steps past a sequence's length are written as zeros in every buffer. For
 * the backward direction, step t holds the state after processing step t
 * (it runs from each sequence's last valid step down to 0), so hidden at
 * step 0 of the backward half equals that direction's final_h.
 * ------------------------------------------------------------------------- */

/** Element counts of the buffers of seqrnn_model_record for one batch. */
typedef struct seqrnn_record_sizes {
  int64_t hidden;     /**< batch * seq_len * directions * hidden_size */
  int64_t cell;       /**< the same for LSTM models; 0 for other cells */
  int64_t gates;      /**< hidden * gate_count (0 for RNN cells) */
  int64_t gate_count; /**< 4 (LSTM i, f, g, o), 3 (GRU r, z, n), 0 (RNN) */
} seqrnn_record_sizes;

/** Element counts seqrnn_model_record needs for a batch of these sizes
 *  (the same for every layer).
 *  out_sizes: out.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT
 *  (batch_size or seq_len <= 0). Thread-safe. */
seqrnn_status seqrnn_model_record_sizes(const seqrnn_model *model,
                                        int64_t batch_size, int64_t seq_len,
                                        seqrnn_record_sizes *out_sizes);

/** Runs the model over a batch and records layer `layer`'s hidden states,
 *  cell states and gate activations at every step (layouts above).
 *  batch: in, as for seqrnn_model_forward (inputs, lengths, optional
 *  initial states; targets ignored).
 *  layer: in [0, num_layers); 0 is the layer next to the inputs.
 *  hidden, cell, gates: out, each optional (NULL skips it), with its
 *  capacity in elements. cell must be NULL unless the model is an LSTM, and
 *  gates NULL for RNN cells (SEQRNN_E_UNSUPPORTED otherwise). With all
 *  three NULL the call only checks its arguments and runs the model.
 *  out_needed: out, optional: the element counts of this batch (as
 *  seqrnn_model_record_sizes), also written when the call fails with
 *  SEQRNN_E_BUFFER_TOO_SMALL; the error message names the short buffer.
 *  With zoneout, states are inference's (zoneout's expectation) and gates
 *  the cell's own. Costs one forward pass that keeps every layer's
 *  activations (as a training step's forward does).
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT,
 *  SEQRNN_E_OUT_OF_RANGE (layer, lengths, token ids), SEQRNN_E_NON_FINITE,
 *  SEQRNN_E_BUFFER_TOO_SMALL, SEQRNN_E_UNSUPPORTED, SEQRNN_E_OUT_OF_MEMORY.
 *  Nothing is written on failure except out_needed. May run concurrently
 *  with other forward/evaluate/record calls on the model. */
seqrnn_status seqrnn_model_record(const seqrnn_model *model,
                                  const seqrnn_batch *batch, int64_t layer,
                                  float *hidden, int64_t hidden_capacity,
                                  float *cell, int64_t cell_capacity,
                                  float *gates, int64_t gates_capacity,
                                  seqrnn_record_sizes *out_needed);

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
 * Text generation (sampling) and surprisal scoring
 *
 * A token language model here is a unidirectional cross-entropy token model
 * whose output_size equals its vocab_size, so each output can be fed back as
 * the next input.
 * ------------------------------------------------------------------------- */

/** How the next token is drawn from a row of logits. The steps, in order:
 *  divide the logits by temperature; keep the top_k largest (top-k); keep
 *  the smallest set of most likely tokens whose probability (renormalised
 *  over what top-k kept) reaches top_p (nucleus sampling, Holtzman et al.
 *  2020, as Hugging Face's TopPLogitsWarper: in descending order a token is
 *  kept while the mass before it is < top_p, so at least one is kept);
 *  draw from the renormalised softmax of what is left. Ties between equal
 *  logits always go to the lower token id (in the order, in top-k and in
 *  greedy choices), so results are deterministic. Start from
 *  seqrnn_sample_default_params(). */
typedef struct seqrnn_sample_params {
  float temperature; /**< finite, >= 0; 0 means greedy; default 1 */
  int64_t top_k;     /**< >= 0; keep the k most likely tokens; 0 (or k >=
                          vocabulary) = off; default 0 */
  float top_p;       /**< in (0, 1]; 1 = off; default 1 */
  int32_t greedy;    /**< 1: always the most likely token (the arg-max,
                          lowest id on ties); temperature, top_k and top_p
                          are then unused but must still be valid; 0 or 1;
                          default 0 */
  uint64_t seed;     /**< seqrnn_model_generate: sequence b draws from its own
                          generator seeded with seed + b (wrapping); unused
                          by seqrnn_sample_logits; default 0 */
} seqrnn_sample_params;

/** The default sampling parameters: plain sampling from softmax(logits),
 *  temperature 1, no top-k, no top-p, seed 0. Thread-safe. */
seqrnn_sample_params seqrnn_sample_default_params(void);

/** A random generator's state (xoshiro256**), owned and stored by the
 *  caller; seqrnn_sample_logits advances it. Copying it copies the
 *  sequence of draws. */
typedef struct seqrnn_rng {
  uint64_t state[4]; /**< opaque; make it with seqrnn_rng_init */
} seqrnn_rng;

/** A generator whose draws depend only on seed (seeded by SplitMix64, the
 *  same generator seqrnn_model_generate uses). Thread-safe. */
seqrnn_rng seqrnn_rng_init(uint64_t seed);

/** Draws one token from each of rows rows of logits, [rows][count]
 *  float32 (for example the outputs of seqrnn_state_step), with params
 *  (NULL = defaults; params->seed is not used) and the caller's generator
 *  rng, which advances by one draw per row (none when greedy). Writes
 *  out_tokens[rows]. Lets C programs that step a seqrnn_state themselves
 *  sample exactly as seqrnn_model_generate does.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT
 *  (rows or count < 1, a temperature that is NaN, infinite or < 0, top_k <
 *  0, top_p outside (0, 1], greedy not 0 or 1), SEQRNN_E_NON_FINITE (a
 *  logit is NaN or infinite). On failure rng and out_tokens are unchanged.
 *  Thread-safe for distinct rng and out_tokens. */
seqrnn_status seqrnn_sample_logits(const float *logits, int64_t rows,
                                   int64_t count,
                                   const seqrnn_sample_params *params,
                                   seqrnn_rng *rng, int32_t *out_tokens);

/** Continues batch_size token sequences by n sampled tokens each, all
 *  sequences together (one forward pass over the primes, then one streaming
 *  step of the whole batch per new token).
 *  model: a token language model (see above; SEQUENCE or LAST output).
 *  primes: in, [batch_size][max_prime_len] int32 ids; sequence b's prime is
 *  its first prime_lengths[b] ids (each length in [1, max_prime_len]; the
 *  rest is ignored). params: in, NULL = defaults. Sequence b samples with
 *  its own generator, seqrnn_rng_init(params->seed + b), so its tokens do
 *  not depend on the other sequences: row b equals a one-sequence call with
 *  seed + b (up to float rounding of the logits in batches of other sizes).
 *  out_tokens: out, [batch_size][n], capacity elements (n = 0 writes
 *  nothing). Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_INVALID_ARGUMENT (sizes < 1 or n < 0, bad params, a feature or
 *  MSE model, output_size != vocab_size), SEQRNN_E_UNSUPPORTED
 *  (bidirectional), SEQRNN_E_OUT_OF_RANGE (a length or id out of range),
 *  SEQRNN_E_BUFFER_TOO_SMALL, SEQRNN_E_NON_FINITE (logits),
 *  SEQRNN_E_OUT_OF_MEMORY. May run concurrently with other forward calls
 *  on the model. */
seqrnn_status seqrnn_model_generate(const seqrnn_model *model,
                                    const int32_t *primes,
                                    const int64_t *prime_lengths,
                                    int64_t batch_size, int64_t max_prime_len,
                                    int64_t n,
                                    const seqrnn_sample_params *params,
                                    int32_t *out_tokens, int64_t capacity);

/** Per-step surprisal: the negative log-likelihood in nats,
 *  -log softmax(outputs)[target], of each target class at each step, for a
 *  cross-entropy model with SEQUENCE output (for a language model the
 *  targets are the inputs shifted by one). batch: in, inputs, optional
 *  lengths and initial states, and target_classes [batch][seq_len]
 *  (loss_weights are ignored). out: out, [batch][seq_len] float32, capacity
 *  elements; steps past a sequence's length are written as 0 (like the
 *  outputs of seqrnn_model_forward), so a row's sum is the sequence's total
 *  surprisal. The mean of the valid entries is seqrnn_model_evaluate's loss.
 *  Returns the statuses of seqrnn_model_evaluate, SEQRNN_E_UNSUPPORTED (an
 *  MSE or LAST model) and SEQRNN_E_BUFFER_TOO_SMALL. May run concurrently
 *  with other forward calls on the model. */
seqrnn_status seqrnn_model_surprisal(const seqrnn_model *model,
                                     const seqrnn_batch *batch, float *out,
                                     int64_t capacity);

/* ---------------------------------------------------------------------------
 * Training
 * ------------------------------------------------------------------------- */

/** Optimizer state, settings and step counter for training one model. One
 *  thread at a time; it updates its model in place. */
typedef struct seqrnn_trainer seqrnn_trainer;

/** Training settings. Start from seqrnn_train_default_params(). */
typedef struct seqrnn_train_params {
  int32_t optimizer;    /**< seqrnn_optimizer; default ADAM */
  float learning_rate;  /**< > 0; default 1e-3 */
  float momentum;       /**< SGD and RMSprop momentum in [0, 1); default 0 */
  float beta1;          /**< Adam beta1 in [0, 1); default 0.9 */
  float beta2;          /**< Adam beta2 in [0, 1); default 0.999 */
  float epsilon;        /**< Adam/RMSprop epsilon > 0; default 1e-8 */
  float clip_norm;      /**< clip gradients to this global L2 norm (frozen
                             tensors left out); 0 = off; default 0 */
  int32_t nesterov;     /**< SGD: 1 for Nesterov momentum (momentum > 0);
                             default 0 */
  float rmsprop_alpha;  /**< RMSprop smoothing constant in [0, 1); default
                             0.99 */
  float l2_penalty;     /**< adds l2_penalty * w to each gradient (torch's
                             weight_decay of SGD, Adam, RMSprop); default 0 */
  float weight_decay;   /**< decoupled decay: w -= lr * weight_decay * w each
                             update, any optimizer (AdamW's weight_decay);
                             default 0 */
  float clip_value;     /**< clamp each gradient entry to +-clip_value, before
                             norm clipping; 0 = off; default 0 */
  int32_t schedule;     /**< seqrnn_schedule; default CONSTANT */
  int64_t step_size;    /**< STEP: updates between reductions; default 1000 */
  float gamma;          /**< STEP, EXPONENTIAL, PLATEAU factor in (0, 1];
                             default 0.1 */
  int64_t warmup_steps; /**< linear warm-up from 0 over this many updates,
                             before any schedule; default 0 */
  int64_t total_steps;  /**< COSINE: updates (after warm-up) to decay over;
                             default 10000 */
  float min_learning_rate;  /**< COSINE end and PLATEAU floor; default 0 */
  int64_t patience;         /**< PLATEAU: a reduction comes once more than
                                 patience reports in a row did not improve
                                 (torch's num_bad_epochs > patience);
                                 default 10 */
  int32_t plateau_maximize; /**< PLATEAU: 1 when larger reported values are
                                 better (accuracy), 0 when smaller (loss);
                                 default 0 */
  int32_t stateful;         /**< 1: truncated BPTT. Each step starts from the
                                 previous step's final states (when the batch
                                 size is unchanged and the batch gives no initial
                                 states), without backpropagating into them;
                                 default 0 */
  uint64_t seed;            /**< seed of the dropout and zoneout masks; same
                                 seed, same masks; default 0 */
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

/** Changes the base learning rate of subsequent steps (> 0, finite): the
 *  rate warm-up and schedules start from; a PLATEAU schedule restarts its
 *  reductions from it.
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

/** The learning rate the next update uses (after warm-up and schedule).
 *  Returns SEQRNN_OK or SEQRNN_E_NULL_ARGUMENT. */
seqrnn_status seqrnn_trainer_learning_rate(const seqrnn_trainer *trainer,
                                           float *out_learning_rate);

/** Reports a validation metric (e.g. once per epoch) to the PLATEAU
 *  schedule; other schedules ignore it. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_NON_FINITE. */
seqrnn_status seqrnn_trainer_report_metric(seqrnn_trainer *trainer,
                                           double value);

/** Freezes (frozen = 1) or unfreezes (0) the tensor called name: frozen
 *  tensors get gradients but no updates (e.g. pretrained embeddings).
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_UNKNOWN_NAME,
 *  SEQRNN_E_INVALID_ARGUMENT. */
seqrnn_status seqrnn_trainer_set_frozen(seqrnn_trainer *trainer,
                                        const char *name, int32_t frozen);

/** Copies the final hidden (and LSTM cell; c may be NULL) states of the
 *  latest step's batch, [layers*directions][batch][hidden], capacity
 *  elements each. With stateful training these are the states the next
 *  step starts from. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_BUFFER_TOO_SMALL, SEQRNN_E_UNSUPPORTED (c for a non-LSTM, or no
 *  step yet). */
seqrnn_status seqrnn_trainer_get_state(const seqrnn_trainer *trainer, float *h,
                                       float *c, int64_t capacity);

/** Stateful training: sets the carried states of the sequences whose entry
 *  in reset[batch] is non-zero back to zero (a document boundary), or of
 *  all sequences when reset is NULL; count is the length of reset.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_SHAPE_MISMATCH
 *  (count differs from the carried batch size). */
seqrnn_status seqrnn_trainer_reset_state(seqrnn_trainer *trainer,
                                         const uint8_t *reset, int64_t count);

/** Saves everything needed to resume training bit-identically: weights,
 *  optimizer moments, step count, schedule state, mask RNG state, carried
 *  states, frozen tensors, the training parameters and a caller's
 *  data_position (e.g. the next batch index), as safetensors. Atomic like
 *  seqrnn_model_save: a crash during a save leaves the previous file
 *  intact. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_INVALID_ARGUMENT, SEQRNN_E_IO. */
seqrnn_status seqrnn_trainer_save_checkpoint(const seqrnn_trainer *trainer,
                                             const char *path,
                                             int64_t data_position);

/** Loads a checkpoint: a new model and a trainer that continue exactly
 *  where the saved one stopped. out_model, out_trainer: out, owned by the
 *  caller; out_data_position: out, optional. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT, SEQRNN_E_IO,
 *  SEQRNN_E_BAD_FORMAT, SEQRNN_E_UNSUPPORTED_VERSION,
 *  SEQRNN_E_OUT_OF_MEMORY. */
seqrnn_status seqrnn_trainer_load_checkpoint(const char *path,
                                             seqrnn_model **out_model,
                                             seqrnn_trainer **out_trainer,
                                             int64_t *out_data_position);

/* ---------------------------------------------------------------------------
 * Metrics, streaming over an epoch
 * ------------------------------------------------------------------------- */

/** Accumulates loss and a confusion matrix over many batches. One thread at
 *  a time. */
typedef struct seqrnn_metrics seqrnn_metrics;

/** Creates an empty accumulator for num_classes classes (0 for MSE models:
 *  loss only). Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_INVALID_ARGUMENT (num_classes < 0 or > 65536). */
seqrnn_status seqrnn_metrics_create(int64_t num_classes,
                                    seqrnn_metrics **out_metrics);

/** Frees an accumulator; NULL is a no-op. */
void seqrnn_metrics_free(seqrnn_metrics *metrics);

/** Empties the accumulator. Returns SEQRNN_OK or SEQRNN_E_NULL_ARGUMENT. */
seqrnn_status seqrnn_metrics_reset(seqrnn_metrics *metrics);

/** Runs model on batch (with targets; loss_weights honoured for the loss)
 *  and adds its loss and, for cross-entropy, its arg-max predictions
 *  against the targets (positions of weight 0 are left out of both).
 * num_classes must equal the model's output_size (cross-entropy) or be 0 (MSE).
 * Returns the statuses of seqrnn_model_evaluate and SEQRNN_E_SHAPE_MISMATCH. */
seqrnn_status seqrnn_metrics_update(seqrnn_metrics *metrics,
                                    const seqrnn_model *model,
                                    const seqrnn_batch *batch);

/** Adds count (predicted, target) class pairs computed elsewhere (no
 *  loss). Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_OUT_OF_RANGE
 *  (a class outside [0, num_classes)), SEQRNN_E_INVALID_ARGUMENT. */
seqrnn_status seqrnn_metrics_add_predictions(seqrnn_metrics *metrics,
                                             const int32_t *predicted,
                                             const int32_t *targets,
                                             int64_t count);

/** Summary of everything accumulated: means over positions; NAN where
 *  undefined (no positions, or no loss added). In macro averages a class
 *  with no predictions (precision) or no targets (recall) counts as 0, as
 *  scikit-learn's zero_division=0; classes absent from both are skipped. */
typedef struct seqrnn_metrics_summary {
  double loss;            /**< mean loss (nats per position) */
  double perplexity;      /**< exp(loss), cross-entropy only */
  double bits_per_token;  /**< loss / ln 2 (bits per character for
                               character models), cross-entropy only */
  double accuracy;        /**< fraction of predictions equal to targets */
  double macro_precision; /**< unweighted mean over classes */
  double macro_recall;    /**< unweighted mean over classes */
  double macro_f1;        /**< unweighted mean of per-class F1 */
  int64_t count;          /**< positions accumulated */
} seqrnn_metrics_summary;

/** Writes the summary. Returns SEQRNN_OK or SEQRNN_E_NULL_ARGUMENT. */
seqrnn_status seqrnn_metrics_get_summary(const seqrnn_metrics *metrics,
                                         seqrnn_metrics_summary *out_summary);

/** Precision, recall, F1 and support (positions whose target is the class)
 *  of one class; each out-param optional. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_OUT_OF_RANGE. */
seqrnn_status seqrnn_metrics_get_class(const seqrnn_metrics *metrics,
                                       int64_t class_index,
                                       double *out_precision,
                                       double *out_recall, double *out_f1,
                                       int64_t *out_support);

/** Copies the confusion matrix [target][predicted] (num_classes^2 counts)
 *  into out. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_BUFFER_TOO_SMALL. */
seqrnn_status seqrnn_metrics_get_confusion(const seqrnn_metrics *metrics,
                                           int64_t *out, int64_t capacity);

/* ---------------------------------------------------------------------------
 * Early stopping
 * ------------------------------------------------------------------------- */

/** Tracks a validation metric, keeps a copy of the best weights and says
 *  when to stop. One thread at a time. */
typedef struct seqrnn_early_stopping seqrnn_early_stopping;

/** maximize: 1 when larger values are better (accuracy, F1), 0 when smaller
 *  (loss). patience: evaluations without improvement before stopping
 *  (>= 0; 0 acts as 1, as in Keras). min_delta (>= 0): an improvement must
 *  beat the best value by more than min_delta. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT. */
seqrnn_status seqrnn_early_stopping_create(int32_t maximize, int64_t patience,
                                           double min_delta,
                                           seqrnn_early_stopping **out);

/** Frees it; NULL is a no-op. */
void seqrnn_early_stopping_free(seqrnn_early_stopping *early_stopping);

/** Records value (e.g. this epoch's validation loss) for model: on an
 *  improvement it copies the model's weights as the best so far.
 *  *out_stop (optional) becomes 1 once patience evaluations passed without
 *  improvement. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_NON_FINITE, SEQRNN_E_SHAPE_MISMATCH (another architecture
 *  than earlier calls). */
seqrnn_status seqrnn_early_stopping_update(seqrnn_early_stopping *es,
                                           const seqrnn_model *model,
                                           double value, int32_t *out_stop);

/** Copies the best weights seen back into model. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_UNSUPPORTED (no value recorded yet),
 *  SEQRNN_E_SHAPE_MISMATCH. */
seqrnn_status seqrnn_early_stopping_restore(const seqrnn_early_stopping *es,
                                            seqrnn_model *model);

/** The best value and the 0-based index of the update call that gave it;
 *  each out-param optional. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_UNSUPPORTED (none yet). */
seqrnn_status seqrnn_early_stopping_best(const seqrnn_early_stopping *es,
                                         double *out_value, int64_t *out_index);

/* ---------------------------------------------------------------------------
 * Pretrained embeddings
 * ------------------------------------------------------------------------- */

/** Fills rows of embedding.weight from a word-vector text file: GloVe
 *  ("word v1 ... vd" per line) or word2vec text (the same after a
 *  "count dim" first line). Row i receives the vector of vocabulary[i];
 *  words absent from the file keep their row. The vector width must equal
 *  the embedding width. out_found: out, optional, rows filled. Freeze the
 *  rows with seqrnn_trainer_set_frozen(trainer, "embedding.weight", 1).
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_UNSUPPORTED (not a
 *  token model), SEQRNN_E_SHAPE_MISMATCH (vocabulary_size differs from
 *  vocab_size, or a vector's width), SEQRNN_E_IO, SEQRNN_E_BAD_FORMAT,
 *  SEQRNN_E_NON_FINITE. On error the model is unchanged. */
seqrnn_status seqrnn_model_load_word_vectors(seqrnn_model *model,
                                             const char *path,
                                             const char *const *vocabulary,
                                             int64_t vocabulary_size,
                                             int64_t *out_found);

/* ---------------------------------------------------------------------------
 * Runtime information
 * ------------------------------------------------------------------------- */

/** Name of the BLAS in use, e.g. "OpenBLAS 0.3.21 (cooperlake)" or
 *  "built-in" when no BLAS library could be loaded. Static text, never
 *  NULL. Loads the BLAS if it was not loaded yet. Thread-safe. */
const char *seqrnn_blas_info(void);

/** Sets how many threads seqrnn's compute may use in this process, 1 or
 *  more; the default is the number of online CPUs. seqrnn runs its own
 *  threads (the recurrence splits hidden units across them, large GEMMs run
 *  as two chunks) and keeps the BLAS single-threaded. Results do not depend
 *  on it: work is divided by outputs, never along a sum. Call it between
 *  calls, not during one.
 *  Returns SEQRNN_OK or SEQRNN_E_INVALID_ARGUMENT (threads < 1 or > 1024). */
seqrnn_status seqrnn_set_num_threads(int32_t threads);

/** The number of threads set by seqrnn_set_num_threads (or the default).
 *  Thread-safe. */
int32_t seqrnn_get_num_threads(void);

/* ---------------------------------------------------------------------------
 * Encoder-decoder (seq2seq)
 *
 * An encoder stack reads the source tokens; a decoder stack of the same
 * cell, depth and width starts from the encoder's final states (h, and c for
 * LSTM, layer by layer) and reads BOS y_1 ... y_n to predict y_1 ... y_n EOS.
 * Optional Luong global attention (dot or general) over the encoder's top
 * outputs, masked by the source lengths: h~_t = tanh(W_c [c_t; h_t]), logits
 * from h~_t. No input feeding (h~_t is not fed back to the decoder).
 * Targets are given WITHOUT BOS/EOS; decoded tokens come back without EOS.
 *
 * Tensors: encoder.embedding.weight [Vs][E], encoder.weight_ih_l{k},
 * encoder.weight_hh_l{k}, encoder.bias_ih_l{k}, encoder.bias_hh_l{k}, the
 * same under decoder.* (decoder.embedding.weight [Vt][E]),
 * attention.linear_in.weight [H][H] (general: score = (W_in h_t) . hbar_s),
 * attention.linear_out.weight [H][2H] (W_c, with attention), output.weight
 * [Vt][H], output.bias [Vt].
 *
 * Scheduled sampling is the parallel (two-pass) variant of Duckworth et al.
 * 2019: a teacher-forced pass predicts every position, then each decoder
 * input y_t (t >= 1) is kept with probability eps (the teacher-forcing
 * ratio at this step, from the schedule) and otherwise replaced by that
 * pass's prediction for it; the loss and gradients come from a second pass
 * on the mixed inputs, against the gold targets.
 *
 * A seqrnn_seq2seq holds the weights, the optimizer state and the
 * scheduled-sampling clock; one thread at a time for every call on it.
 * ------------------------------------------------------------------------- */

/** Attention over the encoder outputs (Luong et al. 2015, global). */
typedef enum seqrnn_attention {
  SEQRNN_ATTENTION_NONE = 0,   /**< logits from the decoder's top state */
  SEQRNN_ATTENTION_DOT = 1,    /**< score = h_t . hbar_s */
  SEQRNN_ATTENTION_GENERAL = 2 /**< score = (W_in h_t) . hbar_s */
} seqrnn_attention;

/** Teacher-forcing ratio schedules over training steps i (Bengio et al.
 *  2015); eps is clamped to [0, 1]. */
typedef enum seqrnn_sampling_schedule {
  SEQRNN_SAMPLING_NONE = 0,           /**< pure teacher forcing, eps = 1 */
  SEQRNN_SAMPLING_CONSTANT = 1,       /**< eps = start */
  SEQRNN_SAMPLING_LINEAR = 2,         /**< max(end, start - decay * i) */
  SEQRNN_SAMPLING_EXPONENTIAL = 3,    /**< max(end, start * decay^i),
                                           decay in (0, 1] */
  SEQRNN_SAMPLING_INVERSE_SIGMOID = 4 /**< end + (start - end) * k /
                                           (k + exp(i / k)), k = decay >= 1 */
} seqrnn_sampling_schedule;

/** An encoder-decoder model with its trainer. */
typedef struct seqrnn_seq2seq seqrnn_seq2seq;

/** Configuration and training settings of a seq2seq model. Start from
 *  seqrnn_seq2seq_default_params(). */
typedef struct seqrnn_seq2seq_params {
  int32_t cell;              /**< seqrnn_cell of both stacks; default LSTM */
  int64_t source_vocab_size; /**< > 0; default 0 (must be set) */
  int64_t target_vocab_size; /**< >= 2, includes BOS and EOS; default 0
                                  (must be set) */
  int64_t embedding_size;    /**< both embeddings; 0 = hidden_size; default 0 */
  int64_t hidden_size;       /**< default 64 */
  int64_t num_layers;        /**< layers of each stack; default 1 */
  int32_t attention;         /**< seqrnn_attention; default NONE */
  int32_t bos_id; /**< target id the decoder starts from; default 1 */
  int32_t eos_id; /**< target id ending a sequence; default 2 */
  int32_t init;   /**< seqrnn_init of the recurrent layers */
  uint64_t seed;  /**< weight initialisation seed; default 0 */
  seqrnn_train_params train;   /**< optimizer, clipping, learning-rate schedule;
                                    train.seed seeds scheduled sampling;
                                    stateful must be 0 */
  int32_t sampling_schedule;   /**< seqrnn_sampling_schedule; default NONE */
  float sampling_start;        /**< eps at step 0, in [0, 1]; default 1 */
  float sampling_end;          /**< floor of eps, in [0, start]; default 0 */
  float sampling_decay;        /**< see seqrnn_sampling_schedule; default 0 */
  int32_t sampling_from_model; /**< 1: feed back a sample from the softmax
                                    instead of the arg-max; default 0 */
  float dropout;               /**< on the outputs of every layer but the last,
                                    in both stacks, in [0, 1); training steps
                                    and compute_gradients only; default 0 */
  float recurrent_dropout;     /**< variational dropout on the previous hidden
                                    state in both stacks, in [0, 1); default 0
                                    (the masks come from train.seed) */
  int32_t bidirectional_encoder; /**< 1: the encoder reads each source both
                                      ways; its two directions are summed
                                      (attention's inputs, the decoder's
                                      initial states); default 0 */
} seqrnn_seq2seq_params;

/** The default seq2seq parameters (see the field comments). */
seqrnn_seq2seq_params seqrnn_seq2seq_default_params(void);

/** Creates a model with fresh weights and trainer state.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT (params or out_model),
 *  SEQRNN_E_INVALID_ARGUMENT, SEQRNN_E_UNSUPPORTED (train.stateful),
 *  SEQRNN_E_OUT_OF_MEMORY. */
seqrnn_status seqrnn_seq2seq_create(const seqrnn_seq2seq_params *params,
                                    seqrnn_seq2seq **out_model);

/** Frees a model. NULL is a no-op. */
void seqrnn_seq2seq_free(seqrnn_seq2seq *model);

/** The model's parameters (after load: the saved configuration and the
 *  training settings given to load). */
seqrnn_status seqrnn_seq2seq_get_params(const seqrnn_seq2seq *model,
                                        seqrnn_seq2seq_params *out_params);

/** A batch of source and target sequences, batch-major. */
typedef struct seqrnn_seq2seq_batch {
  int64_t batch_size;            /**< > 0 */
  int64_t source_len;            /**< steps of source, > 0 */
  const int32_t *source;         /**< [batch][source_len] ids in [0, Vs) */
  const int64_t *source_lengths; /**< [batch] in [1, source_len]; NULL = full */
  int64_t target_len;            /**< steps of target, >= 0 */
  const int32_t *target; /**< [batch][target_len] ids in [0, Vt), without
                              BOS/EOS; may be NULL when target_len is 0 */
  const int64_t *target_lengths; /**< [batch] in [0, target_len]; NULL = full */
} seqrnn_seq2seq_batch;

/** One training step: forward (with scheduled sampling per the schedule),
 *  backward through decoder, attention and encoder, clipping, update.
 *  out_loss: optional, the mean per-token cross-entropy (EOS included)
 *  before the update. A non-finite loss or gradient refuses the step
 *  (SEQRNN_E_NON_FINITE) and leaves the model unchanged. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT, SEQRNN_E_OUT_OF_RANGE,
 *  SEQRNN_E_NON_FINITE, SEQRNN_E_OUT_OF_MEMORY. */
seqrnn_status seqrnn_seq2seq_train_step(seqrnn_seq2seq *model,
                                        const seqrnn_seq2seq_batch *batch,
                                        float *out_loss);

/** Teacher-forced loss and gradients without an update (no scheduled
 *  sampling; dropout, when set, acts with fresh masks as in a training
 *  step); read them with seqrnn_seq2seq_get_gradient. */
seqrnn_status seqrnn_seq2seq_compute_gradients(
    seqrnn_seq2seq *model, const seqrnn_seq2seq_batch *batch, float *out_loss);

/** Copies the gradient of the tensor called name from the latest step or
 *  compute_gradients call. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_UNKNOWN_NAME, SEQRNN_E_BUFFER_TOO_SMALL. */
seqrnn_status seqrnn_seq2seq_get_gradient(const seqrnn_seq2seq *model,
                                          const char *name, float *out,
                                          int64_t capacity);

/** Teacher-forced mean per-token loss (EOS included), token accuracy and
 *  token count. Statuses as seqrnn_seq2seq_train_step. */
seqrnn_status seqrnn_seq2seq_evaluate(seqrnn_seq2seq *model,
                                      const seqrnn_seq2seq_batch *batch,
                                      seqrnn_evaluation *out_evaluation);

/** Teacher-forced logits, [batch][target_len + 1][target_vocab_size], and
 *  optionally (attention may be NULL) the attention weights
 *  [batch][target_len + 1][source_len] (zeros without attention); zeros past
 *  each sequence's target length + 1. Capacities in elements; too small:
 *  SEQRNN_E_BUFFER_TOO_SMALL. */
seqrnn_status seqrnn_seq2seq_logits(seqrnn_seq2seq *model,
                                    const seqrnn_seq2seq_batch *batch,
                                    float *logits, int64_t logits_capacity,
                                    float *attention,
                                    int64_t attention_capacity);

/** Greedy decoding of batch_size sources (the batch's target fields are
 *  ignored): from BOS, the most probable token (first on ties) until EOS
 *  or max_length tokens. out_tokens: [batch][max_length] (capacity
 *  elements), EOS excluded, rest filled with eos_id; out_lengths: [batch];
 *  out_scores: optional [batch], the sequences' log-probabilities (EOS
 *  included when emitted). Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_INVALID_ARGUMENT, SEQRNN_E_OUT_OF_RANGE,
 *  SEQRNN_E_BUFFER_TOO_SMALL, SEQRNN_E_OUT_OF_MEMORY. */
seqrnn_status seqrnn_seq2seq_decode_greedy(
    seqrnn_seq2seq *model, const seqrnn_seq2seq_batch *batch,
    int64_t max_length, int32_t *out_tokens, int64_t capacity,
    int64_t *out_lengths, float *out_scores);

/** Beam search with beam_width in [1, 256] hypotheses per source; outputs
 *  as seqrnn_seq2seq_decode_greedy. The result maximises
 *  score / length^length_penalty (length counts EOS; 0 = raw
 *  log-probability). Width 1 gives exactly the greedy result. */
seqrnn_status seqrnn_seq2seq_decode_beam(seqrnn_seq2seq *model,
                                         const seqrnn_seq2seq_batch *batch,
                                         int64_t max_length, int64_t beam_width,
                                         float length_penalty,
                                         int32_t *out_tokens, int64_t capacity,
                                         int64_t *out_lengths,
                                         float *out_scores);

/** Training steps taken so far. */
seqrnn_status seqrnn_seq2seq_step_count(const seqrnn_seq2seq *model,
                                        int64_t *out_steps);

/** The teacher-forcing ratio the schedule gives after step training steps
 *  (step < 0: the model's current step count). */
seqrnn_status seqrnn_seq2seq_teacher_forcing_ratio(const seqrnn_seq2seq *model,
                                                   int64_t step,
                                                   double *out_ratio);

/** Changes the base learning rate (finite, > 0). */
seqrnn_status seqrnn_seq2seq_set_learning_rate(seqrnn_seq2seq *model,
                                               float learning_rate);

/** Number of named tensors. */
seqrnn_status seqrnn_seq2seq_tensor_count(const seqrnn_seq2seq *model,
                                          int64_t *out_count);

/** Name and shape of tensor index in [0, count) (state_dict order); the
 *  name stays valid while the model lives. */
seqrnn_status seqrnn_seq2seq_tensor_info(const seqrnn_seq2seq *model,
                                         int64_t index,
                                         seqrnn_tensor_info *out_info);

/** Copies the tensor called name. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_UNKNOWN_NAME,
 *  SEQRNN_E_BUFFER_TOO_SMALL. */
seqrnn_status seqrnn_seq2seq_get_tensor(const seqrnn_seq2seq *model,
                                        const char *name, float *out,
                                        int64_t capacity);

/** Replaces the tensor called name (count must equal its element count,
 *  values finite). Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_UNKNOWN_NAME, SEQRNN_E_SHAPE_MISMATCH, SEQRNN_E_NON_FINITE. */
seqrnn_status seqrnn_seq2seq_set_tensor(seqrnn_seq2seq *model, const char *name,
                                        const float *data, int64_t count);

/** Saves weights and configuration as safetensors (metadata format
 *  "seqrnn-seq2seq"), atomically. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT, SEQRNN_E_IO. */
seqrnn_status seqrnn_seq2seq_save(const seqrnn_seq2seq *model,
                                  const char *path);

/** Loads a model saved by seqrnn_seq2seq_save. params: optional, only its
 *  training and sampling fields are used (NULL: defaults); the
 *  architecture comes from the file. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT, SEQRNN_E_IO,
 *  SEQRNN_E_BAD_FORMAT, SEQRNN_E_UNSUPPORTED_VERSION, SEQRNN_E_NON_FINITE,
 *  SEQRNN_E_OUT_OF_MEMORY. */
seqrnn_status seqrnn_seq2seq_load(const char *path,
                                  const seqrnn_seq2seq_params *params,
                                  seqrnn_seq2seq **out_model);

/** Saves everything needed to resume training bit for bit: weights,
 *  optimizer state, step count, learning-rate schedule, the scheduled
 *  sampling and dropout random streams, the training and sampling settings,
 *  and data_position (a number of the caller's choosing, e.g. the next
 *  batch), as one safetensors file (metadata format
 *  "seqrnn-seq2seq-checkpoint"), atomically. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT, SEQRNN_E_IO. */
seqrnn_status seqrnn_seq2seq_save_checkpoint(const seqrnn_seq2seq *model,
                                             const char *path,
                                             int64_t data_position);

/** Loads a checkpoint: a new model that continues training exactly where
 *  the saved one stopped. out_model: out, owned by the caller;
 *  out_data_position: out, optional. A model file or a trainer checkpoint
 *  is refused with SEQRNN_E_BAD_FORMAT. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT, SEQRNN_E_IO,
 *  SEQRNN_E_BAD_FORMAT, SEQRNN_E_UNSUPPORTED_VERSION,
 *  SEQRNN_E_OUT_OF_MEMORY. */
seqrnn_status seqrnn_seq2seq_load_checkpoint(const char *path,
                                             seqrnn_seq2seq **out_model,
                                             int64_t *out_data_position);

/* ---------------------------------------------------------------------------
 * Forecasting
 *
 * Tools for forecasting a series of values with a model (or a baseline):
 * scaling fitted on the training part only, lag windows and their targets,
 * one-step and recursive multi-step forecasts, persistence and linear
 * autoregression as baselines, RMSE and MAE. All of them work in double:
 * series, windows, forecasts, scaling statistics and AR coefficients are
 * double arrays, C-contiguous, time-major within a series: a series is
 * [time][features], windows are [count][lags][features], one forecast per
 * window is [count][features]. A model sees its windows as float32.
 *
 * Scalers and AR models are plain arrays the caller owns (nothing to free):
 * a scaler is offset[features] and scale[features] (scaled = (x - offset) /
 * scale), an AR model is coef[lags * features][features] and
 * intercept[features]. The calls keep no state, so any number of threads
 * may make them at once (the model calls share the model as inference
 * does).
 * ------------------------------------------------------------------------- */

/** How seqrnn_scaler_fit scales each feature. */
typedef enum {
  /** (x - mean) / std, std the population standard deviation. */
  SEQRNN_SCALER_STANDARD = 0,
  /** (x - min) / (max - min): the training data spans [0, 1]. */
  SEQRNN_SCALER_MINMAX = 1
} seqrnn_scaler_method;

/** Fits a scaler to train ([time][features], finite): writes each feature's
 *  offset (mean or min) to out_offset[features] and scale (std or max - min)
 *  to out_scale[features]. A feature that is constant in train gets offset
 *  = its value and scale 1 (it is only shifted). Fit on the training part of
 *  a series only, so nothing of the held-out part leaks into training.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT
 *  (method, time or features < 1), SEQRNN_E_NON_FINITE (a non-finite
 *  value, or statistics that overflow). The outputs are written only on
 *  success. */
seqrnn_status seqrnn_scaler_fit(seqrnn_scaler_method method,
                                const double *train, int64_t time,
                                int64_t features, double *out_offset,
                                double *out_scale);

/** out[i] = (values[i] - offset[f]) / scale[f] with f = i % features, for
 *  count values ([count / features][features]; count a multiple of
 *  features). out may equal values (in place). Non-finite values are
 *  passed through (NaN stays NaN), so gaps survive scaling. offset and
 *  scale: a scaler from seqrnn_scaler_fit (scale finite and > 0, offset
 *  finite). Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_INVALID_ARGUMENT (features < 1, count < 0, a scale <= 0),
 *  SEQRNN_E_NON_FINITE (the scaler), SEQRNN_E_SHAPE_MISMATCH (count not a
 *  multiple of features). */
seqrnn_status seqrnn_scaler_transform(const double *offset, const double *scale,
                                      int64_t features, const double *values,
                                      int64_t count, double *out);

/** The inverse of seqrnn_scaler_transform: out[i] = values[i] * scale[f] +
 *  offset[f]. Arguments and statuses as seqrnn_scaler_transform. */
seqrnn_status seqrnn_scaler_inverse_transform(const double *offset,
                                              const double *scale,
                                              int64_t features,
                                              const double *values,
                                              int64_t count, double *out);

/** Cuts series ([time][features], finite) into lag windows and targets:
 *  window i is steps [i, i + lags) and its target is step
 *  i + lags + horizon - 1 (horizon 1: the next step), for
 *  i in [0, count), count = time - lags - horizon + 1.
 *  out_windows: [count][lags][features] (windows_capacity elements);
 *  out_targets: [count][features] (targets_capacity elements); out_count:
 *  out, optional, set to count whenever the arguments are valid (also when
 *  a buffer is too small). Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_INVALID_ARGUMENT (time, features, lags or horizon < 1),
 *  SEQRNN_E_SHAPE_MISMATCH (time < lags + horizon: too few steps),
 *  SEQRNN_E_NON_FINITE, SEQRNN_E_BUFFER_TOO_SMALL. */
seqrnn_status seqrnn_make_windows(const double *series, int64_t time,
                                  int64_t features, int64_t lags,
                                  int64_t horizon, double *out_windows,
                                  int64_t windows_capacity, double *out_targets,
                                  int64_t targets_capacity, int64_t *out_count);

/** The naive forecast "the next value is the last one": each window's last
 *  step, out[count][features] (for any horizon). windows:
 *  [count][lags][features], finite. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT (a size < 1),
 *  SEQRNN_E_NON_FINITE, SEQRNN_E_BUFFER_TOO_SMALL. */
seqrnn_status seqrnn_forecast_persistence(const double *windows, int64_t count,
                                          int64_t lags, int64_t features,
                                          double *out, int64_t capacity);

/** One-step forecasts of a trained model: the value after each window,
 *  out[count][features]. The model must forecast windows of this width:
 *  float inputs (no vocab_size), output SEQRNN_OUTPUT_LAST, loss
 *  SEQRNN_LOSS_MSE, input_size == output_size == features (forecasts are
 *  fed back as inputs by seqrnn_forecast_recursive). Windows run through
 *  the model's forward pass as float32, a few hundred at a time. Returns
 *  SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT (a size < 1,
 *  a token model, output or loss not as above), SEQRNN_E_SHAPE_MISMATCH
 *  (input_size or output_size differ from features), SEQRNN_E_NON_FINITE
 *  (windows, or a forecast of diverged weights), SEQRNN_E_BUFFER_TOO_SMALL,
 *  SEQRNN_E_OUT_OF_MEMORY. Shares the model with other inference calls. */
seqrnn_status seqrnn_forecast_next(const seqrnn_model *model,
                                   const double *windows, int64_t count,
                                   int64_t lags, int64_t features, double *out,
                                   int64_t capacity);

/** Recursive multi-step forecasts of count histories at once: for each
 *  history ([lags][features], the last lags steps before the forecast) the
 *  model forecasts the next step, which becomes the window's newest step
 *  (the oldest is dropped), and so on for steps steps. out:
 *  [count][steps][features]. Optional scaler (offset and scale both NULL:
 *  none): history is then in original units, is scaled before the model
 *  sees it, and the forecasts are scaled back; features as the scaler's.
 *  Model requirements and statuses as seqrnn_forecast_next, plus
 *  SEQRNN_E_INVALID_ARGUMENT for steps < 1 and SEQRNN_E_NULL_ARGUMENT for
 *  only one of offset and scale. */
seqrnn_status seqrnn_forecast_recursive(const seqrnn_model *model,
                                        const double *history, int64_t count,
                                        int64_t lags, int64_t features,
                                        int64_t steps, const double *offset,
                                        const double *scale, double *out,
                                        int64_t capacity);

/** Fits a linear autoregressive baseline by least squares: the next value
 *  of every feature is an affine function of all values of its window (a
 *  VAR with several features). The design matrix is a column of ones and
 *  the flattened windows ([count][lags * features]); the solution is the
 *  minimum-norm least-squares one that numpy.linalg.lstsq(rcond=None)
 *  gives, computed in double by Householder QR and a one-sided Jacobi SVD
 *  (singular values below eps * max(count, 1 + lags * features) times the
 *  largest are dropped), so collinear lags and fewer windows than
 *  coefficients are handled. windows: [count][lags][features]; targets:
 *  [count][features]; both finite. out_coef: [lags * features][features]
 *  (rows in the windows' flattened order; coef_capacity elements);
 *  out_intercept: [features] (intercept_capacity). Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT (a size < 1),
 *  SEQRNN_E_NON_FINITE, SEQRNN_E_BUFFER_TOO_SMALL, SEQRNN_E_INTERNAL (the
 *  SVD did not converge; never seen). */
seqrnn_status seqrnn_linear_ar_fit(const double *windows, const double *targets,
                                   int64_t count, int64_t lags,
                                   int64_t features, double *out_coef,
                                   int64_t coef_capacity, double *out_intercept,
                                   int64_t intercept_capacity);

/** A fitted AR model's forecasts: out[i] = intercept + windows[i]
 *  (flattened) x coef, out[count][features]. coef and intercept as written
 *  by seqrnn_linear_ar_fit for these lags and features. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT (a size < 1),
 *  SEQRNN_E_NON_FINITE (windows or coefficients),
 *  SEQRNN_E_BUFFER_TOO_SMALL. */
seqrnn_status seqrnn_linear_ar_predict(const double *coef,
                                       const double *intercept,
                                       const double *windows, int64_t count,
                                       int64_t lags, int64_t features,
                                       double *out, int64_t capacity);

/** Root mean squared error of forecast against truth over count values
 *  (sqrt(mean((truth - forecast)^2))), into *out. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT (count < 0),
 *  SEQRNN_E_SHAPE_MISMATCH (count 0: nothing to compare),
 *  SEQRNN_E_NON_FINITE (a value). */
seqrnn_status seqrnn_forecast_rmse(const double *truth, const double *forecast,
                                   int64_t count, double *out);

/** Mean absolute error (mean(|truth - forecast|)); as
 *  seqrnn_forecast_rmse. */
seqrnn_status seqrnn_forecast_mae(const double *truth, const double *forecast,
                                  int64_t count, double *out);

/* ---------------------------------------------------------------------------
 * Text: tokenizer, vocabulary, padding, length buckets
 *
 * Word-level tools for token models, the same implementation the Python
 * package (seqrnn.text) and Swift embedders use, so tokens, ids and
 * vocabulary files agree across the three. Text is UTF-8; every call checks
 * it and answers SEQRNN_E_INVALID_ARGUMENT (with the byte offset) for
 * invalid UTF-8.
 *
 * The tokenizer follows Python's re and str.lower() exactly: rule WORDS is
 * re.findall(r"\w+(?:['\u2019-]\w+)*|[^\w\s]", text) (runs of letters,
 * digits and '_' that may continue after an inner ' or U+2019 or -, such as
 * "don't" and "well-made", and every other non-space character alone), rule
 * WHITESPACE is \S+, with Python's Unicode \w and \s.
 *
 * Vocabulary ids: 0 is "<pad>", 1 is "<unk>" (every word the vocabulary
 * does not hold), then the words, most frequent first and in code point
 * (UTF-8 byte) order among equal counts, so the same texts always give the
 * same ids. Files are JSON:
 *   {"format": "seqrnn.vocabulary", "format_version": 1, "words": [...],
 *    "counts": [...] or null, "tokenizer": {"lower": b, "pattern": s} or null}
 * A seqrnn_vocabulary never changes after it is made, so any number of
 * threads may use one at once.
 * ------------------------------------------------------------------------- */

/** How text is cut into tokens. */
typedef enum seqrnn_token_rule {
  /** Words and punctuation: \w+(?:['\u2019-]\w+)*|[^\w\s] (Python re). */
  SEQRNN_TOKENS_WORDS = 0,
  /** Runs of non-space characters: \S+, for text already tokenized. */
  SEQRNN_TOKENS_WHITESPACE = 1,
  /** A regular expression seqrnn does not implement (one a Python program
   *  used), kept in vocabularies and their files only: tokenizing text with
   *  it fails with SEQRNN_E_UNSUPPORTED. */
  SEQRNN_TOKENS_CUSTOM = 2
} seqrnn_token_rule;

/** Tokenizer settings. Start from seqrnn_tokenizer_default_params(). */
typedef struct seqrnn_tokenizer_params {
  int32_t rule;        /**< seqrnn_token_rule; default WORDS */
  int32_t lower;       /**< 1: lower-case first (Python's str.lower()), 0:
                            keep the case; default 1 */
  const char *pattern; /**< CUSTOM only: the regular expression's text,
                            NUL-terminated UTF-8, recorded in files; unused
                            (may be NULL) for the other rules */
} seqrnn_tokenizer_params;

/** The default tokenizer: words and punctuation of lower-cased text.
 *  Thread-safe. */
seqrnn_tokenizer_params seqrnn_tokenizer_default_params(void);

/** Splits text into tokens.
 *  params: in, NULL = defaults. text: in, text_size bytes of UTF-8
 *  (text_size < 0: NUL-terminated).
 *  out_chars: out, chars_capacity bytes: the tokens one after the other,
 *  each followed by a NUL, so out_chars + out_offsets[i] is token i as a C
 *  string. out_offsets: out, offsets_capacity entries: count + 1 offsets
 *  into out_chars, token i being the bytes [offsets[i], offsets[i + 1] - 1)
 *  (its NUL at offsets[i + 1] - 1; a token holds a NUL itself only when the
 *  text does). Both may be NULL with capacity 0 to ask for the sizes only.
 *  out_count: out, the number of tokens. out_chars_needed: out, optional,
 *  the bytes out_chars needs. Both are written also when the call fails
 *  with SEQRNN_E_BUFFER_TOO_SMALL (out_offsets then needs count + 1).
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT
 *  (invalid UTF-8, bad params), SEQRNN_E_UNSUPPORTED (rule CUSTOM),
 *  SEQRNN_E_BUFFER_TOO_SMALL. Thread-safe. */
seqrnn_status seqrnn_tokenize(const seqrnn_tokenizer_params *params,
                              const char *text, int64_t text_size,
                              char *out_chars, int64_t chars_capacity,
                              int64_t *out_offsets, int64_t offsets_capacity,
                              int64_t *out_count, int64_t *out_chars_needed);

/** Words and their ids (read-only once made; shareable across threads). */
typedef struct seqrnn_vocabulary seqrnn_vocabulary;

/** A vocabulary of the given words: ids 2, 3, ... in this order ("<pad>"
 *  and "<unk>" are added as ids 0 and 1).
 *  words: in, count NUL-terminated UTF-8 words, distinct, non-empty, none
 *  of them "<pad>" or "<unk>". counts: in, optional, each word's training
 *  count (>= 0), or NULL for none. tokenizer: in, what
 *  seqrnn_vocabulary_encode splits text with, or NULL for no tokenizer
 *  (then only token lists can be encoded).
 *  out_vocabulary: out, owned by the caller, release with
 *  seqrnn_vocabulary_free.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT
 *  (count < 0, an empty, repeated or reserved word, invalid UTF-8, a
 *  negative count, bad tokenizer params), SEQRNN_E_OUT_OF_MEMORY.
 *  Thread-safe. */
seqrnn_status seqrnn_vocabulary_create(const char *const *words, int64_t count,
                                       const int64_t *counts,
                                       const seqrnn_tokenizer_params *tokenizer,
                                       seqrnn_vocabulary **out_vocabulary);

/** Counts the tokens of count texts and keeps the frequent ones: the words
 *  seen at least min_frequency (>= 1) times, at most max_size ids in all
 *  (the two reserved ones included; 0 = no limit, else >= 2), most
 *  frequent first. Build from the training split only: words seen only in
 *  new text then count as unknown.
 *  texts: in, count UTF-8 texts; sizes: in, optional, each text's byte
 *  count (NULL: the texts are NUL-terminated). tokenizer: in, splits the
 *  texts and is kept for seqrnn_vocabulary_encode; NULL = defaults.
 *  out_vocabulary: out, owned by the caller.
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT,
 *  SEQRNN_E_UNSUPPORTED (a CUSTOM tokenizer), SEQRNN_E_OUT_OF_MEMORY.
 *  Thread-safe. */
seqrnn_status seqrnn_vocabulary_build(const char *const *texts,
                                      const int64_t *sizes, int64_t count,
                                      int64_t min_frequency, int64_t max_size,
                                      const seqrnn_tokenizer_params *tokenizer,
                                      seqrnn_vocabulary **out_vocabulary);

/** seqrnn_vocabulary_build from tokens already split (count NUL-terminated
 *  UTF-8 tokens of all texts together, taken as they are: no
 *  lower-casing). tokenizer: in, kept for seqrnn_vocabulary_encode; NULL =
 *  defaults (any rule, CUSTOM included, is accepted here). Statuses as
 *  seqrnn_vocabulary_build. Thread-safe. */
seqrnn_status
seqrnn_vocabulary_build_from_tokens(const char *const *tokens, int64_t count,
                                    int64_t min_frequency, int64_t max_size,
                                    const seqrnn_tokenizer_params *tokenizer,
                                    seqrnn_vocabulary **out_vocabulary);

/** Frees a vocabulary. NULL is a no-op. */
void seqrnn_vocabulary_free(seqrnn_vocabulary *vocabulary);

/** The number of ids, the reserved ones included: the model's vocab_size.
 *  Returns SEQRNN_OK or SEQRNN_E_NULL_ARGUMENT. */
seqrnn_status seqrnn_vocabulary_size(const seqrnn_vocabulary *vocabulary,
                                     int64_t *out_size);

/** The word of id in [0, size): *out_word is NUL-terminated UTF-8, valid
 *  while the vocabulary lives. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_OUT_OF_RANGE. */
seqrnn_status seqrnn_vocabulary_word(const seqrnn_vocabulary *vocabulary,
                                     int64_t id, const char **out_word);

/** The id of a NUL-terminated word: its own id, or 1 ("<unk>") when the
 *  vocabulary does not hold it (compare with 1 to tell). Words are
 *  compared byte for byte. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT. */
seqrnn_status seqrnn_vocabulary_id(const seqrnn_vocabulary *vocabulary,
                                   const char *word, int32_t *out_id);

/** How often the build saw the word of id in [0, size): 0 for the reserved
 *  ids, and for every id when the vocabulary has no counts.
 *  out_has_counts: out, optional: 1 when the vocabulary has counts (built,
 *  or made with counts), else 0. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_OUT_OF_RANGE. */
seqrnn_status seqrnn_vocabulary_count(const seqrnn_vocabulary *vocabulary,
                                      int64_t id, int64_t *out_count,
                                      int32_t *out_has_counts);

/** The vocabulary's tokenizer. out_has_tokenizer: out, 1 or 0 (none; then
 *  *out_params is the default). out_params: out; a CUSTOM rule's pattern
 *  stays valid while the vocabulary lives. Returns SEQRNN_OK or
 *  SEQRNN_E_NULL_ARGUMENT. */
seqrnn_status
seqrnn_vocabulary_get_tokenizer(const seqrnn_vocabulary *vocabulary,
                                int32_t *out_has_tokenizer,
                                seqrnn_tokenizer_params *out_params);

/** The ids of a text split by the vocabulary's tokenizer (unknown words
 *  get 1). text: in, text_size bytes of UTF-8 (< 0: NUL-terminated).
 *  out_ids: out, capacity entries; NULL with capacity 0 asks for the count
 *  only. out_count: out, the number of ids, also written when the call
 *  fails with SEQRNN_E_BUFFER_TOO_SMALL. An empty text gives 0 ids (pad a
 *  sequence to one step with an "<unk>" yourself if you need one).
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT
 *  (invalid UTF-8, or no tokenizer), SEQRNN_E_UNSUPPORTED (a CUSTOM
 *  tokenizer), SEQRNN_E_BUFFER_TOO_SMALL. */
seqrnn_status seqrnn_vocabulary_encode(const seqrnn_vocabulary *vocabulary,
                                       const char *text, int64_t text_size,
                                       int32_t *out_ids, int64_t capacity,
                                       int64_t *out_count);

/** The ids of count NUL-terminated tokens (unknown words get 1) into
 *  out_ids[count]. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_INVALID_ARGUMENT (count < 0). */
seqrnn_status
seqrnn_vocabulary_encode_tokens(const seqrnn_vocabulary *vocabulary,
                                const char *const *tokens, int64_t count,
                                int32_t *out_ids);

/** The words of count ids: out_words receives pointers to NUL-terminated
 *  words valid while the vocabulary lives (capacity entries; count always
 *  suffice). skip_pad: 1 leaves id 0 out, 0 keeps it as "<pad>".
 *  out_count: out, the number of words written. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT (count < 0, skip_pad
 *  not 0 or 1), SEQRNN_E_OUT_OF_RANGE (an id outside [0, size); nothing is
 *  written then), SEQRNN_E_BUFFER_TOO_SMALL. */
seqrnn_status seqrnn_vocabulary_decode(const seqrnn_vocabulary *vocabulary,
                                       const int32_t *ids, int64_t count,
                                       int32_t skip_pad, const char **out_words,
                                       int64_t capacity, int64_t *out_count);

/** Writes the vocabulary as UTF-8 JSON (the format above); the file is
 *  replaced atomically, as seqrnn_model_save does. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT (empty path),
 *  SEQRNN_E_IO. */
seqrnn_status seqrnn_vocabulary_save(const seqrnn_vocabulary *vocabulary,
                                     const char *path);

/** Reads a vocabulary written by seqrnn_vocabulary_save, by Python's
 *  seqrnn.text.Vocabulary.save or by Swift. A tokenizer pattern other than
 *  the two built-in rules loads as SEQRNN_TOKENS_CUSTOM. out_vocabulary:
 *  out, owned by the caller. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_INVALID_ARGUMENT (empty path), SEQRNN_E_IO,
 *  SEQRNN_E_BAD_FORMAT (not JSON, not a vocabulary, bad contents; the
 *  message says which), SEQRNN_E_UNSUPPORTED_VERSION,
 *  SEQRNN_E_OUT_OF_MEMORY. Thread-safe. */
seqrnn_status seqrnn_vocabulary_load(const char *path,
                                     seqrnn_vocabulary **out_vocabulary);

/** The vocabulary's file contents as UTF-8 JSON text, for keeping it
 *  somewhere other than a file. out_text: out, capacity bytes: the text and
 *  a NUL; NULL with capacity 0 asks for the size only. out_needed: out, the
 *  bytes needed (NUL included), also written when the call fails with
 *  SEQRNN_E_BUFFER_TOO_SMALL. Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT,
 *  SEQRNN_E_INVALID_ARGUMENT (capacity < 0), SEQRNN_E_BUFFER_TOO_SMALL. */
seqrnn_status seqrnn_vocabulary_to_json(const seqrnn_vocabulary *vocabulary,
                                        char *out_text, int64_t capacity,
                                        int64_t *out_needed);

/** seqrnn_vocabulary_load from JSON text in memory (text_size bytes; < 0:
 *  NUL-terminated). Statuses as seqrnn_vocabulary_load without the file
 *  ones. Thread-safe. */
seqrnn_status seqrnn_vocabulary_from_json(const char *text, int64_t text_size,
                                          seqrnn_vocabulary **out_vocabulary);

/** Pads count id sequences into one batch for seqrnn_batch.tokens.
 *  sequences: in, count pointers to int32 ids (>= 0); lengths: in, count
 *  lengths >= 1 (a recurrent model needs a step). max_len: keep at most the
 *  first max_len ids of each (0 = all). pad_id: >= 0, the value past each
 *  length (the model never reads it; use 0, "<pad>").
 *  out_ids: out, capacity entries, [count][seq_len] with seq_len the
 *  longest kept length; NULL with capacity 0 asks for seq_len only.
 *  out_lengths: out, optional, [count] kept lengths (seqrnn_batch.lengths).
 *  out_seq_len: out, also written when the call fails with
 *  SEQRNN_E_BUFFER_TOO_SMALL (out_ids then needs count * seq_len).
 *  Returns SEQRNN_OK, SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT
 *  (max_len < 0, pad_id < 0), SEQRNN_E_SHAPE_MISMATCH (count < 1, a length
 *  < 1), SEQRNN_E_OUT_OF_RANGE (a negative id), SEQRNN_E_BUFFER_TOO_SMALL.
 *  Thread-safe. */
seqrnn_status seqrnn_pad_batch(const int32_t *const *sequences,
                               const int64_t *lengths, int64_t count,
                               int64_t max_len, int32_t pad_id,
                               int32_t *out_ids, int64_t capacity,
                               int64_t *out_lengths, int64_t *out_seq_len);

/** Orders count sequences into batches of similar lengths (length
 *  buckets), so little time goes into padding: out_order[count] receives
 *  every index 0..count-1 once, and batch k is out_order[k * batch_size ..
 *  min((k + 1) * batch_size, count)). Within a batch indices are sorted by
 *  length.
 *  shuffle 1 (training): the indices are shuffled, cut into chunks of
 *  chunk_batches * batch_size, each chunk is sorted by length (stable) and
 *  cut into batches, and the full batches come in random order, the one
 *  short batch (if any) last. The shuffles depend only on (seed, epoch):
 *  pass the epoch number for a new order each epoch. shuffle 0
 *  (prediction): all indices sorted by length (stable), shortest first;
 *  seed, epoch and chunk_batches are unused.
 *  lengths: in, count lengths >= 0. Returns SEQRNN_OK,
 *  SEQRNN_E_NULL_ARGUMENT, SEQRNN_E_INVALID_ARGUMENT (count, batch_size or
 *  chunk_batches < 1, shuffle not 0 or 1), SEQRNN_E_OUT_OF_RANGE (a
 *  negative length). Thread-safe. */
seqrnn_status seqrnn_bucket_batches(const int64_t *lengths, int64_t count,
                                    int64_t batch_size, int32_t shuffle,
                                    uint64_t seed, uint64_t epoch,
                                    int64_t chunk_batches, int64_t *out_order);

#ifdef __cplusplus
}
#endif

#endif /* SEQRNN_H */
