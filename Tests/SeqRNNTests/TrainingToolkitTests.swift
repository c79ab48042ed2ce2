// The training toolkit: every optimizer against an update written here from
// torch.optim's documented algorithms, clipping by value, frozen tensors,
// learning-rate schedules against their formulas, checkpoints that resume
// bit-identically, refused damaged checkpoint files, and determinism.

import Foundation
import Testing

@testable import SeqRNN

// MARK: - Helpers

/// A small two-layer token LSTM and a batch with uneven lengths and targets.
private func toolkitSetup(
  cell: CellType = .lstm, dropout: Float = 0, seed: UInt64 = 3
) throws -> (Model, Batch) {
  var config = ModelConfiguration(
    cell: cell, vocabSize: 6, hiddenSize: 5, numLayers: 2, outputSize: 4, seed: seed)
  config.dropout = dropout
  let model = try Model(config)
  return (model, toolkitBatch(index: 0))
}

/// The batch of step `index`: different tokens and targets at every step.
private func toolkitBatch(index: Int) -> Batch {
  var rng = SeededRNG(seed: 100 + UInt64(index))
  let (b, t) = (3, 5)
  let tokens = (0..<(b * t)).map { _ in Int32(rng.index(6)) }
  let targets = (0..<(b * t)).map { _ in Int32(rng.index(4)) }
  return Batch(batchSize: b, seqLen: t, tokens: tokens, lengths: [5, 2, 4], targetClasses: targets)
}

/// All parameters, flattened in state_dict order, as Double.
private func parameters(_ model: Model) throws -> [Double] {
  try model.tensorInfos.flatMap { try model.tensor(named: $0.name).map(Double.init) }
}

/// The latest gradients of every tensor, flattened, as Double.
private func gradients(_ trainer: Trainer) throws -> [Double] {
  try trainer.model.tensorInfos.flatMap { try trainer.gradient(named: $0.name).map(Double.init) }
}

/// Every tensor's exact float values, by name.
private func snapshot(_ model: Model) throws -> [String: [Float]] {
  var out: [String: [Float]] = [:]
  for info in model.tensorInfos { out[info.name] = try model.tensor(named: info.name) }
  return out
}

/// Asserts two parameter vectors agree to float32 rounding of the updates.
private func expectClose(
  _ got: [Double], _ want: [Double], tolerance: Double = 1e-5,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(got.count == want.count, sourceLocation: sourceLocation)
  var worst = 0.0
  for (g, w) in zip(got, want) { worst = max(worst, abs(g - w) / max(1, abs(w))) }
  #expect(
    worst <= tolerance, "largest relative difference \(worst)", sourceLocation: sourceLocation)
}

/// Asserts a rate equals a formula's value to float rounding.
private func expectRate(
  _ got: Float, _ want: Double, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    abs(Double(got) - want) <= 2e-7 * max(abs(want), 1e-30), "\(what): got \(got), want \(want)",
    sourceLocation: sourceLocation)
}

/// `bytes` with the first occurrence of `target` replaced by `replacement`
/// (of the same length).
private func replacing(_ bytes: [UInt8], _ target: String, _ replacement: String) -> [UInt8] {
  let (t, r) = (Array(target.utf8), Array(replacement.utf8))
  guard bytes.count >= t.count else { return bytes }
  for start in 0...(bytes.count - t.count) where Array(bytes[start..<(start + t.count)]) == t {
    var out = bytes
    out.replaceSubrange(start..<(start + t.count), with: r)
    return out
  }
  return bytes
}

/// A fresh temporary directory.
private func temporaryDirectory() throws -> String {
  let path = NSTemporaryDirectory() + "seqrnn-toolkit-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// The seqrnn error `body` throws, or nil when it throws none.
private func thrown(_ body: () throws -> Void) -> SeqRNNError? {
  do {
    try body()
    return nil
  } catch {
    return error as? SeqRNNError ?? .internalError("not a SeqRNNError: \(error)")
  }
}

// MARK: - Optimizers

@Suite struct ToolkitOptimizerTests {
  @Test func sgdNesterovWithL2AndDecoupledDecayFollowsTorch() throws {
    let (model, batch) = try toolkitSetup(cell: .gru)
    var options = TrainingOptions(optimizer: .sgd, learningRate: 0.05, momentum: 0.8)
    options.nesterov = true
    options.l2Penalty = 0.01
    options.weightDecay = 0.1
    let trainer = try Trainer(model: model, options: options)
    var p = try parameters(model)
    var buffer = [Double](repeating: 0, count: p.count)
    let (lr, mu, l2, wd) = (0.05, Double(Float(0.8)), Double(Float(0.01)), Double(Float(0.1)))
    for step in 1...3 {
      try trainer.step(batch)
      let g = try gradients(trainer)
      for i in p.indices {
        // torch.optim.SGD(nesterov=True, weight_decay=l2) plus SGDW's decay.
        let d = g[i] + l2 * p[i]
        buffer[i] = step == 1 ? d : mu * buffer[i] + d
        p[i] = p[i] * (1 - lr * wd) - lr * (d + mu * buffer[i])
      }
      expectClose(try parameters(model), p)
    }
  }

  @Test func adamWDecaysDecoupledAndAdamCouplesTheL2Penalty() throws {
    for kind in [OptimizerKind.adamW, .adam] {
      let (model, batch) = try toolkitSetup(cell: .rnnTanh)
      var options = TrainingOptions(
        optimizer: kind, learningRate: 0.01, beta1: 0.8, beta2: 0.95, epsilon: 1e-6)
      if kind == .adamW { options.weightDecay = 0.2 } else { options.l2Penalty = 0.2 }
      let trainer = try Trainer(model: model, options: options)
      var p = try parameters(model)
      var m = [Double](repeating: 0, count: p.count)
      var v = m
      let (b1, b2, lambda) = (Double(Float(0.8)), Double(Float(0.95)), Double(Float(0.2)))
      for t in 1...4 {
        try trainer.step(batch)
        let g = try gradients(trainer)
        for i in p.indices {
          var d = g[i]
          if kind == .adamW {
            p[i] -= 0.01 * lambda * p[i]  // θ ← θ − γλθ
          } else {
            d += lambda * p[i]  // g ← g + λθ
          }
          m[i] = b1 * m[i] + (1 - b1) * d
          v[i] = b2 * v[i] + (1 - b2) * d * d
          let mHat = m[i] / (1 - pow(b1, Double(t)))
          let vHat = v[i] / (1 - pow(b2, Double(t)))
          p[i] -= 0.01 * mHat / (vHat.squareRoot() + 1e-6)
        }
        expectClose(try parameters(model), p)
      }
    }
  }

  @Test func adamWithDecoupledDecayIsAdamWBitForBit() throws {
    var results: [[String: [Float]]] = []
    for kind in [OptimizerKind.adam, .adamW] {
      let (model, batch) = try toolkitSetup()
      var options = TrainingOptions(optimizer: kind, learningRate: 0.01)
      options.weightDecay = 0.05
      let trainer = try Trainer(model: model, options: options)
      for _ in 0..<3 { try trainer.step(batch) }
      results.append(try snapshot(model))
    }
    #expect(results[0] == results[1])
  }

  @Test(arguments: [Float(0), 0.6])
  func rmspropFollowsTorch(momentum: Float) throws {
    let (model, batch) = try toolkitSetup()
    var options = TrainingOptions(
      optimizer: .rmsprop, learningRate: 0.003, momentum: momentum, epsilon: 1e-7)
    options.rmspropAlpha = 0.9
    options.l2Penalty = 0.05
    let trainer = try Trainer(model: model, options: options)
    var p = try parameters(model)
    var square = [Double](repeating: 0, count: p.count)
    var buffer = square
    let (alpha, mu, l2, eps) = (
      Double(Float(0.9)), Double(momentum), Double(Float(0.05)), Double(Float(1e-7))
    )
    for _ in 1...4 {
      try trainer.step(batch)
      let g = try gradients(trainer)
      for i in p.indices {
        let d = g[i] + l2 * p[i]
        square[i] = alpha * square[i] + (1 - alpha) * d * d
        let scaled = d / (square[i].squareRoot() + eps)
        if mu > 0 {
          buffer[i] = mu * buffer[i] + scaled
          p[i] -= 0.003 * buffer[i]
        } else {
          p[i] -= 0.003 * scaled
        }
      }
      expectClose(try parameters(model), p)
    }
  }

  @Test(arguments: [false, true])
  func clipValueClampsEachEntryBeforeNormClipping(withNorm: Bool) throws {
    let (model, batch) = try toolkitSetup()
    // The gradients this step will see, to choose clips that bite.
    let probe = try Trainer(model: model, options: TrainingOptions(optimizer: .sgd))
    try probe.computeGradients(batch)
    let g = try gradients(probe)
    let magnitudes = g.map(abs).sorted()
    let clip = Float(magnitudes[magnitudes.count * 3 / 4])
    let c = Double(clip)
    var clamped = g.map { min(max($0, -c), c) }
    #expect(clamped.filter { abs($0) == c }.count > 1, "the clamp must act")
    let clampedNorm = clamped.reduce(0) { $0 + $1 * $1 }.squareRoot()
    let clipNorm = withNorm ? Float(clampedNorm / 2) : 0
    var options = TrainingOptions(optimizer: .sgd, learningRate: 1, clipNorm: clipNorm)
    options.clipValue = clip
    let trainer = try Trainer(model: model, options: options)
    let before = try parameters(model)
    try trainer.step(batch)
    #expect(try gradients(trainer) == g, "the readable gradients stay unclipped")
    if withNorm {
      clamped = clamped.map { $0 * Double(clipNorm) / (clampedNorm + 1e-6) }
    }
    expectClose(try parameters(model), zip(before, clamped).map { $0 - $1 }, tolerance: 1e-6)
  }
}

// MARK: - Frozen tensors

@Suite struct FrozenTensorTests {
  @Test func frozenTensorsGetGradientsButNoUpdates() throws {
    let (model, batch) = try toolkitSetup()
    let trainer = try Trainer(model: model, options: TrainingOptions(learningRate: 0.01))
    try trainer.setFrozen("embedding.weight", true)
    try trainer.setFrozen("rnn.weight_hh_l1", true)
    #expect(trainer.frozenTensors == ["embedding.weight", "rnn.weight_hh_l1"])
    let before = try snapshot(model)
    for _ in 0..<3 { try trainer.step(batch) }
    let after = try snapshot(model)
    for name in ["embedding.weight", "rnn.weight_hh_l1"] {
      #expect(after[name] == before[name], "\(name) must not move")
      #expect(try trainer.gradient(named: name).contains { $0 != 0 }, "\(name) has gradients")
    }
    #expect(after["rnn.weight_ih_l0"] != before["rnn.weight_ih_l0"])
    var unknown = false
    if case .unknownName? = thrown({ try trainer.setFrozen("no.such", true) }) { unknown = true }
    #expect(unknown)

    // Unfrozen, the embedding starts its own Adam clock at t = 1 from zero
    // moments (torch counts `step` per parameter): its first update is
    // lr * g / (|g| + eps) after bias correction.
    try trainer.setFrozen("embedding.weight", false)
    let embedding = try model.tensor(named: "embedding.weight").map(Double.init)
    try trainer.step(batch)
    let g = try trainer.gradient(named: "embedding.weight").map(Double.init)
    let (b1, b2) = (Double(Float(0.9)), Double(Float(0.999)))
    let want = zip(embedding, g).map { p, g in
      let mHat = (1 - b1) * g / (1 - b1)
      let vHat = (1 - b2) * g * g / (1 - b2)
      return p - 0.01 * mHat / (vHat.squareRoot() + 1e-8)
    }
    expectClose(try model.tensor(named: "embedding.weight").map(Double.init), want, tolerance: 1e-6)
    #expect(try model.tensor(named: "rnn.weight_hh_l1") == before["rnn.weight_hh_l1"])
  }

  @Test func normClippingIgnoresFrozenTensors() throws {
    let (model, batch) = try toolkitSetup()
    let trainer = try Trainer(
      model: model, options: TrainingOptions(optimizer: .sgd, learningRate: 1, clipNorm: 0.01))
    try trainer.setFrozen("head.weight", true)
    let before = try parameters(model)
    try trainer.step(batch)
    let moved = zip(try parameters(model), before).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    #expect(abs(moved.squareRoot() - 0.01) < 1e-4, "the trainable tensors move by clip_norm")
  }
}

// MARK: - Schedules

@Suite struct ScheduleTests {
  private func trainer(_ configure: (inout TrainingOptions) -> Void) throws -> Trainer {
    let (model, _) = try toolkitSetup()
    var options = TrainingOptions(optimizer: .sgd, learningRate: 0.1)
    configure(&options)
    return try Trainer(model: model, options: options)
  }

  @Test func warmupThenStep() throws {
    let t = try trainer {
      $0.warmupSteps = 3
      $0.schedule = .step
      $0.stepSize = 2
      $0.gamma = 0.5
    }
    let base = Double(Float(0.1))
    for n in 1...12 {
      let want = n <= 3 ? base * Double(n) / 3 : base * pow(0.5, floor(Double(n - 4) / 2))
      expectRate(t.learningRate(forUpdate: n), want, "update \(n)")
    }
    expectRate(t.learningRate, base / 3, "before the first update")
  }

  @Test func exponential() throws {
    let t = try trainer {
      $0.schedule = .exponential
      $0.gamma = 0.9
    }
    let (base, gamma) = (Double(Float(0.1)), Double(Float(0.9)))
    for n in 1...20 {
      expectRate(t.learningRate(forUpdate: n), base * pow(gamma, Double(n - 1)), "update \(n)")
    }
    // The base rate moves the whole schedule.
    try t.setLearningRate(0.5)
    #expect(t.baseLearningRate == 0.5)
    expectRate(t.learningRate(forUpdate: 4), 0.5 * pow(gamma, 3), "after setLearningRate")
  }

  @Test func cosineWithWarmupHoldsTheMinimumAfterTotalSteps() throws {
    let t = try trainer {
      $0.warmupSteps = 2
      $0.schedule = .cosine
      $0.totalSteps = 5
      $0.minLearningRate = 0.01
    }
    let (base, low) = (Double(Float(0.1)), Double(Float(0.01)))
    for n in 1...12 {
      let k = Double(n - 3)
      let want =
        n <= 2
        ? base * Double(n) / 2 : k >= 5 ? low : low + (base - low) * (1 + cos(.pi * k / 5)) / 2
      expectRate(t.learningRate(forUpdate: n), want, "update \(n)")
    }
  }

  @Test func theScheduleDrivesTheUpdates() throws {
    let (model, batch) = try toolkitSetup()
    var options = TrainingOptions(optimizer: .sgd, learningRate: 0.2)
    options.warmupSteps = 4
    let trainer = try Trainer(model: model, options: options)
    for n in 1...3 {
      #expect(trainer.learningRate == trainer.learningRate(forUpdate: n))
      let rate = Double(trainer.learningRate)
      let before = try parameters(model)
      try trainer.step(batch)
      expectRate(Float(rate), Double(Float(0.2)) * Double(n) / 4, "update \(n)")
      expectClose(
        try parameters(model), zip(before, try gradients(trainer)).map { $0 - rate * $1 },
        tolerance: 1e-6)
    }
  }

  @Test func plateauReducesLikeReduceLROnPlateau() throws {
    let t = try trainer {
      $0.learningRate = 1
      $0.schedule = .plateau
      $0.gamma = 0.5
      $0.patience = 1
      $0.minLearningRate = 0.2
    }
    // (reported value, rate afterwards), worked out by hand from torch's
    // rules: better means < best * (1 - 1e-4); a reduction comes when the
    // bad count exceeds patience, and resets it.
    let script: [(Double, Double)] = [
      (1.0, 1), (0.99995, 1),  // not better by the relative threshold: bad 1
      (0.95, 1),  // better: bad 0
      (0.96, 1), (0.97, 0.5),  // bad 1, bad 2 > 1: halve
      (0.97, 0.5), (0.97, 0.25), (0.97, 0.25),
      (0.97, 0.2),  // max(0.125, min 0.2)
      (0.97, 0.2), (0.97, 0.2),  // at the floor
    ]
    for (index, (value, rate)) in script.enumerated() {
      try t.reportMetric(value)
      expectRate(t.learningRate, rate, "after report \(index)")
    }
    #expect(thrown { try t.reportMetric(.nan) } != nil)
  }

  @Test func plateauMaximizeWatchesForIncreases() throws {
    let t = try trainer {
      $0.learningRate = 1
      $0.schedule = .plateau
      $0.gamma = 0.1
      $0.patience = 0
      $0.plateauMaximize = true
    }
    let g = Double(Float(0.1))
    let script: [(Double, Double)] = [(0.5, 1), (0.6, 1), (0.6, g), (0.7, g), (0.69, g * g)]
    for (index, (value, rate)) in script.enumerated() {
      try t.reportMetric(value)
      expectRate(t.learningRate, rate, "after report \(index)")
    }
  }
}

// MARK: - Checkpoints

/// Settings the resume test runs with: each optimizer with schedules,
/// clipping, penalties and frozen tensors.
private let resumeCases: [(String, TrainingOptions, [String])] = {
  var adam = TrainingOptions(optimizer: .adamW, learningRate: 0.01, clipNorm: 0.5)
  adam.weightDecay = 0.01
  adam.l2Penalty = 0.001
  adam.warmupSteps = 2
  adam.schedule = .cosine
  adam.totalSteps = 6
  adam.minLearningRate = 0.001
  adam.seed = 42
  var rmsprop = TrainingOptions(optimizer: .rmsprop, learningRate: 0.003, momentum: 0.5)
  rmsprop.clipValue = 0.05
  rmsprop.schedule = .plateau
  rmsprop.patience = 0
  rmsprop.gamma = 0.5
  rmsprop.seed = 7
  var sgd = TrainingOptions(optimizer: .sgd, learningRate: 0.1, momentum: 0.9)
  sgd.nesterov = true
  sgd.schedule = .step
  sgd.stepSize = 2
  sgd.gamma = 0.7
  // Truncated BPTT: the carried states must survive the checkpoint too.
  var stateful = sgd
  stateful.stateful = true
  stateful.seed = 3
  return [
    ("adamw", adam, ["embedding.weight"]), ("rmsprop", rmsprop, []),
    ("sgd", sgd, ["head.bias"]), ("stateful", stateful, []),
  ]
}()

@Suite struct CheckpointTests {
  /// Runs `steps` more steps, reporting a metric after each (for plateau).
  private func train(_ trainer: Trainer, from first: Int, steps: Int) throws {
    for index in first..<(first + steps) {
      let loss = try trainer.step(toolkitBatch(index: index))
      try trainer.reportMetric(index % 3 == 0 ? Double(loss) : 10)
    }
  }

  @Test(arguments: 0..<4, [Float(0), 0.3])
  func resumingEqualsAnUninterruptedRun(caseIndex: Int, dropout: Float) throws {
    let (name, options, frozen) = resumeCases[caseIndex]
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let (n, m) = (4, 5)

    let (modelA, _) = try toolkitSetup(dropout: dropout)
    let a = try Trainer(model: modelA, options: options)
    for tensor in frozen { try a.setFrozen(tensor, true) }
    try train(a, from: 0, steps: n + m)

    let (modelB, _) = try toolkitSetup(dropout: dropout)
    let b = try Trainer(model: modelB, options: options)
    for tensor in frozen { try b.setFrozen(tensor, true) }
    try train(b, from: 0, steps: n)
    let path = directory + "/run.ckpt"
    try b.saveCheckpoint(to: path, dataPosition: Int64(n))
    let (c, position) = try Trainer.loadCheckpoint(from: path)
    #expect(position == Int64(n))
    #expect(c.stepCount == n)
    #expect(c.frozenTensors == frozen)
    #expect(c.options == options)
    #expect(c.model.configuration == modelB.configuration)
    #expect(try snapshot(c.model) == snapshot(modelB))
    #expect(c.learningRate == b.learningRate)
    try train(c, from: n, steps: m)

    #expect(try snapshot(c.model) == snapshot(modelA), "\(name): weights differ after resuming")
    #expect(c.learningRate == a.learningRate)
    #expect(c.stepCount == a.stepCount)
    #expect(c.lastEvaluation == a.lastEvaluation)
    // Everything else (moments, RNG, schedule, carried states) too: the two
    // trainers' checkpoints are the same bytes.
    try a.saveCheckpoint(to: directory + "/a.ckpt", dataPosition: 9)
    try c.saveCheckpoint(to: directory + "/c.ckpt", dataPosition: 9)
    let bytesA = try Data(contentsOf: URL(fileURLWithPath: directory + "/a.ckpt"))
    let bytesC = try Data(contentsOf: URL(fileURLWithPath: directory + "/c.ckpt"))
    let same = bytesA == bytesC
    #expect(same, "\(name): the final checkpoints differ")
  }

  @Test func checkpointHoldsNamedTensorsAndMetadata() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let (model, batch) = try toolkitSetup()
    let trainer = try Trainer(model: model, options: TrainingOptions())
    try trainer.step(batch)
    let path = directory + "/x.ckpt"
    try trainer.saveCheckpoint(to: path, dataPosition: -5)
    let decoded = try decodeSafeTensors(try readWholeFile(path))
    let names = Set(decoded.tensors.map(\.name))
    for info in model.tensorInfos {
      #expect(names.contains(info.name))
      #expect(names.contains("optimizer.first." + info.name))
      #expect(names.contains("optimizer.second." + info.name))
    }
    #expect(names.contains("state.h") && names.contains("state.c"))
    let metadata = Dictionary(decoded.metadata, uniquingKeysWith: { a, _ in a })
    #expect(metadata["format"] == "seqrnn-checkpoint")
    #expect(metadata["format_version"] == "1")
    #expect(metadata["config"] != nil && metadata["training"] != nil)
    #expect(try Trainer.loadCheckpoint(from: path).dataPosition == -5)
  }

  @Test func damagedAndForeignFilesAreRefusedClearly() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let (model, batch) = try toolkitSetup()
    let trainer = try Trainer(model: model, options: TrainingOptions())
    try trainer.step(batch)
    let good = directory + "/good.ckpt"
    try trainer.saveCheckpoint(to: good)
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))

    func write(_ name: String, _ content: [UInt8]) throws -> String {
      let path = directory + "/" + name
      try Data(content).write(to: URL(fileURLWithPath: path))
      return path
    }
    func kind(_ path: String) -> String {
      switch thrown({ _ = try Trainer.loadCheckpoint(from: path) }) {
      case .badFormat?: return "badFormat"
      case .unsupportedVersion?: return "unsupportedVersion"
      case .io?: return "io"
      case nil: return "ok"
      case let other?: return "\(other)"
      }
    }
    #expect(kind(good) == "ok")
    #expect(kind(directory + "/missing.ckpt") == "io")
    #expect(kind(directory) == "io")
    #expect(kind(try write("truncated.ckpt", Array(bytes.prefix(bytes.count - 7)))) == "badFormat")
    #expect(kind(try write("garbage.ckpt", Array("not a checkpoint at all".utf8))) == "badFormat")
    try model.save(to: directory + "/model.safetensors")
    #expect(kind(directory + "/model.safetensors") == "badFormat")
    if case .badFormat(let message)? = thrown({
      _ = try Trainer.loadCheckpoint(from: directory + "/model.safetensors")
    }) {
      #expect(message.contains("model file"), "\(message)")
    }
    // A newer format version: same length, so the header stays valid.
    let newer = replacing(bytes, "\"format_version\":\"1\"", "\"format_version\":\"7\"")
    #expect(newer.count == bytes.count && newer != bytes ? true : false)
    #expect(kind(try write("newer.ckpt", newer)) == "unsupportedVersion")
    // Broken JSON inside the metadata.
    let broken = replacing(bytes, #"step_count\":1"#, #"step_count\":x"#)
    #expect(broken.count == bytes.count && broken != bytes ? true : false)
    #expect(kind(try write("broken.ckpt", broken)) == "badFormat")
    // Loading never modifies the file it reads; a failed save leaves the old one.
    #expect(thrown { try trainer.saveCheckpoint(to: directory + "/no/such/dir/x.ckpt") } != nil)
    #expect(kind(good) == "ok")
  }
}

// MARK: - Determinism

@Suite struct DeterminismTests {
  @Test func sameSeedsGiveBitIdenticalWeights() throws {
    var runs: [[String: [Float]]] = []
    for maskSeed: UInt64 in [5, 5, 6] {
      let (model, _) = try toolkitSetup(dropout: 0.25, seed: 9)
      var options = TrainingOptions(optimizer: .adam, learningRate: 0.01, clipNorm: 1)
      options.seed = maskSeed
      let trainer = try Trainer(model: model, options: options)
      for index in 0..<6 { try trainer.step(toolkitBatch(index: index)) }
      runs.append(try snapshot(model))
    }
    #expect(runs[0] == runs[1])
    #expect(runs[0] != runs[2], "the mask seed must matter (dropout is on)")
  }
}
