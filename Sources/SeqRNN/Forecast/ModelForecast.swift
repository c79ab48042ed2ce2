/// One-step forecasts of a trained model: the value after each window,
/// `[count][features]`.
///
/// The model must suit windows of this width: float inputs (no
/// `vocabSize`), `outputMode == .last`, `loss == .mse` and
/// `inputSize == outputSize == windows.features` (forecasts are fed back as
/// inputs by `recursiveForecast`). The windows run through the model's
/// forward pass as float32.
public func predictNext(model: Model, windows: WindowBatch) throws(SeqRNNError) -> [Double] {
  let shape = windows.shape
  return try withChecked(windows.values, shape.elements, "windows") { (w) throws(SeqRNNError) in
    try filledArray(count: shape.forecastElements) { (out) throws(SeqRNNError) in
      try model.forecastNext(windows: w, shape: shape, out: out)
    }
  }
}

/// Recursive multi-step forecasts of several histories at once: each
/// history's window (`[lags][features]`, the steps before the forecast)
/// gives the next step, which becomes the window's newest step as its
/// oldest is dropped, `steps` times. Returns `[count][steps][features]`.
///
/// With a `scaler`, `history` is in original units: it is scaled before the
/// model sees it and the forecasts are scaled back. Model requirements as
/// `predictNext(model:windows:)`.
public func recursiveForecast(
  model: Model, history: WindowBatch, steps: Int, scaler: Scaler? = nil
) throws(SeqRNNError) -> [Double] {
  let shape = history.shape
  try requirePositive(steps, "steps")
  let (perWindow, o1) = steps.multipliedReportingOverflow(by: shape.features)
  let (total, o2) = perWindow.multipliedReportingOverflow(by: shape.count)
  guard !o1, !o2 else { throw .invalidArgument("count * steps * features is too large") }
  return try withChecked(history.values, shape.elements, "history") { (h) throws(SeqRNNError) in
    try filledArray(count: total) { (out) throws(SeqRNNError) in
      if let scaler {
        try withChecked(scaler.offset, scaler.features, "offset") { (o) throws(SeqRNNError) in
          try withChecked(scaler.scale, scaler.features, "scale") { (s) throws(SeqRNNError) in
            try model.forecastRecursive(
              history: h, shape: shape, steps: steps,
              scaler: (offset: o, scale: s, features: scaler.features), out: out)
          }
        }
      } else {
        try model.forecastRecursive(history: h, shape: shape, steps: steps, scaler: nil, out: out)
      }
    }
  }
}

extension Model {
  /// Windows per forward pass: keeps a pass's buffers small (a few MB at
  /// typical widths) whatever the number of windows.
  static let forecastChunk = 256

  /// Throws unless this model forecasts windows of `features` values per
  /// step (see `predictNext(model:windows:)`).
  package func checkForecaster(features: Int) throws(SeqRNNError) {
    let c = configuration
    if c.usesTokens {
      throw .invalidArgument(
        "the model takes token ids (vocab_size = \(c.vocabSize)); forecasting needs float inputs")
    }
    guard c.outputMode == .last else {
      throw .invalidArgument(
        "the model needs output='last' (one forecast per window), has output='\(c.outputMode.name)'"
      )
    }
    guard c.loss == .meanSquaredError else {
      throw .invalidArgument(
        "the model needs loss='mse' (forecasts are values), has loss='\(c.loss.name)'")
    }
    for (name, size) in [("input_size", c.inputSize), ("output_size", c.outputSize)]
    where size != features {
      throw .shapeMismatch(
        "the model's \(name) = \(size), but the windows have \(features) features; forecasts "
          + "are fed back as inputs, so input_size and output_size must both equal the features")
    }
  }

  /// The pointer form of `predictNext(model:windows:)`: checks the model and
  /// the windows' values, writes `[count][features]` into `out`.
  package func forecastNext(
    windows: UnsafePointer<Double>, shape: WindowShape, out: UnsafeMutablePointer<Double>
  ) throws(SeqRNNError) {
    try checkForecaster(features: shape.features)
    try requireFinite(
      windows, count: shape.elements, "windows", shape: [shape.count, shape.lags, shape.features])
    var inputs = [Float]()
    var outputs = [Float]()
    var start = 0
    while start < shape.count {
      let rows = min(Self.forecastChunk, shape.count - start)
      let first = windows + start * shape.windowElements
      inputs = (0..<(rows * shape.windowElements)).map { Float(first[$0]) }
      try forecastPass(inputs: &inputs, rows: rows, lags: shape.lags, outputs: &outputs)
      for i in 0..<(rows * shape.features) {
        out[start * shape.features + i] = Double(outputs[i])
      }
      try requireFiniteForecasts(outputs, rows: rows, offset: start, features: shape.features)
      start += rows
    }
  }

  /// The pointer form of `recursiveForecast`: `out` is
  /// `[count][steps][features]`; `scaler` as offset and scale pointers.
  package func forecastRecursive(
    history: UnsafePointer<Double>, shape: WindowShape, steps: Int,
    scaler: (offset: UnsafePointer<Double>, scale: UnsafePointer<Double>, features: Int)?,
    out: UnsafeMutablePointer<Double>
  ) throws(SeqRNNError) {
    try checkForecaster(features: shape.features)
    try requirePositive(steps, "steps")
    if let scaler {
      try Scaler.check(offset: scaler.offset, scale: scaler.scale, features: scaler.features)
      guard scaler.features == shape.features else {
        throw .shapeMismatch(
          "the scaler has \(scaler.features) features, the history \(shape.features)")
      }
    }
    try requireFinite(
      history, count: shape.elements, "history", shape: [shape.count, shape.lags, shape.features])
    let f = shape.features
    let step = shape.windowElements
    var window = [Double]()
    var inputs = [Float]()
    var outputs = [Float]()
    var start = 0
    while start < shape.count {
      let rows = min(Self.forecastChunk, shape.count - start)
      // The windows in the model's units, in double: forecasts enter them
      // as they come out of the model.
      window = Array(UnsafeBufferPointer(start: history + start * step, count: rows * step))
      if let scaler {
        try window.withUnsafeMutableBufferPointer { (w) throws(SeqRNNError) in
          try Scaler.apply(
            offset: scaler.offset, scale: scaler.scale, features: f, values: w.baseAddress!,
            count: w.count, out: w.baseAddress!, inverse: false)
        }
      }
      for k in 0..<steps {
        inputs = window.map { Float($0) }
        try forecastPass(inputs: &inputs, rows: rows, lags: shape.lags, outputs: &outputs)
        try requireFiniteForecasts(
          outputs, rows: rows, offset: start, features: f, step: k)
        for r in 0..<rows {
          // Slide: drop the oldest step, append the forecast.
          let base = r * step
          for i in 0..<(step - f) { window[base + i] = window[base + i + f] }
          for g in 0..<f {
            let value = Double(outputs[r * f + g])
            window[base + step - f + g] = value
            let scaled =
              scaler.map { value * $0.scale[g] + $0.offset[g] } ?? value
            out[((start + r) * steps + k) * f + g] = scaled
          }
        }
      }
      start += rows
    }
  }

  /// One forward pass over `rows` windows of `lags` steps (`inputs` float,
  /// `[rows][lags][inputSize]`) into `outputs` (`[rows][outputSize]`).
  private func forecastPass(
    inputs: inout [Float], rows: Int, lags: Int, outputs: inout [Float]
  ) throws(SeqRNNError) {
    let batch = Batch(batchSize: rows, seqLen: lags, features: inputs)
    let needed = rows * configuration.outputSize
    if outputs.count != needed { outputs = [Float](repeating: 0, count: needed) }
    try outputs.withUnsafeMutableBufferPointer { (o) throws(SeqRNNError) in
      try batch.withEngineInput(configuration, needTargets: false) {
        (input) throws(SeqRNNError) in
        try forward(input, outputs: o.baseAddress!, finalH: nil, finalC: nil)
      }
    }
  }

  /// Throws `.nonFinite` for a forecast that is not finite (diverged
  /// weights), naming its window and, in a recursion, its step.
  private func requireFiniteForecasts(
    _ outputs: [Float], rows: Int, offset: Int, features: Int, step: Int? = nil
  ) throws(SeqRNNError) {
    for i in 0..<(rows * features) where !outputs[i].isFinite {
      let at = step.map { " at step \($0 + 1)" } ?? ""
      throw .nonFinite(
        "the model's forecast for window \(offset + i / features)\(at) is \(outputs[i]); "
          + "its weights may have diverged")
    }
  }
}
