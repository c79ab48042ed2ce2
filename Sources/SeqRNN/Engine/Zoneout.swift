/// Zoneout (Krueger et al. 2016): each unit keeps its previous hidden (and
/// LSTM cell) value with probability z at each training step,
/// `h = m * h_prev + (1 - m) * h_new` with m ~ Bernoulli(z); inference uses
/// the expectation, m = z. One elementwise pass after the fused cell pass
/// (forward), and one before it (backward), on valid rows only.
struct Zoneout<T: EngineScalar> {
  /// Sampled keep masks `[T][B][H]` (training), or nil for the expectation.
  let hiddenMask: UnsafeMutablePointer<Float>?
  let cellMask: UnsafeMutablePointer<Float>?
  /// The rate, used as m when there are no masks.
  let rate: T
  let hidden: Int
  let batch: Int
  let isLSTM: Bool
  /// Whether the model uses zoneout at all.
  let isActive: Bool

  init(
    config: ModelConfiguration, hiddenMask: UnsafeMutablePointer<Float>?,
    cellMask: UnsafeMutablePointer<Float>?, batch: Int
  ) {
    self.hiddenMask = hiddenMask
    self.cellMask = cellMask
    rate = T(config.zoneout)
    hidden = config.hiddenSize
    self.batch = batch
    isLSTM = config.cell == .lstm
    isActive = config.zoneout > 0
  }

  /// Keep weight of hidden unit `j` of sequence `b` at step `s`.
  @inline(__always)
  private func keep(_ mask: UnsafeMutablePointer<Float>?, _ s: Int, _ b: Int, _ j: Int) -> T {
    mask.map { T($0[(s * batch + b) * hidden + j]) } ?? rate
  }

  /// After the cell pass wrote the new values: mixes in the previous ones.
  /// `candidate` receives the new values the backward pass needs (the LSTM
  /// kernel already wrote its new cell there; for RNN the new hidden state
  /// is copied there).
  func forwardStep(
    step s: Int, lengths: [Int], hPrevious: UnsafePointer<T>, hNext: UnsafeMutablePointer<T>,
    cPrevious: UnsafeMutablePointer<T>?, cNext: UnsafeMutablePointer<T>?,
    candidate: UnsafeMutablePointer<T>?, output: UnsafeMutablePointer<T>, outputStride: Int,
    outputOffset: Int
  ) {
    let h = hidden
    for b in 0..<batch {
      if isLSTM, let cPrevious, let cNext, let candidate {
        if s < lengths[b] {
          for j in 0..<h {
            let m = keep(cellMask, s, b, j)
            cNext[b * h + j] = m * cPrevious[b * h + j] + (1 - m) * candidate[b * h + j]
          }
        } else {
          (cNext + b * h).update(from: cPrevious + b * h, count: h)
        }
      }
      guard s < lengths[b] else { continue }
      let out = output + b * outputStride + outputOffset
      if !isLSTM, let candidate { (candidate + b * h).update(from: hNext + b * h, count: h) }
      for j in 0..<h {
        let m = keep(hiddenMask, s, b, j)
        let value = m * hPrevious[b * h + j] + (1 - m) * hNext[b * h + j]
        hNext[b * h + j] = value
        out[j] = value
      }
    }
  }

  /// Before the backward cell pass: splits the gradients of the zoned
  /// states into the part through the new values (left in `hiddenCarry`,
  /// with the output gradient folded in and zeroed, and in `cellCarry`) and
  /// the part reaching the previous step directly (`directHidden`,
  /// `directCell`), for valid rows.
  func backwardStep(
    step s: Int, lengths: [Int], outputGradient: UnsafeMutablePointer<T>, outputStride: Int,
    outputOffset: Int, hiddenCarry: UnsafeMutablePointer<T>, cellCarry: UnsafeMutablePointer<T>,
    directHidden: UnsafeMutablePointer<T>, directCell: UnsafeMutablePointer<T>
  ) {
    let h = hidden
    for b in 0..<batch where s < lengths[b] {
      let dOut = outputGradient + b * outputStride + outputOffset
      for j in 0..<h {
        let total = hiddenCarry[b * h + j] + dOut[j]
        let m = keep(hiddenMask, s, b, j)
        hiddenCarry[b * h + j] = (1 - m) * total
        directHidden[b * h + j] = m * total
        dOut[j] = 0
        if isLSTM {
          let mc = keep(cellMask, s, b, j)
          let cellTotal = cellCarry[b * h + j]
          cellCarry[b * h + j] = (1 - mc) * cellTotal
          directCell[b * h + j] = mc * cellTotal
        }
      }
    }
  }
}
