import CSeqRNNKernels

/// Loss over the valid head rows and its gradient with respect to the
/// logits, in one pass per row (softmax and cross-entropy fused).
package struct LossResult: Sendable {
  /// Mean loss.
  package var loss: Double
  /// Rows whose arg-max equals the class target (cross-entropy only).
  package var correct: Int
  /// Valid rows the mean is over.
  package var count: Int
}

extension Engine {
  /// Computes the loss of `tape.logits` against the targets of `input`;
  /// when `gradients` is given, writes dLoss/dlogits there (zero on padding).
  ///
  /// The loss is the weighted mean over valid positions, `sum(w * l) / sum(w)`
  /// (MSE: also over the outputs), with `w = 1` when the input has no loss
  /// weights; positions of weight 0 count neither in the mean nor in
  /// `count` and `correct`.
  package func loss(
    _ input: EngineInput, tape: Tape<T>, gradients: UnsafeMutablePointer<T>?
  ) -> LossResult {
    let (b, t, o) = (input.batchSize, input.seqLen, config.outputSize)
    let perSequence = config.outputMode == .last
    func weight(_ index: Int) -> Double {
      input.lossWeights.map { Double($0[index]) } ?? 1
    }
    var weightSum = 0.0
    var count = 0
    for i in 0..<b {
      for s in 0..<(perSequence ? 1 : input.lengths[i]) {
        let w = weight(perSequence ? i : i * t + s)
        weightSum += w
        if w > 0 { count += 1 }
      }
    }
    let divisor = config.loss == .crossEntropy ? weightSum : weightSum * Double(o)
    if T.self == Float.self, config.loss == .crossEntropy {
      let rows = crossEntropyRows(input, tape: tape, gradients: gradients, divisor: divisor)
      return LossResult(loss: rows.total / divisor, correct: rows.correct, count: count)
    }
    gradients?.update(repeating: 0, count: tape.headRows * o)
    var total = 0.0
    var correct = 0
    for i in 0..<b {
      for s in 0..<(perSequence ? 1 : input.lengths[i]) {
        let row = perSequence ? i : s * b + i
        let logits = tape.logits + row * o
        let targetIndex = perSequence ? i : i * t + s
        let w = weight(targetIndex)
        if w == 0 { continue }
        let scale = T(w / divisor)
        switch config.loss {
        case .crossEntropy:
          // float64 only: float32 took crossEntropyRows above.
          let target = input.targetClasses![targetIndex]
          let result = crossEntropy(
            logits, count: o, target: target, scale: scale,
            gradient: gradients.map { $0 + row * o })
          total += w * result.loss
          if result.argmax == Int(target) { correct += 1 }
        case .meanSquaredError:
          let targets = input.targetValues! + targetIndex * o
          for k in 0..<o {
            let diff = logits[k] - T(targets[k])
            total += w * Double(diff * diff)
            if let gradients { gradients[row * o + k] = 2 * diff * scale }
          }
        }
      }
    }
    return LossResult(loss: total / divisor, correct: correct, count: count)
  }
}

extension Engine {
  /// float32 cross-entropy: every row in parallel (`srnn_sequence_cross_entropy`),
  /// then the weighted row losses summed in batch-major order, as the plain
  /// loop does, so the total does not depend on the thread count. Returns
  /// that total and the number of rows whose arg-max is the target.
  private func crossEntropyRows(
    _ input: EngineInput, tape: Tape<T>, gradients: UnsafeMutablePointer<T>?, divisor: Double
  ) -> (total: Double, correct: Int) {
    let (b, t) = (input.batchSize, input.seqLen)
    let perSequence = config.outputMode == .last
    let rowLosses = tape.rowLosses.pointer
    var job = srnn_sequence_loss()
    job.logits = f32(UnsafePointer(tape.logits))
    job.gradients = gradients.map { f32($0) }
    job.targets = input.targetClasses
    job.weights = input.lossWeights
    job.batch = Int64(b)
    job.steps = Int64(t)
    job.classes = Int64(config.outputSize)
    job.per_sequence = perSequence ? 1 : 0
    job.threads = Int32(Recurrence.teamSize())
    job.divisor = divisor
    job.row_losses = rowLosses
    input.lengths.withUnsafeBufferPointer { lengths in
      job.lengths = UnsafeRawPointer(lengths.baseAddress!).assumingMemoryBound(to: Int64.self)
      srnn_sequence_cross_entropy(&job)
    }
    var total = 0.0
    for i in 0..<b {
      for s in 0..<(perSequence ? 1 : input.lengths[i]) {
        total += rowLosses[perSequence ? i : s * b + i]
      }
    }
    return (total, Int(job.correct))
  }
}

/// Index of the largest of `count` values (the first on ties).
func argmax<T: EngineScalar>(_ values: UnsafePointer<T>, count: Int) -> Int {
  var best = 0
  for k in 1..<max(count, 1) where values[k] > values[best] { best = k }
  return best
}

/// Softmax cross-entropy of one row against `target`; writes
/// `scale * (softmax - onehot)` to `gradient` when given. Float rows use the
/// fused SIMD kernel, Double rows a plain loop.
func crossEntropy<T: EngineScalar>(
  _ logits: UnsafePointer<T>, count v: Int, target: Int32, scale: T,
  gradient: UnsafeMutablePointer<T>?
) -> (loss: Double, argmax: Int) {
  if T.self == Float.self {
    var best: Int64 = 0
    let raw = UnsafeRawPointer(logits).assumingMemoryBound(to: Float.self)
    let grad = gradient.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self) }
    let loss = srnn_softmax_cross_entropy(raw, Int64(v), target, Float(scale), grad, &best)
    return (loss, Int(best))
  }
  let best = argmax(logits, count: v)
  let peak = logits[best]
  var sum = T(0)
  for k in 0..<v { sum += T.exp(logits[k] - peak) }
  let logSum = T.log(sum) + peak
  if let gradient {
    for k in 0..<v { gradient[k] = T.exp(logits[k] - logSum) * scale }
    gradient[Int(target)] -= scale
  }
  return (Double(logSum - logits[Int(target)]), best)
}
