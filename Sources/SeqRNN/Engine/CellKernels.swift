import CSeqRNNKernels

/// The fused per-step passes of each cell: gate nonlinearities and state
/// update in one sweep (forward), gate gradients in one sweep (backward).
/// No temporaries; padded sequences pass their state through unchanged.
package struct CellKernels<T: EngineScalar> {
  /// The cell type.
  let cell: CellType
  /// Hidden units H.
  let hidden: Int
  /// Batch size B.
  let batch: Int
  /// Row stride of the layer output (`D*H`).
  let outputStride: Int
  /// Column of this direction in the layer output (0 or H).
  let outputOffset: Int

  /// Forward step `step` for every sequence.
  /// - gates: `[B][G*H]` input projections (+ folded biases) at this step;
  ///   overwritten with the activated gates, which backward reads.
  /// - recurrent: `[B][G*H]` = `h_prev W_hh^T`.
  /// - gruHidden: GRU only, receives `W_hn h_prev + b_hn` `[B][H]`.
  /// - output: this step's row block of the layer output `[B][D*H]`.
  @inline(__always)
  func forwardStep(
    step: Int, lengths: [Int], gates: UnsafeMutablePointer<T>, recurrent: UnsafePointer<T>,
    hPrevious: UnsafePointer<T>, hNext: UnsafeMutablePointer<T>,
    cPrevious: UnsafeMutablePointer<T>?, cNext: UnsafeMutablePointer<T>?,
    gruHidden: UnsafeMutablePointer<T>?, gruBias: UnsafePointer<T>,
    output: UnsafeMutablePointer<T>
  ) {
    let h = hidden
    let gh = cell.gateCount * h
    for b in 0..<batch {
      let hp = hPrevious + b * h
      let hn = hNext + b * h
      let out = output + b * outputStride + outputOffset
      guard step < lengths[b] else {
        hn.update(from: hp, count: h)
        if let cPrevious, let cNext { (cNext + b * h).update(from: cPrevious + b * h, count: h) }
        out.update(repeating: 0, count: h)
        continue
      }
      let g = gates + b * gh
      let r = recurrent + b * gh
      if T.self == Float.self, cell != .rnnRelu {
        // float32: the SIMD kernels (the generic loops below serve float64).
        switch cell {
        case .rnnTanh: srnn_rnn_tanh_forward(f32(g), f32(r), f32(hn), f32(out), Int64(h))
        case .lstm:
          srnn_lstm_forward(
            f32(g), f32(r), f32(cPrevious! + b * h), f32(cNext! + b * h), f32(hn), f32(out),
            Int64(h), Int64(h))
        case .gru:
          srnn_gru_forward(
            f32(g), f32(r), f32(gruBias), f32(hp), f32(gruHidden! + b * h), f32(hn), f32(out),
            Int64(h), Int64(h))
        case .rnnRelu: break
        }
        continue
      }
      switch cell {
      case .rnnTanh:
        for j in 0..<h {
          let value = T.tanh(g[j] + r[j])
          hn[j] = value
          out[j] = value
        }
      case .rnnRelu:
        for j in 0..<h {
          let value = max(g[j] + r[j], 0)
          hn[j] = value
          out[j] = value
        }
      case .lstm:
        let cp = cPrevious! + b * h
        let cn = cNext! + b * h
        for j in 0..<h {
          let i = sigmoid(g[j] + r[j])
          let f = sigmoid(g[h + j] + r[h + j])
          let c = T.tanh(g[2 * h + j] + r[2 * h + j])
          let o = sigmoid(g[3 * h + j] + r[3 * h + j])
          let cell = f * cp[j] + i * c
          let value = o * T.tanh(cell)
          g[j] = i
          g[h + j] = f
          g[2 * h + j] = c
          g[3 * h + j] = o
          cn[j] = cell
          hn[j] = value
          out[j] = value
        }
      case .gru:
        let hiddenPart = gruHidden! + b * h
        for j in 0..<h {
          let reset = sigmoid(g[j] + r[j])
          let update = sigmoid(g[h + j] + r[h + j])
          let hnPart = r[2 * h + j] + gruBias[j]
          let candidate = T.tanh(g[2 * h + j] + reset * hnPart)
          let value = (1 - update) * candidate + update * hp[j]
          g[j] = reset
          g[h + j] = update
          g[2 * h + j] = candidate
          hiddenPart[j] = hnPart
          hn[j] = value
          out[j] = value
        }
      }
    }
  }

  /// Backward step `step` for every sequence: turns the carried gradients
  /// and this step's output gradient into pre-activation gate gradients.
  /// Afterwards the caller multiplies the gate gradients by `W_hh` to get
  /// the gradient of the previous state. Padded sequences get zero gate
  /// gradients and keep their carries.
  /// - outputGradient: this step's block of dL/d(layer output) `[B][D*H]`.
  /// - hiddenCarry, cellCarry: dL/dh and dL/dc flowing back from later steps.
  /// - gateGradients: `[B][G*H]` out (GRU: the n block is dL/d(n pre-activation)).
  /// - gruHiddenGradients: GRU only, dL/d(W_hn h + b_hn) `[B][H]` out.
  /// - directPath: GRU only, `z * dh`, the gradient reaching h_prev directly.
  @inline(__always)
  func backwardStep(
    step: Int, lengths: [Int], gates: UnsafePointer<T>, outputGradient: UnsafePointer<T>,
    hPrevious: UnsafePointer<T>, hNext: UnsafePointer<T>,
    cPrevious: UnsafePointer<T>?, cNext: UnsafePointer<T>?, gruHidden: UnsafePointer<T>?,
    hiddenCarry: UnsafeMutablePointer<T>, cellCarry: UnsafeMutablePointer<T>,
    gateGradients: UnsafeMutablePointer<T>, gruHiddenGradients: UnsafeMutablePointer<T>,
    directPath: UnsafeMutablePointer<T>
  ) {
    let h = hidden
    let gh = cell.gateCount * h
    for b in 0..<batch {
      let dG = gateGradients + b * gh
      guard step < lengths[b] else {
        dG.update(repeating: 0, count: gh)
        if cell == .gru { (gruHiddenGradients + b * h).update(repeating: 0, count: h) }
        continue
      }
      let g = gates + b * gh
      let dh = hiddenCarry + b * h
      let dOut = outputGradient + b * outputStride + outputOffset
      if T.self == Float.self, cell == .lstm || cell == .gru {
        if cell == .lstm {
          srnn_lstm_backward(
            f32(g), f32(cPrevious! + b * h), f32(cNext! + b * h), f32(dh), f32(dOut),
            f32(cellCarry + b * h), f32(dG), Int64(h), Int64(h))
        } else {
          srnn_gru_backward(
            f32(g), f32(hPrevious + b * h), f32(gruHidden! + b * h), f32(dh), f32(dOut), f32(dG),
            f32(gruHiddenGradients + b * h), f32(directPath + b * h), Int64(h), Int64(h))
        }
        continue
      }
      switch cell {
      case .rnnTanh:
        let hn = hNext + b * h
        for j in 0..<h { dG[j] = (dh[j] + dOut[j]) * (1 - hn[j] * hn[j]) }
      case .rnnRelu:
        let hn = hNext + b * h
        for j in 0..<h { dG[j] = hn[j] > 0 ? dh[j] + dOut[j] : 0 }
      case .lstm:
        let cp = cPrevious! + b * h
        let cn = cNext! + b * h
        let dc = cellCarry + b * h
        for j in 0..<h {
          let (i, f, c, o) = (g[j], g[h + j], g[2 * h + j], g[3 * h + j])
          let total = dh[j] + dOut[j]
          let tanhCell = T.tanh(cn[j])
          let dCell = dc[j] + total * o * (1 - tanhCell * tanhCell)
          dG[j] = dCell * c * i * (1 - i)
          dG[h + j] = dCell * cp[j] * f * (1 - f)
          dG[2 * h + j] = dCell * i * (1 - c * c)
          dG[3 * h + j] = total * tanhCell * o * (1 - o)
          dc[j] = dCell * f
        }
      case .gru:
        let hp = hPrevious + b * h
        let hnPart = gruHidden! + b * h
        let dHn = gruHiddenGradients + b * h
        let direct = directPath + b * h
        for j in 0..<h {
          let (reset, update, candidate) = (g[j], g[h + j], g[2 * h + j])
          let total = dh[j] + dOut[j]
          let dCandidate = total * (1 - update) * (1 - candidate * candidate)
          let dReset = dCandidate * hnPart[j]
          dG[j] = dReset * reset * (1 - reset)
          dG[h + j] = total * (hp[j] - candidate) * update * (1 - update)
          dG[2 * h + j] = dCandidate
          dHn[j] = dCandidate * reset
          direct[j] = total * update
        }
      }
    }
  }
}

/// Reinterprets an engine pointer as float32 for the C kernels; only called
/// when `T` is `Float`, so the memory really holds floats.
@inline(__always)
func f32<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
  UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}

/// Read-only variant of `f32`.
@inline(__always)
func f32<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> {
  UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
}
