// Sampling and scoring in the Swift API: token frequencies against the exact
// temperature/top-k/top-p distribution (chi-square bound from the sample
// size), greedy and top-k 1 equal to the arg-max, seeds, batch rows equal to
// one-sequence calls, surprisal equal to the log-softmax of the forward
// outputs, and the errors.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import SeqRNN
import Testing

/// The distribution `TokenSampler` must draw from, written from the
/// documentation of `SamplingOptions` in double precision.
private func referenceDistribution(_ logits: [Float], _ o: SamplingOptions) -> [Double] {
  let n = logits.count
  let order = (0..<n).sorted { a, b in
    logits[a] > logits[b] || (logits[a] == logits[b] && a < b)
  }
  let k = o.topK > 0 && o.topK < n ? o.topK : n
  let w = (0..<k).map {
    exp((Double(logits[order[$0]]) - Double(logits[order[0]])) / Double(o.temperature))
  }
  let total = w.reduce(0, +)
  var kept = k
  if o.topP < 1 {
    var before = 0.0
    kept = 0
    while kept < k && (kept == 0 || before / total < Double(o.topP)) {
      before += w[kept]
      kept += 1
    }
  }
  let mass = w[0..<kept].reduce(0, +)
  var p = [Double](repeating: 0, count: n)
  for j in 0..<kept { p[order[j]] = w[j] / mass }
  return p
}

/// The chi-square value exceeded with probability 1e-6 (Wilson-Hilferty).
private func chiSquareCritical(_ df: Int) -> Double {
  let a = 2 / (9 * Double(df))
  let c = 1 - a + 4.753 * a.squareRoot()
  return Double(df) * c * c * c
}

private let tiedLogits: [Float] = [2, 1, 1, 0.5, -1, 3]

@Test(
  arguments: [
    SamplingOptions(),
    SamplingOptions(temperature: 0.6),
    SamplingOptions(topK: 3),
    SamplingOptions(topP: 0.75),
    SamplingOptions(temperature: 1.7, topK: 4, topP: 0.6),
  ])
func samplingFrequenciesMatchTheDistribution(_ options: SamplingOptions) throws {
  var sampler = TokenSampler(seed: 2024)
  let draws = 100_000
  var counts = [Double](repeating: 0, count: tiedLogits.count)
  for _ in 0..<draws { counts[Int(try sampler.sample(tiedLogits, options))] += 1 }
  let p = referenceDistribution(tiedLogits, options)
  var chi2 = 0.0
  var df = -1
  for i in 0..<p.count {
    if p[i] == 0 {
      #expect(counts[i] == 0, "token \(i) is outside the kept set")
      continue
    }
    df += 1
    let expected = Double(draws) * p[i]
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected
  }
  if df > 0 { #expect(chi2 < chiSquareCritical(df), "chi-square \(chi2), df \(df)") }
}

@Test func savedStatesContinueTheDraws() throws {
  var a = TokenSampler(seed: 9)
  _ = try a.sample(tiedLogits, SamplingOptions())
  var b = try TokenSampler(state: a.state)
  for _ in 0..<50 {
    #expect(try a.sample(tiedLogits, SamplingOptions()) == b.sample(tiedLogits, SamplingOptions()))
  }
}

@Test func greedyAndTopOneAreTheArgmax() throws {
  let logits: [Float] = [0, 4, 1, 4, -2]  // a tie: the lower id wins
  var sampler = TokenSampler(seed: 1)
  let saved = sampler.state
  #expect(try sampler.sample(logits, SamplingOptions(greedy: true)) == 1)
  #expect(try sampler.sample(logits, SamplingOptions(temperature: 0)) == 1)
  #expect(sampler.state == saved)  // greedy draws consume nothing
  for _ in 0..<20 { #expect(try sampler.sample(logits, SamplingOptions(topK: 1)) == 1) }
}

@Test func samplerErrors() throws {
  var sampler = TokenSampler(seed: 1)
  let bad: [(SamplingOptions, String)] = [
    (SamplingOptions(temperature: .nan), "temperature"),
    (SamplingOptions(temperature: -1), "temperature"),
    (SamplingOptions(temperature: .infinity), "temperature"),
    (SamplingOptions(topK: -2), "top_k"),
    (SamplingOptions(topP: 0), "top_p"),
    (SamplingOptions(topP: 1.01), "top_p"),
    (SamplingOptions(topP: .nan), "top_p"),
  ]
  for (options, name) in bad {
    #expect(throws: SeqRNNError.self) { try options.validate() }
    do {
      try options.validate()
    } catch {
      #expect(error.message.contains(name))
    }
  }
  #expect(throws: SeqRNNError.self) { _ = try sampler.sample([1, .nan], SamplingOptions()) }
  #expect(throws: SeqRNNError.self) { _ = try TokenSampler(state: [1, 2, 3]) }
  #expect(throws: SeqRNNError.self) { _ = try sampler.sample([], SamplingOptions()) }
}

private func languageModel(_ cell: CellType, seed: UInt64 = 3) throws -> Model {
  try Model(
    ModelConfiguration(
      cell: cell, vocabSize: 9, hiddenSize: 8, numLayers: 2, outputSize: 9, seed: seed))
}

@Test(arguments: [CellType.lstm, .gru, .rnnTanh])
func batchRowsEqualOneSequenceCalls(_ cell: CellType) throws {
  let model = try languageModel(cell)
  let primes: [[Int32]] = [[1, 2, 3, 4], [5], [8, 0]]
  let options = SamplingOptions(temperature: 0.9, topK: 5, topP: 0.9, seed: 41)
  let batch = try model.generate(primes: primes, count: 30, options: options)
  #expect(batch.count == 3 && batch.allSatisfy { $0.count == 30 })
  for (b, prime) in primes.enumerated() {
    var single = options
    single.seed = options.seed &+ UInt64(b)
    #expect(try model.generate(primes: [prime], count: 30, options: single)[0] == batch[b])
  }
  #expect(try model.generate(primes: primes, count: 30, options: options) == batch)
  var other = options
  other.seed = 42
  #expect(try model.generate(primes: primes, count: 30, options: other) != batch)
  #expect(try model.generate(primes: primes, count: 0) == [[], [], []])
}

@Test func greedyGenerationIsTheArgmaxChain() throws {
  let model = try languageModel(.lstm, seed: 8)
  var sequence: [Int32] = [3, 1, 4]
  let got = try model.generate(
    primes: [sequence], count: 12, options: SamplingOptions(greedy: true))[0]
  for _ in 0..<12 {
    let outputs = try model.forward(
      Batch(batchSize: 1, seqLen: sequence.count, tokens: sequence)
    ).outputs
    let row = Array(outputs.suffix(9))
    var best = 0
    for i in 1..<9 where row[i] > row[best] { best = i }
    sequence.append(Int32(best))
  }
  #expect(Array(sequence.suffix(12)) == got)
}

@Test func generationErrors() throws {
  let model = try languageModel(.gru)
  #expect(throws: SeqRNNError.self) { _ = try model.generate(primes: [], count: 3) }
  #expect(throws: SeqRNNError.self) { _ = try model.generate(primes: [[1], []], count: 3) }
  #expect(throws: SeqRNNError.self) { _ = try model.generate(primes: [[9]], count: 3) }
  #expect(throws: SeqRNNError.self) { _ = try model.generate(primes: [[1]], count: -1) }
  #expect(throws: SeqRNNError.self) {
    _ = try model.generate(primes: [[1]], count: 2, options: SamplingOptions(topP: 2))
  }
  let wide = try Model(ModelConfiguration(cell: .gru, vocabSize: 9, hiddenSize: 4, outputSize: 3))
  #expect(throws: SeqRNNError.self) { _ = try wide.generate(primes: [[1]], count: 2) }
  let bidirectional = try Model(
    ModelConfiguration(cell: .gru, vocabSize: 9, hiddenSize: 4, bidirectional: true, outputSize: 9))
  #expect(throws: SeqRNNError.unsupported("a bidirectional model cannot generate step by step")) {
    _ = try bidirectional.generate(primes: [[1]], count: 2)
  }
}

@Test func surprisalIsTheLogSoftmaxOfTheOutputs() throws {
  let model = try languageModel(.lstm, seed: 12)
  let (b, t, v) = (3, 5, 9)
  let tokens: [Int32] = (0..<(b * t)).map { Int32(($0 * 7 + 3) % v) }
  let targets: [Int32] = (0..<(b * t)).map { Int32(($0 * 5 + 1) % v) }
  let batch = Batch(
    batchSize: b, seqLen: t, tokens: tokens, lengths: [5, 2, 1], targetClasses: targets)
  let logits = try model.forward(batch).outputs
  let got = try model.surprisal(batch)
  var sum = 0.0
  var count = 0
  for i in 0..<b {
    for s in 0..<t {
      let position = i * t + s
      if s >= batch.lengths![i] {
        #expect(got[position] == 0)
        continue
      }
      let row = logits[(position * v)..<((position + 1) * v)].map(Double.init)
      let top = row.max()!
      let expected = top + log(row.map { exp($0 - top) }.reduce(0, +)) - row[Int(targets[position])]
      #expect(abs(Double(got[position]) - expected) <= 1e-5 * max(1, expected))
      sum += Double(got[position])
      count += 1
    }
  }
  let loss = try model.evaluate(batch).loss
  #expect(abs(sum / Double(count) - loss) <= 1e-5 * loss)
  var noTargets = batch
  noTargets.targetClasses = nil
  #expect(throws: SeqRNNError.self) { _ = try model.surprisal(noTargets) }
  let last = try Model(
    ModelConfiguration(cell: .gru, vocabSize: 9, hiddenSize: 4, outputSize: 9, outputMode: .last))
  #expect(throws: SeqRNNError.self) { _ = try last.surprisal(batch) }
}
