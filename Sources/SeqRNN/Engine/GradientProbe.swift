/// The optimized engine run in float64, so tests can compare its gradients
/// with central finite differences of its own loss at double precision.
package enum GradientProbe {
  /// Loss (mean, as the C API defines it) and the gradient of every named
  /// tensor, for `parameters` given by name. `features` (batch-major, Double)
  /// overrides `batch.features`; `featureGradients` is dLoss/dfeatures in the
  /// same layout (nil for token models).
  ///
  /// With `maskSeed`, the pass is a training pass whose dropout and zoneout
  /// masks are drawn from that seed: the same masks on every call, so the
  /// loss is a smooth function of the parameters and finite differences
  /// check the masked gradients too.
  ///
  /// `scalar` chooses the engine's scalar: float64 for finite differences,
  /// float32 to compare the production path against float64; `precision`
  /// the float32 engine's matrix products.
  package static func evaluate<T: EngineScalar>(
    configuration: ModelConfiguration, parameters: [String: [Double]], batch: Batch,
    features: [Double]?, maskSeed: UInt64? = nil, scalar: T.Type = Double.self,
    precision: Precision = .float32
  ) throws(SeqRNNError) -> (
    loss: Double, gradients: [String: [Double]], featureGradients: [Double]?
  ) {
    try configuration.validate()
    let layout = ParameterLayout(configuration)
    let flat = try FlatBuffer<T>(count: layout.totalCount)
    for tensor in layout.tensors {
      guard let values = parameters[tensor.name], values.count == tensor.count else {
        throw .shapeMismatch("parameters['\(tensor.name)'] missing or not \(tensor.count) values")
      }
      for i in 0..<tensor.count { flat.pointer[tensor.offset + i] = T(values[i]) }
    }
    var probeBatch = batch
    if features != nil { probeBatch.features = nil }
    return try probeBatch.withEngineInput(
      configuration, needTargets: true, doubleFeatures: features
    ) { (input) throws(SeqRNNError) in
      let engine = Engine<T>(
        config: configuration, layout: layout, parameters: flat.pointer, precision: precision)
      let tape = Tape<T>()
      let scratch = BackwardScratch<T>()
      var masks: Regularizer? = nil
      if let maskSeed {
        masks = Regularizer(seed: maskSeed)
        try masks!.prepare(configuration, batchSize: input.batchSize, seqLen: input.seqLen)
      }
      try engine.forward(input, tape: tape, masks: masks)
      try scratch.prepare(
        configuration, batchSize: input.batchSize, seqLen: input.seqLen, training: masks != nil)
      let result = engine.loss(input, tape: tape, gradients: scratch.logitGradients)
      let gradients = try FlatBuffer<T>(count: layout.totalCount)
      let wantFeatures = !configuration.usesTokens
      let featureCount = input.batchSize * input.seqLen * configuration.embeddingOrInputSize
      let featureGradients = try FlatBuffer<T>(count: wantFeatures ? featureCount : 0)
      engine.backward(
        input, tape: tape, scratch: scratch, gradients: gradients.pointer,
        featureGradients: wantFeatures ? featureGradients.pointer : nil, masks: masks)
      var named: [String: [Double]] = [:]
      for tensor in layout.tensors {
        named[tensor.name] = UnsafeBufferPointer(
          start: gradients.pointer + tensor.offset, count: tensor.count
        ).map { Double($0) }
      }
      let inputGradients = featureGradients.buffer.map { Double($0) }
      return (Double(result.loss), named, wantFeatures ? inputGradients : nil)
    }
  }
}
