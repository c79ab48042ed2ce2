/// Root mean squared error of `forecast` against `truth` over all values,
/// `sqrt(mean((truth - forecast)^2))`. The arrays must have the same
/// length (`.shapeMismatch`), at least one value and finite values
/// (`.nonFinite`).
public func rmse(_ truth: [Double], _ forecast: [Double]) throws(SeqRNNError) -> Double {
  try forecastError(truth, forecast, .squared)
}

/// Mean absolute error of `forecast` against `truth`, `mean(|truth -
/// forecast|)`; requirements as `rmse`.
public func mae(_ truth: [Double], _ forecast: [Double]) throws(SeqRNNError) -> Double {
  try forecastError(truth, forecast, .absolute)
}

/// Which error `forecastError` measures.
package enum ErrorMeasure: Sendable {
  /// Root mean squared error.
  case squared
  /// Mean absolute error.
  case absolute
}

private func forecastError(_ truth: [Double], _ forecast: [Double], _ measure: ErrorMeasure)
  throws(SeqRNNError) -> Double
{
  guard truth.count == forecast.count else {
    throw .shapeMismatch(
      "truth and forecast differ in shape: \(truth.count) and \(forecast.count) values")
  }
  return try withChecked(truth, truth.count, "truth") { (t) throws(SeqRNNError) in
    try withChecked(forecast, forecast.count, "forecast") { (f) throws(SeqRNNError) in
      try forecastError(truth: t, forecast: f, count: truth.count, measure)
    }
  }
}

/// The pointer form of `rmse` and `mae` over `count` values.
package func forecastError(
  truth: UnsafePointer<Double>, forecast: UnsafePointer<Double>, count: Int,
  _ measure: ErrorMeasure
) throws(SeqRNNError) -> Double {
  guard count >= 0 else { throw .invalidArgument("count must be >= 0, got \(count)") }
  guard count > 0 else { throw .shapeMismatch("truth and forecast are empty; nothing to compare") }
  try requireFinite(truth, count: count, "truth", shape: [count])
  try requireFinite(forecast, count: count, "forecast", shape: [count])
  // Pairwise sums, as numpy's mean: the rounding error grows with
  // log(count), not count.
  func sum(_ lo: Int, _ hi: Int) -> Double {
    if hi - lo <= 128 {
      var s = 0.0
      for i in lo..<hi {
        let d = truth[i] - forecast[i]
        s += measure == .squared ? d * d : abs(d)
      }
      return s
    }
    let mid = lo + (hi - lo) / 2
    return sum(lo, mid) + sum(mid, hi)
  }
  let mean = sum(0, count) / Double(count)
  return measure == .squared ? mean.squareRoot() : mean
}
