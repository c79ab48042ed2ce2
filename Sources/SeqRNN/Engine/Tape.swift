/// Everything one forward pass produces that the backward pass needs:
/// time-major inputs and layer outputs, post-activation gates, the state
/// after every step, and the head's inputs and logits.
///
/// Owned by a trainer, a streaming state or a single forward call, and
/// reused across calls of the same shape so the time loop never allocates.
package final class Tape<T: EngineScalar>: @unchecked Sendable {
  /// Batch size the buffers are laid out for.
  package private(set) var batchSize = 0
  /// Time steps the buffers are laid out for.
  package private(set) var seqLen = 0
  /// Rows of the head: `seqLen * batchSize` (sequence) or `batchSize` (last).
  package private(set) var headRows = 0

  /// Layer-0 input, time-major `[T][B][E]`, zero at padded steps.
  package private(set) var input: UnsafeMutablePointer<T>!
  /// Per layer, outputs `[T][B][D*H]` (forward half, then backward half).
  package private(set) var layerOutputs: [UnsafeMutablePointer<T>] = []
  /// Per layer but the last, its outputs after dropout, which the next
  /// layer reads (training with dropout only).
  package private(set) var droppedOutputs: [UnsafeMutablePointer<T>?] = []
  /// Per layer and direction, gates `[T][B][G*H]`: input projections, then
  /// overwritten step by step with the activated gate values.
  package private(set) var gates: [[UnsafeMutablePointer<T>]] = []
  /// Per layer and direction, hidden states `[T+1][B][H]`; see `Engine`.
  package private(set) var states: [[UnsafeMutablePointer<T>]] = []
  /// Per layer and direction, LSTM cell states `[T+1][B][H]`.
  package private(set) var cells: [[UnsafeMutablePointer<T>]] = []
  /// Per layer and direction, GRU `W_hn h + b_hn` for each step `[T][B][H]`.
  package private(set) var gruHidden: [[UnsafeMutablePointer<T>]] = []
  /// With zoneout, per layer and direction, the cell's new value before
  /// zoneout mixes in the previous one `[T][B][H]`: the LSTM cell state, or
  /// the RNN hidden state (backward needs them for the derivatives).
  package private(set) var candidates: [[UnsafeMutablePointer<T>?]] = []
  /// Head inputs `[rows][D*H]` (a gather of the last layer for `.last`,
  /// the dropped-out copy with head dropout).
  package private(set) var headInput: UnsafeMutablePointer<T>!
  /// Head outputs `[rows][O]`.
  package private(set) var logits: UnsafeMutablePointer<T>!
  /// The loss's weighted per-row values `[rows]` (float32 cross-entropy
  /// sums them in a fixed order).
  package private(set) var rowLosses: FlatBuffer<Double>!
  /// Per-step recurrent product `[B][G*H]`.
  package private(set) var recurrentProduct: UnsafeMutablePointer<T>!
  /// With recurrent dropout, the masked previous state of a step `[B][H]`.
  package private(set) var maskedPrevious: UnsafeMutablePointer<T>?
  /// float32: `W_hh` packed for the recurrence kernel's forward pass (one
  /// layer direction at a time; nil when this shape uses row dot products)
  /// and the kernel's per-thread scratch.
  package private(set) var recurrencePacked: UnsafeMutablePointer<T>?
  package private(set) var recurrenceScratch: UnsafeMutablePointer<T>?
  /// Threads the recurrence kernel may use with these buffers.
  package private(set) var teamSize = 1

  private let arena = Arena<T>()
  private var plannedFor: (b: Int, t: Int, training: Bool, team: Int) = (0, 0, false, 0)

  /// Creates an empty tape; `prepare` sizes it.
  package init() {}

  /// Lays out buffers for a batch of `batchSize` x `seqLen`, with the extra
  /// buffers of dropout when `training` (reusing memory when the shape is
  /// unchanged or smaller).
  package func prepare(
    _ config: ModelConfiguration, batchSize b: Int, seqLen t: Int, training: Bool = false
  ) throws(SeqRNNError) {
    let team = Recurrence.teamSize()
    if plannedFor == (b, t, training, team) { return }
    plannedFor = (0, 0, false, 0)
    let h = config.hiddenSize
    let d = config.directions
    let layers = config.numLayers
    let recurrence = Recurrence.sizes(config, batch: b, steps: t, team: team, scalar: T.self)
    let gh = config.cell.gateCount * h
    let rows = config.outputMode == .sequence ? t * b : b
    let layerDropout = training && config.dropout > 0
    let separateHead = config.outputMode == .last || (training && config.headDropout > 0)
    let recurrentDropout = training && config.recurrentDropout > 0
    let keepCandidates = config.zoneout > 0 && config.cell != .gru
    let fp = Arena<T>.footprint
    var total = fp(t * b * config.embeddingOrInputSize) + fp(rows * config.outputSize) + fp(b * gh)
    total += separateHead ? fp(rows * d * h) : 0
    total += recurrentDropout ? fp(b * h) : 0
    let perDirection =
      fp(t * b * gh) + fp((t + 1) * b * h)
      + (config.cell == .lstm ? fp((t + 1) * b * h) : 0)
      + (config.cell == .gru ? fp(t * b * h) : 0)
      + (keepCandidates ? fp(t * b * h) : 0)
    total += layers * (fp(t * b * d * h) + d * perDirection)
    total += layerDropout ? (layers - 1) * fp(t * b * d * h) : 0
    total += fp(recurrence.packed) + fp(recurrence.scratch)
    try arena.reset(capacity: total)
    if (rowLosses?.count ?? -1) < rows { rowLosses = try FlatBuffer(count: rows, zeroed: false) }

    input = arena.take(t * b * config.embeddingOrInputSize)
    layerOutputs = (0..<layers).map { _ in arena.take(t * b * d * h) }
    droppedOutputs = (0..<layers).map { layer in
      layerDropout && layer < layers - 1 ? arena.take(t * b * d * h) : nil
    }
    gates = []
    states = []
    cells = []
    gruHidden = []
    candidates = []
    for _ in 0..<layers {
      gates.append((0..<d).map { _ in arena.take(t * b * gh) })
      states.append((0..<d).map { _ in arena.take((t + 1) * b * h) })
      cells.append(config.cell == .lstm ? (0..<d).map { _ in arena.take((t + 1) * b * h) } : [])
      gruHidden.append(config.cell == .gru ? (0..<d).map { _ in arena.take(t * b * h) } : [])
      candidates.append((0..<d).map { _ in keepCandidates ? arena.take(t * b * h) : nil })
    }
    headInput = separateHead ? arena.take(rows * d * h) : layerOutputs[layers - 1]
    logits = arena.take(rows * config.outputSize)
    recurrentProduct = arena.take(b * gh)
    maskedPrevious = recurrentDropout ? arena.take(b * h) : nil
    recurrencePacked = recurrence.packed > 0 ? arena.take(recurrence.packed) : nil
    recurrenceScratch = recurrence.scratch > 0 ? arena.take(recurrence.scratch) : nil
    teamSize = team
    batchSize = b
    seqLen = t
    headRows = rows
    plannedFor = (b, t, training, team)
  }
}

/// Scratch of the backward pass, reused across steps of a trainer.
package final class BackwardScratch<T: EngineScalar> {
  /// Gradient of the loss with respect to the logits `[rows][O]`.
  package private(set) var logitGradients: UnsafeMutablePointer<T>!
  /// Gradient with respect to the head inputs `[rows][D*H]`.
  package private(set) var headInputGradients: UnsafeMutablePointer<T>!
  /// Ping-pong buffers for gradients of layer outputs / inputs `[T][B][max]`.
  package private(set) var layerGradients: (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>)!
  /// Pre-activation gate gradients of one direction `[T][B][G*H]`.
  package private(set) var gateGradients: UnsafeMutablePointer<T>!
  /// GRU: gradients of `W_hn h + b_hn` `[T][B][H]`.
  package private(set) var gruHiddenGradients: UnsafeMutablePointer<T>!
  /// Carried gradient of the hidden state `[B][H]`.
  package private(set) var hiddenCarry: UnsafeMutablePointer<T>!
  /// Carried gradient of the LSTM cell state `[B][H]`.
  package private(set) var cellCarry: UnsafeMutablePointer<T>!
  /// Recurrent GEMM result `[B][H]`.
  package private(set) var recurrentResult: UnsafeMutablePointer<T>!
  /// GRU's direct `z * dh` path to the previous state `[B][H]`.
  package private(set) var directPath: UnsafeMutablePointer<T>!
  /// Zoneout: the parts of dL/dh and dL/dc that reach the previous step
  /// directly through the kept units `[B][H]` each.
  package private(set) var zoneoutHidden: UnsafeMutablePointer<T>!
  package private(set) var zoneoutCell: UnsafeMutablePointer<T>!
  /// Recurrent dropout: the masked previous states of all steps `[T][B][H]`.
  package private(set) var maskedStates: UnsafeMutablePointer<T>?
  /// float32: `W_hh` packed for the recurrence kernel's backward pass.
  package private(set) var recurrencePacked: UnsafeMutablePointer<T>?

  private let arena = Arena<T>()
  private var plannedFor: (b: Int, t: Int, training: Bool) = (0, 0, false)

  /// Creates empty scratch; `prepare` sizes it.
  package init() {}

  /// Lays out buffers for a batch of `b` x `t`.
  package func prepare(
    _ config: ModelConfiguration, batchSize b: Int, seqLen t: Int, training: Bool = false
  ) throws(SeqRNNError) {
    if plannedFor == (b, t, training) { return }
    plannedFor = (0, 0, false)
    let h = config.hiddenSize
    let dh = config.directions * h
    let gh = config.cell.gateCount * h
    let rows = config.outputMode == .sequence ? t * b : b
    let width = max(dh, config.embeddingOrInputSize)
    let recurrentDropout = training && config.recurrentDropout > 0
    let packedBackward = Recurrence.backwardSize(config, scalar: T.self)
    let fp = Arena<T>.footprint
    let total =
      fp(rows * config.outputSize) + fp(rows * dh) + 2 * fp(t * b * width) + fp(t * b * gh)
      + fp(t * b * h) + 6 * fp(b * h) + (recurrentDropout ? fp(t * b * h) : 0)
      + fp(packedBackward)
    try arena.reset(capacity: total)
    logitGradients = arena.take(rows * config.outputSize)
    headInputGradients = arena.take(rows * dh)
    layerGradients = (arena.take(t * b * width), arena.take(t * b * width))
    gateGradients = arena.take(t * b * gh)
    gruHiddenGradients = arena.take(t * b * h)
    hiddenCarry = arena.take(b * h)
    cellCarry = arena.take(b * h)
    recurrentResult = arena.take(b * h)
    directPath = arena.take(b * h)
    zoneoutHidden = arena.take(b * h)
    zoneoutCell = arena.take(b * h)
    maskedStates = recurrentDropout ? arena.take(t * b * h) : nil
    recurrencePacked = packedBackward > 0 ? arena.take(packedBackward) : nil
    plannedFor = (b, t, training)
  }
}
