/// The part of an encoder-decoder after the two recurrent stacks: Luong
/// global attention (optional) and the output layer, forward and backward.
///
/// For each decoder row (step `t`, sequence `b`) with top hidden state `h_t`
/// and the encoder's top outputs `h̄_s`, `s < sourceLength[b]`:
///
///     score_s = h_t · h̄_s               (dot)
///     score_s = (W_in h_t) · h̄_s        (general; W_in = attention.linear_in.weight)
///     a = softmax(score) over the valid source positions only
///     c_t = sum_s a_s h̄_s
///     h̃_t = tanh(W_c [c_t; h_t])        (W_c = attention.linear_out.weight, no bias)
///     logits = W_o h̃_t + b_o            (output.weight, output.bias)
///
/// Without attention, `logits = W_o h_t + b_o`. No input feeding: h̃_t is not
/// fed back into the decoder, which keeps the decoder a plain full-sequence
/// pass in training. Rows are time-major (`t * B + b`), as the engine's layer
/// outputs; the per-sequence products use the batch stride as leading
/// dimension, so each is one GEMM.
final class Seq2SeqHead<T: EngineScalar> {
  let config: Seq2SeqConfiguration
  let layout: Seq2SeqLayout
  private let arena = Arena<T>()
  private var plannedFor = (0, 0, 0)

  /// `W_in h_t` per row `[R][H]` (general attention).
  private(set) var query: UnsafeMutablePointer<T>!
  /// Attention weights `[B][steps][S]` (zero past each source length).
  private(set) var weights: UnsafeMutablePointer<T>!
  /// Context vectors `[R][H]`.
  private(set) var context: UnsafeMutablePointer<T>!
  /// Attentional states h̃ `[R][H]`.
  private(set) var attended: UnsafeMutablePointer<T>!
  /// Logits `[R][V]`.
  private(set) var logits: UnsafeMutablePointer<T>!
  /// dL/dlogits `[R][V]`, written by the loss.
  private(set) var logitGradients: UnsafeMutablePointer<T>!
  /// dL/d(decoder top outputs) `[R][H]`, written by `backward`.
  private(set) var decoderOutputGradients: UnsafeMutablePointer<T>!
  /// dL/d(encoder top outputs) `[S][B][H]`, written by `backward` (attention).
  private(set) var encoderOutputGradients: UnsafeMutablePointer<T>!
  private var headGradient: UnsafeMutablePointer<T>!
  private var contextGradient: UnsafeMutablePointer<T>!
  private var weightGradients: UnsafeMutablePointer<T>!
  private var queryGradient: UnsafeMutablePointer<T>!

  init(config: Seq2SeqConfiguration, layout: Seq2SeqLayout) {
    self.config = config
    self.layout = layout
  }

  private func prepare(batch b: Int, sourceSteps s: Int, steps: Int) throws(SeqRNNError) {
    if plannedFor == (b, s, steps) { return }
    plannedFor = (0, 0, 0)
    let h = config.hiddenSize
    let v = config.targetVocabSize
    let rows = steps * b
    let fp = Arena<T>.footprint
    try arena.reset(
      capacity: 8 * fp(rows * h) + 2 * fp(b * steps * s) + 2 * fp(rows * v) + fp(s * b * h))
    query = arena.take(rows * h)
    weights = arena.take(b * steps * s)
    context = arena.take(rows * h)
    attended = arena.take(rows * h)
    logits = arena.take(rows * v)
    logitGradients = arena.take(rows * v)
    decoderOutputGradients = arena.take(rows * h)
    encoderOutputGradients = arena.take(s * b * h)
    headGradient = arena.take(rows * h)
    contextGradient = arena.take(rows * h)
    weightGradients = arena.take(b * steps * s)
    queryGradient = arena.take(rows * h)
    plannedFor = (b, s, steps)
  }

  /// Logits of every row into `logits` (and, with attention, the weights,
  /// contexts and attentional states backward needs).
  /// - decoderOutputs: `[steps][B][H]`; encoderOutputs: `[S][B][H]`.
  func forward(
    _ parameters: UnsafePointer<T>, decoderOutputs: UnsafePointer<T>,
    encoderOutputs: UnsafePointer<T>, sourceLengths: [Int], batch b: Int, sourceSteps s: Int,
    steps: Int
  ) throws(SeqRNNError) {
    try prepare(batch: b, sourceSteps: s, steps: steps)
    let h = config.hiddenSize
    let v = config.targetVocabSize
    let rows = steps * b
    var features = decoderOutputs
    if config.attention != .none {
      var queries = decoderOutputs
      if let attentionIn = layout.attentionIn {
        T.gemm(
          false, true, rows, h, h, 1, decoderOutputs, h, parameters + attentionIn, h, 0, query, h)
        queries = UnsafePointer(query)
      }
      let bh = b * h
      for i in 0..<b {
        let n = sourceLengths[i]
        let a = weights + i * steps * s
        // scores [steps][n] = Q_i H̄_i^T, then a masked softmax per row.
        T.gemm(
          false, true, steps, n, h, 1, queries + i * h, bh, encoderOutputs + i * h, bh, 0, a, s)
        for t in 0..<steps {
          let row = a + t * s
          var peak = row[0]
          for k in 1..<n where row[k] > peak { peak = row[k] }
          var sum = T(0)
          for k in 0..<n {
            row[k] = T.exp(row[k] - peak)
            sum += row[k]
          }
          for k in 0..<n { row[k] /= sum }
          for k in n..<s { row[k] = 0 }
        }
        // c_i [steps][H] = A_i H̄_i.
        T.gemm(
          false, false, steps, h, n, 1, a, s, encoderOutputs + i * h, bh, 0, context + i * h, bh)
      }
      // h̃ = tanh(C W_c[:, :H]^T + H_dec W_c[:, H:]^T).
      let wc = parameters + layout.attentionOut!
      T.gemm(false, true, rows, h, h, 1, context, h, wc, 2 * h, 0, attended, h)
      T.gemm(false, true, rows, h, h, 1, decoderOutputs, h, wc + h, 2 * h, 1, attended, h)
      for k in 0..<(rows * h) { attended[k] = T.tanh(attended[k]) }
      features = UnsafePointer(attended)
    }
    let bias = parameters + layout.outputBias
    for r in 0..<rows { (logits + r * v).update(from: bias, count: v) }
    T.gemm(
      false, true, rows, v, h, 1, features, h, parameters + layout.outputWeight, h, 1, logits, v)
  }

  /// From `logitGradients`: accumulates the gradients of the output and
  /// attention tensors into `gradients`, and writes `decoderOutputGradients`
  /// and (with attention) `encoderOutputGradients`. Same arguments as the
  /// `forward` that preceded it.
  func backward(
    _ parameters: UnsafePointer<T>, gradients: UnsafeMutablePointer<T>,
    decoderOutputs: UnsafePointer<T>, encoderOutputs: UnsafePointer<T>, sourceLengths: [Int],
    batch b: Int, sourceSteps s: Int, steps: Int
  ) {
    let h = config.hiddenSize
    let v = config.targetVocabSize
    let rows = steps * b
    let dLogits = UnsafePointer(logitGradients!)
    let features = config.attention == .none ? decoderOutputs : UnsafePointer(attended!)
    // Output layer: dW_o += dlogits^T X, db_o += column sums, dX = dlogits W_o.
    T.gemm(
      true, false, v, h, rows, 1, dLogits, v, features, h, 1, gradients + layout.outputWeight, h)
    let biasGradient = gradients + layout.outputBias
    for r in 0..<rows {
      let row = dLogits + r * v
      for k in 0..<v { biasGradient[k] += row[k] }
    }
    let dX: UnsafeMutablePointer<T> =
      config.attention == .none ? decoderOutputGradients : headGradient
    T.gemm(false, false, rows, h, v, 1, dLogits, v, parameters + layout.outputWeight, h, 0, dX, h)
    guard config.attention != .none else { return }

    // h̃ = tanh(pre): dpre = dh̃ (1 - h̃²), in place.
    for k in 0..<(rows * h) { dX[k] *= 1 - attended[k] * attended[k] }
    let wc = parameters + layout.attentionOut!
    let dWc = gradients + layout.attentionOut!
    T.gemm(true, false, h, h, rows, 1, dX, h, context, h, 1, dWc, 2 * h)
    T.gemm(true, false, h, h, rows, 1, dX, h, decoderOutputs, h, 1, dWc + h, 2 * h)
    T.gemm(false, false, rows, h, h, 1, dX, h, wc, 2 * h, 0, contextGradient, h)
    T.gemm(false, false, rows, h, h, 1, dX, h, wc + h, 2 * h, 0, decoderOutputGradients, h)

    let queries =
      layout.attentionIn == nil ? decoderOutputs : UnsafePointer(query!)
    let bh = b * h
    encoderOutputGradients.update(repeating: 0, count: s * bh)
    for i in 0..<b {
      let n = sourceLengths[i]
      let a = weights + i * steps * s
      let dA = weightGradients + i * steps * s
      let encoder = encoderOutputs + i * h
      let dEncoder = encoderOutputGradients + i * h
      // c = A H̄: dA = dC H̄^T, dH̄ += A^T dC.
      T.gemm(false, true, steps, n, h, 1, contextGradient + i * h, bh, encoder, bh, 0, dA, s)
      T.gemm(true, false, n, h, steps, 1, a, s, contextGradient + i * h, bh, 1, dEncoder, bh)
      // Softmax: dscore = a (dA - sum(a dA)).
      for t in 0..<steps {
        let row = a + t * s
        let dRow = dA + t * s
        var dot = T(0)
        for k in 0..<n { dot += row[k] * dRow[k] }
        for k in 0..<n { dRow[k] = row[k] * (dRow[k] - dot) }
      }
      // score = Q H̄^T: dQ = dscore H̄, dH̄ += dscore^T Q.
      T.gemm(false, false, steps, h, n, 1, dA, s, encoder, bh, 0, queryGradient + i * h, bh)
      T.gemm(true, false, n, h, steps, 1, dA, s, queries + i * h, bh, 1, dEncoder, bh)
    }
    if let attentionIn = layout.attentionIn {
      // Q = H_dec W_in^T: dW_in += dQ^T H_dec, dH_dec += dQ W_in.
      T.gemm(
        true, false, h, h, rows, 1, queryGradient, h, decoderOutputs, h, 1,
        gradients + attentionIn, h)
      T.gemm(
        false, false, rows, h, h, 1, queryGradient, h, parameters + attentionIn, h, 1,
        decoderOutputGradients, h)
    } else {
      for k in 0..<(rows * h) { decoderOutputGradients[k] += queryGradient[k] }
    }
  }
}
