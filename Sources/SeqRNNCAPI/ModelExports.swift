import CSeqRNN
import SeqRNN

/// The C parameter struct of a Swift configuration.
func cParams(_ c: ModelConfiguration) -> seqrnn_model_params {
  seqrnn_model_params(
    cell: c.cell.rawValue, input_size: Int64(c.inputSize), vocab_size: Int64(c.vocabSize),
    hidden_size: Int64(c.hiddenSize), num_layers: Int64(c.numLayers),
    bidirectional: c.bidirectional ? 1 : 0, output_size: Int64(c.outputSize),
    output_mode: c.outputMode.rawValue, loss: c.loss.rawValue, seed: c.seed,
    dropout: c.dropout, head_dropout: c.headDropout, recurrent_dropout: c.recurrentDropout,
    zoneout: c.zoneout, init: c.initialization.rawValue, forget_bias_one: c.forgetBiasOne ? 1 : 0)
}

/// The Swift configuration of a C parameter struct, rejecting unknown enum values.
func configuration(_ p: seqrnn_model_params) throws(SeqRNNError) -> ModelConfiguration {
  guard let cell = CellType(rawValue: p.cell) else {
    throw .invalidArgument("params->cell = \(p.cell) is not a seqrnn_cell (0...3)")
  }
  guard let mode = OutputMode(rawValue: p.output_mode) else {
    throw .invalidArgument(
      "params->output_mode = \(p.output_mode) is not a seqrnn_output_mode (0 or 1)")
  }
  guard let loss = LossKind(rawValue: p.loss) else {
    throw .invalidArgument("params->loss = \(p.loss) is not a seqrnn_loss (0 or 1)")
  }
  guard p.bidirectional == 0 || p.bidirectional == 1 else {
    throw .invalidArgument("params->bidirectional must be 0 or 1, got \(p.bidirectional)")
  }
  let sizes = [p.input_size, p.vocab_size, p.hidden_size, p.num_layers, p.output_size]
  guard sizes.allSatisfy({ $0 >= Int64(Int32.min) && $0 <= Int64(Int32.max) }) else {
    throw .invalidArgument("a size in params is outside the 32-bit range")
  }
  guard let initialization = InitializationScheme(rawValue: p.`init`) else {
    throw .invalidArgument("params->init = \(p.`init`) is not a seqrnn_init (0...2)")
  }
  guard p.forget_bias_one == 0 || p.forget_bias_one == 1 else {
    throw .invalidArgument("params->forget_bias_one must be 0 or 1, got \(p.forget_bias_one)")
  }
  var config = ModelConfiguration(
    cell: cell, inputSize: Int(p.input_size), vocabSize: Int(p.vocab_size),
    hiddenSize: Int(p.hidden_size), numLayers: Int(p.num_layers),
    bidirectional: p.bidirectional == 1, outputSize: Int(p.output_size), outputMode: mode,
    loss: loss, seed: p.seed)
  config.dropout = p.dropout
  config.headDropout = p.head_dropout
  config.recurrentDropout = p.recurrent_dropout
  config.zoneout = p.zoneout
  config.initialization = initialization
  config.forgetBiasOne = p.forget_bias_one == 1
  return config
}

/// `seqrnn_model_default_params`.
@c @implementation
public func seqrnn_model_default_params() -> seqrnn_model_params {
  cParams(ModelConfiguration())
}

/// `seqrnn_model_create`.
@c @implementation
public func seqrnn_model_create(
  _ params: UnsafePointer<seqrnn_model_params>?, _ outModel: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  outModel?.pointee = nil
  return guarded("seqrnn_model_create") { () throws(SeqRNNError) in
    let out = try required(outModel, "out_model")
    let config = try configuration(params?.pointee ?? seqrnn_model_default_params())
    out.pointee = retainedHandle(ModelHandle(try Model(config)))
  }
}

/// `seqrnn_model_free`.
@c @implementation
public func seqrnn_model_free(_ model: OpaquePointer?) { release(model, ModelHandle.self) }

/// `seqrnn_model_get_params`.
@c @implementation
public func seqrnn_model_get_params(
  _ model: OpaquePointer?, _ outParams: UnsafeMutablePointer<seqrnn_model_params>?
) -> seqrnn_status {
  guarded("seqrnn_model_get_params") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    try required(outParams, "out_params").pointee = cParams(handle.model.configuration)
  }
}

/// `seqrnn_batch_init`.
@c @implementation
public func seqrnn_batch_init(_ batchSize: Int64, _ seqLen: Int64) -> seqrnn_batch {
  seqrnn_batch(
    batch_size: batchSize, seq_len: seqLen, features: nil, tokens: nil, lengths: nil,
    initial_h: nil, initial_c: nil, target_classes: nil, target_values: nil, loss_weights: nil)
}

/// Checks a positive size argument and converts it.
func positiveSize(_ value: Int64, _ name: String) throws(SeqRNNError) -> Int {
  guard value > 0, value <= Int64(EngineInput.maxPositions) else {
    throw .invalidArgument("\(name) must be in [1, \(EngineInput.maxPositions)], got \(value)")
  }
  return Int(value)
}

/// `seqrnn_model_output_count`.
@c @implementation
public func seqrnn_model_output_count(
  _ model: OpaquePointer?, _ batchSize: Int64, _ seqLen: Int64,
  _ outCount: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_model_output_count") { () throws(SeqRNNError) in
    let config = try unbox(model, ModelHandle.self, "model").model.configuration
    let out = try required(outCount, "out_count")
    let b = try positiveSize(batchSize, "batch_size")
    let t = try positiveSize(seqLen, "seq_len")
    out.pointee = Int64(config.outputCount(batchSize: b, seqLen: t))
  }
}

/// `seqrnn_model_state_count`.
@c @implementation
public func seqrnn_model_state_count(
  _ model: OpaquePointer?, _ batchSize: Int64, _ outCount: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_model_state_count") { () throws(SeqRNNError) in
    let config = try unbox(model, ModelHandle.self, "model").model.configuration
    let out = try required(outCount, "out_count")
    out.pointee = Int64(config.stateCount(batchSize: try positiveSize(batchSize, "batch_size")))
  }
}

/// Builds and validates the engine's view of a C batch.
func engineInput(
  _ batch: UnsafePointer<seqrnn_batch>?, _ config: ModelConfiguration, needTargets: Bool
) throws(SeqRNNError) -> EngineInput {
  let b = try required(batch, "batch").pointee
  guard b.batch_size > 0 else {
    throw .invalidArgument("batch->batch_size must be > 0, got \(b.batch_size)")
  }
  guard b.seq_len > 0 else {
    throw .invalidArgument("batch->seq_len must be > 0, got \(b.seq_len)")
  }
  guard b.batch_size <= Int64(EngineInput.maxPositions),
    b.seq_len <= Int64(EngineInput.maxPositions)
  else {
    throw .invalidArgument("batch->batch_size * batch->seq_len is too large")
  }
  var input = EngineInput(batchSize: Int(b.batch_size), seqLen: Int(b.seq_len))
  try input.setSizes(lengths: b.lengths)
  input.floatFeatures = b.features
  input.tokens = b.tokens
  input.initialH = b.initial_h
  input.initialC = b.initial_c
  input.targetClasses = b.target_classes
  input.targetValues = b.target_values
  input.lossWeights = b.loss_weights
  try input.validate(config, needTargets: needTargets)
  return input
}

/// `seqrnn_model_forward`.
@c @implementation
public func seqrnn_model_forward(
  _ model: OpaquePointer?, _ batch: UnsafePointer<seqrnn_batch>?,
  _ outputs: UnsafeMutablePointer<Float>?, _ outputsCapacity: Int64,
  _ finalH: UnsafeMutablePointer<Float>?, _ finalC: UnsafeMutablePointer<Float>?,
  _ statesCapacity: Int64, _ outNeeded: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_model_forward") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let config = handle.model.configuration
    let input = try engineInput(batch, config, needTargets: false)
    let needed = config.outputCount(batchSize: input.batchSize, seqLen: input.seqLen)
    outNeeded?.pointee = Int64(needed)
    let out = try required(outputs, "outputs")
    try ensureCapacity(outputsCapacity, needed, "outputs")
    if finalC != nil, config.cell != .lstm {
      throw .unsupported(
        "final_c must be NULL: the model's cell is \(config.cell.name), which has no cell state")
    }
    if finalH != nil || finalC != nil {
      try ensureCapacity(
        statesCapacity, config.stateCount(batchSize: input.batchSize),
        "final_h/final_c (states_capacity)")
    }
    try handle.model.forward(input, outputs: out, finalH: finalH, finalC: finalC)
  }
}

/// `seqrnn_model_evaluate`.
@c @implementation
public func seqrnn_model_evaluate(
  _ model: OpaquePointer?, _ batch: UnsafePointer<seqrnn_batch>?,
  _ outEvaluation: UnsafeMutablePointer<seqrnn_evaluation>?
) -> seqrnn_status {
  guarded("seqrnn_model_evaluate") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let out = try required(outEvaluation, "out_evaluation")
    let input = try engineInput(batch, handle.model.configuration, needTargets: true)
    let result = try handle.model.evaluate(input)
    out.pointee = seqrnn_evaluation(
      loss: result.loss, accuracy: result.accuracy, count: Int64(result.count))
  }
}
