#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The learning rate of every update: a linear warm-up, then one of the
/// schedules of `ScheduleKind`, all computed in double precision from the
/// base rate and rounded to float once.
///
/// With `n` the 1-based number of the update, `W = warmupSteps`, `r` the base
/// rate, `k = max(0, n - W - 1)` the updates after warm-up before this one:
///
/// - warm-up: update `n <= W` uses `s · n / W`, where `s` is the schedule's
///   rate at `k = 0` (the base rate, or the plateau rate);
/// - `.constant`: `r`;
/// - `.step`: `r · gamma^floor(k / stepSize)` (torch's StepLR);
/// - `.exponential`: `r · gamma^k` (torch's ExponentialLR);
/// - `.cosine`: `min + (r - min) · (1 + cos(pi · k / totalSteps)) / 2` for
///   `k <= totalSteps`, then `min` (torch's CosineAnnealingLR closed form,
///   held at its end);
/// - `.plateau`: torch's ReduceLROnPlateau with `mode` min (or max with
///   `plateauMaximize`), `threshold_mode` 'rel', `threshold` 1e-4,
///   `cooldown` 0, `factor` gamma, `min_lr` minLearningRate, eps 1e-8,
///   driven by `report(_:)`.
struct LearningRateSchedule {
  /// torch's ReduceLROnPlateau defaults that seqrnn fixes.
  static let plateauThreshold = 1e-4
  static let plateauEpsilon = 1e-8

  let options: TrainingOptions
  /// The rate the schedule starts from (`options.learningRate` until changed).
  private(set) var baseRate: Float
  /// `.plateau`: the current (possibly reduced) rate.
  var plateauRate: Double
  /// `.plateau`: the best value reported so far (±infinity before any).
  var best: Double
  /// `.plateau`: reports in a row without improvement.
  var badReports = 0
  /// Values reported so far.
  var reports = 0

  init(options: TrainingOptions) {
    self.options = options
    baseRate = options.learningRate
    plateauRate = Double(options.learningRate)
    best = options.plateauMaximize ? -.infinity : .infinity
  }

  /// Sets the base rate; `.plateau` restarts its reduced rate from it.
  mutating func setBaseRate(_ rate: Float) {
    baseRate = rate
    plateauRate = Double(rate)
  }

  /// The rate of update number `n` (1-based).
  func rate(forUpdate n: Int) -> Float {
    let warmup = options.warmupSteps
    let k = max(0, n - warmup - 1)
    let base = Double(baseRate)
    let gamma = Double(options.gamma)
    var rate: Double
    switch options.schedule {
    case .constant:
      rate = base
    case .step:
      rate = base * pow(gamma, Double(k / options.stepSize))
    case .exponential:
      rate = base * pow(gamma, Double(k))
    case .cosine:
      let low = Double(options.minLearningRate)
      let total = options.totalSteps
      rate =
        k >= total ? low : low + (base - low) * (1 + cos(Double.pi * Double(k) / Double(total))) / 2
    case .plateau:
      rate = plateauRate
    }
    if n <= warmup {
      rate = rate * Double(max(n, 0)) / Double(warmup)
    }
    return Float(rate)
  }

  /// Records a validation value; `.plateau` may reduce its rate.
  mutating func report(_ value: Double) {
    reports += 1
    let improved =
      options.plateauMaximize
      ? value > best * (1 + Self.plateauThreshold)
      : value < best * (1 - Self.plateauThreshold)
    if improved {
      best = value
      badReports = 0
    } else {
      badReports += 1
    }
    guard options.schedule == .plateau, badReports > options.patience else { return }
    let reduced = max(plateauRate * Double(options.gamma), Double(options.minLearningRate))
    if plateauRate - reduced > Self.plateauEpsilon { plateauRate = reduced }
    badReports = 0
  }
}
