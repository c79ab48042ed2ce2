// Training: each optimizer's update against a reference written here from
// torch.optim's documented formulas, clipping, refused non-finite steps, and
// learning on a task that needs memory.

import SeqRNN
import Testing

/// A small token model and a batch with uneven lengths and targets.
private func smallTokenSetup(cell: CellType = .lstm) throws -> (Model, Batch) {
  let config = ModelConfiguration(
    cell: cell, vocabSize: 6, hiddenSize: 5, numLayers: 2, outputSize: 4, seed: 3)
  let model = try Model(config)
  var rng = SeededRNG(seed: 11)
  let (b, t) = (3, 5)
  let tokens = (0..<(b * t)).map { _ in Int32(rng.index(6)) }
  let targets = (0..<(b * t)).map { _ in Int32(rng.index(4)) }
  let batch = Batch(
    batchSize: b, seqLen: t, tokens: tokens, lengths: [5, 2, 4], targetClasses: targets)
  return (model, batch)
}

/// All parameters of a model, flattened in state_dict order, as Double.
private func flatParameters(_ model: Model) throws -> [Double] {
  try model.tensorInfos.flatMap { try model.tensor(named: $0.name).map(Double.init) }
}

/// The gradient the trainer computed for every tensor, flattened, as Double.
private func flatGradients(_ trainer: Trainer) throws -> [Double] {
  try trainer.model.tensorInfos.flatMap { try trainer.gradient(named: $0.name).map(Double.init) }
}

/// Asserts two parameter vectors agree to float32 rounding of the update.
private func expectClose(_ got: [Double], _ want: [Double], tolerance: Double = 2e-6) {
  #expect(got.count == want.count)
  var worst = 0.0
  for (g, w) in zip(got, want) { worst = max(worst, abs(g - w) / max(1, abs(w))) }
  #expect(worst <= tolerance, "largest relative difference \(worst)")
}

@Suite struct OptimizerTests {
  @Test func plainSGDSubtractsLearningRateTimesGradient() throws {
    let (model, batch) = try smallTokenSetup()
    let trainer = try Trainer(
      model: model, options: TrainingOptions(optimizer: .sgd, learningRate: 0.1))
    let before = try flatParameters(model)
    try trainer.step(batch)
    let gradient = try flatGradients(trainer)
    #expect(gradient.contains { $0 != 0 })
    expectClose(try flatParameters(model), zip(before, gradient).map { $0 - 0.1 * $1 })
  }

  @Test func sgdMomentumFollowsTorchFormula() throws {
    let (model, batch) = try smallTokenSetup(cell: .gru)
    let options = TrainingOptions(optimizer: .sgd, learningRate: 0.05, momentum: 0.9)
    let trainer = try Trainer(model: model, options: options)
    var parameters = try flatParameters(model)
    var velocity = [Double](repeating: 0, count: parameters.count)
    for step in 1...3 {
      try trainer.step(batch)
      let g = try flatGradients(trainer)
      for i in parameters.indices {
        velocity[i] = step == 1 ? g[i] : 0.9 * velocity[i] + g[i]
        parameters[i] -= 0.05 * velocity[i]
      }
      expectClose(try flatParameters(model), parameters, tolerance: 1e-5)
    }
    #expect(trainer.stepCount == 3)
  }

  @Test func adamFollowsTorchFormula() throws {
    let (model, batch) = try smallTokenSetup(cell: .rnnTanh)
    let options = TrainingOptions(
      optimizer: .adam, learningRate: 0.01, beta1: 0.8, beta2: 0.95, epsilon: 1e-6)
    let trainer = try Trainer(model: model, options: options)
    var parameters = try flatParameters(model)
    var m = [Double](repeating: 0, count: parameters.count)
    var v = m
    for step in 1...4 {
      try trainer.step(batch)
      let g = try flatGradients(trainer)
      let c1 = 1 - pow(0.8, step)
      let c2 = 1 - pow(0.95, step)
      for i in parameters.indices {
        m[i] = 0.8 * m[i] + 0.2 * g[i]
        v[i] = 0.95 * v[i] + 0.05 * g[i] * g[i]
        parameters[i] -= 0.01 * (m[i] / c1) / ((v[i] / c2).squareRoot() + 1e-6)
      }
      expectClose(try flatParameters(model), parameters, tolerance: 1e-5)
    }
  }

  @Test func clippingScalesTheUpdateToTheNorm() throws {
    let (model, batch) = try smallTokenSetup()
    let trainer = try Trainer(
      model: model, options: TrainingOptions(optimizer: .sgd, learningRate: 1, clipNorm: 0.01))
    let before = try flatParameters(model)
    try trainer.step(batch)
    let g = try flatGradients(trainer)
    let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
    #expect(norm > 0.01, "the test needs a gradient above the clip norm")
    let scale = 0.01 / (norm + 1e-6)
    expectClose(try flatParameters(model), zip(before, g).map { $0 - scale * $1 })
    let moved = zip(try flatParameters(model), before).reduce(0) {
      $0 + ($1.0 - $1.1) * ($1.0 - $1.1)
    }
    #expect(abs(moved.squareRoot() - 0.01) < 1e-4)
  }

  @Test func learningRateCanChange() throws {
    let (model, batch) = try smallTokenSetup()
    let trainer = try Trainer(
      model: model, options: TrainingOptions(optimizer: .sgd, learningRate: 1))
    try trainer.setLearningRate(0.25)
    let before = try flatParameters(model)
    try trainer.step(batch)
    expectClose(
      try flatParameters(model), zip(before, try flatGradients(trainer)).map { $0 - 0.25 * $1 })
    #expect(throws: SeqRNNError.self) { try trainer.setLearningRate(0) }
    #expect(throws: SeqRNNError.self) { try trainer.setLearningRate(.nan) }
  }

  @Test func invalidOptionsAreRejected() throws {
    let (model, _) = try smallTokenSetup()
    for options in [
      TrainingOptions(learningRate: -1), TrainingOptions(momentum: 1), TrainingOptions(beta1: 1),
      TrainingOptions(beta2: -0.1), TrainingOptions(epsilon: 0), TrainingOptions(clipNorm: -1),
    ] {
      #expect(throws: SeqRNNError.self) { try Trainer(model: model, options: options) }
    }
  }

  @Test func nonFiniteLossRefusesTheStepAndKeepsTheModel() throws {
    // Finite targets whose squared error overflows float32: (3e38)^2 = inf.
    let model = try Model(
      ModelConfiguration(inputSize: 2, hiddenSize: 4, outputSize: 1, loss: .meanSquaredError))
    let batch = Batch(
      batchSize: 1, seqLen: 2, features: [0.5, -0.5, 0.25, 1], targetValues: [3e38, 1])
    let trainer = try Trainer(model: model)
    let before = try flatParameters(model)
    #expect(throws: SeqRNNError.self) { try trainer.step(batch) }
    #expect(try flatParameters(model) == before)
    #expect(trainer.stepCount == 0)
  }
}

@Suite struct LearningTests {
  /// Each cell learns to output the token it saw `delay` steps earlier, which
  /// needs memory across steps; chance level is ln(4) ~ 1.39 nats.
  @Test(arguments: CellType.allCases)
  func learnsDelayedRecall(cell: CellType) throws {
    let config = ModelConfiguration(
      cell: cell, vocabSize: 4, hiddenSize: 24, outputSize: 4, seed: 5)
    let model = try Model(config)
    let trainer = try Trainer(
      model: model, options: TrainingOptions(learningRate: 0.02, clipNorm: 5))
    var rng = SeededRNG(seed: 9)
    let (b, t, delay) = (16, 10, 2)
    var loss: Float = .infinity
    for _ in 0..<300 {
      let tokens = (0..<(b * t)).map { _ in Int32(rng.index(4)) }
      var targets = [Int32](repeating: 0, count: b * t)
      for i in 0..<b { for s in delay..<t { targets[i * t + s] = tokens[i * t + s - delay] } }
      loss = try trainer.step(
        Batch(batchSize: b, seqLen: t, tokens: tokens, targetClasses: targets))
    }
    #expect(loss < 0.3, "\(cell.name) loss \(loss) after 300 steps")
  }
}

@Suite struct StreamingTests {
  @Test(arguments: CellType.allCases, OutputMode.allCases)
  func streamingEqualsFullForward(cell: CellType, mode: OutputMode) throws {
    let config = ModelConfiguration(
      cell: cell, inputSize: 3, hiddenSize: 6, numLayers: 2, outputSize: 2, outputMode: mode,
      seed: 8)
    let model = try Model(config)
    var rng = SeededRNG(seed: 4)
    let (b, t) = (2, 7)
    let features = (0..<(b * t * 3)).map { _ in Float(rng.uniform(1)) }
    let stream = try StreamingState(model: model, batchSize: b)
    for s in 1...t {
      // The full forward over the first s steps; its last output is step s.
      var prefix: [Float] = []
      for i in 0..<b { prefix += features[(i * t * 3)..<(i * t * 3 + s * 3)] }
      let full = try model.forward(Batch(batchSize: b, seqLen: s, features: prefix))
      var stepFeatures: [Float] = []
      for i in 0..<b { stepFeatures += features[((i * t + s - 1) * 3)..<((i * t + s) * 3)] }
      let streamed = try stream.step(features: stepFeatures)
      for i in 0..<b {
        for k in 0..<2 {
          let want = mode == .last ? full.outputs[i * 2 + k] : full.outputs[(i * s + s - 1) * 2 + k]
          #expect(abs(streamed[i * 2 + k] - want) <= 1e-6 * max(1, abs(want)))
        }
      }
      if s == t {
        for (x, y) in zip(stream.hiddenState, full.finalH) { #expect(abs(x - y) <= 1e-6) }
      }
    }
    stream.reset()
    #expect(stream.hiddenState.allSatisfy { $0 == 0 })
  }

  @Test func bidirectionalModelsCannotStream() throws {
    let model = try Model(ModelConfiguration(inputSize: 2, hiddenSize: 3, bidirectional: true))
    #expect(throws: SeqRNNError.self) { try StreamingState(model: model, batchSize: 1) }
  }
}

@Suite struct InitialisationTests {
  @Test func sameSeedSameWeightsOtherSeedOtherWeights() throws {
    let config = ModelConfiguration(
      cell: .gru, vocabSize: 7, hiddenSize: 4, outputSize: 3, seed: 42)
    let a = try Model(config)
    let b = try Model(config)
    var other = config
    other.seed = 43
    let c = try Model(other)
    for info in a.tensorInfos {
      #expect(try a.tensor(named: info.name) == b.tensor(named: info.name))
      #expect(try a.tensor(named: info.name) != c.tensor(named: info.name))
    }
  }

  @Test func recurrentWeightsFollowPyTorchsBounds() throws {
    let model = try Model(
      ModelConfiguration(cell: .lstm, inputSize: 10, hiddenSize: 64, outputSize: 5))
    let bound = Float(1 / 8.0)
    let weights = try model.tensor(named: "rnn.weight_hh_l0")
    #expect(weights.allSatisfy { abs($0) <= bound })
    // U(-b, b) has standard deviation b / sqrt(3).
    let std = (weights.reduce(0) { $0 + Double($1 * $1) } / Double(weights.count)).squareRoot()
    #expect(abs(std - Double(bound) / 3.0.squareRoot()) < 0.005)
    let head = try model.tensor(named: "head.weight")
    #expect(head.allSatisfy { abs($0) <= bound })
  }
}

private func pow(_ base: Double, _ exponent: Int) -> Double {
  (0..<exponent).reduce(1.0) { acc, _ in acc * base }
}
