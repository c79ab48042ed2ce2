#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Decoded sequences: per source, the tokens (without EOS) and the score.
public struct Seq2SeqDecoded: Sendable, Equatable {
  /// Per sequence, the emitted target ids, EOS excluded.
  public var tokens: [[Int32]]
  /// Per sequence, the sum of the log-probabilities of its tokens and of the
  /// EOS that ended it (no EOS when it reached the maximum length).
  public var scores: [Double]
}

extension Seq2Seq {
  /// Greedy decoding: from BOS, feed back the most probable token (the
  /// first on ties) until EOS or `maxLength` tokens.
  public func decodeGreedy(_ batch: Seq2SeqBatch, maxLength: Int) throws(SeqRNNError)
    -> Seq2SeqDecoded
  {
    try Self.checkMaxLength(maxLength)
    let valid = try batch.validated(configuration, needTargets: false)
    let b = valid.batchSize
    let stepper = try DecoderStepper(self, valid, replicas: 1)
    var current = [Int32](repeating: Int32(configuration.bosID), count: b)
    var tokens = [[Int32]](repeating: [], count: b)
    var scores = [Double](repeating: 0, count: b)
    var done = [Bool](repeating: false, count: b)
    let v = configuration.targetVocabSize
    let eos = Int32(configuration.eosID)
    for _ in 0..<maxLength {
      let logits = try stepper.step(current)
      for i in 0..<b where !done[i] {
        let logp = logSoftmax(logits + i * v, count: v)
        let best = argmax(logp)
        scores[i] += logp[best]
        current[i] = Int32(best)
        if current[i] == eos { done[i] = true } else { tokens[i].append(current[i]) }
      }
      if !done.contains(false) { break }
    }
    return Seq2SeqDecoded(tokens: tokens, scores: scores)
  }

  /// Beam search with `beamWidth` hypotheses per source. At each step the
  /// 2·width best one-token extensions of the live hypotheses are ranked by
  /// total log-probability; an extension by EOS among the best `width`
  /// becomes a finished hypothesis, the best `width` others live on. A
  /// source is done when it has `width` finished hypotheses; at `maxLength`
  /// the live ones count as finished. The result is the finished hypothesis
  /// with the best `score / length^lengthPenalty` (length counts the EOS;
  /// 0 ranks by raw log-probability). Width 1 is exactly greedy decoding.
  public func decodeBeam(
    _ batch: Seq2SeqBatch, maxLength: Int, beamWidth: Int, lengthPenalty: Double = 0
  ) throws(SeqRNNError) -> Seq2SeqDecoded {
    try Self.checkMaxLength(maxLength)
    guard beamWidth >= 1, beamWidth <= 256 else {
      throw .invalidArgument("beam_width must be in [1, 256], got \(beamWidth)")
    }
    guard lengthPenalty.isFinite, lengthPenalty >= 0 else {
      throw .invalidArgument("length_penalty must be finite and >= 0, got \(lengthPenalty)")
    }
    let valid = try batch.validated(configuration, needTargets: false)
    let (b, k) = (valid.batchSize, beamWidth)
    let v = configuration.targetVocabSize
    let eos = Int32(configuration.eosID)
    let stepper = try DecoderStepper(self, valid, replicas: k)
    struct Hypothesis {
      var tokens: [Int32]
      var score: Double
    }
    // Slot j of source i is row i*k + j; a nil slot is dead.
    var alive = [[Hypothesis?]](repeating: [Hypothesis(tokens: [], score: 0)], count: b)
    for i in 0..<b { alive[i] += [Hypothesis?](repeating: nil, count: k - 1) }
    var finished = [[(hypothesis: Hypothesis, length: Int)]](repeating: [], count: b)
    var done = [Bool](repeating: false, count: b)
    var current = [Int32](repeating: Int32(configuration.bosID), count: b * k)
    for step in 0..<maxLength {
      let logits = try stepper.step(current)
      var parents = Array(0..<(b * k))
      for i in 0..<b where !done[i] {
        // The 2k best (score, slot, token), ties to the lower slot, then token.
        var best: [(score: Double, slot: Int, token: Int)] = []
        for j in 0..<k {
          guard let hypothesis = alive[i][j] else { continue }
          let logp = logSoftmax(logits + (i * k + j) * v, count: v)
          for token in 0..<v {
            let score = hypothesis.score + logp[token]
            if best.count == 2 * k, score <= best[best.count - 1].score { continue }
            var at = best.count
            while at > 0 && best[at - 1].score < score { at -= 1 }
            best.insert((score, j, token), at: at)
            if best.count > 2 * k { best.removeLast() }
          }
        }
        var next: [Hypothesis?] = []
        for (rank, candidate) in best.enumerated() {
          let parent = alive[i][candidate.slot]!
          if Int32(candidate.token) == eos {
            if rank < k {
              finished[i].append(
                (Hypothesis(tokens: parent.tokens, score: candidate.score), step + 1))
            }
            continue
          }
          parents[i * k + next.count] = i * k + candidate.slot
          current[i * k + next.count] = Int32(candidate.token)
          next.append(
            Hypothesis(tokens: parent.tokens + [Int32(candidate.token)], score: candidate.score))
          if next.count == k { break }
        }
        while next.count < k { next.append(nil) }
        alive[i] = next
        if finished[i].count >= k { done[i] = true }
      }
      if !done.contains(false) { break }
      stepper.reorder(parents)
    }
    var tokens = [[Int32]]()
    var scores = [Double]()
    for i in 0..<b {
      if !done[i] {
        for case let hypothesis? in alive[i] { finished[i].append((hypothesis, maxLength)) }
      }
      var choice = finished[i][0]
      var bestValue = -Double.infinity
      for entry in finished[i] {
        let value =
          lengthPenalty == 0
          ? entry.hypothesis.score
          : entry.hypothesis.score / pow(Double(entry.length), lengthPenalty)
        if value > bestValue {
          bestValue = value
          choice = entry
        }
      }
      tokens.append(choice.hypothesis.tokens)
      scores.append(choice.hypothesis.score)
    }
    return Seq2SeqDecoded(tokens: tokens, scores: scores)
  }

  private static func checkMaxLength(_ maxLength: Int) throws(SeqRNNError) {
    guard maxLength >= 1, maxLength <= 1 << 20 else {
      throw .invalidArgument("max_length must be in [1, \(1 << 20)], got \(maxLength)")
    }
  }
}

/// log softmax of one row, in double precision.
private func logSoftmax(_ logits: UnsafePointer<Float>, count v: Int) -> [Double] {
  var peak = Double(logits[0])
  for k in 1..<v { peak = max(peak, Double(logits[k])) }
  var sum = 0.0
  for k in 0..<v { sum += exp(Double(logits[k]) - peak) }
  let logSum = log(sum) + peak
  return (0..<v).map { Double(logits[$0]) - logSum }
}

/// Index of the largest value (the first on ties).
private func argmax(_ values: [Double]) -> Int {
  var best = 0
  for k in 1..<values.count where values[k] > values[best] { best = k }
  return best
}

/// Runs the decoder one step at a time for `rows` = sources × replicas,
/// each replica attending over its source's encoder outputs.
final class DecoderStepper {
  private let model: Seq2Seq
  private let rows: Int
  private let sourceSteps: Int
  private let sourceLengths: [Int]
  /// Encoder top outputs replicated per row, `[S][rows][H]`.
  private let encoderOutputs: FlatBuffer<Float>
  /// Decoder states `[L][rows][H]`, and room to reorder them.
  private let h: FlatBuffer<Float>
  private let c: FlatBuffer<Float>
  private let reordered: FlatBuffer<Float>
  private let tape = Tape<Float>()
  private let head: Seq2SeqHead<Float>
  private let tokens: FlatBuffer<Int32>

  /// Encodes `batch` (validated) and prepares `replicas` decoder rows per source.
  init(_ model: Seq2Seq, _ batch: Seq2SeqBatch, replicas: Int) throws(SeqRNNError) {
    self.model = model
    let config = model.configuration
    let (b, s, hidden) = (batch.batchSize, batch.sourceSteps, config.hiddenSize)
    rows = b * replicas
    sourceSteps = s
    sourceLengths = batch.sourceLengths!.flatMap { Array(repeating: $0, count: replicas) }
    let stateCount = config.numLayers * rows * hidden
    encoderOutputs = try FlatBuffer(count: s * rows * hidden, zeroed: false)
    h = try FlatBuffer(count: stateCount, zeroed: false)
    c = try FlatBuffer(count: stateCount)
    reordered = try FlatBuffer(count: stateCount, zeroed: false)
    tokens = try FlatBuffer(count: rows, zeroed: false)
    head = Seq2SeqHead(config: config, layout: model.layout)

    let encoderTape = Tape<Float>()
    let pass = model.pass
    let (encoder, _) = pass.engines(UnsafePointer(model.parameters.pointer))
    var input = EngineInput(batchSize: b, seqLen: s)
    input.lengths = batch.sourceLengths!
    try batch.source.withUnsafeBufferPointer { (ids) throws(SeqRNNError) in
      input.tokens = ids.baseAddress
      try encoder.forward(input, tape: encoderTape)
    }
    let sum = try FlatBuffer<Float>(
      count: config.bidirectionalEncoder ? s * b * hidden : 0, zeroed: false)
    let top = Seq2SeqPass<Float>.encoderOutputs(
      encoderTape, config: config, batch: b, steps: s, sum: sum.pointer)
    for step in 0..<s {
      for i in 0..<b {
        for j in 0..<replicas {
          (encoderOutputs.pointer + (step * rows + i * replicas + j) * hidden).update(
            from: top + (step * b + i) * hidden, count: hidden)
        }
      }
    }
    let finalH = try FlatBuffer<Float>(count: config.numLayers * b * hidden)
    let finalC = try FlatBuffer<Float>(count: config.numLayers * b * hidden)
    Seq2SeqPass<Float>.copyFinalStates(
      encoderTape, config: config, batch: b, steps: s, h: finalH.pointer, c: finalC.pointer)
    for layer in 0..<config.numLayers {
      for i in 0..<b {
        for j in 0..<replicas {
          let to = (layer * rows + i * replicas + j) * hidden
          let from = (layer * b + i) * hidden
          (h.pointer + to).update(from: finalH.pointer + from, count: hidden)
          (c.pointer + to).update(from: finalC.pointer + from, count: hidden)
        }
      }
    }
  }

  /// Feeds `ids` (one per row), advances the states, and returns the logits
  /// `[rows][V]` (valid until the next call).
  func step(_ ids: [Int32]) throws(SeqRNNError) -> UnsafePointer<Float> {
    let config = model.configuration
    for r in 0..<rows { tokens.pointer[r] = ids[r] }
    let (_, decoder) = model.pass.engines(UnsafePointer(model.parameters.pointer))
    var input = EngineInput(batchSize: rows, seqLen: 1)
    input.lengths = Array(repeating: 1, count: rows)
    input.tokens = UnsafePointer(tokens.pointer)
    Seq2SeqPass<Float>.setInitialStates(
      &input, h: h.pointer, c: config.cell == .lstm ? c.pointer : nil)
    try decoder.forward(input, tape: tape)
    Seq2SeqPass<Float>.copyFinalStates(
      tape, config: config, batch: rows, steps: 1, h: h.pointer, c: c.pointer)
    try head.forward(
      UnsafePointer(model.parameters.pointer),
      decoderOutputs: tape.layerOutputs[config.numLayers - 1],
      encoderOutputs: UnsafePointer(encoderOutputs.pointer), sourceLengths: sourceLengths,
      batch: rows, sourceSteps: sourceSteps, steps: 1)
    return UnsafePointer(head.logits)
  }

  /// Row `r` continues from the state of row `parents[r]`.
  func reorder(_ parents: [Int]) {
    let config = model.configuration
    let hidden = config.hiddenSize
    for buffer in config.cell == .lstm ? [h, c] : [h] {
      for layer in 0..<config.numLayers {
        let base = layer * rows * hidden
        for r in 0..<rows {
          (reordered.pointer + base + r * hidden).update(
            from: buffer.pointer + base + parents[r] * hidden, count: hidden)
        }
      }
      buffer.pointer.update(from: reordered.pointer, count: config.numLayers * rows * hidden)
    }
  }
}
