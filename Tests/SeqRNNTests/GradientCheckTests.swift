// Gradient checks of the optimized engine (run in float64 through `GradientProbe`) against
// central finite differences of its own loss, for every cell × {1, 2 layers} × {uni, bi} ×
// {features, tokens} × {sequence, last} × {cross-entropy, MSE} on a batch of uneven lengths,
// and again with initial states given. Every entry of every parameter is checked, and every
// entry of the input features. The loss itself is checked against the independent reference.
//
// Tolerance: with step h = 1e-6 in float64, the central difference (L(p+h) - L(p-h)) / 2h
// differs from the derivative by the truncation error h²/6·|L'''| ≈ 1e-13 (L''' is O(1) for
// these tiny, unsaturated models) plus the rounding error ≈ ε·|L|/h ≈ 2.2e-16 · O(1) / 1e-6
// ≈ 2e-10. Measured on the reference loss for these sizes (all cells, 1/2 layers, uni/bi,
// both losses and modes): central differences with h = 1e-6 and h = 1e-5 agree to 3.4e-10
// everywhere. We accept |analytic - numeric| <= 1e-6 + 1e-5·|numeric|: over three orders of
// magnitude above that noise, and three to five orders below the gradient entries themselves
// (1e-3 ... 1e-1), so a missing term, a wrong gate derivative, or a step past a sequence's
// length leaking into the gradient fails (an error of 3e-6 in one entry is caught).

import Testing

@testable import SeqRNN

private let finiteDifferenceStep = 1e-6
private let gradientAbsoluteTolerance = 1e-6
private let gradientRelativeTolerance = 1e-5
/// Both implementations work in float64; only the summation order differs.
private let lossTolerance = 1e-12
/// Relu models are drawn so that every pre-activation is at least this far from the kink at 0;
/// a step of 1e-6 moves a pre-activation by about 1e-6 times an O(1) coefficient, far less.
private let reluMargin = 1e-3

/// One gradient-check combination; its description names it in test results.
struct GradientCase: Sendable, CustomTestStringConvertible {
  var cell: CellType
  var layers: Int
  var bidirectional: Bool
  var tokens: Bool
  var mode: OutputMode
  var loss: LossKind
  var initialState: Bool

  var testDescription: String {
    "\(cell.name) L\(layers) \(bidirectional ? "bi" : "uni") "
      + "\(tokens ? (embeddingWidth == 0 ? "tokens(E=H)" : "tokens(E=2)") : "features") "
      + "\(mode.name) \(loss.name)\(initialState ? " h0" : "")"
  }

  static let hidden = 3
  static let inputSize = 2
  static let vocab = 5
  static let outputs = 3
  static let seqLen = 4
  static let lengths = [3, 4, 1]  // uneven; the longest is not first; one has length 1

  /// Token models use an explicit embedding width of 2 with one layer, and the default
  /// (E = hiddenSize) with two, so both readings of `inputSize` are covered.
  var embeddingWidth: Int { layers == 1 ? Self.inputSize : 0 }

  var configuration: ModelConfiguration {
    ModelConfiguration(
      cell: cell, inputSize: tokens ? embeddingWidth : Self.inputSize,
      vocabSize: tokens ? Self.vocab : 0, hiddenSize: Self.hidden, numLayers: layers,
      bidirectional: bidirectional, outputSize: Self.outputs, outputMode: mode, loss: loss)
  }

  var seed: UInt64 {
    UInt64(cell.rawValue) * 1000 + UInt64(layers) * 100 + (bidirectional ? 40 : 0)
      + (tokens ? 20 : 0) + UInt64(mode.rawValue) * 10 + UInt64(loss.rawValue) * 5
      + (initialState ? 1 : 0) + 100_000
  }

  /// cell × layers × directions × input kind × output mode × loss, zero initial states.
  static let all: [GradientCase] = CellType.allCases.flatMap { cell in
    [1, 2].flatMap { layers in
      [false, true].flatMap { bidirectional in
        [false, true].flatMap { tokens in
          OutputMode.allCases.flatMap { mode in
            LossKind.allCases.map { loss in
              GradientCase(
                cell: cell, layers: layers, bidirectional: bidirectional, tokens: tokens,
                mode: mode, loss: loss, initialState: false)
            }
          }
        }
      }
    }
  }

  /// cell × layers × directions × output mode with given initial states (h0, and c0 for
  /// LSTM); feature models (so input gradients are checked too), cross-entropy per step and
  /// MSE per sequence.
  static let withInitialState: [GradientCase] = CellType.allCases.flatMap { cell in
    [1, 2].flatMap { layers in
      [false, true].flatMap { bidirectional in
        OutputMode.allCases.map { mode in
          GradientCase(
            cell: cell, layers: layers, bidirectional: bidirectional, tokens: false, mode: mode,
            loss: mode == .sequence ? .crossEntropy : .meanSquaredError, initialState: true)
        }
      }
    }
  }
}

/// "rnn.weight_hh_l0[7][1] (gate f, unit 1)" for flat index 22 of a 12×3 LSTM matrix.
private func describe(_ name: String, shape: [Int], index: Int, cell: CellType, hidden: Int)
  -> String
{
  var text =
    shape.count == 2 ? "\(name)[\(index / shape[1])][\(index % shape[1])]" : "\(name)[\(index)]"
  if name.hasPrefix("rnn.") {
    let row = shape.count == 2 ? index / shape[1] : index
    let gates: [String]
    switch cell {
    case .rnnTanh, .rnnRelu: gates = ["h"]
    case .lstm: gates = ["i", "f", "g", "o"]
    case .gru: gates = ["r", "z", "n"]
    }
    text += " (gate \(gates[row / hidden]), unit \(row % hidden))"
  }
  return text
}

/// "features[b][t][i]" for a flat index of a [B][T][I] buffer.
private func describeFeature(_ index: Int, seqLen: Int, width: Int) -> String {
  "features[\(index / (seqLen * width))][\(index / width % seqLen)][\(index % width)]"
}

/// Draws parameters and a batch for `c`. For relu, redraws until no pre-activation is within
/// `reluMargin` of the kink, every unit is active at some step (a unit that is never active
/// would leave its weights without gradient and the check vacuous) and some unit is inactive
/// at some step (so the zero branch is checked too). Deterministic: the attempts follow from
/// the case's seed.
private func drawProblem(_ c: GradientCase) throws -> (
  parameters: [String: [Double]], generated: GeneratedBatch, reference: ReferenceResult
) {
  let configuration = c.configuration
  for attempt in 0..<1000 {
    var rng = SeededRNG(seed: c.seed &* 7919 &+ UInt64(attempt))
    let parameters = randomParameters(configuration, scale: .uniform(0.5), rng: &rng)
    let generated = makeBatch(
      configuration, lengths: GradientCase.lengths, seqLen: GradientCase.seqLen,
      initialState: c.initialState, rng: &rng)
    let reference = try ReferenceRNN.run(
      configuration: configuration, parameters: parameters, batch: generated.batch,
      features: generated.features)
    if c.cell != .rnnRelu
      || (reference.smallestReluPreactivation > reluMargin
        && reference.reluActiveCounts.allSatisfy { $0 > 0 } && reference.reluInactiveCount > 0)
    {
      return (parameters, generated, reference)
    }
  }
  throw ReferenceError("\(c.testDescription): no relu draw avoids the kink")
}

/// Checks every parameter and input gradient of `c` against finite differences.
private func checkGradients(_ c: GradientCase) throws {
  let configuration = c.configuration
  let (parameters, generated, reference) = try drawProblem(c)
  let batch = generated.batch
  let features = generated.features
  let label = c.testDescription

  let probe = try GradientProbe.evaluate(
    configuration: configuration, parameters: parameters, batch: batch, features: features)
  let expectedLoss = reference.loss!
  #expect(
    abs(probe.loss - expectedLoss) <= lossTolerance * max(1, abs(expectedLoss)),
    "\(label): GradientProbe loss \(probe.loss), reference \(expectedLoss), diff \(abs(probe.loss - expectedLoss))"
  )

  func loss(_ parameters: [String: [Double]], _ features: [Double]?) throws -> Double {
    try GradientProbe.evaluate(
      configuration: configuration, parameters: parameters, batch: batch, features: features
    ).loss
  }

  let expected = expectedTensorShapes(configuration)
  #expect(
    Set(probe.gradients.keys) == Set(expected.map(\.name)),
    "\(label): gradient names \(probe.gradients.keys.sorted()), expected \(expected.map(\.name).sorted())"
  )
  let h = finiteDifferenceStep
  for (name, shape) in expected {
    let values = parameters[name]!
    var numeric = [Double](repeating: 0, count: values.count)
    for i in values.indices {
      var plus = parameters
      plus[name]![i] = values[i] + h
      var minus = parameters
      minus[name]![i] = values[i] - h
      numeric[i] = (try loss(plus, features) - loss(minus, features)) / (2 * h)
    }
    guard let analytic = probe.gradients[name] else {
      fail("\(label): no gradient for \(name)")
      continue
    }
    if let m = compare(
      analytic, numeric, absolute: gradientAbsoluteTolerance, relative: gradientRelativeTolerance)
    {
      let location =
        m.index >= 0
        ? describe(name, shape: shape, index: m.index, cell: c.cell, hidden: GradientCase.hidden)
        : name
      fail(
        "\(label): d loss / d \(location): analytic \(m.got), finite difference \(m.expected) "
          + "(\(m.failing) of \(m.count) entries of \(name) out of tolerance)")
    }
    // Guard against a vacuous check: every tensor must influence this loss.
    #expect(
      maxAbs(numeric) > 1e-4,
      "\(label): the loss does not depend on \(name) (max |finite difference| \(maxAbs(numeric))); the test data is degenerate"
    )
  }

  if let features {
    guard let analytic = probe.featureGradients else {
      fail("\(label): featureGradients is nil for a feature model")
      return
    }
    var numeric = [Double](repeating: 0, count: features.count)
    for i in features.indices {
      var plus = features
      plus[i] += h
      var minus = features
      minus[i] -= h
      numeric[i] = (try loss(parameters, plus) - loss(parameters, minus)) / (2 * h)
    }
    if let m = compare(
      analytic, numeric, absolute: gradientAbsoluteTolerance, relative: gradientRelativeTolerance)
    {
      let location =
        m.index >= 0
        ? describeFeature(m.index, seqLen: GradientCase.seqLen, width: GradientCase.inputSize)
        : "features"
      fail(
        "\(label): d loss / d \(location): analytic \(m.got), finite difference \(m.expected) "
          + "(\(m.failing) of \(m.count) entries out of tolerance)"
      )
    }
    // Padding never influences the loss: its gradient is exactly zero.
    for (b, length) in GradientCase.lengths.enumerated() where analytic.count == features.count {
      let width = GradientCase.inputSize
      let start = (b * GradientCase.seqLen + length) * width
      let end = (b + 1) * GradientCase.seqLen * width
      #expect(
        analytic[start..<end].allSatisfy { $0 == 0 },
        "\(label): nonzero feature gradient past the length of sequence \(b): \(Array(analytic[start..<end]))"
      )
    }
    #expect(maxAbs(numeric) > 1e-4, "\(label): the loss does not depend on the features")
  } else {
    #expect(
      probe.featureGradients == nil, "\(label): featureGradients should be nil for a token model")
  }
}

@Suite("Gradients against central finite differences (float64)")
struct GradientCheckTests {
  @Test("every parameter and input gradient", arguments: GradientCase.all)
  func gradients(_ c: GradientCase) throws {
    try checkGradients(c)
  }

  @Test("gradients with initial states given", arguments: GradientCase.withInitialState)
  func gradientsWithInitialState(_ c: GradientCase) throws {
    try checkGradients(c)
  }
}
