/// Early stopping on a validation metric: tracks the best value, keeps a
/// copy of the weights that gave it, and says when training should stop.
///
/// Call `update(_:model:)` once per evaluation (e.g. per epoch) with the
/// metric; `restore(into:)` puts the best weights back. A value improves on
/// the best when it is lower by more than `minDelta` (`.minimize`, e.g. a
/// loss) or higher by more than `minDelta` (`.maximize`, e.g. accuracy or
/// F1), as Keras's `EarlyStopping`; the first value always improves.
/// `shouldStop` becomes true once `max(patience, 1)` evaluations in a row
/// passed without an improvement (so `patience` 0 and 1 both stop after the
/// first evaluation that does not improve), and false again after an
/// improvement.
///
/// Use from one thread at a time; `update` only reads the model.
public final class EarlyStopping {
  /// Whether smaller or larger values are better.
  public enum Mode: Sendable, Equatable {
    /// Smaller is better (losses, perplexity).
    case minimize
    /// Larger is better (accuracy, precision, recall, F1).
    case maximize
  }

  /// Whether smaller or larger values are better.
  public let mode: Mode
  /// Evaluations without improvement before `shouldStop`.
  public let patience: Int
  /// How much a value must beat the best by to count as an improvement.
  public let minDelta: Double
  /// The best value so far (nil before the first `update`).
  public private(set) var bestValue: Double?
  /// The 0-based index of the `update` call that gave `bestValue`.
  public private(set) var bestIndex: Int?
  /// Number of `update` calls so far.
  public private(set) var updates = 0
  /// Evaluations since the best one.
  public private(set) var wait = 0

  /// The best weights, in the model's flat parameter order.
  private var snapshot: [Float] = []
  /// The tensor layout the snapshot belongs to.
  private var layout: [TensorInfo]?

  /// Creates an early-stopping tracker.
  /// - Throws: `.invalidArgument` when `patience` is negative or `minDelta`
  ///   negative or not finite.
  public init(mode: Mode, patience: Int, minDelta: Double = 0) throws(SeqRNNError) {
    guard patience >= 0 else {
      throw .invalidArgument("patience must be >= 0, got \(patience)")
    }
    guard minDelta >= 0, minDelta.isFinite else {
      throw .invalidArgument("min_delta must be finite and >= 0, got \(minDelta)")
    }
    self.mode = mode
    self.patience = patience
    self.minDelta = minDelta
  }

  /// True once `max(patience, 1)` evaluations in a row did not improve.
  public var shouldStop: Bool { wait >= max(patience, 1) }

  /// Records `value` for `model`: on an improvement, copies the model's
  /// weights as the best so far. Returns `shouldStop`.
  /// - Throws: `.nonFinite` for a NaN or infinite value, `.shapeMismatch`
  ///   when the model's tensors differ from those of earlier calls; then
  ///   nothing is recorded.
  @discardableResult
  public func update(_ value: Double, model: Model) throws(SeqRNNError) -> Bool {
    guard value.isFinite else { throw .nonFinite("the value \(value) is not finite") }
    try checkLayout(model)
    if isImprovement(value) {
      let parameters = model.parameters
      if snapshot.count != parameters.count {
        snapshot = Array(repeating: 0, count: parameters.count)
      }
      snapshot.withUnsafeMutableBufferPointer {
        $0.baseAddress!.update(from: parameters.pointer, count: parameters.count)
      }
      layout = model.tensorInfos
      bestValue = value
      bestIndex = updates
      wait = 0
    } else {
      wait += 1
    }
    updates += 1
    return shouldStop
  }

  /// Copies the best weights seen back into `model`.
  /// - Throws: `.unsupported` before the first `update`, `.shapeMismatch`
  ///   when `model` has other tensors than the model the weights came from.
  public func restore(into model: Model) throws(SeqRNNError) {
    guard bestValue != nil else {
      throw .unsupported("no value has been recorded yet: nothing to restore")
    }
    try checkLayout(model)
    try snapshot.withUnsafeBufferPointer { (values) throws(SeqRNNError) in
      for info in model.tensorInfos {
        try model.setTensor(
          named: info.name, from: values.baseAddress! + info.offset, count: info.count)
      }
    }
  }

  /// A copy of the best weights of the tensor called `name` (nil before the
  /// first `update`).
  /// - Throws: `.unknownName` for a name the model does not have.
  public func bestTensor(named name: String) throws(SeqRNNError) -> [Float]? {
    guard let layout else { return nil }
    guard let info = layout.first(where: { $0.name == name }) else {
      throw .unknownName("no tensor is called '\(name)'")
    }
    return Array(snapshot[info.offset..<(info.offset + info.count)])
  }

  /// Forgets every value and the kept weights.
  public func reset() {
    bestValue = nil
    bestIndex = nil
    updates = 0
    wait = 0
    snapshot = []
    layout = nil
  }

  private func isImprovement(_ value: Double) -> Bool {
    guard let best = bestValue else { return true }
    switch mode {
    case .minimize: return value < best - minDelta
    case .maximize: return value > best + minDelta
    }
  }

  private func checkLayout(_ model: Model) throws(SeqRNNError) {
    guard let layout else { return }
    let tensors = model.tensorInfos
    guard tensors == layout else {
      let first = zip(tensors, layout).first { $0 != $1 }
      let detail =
        first.map {
          "tensor '\($0.name)' \($0.shape) where the recorded model has '\($1.name)' \($1.shape)"
        }
        ?? "\(tensors.count) tensors where the recorded model has \(layout.count)"
      throw .shapeMismatch(
        "the model differs from the one recorded earlier: it has \(detail)")
    }
  }
}
