import CSeqRNNKernels

/// An encoder-decoder (sequence-to-sequence) model with its trainer: two
/// recurrent stacks, optional Luong attention, an output layer over the
/// target vocabulary, the optimizer state and the scheduled-sampling clock.
///
/// Training is teacher-forced, with optional scheduled sampling (see
/// `ScheduledSampling` for exactly what is implemented); decoding is greedy
/// or beam search (`Seq2Seq+Decoding.swift`). One thread at a time: every
/// call may use the model's reusable buffers.
public final class Seq2Seq: @unchecked Sendable {
  /// The architecture.
  public let configuration: Seq2SeqConfiguration
  /// Optimizer, clipping and learning-rate schedule settings.
  public let options: TrainingOptions
  /// The teacher-forcing schedule of `trainStep`.
  public let sampling: ScheduledSampling
  /// Training steps taken (optimizer updates); the schedules' clock.
  public internal(set) var stepCount = 0
  /// Loss, token accuracy and count of the latest training step's batch.
  public internal(set) var lastEvaluation: Evaluation?

  package let layout: Seq2SeqLayout
  /// All weights (see `layout`).
  package let parameters: FlatBuffer<Float>
  private let gradients: FlatBuffer<Float>
  private let clipped: FlatBuffer<Float>
  let optimizer: OptimizerState
  var schedule: LearningRateSchedule
  /// Scheduled sampling's coins and samples.
  var random: SeededGenerator
  /// Dropout masks of the training steps (seeded with `options.seed + 1`,
  /// apart from scheduled sampling's stream).
  let masks: Seq2SeqMasks
  let pass: Seq2SeqPass<Float>

  /// Creates a model with freshly initialised weights (from
  /// `configuration.seed`) and its trainer state.
  public init(
    _ configuration: Seq2SeqConfiguration, options: TrainingOptions = TrainingOptions(),
    sampling: ScheduledSampling = ScheduledSampling()
  ) throws(SeqRNNError) {
    try configuration.validate()
    try options.validate()
    guard !options.stateful else {
      throw .unsupported("stateful training does not apply to a seq2seq model")
    }
    try sampling.validate()
    self.configuration = configuration
    self.options = options
    self.sampling = sampling
    layout = Seq2SeqLayout(configuration)
    parameters = try FlatBuffer(count: layout.totalCount)
    gradients = try FlatBuffer(count: layout.totalCount)
    clipped = try FlatBuffer(
      count: options.clipNorm > 0 || options.clipValue > 0 ? layout.totalCount : 0)
    optimizer = try OptimizerState(
      options: options, count: layout.totalCount, tensorCount: layout.tensors.count)
    schedule = LearningRateSchedule(options: options)
    random = SeededGenerator(seed: options.seed)
    masks = Seq2SeqMasks(seed: options.seed &+ 1)
    pass = Seq2SeqPass(config: configuration, layout: layout)
    initialize()
  }

  /// PyTorch's defaults: each stack as `Model` initialises it (embedding
  /// N(0, 1), recurrent weights by `configuration.initialization`), the
  /// attention and output layers as nn.Linear, U(-1/sqrt(fan_in), +).
  private func initialize() {
    let p = parameters.pointer
    Initialization.initialize(
      configuration.encoder, layout: layout.encoder, into: p + layout.encoderBase)
    Initialization.initialize(
      configuration.decoder, layout: layout.decoder, into: p + layout.decoderBase)
    for (stack, base, config) in [
      (layout.encoder, layout.encoderBase, configuration.encoder),
      (layout.decoder, layout.decoderBase, configuration.decoder),
    ] {
      let width = config.directions * configuration.hiddenSize
      (p + base + stack.headWeight).update(repeating: 0, count: width)
      (p + base + stack.headBias).update(repeating: 0, count: 1)
    }
    var rng = SeededGenerator(seed: configuration.seed &+ 2)
    for tensor in layout.tensors
    where tensor.name.hasPrefix("attention.") || tensor.name.hasPrefix("output.") {
      let fanIn = tensor.name == "output.bias" ? configuration.hiddenSize : tensor.shape[1]
      let bound = 1 / Double(fanIn).squareRoot()
      for i in 0..<tensor.count { p[tensor.offset + i] = Float(rng.uniform(-bound, bound)) }
    }
  }

  /// Every named tensor's name and shape, in state_dict order.
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
  }

  /// The gradient of the tensor called `name` from the latest training step
  /// or `computeGradients` (before clipping).
  public func gradient(named name: String) throws(SeqRNNError) -> [Float] {
    let info = try layout.info(named: name)
    return Array(UnsafeBufferPointer(start: gradients.pointer + info.offset, count: info.count))
  }

  /// The teacher-forcing ratio the next training step uses.
  public var teacherForcingRatio: Double { sampling.teacherForcingRatio(step: stepCount) }

  /// The learning rate the next update uses, after warm-up and schedule.
  public var learningRate: Float { schedule.rate(forUpdate: stepCount + 1) }

  /// Sets the base learning rate of later steps (finite, > 0).
  public func setLearningRate(_ rate: Float) throws(SeqRNNError) {
    guard rate.isFinite, rate > 0 else {
      throw .invalidArgument("learning_rate must be finite and > 0, got \(rate)")
    }
    schedule.setBaseRate(rate)
  }

  /// One training step: (scheduled-sampling pass,) forward, backward,
  /// clipping, optimizer update, with fresh dropout masks when the
  /// configuration drops. Returns the mean per-token loss before the
  /// update. A non-finite loss or gradient refuses the step and leaves the
  /// model unchanged.
  @discardableResult
  public func trainStep(_ batch: Seq2SeqBatch) throws(SeqRNNError) -> Float {
    let valid = try batch.validated(configuration, needTargets: true)
    let loss = try computeGradients(validated: valid, ratio: teacherForcingRatio)
    let rate = learningRate
    let update = clippedGradients()
    stepCount += 1
    for (index, info) in layout.tensors.enumerated() {
      optimizer.apply(
        tensor: index, range: info.offset..<(info.offset + info.count),
        parameters: parameters.pointer, gradients: update, learningRate: rate)
    }
    return loss
  }

  /// Teacher-forced loss and gradients of a batch without an update (no
  /// scheduled sampling; dropout acts, with fresh masks, as in a training
  /// step); read them with `gradient(named:)`.
  @discardableResult
  public func computeGradients(_ batch: Seq2SeqBatch) throws(SeqRNNError) -> Float {
    try computeGradients(validated: batch.validated(configuration, needTargets: true), ratio: 1)
  }

  private func computeGradients(validated batch: Seq2SeqBatch, ratio: Double) throws(SeqRNNError)
    -> Float
  {
    let p = UnsafePointer(parameters.pointer)
    try pass.load(batch)
    // Training passes drop with fresh masks (the predictions scheduled
    // sampling feeds back included, as in a model in training mode).
    if Seq2SeqMasks.isActive(configuration) {
      try masks.prepare(configuration, for: pass)
      pass.masks = masks
    }
    defer { pass.masks = nil }
    if ratio < 1 {
      try mixInPredictions(ratio: ratio)
      try pass.decode(p)  // the encoder's pass still holds
    } else {
      try pass.forward(p)
    }
    let result = pass.loss(withGradients: true)
    let loss = result.sum / Double(result.count)
    guard loss.isFinite else {
      throw .nonFinite("the loss is not finite (\(loss)); the model was not updated")
    }
    gradients.zero()
    try pass.backward(p, gradients: gradients.pointer)
    for info in layout.tensors
    where srnn_find_nonfinite(gradients.pointer + info.offset, Int64(info.count)) >= 0 {
      throw .nonFinite("the gradient of '\(info.name)' is not finite; the model was not updated")
    }
    lastEvaluation = Evaluation(
      loss: loss, accuracy: Double(result.correct) / Double(result.count), count: result.count)
    return Float(loss)
  }

  /// Parallel scheduled sampling's first pass: a teacher-forced forward,
  /// then each decoder input `y_t` (t >= 1) is replaced, with probability
  /// `1 - ratio`, by the pass's prediction at position `t - 1`.
  private func mixInPredictions(ratio: Double) throws(SeqRNNError) {
    try pass.forward(UnsafePointer(parameters.pointer))
    let b = pass.batchSize
    let steps = pass.decoderSteps
    let v = configuration.targetVocabSize
    let predictions = sampling.sampleFromModel ? [] : pass.predictions()
    for i in 0..<b {
      for t in 1..<pass.decoderLengths[i] where random.unit() >= ratio {
        let id: Int32
        if sampling.sampleFromModel {
          id = Int32(sample(pass.head.logits + ((t - 1) * b + i) * v, count: v))
        } else {
          id = predictions[i * steps + t - 1]
        }
        pass.setDecoderInput(sequence: i, step: t, id)
      }
    }
  }

  /// A draw from softmax(logits).
  private func sample(_ logits: UnsafePointer<Float>, count v: Int) -> Int {
    let peak = logits[argmax(logits, count: v)]
    var total = 0.0
    for k in 0..<v { total += Double(Float.exp(logits[k] - peak)) }
    var u = random.unit() * total
    for k in 0..<v {
      u -= Double(Float.exp(logits[k] - peak))
      if u < 0 { return k }
    }
    return v - 1
  }

  /// The gradients the optimizer uses: clamped to `±clipValue`, then scaled
  /// to `clipNorm` (as torch's clip_grad_value_ and clip_grad_norm_).
  private func clippedGradients() -> UnsafePointer<Float> {
    let source = UnsafePointer(gradients.pointer)
    guard options.clipValue > 0 || options.clipNorm > 0 else { return source }
    return clipGradients(
      source, ranges: layout.tensors.map { $0.offset..<($0.offset + $0.count) },
      clipValue: options.clipValue,
      clipNorm: options.clipNorm, into: clipped.pointer)
  }

  /// Teacher-forced mean per-token loss (EOS included), token accuracy and
  /// token count of a batch with targets.
  public func evaluate(_ batch: Seq2SeqBatch) throws(SeqRNNError) -> Evaluation {
    try pass.load(batch.validated(configuration, needTargets: true))
    try pass.forward(UnsafePointer(parameters.pointer))
    let result = pass.loss(withGradients: false)
    let loss = result.sum / Double(result.count)
    guard loss.isFinite else { throw .nonFinite("the loss is not finite (\(loss))") }
    return Evaluation(
      loss: loss, accuracy: Double(result.correct) / Double(result.count), count: result.count)
  }

  /// Teacher-forced logits `[B][targetSteps + 1][V]` and attention weights
  /// `[B][targetSteps + 1][sourceSteps]` (zeros without attention), zeros
  /// past each sequence's decoder length (target length + 1).
  public func logits(_ batch: Seq2SeqBatch) throws(SeqRNNError) -> (
    logits: [Float], attention: [Float]
  ) {
    let valid = try batch.validated(configuration, needTargets: true)
    try pass.load(valid)
    try pass.forward(UnsafePointer(parameters.pointer))
    let (b, s, v) = (valid.batchSize, valid.sourceSteps, configuration.targetVocabSize)
    let width = valid.targetSteps + 1
    let steps = pass.decoderSteps
    var logits = [Float](repeating: 0, count: b * width * v)
    var attention = [Float](repeating: 0, count: b * width * s)
    let withAttention = configuration.attention != .none
    for i in 0..<b {
      for t in 0..<pass.decoderLengths[i] {
        let source = pass.head.logits + (t * b + i) * v
        for k in 0..<v { logits[(i * width + t) * v + k] = source[k] }
        if withAttention {
          let a = pass.head.weights + (i * steps + t) * s
          for k in 0..<s { attention[(i * width + t) * s + k] = a[k] }
        }
      }
    }
    return (logits, attention)
  }
}
