/// A recurrent network: configuration plus weights in PyTorch's names and
/// layouts.
///
/// Forward passes and evaluation only read the model, so one model may serve
/// many threads at once. Changing tensors or training must not overlap with
/// any other use.
public final class Model: @unchecked Sendable {
  /// The architecture.
  public let configuration: ModelConfiguration
  /// Where each tensor lives in `parameters`.
  package let layout: ParameterLayout
  /// All weights, one flat vector (see `layout`).
  package let parameters: FlatBuffer<Float>
  /// The arithmetic of the matrix products (a compute setting, not saved;
  /// see `Precision`). Set it with `setPrecision(_:)` before use.
  public private(set) var precision: Precision = .float32
  /// Bumped by every write to the weights (`setTensor`, training steps), so
  /// caches derived from them (`TokenProjections`) know when they are stale.
  package private(set) var weightsVersion: UInt64 = 0
  /// Layer 0's per-token input projections of the current weights.
  private let tokenProjections = TokenProjections()
  /// Forward buffers kept between calls, so repeated inference neither
  /// allocates nor faults in fresh pages.
  let tapes = TapePool()

  /// Creates a model with PyTorch's default initialisation from `configuration.seed`.
  /// A token model's `inputSize` of 0 is stored as the embedding width it
  /// stands for (`hiddenSize`), so the configuration always tells the width.
  public init(_ configuration: ModelConfiguration) throws(SeqRNNError) {
    try configuration.validate()
    var resolved = configuration
    resolved.inputSize = configuration.embeddingOrInputSize
    self.configuration = resolved
    layout = ParameterLayout(resolved)
    parameters = try FlatBuffer(count: layout.totalCount)
    Initialization.initialize(resolved, layout: layout, into: parameters.pointer)
  }

  /// Every tensor's name and shape, in PyTorch's `state_dict` order.
  public var tensorInfos: [TensorInfo] { layout.tensors }

  /// A copy of the tensor called `name` (row-major).
  public func tensor(named name: String) throws(SeqRNNError) -> [Float] {
    let info = try layout.info(named: name)
    return Array(UnsafeBufferPointer(start: parameters.pointer + info.offset, count: info.count))
  }

  /// Replaces the tensor called `name`; `values` must have its element count
  /// and be finite. On error the model is unchanged.
  public func setTensor(named name: String, _ values: [Float]) throws(SeqRNNError) {
    try values.withUnsafeBufferPointer { (buffer) throws(SeqRNNError) in
      try setTensor(named: name, from: buffer.baseAddress, count: buffer.count)
    }
  }

  /// Pointer form of `setTensor(named:_:)`, used by the C API.
  package func setTensor(
    named name: String, from values: UnsafePointer<Float>?, count: Int
  ) throws(SeqRNNError) {
    try NamedTensors.write(
      try layout.info(named: name), name: name, from: values, count: count,
      into: parameters.pointer)
    weightsChanged()
  }

  /// Records that the weights were written (call after every write that
  /// does not go through `setTensor`).
  package func weightsChanged() { weightsVersion &+= 1 }

  /// Chooses the arithmetic of the matrix products for every later forward
  /// pass, evaluation and training step. Like changing tensors, it must not
  /// overlap with any other use of the model.
  /// - Throws: `.unsupported` when this machine cannot run `precision`.
  public func setPrecision(_ precision: Precision) throws(SeqRNNError) {
    guard precision.isAvailable else {
      throw .unsupported(
        "\(precision) precision needs a CPU with AMX-BF16 (Intel Xeon 4th generation or later) "
          + "and a kernel that grants the tile registers; this machine has none")
    }
    self.precision = precision
  }

  /// The Float engine over this model's weights.
  package var engine: Engine<Float> {
    Engine(
      config: configuration, layout: layout, parameters: parameters.pointer,
      precision: precision, tokenProjections: (tokenProjections, weightsVersion))
  }

  /// Full-sequence forward pass of a validated input: outputs batch-major,
  /// and optionally final states.
  package func forward(
    _ input: EngineInput, outputs: UnsafeMutablePointer<Float>,
    finalH: UnsafeMutablePointer<Float>?, finalC: UnsafeMutablePointer<Float>?
  ) throws(SeqRNNError) {
    let tape = tapes.take()
    defer { tapes.give(tape) }
    let engine = self.engine
    try engine.forward(input, tape: tape)
    engine.copyOutputs(input, tape: tape, to: outputs)
    engine.copyFinalStates(input, tape: tape, h: finalH, c: finalC)
  }

  /// Loss and accuracy of a validated input with targets.
  package func evaluate(_ input: EngineInput) throws(SeqRNNError) -> Evaluation {
    let tape = tapes.take()
    defer { tapes.give(tape) }
    let engine = self.engine
    try engine.forward(input, tape: tape)
    let result = engine.loss(input, tape: tape, gradients: nil)
    guard result.loss.isFinite else { throw .nonFinite("the loss is not finite (\(result.loss))") }
    let accuracy =
      configuration.loss == .crossEntropy ? Double(result.correct) / Double(result.count) : .nan
    return Evaluation(loss: result.loss, accuracy: accuracy, count: result.count)
  }

  /// Runs the network over `batch`: outputs (logits for cross-entropy) and
  /// final states.
  public func forward(_ batch: Batch) throws(SeqRNNError) -> ForwardResult {
    try batch.withEngineInput(configuration, needTargets: false) { (input) throws(SeqRNNError) in
      var outputs = [Float](
        repeating: 0,
        count: configuration.outputCount(batchSize: batch.batchSize, seqLen: batch.seqLen))
      let stateCount = configuration.stateCount(batchSize: batch.batchSize)
      var finalH = [Float](repeating: 0, count: stateCount)
      var finalC = [Float](repeating: 0, count: configuration.cell == .lstm ? stateCount : 0)
      try outputs.withUnsafeMutableBufferPointer { (out) throws(SeqRNNError) in
        try finalH.withUnsafeMutableBufferPointer { (h) throws(SeqRNNError) in
          try finalC.withUnsafeMutableBufferPointer { (c) throws(SeqRNNError) in
            try forward(
              input, outputs: out.baseAddress!, finalH: h.baseAddress, finalC: c.baseAddress)
          }
        }
      }
      return ForwardResult(
        outputs: outputs, finalH: finalH, finalC: configuration.cell == .lstm ? finalC : nil)
    }
  }

  /// Loss (and accuracy for cross-entropy) on a batch with targets.
  public func evaluate(_ batch: Batch) throws(SeqRNNError) -> Evaluation {
    try batch.withEngineInput(configuration, needTargets: true) { (input) throws(SeqRNNError) in
      try evaluate(input)
    }
  }
}
