/// One batch of sequences for the Swift API, batch-major like the C API.
///
/// Feature models fill `features` (`[batch][seqLen][inputSize]`), token models
/// `tokens` (`[batch][seqLen]`). Targets are needed only for loss, evaluation
/// and training: `targetClasses` for cross-entropy (`[batch][seqLen]` or
/// `[batch]`), `targetValues` for MSE (`[batch][seqLen][outputSize]` or
/// `[batch][outputSize]`).
public struct Batch: Sendable {
  /// Sequences in the batch.
  public var batchSize: Int
  /// Time steps of the buffers.
  public var seqLen: Int
  /// Float inputs of feature models.
  public var features: [Float]?
  /// Token ids of token models.
  public var tokens: [Int32]?
  /// Per-sequence lengths in `1...seqLen`; nil means all `seqLen`.
  public var lengths: [Int]?
  /// Initial hidden state `[layers*directions][batch][hidden]`; nil means zeros.
  public var initialH: [Float]?
  /// Initial LSTM cell state, same layout; nil means zeros.
  public var initialC: [Float]?
  /// Class targets for cross-entropy.
  public var targetClasses: [Int32]?
  /// Value targets for MSE.
  public var targetValues: [Float]?
  /// Loss weight per position (`[batch][seqLen]` or `[batch]`), >= 0; nil means 1.
  public var lossWeights: [Float]?

  /// Creates a batch; unused fields stay nil.
  public init(
    batchSize: Int, seqLen: Int, features: [Float]? = nil, tokens: [Int32]? = nil,
    lengths: [Int]? = nil, initialH: [Float]? = nil, initialC: [Float]? = nil,
    targetClasses: [Int32]? = nil, targetValues: [Float]? = nil, lossWeights: [Float]? = nil
  ) {
    self.batchSize = batchSize
    self.seqLen = seqLen
    self.features = features
    self.tokens = tokens
    self.lengths = lengths
    self.initialH = initialH
    self.initialC = initialC
    self.targetClasses = targetClasses
    self.targetValues = targetValues
    self.lossWeights = lossWeights
  }
}

/// What a full-sequence forward pass returns.
public struct ForwardResult: Sendable {
  /// Head outputs: `[batch][seqLen][outputSize]` or `[batch][outputSize]`.
  public var outputs: [Float]
  /// Final hidden states, `[layers*directions][batch][hidden]`.
  public var finalH: [Float]
  /// Final LSTM cell states (nil for other cells).
  public var finalC: [Float]?
}

/// Loss and accuracy over a batch.
public struct Evaluation: Sendable, Equatable {
  /// Mean loss over valid positions.
  public var loss: Double
  /// Fraction of valid positions predicted right (cross-entropy); NaN for MSE.
  public var accuracy: Double
  /// Valid positions the means are over.
  public var count: Int

  /// Creates an evaluation result.
  public init(loss: Double, accuracy: Double, count: Int) {
    self.loss = loss
    self.accuracy = accuracy
    self.count = count
  }
}

/// Name and shape of a model tensor.
public struct TensorInfo: Sendable, Equatable {
  /// PyTorch-style name, e.g. `rnn.weight_ih_l0_reverse`.
  public var name: String
  /// Row-major shape (1 or 2 dimensions).
  public var shape: [Int]
  /// Product of the shape.
  public var count: Int { shape.reduce(1, *) }
  /// Offset of the tensor in the model's flat parameter vector.
  public var offset: Int
}
