// Dropout, recurrent dropout, zoneout, loss weights, truncated BPTT and the
// initialisers: gradients against finite differences with fixed masks,
// mask statistics, inference-time identity, state carry against a full
// forward pass, and the initialisers' defining properties.

import Foundation
import Testing

@testable import SeqRNN

/// Which regulariser a gradient case switches on.
enum Regularisation: String, CaseIterable, Sendable {
  case layerDropout, headDropout, recurrentDropout, zoneout, zoneoutExpectation, lossWeights
}

/// A small problem: configuration, parameters, batch.
private func problem(
  cell: CellType, regularisation: Regularisation, bidirectional: Bool, mode: OutputMode,
  seed: UInt64
) -> (ModelConfiguration, [String: [Double]], GeneratedBatch) {
  var config = ModelConfiguration(
    cell: cell, inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: bidirectional,
    outputSize: 3, outputMode: mode, loss: .crossEntropy, seed: 1)
  switch regularisation {
  case .layerDropout: config.dropout = 0.4
  case .headDropout: config.headDropout = 0.4
  case .recurrentDropout: config.recurrentDropout = 0.4
  case .zoneout, .zoneoutExpectation: config.zoneout = 0.4
  case .lossWeights: break
  }
  var rng = SeededRNG(seed: seed)
  let parameters = randomParameters(config, scale: .uniform(0.5), rng: &rng)
  var generated = makeBatch(config, lengths: [3, 4, 1], seqLen: 4, initialState: false, rng: &rng)
  if regularisation == .lossWeights {
    let positions = mode == .sequence ? 12 : 3
    generated.batch.lossWeights = (0..<positions).map { Float(($0 * 7) % 5) * 0.5 }
    generated.batch.lossWeights![0] = 1.5
  }
  return (config, parameters, generated)
}

struct RegularisationCase: Sendable, CustomTestStringConvertible {
  var cell: CellType
  var regularisation: Regularisation
  var bidirectional: Bool
  var mode: OutputMode
  var testDescription: String {
    "\(cell.name) \(regularisation) \(bidirectional ? "bi" : "uni") \(mode.name)"
  }

  static var all: [RegularisationCase] {
    var cases: [RegularisationCase] = []
    for cell in CellType.allCases {
      for regularisation in Regularisation.allCases {
        for bidirectional in [false, true] {
          for mode in OutputMode.allCases {
            cases.append(
              .init(
                cell: cell, regularisation: regularisation, bidirectional: bidirectional, mode: mode
              ))
          }
        }
      }
    }
    return cases
  }
}

@Suite("Regularisation gradients against finite differences (float64, fixed masks)")
struct RegularisationGradientTests {
  @Test(arguments: RegularisationCase.all)
  func gradients(_ c: RegularisationCase) throws {
    let (config, parameters, generated) = problem(
      cell: c.cell, regularisation: c.regularisation, bidirectional: c.bidirectional, mode: c.mode,
      seed: 41)
    // Training masks from a fixed seed (the same on every call), except for
    // zoneout's expectation and loss weights, which are deterministic anyway.
    let seed: UInt64? = [.zoneoutExpectation, .lossWeights].contains(c.regularisation) ? nil : 7
    func loss(_ p: [String: [Double]], _ f: [Double]?) throws -> Double {
      try GradientProbe.evaluate(
        configuration: config, parameters: p, batch: generated.batch, features: f, maskSeed: seed
      ).loss
    }
    let probe = try GradientProbe.evaluate(
      configuration: config, parameters: parameters, batch: generated.batch,
      features: generated.features, maskSeed: seed)
    let step = 1e-6
    for (name, values) in parameters {
      var worst = 0.0
      for i in values.indices {
        var plus = parameters
        plus[name]![i] += step
        var minus = parameters
        minus[name]![i] -= step
        let numeric =
          (try loss(plus, generated.features) - loss(minus, generated.features)) / (2 * step)
        let analytic = probe.gradients[name]![i]
        // Same tolerance as the unregularised gradient checks: central
        // differences in float64 are accurate to ~1e-9 here.
        worst = max(worst, abs(analytic - numeric) - 1e-5 * abs(numeric))
      }
      #expect(worst <= 1e-6, "\(c.testDescription): d loss / d \(name) off by \(worst)")
    }
    if let features = generated.features, let analytic = probe.featureGradients {
      for i in features.indices {
        var plus = features
        plus[i] += step
        var minus = features
        minus[i] -= step
        let numeric = (try loss(parameters, plus) - loss(parameters, minus)) / (2 * step)
        #expect(
          abs(analytic[i] - numeric) <= 1e-6 + 1e-5 * abs(numeric),
          "\(c.testDescription): d loss / d features[\(i)]: \(analytic[i]) vs \(numeric)")
      }
    }
  }
}

@Suite struct DropoutBehaviourTests {
  @Test func masksHaveTheRequestedRateAndScale() throws {
    var config = ModelConfiguration(
      cell: .lstm, inputSize: 4, hiddenSize: 50, numLayers: 2, outputSize: 3)
    config.dropout = 0.3
    config.recurrentDropout = 0.2
    config.zoneout = 0.1
    let masks = Regularizer(seed: 5)
    try masks.prepare(config, batchSize: 40, seqLen: 30)
    let layerMask = Array(UnsafeBufferPointer(start: masks.layerMasks[0]!, count: 30 * 40 * 50))
    let dropped = Double(layerMask.filter { $0 == 0 }.count) / Double(layerMask.count)
    #expect(abs(dropped - 0.3) < 0.01, "dropped fraction \(dropped)")
    #expect(layerMask.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })
    #expect(masks.layerMasks[1] == nil, "the last layer's outputs are not dropped")
    let recurrent = Array(UnsafeBufferPointer(start: masks.recurrentMasks[1][0]!, count: 40 * 50))
    let recurrentDropped = Double(recurrent.filter { $0 == 0 }.count) / Double(recurrent.count)
    #expect(abs(recurrentDropped - 0.2) < 0.03)
    let zone = Array(UnsafeBufferPointer(start: masks.zoneoutCell[0][0]!, count: 30 * 40 * 50))
    let kept = Double(zone.reduce(0, +)) / Double(zone.count)
    #expect(abs(kept - 0.1) < 0.01)
  }

  @Test(arguments: CellType.allCases)
  func inferenceIgnoresDropout(cell: CellType) throws {
    var plain = ModelConfiguration(
      cell: cell, vocabSize: 9, hiddenSize: 8, numLayers: 2, outputSize: 4, seed: 3)
    var dropped = plain
    dropped.dropout = 0.5
    dropped.headDropout = 0.5
    dropped.recurrentDropout = 0.5
    plain.seed = 3
    let a = try Model(plain)
    let b = try Model(dropped)
    let batch = Batch(batchSize: 2, seqLen: 5, tokens: (0..<10).map { Int32($0 % 9) })
    #expect(try a.forward(batch).outputs == b.forward(batch).outputs)
  }

  @Test func trainingWithDropoutIsDeterministicPerSeed() throws {
    var config = ModelConfiguration(
      cell: .gru, vocabSize: 6, hiddenSize: 10, numLayers: 2, outputSize: 6, seed: 2)
    config.dropout = 0.3
    config.recurrentDropout = 0.3
    config.zoneout = 0.2
    config.headDropout = 0.1
    func train(seed: UInt64) throws -> [Float] {
      let model = try Model(config)
      var options = TrainingOptions(learningRate: 0.01)
      options.seed = seed
      let trainer = try Trainer(model: model, options: options)
      var rng = SeededRNG(seed: 8)
      for _ in 0..<5 {
        let tokens = (0..<24).map { _ in Int32(rng.index(6)) }
        try trainer.step(
          Batch(batchSize: 3, seqLen: 8, tokens: tokens, targetClasses: tokens.reversed()))
      }
      return try model.tensorInfos.flatMap { try model.tensor(named: $0.name) }
    }
    #expect(try train(seed: 1) == train(seed: 1))
    #expect(try train(seed: 1) != train(seed: 2))
  }
}

@Suite struct LossWeightTests {
  @Test func weightedLossIsTheWeightedMeanOfPositionLosses() throws {
    let model = try Model(
      ModelConfiguration(cell: .lstm, vocabSize: 5, hiddenSize: 6, outputSize: 5, seed: 4))
    let tokens: [Int32] = [1, 2, 3, 4, 0, 1]
    let targets: [Int32] = [2, 3, 4, 0, 1, 2]
    let weights: [Float] = [1, 0, 2, 0.5, 3, 1]
    let out = try model.forward(Batch(batchSize: 2, seqLen: 3, tokens: tokens)).outputs
    var total = 0.0
    var weightSum = 0.0
    for p in 0..<6 {
      let logits = out[(p * 5)..<(p * 5 + 5)].map(Double.init)
      let peak = logits.max()!
      let logSum = log(logits.map { exp($0 - peak) }.reduce(0, +)) + peak
      total += Double(weights[p]) * (logSum - logits[Int(targets[p])])
      weightSum += Double(weights[p])
    }
    let evaluation = try model.evaluate(
      Batch(batchSize: 2, seqLen: 3, tokens: tokens, targetClasses: targets, lossWeights: weights))
    #expect(abs(evaluation.loss - total / weightSum) < 1e-5)
    #expect(evaluation.count == 5, "the zero-weight position does not count")
  }

  @Test func invalidWeightsAreRejected() throws {
    let model = try Model(ModelConfiguration(vocabSize: 3, hiddenSize: 2, outputSize: 3))
    for weights: [Float] in [[-1, 1], [.nan, 1], [0, 0], [1]] {
      #expect(throws: SeqRNNError.self) {
        try model.evaluate(
          Batch(
            batchSize: 1, seqLen: 2, tokens: [0, 1], targetClasses: [1, 2], lossWeights: weights))
      }
    }
  }
}

@Suite struct TruncatedBPTTTests {
  /// Two stateful chunks of a long sequence carry the states exactly as one
  /// forward pass over the whole sequence does, and the second chunk's loss
  /// is the loss of the whole sequence's second half.
  @Test(arguments: CellType.allCases)
  func carriedStatesMatchTheFullSequence(cell: CellType) throws {
    let config = ModelConfiguration(
      cell: cell, vocabSize: 7, hiddenSize: 6, numLayers: 2, outputSize: 7, seed: 9)
    let model = try Model(config)
    var options = TrainingOptions(learningRate: 0.01)
    options.stateful = true
    let trainer = try Trainer(model: model, options: options)
    var rng = SeededRNG(seed: 3)
    let (b, k) = (2, 5)
    let tokens = (0..<(b * 2 * k)).map { _ in Int32(rng.index(7)) }
    let targets = (0..<(b * 2 * k)).map { _ in Int32(rng.index(7)) }
    func chunk(_ values: [Int32], _ c: Int) -> [Int32] {
      var result: [Int32] = []
      for i in 0..<b {
        let start = i * 2 * k + c * k
        result += values[start..<(start + k)]
      }
      return result
    }
    try trainer.computeGradients(
      Batch(batchSize: b, seqLen: k, tokens: chunk(tokens, 0), targetClasses: chunk(targets, 0)))
    let secondLoss = try trainer.computeGradients(
      Batch(batchSize: b, seqLen: k, tokens: chunk(tokens, 1), targetClasses: chunk(targets, 1)))
    let full = try model.forward(Batch(batchSize: b, seqLen: 2 * k, tokens: tokens))
    for (x, y) in zip(trainer.carry.hidden, full.finalH) { #expect(abs(x - y) < 1e-5) }
    if cell == .lstm {
      for (x, y) in zip(trainer.carry.cell, full.finalC!) { #expect(abs(x - y) < 1e-5) }
    }
    // Second-half loss of the full pass, with weights 0 on the first half.
    let weights = (0..<(b * 2 * k)).map { Float($0 % (2 * k) >= k ? 1 : 0) }
    let expected = try model.evaluate(
      Batch(
        batchSize: b, seqLen: 2 * k, tokens: tokens, targetClasses: targets, lossWeights: weights))
    #expect(abs(Double(secondLoss) - expected.loss) < 1e-5)
    #expect(trainer.finalStates?.hidden == trainer.carry.hidden)
    #expect(throws: SeqRNNError.self) { try trainer.resetStates([true]) }
    // A reset starts the marked sequence from zeros again.
    try trainer.resetStates([true, false])
    let h = config.hiddenSize
    #expect(trainer.carry.hidden[0..<h].allSatisfy { $0 == 0 })
    #expect(trainer.carry.hidden[h..<(2 * h)].contains { $0 != 0 })
  }
}

@Suite struct InitialisationSchemeTests {
  @Test func orthogonalRecurrentBlocksAreOrthogonal() throws {
    var config = ModelConfiguration(cell: .lstm, inputSize: 5, hiddenSize: 12, outputSize: 2)
    config.initialization = .orthogonal
    let model = try Model(config)
    let w = try model.tensor(named: "rnn.weight_hh_l0").map(Double.init)
    let h = 12
    for gate in 0..<4 {
      for i in 0..<h {
        for j in 0..<h {
          var dot = 0.0
          for k in 0..<h { dot += w[(gate * h + i) * h + k] * w[(gate * h + j) * h + k] }
          #expect(abs(dot - (i == j ? 1 : 0)) < 1e-5, "gate \(gate) rows \(i),\(j): \(dot)")
        }
      }
    }
    #expect(try model.tensor(named: "rnn.bias_ih_l0").allSatisfy { $0 == 0 })
  }

  @Test func xavierBoundsAndForgetBias() throws {
    var config = ModelConfiguration(cell: .lstm, inputSize: 20, hiddenSize: 10, outputSize: 2)
    config.initialization = .xavier
    config.forgetBiasOne = true
    let model = try Model(config)
    let bound = Float((6.0 / 30.0).squareRoot())
    let wih = try model.tensor(named: "rnn.weight_ih_l0")
    #expect(wih.allSatisfy { abs($0) <= bound })
    #expect(wih.contains { abs($0) > 0.8 * bound })
    let bih = try model.tensor(named: "rnn.bias_ih_l0")
    #expect(bih[10..<20].allSatisfy { $0 == 1 })
    #expect(bih[0..<10].allSatisfy { $0 == 0 } && bih[20...].allSatisfy { $0 == 0 })
    #expect(try model.tensor(named: "rnn.bias_hh_l0").allSatisfy { $0 == 0 })
  }
}
