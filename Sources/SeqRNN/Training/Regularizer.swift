/// The random masks of one training step: dropout between layers and before
/// the head, variational recurrent dropout and zoneout, drawn from the
/// trainer's seeded generator so the same seed gives the same masks.
///
/// Dropout masks hold 0 or 1/(1-p) (inverted dropout, so inference needs no
/// rescaling); zoneout masks hold 1 where a unit keeps its previous value.
/// Inference uses no masks: no dropout, and zoneout's expectation.
package final class Regularizer: @unchecked Sendable {
  /// The mask stream; part of a checkpoint.
  package var random: SeededGenerator
  /// Per layer, the dropout mask of its outputs `[T][B][D*H]` (nil for the
  /// last layer or without dropout).
  package private(set) var layerMasks: [UnsafeMutablePointer<Float>?] = []
  /// The head-input dropout mask `[rows][D*H]`.
  package private(set) var headMask: UnsafeMutablePointer<Float>?
  /// Per layer and direction, the recurrent dropout mask `[B][H]`.
  package private(set) var recurrentMasks: [[UnsafeMutablePointer<Float>?]] = []
  /// Per layer and direction, hidden-state zoneout masks `[T][B][H]`.
  package private(set) var zoneoutHidden: [[UnsafeMutablePointer<Float>?]] = []
  /// Per layer and direction, LSTM cell-state zoneout masks `[T][B][H]`.
  package private(set) var zoneoutCell: [[UnsafeMutablePointer<Float>?]] = []

  private let arena = Arena<Float>()

  /// Creates a regularizer whose masks depend only on `seed`.
  package init(seed: UInt64) { random = SeededGenerator(seed: seed) }

  /// Whether `config` uses any mask at all.
  package static func isActive(_ config: ModelConfiguration) -> Bool {
    config.dropout > 0 || config.headDropout > 0 || config.recurrentDropout > 0
      || config.zoneout > 0
  }

  /// Draws fresh masks for one step over a batch of `b` x `t`.
  package func prepare(_ config: ModelConfiguration, batchSize b: Int, seqLen t: Int)
    throws(SeqRNNError)
  {
    let (h, d, layers) = (config.hiddenSize, config.directions, config.numLayers)
    let rows = config.outputMode == .sequence ? t * b : b
    let fp = Arena<Float>.footprint
    var total = 0
    if config.dropout > 0 { total += (layers - 1) * fp(t * b * d * h) }
    if config.headDropout > 0 { total += fp(rows * d * h) }
    if config.recurrentDropout > 0 { total += layers * d * fp(b * h) }
    if config.zoneout > 0 {
      total += layers * d * fp(t * b * h) * (config.cell == .lstm ? 2 : 1)
    }
    try arena.reset(capacity: total)
    layerMasks = (0..<layers).map { layer in
      config.dropout > 0 && layer < layers - 1
        ? dropoutMask(t * b * d * h, rate: config.dropout) : nil
    }
    headMask = config.headDropout > 0 ? dropoutMask(rows * d * h, rate: config.headDropout) : nil
    recurrentMasks = (0..<layers).map { _ in
      (0..<d).map { _ in
        config.recurrentDropout > 0 ? dropoutMask(b * h, rate: config.recurrentDropout) : nil
      }
    }
    zoneoutHidden = (0..<layers).map { _ in
      (0..<d).map { _ in config.zoneout > 0 ? keepMask(t * b * h, rate: config.zoneout) : nil }
    }
    zoneoutCell = (0..<layers).map { _ in
      (0..<d).map { _ in
        config.zoneout > 0 && config.cell == .lstm ? keepMask(t * b * h, rate: config.zoneout) : nil
      }
    }
  }

  /// 0 with probability `rate`, else 1/(1-rate).
  private func dropoutMask(_ count: Int, rate: Float) -> UnsafeMutablePointer<Float> {
    let mask = arena.take(count)
    let scale = 1 / (1 - rate)
    let threshold = Double(rate)
    for i in 0..<count { mask[i] = random.unit() < threshold ? 0 : scale }
    return mask
  }

  /// 1 (keep the previous value) with probability `rate`, else 0.
  private func keepMask(_ count: Int, rate: Float) -> UnsafeMutablePointer<Float> {
    let mask = arena.take(count)
    let threshold = Double(rate)
    for i in 0..<count { mask[i] = random.unit() < threshold ? 1 : 0 }
    return mask
  }
}
