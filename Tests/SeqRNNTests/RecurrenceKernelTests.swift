// The float32 production path (the C recurrence kernel in recurrence.c: packed W_hh, hidden
// units split across threads, one barrier per step) against the float64 engine, whose Swift
// loops the finite-difference checks in GradientCheckTests verify. Loss, every parameter
// gradient and the input gradients must agree, for every cell, uni- and bidirectional, one and
// two layers, hidden sizes that exercise every tiling case (3: one partial vector; 20: a full
// and a partial vector; 130: three 64-unit granules, the last partial, split unevenly across
// two threads), batches that fill and do not fill the row tiles (3 sequences: the unpacked
// row-dot product used for streaming; 7 and 13: the packed panels), uneven lengths, and with
// variational recurrent dropout. The thread count, and whether two threads split a step by
// hidden units or by sequences, must not change a single bit.
//
// Tolerance: float32 rounds each product and sum to 2^-24 ≈ 6e-8 relative; a gradient entry
// sums O(H·T·B) ≈ 130·5·7 ≈ 5000 terms, so its rounding error is bounded by about
// 5000 · 6e-8 · (the sum of the magnitudes of its terms) and is typically far smaller
// (random-walk growth, √5000 · 6e-8 ≈ 4e-6 relative). We accept
// |float32 - float64| <= 2e-4 · max|float64 gradient of that tensor| + 1e-6, which a missing
// term, a wrong gate derivative, a misplaced unit, a lost padding rule or a race between the
// threads exceeds by orders of magnitude (they change entries by O(max)).

import CSeqRNNSupport
import Testing

@testable import SeqRNN

struct RecurrenceCase: Sendable, CustomTestStringConvertible {
  var cell: CellType
  var hidden: Int
  var bidirectional: Bool
  var layers: Int
  var batch: Int
  var recurrentDropout: Bool

  var testDescription: String {
    "\(cell.name) H\(hidden) L\(layers) \(bidirectional ? "bi" : "uni") B\(batch)"
      + (recurrentDropout ? " recurrent-dropout" : "")
  }

  var configuration: ModelConfiguration {
    var config = ModelConfiguration(
      cell: cell, inputSize: 4, vocabSize: 0, hiddenSize: hidden, numLayers: layers,
      bidirectional: bidirectional, outputSize: 3, outputMode: .sequence, loss: .crossEntropy)
    if recurrentDropout { config.recurrentDropout = 0.3 }
    return config
  }

  var lengths: [Int] { (0..<batch).map { [5, 3, 1, 4][$0 % 4] } }

  static let all: [RecurrenceCase] =
    CellType.allCases.flatMap { cell in
      [3, 20, 130].flatMap { hidden in
        [false, true].flatMap { bidirectional in
          [(1, 3), (1, 7), (2, 13)].map { layers, batch in
            RecurrenceCase(
              cell: cell, hidden: hidden, bidirectional: bidirectional, layers: layers,
              batch: batch, recurrentDropout: false)
          }
        }
      }
    }
    + CellType.allCases.map { cell in
      RecurrenceCase(
        cell: cell, hidden: 70, bidirectional: true, layers: 2, batch: 9, recurrentDropout: true)
    }
}

/// Runs case `c` through the float32 engine in `precision` on one thread, on two splitting each
/// step by hidden units and on two splitting it by sequences, and checks the loss (within
/// `lossTolerance` of its magnitude, at least 1) and every gradient (within
/// `gradientTolerance` times the largest float64 entry of its tensor, plus `floor`) against the
/// float64 engine, and that the three runs agree bit for bit.
func checkAgainstFloat64(
  _ c: RecurrenceCase, precision: Precision, lossTolerance: Double, gradientTolerance: Double,
  floor: Double
) throws {
  let configuration = c.configuration
  var rng = SeededRNG(seed: UInt64(c.hidden * 1000) + UInt64(c.cell.rawValue))
  let parameters = randomParameters(configuration, scale: .pytorchLike, rng: &rng)
  let generated = makeBatch(
    configuration, lengths: c.lengths, seqLen: 5, initialState: true, rng: &rng)
  let maskSeed: UInt64? = c.recurrentDropout ? 99 : nil
  let reference = try GradientProbe.evaluate(
    configuration: configuration, parameters: parameters, batch: generated.batch,
    features: generated.features, maskSeed: maskSeed)
  let previous = computeThreads()
  defer { try? setComputeThreads(previous) }
  defer { Recurrence.split = 0 }
  var results: [[String: [Double]]] = []
  // One thread, then two splitting each step by hidden units, then two
  // splitting it by sequences: all must give the same bits.
  for (threads, split) in [(1, Int32(0)), (2, 1), (2, 2)] {
    try setComputeThreads(threads)
    Recurrence.split = split
    let run = "\(c.testDescription) \(precision) threads \(threads) split \(split)"
    let float32 = try GradientProbe.evaluate(
      configuration: configuration, parameters: parameters, batch: generated.batch,
      features: generated.features, maskSeed: maskSeed, scalar: Float.self,
      precision: precision)
    #expect(
      abs(float32.loss - reference.loss) <= lossTolerance * max(1, abs(reference.loss)),
      "\(run): loss \(float32.loss) vs \(reference.loss)")
    var named = float32.gradients
    named["(input)"] = float32.featureGradients
    results.append(named)
    var expected = reference.gradients
    expected["(input)"] = reference.featureGradients
    for (name, want) in expected {
      let got = named[name] ?? []
      let scale = want.map { abs($0) }.max() ?? 0
      if let m = compare(got, want, absolute: gradientTolerance * scale + floor, relative: 0) {
        Issue.record(
          "\(run): \(name)[\(m.index)] = \(m.got), float64 \(m.expected) (\(m.failing) of \(m.count) out of tolerance)"
        )
      }
    }
  }
  for other in 1..<results.count {
    for (name, one) in results[0] where results[other][name] != one {
      Issue.record("\(c.testDescription): \(name) differs between 1 thread and run \(other)")
    }
  }
}

@Suite("float32 recurrence kernel against the float64 engine", .serialized)
struct RecurrenceKernelTests {
  @Test("loss and gradients", arguments: RecurrenceCase.all)
  func gradientsMatchFloat64(_ c: RecurrenceCase) throws {
    try checkAgainstFloat64(
      c, precision: .float32, lossTolerance: 1e-5, gradientTolerance: 2e-4, floor: 1e-6)
  }
}
