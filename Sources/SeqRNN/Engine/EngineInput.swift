/// A batch as the engine sees it: raw pointers into the caller's buffers
/// (batch-major), plus lengths already checked.
///
/// Both the Swift API (arrays) and the C API (pointers) build one of these,
/// then call `validate`, so the checks live in one place.
package struct EngineInput {
  /// Sequences in the batch.
  package var batchSize: Int
  /// Time steps of the buffers.
  package var seqLen: Int
  /// Per-sequence lengths in `1...seqLen`.
  package var lengths: [Int]
  /// Float features `[B][T][I]` (feature models).
  package var floatFeatures: UnsafePointer<Float>?
  /// Double features `[B][T][I]` (only the gradient probe uses these).
  package var doubleFeatures: UnsafePointer<Double>?
  /// Token ids `[B][T]` (token models).
  package var tokens: UnsafePointer<Int32>?
  /// Initial hidden state `[L*D][B][H]`.
  package var initialH: UnsafePointer<Float>?
  /// Initial LSTM cell state `[L*D][B][H]`.
  package var initialC: UnsafePointer<Float>?
  /// Double initial states, used instead of `initialH`/`initialC` when set
  /// (the float64 seq2seq gradient probe hands the encoder's final states
  /// to the decoder at full precision). Not validated: internal callers only.
  package var doubleInitialH: UnsafePointer<Double>?
  package var doubleInitialC: UnsafePointer<Double>?
  /// Class targets `[B][T]` or `[B]`.
  package var targetClasses: UnsafePointer<Int32>?
  /// Value targets `[B][T][O]` or `[B][O]`.
  package var targetValues: UnsafePointer<Float>?
  /// Loss weight per position, `[B][T]` or `[B]` (nil: all 1).
  package var lossWeights: UnsafePointer<Float>?

  /// An input with all-full lengths and no buffers yet.
  package init(batchSize: Int, seqLen: Int) {
    self.batchSize = batchSize
    self.seqLen = seqLen
    self.lengths = []
  }

  /// Largest batch_size * seq_len accepted; keeps every size product far
  /// from overflow and allocations plausible.
  package static let maxPositions = 1 << 28

  /// Checks sizes and lengths (raw lengths from the caller, or nil for full).
  package mutating func setSizes(lengths raw: UnsafePointer<Int64>?) throws(SeqRNNError) {
    guard batchSize > 0 else {
      throw .invalidArgument("batch_size must be > 0, got \(batchSize)")
    }
    guard seqLen > 0 else { throw .invalidArgument("seq_len must be > 0, got \(seqLen)") }
    let (positions, overflow) = batchSize.multipliedReportingOverflow(by: seqLen)
    guard !overflow, positions <= Self.maxPositions else {
      throw .invalidArgument(
        "batch_size * seq_len = \(batchSize) * \(seqLen) exceeds the limit \(Self.maxPositions)")
    }
    guard let raw else {
      lengths = Array(repeating: seqLen, count: batchSize)
      return
    }
    var checked = [Int](repeating: 0, count: batchSize)
    for b in 0..<batchSize {
      let length = raw[b]
      guard length >= 1, length <= Int64(seqLen) else {
        throw .outOfRange("lengths[\(b)] = \(length) is outside [1, seq_len = \(seqLen)]")
      }
      checked[b] = Int(length)
    }
    lengths = checked
  }

  /// Checks inputs (and targets when `needTargets`) against the model:
  /// presence, token and class ranges, finiteness. Only valid steps are
  /// inspected: padding may hold anything.
  package func validate(_ config: ModelConfiguration, needTargets: Bool) throws(SeqRNNError) {
    precondition(lengths.count == batchSize, "setSizes must run first")
    let t = seqLen
    if config.usesTokens {
      guard floatFeatures == nil, doubleFeatures == nil else {
        throw .invalidArgument(
          "features given to a token model (vocab_size \(config.vocabSize)); pass tokens")
      }
      guard let tokens else {
        throw .nullArgument(
          "tokens is NULL but the model takes token ids (vocab_size \(config.vocabSize))")
      }
      for b in 0..<batchSize {
        for s in 0..<lengths[b] {
          let id = tokens[b * t + s]
          guard id >= 0, Int(id) < config.vocabSize else {
            throw .outOfRange(
              "tokens[\(b)][\(s)] = \(id) is outside [0, vocab_size = \(config.vocabSize))")
          }
        }
      }
    } else {
      guard tokens == nil else {
        throw .invalidArgument(
          "tokens given to a feature model (input_size \(config.inputSize)); pass features")
      }
      guard floatFeatures != nil || doubleFeatures != nil else {
        throw .nullArgument(
          "features is NULL but the model takes float features (input_size \(config.inputSize))")
      }
      let width = config.inputSize
      for b in 0..<batchSize {
        for s in 0..<lengths[b] {
          let base = (b * t + s) * width
          for i in 0..<width {
            let finite =
              floatFeatures.map { $0[base + i].isFinite } ?? doubleFeatures![base + i].isFinite
            guard finite else {
              throw .nonFinite("features[\(b)][\(s)][\(i)] is not finite")
            }
          }
        }
      }
    }
    let stateCount = config.stateCount(batchSize: batchSize)
    if let initialH { try Self.checkFinite(initialH, stateCount, "initial_h") }
    if let initialC {
      guard config.cell == .lstm else {
        throw .unsupported("initial_c given but the model's cell is \(config.cell.name), not lstm")
      }
      try Self.checkFinite(initialC, stateCount, "initial_c")
    }
    if needTargets { try validateTargets(config) }
  }

  private func validateTargets(_ config: ModelConfiguration) throws(SeqRNNError) {
    let perSequence = config.outputMode == .last
    let o = config.outputSize
    if let weights = lossWeights {
      var sum = 0.0
      for b in 0..<batchSize {
        for s in 0..<(perSequence ? 1 : lengths[b]) {
          let index = perSequence ? b : b * seqLen + s
          let w = weights[index]
          guard w.isFinite, w >= 0 else {
            throw .invalidArgument("loss_weights[\(index)] = \(w) must be finite and >= 0")
          }
          sum += Double(w)
        }
      }
      guard sum > 0 else {
        throw .invalidArgument("loss_weights are 0 at every valid position: the loss is undefined")
      }
    }
    switch config.loss {
    case .crossEntropy:
      guard let targets = targetClasses else {
        throw .nullArgument("target_classes is NULL but the loss is cross-entropy")
      }
      for b in 0..<batchSize {
        for s in 0..<(perSequence ? 1 : lengths[b]) {
          let c = targets[perSequence ? b : b * seqLen + s]
          guard c >= 0, Int(c) < o else {
            let at = perSequence ? "[\(b)]" : "[\(b)][\(s)]"
            throw .outOfRange("target_classes\(at) = \(c) is outside [0, output_size = \(o))")
          }
        }
      }
    case .meanSquaredError:
      guard let targets = targetValues else {
        throw .nullArgument("target_values is NULL but the loss is mean squared error")
      }
      for b in 0..<batchSize {
        for s in 0..<(perSequence ? 1 : lengths[b]) {
          let base = perSequence ? b * o : (b * seqLen + s) * o
          for k in 0..<o where !targets[base + k].isFinite {
            throw .nonFinite("target_values has a non-finite value at element \(base + k)")
          }
        }
      }
    }
  }

  private static func checkFinite(
    _ p: UnsafePointer<Float>, _ count: Int, _ name: String
  ) throws(SeqRNNError) {
    for i in 0..<count where !p[i].isFinite {
      throw .nonFinite("\(name)[\(i)] is not finite")
    }
  }
}
