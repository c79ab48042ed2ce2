// The float32 SIMD kernels: the transcendental functions against double
// precision, and the fused float32 backward pass against the float64 engine
// (whose gradients the finite-difference tests establish).

import CSeqRNNKernels
import Foundation
import Testing

@testable import SeqRNN

/// Distance in units in the last place between a float result and the exact value.
private func ulpError(_ got: Float, _ exact: Double) -> Double {
  let rounded = Float(exact)
  if got == rounded { return 0 }
  return abs(Double(got) - exact)
    / Double(rounded.ulp == 0 ? Float.leastNonzeroMagnitude : rounded.ulp)
}

/// Every float from -limit to limit on a fine grid, plus special points.
private func grid(_ limit: Float, count: Int = 200_001) -> [Float] {
  var values = (0..<count).map { -limit + 2 * limit * Float($0) / Float(count - 1) }
  values += [0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 0.39999, 0.4, 0.40001, -0.4]
  return values
}

@Suite struct TranscendentalAccuracyTests {
  @Test func expIsWithinTwoUlp() {
    let x = grid(87)
    var y = [Float](repeating: 0, count: x.count)
    srnn_exp(x, &y, Int64(x.count))
    let worst = zip(x, y).map { ulpError($1, Foundation.exp(Double($0))) }.max()!
    #expect(worst <= 2, "worst exp error \(worst) ulp")
  }

  @Test func sigmoidIsWithinThreeUlp() {
    let x = grid(30)
    var y = [Float](repeating: 0, count: x.count)
    srnn_sigmoid(x, &y, Int64(x.count))
    let worst = zip(x, y).map { ulpError($1, 1 / (1 + Foundation.exp(-Double($0)))) }.max()!
    #expect(worst <= 3, "worst sigmoid error \(worst) ulp")
    var saturated: [Float] = [0, 0]
    srnn_sigmoid([-200, 200], &saturated, 2)
    #expect(saturated[0] >= 0 && saturated[0] < 1e-30 && saturated[1] == 1)
  }

  @Test func tanhIsWithinThreeUlp() {
    let x = grid(12)
    var y = [Float](repeating: 0, count: x.count)
    srnn_tanh(x, &y, Int64(x.count))
    let worst = zip(x, y).map { ulpError($1, Foundation.tanh(Double($0))) }.max()!
    #expect(worst <= 3, "worst tanh error \(worst) ulp")
    var saturated: [Float] = [0, 0, 0]
    srnn_tanh([-500, 500, -0.0], &saturated, 3)
    #expect(saturated == [-1, 1, 0])
  }

  @Test func notANumberPropagates() {
    let x: [Float] = [.nan, -.nan, 1]
    var y = [Float](repeating: 0, count: 3)
    for function in [srnn_exp, srnn_sigmoid, srnn_tanh] {
      function(x, &y, 3)
      #expect(y[0].isNaN && y[1].isNaN && !y[2].isNaN)
    }
  }
}

@Suite struct FloatBackwardTests {
  /// Trainer (float32 kernels) gradients equal the float64 engine's to float
  /// rounding: 1e-4 relative to the largest gradient of each tensor, far
  /// below the size of any real mistake (a wrong term changes gradients by
  /// O(1) relative) and far above float32 accumulation error at these sizes.
  @Test(arguments: CellType.allCases, [false, true])
  func floatGradientsMatchFloat64(cell: CellType, bidirectional: Bool) throws {
    let config = ModelConfiguration(
      cell: cell, vocabSize: 7, hiddenSize: 19, numLayers: 2, bidirectional: bidirectional,
      outputSize: 5, seed: 17)
    let model = try Model(config)
    var rng = SeededRNG(seed: 23)
    let (b, t) = (4, 6)
    let batch = Batch(
      batchSize: b, seqLen: t, tokens: (0..<(b * t)).map { _ in Int32(rng.index(7)) },
      lengths: [6, 3, 1, 5], targetClasses: (0..<(b * t)).map { _ in Int32(rng.index(5)) })
    let trainer = try Trainer(model: model)
    let floatLoss = try trainer.computeGradients(batch)
    var parameters: [String: [Double]] = [:]
    for info in model.tensorInfos {
      parameters[info.name] = try model.tensor(named: info.name).map(Double.init)
    }
    let probe = try GradientProbe.evaluate(
      configuration: config, parameters: parameters, batch: batch, features: nil)
    #expect(abs(Double(floatLoss) - probe.loss) <= 1e-5 * probe.loss)
    for info in model.tensorInfos {
      let got = try trainer.gradient(named: info.name)
      let want = probe.gradients[info.name]!
      let scale = max(want.map(abs).max()!, 1e-6)
      let worst = zip(got, want).map { abs(Double($0) - $1) }.max()!
      #expect(worst <= 1e-4 * scale, "\(info.name): worst difference \(worst), scale \(scale)")
    }
  }
}
