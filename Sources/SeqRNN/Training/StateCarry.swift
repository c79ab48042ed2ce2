/// The final states of a trainer's latest step: what `seqrnn_trainer_get_state`
/// returns, and, in stateful (truncated BPTT) training, where the next step
/// starts from.
package final class StateCarry: @unchecked Sendable {
  /// Batch size the states belong to (0 before any step).
  package private(set) var batchSize = 0
  /// Hidden states `[L*D][B][H]`.
  package private(set) var hidden: [Float] = []
  /// LSTM cell states `[L*D][B][H]` (empty for other cells).
  package private(set) var cell: [Float] = []

  /// Creates an empty carry.
  package init() {}

  /// Replaces the carried states.
  package func store(batchSize: Int, hidden: [Float], cell: [Float]) {
    self.batchSize = batchSize
    self.hidden = hidden
    self.cell = cell
  }

  /// Zeroes the states of the sequences whose `reset` entry is true (all when nil).
  package func reset(_ reset: [Bool]?, config: ModelConfiguration) {
    guard batchSize > 0 else { return }
    let h = config.hiddenSize
    let slices = config.numLayers * config.directions
    for slice in 0..<slices {
      for b in 0..<batchSize where reset?[b] ?? true {
        let start = (slice * batchSize + b) * h
        for j in start..<(start + h) {
          hidden[j] = 0
          if !cell.isEmpty { cell[j] = 0 }
        }
      }
    }
  }
}

extension Trainer {
  /// The final hidden (and LSTM cell) states of the latest step's batch,
  /// `[layers*directions][batch][hidden]`; with stateful training, where the
  /// next step starts. Nil before the first step.
  public var finalStates: (hidden: [Float], cell: [Float]?)? {
    guard carry.batchSize > 0 else { return nil }
    return (carry.hidden, carry.cell.isEmpty ? nil : carry.cell)
  }

  /// Stateful training: zeroes the carried states of the sequences marked
  /// true (a document boundary), or of all sequences when `sequences` is nil.
  public func resetStates(_ sequences: [Bool]? = nil) throws(SeqRNNError) {
    if let sequences, sequences.count != carry.batchSize {
      throw .shapeMismatch(
        "\(sequences.count) flags, but the carried states are for batch size \(carry.batchSize)")
    }
    carry.reset(sequences, config: model.configuration)
  }
}
