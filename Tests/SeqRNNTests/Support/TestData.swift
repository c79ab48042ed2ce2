// Deterministic test data for the reference and gradient tests: a seeded RNG,
// parameter generators that follow PyTorch's state_dict names and layouts, batch
// generators with uneven lengths, and a comparison helper that names the worst
// element. Nothing here uses the optimized engine (only the public config types).

import SeqRNN
import Testing

/// SplitMix64: a tiny, fast, well-mixed generator; the same seed always gives the same stream.
struct SeededRNG: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [-scale, scale), 53 bits of resolution.
  mutating func uniform(_ scale: Double) -> Double {
    let unit = Double(next() >> 11) * 0x1.0p-53
    return (2 * unit - 1) * scale
  }

  /// `count` values uniform in [-scale, scale).
  mutating func uniform(count: Int, scale: Double) -> [Double] {
    (0..<count).map { _ in uniform(scale) }
  }

  /// Uniform integer in `0..<bound`.
  mutating func index(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// Rounds every value to the nearest Float and back, so a float32 model and a
/// float64 reference see exactly the same numbers.
func roundedToFloat(_ values: [Double]) -> [Double] { values.map { Double(Float($0)) } }

/// Every tensor of a model, in PyTorch's `state_dict` order, with its shape.
/// Written from the PyTorch documentation independently of the engine.
func expectedTensorShapes(_ configuration: ModelConfiguration) -> [(name: String, shape: [Int])] {
  var result: [(name: String, shape: [Int])] = []
  let hidden = configuration.hiddenSize
  let gates = configuration.cell.gateCount * hidden
  let directions = configuration.bidirectional ? 2 : 1
  let firstInput: Int
  if configuration.vocabSize > 0 {
    firstInput = configuration.inputSize == 0 ? hidden : configuration.inputSize
    result.append(("embedding.weight", [configuration.vocabSize, firstInput]))
  } else {
    firstInput = configuration.inputSize
  }
  for layer in 0..<configuration.numLayers {
    let input = layer == 0 ? firstInput : directions * hidden
    for direction in 0..<directions {
      let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
      result.append(("rnn.weight_ih" + suffix, [gates, input]))
      result.append(("rnn.weight_hh" + suffix, [gates, hidden]))
      result.append(("rnn.bias_ih" + suffix, [gates]))
      result.append(("rnn.bias_hh" + suffix, [gates]))
    }
  }
  result.append(("head.weight", [configuration.outputSize, directions * hidden]))
  result.append(("head.bias", [configuration.outputSize]))
  return result
}

/// How large random parameters are.
enum ParameterScale {
  /// PyTorch's default: U(-1/sqrt(H), 1/sqrt(H)) for the RNN, U(-1/sqrt(fan_in), ..) for the
  /// head; the embedding U(-1, 1) (PyTorch draws N(0, 1); uniform keeps values bounded).
  case pytorchLike
  /// Every tensor U(-s, s): moderate values keep gates away from saturation.
  case uniform(Double)
}

/// Random parameters for every tensor of `configuration`, in a fixed order (so a seed
/// always gives the same model).
func randomParameters(
  _ configuration: ModelConfiguration, scale: ParameterScale, rng: inout SeededRNG
) -> [String: [Double]] {
  var parameters: [String: [Double]] = [:]
  for (name, shape) in expectedTensorShapes(configuration) {
    let count = shape.reduce(1, *)
    let bound: Double
    switch scale {
    case .uniform(let s):
      bound = s
    case .pytorchLike:
      if name == "embedding.weight" {
        bound = 1
      } else if name.hasPrefix("head.") {
        bound = 1 / Double(configuration.directions * configuration.hiddenSize).squareRoot()
      } else {
        bound = 1 / Double(configuration.hiddenSize).squareRoot()
      }
    }
    parameters[name] = rng.uniform(count: count, scale: bound)
  }
  return parameters
}

/// A random batch for `configuration`. Every buffer holds float-representable values;
/// `features` is the same data in Double (nil for token models). Padding positions
/// (t >= length) are filled with random data too, so code that reads them shows up.
struct GeneratedBatch {
  var batch: Batch
  var features: [Double]?
}

func makeBatch(
  _ configuration: ModelConfiguration, lengths: [Int], seqLen: Int, initialState: Bool,
  targets: Bool = true, featureScale: Double = 1, stateScale: Double = 0.5,
  rng: inout SeededRNG
) -> GeneratedBatch {
  let batchSize = lengths.count
  var batch = Batch(batchSize: batchSize, seqLen: seqLen, lengths: lengths)
  var features: [Double]? = nil
  if configuration.vocabSize > 0 {
    batch.tokens = (0..<batchSize * seqLen).map { _ in Int32(rng.index(configuration.vocabSize)) }
  } else {
    let values = roundedToFloat(
      rng.uniform(count: batchSize * seqLen * configuration.inputSize, scale: featureScale))
    features = values
    batch.features = values.map { Float($0) }
  }
  if initialState {
    let count = configuration.stateCount(batchSize: batchSize)
    batch.initialH = rng.uniform(count: count, scale: stateScale).map { Float($0) }
    if configuration.cell == .lstm {
      batch.initialC = rng.uniform(count: count, scale: stateScale).map { Float($0) }
    }
  }
  if targets {
    let positions = configuration.outputMode == .sequence ? batchSize * seqLen : batchSize
    switch configuration.loss {
    case .crossEntropy:
      batch.targetClasses = (0..<positions).map { _ in Int32(rng.index(configuration.outputSize)) }
    case .meanSquaredError:
      batch.targetValues = rng.uniform(count: positions * configuration.outputSize, scale: 1)
        .map { Float($0) }
    }
  }
  return GeneratedBatch(batch: batch, features: features)
}

/// Where two arrays disagree beyond `|got - expected| <= absolute + relative * |expected|`.
struct Mismatch: CustomStringConvertible {
  var index: Int
  var got: Double
  var expected: Double
  var excess: Double
  var failing: Int
  var count: Int

  var description: String {
    if index < 0 { return "size mismatch: got \(Int(got)) elements, expected \(Int(expected))" }
    return "\(failing) of \(count) elements out of tolerance; worst at [\(index)]: got \(got), "
      + "expected \(expected), |diff| = \(abs(got - expected))"
  }
}

/// The worst element outside the tolerance, or nil when all agree (and the sizes match).
func compare(
  _ got: [Double], _ expected: [Double], absolute: Double, relative: Double
) -> Mismatch? {
  if got.count != expected.count {
    return Mismatch(
      index: -1, got: Double(got.count), expected: Double(expected.count), excess: .infinity,
      failing: 1, count: 0)
  }
  var worst: Mismatch? = nil
  var failing = 0
  for i in got.indices {
    let tolerance = absolute + relative * abs(expected[i])
    let difference = abs(got[i] - expected[i])
    // `!(difference <= tolerance)` also catches NaN.
    if !(difference <= tolerance) {
      failing += 1
      let excess = difference.isNaN ? .infinity : difference / tolerance
      if worst == nil || excess > worst!.excess {
        worst = Mismatch(
          index: i, got: got[i], expected: expected[i], excess: excess, failing: 0,
          count: got.count)
      }
    }
  }
  worst?.failing = failing
  return worst
}

/// The largest magnitude in `values` (0 for an empty array).
func maxAbs(_ values: [Double]) -> Double { values.reduce(0) { max($0, abs($1)) } }

/// Records a test failure with a message built as a plain String.
func fail(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
  Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
}

/// Runs `body` with seqrnn's thread budget set to `threads`, then restores it.
func withThreads<R>(_ threads: Int, _ body: () throws -> R) throws -> R {
  let previous = computeThreads()
  defer { try? setComputeThreads(previous) }
  try setComputeThreads(threads)
  return try body()
}
