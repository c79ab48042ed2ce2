/// Trains one model: forward, backpropagation through time, clipping and
/// the optimizer update, reusing its buffers across steps.
///
/// One thread at a time; it changes its model in place.
public final class Trainer: @unchecked Sendable {
  /// The model being trained.
  public let model: Model
  /// The settings (the learning rate may change, see `learningRate`).
  public let options: TrainingOptions
  /// The learning rate of the next step.
  public private(set) var learningRate: Float
  /// Updates applied so far.
  public private(set) var stepCount = 0
  /// Loss, accuracy and count of the latest step's batch (before its update);
  /// nil before the first step.
  public private(set) var lastEvaluation: Evaluation?

  private let optimizer: OptimizerState
  private let gradients: FlatBuffer<Float>
  private let clipped: FlatBuffer<Float>
  private let tape = Tape<Float>()
  private let scratch = BackwardScratch<Float>()

  /// Creates a trainer for `model`.
  public init(model: Model, options: TrainingOptions = TrainingOptions()) throws(SeqRNNError) {
    try options.validate()
    self.model = model
    self.options = options
    learningRate = options.learningRate
    optimizer = try OptimizerState(options: options, count: model.layout.totalCount)
    gradients = try FlatBuffer(count: model.layout.totalCount)
    clipped = try FlatBuffer(count: options.clipNorm > 0 ? model.layout.totalCount : 0)
  }

  /// Sets the learning rate of later steps (finite, > 0).
  public func setLearningRate(_ rate: Float) throws(SeqRNNError) {
    guard rate.isFinite, rate > 0 else {
      throw .invalidArgument("learning_rate must be finite and > 0, got \(rate)")
    }
    learningRate = rate
  }

  /// One training step on a batch with targets; returns the loss before the
  /// update. A non-finite loss or gradient refuses the step and leaves the
  /// model unchanged.
  @discardableResult
  public func step(_ batch: Batch) throws(SeqRNNError) -> Float {
    try batch.withEngineInput(model.configuration, needTargets: true) {
      (input) throws(SeqRNNError) in
      try step(input)
    }
  }

  /// Loss and gradients of a batch without an update; see `gradient(named:)`.
  @discardableResult
  public func computeGradients(_ batch: Batch) throws(SeqRNNError) -> Float {
    try batch.withEngineInput(model.configuration, needTargets: true) {
      (input) throws(SeqRNNError) in
      try computeGradients(input)
    }
  }

  /// The gradient of the tensor called `name` from the latest step (before clipping).
  public func gradient(named name: String) throws(SeqRNNError) -> [Float] {
    let info = try model.layout.info(named: name)
    return Array(UnsafeBufferPointer(start: gradients.pointer + info.offset, count: info.count))
  }

  /// Pointer form of `gradient(named:)` for the C API.
  package func gradientPointer(named name: String) throws(SeqRNNError) -> (
    UnsafePointer<Float>, Int
  ) {
    let info = try model.layout.info(named: name)
    return (UnsafePointer(gradients.pointer + info.offset), info.count)
  }

  /// `step` on a validated input.
  package func step(_ input: EngineInput) throws(SeqRNNError) -> Float {
    let loss = try computeGradients(input)
    let count = gradients.count
    var update = UnsafePointer(gradients.pointer)
    if options.clipNorm > 0 {
      var squares = 0.0
      for i in 0..<count { squares += Double(gradients.pointer[i]) * Double(gradients.pointer[i]) }
      let norm = squares.squareRoot()
      // As torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6)
      // when the norm is above max_norm. The unclipped gradients stay
      // readable through gradient(named:), so clip into a separate buffer.
      if norm > Double(options.clipNorm) {
        let scale = Float(Double(options.clipNorm) / (norm + 1e-6))
        for i in 0..<count { clipped.pointer[i] = gradients.pointer[i] * scale }
        update = UnsafePointer(clipped.pointer)
      }
    }
    stepCount += 1
    optimizer.apply(
      to: model.parameters.pointer, gradients: update, count: count, step: stepCount,
      learningRate: learningRate)
    return loss
  }

  /// `computeGradients` on a validated input.
  package func computeGradients(_ input: EngineInput) throws(SeqRNNError) -> Float {
    let config = model.configuration
    let engine = model.engine
    try engine.forward(input, tape: tape)
    try scratch.prepare(config, batchSize: input.batchSize, seqLen: input.seqLen)
    let result = engine.loss(input, tape: tape, gradients: scratch.logitGradients)
    guard result.loss.isFinite else {
      throw .nonFinite("the loss is not finite (\(result.loss)); the model was not updated")
    }
    lastEvaluation = Evaluation(
      loss: result.loss,
      accuracy: config.loss == .crossEntropy ? Double(result.correct) / Double(result.count) : .nan,
      count: result.count)
    gradients.zero()
    engine.backward(
      input, tape: tape, scratch: scratch, gradients: gradients.pointer, featureGradients: nil)
    for i in 0..<gradients.count where !gradients.pointer[i].isFinite {
      let name = model.layout.tensors.last { $0.offset <= i }?.name ?? "?"
      throw .nonFinite("the gradient of '\(name)' is not finite; the model was not updated")
    }
    return Float(result.loss)
  }
}
