/// The seq2seq pass run in float64, so tests can compare its gradients with
/// central finite differences of its own loss (as `GradientProbe` does for
/// single stacks).
package enum Seq2SeqProbe {
  /// Teacher-forced mean per-token loss and the gradient of every named
  /// tensor, for `parameters` given by name. With `decoderInputs`
  /// (`[B][longest target + 1]`), those replace the decoder's inputs after
  /// step 0, as scheduled sampling does. When the configuration drops,
  /// the masks are the first ones `Seq2SeqMasks(seed: maskSeed)` draws: the
  /// same on every call (a training model's first step uses
  /// `options.seed + 1`).
  package static func evaluate(
    configuration: Seq2SeqConfiguration, parameters: [String: [Double]], batch: Seq2SeqBatch,
    decoderInputs: [Int32]? = nil, maskSeed: UInt64 = 1
  ) throws(SeqRNNError) -> (loss: Double, gradients: [String: [Double]]) {
    try configuration.validate()
    let layout = Seq2SeqLayout(configuration)
    let flat = try FlatBuffer<Double>(count: layout.totalCount)
    for tensor in layout.tensors {
      guard let values = parameters[tensor.name], values.count == tensor.count else {
        throw .shapeMismatch("parameters['\(tensor.name)'] missing or not \(tensor.count) values")
      }
      for i in 0..<tensor.count { flat.pointer[tensor.offset + i] = values[i] }
    }
    let pass = Seq2SeqPass<Double>(config: configuration, layout: layout)
    try pass.load(batch.validated(configuration, needTargets: true))
    if let decoderInputs {
      for b in 0..<pass.batchSize {
        for t in 1..<pass.decoderLengths[b] {
          pass.setDecoderInput(sequence: b, step: t, decoderInputs[b * pass.decoderSteps + t])
        }
      }
    }
    if Seq2SeqMasks.isActive(configuration) {
      let masks = Seq2SeqMasks(seed: maskSeed)
      try masks.prepare(configuration, for: pass)
      pass.masks = masks
    }
    try pass.forward(flat.pointer)
    let result = pass.loss(withGradients: true)
    let gradients = try FlatBuffer<Double>(count: layout.totalCount)
    try pass.backward(flat.pointer, gradients: gradients.pointer)
    var named: [String: [Double]] = [:]
    for tensor in layout.tensors {
      named[tensor.name] = Array(
        UnsafeBufferPointer(start: gradients.pointer + tensor.offset, count: tensor.count))
    }
    return (result.sum / Double(result.count), named)
  }
}
