import CSeqRNNKernels

extension Engine {
  /// Backpropagation through time from `logitGradients` (in `scratch`) to
  /// every parameter (accumulated into `gradients`, laid out like the
  /// parameters) and, optionally, to the input features (`featureGradients`,
  /// batch-major `[B][T][I]`, overwritten).
  ///
  /// Per step: one fused pass for the gate gradients and one GEMM for the
  /// previous state's gradient. After the time loop, one large GEMM per
  /// weight matrix over all steps, and one for the layer input's gradient.
  ///
  /// `masks` must be the ones the forward pass used (nil for none).
  package func backward(
    _ input: EngineInput, tape: Tape<T>, scratch: BackwardScratch<T>,
    gradients: UnsafeMutablePointer<T>, featureGradients: UnsafeMutablePointer<T>?,
    masks: Regularizer? = nil
  ) {
    let (b, t, h) = (input.batchSize, input.seqLen, config.hiddenSize)
    let d = config.directions
    let width = d * h
    let o = config.outputSize
    let rows = tape.headRows
    let dLogits = UnsafePointer(scratch.logitGradients!)

    // Head: dW = dlogits^T x inputs, db = column sums, d(inputs) = dlogits x W.
    gemm(
      true, false, o, width, rows, 1, dLogits, o, tape.headInput, width, 1,
      gradients + layout.headWeight, width)
    addColumnSums(dLogits, rows: rows, columns: o, into: gradients + layout.headBias)
    let dOutputs = scratch.layerGradients.0
    let dInputs = scratch.layerGradients.1
    let dHead: UnsafeMutablePointer<T> =
      config.outputMode == .sequence ? dOutputs : scratch.headInputGradients
    gemm(
      false, false, rows, width, o, 1, dLogits, o, parameters + layout.headWeight, width, 0,
      dHead, width)
    if let mask = masks?.headMask {
      multiply(dHead, by: mask, into: dHead, count: rows * width)
    }
    if config.outputMode == .last {
      dOutputs.update(repeating: 0, count: t * b * width)
      for i in 0..<b {
        let last = input.lengths[i] - 1
        (dOutputs + (last * b + i) * width).update(from: dHead + i * width, count: h)
        if d == 2 { (dOutputs + i * width + h).update(from: dHead + i * width + h, count: h) }
      }
    }

    let wantInputGradient = config.usesTokens || featureGradients != nil
    let dInput = backwardLayers(
      input, tape: tape, scratch: scratch, outputGradients: dOutputs, spare: dInputs,
      gradients: gradients, masks: masks, wantInputGradient: wantInputGradient)
    guard wantInputGradient else { return }
    let e = config.embeddingOrInputSize
    scatterEmbeddingGradients(input, from: dInput, into: gradients)
    if let featureGradients {
      for i in 0..<b {
        for s in 0..<t {
          let dst = featureGradients + (i * t + s) * e
          if s < input.lengths[i] {
            dst.update(from: dInput + (s * b + i) * e, count: e)
          } else {
            dst.update(repeating: 0, count: e)
          }
        }
      }
    }
  }

  /// BPTT through every layer, top to bottom, from `outputGradients` (the
  /// top layer's, time-major `[T][B][D*H]`; overwritten); `spare` is a
  /// second buffer of the same size. Returns the buffer that then holds
  /// dL/d(layer-0 input), time-major (not computed for layer 0 without
  /// `wantInputGradient`). `carryIn` / `carryOut` are the final-state
  /// gradients seeding each direction and the initial-state gradients it
  /// leaves (`[L*D][B][H]` each; see `backwardDirection`).
  func backwardLayers(
    _ input: EngineInput, tape: Tape<T>, scratch: BackwardScratch<T>,
    outputGradients: UnsafeMutablePointer<T>, spare: UnsafeMutablePointer<T>,
    gradients: UnsafeMutablePointer<T>, masks: Regularizer?, wantInputGradient: Bool,
    carryIn: (h: UnsafePointer<T>?, c: UnsafePointer<T>?) = (nil, nil),
    carryOut: (h: UnsafeMutablePointer<T>?, c: UnsafeMutablePointer<T>?) = (nil, nil)
  ) -> UnsafeMutablePointer<T> {
    let (b, t, h) = (input.batchSize, input.seqLen, config.hiddenSize)
    let d = config.directions
    let isLSTM = config.cell == .lstm
    var dOutputs = outputGradients
    var dInputs = spare
    for layer in stride(from: config.numLayers - 1, through: 0, by: -1) {
      let inWidth = config.layerInputSize(layer)
      // The layer read the previous layer's outputs after dropout.
      let layerInput =
        layer == 0
        ? UnsafePointer(tape.input!)
        : UnsafePointer(tape.droppedOutputs[layer - 1] ?? tape.layerOutputs[layer - 1])
      let needInput = layer > 0 || wantInputGradient
      for direction in 0..<d {
        let slot = (layer * d + direction) * b * h
        backwardDirection(
          layer: layer, direction: direction, input: input, tape: tape, scratch: scratch,
          outputGradient: dOutputs, layerInput: layerInput, inputWidth: inWidth,
          inputGradient: needInput ? dInputs : nil, accumulate: direction > 0,
          gradients: gradients, masks: masks,
          carryIn: (carryIn.h.map { $0 + slot }, isLSTM ? carryIn.c.map { $0 + slot } : nil),
          carryOut: (carryOut.h.map { $0 + slot }, isLSTM ? carryOut.c.map { $0 + slot } : nil))
      }
      if layer > 0, let mask = masks?.layerMasks[layer - 1] {
        multiply(dInputs, by: mask, into: dInputs, count: t * b * inWidth)
      }
      swap(&dOutputs, &dInputs)
    }
    return dOutputs
  }

  /// Adds each valid position's row of `inputGradients` (dL/d(layer-0
  /// input), time-major) to the embedding row of its token (token models).
  func scatterEmbeddingGradients(
    _ input: EngineInput, from inputGradients: UnsafePointer<T>,
    into gradients: UnsafeMutablePointer<T>
  ) {
    guard let tokens = input.tokens, let embedding = layout.embedding else { return }
    let (b, t) = (input.batchSize, input.seqLen)
    let e = config.embeddingOrInputSize
    for s in 0..<t {
      for i in 0..<b where s < input.lengths[i] {
        let row = gradients + embedding + Int(tokens[i * t + s]) * e
        let g = inputGradients + (s * b + i) * e
        for k in 0..<e { row[k] += g[k] }
      }
    }
  }

  /// One layer direction's BPTT. `carryIn` (nil: zeros) seeds the carried
  /// dL/dh, dL/dc with the gradients of this direction's final states
  /// `[B][H]`; `carryOut` receives the carries left after the loop: the
  /// gradients of its initial states (the seq2seq encoder-decoder uses both).
  func backwardDirection(
    layer: Int, direction: Int, input: EngineInput, tape: Tape<T>, scratch: BackwardScratch<T>,
    outputGradient: UnsafeMutablePointer<T>, layerInput: UnsafePointer<T>, inputWidth: Int,
    inputGradient: UnsafeMutablePointer<T>?, accumulate: Bool, gradients: UnsafeMutablePointer<T>,
    masks: Regularizer?,
    carryIn: (h: UnsafePointer<T>?, c: UnsafePointer<T>?) = (nil, nil),
    carryOut: (h: UnsafeMutablePointer<T>?, c: UnsafeMutablePointer<T>?) = (nil, nil)
  ) {
    let (b, t, h) = (input.batchSize, input.seqLen, config.hiddenSize)
    let gh = config.cell.gateCount * h
    let isGRU = config.cell == .gru
    let offsets = layout.recurrent[layer][direction]
    let whh = parameters + offsets.weightHH
    let states = tape.states[layer][direction]
    let cells = config.cell == .lstm ? tape.cells[layer][direction] : nil
    let gates = tape.gates[layer][direction]
    let dG = scratch.gateGradients!
    let dHn = scratch.gruHiddenGradients!
    let dh = scratch.hiddenCarry!
    let dc = scratch.cellCarry!
    let result = scratch.recurrentResult!
    let direct = scratch.directPath!
    if let seed = carryIn.h {
      dh.update(from: seed, count: b * h)
    } else {
      dh.update(repeating: 0, count: b * h)
    }
    if let seed = carryIn.c {
      dc.update(from: seed, count: b * h)
    } else {
      dc.update(repeating: 0, count: b * h)
    }
    let kernels = CellKernels<T>(
      cell: config.cell, hidden: h, batch: b, outputStride: config.directions * h,
      outputOffset: direction * h)
    let zoneout = Zoneout<T>(
      config: config, hiddenMask: masks?.zoneoutHidden[layer][direction],
      cellMask: masks?.zoneoutCell[layer][direction], batch: b)
    let candidates = tape.candidates[layer][direction]
    let recurrentMask = masks?.recurrentMasks[layer][direction]
    let zonedHidden = scratch.zoneoutHidden!
    let zonedCell = scratch.zoneoutCell!

    if usesRecurrenceKernel(zoneout: zoneout) {
      recurrenceBackward(
        layer: layer, direction: direction, input: input, tape: tape, scratch: scratch,
        outputGradient: outputGradient, recurrentMask: recurrentMask)
    } else {
      for step in 0..<t {
        let s = direction == 0 ? t - 1 - step : step
        let (previous, next) = direction == 0 ? (s, s + 1) : (s + 1, s)
        let dGStep = dG + s * b * gh
        let dHnStep = dHn + s * b * h
        let dOutStep = outputGradient + s * b * config.directions * h
        if zoneout.isActive {
          zoneout.backwardStep(
            step: s, lengths: input.lengths, outputGradient: dOutStep,
            outputStride: config.directions * h, outputOffset: direction * h, hiddenCarry: dh,
            cellCarry: dc, directHidden: zonedHidden, directCell: zonedCell)
        }
        // With zoneout the derivatives need the new values before mixing.
        let newHidden = candidates.map { $0 + s * b * h } ?? states + next * b * h
        let newCell = cells.map { candidates.map { $0 + s * b * h } ?? $0 + next * b * h }
        kernels.backwardStep(
          step: s, lengths: input.lengths, gates: gates + s * b * gh,
          outputGradient: dOutStep,
          hPrevious: states + previous * b * h,
          hNext: config.cell == .lstm ? states + next * b * h : newHidden,
          cPrevious: cells.map { UnsafePointer($0 + previous * b * h) },
          cNext: newCell.map { UnsafePointer($0) },
          gruHidden: isGRU ? UnsafePointer(tape.gruHidden[layer][direction] + s * b * h) : nil,
          hiddenCarry: dh, cellCarry: dc, gateGradients: dGStep, gruHiddenGradients: dHnStep,
          directPath: direct)
        // dL/dh_prev = dG x W_hh (GRU: the n block goes through dHn instead).
        if isGRU {
          gemm(false, false, b, h, 2 * h, 1, dGStep, gh, whh, h, 0, result, h)
          gemm(false, false, b, h, h, 1, dHnStep, h, whh + 2 * h * h, h, 1, result, h)
        } else {
          gemm(false, false, b, h, gh, 1, dGStep, gh, whh, h, 0, result, h)
        }
        for i in 0..<b where s < input.lengths[i] {
          let carry = dh + i * h
          let product = result + i * h
          // W_hh saw the masked previous state.
          if let recurrentMask {
            let m = recurrentMask + i * h
            for j in 0..<h { product[j] *= T(m[j]) }
          }
          if isGRU {
            let path = direct + i * h
            for j in 0..<h { carry[j] = product[j] + path[j] }
          } else {
            carry.update(from: product, count: h)
          }
          if zoneout.isActive {
            let kept = zonedHidden + i * h
            for j in 0..<h { carry[j] += kept[j] }
            if config.cell == .lstm {
              let cellCarry = dc + i * h
              let keptCell = zonedCell + i * h
              for j in 0..<h { cellCarry[j] += keptCell[j] }
            }
          }
        }
      }
    }

    carryOut.h?.update(from: dh, count: b * h)
    if config.cell == .lstm { carryOut.c?.update(from: dc, count: b * h) }

    // Weight gradients over all steps at once. Padded steps have zero gate
    // gradients, so they add nothing.
    var previousStates = UnsafePointer(states + (direction == 0 ? 0 : b * h))
    let rows = t * b
    // The scratch must have been prepared for training when masks are given.
    assert(recurrentMask == nil || scratch.maskedStates != nil, "scratch not prepared for masks")
    if let recurrentMask, let masked = scratch.maskedStates {
      for r in 0..<rows {
        let m = recurrentMask + (r % b) * h
        for j in 0..<h { masked[r * h + j] = previousStates[r * h + j] * T(m[j]) }
      }
      previousStates = UnsafePointer(masked)
    }
    if isGRU {
      gemm(
        true, false, gh, inputWidth, rows, 1, dG, gh, layerInput, inputWidth, 1,
        gradients + offsets.weightIH, inputWidth)
      addColumnSums(
        dG, rows: rows, columns: 2 * h, stride: gh, into: gradients + offsets.biasIH,
        also: gradients + offsets.biasHH)
      addColumnSums(
        dG + 2 * h, rows: rows, columns: h, stride: gh, into: gradients + offsets.biasIH + 2 * h)
      addColumnSums(dHn, rows: rows, columns: h, into: gradients + offsets.biasHH + 2 * h)
      gemm(
        true, false, 2 * h, h, rows, 1, dG, gh, previousStates, h, 1, gradients + offsets.weightHH,
        h)
      gemm(
        true, false, h, h, rows, 1, dHn, h, previousStates, h, 1,
        gradients + offsets.weightHH + 2 * h * h, h)
    } else {
      addColumnSums(
        dG, rows: rows, columns: gh, into: gradients + offsets.biasIH,
        also: gradients + offsets.biasHH)
      weightGradients(
        rows: rows, n: gh, dG, ldg: gh, x: layerInput, xWidth: inputWidth,
        into: gradients + offsets.weightIH, h: previousStates, hWidth: h,
        into: gradients + offsets.weightHH)
    }
    if let inputGradient {
      gemm(
        false, false, rows, inputWidth, gh, 1, dG, gh, parameters + offsets.weightIH, inputWidth,
        accumulate ? 1 : 0, inputGradient, inputWidth)
    }
  }

  /// Bias gradients: `into[j] += s[j]`, and `also[j] += s[j]` when given,
  /// with `s[j]` the sum over rows of `m[r * stride + j]`. Float32 runs the
  /// vectorised kernel on the team (LSTM and RNN layers pass both biases,
  /// which get the same gradient, so `m` is read once).
  private func addColumnSums(
    _ m: UnsafePointer<T>, rows: Int, columns: Int, stride: Int? = nil,
    into out: UnsafeMutablePointer<T>, also: UnsafeMutablePointer<T>? = nil
  ) {
    let ld = stride ?? columns
    if T.self == Float.self {
      srnn_bias_gradients(
        f32(m), Int64(rows), Int64(columns), Int64(ld), f32(out), also.map { f32($0) },
        Int32(Recurrence.teamSize()))
      return
    }
    for r in 0..<rows {
      let row = m + r * ld
      for j in 0..<columns {
        out[j] += row[j]
        also?[j] += row[j]
      }
    }
  }
}
