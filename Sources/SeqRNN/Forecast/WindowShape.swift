/// The shape of a batch of forecasting windows, `[count][lags][features]`,
/// checked once so the loops over it can trust its products.
package struct WindowShape: Sendable, Equatable {
  /// Windows in the batch.
  package let count: Int
  /// Steps in each window.
  package let lags: Int
  /// Values per step.
  package let features: Int

  /// Checks that every size is at least 1 and that the element count fits
  /// in an `Int`; `name` is the windows' name in error messages.
  package init(count: Int, lags: Int, features: Int, name: String = "windows")
    throws(SeqRNNError)
  {
    try requirePositive(count, "count")
    try requirePositive(lags, "lags")
    try requirePositive(features, "features")
    let (step, o1) = lags.multipliedReportingOverflow(by: features)
    let (_, o2) = step.multipliedReportingOverflow(by: count)
    guard !o1, !o2 else {
      throw .invalidArgument(
        "\(name): count * lags * features = \(count) * \(lags) * \(features) is too large")
    }
    self.count = count
    self.lags = lags
    self.features = features
  }

  /// Values in one window, `lags * features`.
  package var windowElements: Int { lags * features }
  /// Values in all windows.
  package var elements: Int { count * lags * features }
  /// Values of one forecast per window, `count * features`.
  package var forecastElements: Int { count * features }
}

/// Throws `.invalidArgument` unless `value >= 1`.
package func requirePositive(_ value: Int, _ name: String) throws(SeqRNNError) {
  guard value >= 1 else { throw .invalidArgument("\(name) must be >= 1, got \(value)") }
}

/// Throws `.nonFinite` at the first non-finite value, naming it by its
/// position in `shape` (row-major), e.g. `series[3][0] is nan`.
package func requireFinite(
  _ values: UnsafePointer<Double>, count: Int, _ name: String, shape: [Int], hint: String = ""
) throws(SeqRNNError) {
  for i in 0..<count where !values[i].isFinite {
    var index = i
    var parts = [Int](repeating: 0, count: shape.count)
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
      parts[d] = index % shape[d]
      index /= shape[d]
    }
    let position = parts.map { "[\($0)]" }.joined()
    throw .nonFinite("\(name)\(position) is \(values[i]); values must be finite\(hint)")
  }
}

/// Calls `body` with a pointer to `array`'s elements after checking that it
/// holds `expected` of them (`.shapeMismatch` naming `name` otherwise).
package func withChecked<R>(
  _ array: [Double], _ expected: Int, _ name: String,
  _ body: (UnsafePointer<Double>) throws(SeqRNNError) -> R
) throws(SeqRNNError) -> R {
  guard array.count == expected else {
    throw .shapeMismatch("\(name) has \(array.count) values, expected \(expected)")
  }
  return try array.withUnsafeBufferPointer { (buffer) throws(SeqRNNError) in
    if let base = buffer.baseAddress { return try body(base) }
    // An empty array may have no storage; nothing is read through this.
    var none = 0.0
    return try withUnsafePointer(to: &none) { (p) throws(SeqRNNError) in try body(p) }
  }
}

/// A new array of `count` values filled by `body` through a pointer.
package func filledArray(
  count: Int, _ body: (UnsafeMutablePointer<Double>) throws(SeqRNNError) -> Void
) throws(SeqRNNError) -> [Double] {
  var result = [Double](repeating: 0, count: count)
  try result.withUnsafeMutableBufferPointer { (buffer) throws(SeqRNNError) in
    if let base = buffer.baseAddress { return try body(base) }
    // Nothing is written for an empty result.
    var none = 0.0
    try withUnsafeMutablePointer(to: &none) { (p) throws(SeqRNNError) in try body(p) }
  }
  return result
}
