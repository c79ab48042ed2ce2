import CSeqRNNKernels

/// The recurrent network's arithmetic, generic over the scalar type.
///
/// Internally time-major. For each layer and direction the input projection
/// of all steps is one GEMM (biases added after), then each step does one
/// GEMM `[B,H] x [H,G*H]` for the recurrent part and one fused pass over the
/// gates (`CellKernels`). State buffers hold `T+1` slots: the forward
/// direction reads slot `t` and writes `t+1`; the backward direction reads
/// `t+1` and writes `t`. Padded steps copy the state through unchanged, so
/// the slot after the last step holds each sequence's final state and the
/// backward direction of every sequence starts at its own end.
package struct Engine<T: EngineScalar> {
  /// The architecture.
  package let config: ModelConfiguration
  /// Where each tensor lives in `parameters`.
  package let layout: ParameterLayout
  /// The flat parameter vector (read only).
  package let parameters: UnsafePointer<T>
  /// The matrix products' arithmetic (bfloat16 applies to float32 engines
  /// only; see `Precision`).
  package let precision: Precision
  /// The model's cache of layer 0's per-token input projections and the
  /// version of the weights it must match (float32 token models only).
  package let tokenProjections: (cache: TokenProjections, version: UInt64)?

  /// Wraps a parameter vector laid out by `layout`.
  package init(
    config: ModelConfiguration, layout: ParameterLayout, parameters: UnsafePointer<T>,
    precision: Precision = .float32,
    tokenProjections: (cache: TokenProjections, version: UInt64)? = nil
  ) {
    self.config = config
    self.layout = layout
    self.parameters = parameters
    self.precision = precision
    self.tokenProjections = T.self == Float.self && config.usesTokens ? tokenProjections : nil
  }

  /// Runs the network over `input` (validated), filling `tape` up to the logits.
  /// `masks` (prepared for this batch) makes it a training pass with dropout
  /// and sampled zoneout; without, zoneout uses its expectation.
  package func forward(
    _ input: EngineInput, tape: Tape<T>, masks: Regularizer? = nil
  ) throws(SeqRNNError) {
    try tape.prepare(
      config, batchSize: input.batchSize, seqLen: input.seqLen, training: masks != nil)
    loadInput(input, into: tape.input)
    var layerInput = UnsafePointer(tape.input!)
    var width = config.embeddingOrInputSize
    for layer in 0..<config.numLayers {
      for direction in 0..<config.directions {
        runDirection(
          layer: layer, direction: direction, input: input, layerInput: layerInput, width: width,
          tape: tape, masks: masks)
      }
      width = config.directions * config.hiddenSize
      layerInput = UnsafePointer(tape.layerOutputs[layer])
      if let mask = masks?.layerMasks[layer], let dropped = tape.droppedOutputs[layer] {
        multiply(layerInput, by: mask, into: dropped, count: input.seqLen * input.batchSize * width)
        layerInput = UnsafePointer(dropped)
      }
    }
    applyHead(input, tape: tape, masks: masks)
  }

  /// `out = values * mask`, elementwise.
  package func multiply(
    _ values: UnsafePointer<T>, by mask: UnsafePointer<Float>, into out: UnsafeMutablePointer<T>,
    count: Int
  ) {
    for i in 0..<count { out[i] = values[i] * T(mask[i]) }
  }

  /// Copies embeddings or features into the time-major layer-0 input.
  private func loadInput(_ input: EngineInput, into x: UnsafeMutablePointer<T>) {
    let (b, t, e) = (input.batchSize, input.seqLen, config.embeddingOrInputSize)
    for s in 0..<t {
      for i in 0..<b {
        let row = x + (s * b + i) * e
        guard s < input.lengths[i] else {
          row.update(repeating: 0, count: e)
          continue
        }
        if let tokens = input.tokens {
          let source = parameters + layout.embedding! + Int(tokens[i * t + s]) * e
          row.update(from: source, count: e)
        } else if let features = input.floatFeatures {
          let source = features + (i * t + s) * e
          for k in 0..<e { row[k] = T(source[k]) }
        } else if let features = input.doubleFeatures {
          let source = features + (i * t + s) * e
          for k in 0..<e { row[k] = T(source[k]) }
        }
      }
    }
  }

  /// One direction of one layer over all steps.
  private func runDirection(
    layer: Int, direction: Int, input: EngineInput, layerInput: UnsafePointer<T>, width: Int,
    tape: Tape<T>, masks: Regularizer?
  ) {
    let (b, t, h) = (input.batchSize, input.seqLen, config.hiddenSize)
    let gh = config.cell.gateCount * h
    let offsets = layout.recurrent[layer][direction]
    let xw = tape.gates[layer][direction]
    if layer == 0, let table = tokenProjectionTable(rows: t * b) {
      gatherTokenProjections(table, direction: direction, input: input, into: xw)
    } else {
      // Input projection of every step at once: [T*B, I] x [I, G*H].
      gemm(
        false, true, t * b, gh, width, 1, layerInput, width, parameters + offsets.weightIH, width,
        0, xw, gh)
      addBiases(offsets, rows: t * b, to: xw)
    }

    let states = tape.states[layer][direction]
    let cells = config.cell == .lstm ? tape.cells[layer][direction] : nil
    let start = direction == 0 ? 0 : t
    let stateIndex = layer * config.directions + direction
    loadInitialState(
      input.initialH, input.doubleInitialH, index: stateIndex, batch: b,
      into: states + start * b * h)
    if let cells {
      loadInitialState(
        input.initialC, input.doubleInitialC, index: stateIndex, batch: b,
        into: cells + start * b * h)
    }
    let kernels = CellKernels<T>(
      cell: config.cell, hidden: h, batch: b, outputStride: config.directions * h,
      outputOffset: direction * h)
    let whh = parameters + offsets.weightHH
    let gruBias = parameters + offsets.biasHH + 2 * h
    let recurrentMask = masks?.recurrentMasks[layer][direction]
    let candidates = tape.candidates[layer][direction]
    let zoneout = Zoneout<T>(
      config: config, hiddenMask: masks?.zoneoutHidden[layer][direction],
      cellMask: masks?.zoneoutCell[layer][direction], batch: b)
    if usesRecurrenceKernel(zoneout: zoneout) {
      recurrenceForward(
        layer: layer, direction: direction, input: input, tape: tape,
        recurrentMask: recurrentMask)
      return
    }
    for step in 0..<t {
      let s = direction == 0 ? step : t - 1 - step
      let (previous, next) = direction == 0 ? (s, s + 1) : (s + 1, s)
      let hPrevious = states + previous * b * h
      let hNext = states + next * b * h
      // Variational recurrent dropout: W_hh sees the masked previous state.
      var recurrentInput = UnsafePointer(hPrevious)
      if let recurrentMask, let masked = tape.maskedPrevious {
        multiply(hPrevious, by: recurrentMask, into: masked, count: b * h)
        recurrentInput = UnsafePointer(masked)
      }
      gemm(false, true, b, gh, h, 1, recurrentInput, h, whh, h, 0, tape.recurrentProduct, gh)
      let output = tape.layerOutputs[layer] + s * b * config.directions * h
      // With zoneout, the LSTM kernel writes its new cell to the candidate
      // buffer; the zoneout pass then mixes it with the previous cell.
      var cellTarget: UnsafeMutablePointer<T>? = nil
      if let cells { cellTarget = candidates.map { $0 + s * b * h } ?? cells + next * b * h }
      kernels.forwardStep(
        step: s, lengths: input.lengths, gates: xw + s * b * gh,
        recurrent: tape.recurrentProduct, hPrevious: hPrevious, hNext: hNext,
        cPrevious: cells.map { $0 + previous * b * h }, cNext: cellTarget,
        gruHidden: config.cell == .gru ? tape.gruHidden[layer][direction] + s * b * h : nil,
        gruBias: gruBias, output: output)
      if zoneout.isActive {
        zoneout.forwardStep(
          step: s, lengths: input.lengths, hPrevious: hPrevious, hNext: hNext,
          cPrevious: cells.map { $0 + previous * b * h }, cNext: cells.map { $0 + next * b * h },
          candidate: candidates.map { $0 + s * b * h }, output: output,
          outputStride: config.directions * h, outputOffset: direction * h)
      }
    }
  }

  /// Layer 0's per-token projection table (`TokenProjections`), when this
  /// engine has a cache and a table is worth having for `rows` positions.
  private func tokenProjectionTable(rows: Int) -> FlatBuffer<Float>? {
    guard let (cache, version) = tokenProjections else { return nil }
    let v = config.vocabSize
    let e = config.embeddingOrInputSize
    let gh = config.cell.gateCount * config.hiddenSize
    return cache.table(
      version: version, precision: precision, floats: config.directions * v * gh, rows: rows,
      vocab: v
    ) { table in
      let t = UnsafeMutableRawPointer(table).assumingMemoryBound(to: T.self)
      let embedding = parameters + layout.embedding!
      for direction in 0..<config.directions {
        let offsets = layout.recurrent[0][direction]
        let rowsOut = t + direction * v * gh
        gemm(
          false, true, v, gh, e, 1, embedding, e, parameters + offsets.weightIH, e, 0, rowsOut, gh)
        addBiases(offsets, rows: v, to: rowsOut)
      }
    }
  }

  /// The rows of `table` for each position's token (biases alone for
  /// padding, as the GEMM path gives a zero input row). Float32 gathers in
  /// C on the team.
  private func gatherTokenProjections(
    _ table: FlatBuffer<Float>, direction: Int, input: EngineInput,
    into xw: UnsafeMutablePointer<T>
  ) {
    let (b, t) = (input.batchSize, input.seqLen)
    let gh = config.cell.gateCount * config.hiddenSize
    let rows = UnsafeRawPointer(table.pointer + direction * config.vocabSize * gh)
      .assumingMemoryBound(to: T.self)
    let offsets = layout.recurrent[0][direction]
    if T.self == Float.self {
      input.lengths.withUnsafeBufferPointer { lengths in
        lengths.withMemoryRebound(to: Int64.self) { lengths in
          srnn_gather_token_rows(
            f32(rows), input.tokens, lengths.baseAddress, Int64(b), Int64(t), Int64(gh),
            f32(parameters + offsets.biasIH), f32(parameters + offsets.biasHH),
            Int64(foldedBiases), f32(xw), Int32(Recurrence.teamSize()))
        }
      }
      return
    }
    var padding: UnsafeMutablePointer<T>? = nil
    for s in 0..<t {
      for i in 0..<b {
        let row = xw + (s * b + i) * gh
        if s < input.lengths[i] {
          row.update(from: rows + Int(input.tokens![i * t + s]) * gh, count: gh)
        } else if let first = padding {
          row.update(from: first, count: gh)
        } else {
          row.update(repeating: 0, count: gh)
          addBiases(offsets, rows: 1, to: row)
          padding = row
        }
      }
    }
  }

  /// The projection's columns that get `b_ih + b_hh`: all but GRU's `n`
  /// block, whose `b_hn` PyTorch applies inside the reset gate's product.
  private var foldedBiases: Int {
    config.cell == .gru ? 2 * config.hiddenSize : config.cell.gateCount * config.hiddenSize
  }

  /// Adds `b_ih + b_hh` to every projected row; for GRU the `b_hn` part
  /// stays out, because PyTorch applies it inside the reset gate's product.
  private func addBiases(
    _ offsets: ParameterLayout.Recurrent, rows: Int, to xw: UnsafeMutablePointer<T>
  ) {
    let gh = config.cell.gateCount * config.hiddenSize
    let folded = foldedBiases
    let bih = parameters + offsets.biasIH
    let bhh = parameters + offsets.biasHH
    if T.self == Float.self {
      srnn_add_bias_rows(
        f32(xw), Int64(rows), Int64(gh), f32(bih), f32(bhh), Int64(folded),
        Int32(Recurrence.teamSize()))
      return
    }
    for r in 0..<rows {
      let row = xw + r * gh
      for g in 0..<folded { row[g] += bih[g] + bhh[g] }
      for g in folded..<gh { row[g] += bih[g] }
    }
  }

  private func loadInitialState(
    _ source: UnsafePointer<Float>?, _ precise: UnsafePointer<Double>? = nil, index: Int,
    batch: Int, into slot: UnsafeMutablePointer<T>
  ) {
    let count = batch * config.hiddenSize
    if let precise {
      let from = precise + index * count
      for i in 0..<count { slot[i] = T(from[i]) }
      return
    }
    guard let source else {
      slot.update(repeating: 0, count: count)
      return
    }
    let from = source + index * count
    for i in 0..<count { slot[i] = T(from[i]) }
  }

  /// The dense head on every step (sequence) or on each sequence's last
  /// valid step (last), into `tape.logits`.
  private func applyHead(_ input: EngineInput, tape: Tape<T>, masks: Regularizer?) {
    let (b, h, d) = (input.batchSize, config.hiddenSize, config.directions)
    let width = d * h
    let top = tape.layerOutputs[config.numLayers - 1]
    if config.outputMode == .last {
      for i in 0..<b {
        let row = tape.headInput + i * width
        let last = input.lengths[i] - 1
        row.update(from: top + (last * b + i) * width, count: h)
        if d == 2 { (row + h).update(from: top + i * width + h, count: h) }
      }
    }
    if let mask = masks?.headMask {
      let source = config.outputMode == .last ? UnsafePointer(tape.headInput!) : UnsafePointer(top)
      multiply(source, by: mask, into: tape.headInput, count: tape.headRows * width)
    }
    let o = config.outputSize
    let bias = parameters + layout.headBias
    for r in 0..<tape.headRows { (tape.logits + r * o).update(from: bias, count: o) }
    gemm(
      false, true, tape.headRows, o, width, 1, tape.headInput, width,
      parameters + layout.headWeight, width, 1, tape.logits, o)
  }

  /// Writes the outputs batch-major (`[B][T][O]` or `[B][O]`), zeros past lengths.
  package func copyOutputs<U: BinaryFloatingPoint>(
    _ input: EngineInput, tape: Tape<T>, to out: UnsafeMutablePointer<U>
  ) {
    let (b, t, o) = (input.batchSize, input.seqLen, config.outputSize)
    if config.outputMode == .last {
      for i in 0..<(b * o) { out[i] = U(tape.logits[i]) }
      return
    }
    for i in 0..<b {
      for s in 0..<t {
        let dst = out + (i * t + s) * o
        if s < input.lengths[i] {
          let src = tape.logits + (s * b + i) * o
          for k in 0..<o { dst[k] = U(src[k]) }
        } else {
          for k in 0..<o { dst[k] = 0 }
        }
      }
    }
  }

  /// Writes the final hidden (and cell) states, `[L*D][B][H]`.
  package func copyFinalStates<U: BinaryFloatingPoint>(
    _ input: EngineInput, tape: Tape<T>, h hOut: UnsafeMutablePointer<U>?,
    c cOut: UnsafeMutablePointer<U>?
  ) {
    let (b, t, h) = (input.batchSize, input.seqLen, config.hiddenSize)
    for layer in 0..<config.numLayers {
      for direction in 0..<config.directions {
        let slot = (direction == 0 ? t : 0) * b * h
        let dst = (layer * config.directions + direction) * b * h
        if let hOut {
          let src = tape.states[layer][direction] + slot
          for i in 0..<(b * h) { hOut[dst + i] = U(src[i]) }
        }
        if let cOut, config.cell == .lstm {
          let src = tape.cells[layer][direction] + slot
          for i in 0..<(b * h) { cOut[dst + i] = U(src[i]) }
        }
      }
    }
  }
}
