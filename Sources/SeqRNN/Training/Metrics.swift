#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Everything a `MetricsAccumulator` has seen, summarised.
///
/// Means are over positions; a value is NaN where it is undefined (nothing
/// accumulated, no loss added, or a cross-entropy value of an MSE
/// accumulator).
public struct MetricsSummary: Sendable, Equatable {
  /// Mean loss per position (nats for cross-entropy), weighted as the
  /// model's loss is: `sum(w * loss) / sum(w)` over every batch added.
  public var loss: Double
  /// `exp(loss)` (cross-entropy only).
  public var perplexity: Double
  /// `loss / ln 2`: bits per token, or per character for character models
  /// (cross-entropy only).
  public var bitsPerToken: Double
  /// Fraction of predictions equal to their targets.
  public var accuracy: Double
  /// Unweighted mean of the per-class precisions (see `MetricsAccumulator`
  /// for which classes count).
  public var macroPrecision: Double
  /// Unweighted mean of the per-class recalls.
  public var macroRecall: Double
  /// Unweighted mean of the per-class F1 scores.
  public var macroF1: Double
  /// Positions accumulated: predictions for classification accumulators
  /// (those with `numClasses > 0`), loss positions for MSE ones.
  public var count: Int

  /// Creates a summary.
  public init(
    loss: Double, perplexity: Double, bitsPerToken: Double, accuracy: Double,
    macroPrecision: Double, macroRecall: Double, macroF1: Double, count: Int
  ) {
    self.loss = loss
    self.perplexity = perplexity
    self.bitsPerToken = bitsPerToken
    self.accuracy = accuracy
    self.macroPrecision = macroPrecision
    self.macroRecall = macroRecall
    self.macroF1 = macroF1
    self.count = count
  }
}

/// Precision, recall, F1 and support of one class.
public struct ClassMetrics: Sendable, Equatable {
  /// `tp / (tp + fp)`; 0 when the class was never predicted.
  public var precision: Double
  /// `tp / (tp + fn)`; 0 when the class never was a target.
  public var recall: Double
  /// `2 tp / (2 tp + fp + fn)`, the harmonic mean of precision and recall;
  /// 0 when the class appears neither as a target nor as a prediction.
  public var f1: Double
  /// Positions whose target is the class.
  public var support: Int

  /// Creates per-class values.
  public init(precision: Double, recall: Double, f1: Double, support: Int) {
    self.precision = precision
    self.recall = recall
    self.f1 = f1
    self.support = support
  }
}

/// Loss, accuracy, per-class and macro precision / recall / F1, perplexity,
/// bits per token and the confusion matrix, accumulated over the batches of
/// an epoch (streaming: nothing but counts and sums is kept).
///
/// Predictions are the arg-max of the logits at each valid position (ties go
/// to the lowest class index, as numpy's `argmax`). Positions whose loss
/// weight is 0 are ignored entirely, as the loss ignores them; other
/// positions count once in the confusion matrix whatever their weight.
///
/// Per-class values follow scikit-learn with `zero_division=0`: precision is
/// 0 for a class never predicted, recall 0 for a class never a target. The
/// macro averages are the unweighted means over the classes that occur as a
/// target or as a prediction at least once; classes absent from both are
/// skipped. This equals scikit-learn's
/// `precision_recall_fscore_support(y_true, y_pred, average="macro",
/// zero_division=0)` (whose default labels are exactly the classes present
/// in `y_true` or `y_pred`), and its `f1_score`.
///
/// Summing batches is exact: the metrics of several `update` calls equal the
/// metrics of one call on the concatenated data (up to floating-point
/// rounding of the loss).
///
/// Use from one thread at a time.
public final class MetricsAccumulator {
  /// Number of classes (0: loss only, for MSE models).
  public let numClasses: Int
  /// Largest accepted `numClasses`.
  public static let maxClasses = 65536
  /// Above this class count the confusion matrix is kept sparse.
  private static let denseLimit = 2048

  /// Sum over batches of `mean loss * sum of weights`.
  private var lossSum = 0.0
  /// Sum over batches of the loss weights (positions when unweighted).
  private var weightSum = 0.0
  /// Positions with a loss.
  private var lossCount = 0
  /// Per class: correct predictions, predictions, targets.
  private var truePositives: [Int]
  private var predictedCounts: [Int]
  private var targetCounts: [Int]
  /// Confusion matrix `[target][predicted]`, dense for small class counts.
  private var dense: [Int]
  /// Sparse confusion matrix (key `target * numClasses + predicted`).
  private var sparse: [Int: Int] = [:]
  /// Forward buffers reused across `update` calls, laid out for
  /// `tapeConfiguration` (a tape serves one architecture).
  private var tape = Tape<Float>()
  private var tapeConfiguration: ModelConfiguration?

  /// Creates an empty accumulator for `numClasses` classes (0 for MSE
  /// models: loss only).
  /// - Throws: `.invalidArgument` when `numClasses` is outside
  ///   `0...maxClasses`.
  public init(numClasses: Int) throws(SeqRNNError) {
    guard numClasses >= 0, numClasses <= Self.maxClasses else {
      throw .invalidArgument(
        "num_classes must be in [0, \(Self.maxClasses)], got \(numClasses)")
    }
    self.numClasses = numClasses
    truePositives = Array(repeating: 0, count: numClasses)
    predictedCounts = truePositives
    targetCounts = truePositives
    dense = numClasses <= Self.denseLimit ? Array(repeating: 0, count: numClasses * numClasses) : []
  }

  /// Empties the accumulator.
  public func reset() {
    lossSum = 0
    weightSum = 0
    lossCount = 0
    for i in 0..<numClasses {
      truePositives[i] = 0
      predictedCounts[i] = 0
      targetCounts[i] = 0
    }
    for i in dense.indices { dense[i] = 0 }
    sparse = [:]
  }

  /// Runs `model` on `batch` (which needs targets) and adds its loss and,
  /// for cross-entropy models, its arg-max predictions against the targets.
  /// The model is not changed.
  /// - Throws: `.shapeMismatch` when `numClasses` is not the model's
  ///   `outputSize` (cross-entropy) or not 0 (MSE), and the errors of
  ///   `Model.evaluate`. On error nothing is added.
  public func update(model: Model, batch: Batch) throws(SeqRNNError) {
    try checkModel(model)
    try batch.withEngineInput(model.configuration, needTargets: true) {
      (input) throws(SeqRNNError) in
      try update(model: model, input: input)
    }
  }

  /// `update(model:batch:)` on a validated input (the C API's path).
  package func update(model: Model, input: EngineInput) throws(SeqRNNError) {
    try checkModel(model)
    let config = model.configuration
    // One forward pass gives both the loss (Engine.loss, the same code as
    // Model.evaluate) and the logits for the predictions.
    if tapeConfiguration != config {
      tape = Tape<Float>()
      tapeConfiguration = config
    }
    let engine = model.engine
    try engine.forward(input, tape: tape)
    let result = engine.loss(input, tape: tape, gradients: nil)
    guard result.loss.isFinite else {
      throw .nonFinite("the loss is not finite (\(result.loss))")
    }
    let perSequence = config.outputMode == .last
    let (b, t, o) = (input.batchSize, input.seqLen, config.outputSize)
    var weights = 0.0
    for i in 0..<b {
      for s in 0..<(perSequence ? 1 : input.lengths[i]) {
        weights += input.lossWeights.map { Double($0[perSequence ? i : i * t + s]) } ?? 1
      }
    }
    lossSum += result.loss * weights
    weightSum += weights
    lossCount += result.count
    guard config.loss == .crossEntropy, let targets = input.targetClasses else { return }
    for i in 0..<b {
      for s in 0..<(perSequence ? 1 : input.lengths[i]) {
        let index = perSequence ? i : i * t + s
        if let w = input.lossWeights, w[index] == 0 { continue }
        let row = tape.logits + (perSequence ? i : s * b + i) * o
        var best = 0
        for k in 1..<max(o, 1) where row[k] > row[best] { best = k }
        record(predicted: best, target: Int(targets[index]))
      }
    }
  }

  /// Adds `(predicted, target)` class pairs computed elsewhere (no loss).
  /// - Throws: `.shapeMismatch` when the arrays differ in length,
  ///   `.outOfRange` for a class outside `0..<numClasses`; then nothing is
  ///   added.
  public func addPredictions(_ predicted: [Int32], targets: [Int32]) throws(SeqRNNError) {
    guard predicted.count == targets.count else {
      throw .shapeMismatch(
        "predicted has \(predicted.count) entries but targets has \(targets.count)")
    }
    try predicted.withUnsafeBufferPointer { (p) throws(SeqRNNError) in
      try targets.withUnsafeBufferPointer { (q) throws(SeqRNNError) in
        try addPredictions(p.baseAddress, targets: q.baseAddress, count: p.count)
      }
    }
  }

  /// Pointer form of `addPredictions(_:targets:)` (the C API's path).
  package func addPredictions(
    _ predicted: UnsafePointer<Int32>?, targets: UnsafePointer<Int32>?, count: Int
  ) throws(SeqRNNError) {
    guard count >= 0 else { throw .invalidArgument("count must be >= 0, got \(count)") }
    if count == 0 { return }
    guard let predicted else { throw .nullArgument("predicted is NULL") }
    guard let targets else { throw .nullArgument("targets is NULL") }
    for (name, values) in [("predicted", predicted), ("targets", targets)] {
      for i in 0..<count where values[i] < 0 || Int(values[i]) >= numClasses {
        throw .outOfRange(
          "\(name)[\(i)] = \(values[i]) is outside [0, num_classes = \(numClasses))")
      }
    }
    for i in 0..<count { record(predicted: Int(predicted[i]), target: Int(targets[i])) }
  }

  /// Everything accumulated so far.
  public var summary: MetricsSummary {
    let loss = weightSum > 0 ? lossSum / weightSum : .nan
    let classification = numClasses > 0
    let total = predictionCount
    var result = MetricsSummary(
      loss: loss, perplexity: classification ? exp(loss) : .nan,
      bitsPerToken: classification ? loss / log(2.0) : .nan,
      accuracy: total > 0 ? Double(truePositives.reduce(0, +)) / Double(total) : .nan,
      macroPrecision: .nan, macroRecall: .nan, macroF1: .nan,
      count: classification ? total : lossCount)
    var present = 0
    var (precision, recall, f1) = (0.0, 0.0, 0.0)
    for c in 0..<numClasses where targetCounts[c] > 0 || predictedCounts[c] > 0 {
      let m = classMetrics(unchecked: c)
      present += 1
      precision += m.precision
      recall += m.recall
      f1 += m.f1
    }
    if present > 0 {
      result.macroPrecision = precision / Double(present)
      result.macroRecall = recall / Double(present)
      result.macroF1 = f1 / Double(present)
    }
    return result
  }

  /// Precision, recall, F1 and support of class `index` (all 0 for a class
  /// never seen).
  /// - Throws: `.outOfRange` when `index` is outside `0..<numClasses`.
  public func classMetrics(_ index: Int) throws(SeqRNNError) -> ClassMetrics {
    guard index >= 0, index < numClasses else {
      throw .outOfRange("class_index \(index) is outside [0, num_classes = \(numClasses))")
    }
    return classMetrics(unchecked: index)
  }

  /// The confusion matrix, row-major `[target][predicted]`
  /// (`numClasses * numClasses` counts).
  public var confusionMatrix: [Int] {
    var out = [Int](repeating: 0, count: numClasses * numClasses)
    out.withUnsafeMutableBufferPointer { copyConfusion(to: $0.baseAddress!) }
    return out
  }

  /// How often class `target` was predicted as `predicted` (0 for indices
  /// outside the matrix).
  public func confusion(target: Int, predicted: Int) -> Int {
    guard target >= 0, target < numClasses, predicted >= 0, predicted < numClasses else {
      return 0
    }
    let key = target * numClasses + predicted
    return dense.isEmpty ? sparse[key] ?? 0 : dense[key]
  }

  /// Writes the confusion matrix (`numClasses * numClasses` counts) to `out`.
  package func copyConfusion(to out: UnsafeMutablePointer<Int>) {
    let n = numClasses * numClasses
    if !dense.isEmpty {
      dense.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: n) }
      return
    }
    out.update(repeating: 0, count: n)
    for (key, value) in sparse { out[key] = value }
  }

  // MARK: - Internals

  private var predictionCount: Int { targetCounts.reduce(0, +) }

  private func checkModel(_ model: Model) throws(SeqRNNError) {
    let config = model.configuration
    let expected = config.loss == .crossEntropy ? config.outputSize : 0
    guard numClasses == expected else {
      throw .shapeMismatch(
        config.loss == .crossEntropy
          ? "the accumulator has num_classes = \(numClasses) but the model has output_size = \(config.outputSize) classes"
          : "the model's loss is MSE: the accumulator needs num_classes = 0, got \(numClasses)")
    }
  }

  private func record(predicted: Int, target: Int) {
    predictedCounts[predicted] += 1
    targetCounts[target] += 1
    if predicted == target { truePositives[target] += 1 }
    let key = target * numClasses + predicted
    if dense.isEmpty {
      sparse[key, default: 0] += 1
    } else {
      dense[key] += 1
    }
  }

  private func classMetrics(unchecked c: Int) -> ClassMetrics {
    let tp = Double(truePositives[c])
    let predicted = Double(predictedCounts[c])
    let actual = Double(targetCounts[c])
    let precision = predicted > 0 ? tp / predicted : 0
    let recall = actual > 0 ? tp / actual : 0
    // 2 tp / (2 tp + fp + fn) = 2 tp / (predicted + actual).
    let f1 = predicted + actual > 0 ? 2 * tp / (predicted + actual) : 0
    return ClassMetrics(
      precision: precision, recall: recall, f1: f1, support: targetCounts[c])
  }
}
