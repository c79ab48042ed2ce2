import CSeqRNN
import SeqRNN

/// The C sampling parameters of Swift options.
func cSampleParams(_ o: SamplingOptions) -> seqrnn_sample_params {
  seqrnn_sample_params(
    temperature: o.temperature, top_k: Int64(o.topK), top_p: o.topP, greedy: o.greedy ? 1 : 0,
    seed: o.seed)
}

/// Swift options of C parameters (NULL = defaults), validated.
func samplingOptions(_ p: UnsafePointer<seqrnn_sample_params>?) throws(SeqRNNError)
  -> SamplingOptions
{
  let c = p?.pointee ?? cSampleParams(SamplingOptions())
  guard c.greedy == 0 || c.greedy == 1 else {
    throw .invalidArgument("params->greedy must be 0 or 1, got \(c.greedy)")
  }
  guard c.top_k >= 0, c.top_k <= Int64(Int32.max) else {
    throw .invalidArgument("params->top_k must be >= 0 (0 = off), got \(c.top_k)")
  }
  let options = SamplingOptions(
    temperature: c.temperature, topK: Int(c.top_k), topP: c.top_p, greedy: c.greedy == 1,
    seed: c.seed)
  do {
    try options.validate()
  } catch {
    throw .invalidArgument("params->\(error.message)")
  }
  return options
}

/// `seqrnn_sample_default_params`.
@c @implementation
public func seqrnn_sample_default_params() -> seqrnn_sample_params {
  cSampleParams(SamplingOptions())
}

/// `seqrnn_rng_init`.
@c @implementation
public func seqrnn_rng_init(_ seed: UInt64) -> seqrnn_rng {
  let s = TokenSampler(seed: seed).state
  return seqrnn_rng(state: (s[0], s[1], s[2], s[3]))
}

/// `seqrnn_sample_logits`.
@c @implementation
public func seqrnn_sample_logits(
  _ logits: UnsafePointer<Float>?, _ rows: Int64, _ count: Int64,
  _ params: UnsafePointer<seqrnn_sample_params>?, _ rng: UnsafeMutablePointer<seqrnn_rng>?,
  _ outTokens: UnsafeMutablePointer<Int32>?
) -> seqrnn_status {
  guarded("seqrnn_sample_logits") { () throws(SeqRNNError) in
    let input = try required(logits, "logits")
    let generator = try required(rng, "rng")
    let out = try required(outTokens, "out_tokens")
    let r = try positiveSize(rows, "rows")
    let n = try positiveSize(count, "count")
    guard r <= EngineInput.maxPositions / n else {
      throw .invalidArgument("rows * count = \(rows) * \(count) is too large")
    }
    let options = try samplingOptions(params)
    let words = generator.pointee.state
    var sampler = try TokenSampler(state: [words.0, words.1, words.2, words.3])
    // Draw into a scratch array first: on failure nothing the caller owns
    // has changed.
    for i in 0..<(r * n) where !input[i].isFinite {
      throw .nonFinite("logits[\(i / n)][\(i % n)] is \(input[i])")
    }
    var drawn = [Int32](repeating: 0, count: r)
    for i in 0..<r {
      drawn[i] = try sampler.sample(UnsafeBufferPointer(start: input + i * n, count: n), options)
    }
    drawn.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: r) }
    let s = sampler.state
    generator.pointee.state = (s[0], s[1], s[2], s[3])
  }
}

/// `seqrnn_model_generate`.
@c @implementation
public func seqrnn_model_generate(
  _ model: OpaquePointer?, _ primes: UnsafePointer<Int32>?, _ primeLengths: UnsafePointer<Int64>?,
  _ batchSize: Int64, _ maxPrimeLen: Int64, _ n: Int64,
  _ params: UnsafePointer<seqrnn_sample_params>?, _ outTokens: UnsafeMutablePointer<Int32>?,
  _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_model_generate") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    try handle.model.checkLanguageModel()
    let tokens = try required(primes, "primes")
    let lengths = try required(primeLengths, "prime_lengths")
    let out = try required(outTokens, "out_tokens")
    let b = try positiveSize(batchSize, "batch_size")
    let t = try positiveSize(maxPrimeLen, "max_prime_len")
    guard n >= 0, n <= Int64(EngineInput.maxPositions) else {
      throw .invalidArgument("n must be in [0, \(EngineInput.maxPositions)], got \(n)")
    }
    let (needed, overflow) = b.multipliedReportingOverflow(by: Int(n))
    guard !overflow, needed <= EngineInput.maxPositions else {
      throw .invalidArgument("batch_size * n = \(batchSize) * \(n) is too large")
    }
    let options = try samplingOptions(params)
    try ensureCapacity(capacity, needed, "out_tokens")
    try handle.model.generate(
      primes: tokens, lengths: lengths, batchSize: b, maxPrimeLength: t, count: Int(n),
      options: options, out: out)
  }
}

/// `seqrnn_model_surprisal`.
@c @implementation
public func seqrnn_model_surprisal(
  _ model: OpaquePointer?, _ batch: UnsafePointer<seqrnn_batch>?,
  _ out: UnsafeMutablePointer<Float>?, _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_model_surprisal") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    try handle.model.checkSurprisal()
    // Loss weights play no part in per-step values: leave them unchecked.
    var unweighted = try required(batch, "batch").pointee
    unweighted.loss_weights = nil
    let input = try engineInput(&unweighted, handle.model.configuration, needTargets: true)
    let output = try required(out, "out")
    try ensureCapacity(capacity, input.batchSize * input.seqLen, "out")
    try handle.model.surprisal(input, out: output)
  }
}
