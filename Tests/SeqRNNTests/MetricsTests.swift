// The training toolkit's evaluation side: streaming metrics against confusion
// matrices worked out by hand, early stopping restoring the best epoch's
// exact weights, and pretrained word vectors landing in exactly the right
// embedding rows (GloVe and word2vec text) with every error path.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import SeqRNN
import Testing

private func expectNear(
  _ got: Double, _ want: Double, _ tolerance: Double = 1e-12,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    abs(got - want) <= tolerance * max(1, abs(want)), "got \(got), want \(want)",
    sourceLocation: sourceLocation)
}

/// A cross-entropy token model and two batches of random data (uneven
/// lengths, loss weights with zeros) plus their concatenation.
private func tokenSetup(output: OutputMode = .sequence, weighted: Bool = true) throws -> (
  Model, [Batch], Batch
) {
  let config = ModelConfiguration(
    cell: .gru, vocabSize: 7, hiddenSize: 6, numLayers: 1, outputSize: 4, outputMode: output,
    seed: 5)
  let model = try Model(config)
  var rng = SeededRNG(seed: 21)
  let t = 6
  func batch(_ b: Int) -> Batch {
    let perSequence = output == .last
    let targets = (0..<(perSequence ? b : b * t)).map { _ in Int32(rng.index(4)) }
    let weights: [Float]? =
      weighted ? (0..<targets.count).map { _ in [0, 0.5, 1, 2][rng.index(4)] } : nil
    return Batch(
      batchSize: b, seqLen: t, tokens: (0..<(b * t)).map { _ in Int32(rng.index(7)) },
      lengths: (0..<b).map { _ in 1 + rng.index(t) }, targetClasses: targets,
      lossWeights: weights)
  }
  var parts = [batch(3), batch(4)]
  // At least one positive weight at a valid position in every batch.
  for i in parts.indices where parts[i].lossWeights != nil {
    parts[i].lossWeights![0] = 1
  }
  let all = Batch(
    batchSize: 7, seqLen: t, tokens: parts.flatMap { $0.tokens! },
    lengths: parts.flatMap { $0.lengths! }, targetClasses: parts.flatMap { $0.targetClasses! },
    lossWeights: weighted ? parts.flatMap { $0.lossWeights! } : nil)
  return (model, parts, all)
}

@Suite struct MetricsTests {
  /// targets/predictions with the confusion matrix
  ///   t0: 2 1 1 / t1: 1 2 0 / t2: 0 1 2
  /// class 0: P 2/3 R 1/2 F1 4/7; class 1: P 1/2 R 2/3 F1 4/7;
  /// class 2: P 2/3 R 2/3 F1 2/3.
  @Test func knownConfusionMatrix() throws {
    let m = try MetricsAccumulator(numClasses: 3)
    try m.addPredictions(
      [0, 0, 1, 2, 1, 1, 0, 2, 2, 1], targets: [0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    #expect(m.confusionMatrix == [2, 1, 1, 1, 2, 0, 0, 1, 2])
    #expect(m.confusion(target: 0, predicted: 2) == 1)
    let want: [(Double, Double, Double, Int)] = [
      (2.0 / 3, 1.0 / 2, 4.0 / 7, 4), (1.0 / 2, 2.0 / 3, 4.0 / 7, 3),
      (2.0 / 3, 2.0 / 3, 2.0 / 3, 3),
    ]
    for (c, w) in want.enumerated() {
      let got = try m.classMetrics(c)
      expectNear(got.precision, w.0)
      expectNear(got.recall, w.1)
      expectNear(got.f1, w.2)
      #expect(got.support == w.3)
    }
    let s = m.summary
    expectNear(s.accuracy, 0.6)
    expectNear(s.macroPrecision, 11.0 / 18)
    expectNear(s.macroRecall, 11.0 / 18)
    expectNear(s.macroF1, 38.0 / 63)
    #expect(s.count == 10)
    #expect(s.loss.isNaN && s.perplexity.isNaN && s.bitsPerToken.isNaN)
  }

  /// Five classes: 3 never appears (skipped), 4 is predicted but never a
  /// target (recall 0 by zero_division), 2 is a target never predicted
  /// (precision 0). Macro over {0, 1, 2, 4}.
  @Test func macroAveragesSkipAbsentClasses() throws {
    let m = try MetricsAccumulator(numClasses: 5)
    try m.addPredictions([0, 4, 1, 0, 1], targets: [0, 0, 1, 2, 2])
    let s = m.summary
    expectNear(s.macroPrecision, 0.25)
    expectNear(s.macroRecall, 0.375)
    expectNear(s.macroF1, 7.0 / 24)
    expectNear(s.accuracy, 0.4)
    #expect(try m.classMetrics(3) == ClassMetrics(precision: 0, recall: 0, f1: 0, support: 0))
    #expect(try m.classMetrics(4) == ClassMetrics(precision: 0, recall: 0, f1: 0, support: 0))
    #expect(try m.classMetrics(2) == ClassMetrics(precision: 0, recall: 0, f1: 0, support: 2))
    expectNear(try m.classMetrics(1).f1, 2.0 / 3)
  }

  @Test func emptyAndResetAreUndefined() throws {
    let m = try MetricsAccumulator(numClasses: 2)
    var s = m.summary
    #expect(s.count == 0 && s.accuracy.isNaN && s.macroF1.isNaN && s.loss.isNaN)
    try m.addPredictions([1, 1], targets: [1, 0])
    #expect(m.summary.count == 2)
    m.reset()
    s = m.summary
    #expect(s.count == 0 && s.accuracy.isNaN && m.confusionMatrix == [0, 0, 0, 0])
  }

  @Test func sparseConfusionForManyClasses() throws {
    let m = try MetricsAccumulator(numClasses: 2100)
    try m.addPredictions([2099, 7, 7], targets: [2099, 7, 3])
    #expect(m.confusion(target: 3, predicted: 7) == 1)
    #expect(m.confusion(target: 2099, predicted: 2099) == 1)
    let matrix = m.confusionMatrix
    #expect(matrix.count == 2100 * 2100 && matrix.reduce(0, +) == 3)
    #expect(matrix[3 * 2100 + 7] == 1)
    expectNear(m.summary.macroF1, (1 + 2.0 / 3 + 0) / 3)
  }

  @Test func batchesSumToTheConcatenatedData() throws {
    for output in [OutputMode.sequence, .last] {
      for weighted in [false, true] {
        let (model, parts, all) = try tokenSetup(output: output, weighted: weighted)
        let streamed = try MetricsAccumulator(numClasses: 4)
        for part in parts { try streamed.update(model: model, batch: part) }
        let whole = try MetricsAccumulator(numClasses: 4)
        try whole.update(model: model, batch: all)
        let (a, b) = (streamed.summary, whole.summary)
        #expect(a.count == b.count)
        #expect(streamed.confusionMatrix == whole.confusionMatrix)
        expectNear(a.loss, b.loss, 1e-6)
        expectNear(a.macroF1, b.macroF1)
        // And the loss is the model's own: evaluate on the concatenation.
        let evaluation = try model.evaluate(all)
        expectNear(a.loss, evaluation.loss, 1e-6)
        expectNear(a.accuracy, evaluation.accuracy, 1e-12)
        #expect(a.count == evaluation.count)
      }
    }
  }

  @Test func oneAccumulatorServesModelsOfDifferentSizes() throws {
    let (model, parts, _) = try tokenSetup(weighted: false)
    let wider = try Model(
      ModelConfiguration(cell: .lstm, vocabSize: 7, hiddenSize: 11, numLayers: 2, outputSize: 4))
    let shared = try MetricsAccumulator(numClasses: 4)
    let (first, second) = (
      try MetricsAccumulator(numClasses: 4), try MetricsAccumulator(numClasses: 4)
    )
    for part in parts {
      try shared.update(model: model, batch: part)
      try shared.update(model: wider, batch: part)
      try first.update(model: model, batch: part)
      try second.update(model: wider, batch: part)
    }
    let both = zip(first.confusionMatrix, second.confusionMatrix).map { $0 + $1 }
    #expect(shared.confusionMatrix == both)
    let (a, b) = (first.summary, second.summary)
    expectNear(
      shared.summary.loss,
      (a.loss * Double(a.count) + b.loss * Double(b.count)) / Double(a.count + b.count), 1e-9)
  }

  @Test func predictionsAreTheArgMaxOfTheLogits() throws {
    let (model, parts, _) = try tokenSetup(weighted: false)
    let batch = parts[1]
    let m = try MetricsAccumulator(numClasses: 4)
    try m.update(model: model, batch: batch)
    let logits = try model.forward(batch).outputs
    var want = [Int](repeating: 0, count: 16)
    for i in 0..<batch.batchSize {
      for s in 0..<batch.lengths![i] {
        let row = Array(logits[((i * 6 + s) * 4)..<((i * 6 + s) * 4 + 4)])
        let best = row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }!
        want[Int(batch.targetClasses![i * 6 + s]) * 4 + best] += 1
      }
    }
    #expect(m.confusionMatrix == want)
  }

  /// A zero head gives uniform logits: loss ln(O) per position, perplexity
  /// O, log2(O) bits, and every tie goes to class 0.
  @Test func perplexityAndBitsOnUniformLogits() throws {
    let (model, parts, _) = try tokenSetup(weighted: false)
    try model.setTensor(named: "head.weight", [Float](repeating: 0, count: 4 * 6))
    try model.setTensor(named: "head.bias", [0, 0, 0, 0])
    let m = try MetricsAccumulator(numClasses: 4)
    for part in parts { try m.update(model: model, batch: part) }
    let s = m.summary
    expectNear(s.loss, log(4.0), 1e-6)
    expectNear(s.perplexity, 4, 1e-6)
    expectNear(s.bitsPerToken, 2, 1e-6)
    let matrix = m.confusionMatrix
    for t in 0..<4 {
      #expect(matrix[t * 4 + 1] == 0 && matrix[t * 4 + 2] == 0 && matrix[t * 4 + 3] == 0)
    }
    // Perplexity is exp of the mean loss (here with a real head too).
    let (trained, more, _) = try tokenSetup(weighted: false)
    let n = try MetricsAccumulator(numClasses: 4)
    for part in more { try n.update(model: trained, batch: part) }
    expectNear(n.summary.perplexity, exp(n.summary.loss))
    expectNear(n.summary.bitsPerToken, n.summary.loss / log(2.0))
  }

  @Test func mseAccumulatesLossOnly() throws {
    let config = ModelConfiguration(
      cell: .lstm, inputSize: 2, hiddenSize: 3, outputSize: 2, loss: .meanSquaredError, seed: 1)
    let model = try Model(config)
    var rng = SeededRNG(seed: 2)
    let batch = Batch(
      batchSize: 2, seqLen: 3, features: (0..<12).map { _ in Float(rng.uniform(1)) },
      targetValues: (0..<12).map { _ in Float(rng.uniform(1)) })
    let m = try MetricsAccumulator(numClasses: 0)
    try m.update(model: model, batch: batch)
    try m.update(model: model, batch: batch)
    let s = m.summary
    expectNear(s.loss, try model.evaluate(batch).loss, 1e-9)
    #expect(s.count == 12)
    #expect(s.perplexity.isNaN && s.accuracy.isNaN && s.macroF1.isNaN)
    #expect(throws: SeqRNNError.self) {
      try MetricsAccumulator(numClasses: 2).update(model: model, batch: batch)
    }
  }

  @Test func errorsLeaveTheAccumulatorUnchanged() throws {
    #expect(throws: SeqRNNError.self) { try MetricsAccumulator(numClasses: -1) }
    #expect(throws: SeqRNNError.self) { try MetricsAccumulator(numClasses: 65537) }
    let m = try MetricsAccumulator(numClasses: 3)
    try m.addPredictions([0], targets: [0])
    #expect {
      try m.addPredictions([0, 1, 3], targets: [0, 1, 2])
    } throws: { error in
      guard case .outOfRange(let message) = error as? SeqRNNError else { return false }
      return message.contains("predicted[2] = 3")
    }
    #expect(throws: SeqRNNError.self) { try m.addPredictions([0, 1], targets: [0, -1]) }
    #expect(throws: SeqRNNError.self) { try m.addPredictions([0, 1], targets: [0]) }
    #expect(throws: SeqRNNError.self) { try m.classMetrics(3) }
    let (model, parts, _) = try tokenSetup()
    #expect(throws: SeqRNNError.self) { try m.update(model: model, batch: parts[0]) }
    #expect(m.summary.count == 1 && m.confusionMatrix == [1, 0, 0, 0, 0, 0, 0, 0, 0])
  }
}

// MARK: - Early stopping

/// Every tensor of a model.
private func weights(_ model: Model) throws -> [String: [Float]] {
  var out: [String: [Float]] = [:]
  for info in model.tensorInfos { out[info.name] = try model.tensor(named: info.name) }
  return out
}

@Suite struct EarlyStoppingTests {
  @Test func restoresTheBestEpochsWeightsExactly() throws {
    let (model, parts, all) = try tokenSetup(weighted: false)
    let trainer = try Trainer(
      model: model, options: TrainingOptions(optimizer: .sgd, learningRate: 0.5))
    let stopper = try EarlyStopping(mode: .minimize, patience: 2)
    // Validation values are scripted so the best epoch is known: 3.
    let values = [1.0, 0.8, 0.85, 0.7, 0.75, 0.72, 0.9]
    var perEpoch: [[String: [Float]]] = []
    var stoppedAt: Int? = nil
    for (epoch, value) in values.enumerated() {
      for part in parts { _ = try trainer.step(part) }
      perEpoch.append(try weights(model))
      if try stopper.update(value, model: model) {
        stoppedAt = epoch
        break
      }
    }
    #expect(stoppedAt == 5)
    #expect(stopper.bestValue == 0.7 && stopper.bestIndex == 3 && stopper.updates == 6)
    #expect(try weights(model) != perEpoch[3])  // training moved on
    try stopper.restore(into: model)
    let restored = try weights(model)
    for (name, values) in perEpoch[3] { #expect(restored[name]! == values, "\(name)") }
    #expect(try stopper.bestTensor(named: "head.bias")! == perEpoch[3]["head.bias"]!)
    _ = all
  }

  @Test func maximizeWithMinDeltaAndPatience() throws {
    let (model, _, _) = try tokenSetup()
    let stopper = try EarlyStopping(mode: .maximize, patience: 3, minDelta: 0.05)
    // 0.52 and 0.54 do not beat 0.5 by more than 0.05; 0.6 does.
    var stops: [Bool] = []
    for value in [0.5, 0.52, 0.54, 0.6, 0.6, 0.64, 0.63] {
      stops.append(try stopper.update(value, model: model))
    }
    #expect(stopper.bestValue == 0.6 && stopper.bestIndex == 3)
    #expect(stops == [false, false, false, false, false, false, true])
    // Patience 0 stops at the first evaluation without improvement.
    let eager = try EarlyStopping(mode: .minimize, patience: 0)
    #expect(try eager.update(1.0, model: model) == false)
    #expect(try eager.update(1.0, model: model) == true)
    #expect(try eager.update(0.5, model: model) == false)
  }

  @Test func errors() throws {
    #expect(throws: SeqRNNError.self) { try EarlyStopping(mode: .minimize, patience: -1) }
    #expect(throws: SeqRNNError.self) {
      try EarlyStopping(mode: .minimize, patience: 1, minDelta: -0.1)
    }
    let (model, _, _) = try tokenSetup()
    let stopper = try EarlyStopping(mode: .minimize, patience: 1)
    #expect(throws: SeqRNNError.unsupported("no value has been recorded yet: nothing to restore")) {
      try stopper.restore(into: model)
    }
    #expect(throws: SeqRNNError.self) { try stopper.update(.nan, model: model) }
    #expect(throws: SeqRNNError.self) { try stopper.update(.infinity, model: model) }
    #expect(stopper.updates == 0 && stopper.bestValue == nil)
    try stopper.update(1, model: model)
    let other = try Model(
      ModelConfiguration(cell: .lstm, inputSize: 2, hiddenSize: 3, outputSize: 2))
    #expect(throws: SeqRNNError.self) { try stopper.update(0.5, model: other) }
    #expect(throws: SeqRNNError.self) { try stopper.restore(into: other) }
    #expect(stopper.updates == 1)
    stopper.reset()
    #expect(stopper.bestValue == nil && stopper.updates == 0)
    try stopper.update(0.5, model: other)  // a new model after a reset is fine
  }
}

// MARK: - Word vectors

/// Writes `text` to a new temporary file and returns its path.
private func temporaryFile(_ text: String) -> String {
  var template = Array("/tmp/seqrnn-wv-XXXXXX".utf8CString)
  let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
  precondition(fd >= 0)
  let bytes = Array(text.utf8)
  _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
  close(fd)
  return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// A token model with an embedding of width 3 and vocabulary size 5.
private func embeddingModel() throws -> Model {
  try Model(
    ModelConfiguration(cell: .gru, inputSize: 3, vocabSize: 5, hiddenSize: 4, outputSize: 2))
}

private let vocabulary = ["<pad>", "the", "cat", "dog", "sat"]

@Suite struct WordVectorTests {
  /// Checks rows: `expected[row]` or the original row when nil.
  private func expectRows(
    _ model: Model, _ before: [Float], _ expected: [Int: [Float]],
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let after = try model.tensor(named: "embedding.weight")
    for row in 0..<5 {
      let got = Array(after[(row * 3)..<(row * 3 + 3)])
      let want = expected[row] ?? Array(before[(row * 3)..<(row * 3 + 3)])
      #expect(got == want, "row \(row)", sourceLocation: sourceLocation)
    }
  }

  @Test func gloveFillsExactlyTheVocabularyRows() throws {
    let model = try embeddingModel()
    let before = try model.tensor(named: "embedding.weight")
    let path = temporaryFile(
      "\u{FEFF}the 0.5 -1.25 3e-2   \r\nzebra 9 9 9\n\ncat\t1 2 3\r\nthe 7 7 7\nsat -0 0.1 1E2")
    defer { unlink(path) }
    let found = try model.loadWordVectors(path: path, vocabulary: vocabulary)
    #expect(found == 3)
    try expectRows(
      model, before, [1: [0.5, -1.25, 0.03], 2: [1, 2, 3], 4: [-0.0, 0.1, 100]])
  }

  @Test func word2vecHeaderAndDuplicateVocabularyRows() throws {
    let model = try embeddingModel()
    let before = try model.tensor(named: "embedding.weight")
    let path = temporaryFile("2 3\ndog 1 1 1 \ncat 0.25 0.5 0.75 \n")
    defer { unlink(path) }
    let words = ["cat", "", "dog", "cat", "bird"]
    #expect(try model.loadWordVectors(path: path, vocabulary: words) == 3)
    try expectRows(model, before, [0: [0.25, 0.5, 0.75], 2: [1, 1, 1], 3: [0.25, 0.5, 0.75]])
  }

  @Test func errorsNameTheLineAndLeaveTheModelUnchanged() throws {
    let model = try embeddingModel()
    let before = try model.tensor(named: "embedding.weight")
    let cases: [(String, (SeqRNNError) -> Bool)] = [
      (
        "the 1 2 3\ncat 1 2\n",
        {
          guard case .shapeMismatch(let m) = $0 else { return false }
          return m.contains(":2:") && m.contains("'cat'") && m.contains("2 values")
        }
      ),
      (
        "the 1 2 3\ncat 1 x2 3\n",
        {
          guard case .badFormat(let m) = $0 else { return false }
          return m.contains(":2:") && m.contains("'x2'")
        }
      ),
      (
        "the 1 2 3\ncat 1 nan 3\n",
        {
          guard case .nonFinite(let m) = $0 else { return false }
          return m.contains(":2:")
        }
      ),
      (
        "the 1 2 3\ncat 1 1e39 3\n",
        {
          guard case .nonFinite = $0 else { return false }
          return true
        }
      ),
      (
        "2 4\nthe 1 2 3 4\n",
        {
          guard case .shapeMismatch(let m) = $0 else { return false }
          return m.contains(":1:")
        }
      ),
      (
        "3 3\nthe 1 2 3\ncat 1 2 3\n",
        {
          guard case .badFormat(let m) = $0 else { return false }
          return m.contains("3 vectors") && m.contains("has 2")
        }
      ),
      // A width error in a line whose word is not in the vocabulary.
      (
        "the 1 2 3\nzebra 1 2 3 4\n",
        {
          guard case .shapeMismatch(let m) = $0 else { return false }
          return m.contains("'zebra'")
        }
      ),
    ]
    for (text, check) in cases {
      let path = temporaryFile(text)
      defer { unlink(path) }
      #expect {
        try model.loadWordVectors(path: path, vocabulary: vocabulary)
      } throws: { error in
        check(error as! SeqRNNError)
      }
      #expect(
        try model.tensor(named: "embedding.weight") == before, "after \(text.debugDescription)")
    }
    #expect(throws: SeqRNNError.self) {
      try model.loadWordVectors(path: "/nonexistent/vectors.txt", vocabulary: vocabulary)
    }
    let path = temporaryFile("the 1 2 3\n")
    defer { unlink(path) }
    #expect(throws: SeqRNNError.self) {
      try model.loadWordVectors(path: path, vocabulary: ["the"])
    }
    let features = try Model(
      ModelConfiguration(cell: .gru, inputSize: 3, hiddenSize: 4, outputSize: 2))
    #expect(throws: SeqRNNError.self) {
      try features.loadWordVectors(path: path, vocabulary: [])
    }
    #expect(try model.tensor(named: "embedding.weight") == before)
  }
}
