import CSeqRNNKernels

/// Trains one model: forward, backpropagation through time, clipping and
/// the optimizer update, reusing its buffers across steps.
///
/// One thread at a time; it changes its model in place.
public final class Trainer: @unchecked Sendable {
  /// The model being trained.
  public let model: Model
  /// The settings (the base learning rate may change, see `setLearningRate`).
  public let options: TrainingOptions
  /// Updates applied so far; the schedule's clock.
  public internal(set) var stepCount = 0
  /// Loss, accuracy and count of the latest step's batch (before its update);
  /// nil before the first step.
  public internal(set) var lastEvaluation: Evaluation?

  /// Moments, momentum buffers and per-tensor update counts.
  let optimizer: OptimizerState
  /// Warm-up, schedule and plateau state.
  var schedule: LearningRateSchedule
  /// Per tensor (layout order): true when the tensor gets no updates.
  var frozen: [Bool]
  private let gradients: FlatBuffer<Float>
  private let clipped: FlatBuffer<Float>
  private let tape = Tape<Float>()
  private let scratch = BackwardScratch<Float>()
  /// Dropout and zoneout masks of the training steps.
  package let regularizer: Regularizer
  /// The latest step's final states (the next step's start when stateful).
  package let carry = StateCarry()

  /// Creates a trainer for `model`.
  public init(model: Model, options: TrainingOptions = TrainingOptions()) throws(SeqRNNError) {
    try options.validate()
    self.model = model
    self.options = options
    let count = model.layout.totalCount
    optimizer = try OptimizerState(
      options: options, count: count, tensorCount: model.layout.tensors.count)
    schedule = LearningRateSchedule(options: options)
    frozen = [Bool](repeating: false, count: model.layout.tensors.count)
    gradients = try FlatBuffer(count: count)
    clipped = try FlatBuffer(count: options.clipNorm > 0 || options.clipValue > 0 ? count : 0)
    regularizer = Regularizer(seed: options.seed)
  }

  /// The learning rate the next update uses, after warm-up and schedule.
  public var learningRate: Float { schedule.rate(forUpdate: stepCount + 1) }

  /// The learning rate update number `n` (1-based) would use with the
  /// current base rate and plateau state (for tests and tools).
  package func learningRate(forUpdate n: Int) -> Float { schedule.rate(forUpdate: n) }

  /// The rate the schedule starts from: `options.learningRate` until
  /// `setLearningRate` changes it.
  public var baseLearningRate: Float { schedule.baseRate }

  /// Sets the base learning rate of later steps (finite, > 0): the rate
  /// warm-up rises to and the schedule starts from (`.plateau` restarts its
  /// reductions from it).
  public func setLearningRate(_ rate: Float) throws(SeqRNNError) {
    guard rate.isFinite, rate > 0 else {
      throw .invalidArgument("learning_rate must be finite and > 0, got \(rate)")
    }
    schedule.setBaseRate(rate)
  }

  /// Reports a validation metric (e.g. once per epoch) to the `.plateau`
  /// schedule; other schedules only count it. The value must be finite.
  public func reportMetric(_ value: Double) throws(SeqRNNError) {
    guard value.isFinite else {
      throw .nonFinite("the reported metric is not finite (\(value))")
    }
    schedule.report(value)
  }

  /// Freezes or unfreezes the tensor called `name`: a frozen tensor still
  /// gets gradients (see `gradient(named:)`) but no updates, its optimizer
  /// state does not advance, and clipping ignores it.
  public func setFrozen(_ name: String, _ isFrozen: Bool) throws(SeqRNNError) {
    guard let index = model.layout.indexByName[name] else {
      _ = try model.layout.info(named: name)  // throws .unknownName listing the names
      return
    }
    frozen[index] = isFrozen
  }

  /// The names of the frozen tensors, in state_dict order.
  public var frozenTensors: [String] {
    model.layout.tensors.indices.filter { frozen[$0] }.map { model.layout.tensors[$0].name }
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
    let rate = learningRate
    let update = clippedGradients()
    stepCount += 1
    for (index, info) in model.layout.tensors.enumerated() where !frozen[index] {
      optimizer.apply(
        tensor: index, range: info.offset..<(info.offset + info.count),
        parameters: model.parameters.pointer, gradients: update, learningRate: rate)
    }
    model.weightsChanged()
    return loss
  }

  /// The ranges of the tensors that get updates.
  private var trainableRanges: [Range<Int>] {
    model.layout.tensors.indices.filter { !frozen[$0] }.map {
      let info = model.layout.tensors[$0]
      return info.offset..<(info.offset + info.count)
    }
  }

  /// The gradients the optimizer uses: clamped to `±clipValue` (as
  /// torch.nn.utils.clip_grad_value_), then scaled to `clipNorm` (as
  /// clip_grad_norm_: by `max_norm / (norm + 1e-6)` when the norm of the
  /// trainable tensors' gradients is above `max_norm`). The unclipped
  /// gradients stay readable through `gradient(named:)`, so clipping writes
  /// a separate buffer.
  private func clippedGradients() -> UnsafePointer<Float> {
    let source = UnsafePointer(gradients.pointer)
    guard options.clipValue > 0 || options.clipNorm > 0 else { return source }
    return clipGradients(
      source, ranges: trainableRanges, clipValue: options.clipValue,
      clipNorm: options.clipNorm, into: clipped.pointer)
  }

  /// `computeGradients` on a validated input.
  package func computeGradients(_ given: EngineInput) throws(SeqRNNError) -> Float {
    let config = model.configuration
    let engine = model.engine
    var input = given
    // Truncated BPTT: start from the previous step's final states (values
    // only: no gradient flows into the previous chunk).
    let carried =
      options.stateful && input.initialH == nil && input.initialC == nil
      && carry.batchSize == input.batchSize
    let carriedH = carried ? carry.hidden : []
    let carriedC = carried ? carry.cell : []
    return try carriedH.withUnsafeBufferPointer { (h) throws(SeqRNNError) -> Float in
      try carriedC.withUnsafeBufferPointer { (c) throws(SeqRNNError) -> Float in
        if carried {
          input.initialH = h.baseAddress
          input.initialC = c.isEmpty ? nil : c.baseAddress
        }
        return try computeGradients(validated: input, config: config, engine: engine)
      }
    }
  }

  private func computeGradients(
    validated input: EngineInput, config: ModelConfiguration, engine: Engine<Float>
  ) throws(SeqRNNError) -> Float {
    // Fresh dropout and zoneout masks for this step (none without regularisation).
    let masks: Regularizer? = Regularizer.isActive(config) ? regularizer : nil
    try masks?.prepare(config, batchSize: input.batchSize, seqLen: input.seqLen)
    try engine.forward(input, tape: tape, masks: masks)
    try scratch.prepare(
      config, batchSize: input.batchSize, seqLen: input.seqLen, training: masks != nil)
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
      input, tape: tape, scratch: scratch, gradients: gradients.pointer, featureGradients: nil,
      masks: masks)
    let bad = Int(srnn_find_nonfinite(gradients.pointer, Int64(gradients.count)))
    if bad >= 0 {
      let name = model.layout.tensors.last { $0.offset <= bad }?.name ?? "?"
      throw .nonFinite("the gradient of '\(name)' is not finite; the model was not updated")
    }
    storeFinalStates(input, engine: engine)
    return Float(result.loss)
  }

  /// Keeps the step's final states for `seqrnn_trainer_get_state` and for
  /// the next stateful step.
  private func storeFinalStates(_ input: EngineInput, engine: Engine<Float>) {
    let count = model.configuration.stateCount(batchSize: input.batchSize)
    var h = [Float](repeating: 0, count: count)
    var c = [Float](repeating: 0, count: model.configuration.cell == .lstm ? count : 0)
    h.withUnsafeMutableBufferPointer { hb in
      c.withUnsafeMutableBufferPointer { cb in
        engine.copyFinalStates(input, tape: tape, h: hb.baseAddress, c: cb.baseAddress)
      }
    }
    carry.store(batchSize: input.batchSize, hidden: h, cell: c)
  }
}
