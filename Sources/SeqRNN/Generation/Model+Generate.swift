#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension Model {
  /// Throws unless this is a token language model: unidirectional,
  /// cross-entropy, token inputs, `outputSize == vocabSize` (so an output
  /// can be fed back as the next input).
  package func checkLanguageModel() throws(SeqRNNError) {
    let c = configuration
    guard c.usesTokens else {
      throw .invalidArgument(
        "generation needs a token model (vocab_size > 0); this one takes features")
    }
    guard c.loss == .crossEntropy else {
      throw .invalidArgument(
        "generation needs a cross-entropy model (outputs are logits over tokens)")
    }
    guard c.outputSize == c.vocabSize else {
      throw .invalidArgument(
        "generation needs output_size (\(c.outputSize)) == vocab_size (\(c.vocabSize)), "
          + "so that each output can be fed back as the next token")
    }
    guard !c.bidirectional else {
      throw .unsupported("a bidirectional model cannot generate step by step")
    }
  }

  /// Continues `batchSize` primes by `count` sampled tokens each (pointer
  /// form, used by the C API): `primes` is `[batchSize][maxPrimeLength]`,
  /// `lengths[b]` in `1...maxPrimeLength`, `out` receives
  /// `[batchSize][count]`. One forward pass over the primes, then one
  /// streaming step of the whole batch per token; sequence `b` samples with
  /// `TokenSampler(seed: options.seed &+ b)`.
  package func generate(
    primes: UnsafePointer<Int32>, lengths: UnsafePointer<Int64>, batchSize: Int,
    maxPrimeLength: Int, count: Int, options: SamplingOptions, out: UnsafeMutablePointer<Int32>
  ) throws(SeqRNNError) {
    try checkLanguageModel()
    try options.validate()
    guard count >= 0 else { throw .invalidArgument("n must be >= 0, got \(count)") }
    var input = EngineInput(batchSize: batchSize, seqLen: maxPrimeLength)
    try input.setSizes(lengths: lengths)
    input.tokens = primes
    try input.validate(configuration, needTargets: false)
    if count == 0 { return }
    let v = configuration.vocabSize
    let sequence = configuration.outputMode == .sequence
    let logits = try FlatBuffer<Float>(
      count: configuration.outputCount(batchSize: batchSize, seqLen: maxPrimeLength))
    let states = configuration.stateCount(batchSize: batchSize)
    let h = try FlatBuffer<Float>(count: states)
    let c = try FlatBuffer<Float>(count: configuration.cell == .lstm ? states : 0)
    try forward(
      input, outputs: logits.pointer, finalH: h.pointer,
      finalC: configuration.cell == .lstm ? c.pointer : nil)
    var samplers = (0..<batchSize).map { TokenSampler(seed: options.seed &+ UInt64($0)) }
    var next = [Int32](repeating: 0, count: batchSize)
    for b in 0..<batchSize {
      let row = sequence ? (b * maxPrimeLength + input.lengths[b] - 1) * v : b * v
      next[b] = try samplers[b].sample(
        UnsafeBufferPointer(start: logits.pointer + row, count: v), options)
      out[b * count] = next[b]
    }
    if count == 1 { return }
    let stream = try StreamingState(model: self, batchSize: batchSize)
    try stream.setState(
      h: h.pointer, c: configuration.cell == .lstm ? UnsafePointer(c.pointer) : nil, count: states)
    let outputs = try FlatBuffer<Float>(count: batchSize * v)
    for t in 1..<count {
      try next.withUnsafeBufferPointer { (tokens) throws(SeqRNNError) in
        try stream.step(features: nil, tokens: tokens.baseAddress, outputs: outputs.pointer)
      }
      for b in 0..<batchSize {
        next[b] = try samplers[b].sample(
          UnsafeBufferPointer(start: outputs.pointer + b * v, count: v), options)
        out[b * count + t] = next[b]
      }
    }
  }

  /// Continues each prime (a non-empty list of token ids) by `count`
  /// sampled tokens; returns one list of `count` ids per prime. See
  /// `SamplingOptions` for how a token is drawn and seeded.
  public func generate(
    primes: [[Int32]], count: Int, options: SamplingOptions = SamplingOptions()
  ) throws(SeqRNNError) -> [[Int32]] {
    guard !primes.isEmpty else { throw .invalidArgument("primes is empty") }
    for (b, prime) in primes.enumerated() where prime.isEmpty {
      throw .outOfRange("primes[\(b)] is empty; every prime needs at least one token")
    }
    guard count >= 0 else { throw .invalidArgument("count must be >= 0, got \(count)") }
    let width = primes.map(\.count).max()!
    var flat = [Int32](repeating: 0, count: primes.count * width)
    for (b, prime) in primes.enumerated() {
      for (s, id) in prime.enumerated() { flat[b * width + s] = id }
    }
    let lengths = primes.map { Int64($0.count) }
    var result = [Int32](repeating: 0, count: primes.count * count)
    try flat.withUnsafeBufferPointer { (p) throws(SeqRNNError) in
      try lengths.withUnsafeBufferPointer { (l) throws(SeqRNNError) in
        try result.withUnsafeMutableBufferPointer { (o) throws(SeqRNNError) in
          guard let out = o.baseAddress else {
            // count == 0: nothing to write, but the inputs are still checked.
            var none: Int32 = 0
            try generate(
              primes: p.baseAddress!, lengths: l.baseAddress!, batchSize: primes.count,
              maxPrimeLength: width, count: 0, options: options, out: &none)
            return
          }
          try generate(
            primes: p.baseAddress!, lengths: l.baseAddress!, batchSize: primes.count,
            maxPrimeLength: width, count: count, options: options, out: out)
        }
      }
    }
    return (0..<primes.count).map { Array(result[($0 * count)..<(($0 + 1) * count)]) }
  }

  /// Throws `.unsupported` unless the model gives logits at every step.
  package func checkSurprisal() throws(SeqRNNError) {
    guard configuration.loss == .crossEntropy, configuration.outputMode == .sequence else {
      throw .unsupported(
        "surprisal needs a cross-entropy model with an output at every step (output mode sequence)")
    }
  }

  /// Per-step surprisal of a validated input with class targets (pointer
  /// form): `-log softmax(outputs)[target]` in nats, `[batch][seqLen]`,
  /// 0 past each length.
  package func surprisal(_ input: EngineInput, out: UnsafeMutablePointer<Float>)
    throws(SeqRNNError)
  {
    try checkSurprisal()
    let b = input.batchSize
    let t = input.seqLen
    let o = configuration.outputSize
    let logits = try FlatBuffer<Float>(count: b * t * o)
    try forward(input, outputs: logits.pointer, finalH: nil, finalC: nil)
    guard let targets = input.targetClasses else {
      throw .nullArgument("target_classes is NULL; surprisal scores target classes")
    }
    for i in 0..<b {
      for s in 0..<t {
        let position = i * t + s
        guard s < input.lengths[i] else {
          out[position] = 0
          continue
        }
        let row = logits.pointer + position * o
        var top = row[0]
        for k in 1..<o where row[k] > top { top = row[k] }
        var sum = 0.0
        for k in 0..<o { sum += exp(Double(row[k]) - Double(top)) }
        let value = Double(top) + log(sum) - Double(row[Int(targets[position])])
        guard value.isFinite else {
          throw .nonFinite("the surprisal at [\(i)][\(s)] is not finite (\(value))")
        }
        out[position] = Float(value)
      }
    }
  }

  /// Per-step surprisal (negative log-likelihood in nats) of
  /// `batch.targetClasses` under this cross-entropy sequence model,
  /// `[batch][seqLen]`, 0 past each length. For a language model the
  /// targets are the inputs shifted by one step.
  public func surprisal(_ batch: Batch) throws(SeqRNNError) -> [Float] {
    try checkSurprisal()
    return try batch.withEngineInput(configuration, needTargets: true) {
      (input) throws(SeqRNNError) in
      var out = [Float](repeating: 0, count: batch.batchSize * batch.seqLen)
      try out.withUnsafeMutableBufferPointer { (o) throws(SeqRNNError) in
        try surprisal(input, out: o.baseAddress!)
      }
      return out
    }
  }
}
