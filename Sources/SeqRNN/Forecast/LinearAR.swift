/// A linear autoregressive baseline: the next value of every feature is an
/// affine function of all values of its window (with several features, a
/// VAR), fitted by least squares.
///
/// The fit is the minimum-norm least-squares solution over the design
/// `[1, window flattened]` that `numpy.linalg.lstsq` gives (see
/// `LeastSquares`), so it matches numpy and Python's `LinearAR` on the same
/// windows, and collinear lags (e.g. a constant series) still fit.
public struct LinearAR: Sendable, Equatable {
  /// Steps in each window.
  public let lags: Int
  /// Values per step.
  public let features: Int
  /// `[lags * features][features]`: row `p` multiplies value `p` of a
  /// flattened window (`[lags][features]` order).
  public let coefficients: [Double]
  /// `[features]`.
  public let intercept: [Double]

  /// A model of known coefficients (e.g. saved from an earlier fit).
  public init(lags: Int, features: Int, coefficients: [Double], intercept: [Double])
    throws(SeqRNNError)
  {
    let shape = try WindowShape(count: 1, lags: lags, features: features)
    try withChecked(coefficients, shape.windowElements * features, "coefficients") {
      (c) throws(SeqRNNError) in
      try requireFinite(
        c, count: shape.windowElements * features, "coefficients",
        shape: [shape.windowElements, features])
    }
    try withChecked(intercept, features, "intercept") { (b) throws(SeqRNNError) in
      try requireFinite(b, count: features, "intercept", shape: [features])
    }
    self.lags = lags
    self.features = features
    self.coefficients = coefficients
    self.intercept = intercept
  }

  /// Fits to `windows` and their next values `targets` (`[count][features]`).
  public init(fitting windows: WindowBatch, targets: [Double]) throws(SeqRNNError) {
    let shape = windows.shape
    var coefficients = [Double](repeating: 0, count: shape.windowElements * shape.features)
    var intercept = [Double](repeating: 0, count: shape.features)
    try withChecked(windows.values, shape.elements, "windows") { (w) throws(SeqRNNError) in
      try withChecked(targets, shape.forecastElements, "targets") { (t) throws(SeqRNNError) in
        try coefficients.withUnsafeMutableBufferPointer { (c) throws(SeqRNNError) in
          try intercept.withUnsafeMutableBufferPointer { (b) throws(SeqRNNError) in
            try LinearAR.fit(
              windows: w, targets: t, shape: shape, coefficients: c.baseAddress!,
              intercept: b.baseAddress!)
          }
        }
      }
    }
    self.lags = shape.lags
    self.features = shape.features
    self.coefficients = coefficients
    self.intercept = intercept
  }

  /// The forecast after each window, `[count][features]`; the windows must
  /// have this model's lags and features (`.shapeMismatch` otherwise).
  public func predict(_ windows: WindowBatch) throws(SeqRNNError) -> [Double] {
    guard windows.lags == lags, windows.features == features else {
      throw .shapeMismatch(
        "windows: expected [count][\(lags)][\(features)] (as fitted), got "
          + "[\(windows.count)][\(windows.lags)][\(windows.features)]")
    }
    let shape = windows.shape
    return try withChecked(coefficients, coefficients.count, "coefficients") {
      (c) throws(SeqRNNError) in
      try withChecked(intercept, features, "intercept") { (b) throws(SeqRNNError) in
        try withChecked(windows.values, shape.elements, "windows") { (w) throws(SeqRNNError) in
          try filledArray(count: shape.forecastElements) { (out) throws(SeqRNNError) in
            try LinearAR.predict(
              coefficients: c, intercept: b, windows: w, shape: shape, out: out)
          }
        }
      }
    }
  }

  // MARK: - the pointer forms (the C API calls these)

  /// Fits windows and targets into `coefficients`
  /// (`[lags * features][features]`) and `intercept` (`[features]`),
  /// written only on success.
  package static func fit(
    windows: UnsafePointer<Double>, targets: UnsafePointer<Double>, shape: WindowShape,
    coefficients: UnsafeMutablePointer<Double>, intercept: UnsafeMutablePointer<Double>
  ) throws(SeqRNNError) {
    try requireFinite(
      windows, count: shape.elements, "windows", shape: [shape.count, shape.lags, shape.features])
    try requireFinite(
      targets, count: shape.forecastElements, "targets", shape: [shape.count, shape.features])
    let p = shape.windowElements
    let (columns, o1) = p.addingReportingOverflow(1)
    let (cells, o2) = columns.multipliedReportingOverflow(by: shape.count)
    guard !o1, !o2 else { throw .invalidArgument("the design matrix is too large") }
    // Design: a column of ones (the intercept), then the flattened window.
    var design = [Double](repeating: 1, count: cells)
    for i in 0..<shape.count {
      for j in 0..<p { design[i * columns + 1 + j] = windows[i * p + j] }
    }
    let solution = try design.withUnsafeBufferPointer { (a) throws(SeqRNNError) in
      try LeastSquares.solve(
        a: a.baseAddress!, rows: shape.count, columns: columns, b: targets, rhs: shape.features)
    }
    let f = shape.features
    intercept.update(from: solution, count: f)
    solution.withUnsafeBufferPointer {
      coefficients.update(from: $0.baseAddress! + f, count: p * f)
    }
  }

  /// `out[i] = intercept + flattened window i x coefficients`, checking
  /// that windows and coefficients are finite.
  package static func predict(
    coefficients: UnsafePointer<Double>, intercept: UnsafePointer<Double>,
    windows: UnsafePointer<Double>, shape: WindowShape, out: UnsafeMutablePointer<Double>
  ) throws(SeqRNNError) {
    let p = shape.windowElements
    let f = shape.features
    try requireFinite(coefficients, count: p * f, "coef", shape: [p, f])
    try requireFinite(intercept, count: f, "intercept", shape: [f])
    try requireFinite(
      windows, count: shape.elements, "windows", shape: [shape.count, shape.lags, f])
    for i in 0..<shape.count {
      let row = out + i * f
      row.update(from: intercept, count: f)
      let x = windows + i * p
      for j in 0..<p {
        let xj = x[j]
        let c = coefficients + j * f
        for g in 0..<f { row[g] += xj * c[g] }
      }
    }
  }
}
