import CSeqRNNKernels

/// Which update rule a trainer applies.
public enum OptimizerKind: Int32, Sendable, CaseIterable {
  /// Stochastic gradient descent with optional heavy-ball momentum (torch.optim.SGD).
  case sgd = 0
  /// Adam with bias correction (torch.optim.Adam).
  case adam = 1
  /// Adam with decoupled weight decay (torch.optim.AdamW).
  case adamW = 2
  /// RMSprop (torch.optim.RMSprop).
  case rmsprop = 3
}

/// How the learning rate changes over updates.
public enum ScheduleKind: Int32, Sendable, CaseIterable {
  /// The rate stays `learningRate`.
  case constant = 0
  /// Times `gamma` every `stepSize` updates.
  case step = 1
  /// Times `gamma` every update.
  case exponential = 2
  /// Cosine from `learningRate` to `minLearningRate` over `totalSteps`.
  case cosine = 3
  /// Times `gamma` after `patience` reported metrics without improvement.
  case plateau = 4
}

/// Settings of a trainer; defaults match `seqrnn_train_default_params()`.
public struct TrainingOptions: Sendable, Equatable {
  /// Update rule.
  public var optimizer: OptimizerKind
  /// Step size, > 0.
  public var learningRate: Float
  /// SGD and RMSprop momentum in [0, 1).
  public var momentum: Float
  /// Adam's first-moment decay in [0, 1).
  public var beta1: Float
  /// Adam's second-moment decay in [0, 1).
  public var beta2: Float
  /// Adam's and RMSprop's denominator guard, > 0.
  public var epsilon: Float
  /// Global L2 norm the gradients are clipped to; 0 turns clipping off.
  public var clipNorm: Float
  /// SGD: Nesterov momentum.
  public var nesterov = false
  /// RMSprop's smoothing constant in [0, 1).
  public var rmspropAlpha: Float = 0.99
  /// Coupled L2 penalty: adds `l2Penalty * w` to every gradient.
  public var l2Penalty: Float = 0
  /// Decoupled weight decay: `w -= lr * weightDecay * w` every update, before
  /// the update rule (torch.optim.AdamW's `weight_decay`; for SGD and RMSprop
  /// the decoupled "SGDW" variant).
  public var weightDecay: Float = 0
  /// Clamp of every gradient entry to `±clipValue` (0 = off), before norm clipping.
  public var clipValue: Float = 0
  /// Learning-rate schedule.
  public var schedule: ScheduleKind = .constant
  /// `.step`: updates between reductions.
  public var stepSize = 1000
  /// `.step`, `.exponential`, `.plateau`: the factor, in (0, 1].
  public var gamma: Float = 0.1
  /// Linear warm-up over this many updates: update `n` (1-based, `n <= warmupSteps`)
  /// uses `rate * n / warmupSteps`; the schedule starts after it.
  public var warmupSteps = 0
  /// `.cosine`: updates after warm-up over which the rate decays.
  public var totalSteps = 10000
  /// `.cosine` end and `.plateau` floor.
  public var minLearningRate: Float = 0
  /// `.plateau`: a reduction happens when more than `patience` reports in a row
  /// did not improve (torch's ReduceLROnPlateau `num_bad_epochs > patience`).
  public var patience = 10
  /// `.plateau`: larger reported values are better.
  public var plateauMaximize = false
  /// Truncated BPTT: each step starts from the previous step's final states.
  public var stateful = false
  /// Seed of the dropout and zoneout masks.
  public var seed: UInt64 = 0

  /// Creates options (Adam, learning rate 1e-3, no clipping by default).
  public init(
    optimizer: OptimizerKind = .adam, learningRate: Float = 1e-3, momentum: Float = 0,
    beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, clipNorm: Float = 0
  ) {
    self.optimizer = optimizer
    self.learningRate = learningRate
    self.momentum = momentum
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.clipNorm = clipNorm
  }

  /// Checks every field, naming the first bad one.
  public func validate() throws(SeqRNNError) {
    func check(_ ok: Bool, _ message: String) throws(SeqRNNError) {
      if !ok { throw .invalidArgument(message) }
    }
    try check(
      learningRate.isFinite && learningRate > 0,
      "learning_rate must be finite and > 0, got \(learningRate)")
    try check(momentum >= 0 && momentum < 1, "momentum must be in [0, 1), got \(momentum)")
    try check(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1), got \(beta1)")
    try check(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), got \(beta2)")
    try check(epsilon.isFinite && epsilon > 0, "epsilon must be finite and > 0, got \(epsilon)")
    try check(
      clipNorm.isFinite && clipNorm >= 0, "clip_norm must be finite and >= 0, got \(clipNorm)")
    try check(
      clipValue.isFinite && clipValue >= 0, "clip_value must be finite and >= 0, got \(clipValue)")
    try check(!nesterov || momentum > 0, "nesterov needs momentum > 0")
    try check(
      rmspropAlpha >= 0 && rmspropAlpha < 1, "rmsprop_alpha must be in [0, 1), got \(rmspropAlpha)")
    try check(
      l2Penalty.isFinite && l2Penalty >= 0, "l2_penalty must be finite and >= 0, got \(l2Penalty)")
    try check(
      weightDecay.isFinite && weightDecay >= 0,
      "weight_decay must be finite and >= 0, got \(weightDecay)")
    try check(stepSize > 0, "step_size must be > 0, got \(stepSize)")
    try check(gamma > 0 && gamma <= 1, "gamma must be in (0, 1], got \(gamma)")
    try check(warmupSteps >= 0, "warmup_steps must be >= 0, got \(warmupSteps)")
    try check(totalSteps > 0, "total_steps must be > 0, got \(totalSteps)")
    try check(
      minLearningRate.isFinite && minLearningRate >= 0 && minLearningRate <= learningRate,
      "min_learning_rate must be in [0, learning_rate], got \(minLearningRate)")
    try check(patience >= 0, "patience must be >= 0, got \(patience)")
  }
}

/// Optimizer state over a flat parameter vector, and the update rules.
///
/// The rules are torch.optim's, element by element, in float32:
///
/// - SGD: `b = g` on a tensor's first update, else `b = μ·b + g` (dampening 0);
///   Nesterov uses `g + μ·b`, plain momentum `b`; `w -= lr·that`.
/// - Adam and AdamW: `m = β1·m + (1-β1)·g`, `v = β2·v + (1-β2)·g²`,
///   `w -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + ε)`.
/// - RMSprop (not centered): `v = α·v + (1-α)·g²`; with momentum
///   `b = μ·b + g/(sqrt(v)+ε)`, `w -= lr·b`, else `w -= lr·g/(sqrt(v)+ε)`.
///
/// Before the rule, the coupled L2 penalty adds `l2Penalty·w` to `g` (torch's
/// `weight_decay` of SGD, Adam and RMSprop) and the decoupled decay scales
/// `w` by `1 - lr·weightDecay` (torch.optim.AdamW's `weight_decay`; with SGD
/// and RMSprop the "SGDW"-style decoupled variant; Adam with `weightDecay` is
/// AdamW). `t` counts the updates each tensor received, as torch counts
/// `step` per parameter, so a tensor that was frozen for a while continues
/// its own bias correction when it is unfrozen.
final class OptimizerState {
  let options: TrainingOptions
  /// SGD and RMSprop momentum buffers, Adam's first moment (empty when unused).
  let first: FlatBuffer<Float>
  /// Adam's second moment and RMSprop's square average (empty when unused).
  let second: FlatBuffer<Float>
  /// Updates applied to each tensor, in layout order (torch's per-parameter `step`).
  var tensorSteps: [Int]

  init(options: TrainingOptions, count: Int, tensorCount: Int) throws(SeqRNNError) {
    self.options = options
    first = try FlatBuffer(count: Self.usesFirst(options) ? count : 0)
    second = try FlatBuffer(count: Self.usesSecond(options) ? count : 0)
    tensorSteps = [Int](repeating: 0, count: tensorCount)
  }

  /// Whether `options` keep a momentum buffer or first moment.
  static func usesFirst(_ options: TrainingOptions) -> Bool {
    switch options.optimizer {
    case .sgd, .rmsprop: return options.momentum > 0
    case .adam, .adamW: return true
    }
  }

  /// Whether `options` keep a second moment or square average.
  static func usesSecond(_ options: TrainingOptions) -> Bool {
    options.optimizer != .sgd
  }

  /// Applies one update to the tensor at `tensor` (its index in the layout),
  /// whose values are `range` of `parameters`, from `gradients` (already
  /// clipped), with learning rate `lr`.
  func apply(
    tensor: Int, range: Range<Int>, parameters p: UnsafeMutablePointer<Float>,
    gradients: UnsafePointer<Float>, learningRate lr: Float
  ) {
    tensorSteps[tensor] += 1
    let step = tensorSteps[tensor]
    var update = srnn_update()
    update.threads = Int32(Recurrence.teamSize())
    update.count = Int64(range.count)
    update.parameters = p + range.lowerBound
    update.gradients = gradients + range.lowerBound
    update.first = first.count > 0 ? first.pointer + range.lowerBound : nil
    update.second = second.count > 0 ? second.pointer + range.lowerBound : nil
    update.learning_rate = lr
    update.momentum = options.momentum
    update.alpha = options.rmspropAlpha
    update.epsilon = options.epsilon
    update.l2 = options.l2Penalty
    // As torch: param.mul_(1 - lr * weight_decay), the factor computed in double.
    update.decay = Float(1 - Double(lr) * Double(options.weightDecay))
    update.decays = options.weightDecay > 0 ? 1 : 0
    update.nesterov = options.nesterov ? 1 : 0
    update.first_step = step == 1 ? 1 : 0
    switch options.optimizer {
    case .sgd:
      update.rule = Int32(SRNN_RULE_SGD)
    case .adam, .adamW:
      update.rule = Int32(SRNN_RULE_ADAM)
      update.beta1 = options.beta1
      update.beta2 = options.beta2
      update.step_size = lr / (1 - Float(Double(options.beta1).power(step)))
      update.root_correction2 = Float((1 - Double(options.beta2).power(step)).squareRoot())
    case .rmsprop:
      update.rule = Int32(SRNN_RULE_RMSPROP)
    }
    srnn_optimizer_update(&update)
  }
}

extension Double {
  /// `self` raised to a non-negative integer power, by squaring.
  fileprivate func power(_ exponent: Int) -> Double {
    var result = 1.0
    var base = self
    var e = exponent
    while e > 0 {
      if e & 1 == 1 { result *= base }
      base *= base
      e >>= 1
    }
    return result
  }
}
