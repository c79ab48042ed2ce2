/// How a `Scaler` maps each feature.
public enum ScalingMethod: Int32, Sendable, CaseIterable {
  /// `(x - mean) / std`, with the population standard deviation.
  case standard = 0
  /// `(x - min) / (max - min)`: the training data spans `[0, 1]`.
  case minMax = 1

  /// `"standard"` or `"minmax"`.
  public var name: String { self == .standard ? "standard" : "minmax" }
}

/// Per-feature affine scaling, `scaled = (x - offset) / scale`, fitted on
/// the training part of a series only, so nothing from the held-out part
/// leaks into training.
///
/// A feature that is constant in the training data gets scale 1 (it is only
/// shifted). Values are flat and feature-major within a step: a series is
/// `[time][features]`, windows `[count][lags][features]`; any count that is
/// a multiple of `features` can be transformed.
public struct Scaler: Sendable, Equatable {
  /// Each feature's offset (the mean or the minimum of the training data).
  public let offset: [Double]
  /// Each feature's scale (standard deviation or range), finite and > 0.
  public let scale: [Double]

  /// Values per step.
  public var features: Int { offset.count }

  /// A scaler of known statistics (e.g. saved from an earlier fit).
  /// Throws `.shapeMismatch` if the arrays differ in length, and
  /// `.invalidArgument` / `.nonFinite` for an empty one, a scale <= 0 or a
  /// non-finite entry.
  public init(offset: [Double], scale: [Double]) throws(SeqRNNError) {
    guard offset.count == scale.count else {
      throw .shapeMismatch(
        "offset has \(offset.count) values but scale has \(scale.count); one per feature")
    }
    try requirePositive(offset.count, "features")
    try withChecked(offset, offset.count, "offset") { (o) throws(SeqRNNError) in
      try withChecked(scale, scale.count, "scale") { (s) throws(SeqRNNError) in
        try Scaler.check(offset: o, scale: s, features: offset.count)
      }
    }
    self.offset = offset
    self.scale = scale
  }

  /// Fits a scaler to `train`, `[time][features]` flat (finite).
  public init(fitting train: [Double], features: Int = 1, method: ScalingMethod = .standard)
    throws(SeqRNNError)
  {
    try requirePositive(features, "features")
    guard train.count % features == 0, train.count >= features else {
      throw .shapeMismatch(
        "train has \(train.count) values, not a positive multiple of features = \(features)")
    }
    var offset = [Double](repeating: 0, count: features)
    var scale = [Double](repeating: 0, count: features)
    try train.withUnsafeBufferPointer { (t) throws(SeqRNNError) in
      try offset.withUnsafeMutableBufferPointer { (o) throws(SeqRNNError) in
        try scale.withUnsafeMutableBufferPointer { (s) throws(SeqRNNError) in
          try Scaler.fit(
            method, train: t.baseAddress!, time: train.count / features, features: features,
            offset: o.baseAddress!, scale: s.baseAddress!)
        }
      }
    }
    self.offset = offset
    self.scale = scale
  }

  /// `values` in scaled units.
  public func transform(_ values: [Double]) throws(SeqRNNError) -> [Double] {
    try apply(values, inverse: false)
  }

  /// Scaled `values` back in original units.
  public func inverseTransform(_ values: [Double]) throws(SeqRNNError) -> [Double] {
    try apply(values, inverse: true)
  }

  private func apply(_ values: [Double], inverse: Bool) throws(SeqRNNError) -> [Double] {
    try withChecked(offset, features, "offset") { (o) throws(SeqRNNError) in
      try withChecked(scale, features, "scale") { (s) throws(SeqRNNError) in
        try withChecked(values, values.count, "values") { (v) throws(SeqRNNError) in
          try filledArray(count: values.count) { (out) throws(SeqRNNError) in
            try Scaler.apply(
              offset: o, scale: s, features: features, values: v, count: values.count, out: out,
              inverse: inverse)
          }
        }
      }
    }
  }

  // MARK: - the pointer forms (the C API calls these)

  /// Fits `method` to `train` (`[time][features]`) into `offset` and
  /// `scale` (`[features]` each), which are written only on success.
  package static func fit(
    _ method: ScalingMethod, train: UnsafePointer<Double>, time: Int, features: Int,
    offset: UnsafeMutablePointer<Double>, scale: UnsafeMutablePointer<Double>
  ) throws(SeqRNNError) {
    try requirePositive(time, "time")
    let shape = try WindowShape(count: 1, lags: time, features: features, name: "train")
    try requireFinite(
      train, count: shape.elements, "train", shape: [time, features],
      hint: " (fill gaps first)")
    var o = [Double](repeating: 0, count: features)
    var s = [Double](repeating: 1, count: features)
    for f in 0..<features {
      var lo = train[f]
      var hi = train[f]
      var sum = 0.0
      for t in 0..<time {
        let x = train[t * features + f]
        lo = min(lo, x)
        hi = max(hi, x)
        sum += x
      }
      // A constant feature is only shifted; testing max == min (rather than
      // std > 0) keeps rounding in the mean from giving it a tiny scale.
      if lo == hi {
        o[f] = lo
        continue
      }
      switch method {
      case .standard:
        // Two passes: the squared deviations from the mean, not the
        // difference of two large sums, so no cancellation.
        let mean = sum / Double(time)
        var squares = 0.0
        for t in 0..<time {
          let d = train[t * features + f] - mean
          squares += d * d
        }
        o[f] = mean
        s[f] = (squares / Double(time)).squareRoot()
      case .minMax:
        o[f] = lo
        s[f] = hi - lo
      }
      guard o[f].isFinite, s[f].isFinite else {
        throw .nonFinite(
          "train: the \(method.name) statistics of feature \(f) overflow (offset \(o[f]), "
            + "scale \(s[f])); rescale the data first")
      }
      if !(s[f] > 0) { s[f] = 1 }  // deviations that underflow: treat as constant
    }
    offset.update(from: o, count: features)
    scale.update(from: s, count: features)
  }

  /// Checks a scaler's arrays: offsets finite, scales finite and > 0.
  package static func check(
    offset: UnsafePointer<Double>, scale: UnsafePointer<Double>, features: Int
  ) throws(SeqRNNError) {
    try requirePositive(features, "features")
    for f in 0..<features {
      guard offset[f].isFinite, scale[f].isFinite else {
        throw .nonFinite(
          "the scaler's offset[\(f)] = \(offset[f]) and scale[\(f)] = \(scale[f]) must be finite")
      }
      guard scale[f] > 0 else {
        throw .invalidArgument("the scaler's scale[\(f)] = \(scale[f]) must be > 0")
      }
    }
  }

  /// `out[i] = (values[i] - offset[f]) / scale[f]` (or the inverse,
  /// `values[i] * scale[f] + offset[f]`), `f = i % features`. `out` may be
  /// `values`. Non-finite values pass through.
  package static func apply(
    offset: UnsafePointer<Double>, scale: UnsafePointer<Double>, features: Int,
    values: UnsafePointer<Double>, count: Int, out: UnsafeMutablePointer<Double>, inverse: Bool
  ) throws(SeqRNNError) {
    try check(offset: offset, scale: scale, features: features)
    guard count >= 0 else { throw .invalidArgument("count must be >= 0, got \(count)") }
    guard count % features == 0 else {
      throw .shapeMismatch(
        "values: \(count) values are not a multiple of features = \(features) "
          + "(the last axis must hold the features)")
    }
    // The same two operations as numpy's `(x - offset) / scale`, so results
    // agree to the last bit.
    var f = 0
    for i in 0..<count {
      out[i] = inverse ? values[i] * scale[f] + offset[f] : (values[i] - offset[f]) / scale[f]
      f = f + 1 == features ? 0 : f + 1
    }
  }
}
