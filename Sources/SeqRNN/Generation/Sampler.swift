#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How the next token is drawn from a row of logits.
///
/// In order: the logits are divided by `temperature`; top-k keeps the `topK`
/// largest; top-p (nucleus sampling, Holtzman et al. 2020, as Hugging Face's
/// `TopPLogitsWarper`) keeps, in descending order, every token while the
/// probability mass before it (renormalised over what top-k kept) is below
/// `topP`, so at least one token stays; the token is drawn from the
/// renormalised softmax of what is left. Ties between equal logits go to the
/// lower token id everywhere (order, top-k, greedy), so results are
/// deterministic.
public struct SamplingOptions: Sendable, Equatable {
  /// Divides the logits; finite and >= 0; 0 means greedy.
  public var temperature: Float
  /// Keep the `topK` most likely tokens; 0 (or >= the vocabulary) is off.
  public var topK: Int
  /// Nucleus mass in (0, 1]; 1 is off.
  public var topP: Float
  /// Always the most likely token (lowest id on ties).
  public var greedy: Bool
  /// Seed of `Model.generate`: sequence `b` uses `seed &+ b`.
  public var seed: UInt64

  /// Plain sampling from `softmax(logits)` unless told otherwise.
  public init(
    temperature: Float = 1, topK: Int = 0, topP: Float = 1, greedy: Bool = false,
    seed: UInt64 = 0
  ) {
    self.temperature = temperature
    self.topK = topK
    self.topP = topP
    self.greedy = greedy
    self.seed = seed
  }

  /// Greedy either by the flag or by a temperature of 0.
  public var isGreedy: Bool { greedy || temperature == 0 }

  /// Throws `.invalidArgument` naming the first bad field.
  public func validate() throws(SeqRNNError) {
    guard temperature.isFinite, temperature >= 0 else {
      throw .invalidArgument("temperature must be finite and >= 0 (0 = greedy), got \(temperature)")
    }
    guard topK >= 0 else {
      throw .invalidArgument("top_k must be >= 0 (0 = off), got \(topK)")
    }
    guard topP > 0, topP <= 1 else {
      throw .invalidArgument("top_p must be in (0, 1] (1 = off), got \(topP)")
    }
  }
}

/// Draws tokens from rows of logits with `SamplingOptions`, from its own
/// seeded generator (xoshiro256**), reusing its scratch buffers between
/// draws. One thread at a time.
public struct TokenSampler: Sendable {
  private var generator: SeededGenerator
  private var order: [Int32] = []
  private var weights: [Double] = []

  /// A sampler whose draws depend only on `seed`.
  public init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

  /// The generator's state (4 words): a sampler given the same state
  /// continues with the same draws (see `init(state:)`).
  public var state: [UInt64] {
    get { generator.state }
  }

  /// A sampler continuing from a saved `state`; throws `.shapeMismatch`
  /// unless it has 4 words.
  public init(state: [UInt64]) throws(SeqRNNError) {
    guard state.count == 4 else {
      throw .shapeMismatch("a sampler state has 4 words, got \(state.count)")
    }
    generator = SeededGenerator(seed: 0)
    generator.state = state
  }

  /// Draws one token id from `logits` (all finite). Greedy draws use no
  /// randomness; every other draw consumes exactly one 64-bit number.
  public mutating func sample(
    _ logits: UnsafeBufferPointer<Float>, _ options: SamplingOptions
  ) throws(SeqRNNError) -> Int32 {
    let n = logits.count
    guard n > 0 else { throw .invalidArgument("the logits row is empty") }
    for i in 0..<n where !logits[i].isFinite {
      throw .nonFinite("logit \(i) is \(logits[i])")
    }
    var best = 0
    for i in 1..<n where logits[i] > logits[best] { best = i }
    if options.isGreedy { return Int32(best) }
    let k = options.topK > 0 && options.topK < n ? options.topK : n
    let nucleus = options.topP < 1
    let inverse = 1 / Double(options.temperature)
    let top = Double(logits[best]) * inverse
    let u = generator.unit()
    if k == n && !nucleus {
      // No filtering: the inverse CDF in id order needs no sort.
      var total = 0.0
      if weights.count < n { weights = [Double](repeating: 0, count: n) }
      for i in 0..<n {
        let w = exp(Double(logits[i]) * inverse - top)
        weights[i] = w
        total += w
      }
      var target = u * total
      for i in 0..<n {
        target -= weights[i]
        if target < 0 { return Int32(i) }
      }
      // Reached only when rounding leaves `target` at the very end.
      var last = n - 1
      while last > 0 && weights[last] == 0 { last -= 1 }
      return Int32(last)
    }
    // Descending logits, ties to the lower id: a total order, so the result
    // does not depend on the sort algorithm.
    if order.count != n { order = [Int32](repeating: 0, count: n) }
    for i in 0..<n { order[i] = Int32(i) }
    order.sort { a, b in
      let la = logits[Int(a)]
      let lb = logits[Int(b)]
      return la > lb || (la == lb && a < b)
    }
    if weights.count < k { weights = [Double](repeating: 0, count: max(k, n)) }
    var total = 0.0
    for j in 0..<k {
      let w = exp(Double(logits[Int(order[j])]) * inverse - top)
      weights[j] = w
      total += w
    }
    var kept = k
    if nucleus {
      let limit = Double(options.topP) * total
      var before = 0.0
      kept = 0
      while kept < k && (kept == 0 || before < limit) {
        before += weights[kept]
        kept += 1
      }
      total = before
    }
    var target = u * total
    for j in 0..<kept {
      target -= weights[j]
      if target < 0 { return order[j] }
    }
    return order[kept - 1]
  }

  /// Array form of `sample(_:_:)`.
  public mutating func sample(_ logits: [Float], _ options: SamplingOptions)
    throws(SeqRNNError) -> Int32
  {
    try logits.withUnsafeBufferPointer { (row) throws(SeqRNNError) in
      try sample(row, options)
    }
  }
}
