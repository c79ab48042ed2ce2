// Forecasting tools against independent references: scaler statistics from
// their formulas, windows from an index loop, the AR fit against the exact
// generating process, the normal equations (residual orthogonal to every
// design column), a Gaussian-elimination solve and the analytic
// minimum-norm solution of a collinear design; one-step forecasts against a
// tanh RNN's equations and the model's own forward pass, recursive
// forecasts against step-by-step one-step calls; errors for bad input.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import SeqRNN
import Testing

private func near(_ a: Double, _ b: Double, _ tolerance: Double) -> Bool {
  abs(a - b) <= tolerance * max(1, abs(a), abs(b))
}

/// A smooth two-feature series with noise, `[n][2]`.
private func wavySeries(_ n: Int, seed: UInt64) -> [Double] {
  var rng = SeededRNG(seed: seed)
  var x = [Double]()
  for i in 0..<(n * 2) {
    let period = 4.0 + Double(i % 2)
    let wave: Double = 3 * sin(Double(i / 2) / period)
    x.append(10 + wave + rng.uniform(0.2))
  }
  return x
}

/// Expects `body` to throw an error of the same case as `expected`.
private func expectError(
  _ expected: (String) -> SeqRNNError, _ body: () throws -> Void,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  func kind(_ e: SeqRNNError) -> String { "\(Mirror(reflecting: e).children.first?.label ?? "")" }
  do {
    try body()
    Issue.record("no error thrown", sourceLocation: sourceLocation)
  } catch let error as SeqRNNError {
    #expect(kind(error) == kind(expected("")), "got \(error)", sourceLocation: sourceLocation)
  } catch {
    Issue.record("not a SeqRNNError: \(error)", sourceLocation: sourceLocation)
  }
}

/// Solves the normal equations `(A^T A) x = A^T b` by Gaussian elimination
/// with partial pivoting: a plain reference for a well-conditioned design.
private func normalEquations(_ a: [[Double]], _ b: [Double]) -> [Double] {
  let n = a[0].count
  var m = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
  for i in 0..<n {
    for j in 0..<n { m[i][j] = a.indices.reduce(0) { $0 + a[$1][i] * a[$1][j] } }
    m[i][n] = a.indices.reduce(0) { $0 + a[$1][i] * b[$1] }
  }
  for c in 0..<n {
    let p = (c..<n).max { abs(m[$0][c]) < abs(m[$1][c]) }!
    m.swapAt(c, p)
    for r in (c + 1)..<n {
      let f = m[r][c] / m[c][c]
      for k in c...n { m[r][k] -= f * m[c][k] }
    }
  }
  var x = [Double](repeating: 0, count: n)
  for r in stride(from: n - 1, through: 0, by: -1) {
    x[r] = (m[r][n] - ((r + 1)..<n).reduce(0) { $0 + m[r][$1] * x[$1] }) / m[r][r]
  }
  return x
}

@Suite struct ForecastTests {
  // MARK: scaling

  @Test func standardScalerStatistics() throws {
    let x = wavySeries(50, seed: 1)
    let s = try Scaler(fitting: x, features: 2, method: .standard)
    for f in 0..<2 {
      let column = stride(from: f, to: x.count, by: 2).map { x[$0] }
      let mean = column.reduce(0, +) / 50
      let std = (column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 50).squareRoot()
      #expect(near(s.offset[f], mean, 1e-14) && near(s.scale[f], std, 1e-13))
    }
    let z = try s.transform(x)
    for i in x.indices { #expect(z[i] == (x[i] - s.offset[i % 2]) / s.scale[i % 2]) }
    let back = try s.inverseTransform(z)
    #expect(zip(back, x).allSatisfy { near($0, $1, 1e-14) })
  }

  @Test func minMaxScalerAndConstantFeatures() throws {
    let s = try Scaler(fitting: [2, 1, 2, 3, 2, 5, 2, 2], features: 2, method: .minMax)
    #expect(s.offset == [2, 1] && s.scale == [1, 4])
    #expect(try s.transform([3, 3, 2, 0]) == [1, 0.5, 0, -0.25])
    let c = try Scaler(fitting: [0.1, 0.1, 0.1])
    #expect(c.offset == [0.1] && c.scale == [1])
    #expect(try Scaler(offset: [1], scale: [2]).transform([5, 1]) == [2, 0])
  }

  @Test func scalerErrors() {
    expectError(SeqRNNError.nonFinite) { _ = try Scaler(fitting: [1, .nan]) }
    expectError(SeqRNNError.shapeMismatch) { _ = try Scaler(fitting: [1, 2, 3], features: 2) }
    expectError(SeqRNNError.shapeMismatch) { _ = try Scaler(fitting: []) }
    expectError(SeqRNNError.invalidArgument) { _ = try Scaler(offset: [0], scale: [0]) }
    expectError(SeqRNNError.shapeMismatch) { _ = try Scaler(offset: [0, 1], scale: [1]) }
    expectError(SeqRNNError.nonFinite) {
      _ = try Scaler(fitting: [-1.5e308, 1.5e308], method: .minMax)
    }
    expectError(SeqRNNError.shapeMismatch) {
      _ = try Scaler(offset: [0, 0], scale: [1, 1]).transform([1, 2, 3])
    }
  }

  // MARK: windows

  @Test func windowsMatchAnIndexLoop() throws {
    let x = (0..<40).map { Double($0) * 0.5 - 3 }  // [20][2]
    for (lags, horizon) in [(1, 1), (4, 3), (7, 1), (10, 9)] {
      let cut = try makeWindows(series: x, features: 2, lags: lags, horizon: horizon)
      let n = 20 - lags - horizon + 1
      #expect(cut.windows.count == n && cut.targets.count == n * 2)
      for i in 0..<n {
        #expect(Array(cut.windows.window(i)) == Array(x[(i * 2)..<((i + lags) * 2)]))
        let t = i + lags + horizon - 1
        #expect(Array(cut.targets[(i * 2)..<(i * 2 + 2)]) == [x[t * 2], x[t * 2 + 1]])
      }
      let last = persistence(windows: cut.windows)
      for i in 0..<n {
        #expect(
          last[i * 2] == x[(i + lags - 1) * 2] && last[i * 2 + 1] == x[(i + lags - 1) * 2 + 1])
      }
    }
  }

  @Test func windowErrors() {
    expectError(SeqRNNError.shapeMismatch) {
      _ = try makeWindows(series: [1, 2, 3, 4, 5], lags: 4, horizon: 2)
    }
    expectError(SeqRNNError.invalidArgument) { _ = try makeWindows(series: [1, 2, 3], lags: 0) }
    expectError(SeqRNNError.invalidArgument) {
      _ = try makeWindows(series: [1, 2, 3], lags: 1, horizon: 0)
    }
    expectError(SeqRNNError.nonFinite) { _ = try makeWindows(series: [1, .infinity, 2], lags: 1) }
    expectError(SeqRNNError.shapeMismatch) {
      _ = try makeWindows(series: [1, 2, 3], features: 2, lags: 1)
    }
    expectError(SeqRNNError.shapeMismatch) {
      _ = try WindowBatch(values: [1, 2, 3], count: 2, lags: 1, features: 1)
    }
    expectError(SeqRNNError.nonFinite) {
      _ = try WindowBatch(values: [1, .nan], count: 2, lags: 1, features: 1)
    }
  }

  // MARK: linear AR

  @Test func linearARRecoversAnExactVAR() throws {
    // x_t = A1 x_{t-1} + A2 x_{t-2} + c for two features, without noise.
    let a1 = [[0.5, -0.2], [0.1, 0.3]]
    let a2 = [[-0.25, 0.05], [0.0, -0.1]]
    let c = [1.0, -2.0]
    var x: [[Double]] = [[1, 0], [0.5, 2]]
    var rng = SeededRNG(seed: 4)
    for t in 2..<60 {
      // A small kick every step keeps the design well conditioned.
      var next = c
      for g in 0..<2 {
        for f in 0..<2 {
          let recent: Double = a1[g][f] * x[t - 1][f]
          let older: Double = a2[g][f] * x[t - 2][f]
          next[g] += recent + older
        }
      }
      x.append(next)
      if t < 40 { x[t][rng.index(2)] += rng.uniform(1) }
    }
    // Only windows whose target follows the process exactly.
    let cut = try makeWindows(series: Array(x[38...].joined()), features: 2, lags: 2)
    let ar = try LinearAR(fitting: cut.windows, targets: cut.targets)
    // Rows: [x_{t-2}; x_{t-1}] flattened, so row 2*lag+f, column g.
    for g in 0..<2 {
      #expect(near(ar.intercept[g], c[g], 1e-8))
      for f in 0..<2 {
        #expect(near(ar.coefficients[(0 * 2 + f) * 2 + g], a2[g][f], 1e-8))
        #expect(near(ar.coefficients[(1 * 2 + f) * 2 + g], a1[g][f], 1e-8))
      }
    }
  }

  @Test func linearARSolvesTheNormalEquations() throws {
    let cut = try makeWindows(series: wavySeries(90, seed: 3), features: 2, lags: 3)
    let ar = try LinearAR(fitting: cut.windows, targets: cut.targets)
    let n = cut.windows.count
    let design = (0..<n).map { [1] + Array(cut.windows.window($0)) }
    let fitted = try ar.predict(cut.windows)
    for g in 0..<2 {
      let y = (0..<n).map { cut.targets[$0 * 2 + g] }
      // Against a Gaussian-elimination solve of A^T A x = A^T y.
      let reference = normalEquations(design, y)
      #expect(near(ar.intercept[g], reference[0], 1e-7))
      for p in 0..<6 { #expect(near(ar.coefficients[p * 2 + g], reference[p + 1], 1e-7)) }
      // The residual is orthogonal to every column of the design.
      let residual = (0..<n).map { y[$0] - fitted[$0 * 2 + g] }
      let rNorm = residual.reduce(0) { $0 + $1 * $1 }.squareRoot()
      for j in 0..<7 {
        let column = design.map { $0[j] }
        let dot = zip(column, residual).reduce(0) { $0 + $1.0 * $1.1 }
        let cNorm = column.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(dot) / (cNorm * rNorm) < 1e-10)
      }
    }
  }

  @Test func linearARMinimumNormForCollinearDesigns() throws {
    // A constant series c: min |x| with x0 + c x1 + c x2 = c is
    // c / (1 + 2c^2) * (1, c, c).
    let c = 3.0
    let cut = try makeWindows(series: [Double](repeating: c, count: 12), lags: 2)
    let ar = try LinearAR(fitting: cut.windows, targets: cut.targets)
    let k = c / (1 + 2 * c * c)
    #expect(near(ar.intercept[0], k, 1e-12))
    #expect(near(ar.coefficients[0], k * c, 1e-12) && near(ar.coefficients[1], k * c, 1e-12))
    // Fewer windows than coefficients: an exact fit of the shortest norm,
    // which lies in the row space of the design.
    let w = try WindowBatch(values: [1, 2, 4, 0, -1, 5], count: 2, lags: 3, features: 1)
    let few = try LinearAR(fitting: w, targets: [3, 7])
    let out = try few.predict(w)
    #expect(near(out[0], 3, 1e-12) && near(out[1], 7, 1e-12))
    // x = A^T y' for some y': solve the 2x2 system (A A^T) y' = targets.
    let rows: [[Double]] = [[1, 1, 2, 4], [1, 0, -1, 5]]
    let g = (0..<2).map { i in
      (0..<2).map { j in zip(rows[i], rows[j]).reduce(0) { $0 + $1.0 * $1.1 } }
    }
    let det = g[0][0] * g[1][1] - g[0][1] * g[1][0]
    let y0 = (3 * g[1][1] - 7 * g[0][1]) / det
    let y1 = (7 * g[0][0] - 3 * g[1][0]) / det
    let expected = (0..<4).map { rows[0][$0] * y0 + rows[1][$0] * y1 }
    let got = few.intercept + few.coefficients
    #expect(zip(got, expected).allSatisfy { near($0, $1, 1e-12) })
  }

  @Test func linearARErrors() throws {
    let w = try WindowBatch(values: [1, 2, 3, 4], count: 2, lags: 2, features: 1)
    expectError(SeqRNNError.shapeMismatch) { _ = try LinearAR(fitting: w, targets: [1]) }
    expectError(SeqRNNError.nonFinite) { _ = try LinearAR(fitting: w, targets: [1, .nan]) }
    let ar = try LinearAR(fitting: w, targets: [3, 5])
    let other = try WindowBatch(values: [1, 2, 3], count: 1, lags: 3, features: 1)
    expectError(SeqRNNError.shapeMismatch) { _ = try ar.predict(other) }
    expectError(SeqRNNError.shapeMismatch) {
      _ = try LinearAR(lags: 2, features: 1, coefficients: [1], intercept: [0])
    }
  }

  // MARK: model forecasts

  /// A tanh RNN (2 features, 3 hidden) with set weights, and its weights.
  private func knownModel() throws -> (Model, [String: [Float]]) {
    let model = try Model(
      ModelConfiguration(
        cell: .rnnTanh, inputSize: 2, hiddenSize: 3, outputSize: 2, outputMode: .last,
        loss: .meanSquaredError))
    var rng = SeededRNG(seed: 9)
    var weights = [String: [Float]]()
    for info in model.tensorInfos {
      weights[info.name] = (0..<info.count).map { _ in Float(rng.uniform(0.7)) }
      try model.setTensor(named: info.name, weights[info.name]!)
    }
    return (model, weights)
  }

  /// The RNN's equations in double over a window rounded to float.
  private func rnnNext(_ w: [String: [Float]], _ window: ArraySlice<Double>) -> [Double] {
    let x = window.map { Double(Float($0)) }
    func d(_ name: String) -> [Double] { w[name]!.map(Double.init) }
    let (wih, whh, bih, bhh) = (
      d("rnn.weight_ih_l0"), d("rnn.weight_hh_l0"), d("rnn.bias_ih_l0"), d("rnn.bias_hh_l0")
    )
    var h = [0.0, 0, 0]
    for s in 0..<(x.count / 2) {
      var next = [0.0, 0, 0]
      for j in 0..<3 {
        var a: Double = bih[j] + bhh[j]
        for f in 0..<2 { a += wih[j * 2 + f] * x[s * 2 + f] }
        for k in 0..<3 { a += whh[j * 3 + k] * h[k] }
        next[j] = tanh(a)
      }
      h = next
    }
    let (wo, bo) = (d("head.weight"), d("head.bias"))
    var out = bo
    for g in 0..<2 {
      for j in 0..<3 { out[g] += wo[g * 3 + j] * h[j] }
    }
    return out
  }

  @Test func oneStepForecastsMatchTheEquationsAndForward() throws {
    let (model, weights) = try knownModel()
    // More windows than one forward chunk (256), so chunks are joined.
    let x = wavySeries(305, seed: 5).map { ($0 - 10) / 3 }
    let cut = try makeWindows(series: x, features: 2, lags: 5)
    let got = try predictNext(model: model, windows: cut.windows)
    #expect(got.count == 300 * 2)
    for i in 0..<cut.windows.count {
      let want = rnnNext(weights, cut.windows.window(i))
      #expect(near(got[i * 2], want[0], 1e-5) && near(got[i * 2 + 1], want[1], 1e-5))
    }
    // The model's own forward pass, one window at a time, gives the same
    // float values.
    for i in [0, 255, 256, 299] {
      let one = try model.forward(
        Batch(batchSize: 1, seqLen: 5, features: cut.windows.window(i).map { Float($0) }))
      #expect(one.outputs.map(Double.init) == Array(got[(i * 2)..<(i * 2 + 2)]))
    }
  }

  @Test func recursiveForecastsFeedForecastsBack() throws {
    let (model, _) = try knownModel()
    let x = wavySeries(40, seed: 6).map { ($0 - 10) / 3 }
    let histories = try WindowBatch(
      values: Array(x[0..<(3 * 5 * 2)]), count: 3, lags: 5, features: 2)
    let steps = 7
    let all = try recursiveForecast(model: model, history: histories, steps: steps)
    #expect(all.count == 3 * steps * 2)
    for b in 0..<3 {
      var window = Array(histories.window(b))
      for k in 0..<steps {
        let next = try predictNext(
          model: model, windows: WindowBatch(values: window, count: 1, lags: 5, features: 2))
        #expect(Array(all[((b * steps + k) * 2)..<((b * steps + k) * 2 + 2)]) == next)
        window = Array(window.dropFirst(2)) + next
      }
    }
    // With a scaler: history in original units, forecasts scaled back.
    let scaler = try Scaler(offset: [7, -2], scale: [50, 0.5])
    let raw = try WindowBatch(
      values: try scaler.inverseTransform(histories.values), count: 3, lags: 5, features: 2)
    let scaled = try recursiveForecast(model: model, history: raw, steps: steps, scaler: scaler)
    let expected = try scaler.inverseTransform(all)
    #expect(zip(scaled, expected).allSatisfy { near($0, $1, 1e-6) })
  }

  @Test func forecastModelChecks() throws {
    let w = try WindowBatch(
      values: [Double](repeating: 0, count: 12), count: 2, lags: 3, features: 2)
    func model(_ c: ModelConfiguration) throws -> Model { try Model(c) }
    let bad: [(ModelConfiguration, (String) -> SeqRNNError)] = [
      (
        ModelConfiguration(
          cell: .gru, vocabSize: 5, hiddenSize: 4, outputSize: 2, outputMode: .last,
          loss: .meanSquaredError), SeqRNNError.invalidArgument
      ),
      (
        ModelConfiguration(
          cell: .gru, inputSize: 2, hiddenSize: 4, outputSize: 2, loss: .meanSquaredError),
        SeqRNNError.invalidArgument
      ),
      (
        ModelConfiguration(
          cell: .lstm, inputSize: 2, hiddenSize: 4, outputSize: 2, outputMode: .last),
        SeqRNNError.invalidArgument
      ),
      (
        ModelConfiguration(
          cell: .lstm, inputSize: 3, hiddenSize: 4, outputSize: 3, outputMode: .last,
          loss: .meanSquaredError), SeqRNNError.shapeMismatch
      ),
    ]
    for (config, error) in bad {
      let m = try model(config)
      expectError(error) { _ = try predictNext(model: m, windows: w) }
      expectError(error) { _ = try recursiveForecast(model: m, history: w, steps: 2) }
    }
    let good = try model(
      ModelConfiguration(
        cell: .lstm, inputSize: 2, hiddenSize: 4, outputSize: 2, outputMode: .last,
        loss: .meanSquaredError))
    expectError(SeqRNNError.invalidArgument) {
      _ = try recursiveForecast(model: good, history: w, steps: 0)
    }
    expectError(SeqRNNError.shapeMismatch) {
      _ = try recursiveForecast(
        model: good, history: w, steps: 1, scaler: Scaler(offset: [0], scale: [1]))
    }
    #expect(try predictNext(model: good, windows: w).count == 4)
  }

  /// The README's Swift forecasting lines, verbatim between the markers.
  @Test func readmeForecastExample() throws {
    let series = (0..<300).map { 10 + 3 * sin(2 * Double.pi * Double($0) / 25) }
    let model = try Model(
      ModelConfiguration(
        cell: .gru, inputSize: 1, hiddenSize: 16, outputSize: 1, outputMode: .last,
        loss: .meanSquaredError))
    // README begin
    let scaler = try Scaler(fitting: Array(series[..<240]), method: .standard)
    let cut = try makeWindows(series: try scaler.transform(series), lags: 25)
    let ar = try LinearAR(fitting: cut.windows, targets: cut.targets)
    let naive = persistence(windows: cut.windows)
    print(try rmse(cut.targets, try ar.predict(cut.windows)), try rmse(cut.targets, naive))
    let history = try WindowBatch(
      values: Array(series[215..<240]), count: 1, lags: 25, features: 1)
    let ahead = try recursiveForecast(model: model, history: history, steps: 10, scaler: scaler)
    // README end
    #expect(ahead.count == 10 && cut.windows.count == 275)
    #expect(try rmse(cut.targets, try ar.predict(cut.windows)) < 1e-9)
  }

  // MARK: error measures

  @Test func errorMeasures() throws {
    #expect(try rmse([1, 2, 4, 7], [2, 2, 1, 7]) == (10.0 / 4).squareRoot())
    #expect(try mae([1, 2, 4, 7], [2, 2, 1, 7]) == 1)
    #expect(try rmse([3], [3]) == 0)
    expectError(SeqRNNError.shapeMismatch) { _ = try rmse([1, 2], [1]) }
    expectError(SeqRNNError.shapeMismatch) { _ = try mae([], []) }
    expectError(SeqRNNError.nonFinite) { _ = try mae([1], [.nan]) }
  }
}
