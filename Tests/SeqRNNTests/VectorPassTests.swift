// The vectorised whole-buffer passes of the trainer (optimizer_update.c, vector_passes.c,
// sequence_loss.c) against plain Swift loops written as the formulas read. The optimizer rules
// and the column sums round every operation in the same order as those loops (the C files turn
// FMA contraction off), so they must agree bit for bit; so must one and two threads. Sizes are
// odd so the vector remainders and the uneven thread shares run too.

import CSeqRNNKernels
import Testing

@testable import SeqRNN

/// Deterministic values in [-scale, scale).
private func values(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
  var state = seed
  return (0..<count).map { _ in
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
  }
}

struct RuleCase: Sendable, CustomTestStringConvertible {
  var rule: Int32
  var momentum: Float = 0
  var nesterov = false
  var l2: Float = 0
  var decay: Float = 1
  var firstStep = false
  var testDescription: String {
    "rule \(rule) mu \(momentum) nesterov \(nesterov) l2 \(l2) decay \(decay) first \(firstStep)"
  }
}

let ruleCases: [RuleCase] = [
  RuleCase(rule: Int32(SRNN_RULE_SGD)),
  RuleCase(rule: Int32(SRNN_RULE_SGD), momentum: 0.9, firstStep: true),
  RuleCase(rule: Int32(SRNN_RULE_SGD), momentum: 0.9, nesterov: true, l2: 0.01, decay: 0.999),
  RuleCase(rule: Int32(SRNN_RULE_ADAM)),
  RuleCase(rule: Int32(SRNN_RULE_ADAM), l2: 0.01, decay: 0.99),
  RuleCase(rule: Int32(SRNN_RULE_RMSPROP), l2: 0.02),
  RuleCase(rule: Int32(SRNN_RULE_RMSPROP), momentum: 0.5, decay: 0.995),
]

@Suite struct OptimizerUpdateKernelTests {
  /// The update rules as the formulas in seqrnn_kernels.h read, one operation at a time.
  private func reference(
    _ c: RuleCase, p: inout [Float], g: [Float], first: inout [Float], second: inout [Float]
  ) {
    let (lr, alpha, eps, b1, b2) = (Float(0.01), Float(0.9), Float(1e-8), Float(0.9), Float(0.999))
    let (stepSize, root2) = (Float(0.05), Float(0.3))
    for i in p.indices {
      let grad = c.l2 > 0 ? g[i] + c.l2 * p[i] : g[i]
      let weight = c.decay != 1 ? p[i] * c.decay : p[i]
      switch c.rule {
      case Int32(SRNN_RULE_SGD):
        if c.momentum == 0 {
          p[i] = weight - lr * grad
          continue
        }
        first[i] = c.firstStep ? grad : c.momentum * first[i] + grad
        p[i] = weight - lr * (c.nesterov ? grad + c.momentum * first[i] : first[i])
      case Int32(SRNN_RULE_ADAM):
        first[i] = b1 * first[i] + (1 - b1) * grad
        second[i] = b2 * second[i] + (1 - b2) * grad * grad
        p[i] = weight - stepSize * (first[i] / (second[i].squareRoot() / root2 + eps))
      default:
        second[i] = alpha * second[i] + (1 - alpha) * grad * grad
        if c.momentum == 0 {
          p[i] = weight - lr * grad / (second[i].squareRoot() + eps)
        } else {
          first[i] = c.momentum * first[i] + grad / (second[i].squareRoot() + eps)
          p[i] = weight - lr * first[i]
        }
      }
    }
  }

  @Test(arguments: ruleCases)
  func everyRuleEqualsItsFormulaBitForBitOnOneAndTwoThreads(_ c: RuleCase) throws {
    let count = (1 << 15) + 37  // above the parallel threshold, with a remainder
    let g = values(count, seed: 1)
    var expected = (p: values(count, seed: 2), m: values(count, seed: 3, scale: 0.1), v: [Float]())
    expected.v = values(count, seed: 4).map { $0 * $0 }
    let start = expected
    reference(c, p: &expected.p, g: g, first: &expected.m, second: &expected.v)
    for threads in [1, 2] {
      var (p, m, v) = start
      try withThreads(threads) {
        p.withUnsafeMutableBufferPointer { p in
          m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
              g.withUnsafeBufferPointer { g in
                var u = srnn_update()
                u.rule = c.rule
                u.threads = Int32(threads)
                u.count = Int64(count)
                u.parameters = p.baseAddress
                u.gradients = g.baseAddress
                u.first = m.baseAddress
                u.second = v.baseAddress
                u.learning_rate = 0.01
                u.momentum = c.momentum
                u.alpha = 0.9
                u.epsilon = 1e-8
                u.beta1 = 0.9
                u.beta2 = 0.999
                u.step_size = 0.05
                u.root_correction2 = 0.3
                u.l2 = c.l2
                u.decay = c.decay
                u.decays = c.decay != 1 ? 1 : 0
                u.nesterov = c.nesterov ? 1 : 0
                u.first_step = c.firstStep ? 1 : 0
                srnn_optimizer_update(&u)
              }
            }
          }
        }
      }
      // Buffers a rule does not use stay as they were on both sides.
      #expect(p == expected.p, "parameters, \(threads) thread(s)")
      #expect(m == expected.m, "first moment or momentum, \(threads) thread(s)")
      #expect(v == expected.v, "second moment, \(threads) thread(s)")
    }
  }
}

@Suite struct VectorPassKernelTests {
  @Test(arguments: [(1, 7), (3, 64), (997, 300), (2500, 512)])
  func biasGradientsSumColumnsInRowOrderIntoBothOutputs(rows: Int, columns: Int) throws {
    let ld = columns + 5
    let m = values(rows * ld, seed: 7)
    let base = values(columns, seed: 8)
    var expected = base
    for r in 0..<rows {
      for j in 0..<columns { expected[j] += m[r * ld + j] }
    }
    // The kernel sums a column first and adds it once: the same as the row loop from zero.
    var sums = [Float](repeating: 0, count: columns)
    for r in 0..<rows {
      for j in 0..<columns { sums[j] += m[r * ld + j] }
    }
    let fromZero = zip(base, sums).map { $0 + $1 }
    for threads in [1, 2] {
      var out = base
      var also = [Float](repeating: 0, count: columns)
      srnn_bias_gradients(m, Int64(rows), Int64(columns), Int64(ld), &out, &also, Int32(threads))
      #expect(out == fromZero, "\(threads) thread(s)")
      #expect(also == sums, "\(threads) thread(s)")
      let worst = zip(out, expected).map { abs($0 - $1) }.max()!
      #expect(worst <= 1e-3, "against the running sum: \(worst)")
    }
  }

  /// Enough rows (801 x 45 floats) that two threads split them.
  @Test func biasRowsAddBothBiasesToTheFoldedPart() {
    let (rows, width, folded) = (801, 45, 30)
    let a = values(width, seed: 9)
    let b = values(width, seed: 10)
    let original = values(rows * width, seed: 11)
    var expected = original
    for r in 0..<rows {
      for j in 0..<width { expected[r * width + j] += j < folded ? a[j] + b[j] : a[j] }
    }
    for threads in [1, 2] {
      var x = original
      srnn_add_bias_rows(&x, Int64(rows), Int64(width), a, b, Int64(folded), Int32(threads))
      let wrong = zip(x, expected).filter { $0 != $1 }.count
      #expect(wrong == 0, "\(threads) thread(s): \(wrong) of \(x.count) values differ")
    }
  }

  /// Token rows come from the table; positions past a sequence's length get
  /// the biases alone, as a zero input row would. Large enough to split.
  @Test func tokenRowsAreGatheredAndPaddingGetsTheBiases() {
    let (batch, steps, width, folded, vocab) = (7, 40, 128, 96, 11)
    let table = values(vocab * width, seed: 15)
    let a = values(width, seed: 16)
    let b = values(width, seed: 17)
    let tokens: [Int32] = (0..<batch * steps).map { Int32(($0 * 5 + 3) % vocab) }
    let lengths: [Int64] = (0..<batch).map { Int64(1 + ($0 * 13) % steps) }
    var expected = [Float](repeating: .nan, count: batch * steps * width)
    for s in 0..<steps {
      for i in 0..<batch {
        for j in 0..<width {
          let token = Int(tokens[i * steps + s])
          expected[(s * batch + i) * width + j] =
            s < lengths[i] ? table[token * width + j] : (j < folded ? a[j] + b[j] : a[j])
        }
      }
    }
    for threads in [1, 2] {
      var out = [Float](repeating: .nan, count: expected.count)
      srnn_gather_token_rows(
        table, tokens, lengths, Int64(batch), Int64(steps), Int64(width), a, b, Int64(folded),
        &out, Int32(threads))
      let wrong = zip(out, expected).filter { $0 != $1 }.count
      #expect(wrong == 0, "\(threads) thread(s): \(wrong) of \(out.count) values differ")
    }
  }

  @Test func nonFiniteValuesAreFoundAtTheirFirstIndex() {
    var x = values(1031, seed: 12)
    #expect(srnn_find_nonfinite(x, Int64(x.count)) == -1)
    for (index, bad) in [(1030, Float.nan), (17, .infinity), (0, -.infinity)] {
      x[index] = bad
      #expect(srnn_find_nonfinite(x, Int64(x.count)) == Int64(index))
    }
    #expect(srnn_find_nonfinite(x, 0) == -1)
  }

  @Test func sumOfSquaresMatchesDoublePrecision() {
    let x = values(100_003, seed: 13, scale: 30)
    let exact = x.reduce(0.0) { $0 + Double($1) * Double($1) }
    let got = srnn_sum_squares(x, Int64(x.count))
    #expect(abs(got - exact) <= 1e-12 * exact)
    #expect(srnn_sum_squares(x, 3) == x[0..<3].reduce(0.0) { $0 + Double($1) * Double($1) })
  }

  @Test func clampAndScaleWorkInPlace() {
    var x = values(77, seed: 14, scale: 3)
    let original = x
    srnn_clamp(x, Int64(x.count), 1.5, &x)
    #expect(x == original.map { min(max($0, -1.5), 1.5) })
    srnn_scale(x, Int64(x.count), 0.25, &x)
    #expect(x == original.map { min(max($0, -1.5), 1.5) * 0.25 })
  }
}

@Suite struct SequenceLossKernelTests {
  /// A padded batch: time-major logits, batch-major targets and weights, one weight zero.
  @Test(arguments: [false, true])
  func rowsMatchTheOneRowKernelAndDoNotDependOnThreads(perSequence: Bool) throws {
    let (b, t, o) = (37, 23, 65)
    let lengths: [Int64] = (0..<b).map { Int64(1 + ($0 * 7) % t) }
    let rows = perSequence ? b : t * b
    let logits = values(rows * o, seed: 15, scale: 4)
    let targets: [Int32] = (0..<(perSequence ? b : b * t)).map { Int32(($0 * 13) % o) }
    var weights = values(targets.count, seed: 16).map { abs($0) }
    weights[3] = 0
    let divisor = 17.0
    var results: [([Double], [Float], Int64)] = []
    for threads in [1, 2] {
      var losses = [Double](repeating: .nan, count: rows)
      var gradients = [Float](repeating: .nan, count: rows * o)
      var job = srnn_sequence_loss()
      try withUnsafePointers(logits, targets, weights, lengths) { l, tg, w, len in
        job.logits = l
        job.targets = tg
        job.weights = w
        job.lengths = len
        job.batch = Int64(b)
        job.steps = Int64(t)
        job.classes = Int64(o)
        job.per_sequence = perSequence ? 1 : 0
        job.threads = Int32(threads)
        job.divisor = divisor
        losses.withUnsafeMutableBufferPointer { out in
          gradients.withUnsafeMutableBufferPointer { grad in
            job.row_losses = out.baseAddress
            job.gradients = grad.baseAddress
            srnn_sequence_cross_entropy(&job)
          }
        }
      }
      results.append((losses, gradients, job.correct))
    }
    #expect(results[0].0 == results[1].0 && results[0].1 == results[1].1)
    #expect(results[0].2 == results[1].2)
    // Each counted row equals the one-row kernel; the others are zero.
    var correct: Int64 = 0
    for row in 0..<rows {
      let (s, i) = perSequence ? (0, row) : (row / b, row % b)
      let index = perSequence ? i : i * t + s
      let counts = s < lengths[i] && weights[index] != 0
      var grad = [Float](repeating: 0, count: o)
      var best: Int64 = 0
      let scale = Float(Double(weights[index]) / divisor)
      let loss = logits.withUnsafeBufferPointer {
        srnn_softmax_cross_entropy(
          $0.baseAddress! + row * o, Int64(o), targets[index], scale, &grad, &best)
      }
      let got = Array(results[0].1[(row * o)..<((row + 1) * o)])
      if counts {
        #expect(results[0].0[row] == Double(weights[index]) * loss)
        #expect(got == grad)
        if best == Int64(targets[index]) { correct += 1 }
      } else {
        #expect(results[0].0[row] == 0 && got.allSatisfy { $0 == 0 })
      }
    }
    #expect(results[0].2 == correct)
  }

  private func withUnsafePointers(
    _ a: [Float], _ b: [Int32], _ c: [Float], _ d: [Int64],
    _ body: (UnsafePointer<Float>, UnsafePointer<Int32>, UnsafePointer<Float>, UnsafePointer<Int64>)
      throws -> Void
  ) rethrows {
    try a.withUnsafeBufferPointer { a in
      try b.withUnsafeBufferPointer { b in
        try c.withUnsafeBufferPointer { c in
          try d.withUnsafeBufferPointer { d in
            try body(a.baseAddress!, b.baseAddress!, c.baseAddress!, d.baseAddress!)
          }
        }
      }
    }
  }
}
