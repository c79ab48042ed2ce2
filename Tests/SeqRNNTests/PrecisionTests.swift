// The opt-in bfloat16 precision (AMX): its GEMM exactly, and whole networks against float64.
//
// 1. GEMM layout: with operands whose values are exact in bfloat16 (integers -8..8) and
//    products summed exactly in float32 (|sum| < 2^24), srnn_gemm_bf16 must equal the float64
//    product exactly, for every transpose case, beta 0 and 1, and shapes with partial row tiles,
//    partial column groups and partial k-blocks. A misplaced element or a lost tail changes a
//    result by at least 1.
// 2. Networks: bfloat16 keeps 8 significant bits, so each product operand is off by up to 2^-9
//    relative; a sum of many such terms is off by about 2^-9 times the root-sum-square of its
//    terms (errors of random sign), a few 1e-3 of the largest entries here. We accept
//    |bf16 - float64| <= 3e-2 · max|float64 entry of that tensor| (the loss: 3e-2 ·
//    max(1, |loss|)): a wrong gate, unit, step or a race between threads changes entries by
//    O(max) and fails it, while bfloat16 rounding stays an order of magnitude inside. Neither
//    the thread count nor how two threads split a step may change a bit. The ReLU RNN is left out: its derivative jumps at 0, and bfloat16 rounding moves some
//    pre-activations across 0, which legitimately changes gradient entries by O(1). The tanh RNN
//    runs the very same bfloat16 products (one gate), and the ReLU cell pass itself is the
//    float32 one that RecurrenceKernelTests checks.

import CSeqRNNKernels
import Testing

@testable import SeqRNN

@Suite(
  "bfloat16 precision", .serialized,
  .enabled(if: Precision.bfloat16.isAvailable, "needs AMX-BF16"))
struct PrecisionTests {
  @Test(
    "GEMM is exact on bf16-exact operands",
    arguments: [
      (false, false), (false, true), (true, false), (true, true),
    ])
  func gemmExact(_ transposes: (Bool, Bool)) {
    let (transA, transB) = transposes
    var rng = SeededRNG(seed: 7)
    for (m, n, k) in [(1, 1, 1), (17, 33, 45), (40, 16, 32), (33, 130, 70), (100, 48, 300)] {
      for beta: Float in [0, 1] {
        let a = (0..<(m * k)).map { _ in Float(Int(rng.next() % 17) - 8) }
        let b = (0..<(k * n)).map { _ in Float(Int(rng.next() % 17) - 8) }
        let c0 = (0..<(m * n)).map { _ in Float(Int(rng.next() % 17) - 8) }
        var c = c0
        let lda = transA ? m : k
        let ldb = transB ? k : n
        let done = srnn_gemm_bf16(
          transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), 1, a, Int64(lda), b,
          Int64(ldb), beta, &c, Int64(n))
        #expect(done == 1)
        var wrong = 0
        for i in 0..<m {
          for j in 0..<n {
            var sum = Double(beta) * Double(c0[i * n + j])
            for p in 0..<k {
              let x = transA ? a[p * lda + i] : a[i * lda + p]
              let y = transB ? b[j * ldb + p] : b[p * ldb + j]
              sum += Double(x) * Double(y)
            }
            if Double(c[i * n + j]) != sum { wrong += 1 }
          }
        }
        #expect(wrong == 0, "\(m)x\(n)x\(k) trans \(transA),\(transB) beta \(beta): \(wrong) wrong")
      }
    }
  }

  @Test("both weight gradients in one product are exact on bf16-exact operands")
  func weightGradientsExact() throws {
    var rng = SeededRNG(seed: 11)
    func values(_ count: Int) -> [Float] {
      (0..<count).map { _ in Float(Int(rng.next() % 17) - 8) }
    }
    for (k, n, mx, mh) in [(45, 33, 17, 20), (300, 130, 64, 40), (32, 16, 1, 130)] {
      for (beta, threads) in [(Float(0), 1), (1, 1), (1, 2)] {
        let (ldg, ldx, ldh) = (n + 3, mx + 1, mh + 2)
        let dg = values(k * ldg)
        let x = values(k * ldx)
        let h = values(k * ldh)
        let dwx0 = values(n * mx)
        let dwh0 = values(n * mh)
        var (dwx, dwh) = (dwx0, dwh0)
        let done = try withThreads(threads) {
          srnn_gemm_bf16_weight_gradients(
            Int64(k), Int64(n), dg, Int64(ldg), x, Int64(mx), Int64(ldx), &dwx, Int64(mx), h,
            Int64(mh), Int64(ldh), &dwh, Int64(mh), beta)
        }
        #expect(done == 1)
        // dW[i][j] = beta * dW0[i][j] + sum over p of dG[p][i] * Z[p][j], Z = X or H.
        func wrong(_ got: [Float], _ start: [Float], _ z: [Float], _ m: Int, _ ldz: Int) -> Int {
          var count = 0
          for i in 0..<n {
            for j in 0..<m {
              var sum = Double(beta) * Double(start[i * m + j])
              for p in 0..<k { sum += Double(dg[p * ldg + i]) * Double(z[p * ldz + j]) }
              if Double(got[i * m + j]) != sum { count += 1 }
            }
          }
          return count
        }
        let label = "k \(k) n \(n) mx \(mx) mh \(mh) beta \(beta) threads \(threads)"
        #expect(wrong(dwx, dwx0, x, mx, ldx) == 0, "dWx, \(label)")
        #expect(wrong(dwh, dwh0, h, mh, ldh) == 0, "dWh, \(label)")
      }
    }
  }

  @Test("GEMM declines what it does not do")
  func gemmDeclines() {
    var c: [Float] = [0]
    let one: [Float] = [1]
    #expect(srnn_gemm_bf16(0, 0, 1, 1, 1, 2, one, 1, one, 1, 0, &c, 1) == 0)  // alpha 2
    #expect(srnn_gemm_bf16(0, 0, 1, 1, 1, 1, one, 1, one, 1, 0.5, &c, 1) == 0)  // beta 0.5
  }

  static let cases: [RecurrenceCase] = CellType.allCases.filter { $0 != .rnnRelu }.flatMap {
    cell in
    [
      RecurrenceCase(
        cell: cell, hidden: 130, bidirectional: true, layers: 2, batch: 13,
        recurrentDropout: false),
      RecurrenceCase(
        cell: cell, hidden: 70, bidirectional: false, layers: 1, batch: 9,
        recurrentDropout: true),
    ]
  }

  @Test("networks against float64", arguments: cases)
  func networkMatchesFloat64(_ c: RecurrenceCase) throws {
    try checkAgainstFloat64(
      c, precision: .bfloat16, lossTolerance: 3e-2, gradientTolerance: 3e-2, floor: 0)
  }

  @Test("a model switches precision and back")
  func modelPrecision() throws {
    let model = try Model(
      ModelConfiguration(
        cell: .lstm, inputSize: 3, vocabSize: 0, hiddenSize: 64, numLayers: 1,
        bidirectional: false, outputSize: 2, outputMode: .sequence, loss: .meanSquaredError))
    #expect(model.precision == .float32)
    try model.setPrecision(.bfloat16)
    #expect(model.precision == .bfloat16)
    try model.setPrecision(.float32)
    #expect(model.precision == .float32)
  }
}
