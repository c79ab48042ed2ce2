/// The recurrent cell of a model, with PyTorch's equations and gate orders.
public enum CellType: Int32, Sendable, CaseIterable {
  /// `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`.
  case rnnTanh = 0
  /// `h' = relu(W_ih x + b_ih + W_hh h + b_hh)`.
  case rnnRelu = 1
  /// Long short-term memory; gates in PyTorch's order i, f, g, o.
  case lstm = 2
  /// Gated recurrent unit; gates r, z, n with `b_hn` inside `r * (W_hn h + b_hn)`.
  case gru = 3

  /// Gate blocks stacked in `weight_ih`/`weight_hh` (1, 4 or 3).
  public var gateCount: Int {
    switch self {
    case .rnnTanh, .rnnRelu: return 1
    case .lstm: return 4
    case .gru: return 3
    }
  }

  /// The name used in files and messages ("rnn_tanh", "rnn_relu", "lstm", "gru").
  public var name: String {
    switch self {
    case .rnnTanh: return "rnn_tanh"
    case .rnnRelu: return "rnn_relu"
    case .lstm: return "lstm"
    case .gru: return "gru"
    }
  }
}

/// Where the dense output head is applied.
public enum OutputMode: Int32, Sendable, CaseIterable {
  /// Many-to-many: an output at every step (zeros past a sequence's length).
  case sequence = 0
  /// Many-to-one: one output per sequence from its last valid step
  /// (bidirectional: forward direction's last valid step, backward's first).
  case last = 1

  /// The name used in files and messages.
  public var name: String { self == .sequence ? "sequence" : "last" }
}

/// The loss a model trains on.
public enum LossKind: Int32, Sendable, CaseIterable {
  /// Softmax cross-entropy over `outputSize` classes, mean over valid positions.
  case crossEntropy = 0
  /// Mean squared error, mean over valid positions times `outputSize`.
  case meanSquaredError = 1

  /// The name used in files and messages.
  public var name: String { self == .crossEntropy ? "cross_entropy" : "mse" }
}

/// Weight initialisation of the recurrent layers.
public enum InitializationScheme: Int32, Sendable, CaseIterable {
  /// PyTorch's default: every recurrent weight and bias U(-1/sqrt(H), 1/sqrt(H)).
  case pytorch = 0
  /// Glorot/Xavier uniform per gate block of `W_ih` and `W_hh`, zero biases.
  case xavier = 1
  /// Glorot uniform `W_ih`, orthogonal `W_hh` per gate block, zero biases.
  case orthogonal = 2

  /// The name used in files and messages.
  public var name: String {
    switch self {
    case .pytorch: return "pytorch"
    case .xavier: return "xavier"
    case .orthogonal: return "orthogonal"
    }
  }
}

/// Everything that defines a model's architecture (not its weights).
public struct ModelConfiguration: Sendable, Equatable {
  /// The recurrent cell.
  public var cell: CellType
  /// Features per step; for token models the embedding width (0 there means `hiddenSize`).
  public var inputSize: Int
  /// Vocabulary size of token models (inputs are ids through an embedding); 0 for feature models.
  public var vocabSize: Int
  /// Units per layer and direction.
  public var hiddenSize: Int
  /// Stacked recurrent layers.
  public var numLayers: Int
  /// Whether each layer also runs backwards in time (outputs concatenated as PyTorch).
  public var bidirectional: Bool
  /// Classes (cross-entropy) or values (MSE) produced by the head.
  public var outputSize: Int
  /// Output at every step or once per sequence.
  public var outputMode: OutputMode
  /// Training loss.
  public var loss: LossKind
  /// Seed of the weight initialisation; same seed, same weights.
  public var seed: UInt64
  /// Dropout on the outputs of every layer but the last, in [0, 1) (training only).
  public var dropout: Float = 0
  /// Dropout on the head's inputs, in [0, 1) (training only).
  public var headDropout: Float = 0
  /// Variational dropout on the previous hidden state entering `W_hh`: one
  /// mask per sequence, layer and direction, reused at every step (training only).
  public var recurrentDropout: Float = 0
  /// Probability that a unit keeps its previous hidden (and cell) value at a
  /// training step; inference uses the expectation.
  public var zoneout: Float = 0
  /// Initialisation of the recurrent layers.
  public var initialization: InitializationScheme = .pytorch
  /// LSTM: forget-gate biases start at 1 (in `bias_ih`; `bias_hh` at 0).
  public var forgetBiasOne: Bool = false

  /// Creates a configuration; defaults match `seqrnn_model_default_params()`.
  public init(
    cell: CellType = .lstm, inputSize: Int = 0, vocabSize: Int = 0, hiddenSize: Int = 64,
    numLayers: Int = 1, bidirectional: Bool = false, outputSize: Int = 1,
    outputMode: OutputMode = .sequence, loss: LossKind = .crossEntropy, seed: UInt64 = 0
  ) {
    self.cell = cell
    self.inputSize = inputSize
    self.vocabSize = vocabSize
    self.hiddenSize = hiddenSize
    self.numLayers = numLayers
    self.bidirectional = bidirectional
    self.outputSize = outputSize
    self.outputMode = outputMode
    self.loss = loss
    self.seed = seed
  }

  /// 2 for bidirectional models, else 1.
  public var directions: Int { bidirectional ? 2 : 1 }
  /// Whether inputs are token ids through an embedding.
  public var usesTokens: Bool { vocabSize > 0 }
  /// Width of the vectors entering the first recurrent layer.
  public var embeddingOrInputSize: Int { usesTokens && inputSize == 0 ? hiddenSize : inputSize }
  /// Input width of recurrent layer `layer`.
  public func layerInputSize(_ layer: Int) -> Int {
    layer == 0 ? embeddingOrInputSize : directions * hiddenSize
  }
  /// Elements of one state buffer (`h_0`, `h_n`, `c_n`) for `batchSize` sequences.
  public func stateCount(batchSize: Int) -> Int {
    numLayers * directions * batchSize * hiddenSize
  }
  /// Elements of the outputs of a batch of these sizes.
  public func outputCount(batchSize: Int, seqLen: Int) -> Int {
    outputMode == .sequence ? batchSize * seqLen * outputSize : batchSize * outputSize
  }

  /// Checks every field, naming the first bad one.
  public func validate() throws(SeqRNNError) {
    let limit = 1 << 24
    func check(_ ok: Bool, _ message: @autoclosure () -> String) throws(SeqRNNError) {
      if !ok { throw SeqRNNError.invalidArgument(message()) }
    }
    try check(
      hiddenSize > 0 && hiddenSize <= limit,
      "hidden_size must be in [1, \(limit)], got \(hiddenSize)")
    try check(numLayers > 0 && numLayers <= 64, "num_layers must be in [1, 64], got \(numLayers)")
    try check(
      outputSize > 0 && outputSize <= limit,
      "output_size must be in [1, \(limit)], got \(outputSize)")
    try check(
      vocabSize >= 0 && vocabSize <= limit, "vocab_size must be in [0, \(limit)], got \(vocabSize)")
    try check(
      inputSize >= 0 && inputSize <= limit, "input_size must be in [0, \(limit)], got \(inputSize)")
    try check(
      usesTokens || inputSize > 0,
      "input_size must be > 0 for a feature model (or set vocab_size > 0 for token ids)")
    let gh = cell.gateCount * hiddenSize
    let widest = max(layerInputSize(0), directions * hiddenSize, hiddenSize)
    let (product, overflow) = gh.multipliedReportingOverflow(by: widest)
    try check(
      !overflow && product <= 1 << 31, "hidden_size and input_size give weight matrices too large")
    for (name, rate) in [
      ("dropout", dropout), ("head_dropout", headDropout),
      ("recurrent_dropout", recurrentDropout), ("zoneout", zoneout),
    ] {
      try check(rate >= 0 && rate < 1, "\(name) must be in [0, 1), got \(rate)")
    }
    try check(
      parameterCount <= Self.maxParameters,
      "the model would have \(parameterCount) parameters; the limit is \(Self.maxParameters)")
  }

  /// Largest parameter count accepted (4 GiB of float32 weights; training
  /// needs about four times that).
  public static let maxParameters = 1 << 30

  /// Number of scalar parameters (weights and biases) of the model; call
  /// after the individual sizes are known to be in range.
  public var parameterCount: Int {
    let h = hiddenSize
    let gh = cell.gateCount * h
    var total = usesTokens ? vocabSize * embeddingOrInputSize : 0
    for layer in 0..<numLayers {
      total += directions * (gh * (layerInputSize(layer) + h) + 2 * gh)
    }
    return total + outputSize * (directions * h + 1)
  }
}

/// The errors of the Swift API; the C API maps each case to a status code.
public enum SeqRNNError: Error, Equatable, Sendable, CustomStringConvertible {
  /// An argument has a value outside what the call accepts.
  case invalidArgument(String)
  /// A required argument is missing.
  case nullArgument(String)
  /// A buffer's shape or element count does not match the model.
  case shapeMismatch(String)
  /// A token id, class target or length is out of range.
  case outOfRange(String)
  /// Non-finite inputs, weights, loss or gradients.
  case nonFinite(String)
  /// Memory could not be allocated.
  case outOfMemory(String)
  /// A file operation failed.
  case io(String)
  /// A file is not a valid model file.
  case badFormat(String)
  /// A file was written by a newer format version.
  case unsupportedVersion(String)
  /// An output buffer is too small; `needed` elements are required.
  case bufferTooSmall(String, needed: Int)
  /// A tensor name is not one of the model's.
  case unknownName(String)
  /// The operation does not apply to this model.
  case unsupported(String)
  /// An internal inconsistency (a bug).
  case internalError(String)

  /// The detailed message.
  public var message: String {
    switch self {
    case .invalidArgument(let m), .nullArgument(let m), .shapeMismatch(let m), .outOfRange(let m),
      .nonFinite(let m), .outOfMemory(let m), .io(let m), .badFormat(let m),
      .unsupportedVersion(let m), .bufferTooSmall(let m, _), .unknownName(let m),
      .unsupported(let m), .internalError(let m):
      return m
    }
  }

  /// The message, for printing.
  public var description: String { message }
}
