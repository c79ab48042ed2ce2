/// A batch of forecasting windows: `values` is `[count][lags][features]`
/// flat (row-major), every value finite.
public struct WindowBatch: Sendable, Equatable {
  /// The windows' values.
  public let values: [Double]
  /// Windows in the batch.
  public let count: Int
  /// Steps in each window.
  public let lags: Int
  /// Values per step.
  public let features: Int

  /// Wraps `values` after checking its length against the sizes (each
  /// >= 1) and that every value is finite.
  public init(values: [Double], count: Int, lags: Int, features: Int) throws(SeqRNNError) {
    let shape = try WindowShape(count: count, lags: lags, features: features)
    try withChecked(values, shape.elements, "windows") { (v) throws(SeqRNNError) in
      try requireFinite(v, count: shape.elements, "windows", shape: [count, lags, features])
    }
    self.values = values
    self.count = count
    self.lags = lags
    self.features = features
  }

  /// The checked shape.
  package var shape: WindowShape {
    // The initialiser checked these sizes.
    try! WindowShape(count: count, lags: lags, features: features)
  }

  /// Window `i`, `[lags][features]`.
  public func window(_ i: Int) -> ArraySlice<Double> {
    values[(i * lags * features)..<((i + 1) * lags * features)]
  }
}

/// Lag windows cut from a series and the value each one should forecast.
public struct LaggedWindows: Sendable, Equatable {
  /// `windows.window(i)` is steps `i ..< i + lags` of the series.
  public let windows: WindowBatch
  /// `[count][features]`: step `i + lags + horizon - 1` of the series.
  public let targets: [Double]
}

/// Cuts `series` (`[time][features]` flat, finite) into lag windows and
/// their targets `horizon` steps after each window's last step (1: the next
/// step). There are `time - lags - horizon + 1` windows; too few steps
/// throw `.shapeMismatch`.
public func makeWindows(series: [Double], features: Int = 1, lags: Int, horizon: Int = 1)
  throws(SeqRNNError) -> LaggedWindows
{
  try requirePositive(features, "features")
  guard series.count % features == 0 else {
    throw .shapeMismatch(
      "series has \(series.count) values, not a multiple of features = \(features)")
  }
  let time = series.count / features
  let count = try windowCount(time: time, lags: lags, horizon: horizon)
  let shape = try WindowShape(count: count, lags: lags, features: features)
  var values = [Double](repeating: 0, count: shape.elements)
  var targets = [Double](repeating: 0, count: shape.forecastElements)
  try withChecked(series, series.count, "series") { (s) throws(SeqRNNError) in
    try values.withUnsafeMutableBufferPointer { (w) throws(SeqRNNError) in
      try targets.withUnsafeMutableBufferPointer { (t) throws(SeqRNNError) in
        try cutWindows(
          series: s, time: time, features: features, lags: lags, horizon: horizon,
          windows: w.baseAddress!, targets: t.baseAddress!)
      }
    }
  }
  return LaggedWindows(
    windows: try WindowBatch(values: values, count: count, lags: lags, features: features),
    targets: targets)
}

/// The naive forecast "the next value is the last one": each window's last
/// step, `[count][features]` (for any horizon).
public func persistence(windows: WindowBatch) -> [Double] {
  // A WindowBatch is checked, so the pointer form cannot fail.
  try! withChecked(windows.values, windows.values.count, "windows") {
    (w) throws(SeqRNNError) in
    try filledArray(count: windows.count * windows.features) { (out) throws(SeqRNNError) in
      try persistence(windows: w, shape: windows.shape, out: out)
    }
  }
}

/// How many windows of `lags` steps with targets `horizon` steps ahead a
/// series of `time` steps gives; `.invalidArgument` for sizes < 1,
/// `.shapeMismatch` for too few steps.
package func windowCount(time: Int, lags: Int, horizon: Int) throws(SeqRNNError) -> Int {
  try requirePositive(time, "time")
  try requirePositive(lags, "lags")
  try requirePositive(horizon, "horizon")
  // time - lags - horizon + 1 >= 1, without overflow for huge lags/horizon.
  guard lags < time, horizon <= time - lags else {
    let needed = lags.addingReportingOverflow(horizon)
    throw .shapeMismatch(
      "series: \(time) steps are too few for lags=\(lags) and horizon=\(horizon) "
        + "(needs at least \(needed.overflow ? "more" : String(needed.partialValue)))")
  }
  return time - lags - horizon + 1
}

/// The pointer form of `makeWindows`: checks the sizes and the series'
/// values, then fills `windows` (`[count][lags][features]`) and `targets`
/// (`[count][features]`), `count` from `windowCount`.
package func cutWindows(
  series: UnsafePointer<Double>, time: Int, features: Int, lags: Int, horizon: Int,
  windows: UnsafeMutablePointer<Double>, targets: UnsafeMutablePointer<Double>
) throws(SeqRNNError) {
  let count = try windowCount(time: time, lags: lags, horizon: horizon)
  let shape = try WindowShape(count: count, lags: lags, features: features)
  try requireFinite(
    series, count: time * features, "series", shape: [time, features],
    hint: " (fill gaps first)")
  let step = shape.windowElements
  for i in 0..<count {
    // Window i is the contiguous run of steps i ..< i + lags.
    (windows + i * step).update(from: series + i * features, count: step)
    (targets + i * features).update(
      from: series + (i + lags + horizon - 1) * features, count: features)
  }
}

/// The pointer form of `persistence(windows:)`; checks the windows' values.
package func persistence(
  windows: UnsafePointer<Double>, shape: WindowShape, out: UnsafeMutablePointer<Double>
) throws(SeqRNNError) {
  try requireFinite(
    windows, count: shape.elements, "windows", shape: [shape.count, shape.lags, shape.features])
  for i in 0..<shape.count {
    (out + i * shape.features).update(
      from: windows + i * shape.windowElements + (shape.lags - 1) * shape.features,
      count: shape.features)
  }
}
