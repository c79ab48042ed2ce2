/// Attention of the decoder over the encoder's outputs (Luong et al. 2015,
/// global attention, without input feeding).
public enum AttentionKind: Int32, Sendable, CaseIterable {
  /// No attention: the logits come from the decoder's top hidden state.
  case none = 0
  /// `score(h_t, h̄_s) = h_t · h̄_s`.
  case dot = 1
  /// `score(h_t, h̄_s) = (W_in h_t) · h̄_s` (`attention.linear_in.weight`,
  /// Luong's `h_t^T W_a h̄_s` with `W_a = W_in^T`).
  case general = 2

  /// The name used in files and messages.
  public var name: String {
    switch self {
    case .none: return "none"
    case .dot: return "dot"
    case .general: return "general"
    }
  }
}

/// Everything that defines an encoder-decoder's architecture.
///
/// Encoder and decoder are stacks of the same cell, depth and width, so the
/// decoder starts from the encoder's final states layer by layer (`h`, and
/// `c` for LSTM). A bidirectional encoder runs each layer both ways; its two
/// directions are summed, both in the outputs attention reads and in the
/// final states the decoder starts from (as the PyTorch chatbot tutorial's
/// encoder does), so the decoder and attention stay `hiddenSize` wide.
/// Dropout, when set, acts in both stacks during training steps only. Target sequences are given without BOS and
/// EOS: the decoder reads `BOS y_1 ... y_n` and is trained to emit
/// `y_1 ... y_n EOS`.
public struct Seq2SeqConfiguration: Sendable, Equatable {
  /// The recurrent cell of both stacks.
  public var cell: CellType
  /// Source token ids are in `[0, sourceVocabSize)`.
  public var sourceVocabSize: Int
  /// Target token ids (including BOS and EOS) are in `[0, targetVocabSize)`.
  public var targetVocabSize: Int
  /// Width of both embeddings (0 means `hiddenSize`).
  public var embeddingSize: Int
  /// Units per layer of both stacks.
  public var hiddenSize: Int
  /// Layers of each stack.
  public var numLayers: Int
  /// Whether the encoder reads each source both ways (see above).
  public var bidirectionalEncoder: Bool = false
  /// Attention over the encoder outputs.
  public var attention: AttentionKind
  /// Target id the decoder starts from.
  public var bosID: Int
  /// Target id that ends a decoded sequence.
  public var eosID: Int
  /// Dropout on the outputs of every layer but the last, in both stacks
  /// (PyTorch's `nn.LSTM(dropout=)`), in `[0, 1)`.
  public var dropout: Float = 0
  /// Variational dropout on the previous hidden state entering `W_hh` in
  /// both stacks: one mask per sequence, layer and direction, reused at
  /// every step, in `[0, 1)`.
  public var recurrentDropout: Float = 0
  /// Initialisation of the recurrent layers.
  public var initialization: InitializationScheme = .pytorch
  /// Seed of the weight initialisation.
  public var seed: UInt64

  /// Creates a configuration; defaults match `seqrnn_seq2seq_default_params()`.
  public init(
    cell: CellType = .lstm, sourceVocabSize: Int, targetVocabSize: Int, embeddingSize: Int = 0,
    hiddenSize: Int = 64, numLayers: Int = 1, attention: AttentionKind = .none, bosID: Int = 1,
    eosID: Int = 2, dropout: Float = 0, recurrentDropout: Float = 0, seed: UInt64 = 0
  ) {
    self.cell = cell
    self.sourceVocabSize = sourceVocabSize
    self.targetVocabSize = targetVocabSize
    self.embeddingSize = embeddingSize
    self.hiddenSize = hiddenSize
    self.numLayers = numLayers
    self.attention = attention
    self.bosID = bosID
    self.eosID = eosID
    self.dropout = dropout
    self.recurrentDropout = recurrentDropout
    self.seed = seed
  }

  /// The embedding width actually used.
  public var embeddingWidth: Int { embeddingSize == 0 ? hiddenSize : embeddingSize }

  /// The encoder stack as an engine configuration. Its head (one output) is
  /// never trained or saved: the engine always computes a head, and seq2seq
  /// computes its own from the decoder.
  var encoder: ModelConfiguration {
    stack(vocab: sourceVocabSize, seed: seed, bidirectional: bidirectionalEncoder)
  }
  /// The decoder stack as an engine configuration (head unused, as above).
  var decoder: ModelConfiguration {
    stack(vocab: targetVocabSize, seed: seed &+ 1, bidirectional: false)
  }

  private func stack(vocab: Int, seed: UInt64, bidirectional: Bool) -> ModelConfiguration {
    var c = ModelConfiguration(
      cell: cell, inputSize: embeddingWidth, vocabSize: vocab, hiddenSize: hiddenSize,
      numLayers: numLayers, bidirectional: bidirectional, outputSize: 1, outputMode: .sequence,
      loss: .meanSquaredError, seed: seed)
    c.initialization = initialization
    c.dropout = dropout
    c.recurrentDropout = recurrentDropout
    return c
  }

  /// Checks every field, naming the first bad one.
  public func validate() throws(SeqRNNError) {
    let limit = 1 << 24
    func check(_ ok: Bool, _ message: @autoclosure () -> String) throws(SeqRNNError) {
      if !ok { throw SeqRNNError.invalidArgument(message()) }
    }
    try check(
      sourceVocabSize > 0 && sourceVocabSize <= limit,
      "source_vocab_size must be in [1, \(limit)], got \(sourceVocabSize)")
    try check(
      targetVocabSize >= 2 && targetVocabSize <= limit,
      "target_vocab_size must be in [2, \(limit)] (it holds BOS and EOS), got \(targetVocabSize)")
    try check(
      embeddingSize >= 0 && embeddingSize <= limit,
      "embedding_size must be in [0, \(limit)], got \(embeddingSize)")
    try check(
      bosID >= 0 && bosID < targetVocabSize,
      "bos_id = \(bosID) is outside [0, target_vocab_size = \(targetVocabSize))")
    try check(
      eosID >= 0 && eosID < targetVocabSize,
      "eos_id = \(eosID) is outside [0, target_vocab_size = \(targetVocabSize))")
    try check(bosID != eosID, "bos_id and eos_id must differ, both are \(bosID)")
    try encoder.validate()
    try decoder.validate()
    try check(
      parameterCount <= ModelConfiguration.maxParameters,
      "the model would have \(parameterCount) parameters; the limit is \(ModelConfiguration.maxParameters)"
    )
  }

  /// Number of trainable scalars (the named tensors).
  public var parameterCount: Int {
    let h = hiddenSize
    // Less the engine heads (one output over each stack's top layer).
    let stacks =
      encoder.parameterCount + decoder.parameterCount - (encoder.directions * h + 1) - (h + 1)
    let attentionCount =
      attention == .none ? 0 : (attention == .general ? h * h : 0) + h * 2 * h
    return stacks + attentionCount + targetVocabSize * (h + 1)
  }
}
