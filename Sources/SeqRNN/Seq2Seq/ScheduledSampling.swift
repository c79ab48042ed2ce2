#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How the teacher-forcing ratio ε decays over training steps (Bengio et
/// al. 2015, "Scheduled Sampling for Sequence Prediction with Recurrent
/// Neural Networks").
public enum SamplingScheduleKind: Int32, Sendable, CaseIterable {
  /// Pure teacher forcing: ε = 1 always (no extra pass).
  case none = 0
  /// ε = start.
  case constant = 1
  /// ε_i = max(end, start - decay · i).
  case linear = 2
  /// ε_i = max(end, start · decay^i), decay in (0, 1].
  case exponential = 3
  /// ε_i = end + (start - end) · k / (k + exp(i / k)), k = decay >= 1
  /// (Bengio et al.'s inverse sigmoid for start 1, end 0).
  case inverseSigmoid = 4

  /// The name used in files and messages.
  public var name: String {
    switch self {
    case .none: return "none"
    case .constant: return "constant"
    case .linear: return "linear"
    case .exponential: return "exponential"
    case .inverseSigmoid: return "inverse_sigmoid"
    }
  }
}

/// Scheduled sampling as seqrnn implements it: *parallel* scheduled
/// sampling with one extra pass (Duckworth et al. 2019, "Parallel
/// Scheduled Sampling"), not Bengio et al.'s step-by-step version.
///
/// A training step with ratio ε < 1 first runs the decoder teacher-forced
/// (BOS y_1 ... y_n) and takes its prediction at every position (the
/// arg-max, or a sample from the softmax with `sampleFromModel`). Then each
/// decoder input y_t (t >= 1; BOS stays) is kept with probability ε and
/// otherwise replaced by the first pass's prediction for that position
/// (what the model, fed the gold prefix, predicted for y_t); one coin per
/// position, from the trainer's seeded generator. The second pass on the
/// mixed inputs gives the loss (against the gold targets) and the
/// gradients; no gradient flows through the choice of inputs, as in Bengio
/// et al. It differs from the step-by-step version in that a replaced
/// token was predicted from the gold prefix rather than from the model's
/// own earlier choices, which keeps both passes full-sequence (fast); the
/// step-by-step version is the limit of many such passes.
///
/// `i` in the schedules is the number of training steps taken so far.
public struct ScheduledSampling: Sendable, Equatable {
  /// The schedule.
  public var kind: SamplingScheduleKind
  /// ε at step 0, in [0, 1].
  public var start: Double
  /// The floor ε decays to, in [0, start].
  public var end: Double
  /// Linear: ε lost per step (> 0); exponential: factor per step in (0, 1];
  /// inverse sigmoid: k >= 1 (larger: slower decay).
  public var decay: Double
  /// Feed back a sample from the model's softmax instead of its arg-max.
  public var sampleFromModel: Bool

  /// Creates a schedule; the default is pure teacher forcing.
  public init(
    kind: SamplingScheduleKind = .none, start: Double = 1, end: Double = 0, decay: Double = 0,
    sampleFromModel: Bool = false
  ) {
    self.kind = kind
    self.start = start
    self.end = end
    self.decay = decay
    self.sampleFromModel = sampleFromModel
  }

  /// Checks the fields the schedule uses, naming the first bad one.
  public func validate() throws(SeqRNNError) {
    guard kind != .none else { return }
    guard start.isFinite, start >= 0, start <= 1 else {
      throw .invalidArgument("sampling_start must be in [0, 1], got \(start)")
    }
    guard end.isFinite, end >= 0, end <= start else {
      throw .invalidArgument("sampling_end must be in [0, sampling_start = \(start)], got \(end)")
    }
    switch kind {
    case .none, .constant: break
    case .linear:
      guard decay.isFinite, decay > 0 else {
        throw .invalidArgument("sampling_decay must be > 0 for the linear schedule, got \(decay)")
      }
    case .exponential:
      guard decay > 0, decay <= 1 else {
        throw .invalidArgument(
          "sampling_decay must be in (0, 1] for the exponential schedule, got \(decay)")
      }
    case .inverseSigmoid:
      guard decay.isFinite, decay >= 1 else {
        throw .invalidArgument(
          "sampling_decay must be >= 1 for the inverse-sigmoid schedule, got \(decay)")
      }
    }
  }

  /// The teacher-forcing ratio ε after `step` training steps.
  public func teacherForcingRatio(step: Int) -> Double {
    let i = Double(max(step, 0))
    let ratio: Double
    switch kind {
    case .none: return 1
    case .constant: ratio = start
    case .linear: ratio = max(end, start - decay * i)
    case .exponential: ratio = max(end, start * pow(decay, i))
    case .inverseSigmoid:
      // exp(i / k) overflows to +inf for huge i, which gives end exactly.
      ratio = end + (start - end) * decay / (decay + exp(i / decay))
    }
    return min(max(ratio, 0), 1)
  }
}
