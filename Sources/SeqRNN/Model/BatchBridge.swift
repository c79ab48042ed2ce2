extension Batch {
  /// Checks the arrays' sizes against the model, then hands the engine a
  /// validated pointer view of them for the duration of `body`.
  package func withEngineInput<R>(
    _ config: ModelConfiguration, needTargets: Bool, doubleFeatures: [Double]? = nil,
    _ body: (EngineInput) throws(SeqRNNError) -> R
  ) throws(SeqRNNError) -> R {
    var input = EngineInput(batchSize: batchSize, seqLen: seqLen)
    let lengths64 = lengths.map { $0.map(Int64.init) }
    if let lengths, lengths.count != batchSize {
      throw .shapeMismatch(
        "lengths has \(lengths.count) entries, expected batch_size = \(batchSize)")
    }
    try withOptionalPointer(lengths64) { (p) throws(SeqRNNError) in try input.setSizes(lengths: p) }
    let positions = batchSize * seqLen
    let stateCount = config.stateCount(batchSize: batchSize)
    let perSequence = config.outputMode == .last
    try expectCount(features, positions * config.inputSize, "features")
    try expectCount(doubleFeatures, positions * config.inputSize, "features")
    try expectCount(tokens, positions, "tokens")
    try expectCount(initialH, stateCount, "initialH")
    try expectCount(initialC, stateCount, "initialC")
    try expectCount(targetClasses, perSequence ? batchSize : positions, "targetClasses")
    try expectCount(
      targetValues, (perSequence ? batchSize : positions) * config.outputSize, "targetValues")
    try expectCount(lossWeights, perSequence ? batchSize : positions, "lossWeights")
    return try withOptionalPointer(features) { (f) throws(SeqRNNError) in
      try withOptionalPointer(doubleFeatures) { (df) throws(SeqRNNError) in
        try withOptionalPointer(tokens) { (tk) throws(SeqRNNError) in
          try withOptionalPointer(initialH) { (h0) throws(SeqRNNError) in
            try withOptionalPointer(initialC) { (c0) throws(SeqRNNError) in
              try withOptionalPointer(targetClasses) { (tc) throws(SeqRNNError) in
                try withOptionalPointer(targetValues) { (tv) throws(SeqRNNError) in
                  try withOptionalPointer(lossWeights) { (lw) throws(SeqRNNError) in
                    var view = input
                    view.lossWeights = lw
                    view.floatFeatures = f
                    view.doubleFeatures = df
                    view.tokens = tk
                    view.initialH = h0
                    view.initialC = c0
                    view.targetClasses = tc
                    view.targetValues = tv
                    try view.validate(config, needTargets: needTargets)
                    return try body(view)
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

private func expectCount<E>(_ array: [E]?, _ expected: Int, _ name: String) throws(SeqRNNError) {
  if let array, array.count != expected {
    throw .shapeMismatch("\(name) has \(array.count) elements, expected \(expected)")
  }
}
