/// Which update rule a trainer applies.
public enum OptimizerKind: Int32, Sendable, CaseIterable {
  /// Stochastic gradient descent with optional heavy-ball momentum (torch.optim.SGD).
  case sgd = 0
  /// Adam with bias correction (torch.optim.Adam).
  case adam = 1
}

/// Settings of a trainer; defaults match `seqrnn_train_default_params()`.
public struct TrainingOptions: Sendable, Equatable {
  /// Update rule.
  public var optimizer: OptimizerKind
  /// Step size, > 0.
  public var learningRate: Float
  /// SGD momentum in [0, 1).
  public var momentum: Float
  /// Adam's first-moment decay in [0, 1).
  public var beta1: Float
  /// Adam's second-moment decay in [0, 1).
  public var beta2: Float
  /// Adam's denominator guard, > 0.
  public var epsilon: Float
  /// Global L2 norm the gradients are clipped to; 0 turns clipping off.
  public var clipNorm: Float

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
  }
}

/// Optimizer state over a flat parameter vector, and the update rules.
struct OptimizerState {
  let options: TrainingOptions
  /// SGD velocity or Adam's first moment.
  let first: FlatBuffer<Float>
  /// Adam's second moment (empty for SGD).
  let second: FlatBuffer<Float>

  init(options: TrainingOptions, count: Int) throws(SeqRNNError) {
    self.options = options
    first = try FlatBuffer(count: count)
    second = try FlatBuffer(count: options.optimizer == .adam ? count : 0)
  }

  /// Applies one update with step number `step` (1-based) and learning rate `lr`.
  func apply(
    to parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, count: Int,
    step: Int, learningRate lr: Float
  ) {
    switch options.optimizer {
    case .sgd:
      let mu = options.momentum
      if mu == 0 {
        for i in 0..<count { parameters[i] -= lr * gradients[i] }
        return
      }
      // torch.optim.SGD: v = mu * v + g (v = g on the first step); p -= lr * v.
      let v = first.pointer
      for i in 0..<count {
        v[i] = step == 1 ? gradients[i] : mu * v[i] + gradients[i]
        parameters[i] -= lr * v[i]
      }
    case .adam:
      let (b1, b2, eps) = (options.beta1, options.beta2, options.epsilon)
      let correction1 = 1 - Float(Double(b1).power(step))
      let correction2 = 1 - Double(b2).power(step)
      let stepSize = lr / correction1
      let rootCorrection2 = Float(correction2.squareRoot())
      let m = first.pointer
      let v = second.pointer
      for i in 0..<count {
        let g = gradients[i]
        m[i] = b1 * m[i] + (1 - b1) * g
        v[i] = b2 * v[i] + (1 - b2) * g * g
        // As torch.optim.Adam: p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps).
        parameters[i] -= stepSize * m[i] / (v[i].squareRoot() / rootCorrection2 + eps)
      }
    }
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
