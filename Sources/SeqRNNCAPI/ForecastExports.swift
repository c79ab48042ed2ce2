import CSeqRNN
import SeqRNN

/// A window shape of C sizes (each in [1, EngineInput.maxPositions]).
func windowShape(_ count: Int64, _ lags: Int64, _ features: Int64) throws(SeqRNNError)
  -> WindowShape
{
  try WindowShape(
    count: try positiveSize(count, "count"), lags: try positiveSize(lags, "lags"),
    features: try positiveSize(features, "features"))
}

/// A C element count that may be 0.
func nonNegativeSize(_ value: Int64, _ name: String) throws(SeqRNNError) -> Int {
  guard value >= 0, value <= Int64(Int.max) else {
    throw .invalidArgument("\(name) must be >= 0, got \(value)")
  }
  return Int(value)
}

/// `seqrnn_scaler_fit`.
@c @implementation
public func seqrnn_scaler_fit(
  _ method: seqrnn_scaler_method, _ train: UnsafePointer<Double>?, _ time: Int64,
  _ features: Int64, _ outOffset: UnsafeMutablePointer<Double>?,
  _ outScale: UnsafeMutablePointer<Double>?
) -> seqrnn_status {
  guarded("seqrnn_scaler_fit") { () throws(SeqRNNError) in
    guard let kind = ScalingMethod(rawValue: Int32(truncatingIfNeeded: method.rawValue)) else {
      throw .invalidArgument(
        "method must be SEQRNN_SCALER_STANDARD or SEQRNN_SCALER_MINMAX, got \(method.rawValue)")
    }
    let data = try required(train, "train")
    let offset = try required(outOffset, "out_offset")
    let scale = try required(outScale, "out_scale")
    try Scaler.fit(
      kind, train: data, time: try positiveSize(time, "time"),
      features: try positiveSize(features, "features"), offset: offset, scale: scale)
  }
}

/// The body of both scaler transforms.
func scalerApply(
  _ offset: UnsafePointer<Double>?, _ scale: UnsafePointer<Double>?, _ features: Int64,
  _ values: UnsafePointer<Double>?, _ count: Int64, _ out: UnsafeMutablePointer<Double>?,
  inverse: Bool
) throws(SeqRNNError) {
  let o = try required(offset, "offset")
  let s = try required(scale, "scale")
  let f = try positiveSize(features, "features")
  let n = try nonNegativeSize(count, "count")
  let input = try required(values, "values")
  let output = try required(out, "out")
  try Scaler.apply(
    offset: o, scale: s, features: f, values: input, count: n, out: output, inverse: inverse)
}

/// `seqrnn_scaler_transform`.
@c @implementation
public func seqrnn_scaler_transform(
  _ offset: UnsafePointer<Double>?, _ scale: UnsafePointer<Double>?, _ features: Int64,
  _ values: UnsafePointer<Double>?, _ count: Int64, _ out: UnsafeMutablePointer<Double>?
) -> seqrnn_status {
  guarded("seqrnn_scaler_transform") { () throws(SeqRNNError) in
    try scalerApply(offset, scale, features, values, count, out, inverse: false)
  }
}

/// `seqrnn_scaler_inverse_transform`.
@c @implementation
public func seqrnn_scaler_inverse_transform(
  _ offset: UnsafePointer<Double>?, _ scale: UnsafePointer<Double>?, _ features: Int64,
  _ values: UnsafePointer<Double>?, _ count: Int64, _ out: UnsafeMutablePointer<Double>?
) -> seqrnn_status {
  guarded("seqrnn_scaler_inverse_transform") { () throws(SeqRNNError) in
    try scalerApply(offset, scale, features, values, count, out, inverse: true)
  }
}

/// `seqrnn_make_windows`.
@c @implementation
public func seqrnn_make_windows(
  _ series: UnsafePointer<Double>?, _ time: Int64, _ features: Int64, _ lags: Int64,
  _ horizon: Int64, _ outWindows: UnsafeMutablePointer<Double>?, _ windowsCapacity: Int64,
  _ outTargets: UnsafeMutablePointer<Double>?, _ targetsCapacity: Int64,
  _ outCount: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_make_windows") { () throws(SeqRNNError) in
    let data = try required(series, "series")
    let t = try positiveSize(time, "time")
    let f = try positiveSize(features, "features")
    let l = try positiveSize(lags, "lags")
    let h = try positiveSize(horizon, "horizon")
    let count = try windowCount(time: t, lags: l, horizon: h)
    let shape = try WindowShape(count: count, lags: l, features: f)
    outCount?.pointee = Int64(count)
    let windows = try required(outWindows, "out_windows")
    let targets = try required(outTargets, "out_targets")
    try ensureCapacity(windowsCapacity, shape.elements, "out_windows")
    try ensureCapacity(targetsCapacity, shape.forecastElements, "out_targets")
    try cutWindows(
      series: data, time: t, features: f, lags: l, horizon: h, windows: windows, targets: targets)
  }
}

/// `seqrnn_forecast_persistence`.
@c @implementation
public func seqrnn_forecast_persistence(
  _ windows: UnsafePointer<Double>?, _ count: Int64, _ lags: Int64, _ features: Int64,
  _ out: UnsafeMutablePointer<Double>?, _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_forecast_persistence") { () throws(SeqRNNError) in
    let input = try required(windows, "windows")
    let output = try required(out, "out")
    let shape = try windowShape(count, lags, features)
    try ensureCapacity(capacity, shape.forecastElements, "out")
    try persistence(windows: input, shape: shape, out: output)
  }
}

/// `seqrnn_forecast_next`.
@c @implementation
public func seqrnn_forecast_next(
  _ model: OpaquePointer?, _ windows: UnsafePointer<Double>?, _ count: Int64, _ lags: Int64,
  _ features: Int64, _ out: UnsafeMutablePointer<Double>?, _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_forecast_next") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let input = try required(windows, "windows")
    let output = try required(out, "out")
    let shape = try windowShape(count, lags, features)
    try handle.model.checkForecaster(features: shape.features)
    try ensureCapacity(capacity, shape.forecastElements, "out")
    try handle.model.forecastNext(windows: input, shape: shape, out: output)
  }
}

/// `seqrnn_forecast_recursive`.
@c @implementation
public func seqrnn_forecast_recursive(
  _ model: OpaquePointer?, _ history: UnsafePointer<Double>?, _ count: Int64, _ lags: Int64,
  _ features: Int64, _ steps: Int64, _ offset: UnsafePointer<Double>?,
  _ scale: UnsafePointer<Double>?, _ out: UnsafeMutablePointer<Double>?, _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_forecast_recursive") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let input = try required(history, "history")
    let output = try required(out, "out")
    let shape = try windowShape(count, lags, features)
    let n = try positiveSize(steps, "steps")
    guard (offset == nil) == (scale == nil) else {
      throw .nullArgument(
        "\(offset == nil ? "offset" : "scale") is NULL but the other is not; pass both "
          + "(a scaler) or neither")
    }
    try handle.model.checkForecaster(features: shape.features)
    let (needed, overflow) = shape.forecastElements.multipliedReportingOverflow(by: n)
    guard !overflow else { throw .invalidArgument("count * steps * features is too large") }
    try ensureCapacity(capacity, needed, "out")
    let scaler = offset.flatMap { o in
      scale.map { (offset: o, scale: $0, features: shape.features) }
    }
    try handle.model.forecastRecursive(
      history: input, shape: shape, steps: n, scaler: scaler, out: output)
  }
}

/// `seqrnn_linear_ar_fit`.
@c @implementation
public func seqrnn_linear_ar_fit(
  _ windows: UnsafePointer<Double>?, _ targets: UnsafePointer<Double>?, _ count: Int64,
  _ lags: Int64, _ features: Int64, _ outCoef: UnsafeMutablePointer<Double>?,
  _ coefCapacity: Int64, _ outIntercept: UnsafeMutablePointer<Double>?,
  _ interceptCapacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_linear_ar_fit") { () throws(SeqRNNError) in
    let w = try required(windows, "windows")
    let t = try required(targets, "targets")
    let coef = try required(outCoef, "out_coef")
    let intercept = try required(outIntercept, "out_intercept")
    let shape = try windowShape(count, lags, features)
    try ensureCapacity(coefCapacity, shape.windowElements * shape.features, "out_coef")
    try ensureCapacity(interceptCapacity, shape.features, "out_intercept")
    try LinearAR.fit(windows: w, targets: t, shape: shape, coefficients: coef, intercept: intercept)
  }
}

/// `seqrnn_linear_ar_predict`.
@c @implementation
public func seqrnn_linear_ar_predict(
  _ coef: UnsafePointer<Double>?, _ intercept: UnsafePointer<Double>?,
  _ windows: UnsafePointer<Double>?, _ count: Int64, _ lags: Int64, _ features: Int64,
  _ out: UnsafeMutablePointer<Double>?, _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_linear_ar_predict") { () throws(SeqRNNError) in
    let c = try required(coef, "coef")
    let b = try required(intercept, "intercept")
    let w = try required(windows, "windows")
    let output = try required(out, "out")
    let shape = try windowShape(count, lags, features)
    try ensureCapacity(capacity, shape.forecastElements, "out")
    try LinearAR.predict(coefficients: c, intercept: b, windows: w, shape: shape, out: output)
  }
}

/// The body of both error measures.
func errorMeasure(
  _ truth: UnsafePointer<Double>?, _ forecast: UnsafePointer<Double>?, _ count: Int64,
  _ out: UnsafeMutablePointer<Double>?, _ measure: ErrorMeasure
) throws(SeqRNNError) {
  let t = try required(truth, "truth")
  let f = try required(forecast, "forecast")
  let result = try required(out, "out")
  let n = try nonNegativeSize(count, "count")
  result.pointee = try forecastError(truth: t, forecast: f, count: n, measure)
}

/// `seqrnn_forecast_rmse`.
@c @implementation
public func seqrnn_forecast_rmse(
  _ truth: UnsafePointer<Double>?, _ forecast: UnsafePointer<Double>?, _ count: Int64,
  _ out: UnsafeMutablePointer<Double>?
) -> seqrnn_status {
  guarded("seqrnn_forecast_rmse") { () throws(SeqRNNError) in
    try errorMeasure(truth, forecast, count, out, .squared)
  }
}

/// `seqrnn_forecast_mae`.
@c @implementation
public func seqrnn_forecast_mae(
  _ truth: UnsafePointer<Double>?, _ forecast: UnsafePointer<Double>?, _ count: Int64,
  _ out: UnsafeMutablePointer<Double>?
) -> seqrnn_status {
  guarded("seqrnn_forecast_mae") { () throws(SeqRNNError) in
    try errorMeasure(truth, forecast, count, out, .absolute)
  }
}
