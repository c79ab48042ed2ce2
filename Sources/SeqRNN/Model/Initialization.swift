/// Weight initialisation from a seed.
///
/// - `.pytorch`: PyTorch's defaults: recurrent weights and biases
///   U(-1/sqrt(H), 1/sqrt(H)) (nn.RNN/LSTM/GRU).
/// - `.xavier`: Glorot uniform U(-a, a), a = sqrt(6 / (fan_in + fan_out)),
///   for each gate block of W_ih and W_hh; zero biases.
/// - `.orthogonal`: Glorot uniform W_ih and an orthogonal matrix for each
///   gate block of W_hh (Keras's default for recurrent layers); zero biases.
///
/// In every scheme the embedding is N(0, 1) (nn.Embedding) and the head
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (nn.Linear's kaiming_uniform(a=sqrt(5))),
/// and `forgetBiasOne` sets the LSTM forget-gate block of `bias_ih` to 1 and
/// of `bias_hh` to 0 afterwards.
enum Initialization {
  /// Fills `parameters` (laid out by `layout`) for `config`.
  static func initialize(
    _ config: ModelConfiguration, layout: ParameterLayout,
    into parameters: UnsafeMutablePointer<Float>
  ) {
    var rng = SeededGenerator(seed: config.seed)
    let h = config.hiddenSize
    let recurrentBound = 1 / Double(h).squareRoot()
    let headBound = 1 / Double(config.directions * h).squareRoot()
    for tensor in layout.tensors {
      let p = parameters + tensor.offset
      let name = tensor.name
      if name == "embedding.weight" {
        for i in 0..<tensor.count { p[i] = Float(rng.normal()) }
      } else if name.hasPrefix("head.") {
        for i in 0..<tensor.count { p[i] = Float(rng.uniform(-headBound, headBound)) }
      } else if config.initialization == .pytorch {
        for i in 0..<tensor.count { p[i] = Float(rng.uniform(-recurrentBound, recurrentBound)) }
      } else if name.hasPrefix("rnn.bias") {
        p.update(repeating: 0, count: tensor.count)
      } else {
        // A weight [G*H][fan_in]: each gate block is its own [H][fan_in] matrix.
        let fanIn = tensor.shape[1]
        let recurrent = name.hasPrefix("rnn.weight_hh")
        for gate in 0..<config.cell.gateCount {
          let block = p + gate * h * fanIn
          if recurrent && config.initialization == .orthogonal {
            orthogonal(block, size: h, rng: &rng)
          } else {
            let bound = (6 / Double(fanIn + h)).squareRoot()
            for i in 0..<(h * fanIn) { block[i] = Float(rng.uniform(-bound, bound)) }
          }
        }
      }
    }
    if config.forgetBiasOne && config.cell == .lstm {
      for layer in layout.recurrent {
        for direction in layer {
          (parameters + direction.biasIH + h).update(repeating: 1, count: h)
          (parameters + direction.biasHH + h).update(repeating: 0, count: h)
        }
      }
    }
  }

  /// A random orthogonal `size` x `size` matrix: Gram-Schmidt (twice, for
  /// accuracy) on a Gaussian matrix's rows, which gives the Haar
  /// distribution like QR with the signs of R's diagonal folded in.
  static func orthogonal(
    _ out: UnsafeMutablePointer<Float>, size n: Int, rng: inout SeededGenerator
  ) {
    var rows = (0..<n).map { _ in (0..<n).map { _ in rng.normal() } }
    for i in 0..<n {
      for _ in 0..<2 {
        for j in 0..<i {
          var dot = 0.0
          for k in 0..<n { dot += rows[i][k] * rows[j][k] }
          for k in 0..<n { rows[i][k] -= dot * rows[j][k] }
        }
      }
      var norm = 0.0
      for k in 0..<n { norm += rows[i][k] * rows[i][k] }
      norm = norm.squareRoot()
      for k in 0..<n { rows[i][k] /= norm }
    }
    for i in 0..<n { for k in 0..<n { out[i * n + k] = Float(rows[i][k]) } }
  }
}
