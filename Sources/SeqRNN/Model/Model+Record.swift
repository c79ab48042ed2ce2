/// "A look inside": the per-step hidden states, LSTM cell states and gate
/// activations of one recurrent layer, copied out of an ordinary forward
/// pass's tape.

/// Element counts of a recording of one layer for a batch (see
/// `ModelConfiguration.recordSizes`).
public struct RecordSizes: Sendable, Equatable {
  /// Hidden states: `batch * seqLen * directions * hiddenSize`.
  public var hidden: Int
  /// LSTM cell states: as `hidden` for LSTM models, 0 for the others.
  public var cell: Int
  /// Activated gates: `batch * seqLen * directions * gateCount * hiddenSize`
  /// (0 for RNN cells, which have no gates).
  public var gates: Int
  /// Gates per unit: 4 (LSTM i, f, g, o), 3 (GRU r, z, n), 0 (RNN).
  public var gateCount: Int
}

/// One layer's activations at every step of a batch, batch-major, with
/// zeros at steps past each sequence's length.
public struct Recording: Sendable {
  /// The recorded layer (0 is the one next to the inputs).
  public var layer: Int
  /// Sequences in the batch.
  public var batchSize: Int
  /// Time steps of the batch.
  public var seqLen: Int
  /// 2 for bidirectional models, else 1.
  public var directions: Int
  /// Units per direction.
  public var hiddenSize: Int
  /// Gates per unit: 4 (LSTM i, f, g, o), 3 (GRU r, z, n), 0 (RNN).
  public var gateCount: Int
  /// Hidden states (the layer's outputs) `[batch][seqLen][directions * hiddenSize]`,
  /// forward direction's units first, as in PyTorch's `output`.
  public var hidden: [Float]
  /// LSTM cell states, same layout as `hidden`; nil for other cells.
  public var cell: [Float]?
  /// Gate activations `[batch][seqLen][directions][gateCount][hiddenSize]` in
  /// PyTorch's order, after their nonlinearity: LSTM i, f, o are sigmoids
  /// and g the tanh candidate; GRU r, z are sigmoids and n the tanh
  /// candidate. nil for RNN cells.
  public var gates: [Float]?
}

extension ModelConfiguration {
  /// Gates a recording reports per unit: 4 (LSTM), 3 (GRU), 0 (RNN, whose
  /// only activation is the hidden state itself).
  public var recordedGateCount: Int {
    switch cell {
    case .lstm, .gru: return cell.gateCount
    case .rnnTanh, .rnnRelu: return 0
    }
  }

  /// Element counts of `Model.record`'s buffers for a batch of these sizes.
  public func recordSizes(batchSize: Int, seqLen: Int) -> RecordSizes {
    let states = batchSize * seqLen * directions * hiddenSize
    return RecordSizes(
      hidden: states, cell: cell == .lstm ? states : 0, gates: states * recordedGateCount,
      gateCount: recordedGateCount)
  }

  /// Checks a recording request: `layer` in `0..<numLayers`, cell states
  /// only for LSTMs, gates only for gated cells.
  package func checkRecording(layer: Int, cell wantsCell: Bool, gates wantsGates: Bool)
    throws(SeqRNNError)
  {
    guard layer >= 0, layer < numLayers else {
      throw .outOfRange("layer = \(layer) is outside [0, num_layers = \(numLayers))")
    }
    if wantsCell, cell != .lstm {
      throw .unsupported(
        "cell states were requested, but the model's cell is \(cell.name), which has none")
    }
    if wantsGates, recordedGateCount == 0 {
      throw .unsupported(
        "gates were requested, but the model's cell is \(cell.name), which has no gates "
          + "(its hidden state is its only activation)")
    }
  }
}

extension Model {
  /// Runs the network over `batch` and returns the per-step hidden states,
  /// LSTM cell states and gate activations of recurrent layer `layer`
  /// (0-based; both directions of a bidirectional layer). Initial states in
  /// `batch` are used; targets are ignored. With zoneout the states are
  /// inference's (zoneout's expectation) and the gates the cell's own.
  /// Throws `.outOfRange` for a bad layer and the errors of `forward`.
  public func record(_ batch: Batch, layer: Int) throws(SeqRNNError) -> Recording {
    let config = configuration
    try config.checkRecording(layer: layer, cell: false, gates: false)
    return try batch.withEngineInput(config, needTargets: false) {
      (input) throws(SeqRNNError) in
      let sizes = config.recordSizes(batchSize: batch.batchSize, seqLen: batch.seqLen)
      var hidden = [Float](repeating: 0, count: sizes.hidden)
      var cell = [Float](repeating: 0, count: sizes.cell)
      var gates = [Float](repeating: 0, count: sizes.gates)
      try hidden.withUnsafeMutableBufferPointer { (h) throws(SeqRNNError) in
        try cell.withUnsafeMutableBufferPointer { (c) throws(SeqRNNError) in
          try gates.withUnsafeMutableBufferPointer { (g) throws(SeqRNNError) in
            try record(
              input, layer: layer, hidden: h.baseAddress,
              cell: sizes.cell > 0 ? c.baseAddress : nil,
              gates: sizes.gates > 0 ? g.baseAddress : nil)
          }
        }
      }
      return Recording(
        layer: layer, batchSize: batch.batchSize, seqLen: batch.seqLen,
        directions: config.directions, hiddenSize: config.hiddenSize,
        gateCount: sizes.gateCount, hidden: hidden, cell: sizes.cell > 0 ? cell : nil,
        gates: sizes.gates > 0 ? gates : nil)
    }
  }

  /// Pointer form of `record(_:layer:)` for the C API: runs a validated
  /// input and writes each non-nil buffer (sized by `recordSizes`).
  package func record(
    _ input: EngineInput, layer: Int, hidden: UnsafeMutablePointer<Float>?,
    cell: UnsafeMutablePointer<Float>?, gates: UnsafeMutablePointer<Float>?
  ) throws(SeqRNNError) {
    try configuration.checkRecording(layer: layer, cell: cell != nil, gates: gates != nil)
    // Deliberately the taped (training-style) forward pass: the tape holds
    // every layer's states, cells and activated gates. A faster inference
    // path that keeps no tape must not replace this call.
    let tape = tapes.take()
    defer { tapes.give(tape) }
    let engine = self.engine
    try engine.forward(input, tape: tape)
    copyRecording(input, tape: tape, layer: layer, hidden: hidden, cell: cell, gates: gates)
  }

  /// Copies layer `layer`'s time-major tape buffers into batch-major
  /// outputs, zeros past each length. The tape's layouts (see `Tape` and
  /// `Engine`): outputs `[T][B][D*H]`; states and cells `[T+1][B][H]` per
  /// direction, where step `s` writes slot `s+1` (forward) or `s`
  /// (backward); gates `[T][B][G*H]` per direction, activated in place.
  private func copyRecording(
    _ input: EngineInput, tape: Tape<Float>, layer: Int, hidden: UnsafeMutablePointer<Float>?,
    cell: UnsafeMutablePointer<Float>?, gates: UnsafeMutablePointer<Float>?
  ) {
    let (b, t, h, d) = (
      input.batchSize, input.seqLen, configuration.hiddenSize, configuration.directions
    )
    let gh = configuration.cell.gateCount * h
    for i in 0..<b {
      let length = input.lengths[i]
      for s in 0..<t {
        let position = i * t + s
        let valid = s < length
        if let hidden {
          let dst = hidden + position * d * h
          if valid {
            dst.update(from: tape.layerOutputs[layer] + (s * b + i) * d * h, count: d * h)
          } else {
            dst.update(repeating: 0, count: d * h)
          }
        }
        for direction in 0..<d {
          if let cell {
            let dst = cell + position * d * h + direction * h
            let slot = direction == 0 ? s + 1 : s
            if valid {
              dst.update(from: tape.cells[layer][direction] + (slot * b + i) * h, count: h)
            } else {
              dst.update(repeating: 0, count: h)
            }
          }
          if let gates {
            // Padded steps hold the unactivated input projection: zero them.
            let dst = gates + (position * d + direction) * gh
            if valid {
              dst.update(from: tape.gates[layer][direction] + (s * b + i) * gh, count: gh)
            } else {
              dst.update(repeating: 0, count: gh)
            }
          }
        }
      }
    }
  }
}
