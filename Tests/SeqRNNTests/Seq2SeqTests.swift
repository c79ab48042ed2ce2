// Encoder-decoder tests: finite-difference checks of every gradient (encoder, decoder,
// attention, output, both embeddings) through `Seq2SeqProbe` (the same pass in float64), for
// LSTM/GRU/tanh × {no attention, dot, general} × {1, 2 layers}, and with a bidirectional
// encoder for LSTM/GRU × {no attention, general} × {1, 2 layers}, on a batch padded in both the
// source and the target; the float32 model against the probe; scheduled-sampling schedules;
// greedy and beam decoding (width 1 is greedy, a wide beam is exhaustive search, scores are the
// sequences' log-probabilities); dropout (gradients through fixed masks, the float32 model's
// masks, evaluation without them); files and errors.
//
// Tolerance and step as GradientCheckTests (see there): h = 1e-6 in float64, accept
// |analytic - numeric| <= 1e-6 + 1e-5·|numeric|.

import Foundation
import Testing

@testable import SeqRNN

private let step = 1e-6

struct Seq2SeqCase: Sendable, CustomTestStringConvertible {
  var cell: CellType
  var attention: AttentionKind
  var layers: Int
  var bidirectional = false
  var testDescription: String {
    "\(cell.name) \(attention.name) L\(layers)\(bidirectional ? " bidirectional encoder" : "")"
  }

  var configuration: Seq2SeqConfiguration {
    var c = Seq2SeqConfiguration(
      cell: cell, sourceVocabSize: 6, targetVocabSize: 7, embeddingSize: 2, hiddenSize: 3,
      numLayers: layers, attention: attention, bosID: 1, eosID: 2,
      seed: UInt64(cell.rawValue * 10 + attention.rawValue + 100 * Int32(layers)))
    c.bidirectionalEncoder = bidirectional
    return c
  }

  static let all: [Seq2SeqCase] = [CellType.lstm, .gru, .rnnTanh].flatMap { cell in
    AttentionKind.allCases.flatMap { attention in
      [1, 2].map { Seq2SeqCase(cell: cell, attention: attention, layers: $0) }
    }
  }

  static let bidirectional: [Seq2SeqCase] = [CellType.lstm, .gru].flatMap { cell in
    [AttentionKind.none, .general].flatMap { attention in
      [1, 2].map {
        Seq2SeqCase(cell: cell, attention: attention, layers: $0, bidirectional: true)
      }
    }
  }
}

/// Sources of lengths 3, 5, 1 (padding holds out-of-range ids, which must be ignored) and
/// targets of lengths 2, 0, 4.
private let paddedBatch = Seq2SeqBatch(
  batchSize: 3, sourceSteps: 5,
  source: [3, 0, 5, -1, 99, 1, 2, 3, 4, 5, 4, 77, 77, 77, 77], sourceLengths: [3, 5, 1],
  targetSteps: 4, target: [3, 4, -5, 99, 9, 9, 9, 9, 0, 6, 5, 3], targetLengths: [2, 0, 4])

private func doubleParameters(_ model: Seq2Seq) throws -> [String: [Double]] {
  var out: [String: [Double]] = [:]
  for info in model.tensorInfos {
    out[info.name] = try model.tensor(named: info.name).map(Double.init)
  }
  return out
}

private func checkGradients(
  _ configuration: Seq2SeqConfiguration, _ batch: Seq2SeqBatch, decoderInputs: [Int32]? = nil
) throws {
  let model = try Seq2Seq(configuration)
  var parameters = try doubleParameters(model)
  let analytic = try Seq2SeqProbe.evaluate(
    configuration: configuration, parameters: parameters, batch: batch,
    decoderInputs: decoderInputs)
  for info in model.tensorInfos {
    var worst = 0.0
    for i in 0..<info.count {
      let saved = parameters[info.name]![i]
      parameters[info.name]![i] = saved + step
      let plus = try Seq2SeqProbe.evaluate(
        configuration: configuration, parameters: parameters, batch: batch,
        decoderInputs: decoderInputs
      ).loss
      parameters[info.name]![i] = saved - step
      let minus = try Seq2SeqProbe.evaluate(
        configuration: configuration, parameters: parameters, batch: batch,
        decoderInputs: decoderInputs
      ).loss
      parameters[info.name]![i] = saved
      let numeric = (plus - minus) / (2 * step)
      let error = abs(analytic.gradients[info.name]![i] - numeric)
      #expect(
        error <= 1e-6 + 1e-5 * abs(numeric),
        "\(info.name)[\(i)]: analytic \(analytic.gradients[info.name]![i]), numeric \(numeric)")
      worst = max(worst, abs(numeric))
    }
    // Every tensor takes part in the loss (a zero gradient would hide a missing path).
    #expect(worst > 1e-7, "\(info.name): all gradients ~0")
  }
}

@Test(
  "seq2seq gradients match finite differences",
  arguments: Seq2SeqCase.all + Seq2SeqCase.bidirectional)
func seq2seqGradients(_ c: Seq2SeqCase) throws {
  try checkGradients(c.configuration, paddedBatch)
}

@Test("seq2seq gradients with scheduled-sampling decoder inputs")
func seq2seqGradientsMixedInputs() throws {
  let c = Seq2SeqCase(cell: .lstm, attention: .general, layers: 1).configuration
  // [B][longest target + 1 = 5]: step 0 stays BOS; later inputs replaced by other ids.
  let inputs: [Int32] = [1, 5, 6, 0, 0, 1, 0, 0, 0, 0, 1, 4, 4, 3, 6]
  try checkGradients(c, paddedBatch, decoderInputs: inputs)
}

/// The float32 model's loss and gradients (of its latest `computeGradients`) equal the float64
/// probe's to float32 rounding.
private func expectMatchesProbe(
  _ model: Seq2Seq, loss: Float, _ probe: (loss: Double, gradients: [String: [Double]])
) throws {
  #expect(abs(Double(loss) - probe.loss) <= 1e-5 * abs(probe.loss))
  for info in model.tensorInfos {
    let g = try model.gradient(named: info.name)
    for i in 0..<info.count {
      let expected = probe.gradients[info.name]![i]
      #expect(abs(Double(g[i]) - expected) <= 1e-5 + 1e-3 * abs(expected), "\(info.name)[\(i)]")
    }
  }
}

@Test(
  "the float32 model agrees with the float64 probe",
  arguments: Seq2SeqCase.all + Seq2SeqCase.bidirectional)
func seq2seqFloatMatchesDouble(_ c: Seq2SeqCase) throws {
  let model = try Seq2Seq(c.configuration)
  let probe = try Seq2SeqProbe.evaluate(
    configuration: c.configuration, parameters: try doubleParameters(model), batch: paddedBatch)
  let loss = try model.computeGradients(paddedBatch)
  try expectMatchesProbe(model, loss: loss, probe)
}

/// Two layers, so both dropouts act: between the layers and on the recurrent state.
private func droppingConfiguration(_ cell: CellType) -> Seq2SeqConfiguration {
  var c = Seq2SeqCase(cell: cell, attention: .general, layers: 2).configuration
  c.dropout = 0.4
  c.recurrentDropout = 0.3
  return c
}

@Test(
  "seq2seq gradients through dropout masks match finite differences",
  arguments: [CellType.lstm, .gru])
func seq2seqGradientsWithDropout(_ cell: CellType) throws {
  try checkGradients(droppingConfiguration(cell), paddedBatch)
}

@Test("a training step drops with its own masks; evaluation does not drop")
func seq2seqDropoutActsInTrainingOnly() throws {
  let config = droppingConfiguration(.lstm)
  var options = TrainingOptions()
  options.seed = 41
  let model = try Seq2Seq(config, options: options)
  var plain = config
  plain.dropout = 0
  plain.recurrentDropout = 0
  let twin = try Seq2Seq(plain, options: options)
  let parameters = try doubleParameters(model)
  #expect(try parameters == doubleParameters(twin))

  // The float32 step uses the masks the probe draws from options.seed + 1: loss and
  // gradients agree with the float64 pass through those masks, and differ from no dropout.
  let loss = try model.computeGradients(paddedBatch)
  let probe = try Seq2SeqProbe.evaluate(
    configuration: config, parameters: parameters, batch: paddedBatch, maskSeed: 42)
  try expectMatchesProbe(model, loss: loss, probe)
  let undropped = try twin.computeGradients(paddedBatch)
  #expect(abs(loss - undropped) > 1e-4, "dropout changed nothing: \(loss) vs \(undropped)")
  // The next step draws new masks.
  #expect(try model.computeGradients(paddedBatch) != loss)

  // Evaluation, logits and decoding see every unit.
  #expect(try model.evaluate(paddedBatch) == twin.evaluate(paddedBatch))
  #expect(try model.logits(paddedBatch).logits == twin.logits(paddedBatch).logits)
  #expect(
    try model.decodeGreedy(paddedBatch, maxLength: 4)
      == twin.decodeGreedy(paddedBatch, maxLength: 4))
}

@Test("scheduled-sampling schedules give Bengio et al.'s values")
func samplingSchedules() throws {
  #expect(ScheduledSampling().teacherForcingRatio(step: 10_000) == 1)
  let constant = ScheduledSampling(kind: .constant, start: 0.75)
  #expect(constant.teacherForcingRatio(step: 0) == 0.75)
  #expect(constant.teacherForcingRatio(step: 999) == 0.75)
  let linear = ScheduledSampling(kind: .linear, start: 1, end: 0.25, decay: 0.001)
  #expect(abs(linear.teacherForcingRatio(step: 0) - 1) < 1e-15)
  #expect(abs(linear.teacherForcingRatio(step: 500) - 0.5) < 1e-12)
  #expect(linear.teacherForcingRatio(step: 10_000) == 0.25)
  let exponential = ScheduledSampling(kind: .exponential, start: 1, end: 0.1, decay: 0.99)
  #expect(abs(exponential.teacherForcingRatio(step: 100) - pow(0.99, 100)) < 1e-12)
  #expect(exponential.teacherForcingRatio(step: 100_000) == 0.1)
  let sigmoid = ScheduledSampling(kind: .inverseSigmoid, start: 1, end: 0, decay: 100)
  for i in [0, 50, 460, 1000, 5000] {
    let expected = 100 / (100 + exp(Double(i) / 100))
    #expect(abs(sigmoid.teacherForcingRatio(step: i) - expected) < 1e-12)
  }
  #expect(sigmoid.teacherForcingRatio(step: 1 << 40) == 0)
  #expect(throws: SeqRNNError.self) {
    try ScheduledSampling(kind: .exponential, decay: 1.5).validate()
  }
  #expect(throws: SeqRNNError.self) {
    try ScheduledSampling(kind: .inverseSigmoid, decay: 0.5).validate()
  }
  #expect(throws: SeqRNNError.self) {
    try ScheduledSampling(kind: .linear, start: 0.5, end: 0.6, decay: 0.1).validate()
  }
}

/// Log-probability of `tokens` + EOS (or no EOS when `ended` is false) under teacher forcing.
private func sequenceLogProbability(
  _ model: Seq2Seq, source: [Int32], tokens: [Int32], ended: Bool
) throws -> Double {
  let batch = Seq2SeqBatch(
    batchSize: 1, sourceSteps: source.count, source: source, targetSteps: tokens.count,
    target: tokens)
  let (logits, _) = try model.logits(batch)
  let v = model.configuration.targetVocabSize
  var total = 0.0
  let targets = tokens + (ended ? [Int32(model.configuration.eosID)] : [])
  for (t, target) in targets.enumerated() {
    let row = logits[(t * v)..<((t + 1) * v)].map(Double.init)
    let peak = row.max()!
    let logSum = log(row.map { exp($0 - peak) }.reduce(0, +)) + peak
    total += row[Int(target)] - logSum
  }
  return total
}

@Test("beam width 1 is greedy; scores are the sequences' log-probabilities")
func beamWidthOneIsGreedy() throws {
  for attention in AttentionKind.allCases {
    var config = Seq2SeqConfiguration(
      cell: .gru, sourceVocabSize: 5, targetVocabSize: 6, hiddenSize: 8, attention: attention,
      bosID: 0, eosID: 1, seed: 7)
    config.embeddingSize = 4
    let model = try Seq2Seq(config)
    let batch = Seq2SeqBatch(
      batchSize: 4, sourceSteps: 3, source: [0, 1, 2, 3, 4, 0, 2, 2, 2, 4, 3, 1],
      sourceLengths: [3, 2, 1, 3])
    let greedy = try model.decodeGreedy(batch, maxLength: 6)
    let beam = try model.decodeBeam(batch, maxLength: 6, beamWidth: 1)
    #expect(greedy == beam)
    for i in 0..<4 {
      let source = Array(batch.source[(i * 3)..<(i * 3 + batch.sourceLengths![i])])
      let ended = greedy.tokens[i].count < 6
      let expected = try sequenceLogProbability(
        model, source: source, tokens: greedy.tokens[i], ended: ended)
      #expect(abs(greedy.scores[i] - expected) < 1e-4)
    }
  }
}

@Test("a beam wider than every hypothesis set is exhaustive search, and beats greedy somewhere")
func beamIsExhaustive() throws {
  // Target vocabulary: BOS 0, EOS 1, and tokens 2, 3; sequences of at most 3 tokens (any
  // non-EOS id, BOS included). Width 64 keeps every hypothesis: at most 27 live, 36 candidates.
  let config = Seq2SeqConfiguration(
    cell: .lstm, sourceVocabSize: 4, targetVocabSize: 4, hiddenSize: 6, attention: .dot,
    bosID: 0, eosID: 1, seed: 3)
  let model = try Seq2Seq(config)
  // Sharpen the output layer so the distributions are far from uniform.
  let w = try model.tensor(named: "output.weight").map { $0 * 6 }
  try model.setTensor(named: "output.weight", w)
  let maxLength = 3
  var beamBeatsGreedy = false
  for sourceID in 0..<4 {
    for second in 0..<4 {
      let source: [Int32] = [Int32(sourceID), Int32(second)]
      let batch = Seq2SeqBatch(batchSize: 1, sourceSteps: 2, source: source)
      // Every sequence over {0, 2, 3} of length 0...3 with EOS, and of length 3 without.
      var bestScore = -Double.infinity
      var candidates: [[Int32]] = [[]]
      var frontier: [[Int32]] = [[]]
      for _ in 0..<maxLength {
        frontier = frontier.flatMap { [$0 + [0], $0 + [2], $0 + [3]] }
        candidates += frontier
      }
      for tokens in candidates {
        bestScore = max(
          bestScore, try sequenceLogProbability(model, source: source, tokens: tokens, ended: true))
        if tokens.count == maxLength {
          bestScore = max(
            bestScore,
            try sequenceLogProbability(model, source: source, tokens: tokens, ended: false))
        }
      }
      let beam = try model.decodeBeam(batch, maxLength: maxLength, beamWidth: 64)
      #expect(abs(beam.scores[0] - bestScore) < 1e-4, "source \(source)")
      let greedy = try model.decodeGreedy(batch, maxLength: maxLength)
      #expect(beam.scores[0] >= greedy.scores[0] - 1e-6)
      if beam.scores[0] > greedy.scores[0] + 1e-3 { beamBeatsGreedy = true }
    }
  }
  #expect(beamBeatsGreedy, "no source where beam search finds a better sequence than greedy")
}

@Test("training learns to reverse short sequences (attention and scheduled sampling)")
func seq2seqLearnsReversal() throws {
  var options = TrainingOptions(learningRate: 0.01)
  options.seed = 1
  let config = Seq2SeqConfiguration(
    cell: .lstm, sourceVocabSize: 6, targetVocabSize: 8, hiddenSize: 32, attention: .general,
    bosID: 0, eosID: 1, seed: 1)
  let model = try Seq2Seq(
    config, options: options,
    sampling: ScheduledSampling(kind: .linear, start: 1, end: 0.5, decay: 0.001))
  var rng = SeededGenerator(seed: 5)
  func makeBatch(_ size: Int) -> (Seq2SeqBatch, [[Int32]]) {
    var source: [Int32] = []
    var target: [Int32] = []
    var lengths: [Int] = []
    var expected: [[Int32]] = []
    for _ in 0..<size {
      let n = 1 + Int(rng.next() % 4)
      let ids = (0..<n).map { _ in Int32(rng.next() % 6) }
      source += ids + [Int32](repeating: 0, count: 4 - n)
      let reversed = ids.reversed().map { $0 + 2 }
      target += reversed + [Int32](repeating: 0, count: 4 - n)
      lengths.append(n)
      expected.append(reversed)
    }
    return (
      Seq2SeqBatch(
        batchSize: size, sourceSteps: 4, source: source, sourceLengths: lengths, targetSteps: 4,
        target: target, targetLengths: lengths), expected
    )
  }
  for _ in 0..<600 { try model.trainStep(makeBatch(32).0) }
  #expect(model.stepCount == 600)
  #expect(model.teacherForcingRatio == 0.5)
  let (test, expected) = makeBatch(200)
  let decoded = try model.decodeGreedy(test, maxLength: 8)
  let correct = zip(decoded.tokens, expected).filter { $0 == $1 }.count
  #expect(correct >= 190, "exact match \(correct)/200")
}

@Test("seq2seq files round-trip and errors are precise")
func seq2seqFilesAndErrors() throws {
  var config = Seq2SeqCase(cell: .gru, attention: .general, layers: 2).configuration
  config.dropout = 0.25
  config.recurrentDropout = 0.125
  config.bidirectionalEncoder = true
  let model = try Seq2Seq(config)
  let path = NSTemporaryDirectory() + "/seqrnn-s2s-\(getpid()).safetensors"
  defer { unlink(path) }
  try model.save(to: path)
  let loaded = try Seq2Seq.load(from: path)
  #expect(loaded.configuration == config)
  for info in model.tensorInfos {
    #expect(try loaded.tensor(named: info.name) == model.tensor(named: info.name))
  }
  #expect(try loaded.evaluate(paddedBatch) == model.evaluate(paddedBatch))
  #expect(model.tensorInfos.map(\.name).contains("encoder.weight_hh_l1"))
  #expect(model.tensorInfos.map(\.name).contains("encoder.weight_hh_l1_reverse"))
  #expect(!model.tensorInfos.map(\.name).contains("decoder.weight_hh_l1_reverse"))
  #expect(
    model.tensorInfos.reduce(0) { $0 + $1.count } == config.parameterCount,
    "parameterCount counts the named tensors")
  #expect(model.tensorInfos.map(\.name).contains("attention.linear_in.weight"))

  var bad = paddedBatch
  bad.source[0] = 6
  #expect(
    throws: SeqRNNError.outOfRange(
      "source[0][0] = 6 is outside [0, source_vocab_size = 6)")
  ) { try model.evaluate(bad) }
  bad = paddedBatch
  bad.targetLengths = [2, 0, 5]
  #expect(throws: SeqRNNError.outOfRange("target_lengths[2] = 5 is outside [0, 4]")) {
    try model.evaluate(bad)
  }
  bad = paddedBatch
  bad.sourceLengths = [0, 1, 1]
  #expect(throws: SeqRNNError.self) { try model.evaluate(bad) }
  #expect(throws: SeqRNNError.self) { try model.tensor(named: "rnn.weight_ih_l0") }
  #expect(throws: SeqRNNError.self) {
    try model.decodeBeam(paddedBatch, maxLength: 3, beamWidth: 0)
  }
  #expect(throws: SeqRNNError.self) { try model.decodeGreedy(paddedBatch, maxLength: 0) }
  var wrong = config
  wrong.eosID = wrong.bosID
  #expect(throws: SeqRNNError.self) { try Seq2Seq(wrong) }
  for rate in [Float(1), -0.1, .nan] {
    wrong = config
    wrong.dropout = rate
    #expect(throws: SeqRNNError.self) { try Seq2Seq(wrong) }
    wrong = config
    wrong.recurrentDropout = rate
    #expect(throws: SeqRNNError.self) { try Seq2Seq(wrong) }
  }
}

/// Batch `i` of a small stream of random pairs (ids within the vocabularies, padded).
private func streamBatch(_ i: Int) -> Seq2SeqBatch {
  var rng = SeededGenerator(seed: UInt64(100 + i))
  let (b, s, t) = (4, 5, 4)
  let sourceLengths = (0..<b).map { _ in 1 + Int(rng.next() % UInt64(s)) }
  let targetLengths = (0..<b).map { _ in Int(rng.next() % UInt64(t + 1)) }
  return Seq2SeqBatch(
    batchSize: b, sourceSteps: s, source: (0..<(b * s)).map { _ in Int32(rng.next() % 6) },
    sourceLengths: sourceLengths, targetSteps: t,
    target: (0..<(b * t)).map { _ in Int32(rng.next() % 7) }, targetLengths: targetLengths)
}

@Test("a seq2seq checkpoint resumes training bit for bit; other files are refused")
func seq2seqCheckpointResumes() throws {
  var config = droppingConfiguration(.lstm)
  config.bidirectionalEncoder = true
  var options = TrainingOptions(learningRate: 0.01, clipNorm: 1)
  options.schedule = .cosine
  options.totalSteps = 10
  options.seed = 5
  // Sampling from the model draws from the scheduled-sampling stream at every step.
  let sampling = ScheduledSampling(
    kind: .linear, start: 0.9, end: 0.2, decay: 0.1, sampleFromModel: true)
  let model = try Seq2Seq(config, options: options, sampling: sampling)
  for i in 0..<3 { try model.trainStep(streamBatch(i)) }
  let path = NSTemporaryDirectory() + "/seqrnn-s2s-ckpt-\(getpid()).safetensors"
  defer { unlink(path) }
  try model.saveCheckpoint(to: path, dataPosition: 3)
  var losses: [Float] = []
  for i in 3..<6 { losses.append(try model.trainStep(streamBatch(i))) }

  let (resumed, position) = try Seq2Seq.loadCheckpoint(from: path)
  #expect(position == 3)
  #expect(resumed.configuration == config && resumed.options == options)
  #expect(resumed.sampling == sampling && resumed.stepCount == 3)
  var again: [Float] = []
  for i in 3..<6 { again.append(try resumed.trainStep(streamBatch(i))) }
  #expect(again == losses)
  for info in model.tensorInfos {
    #expect(try resumed.tensor(named: info.name) == model.tensor(named: info.name), "\(info.name)")
  }
  // A model loaded from a plain model file starts a fresh trainer: it does not continue alike.
  let modelPath = path + ".model"
  defer { unlink(modelPath) }
  try Seq2Seq(config, options: options, sampling: sampling).save(to: modelPath)
  #expect(throws: SeqRNNError.self) { try Seq2Seq.loadCheckpoint(from: modelPath) }
  #expect(throws: SeqRNNError.self) { try Seq2Seq.load(from: path) }
  // A damaged checkpoint is refused.
  let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
  try bytes.prefix(bytes.count - 9).write(to: URL(fileURLWithPath: modelPath))
  #expect(throws: SeqRNNError.self) { try Seq2Seq.loadCheckpoint(from: modelPath) }
}
