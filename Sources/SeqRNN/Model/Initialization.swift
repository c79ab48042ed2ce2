/// PyTorch's default initialisation, reproduced from a seed:
/// recurrent weights and biases U(-1/sqrt(H), 1/sqrt(H)) (nn.RNN/LSTM/GRU),
/// embedding N(0, 1) (nn.Embedding), head weight and bias
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (nn.Linear's kaiming_uniform(a=sqrt(5))).
enum Initialization {
  /// Fills `parameters` (laid out by `layout`) for `config`.
  static func pytorchDefault(
    _ config: ModelConfiguration, layout: ParameterLayout,
    into parameters: UnsafeMutablePointer<Float>
  ) {
    var rng = SeededGenerator(seed: config.seed)
    let recurrentBound = 1 / Double(config.hiddenSize).squareRoot()
    let headBound = 1 / Double(config.directions * config.hiddenSize).squareRoot()
    for tensor in layout.tensors {
      let p = parameters + tensor.offset
      if tensor.name == "embedding.weight" {
        for i in 0..<tensor.count { p[i] = Float(rng.normal()) }
      } else {
        let bound = tensor.name.hasPrefix("head.") ? headBound : recurrentBound
        for i in 0..<tensor.count { p[i] = Float(rng.uniform(-bound, bound)) }
      }
    }
  }
}
