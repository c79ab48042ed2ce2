/// Step-by-step inference: the hidden (and cell) state of `batchSize`
/// sequences of a unidirectional model, advanced one time step per call.
///
/// A step is the full-sequence engine run on one step from the current
/// state, so streaming gives exactly the outputs of a full forward pass.
/// One thread at a time.
public final class StreamingState: @unchecked Sendable {
  /// The model (kept alive by the state).
  public let model: Model
  /// Sequences advanced together.
  public let batchSize: Int
  private let hidden: FlatBuffer<Float>
  private let cell: FlatBuffer<Float>
  private let tape = Tape<Float>()
  private let lengths: [Int]

  /// Creates a zero state for `batchSize` sequences.
  public init(model: Model, batchSize: Int) throws(SeqRNNError) {
    guard !model.configuration.bidirectional else {
      throw .unsupported("streaming needs a unidirectional model; this one is bidirectional")
    }
    guard batchSize > 0, batchSize <= EngineInput.maxPositions else {
      throw .invalidArgument(
        "batch_size must be in [1, \(EngineInput.maxPositions)], got \(batchSize)")
    }
    self.model = model
    self.batchSize = batchSize
    let count = model.configuration.stateCount(batchSize: batchSize)
    hidden = try FlatBuffer(count: count)
    cell = try FlatBuffer(count: model.configuration.cell == .lstm ? count : 0)
    lengths = Array(repeating: 1, count: batchSize)
  }

  /// Elements of one state buffer: `[layers][batch][hidden]`.
  public var stateCount: Int { hidden.count }

  /// Sets the state back to zeros.
  public func reset() {
    hidden.zero()
    cell.zero()
  }

  /// The hidden state, `[layers][batch][hidden]`.
  public var hiddenState: [Float] { Array(hidden.buffer) }
  /// The LSTM cell state (nil for other cells).
  public var cellState: [Float]? { model.configuration.cell == .lstm ? Array(cell.buffer) : nil }

  /// Replaces the state (pointer form; `c` nil means zeros for LSTM).
  package func setState(
    h: UnsafePointer<Float>, c: UnsafePointer<Float>?, count: Int
  ) throws(SeqRNNError) {
    guard count == stateCount else {
      throw .shapeMismatch("state buffers must have \(stateCount) elements, got \(count)")
    }
    if c != nil, model.configuration.cell != .lstm {
      throw .unsupported(
        "a cell state was given but the model's cell is \(model.configuration.cell.name)")
    }
    for i in 0..<count where !h[i].isFinite { throw .nonFinite("h[\(i)] is not finite") }
    if let c {
      for i in 0..<count where !c[i].isFinite { throw .nonFinite("c[\(i)] is not finite") }
    }
    hidden.pointer.update(from: h, count: count)
    if model.configuration.cell == .lstm {
      if let c { cell.pointer.update(from: c, count: count) } else { cell.zero() }
    }
  }

  /// Replaces the state with `h` (and `c` for LSTM; nil means zeros).
  public func setState(h: [Float], c: [Float]? = nil) throws(SeqRNNError) {
    if let c, c.count != h.count {
      throw .shapeMismatch("c has \(c.count) elements but h has \(h.count)")
    }
    try h.withUnsafeBufferPointer { (hb) throws(SeqRNNError) in
      guard let base = hb.baseAddress else { throw .shapeMismatch("h is empty") }
      if let c {
        try c.withUnsafeBufferPointer { (cb) throws(SeqRNNError) in
          try setState(h: base, c: cb.baseAddress, count: hb.count)
        }
      } else {
        try setState(h: base, c: nil, count: hb.count)
      }
    }
  }

  /// Advances one step (pointer form): features `[batch][input]` or tokens
  /// `[batch]`; writes `[batch][output]` into `outputs`.
  package func step(
    features: UnsafePointer<Float>?, tokens: UnsafePointer<Int32>?,
    outputs: UnsafeMutablePointer<Float>
  ) throws(SeqRNNError) {
    var input = EngineInput(batchSize: batchSize, seqLen: 1)
    input.lengths = lengths
    input.floatFeatures = features
    input.tokens = tokens
    input.initialH = UnsafePointer(hidden.pointer)
    input.initialC = model.configuration.cell == .lstm ? UnsafePointer(cell.pointer) : nil
    try input.validate(model.configuration, needTargets: false)
    let engine = model.engine
    try engine.forward(input, tape: tape)
    engine.copyOutputs(input, tape: tape, to: outputs)
    engine.copyFinalStates(
      input, tape: tape, h: hidden.pointer,
      c: model.configuration.cell == .lstm ? cell.pointer : nil)
  }

  /// Advances one step and returns `[batch][output]` (logits or values).
  public func step(features: [Float]? = nil, tokens: [Int32]? = nil) throws(SeqRNNError) -> [Float]
  {
    let config = model.configuration
    if let features, features.count != batchSize * config.inputSize {
      throw .shapeMismatch(
        "features has \(features.count) elements, expected \(batchSize * config.inputSize)")
    }
    if let tokens, tokens.count != batchSize {
      throw .shapeMismatch("tokens has \(tokens.count) elements, expected \(batchSize)")
    }
    var outputs = [Float](repeating: 0, count: batchSize * config.outputSize)
    try outputs.withUnsafeMutableBufferPointer { (out) throws(SeqRNNError) in
      try withOptionalPointer(features) { (f) throws(SeqRNNError) in
        try withOptionalPointer(tokens) { (t) throws(SeqRNNError) in
          try step(features: f, tokens: t, outputs: out.baseAddress!)
        }
      }
    }
    return outputs
  }
}
