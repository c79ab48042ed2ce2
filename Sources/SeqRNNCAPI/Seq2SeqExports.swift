import CSeqRNN
import SeqRNN

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a `seqrnn_seq2seq *` points to: the model plus C copies of its
/// tensor names for `seqrnn_tensor_info.name`.
final class Seq2SeqHandle {
  let model: Seq2Seq
  let names: [UnsafeMutablePointer<CChar>]

  init(_ model: Seq2Seq) {
    self.model = model
    names = model.tensorInfos.map { strdup($0.name)! }
  }

  deinit { for name in names { free(name) } }
}

/// The C struct of a Swift seq2seq model's settings.
private func cParams(_ model: Seq2Seq) -> seqrnn_seq2seq_params {
  let c = model.configuration
  let s = model.sampling
  return seqrnn_seq2seq_params(
    cell: c.cell.rawValue, source_vocab_size: Int64(c.sourceVocabSize),
    target_vocab_size: Int64(c.targetVocabSize), embedding_size: Int64(c.embeddingSize),
    hidden_size: Int64(c.hiddenSize), num_layers: Int64(c.numLayers),
    attention: c.attention.rawValue, bos_id: Int32(c.bosID), eos_id: Int32(c.eosID),
    init: c.initialization.rawValue, seed: c.seed, train: cTrainParams(model.options),
    sampling_schedule: s.kind.rawValue, sampling_start: Float(s.start),
    sampling_end: Float(s.end), sampling_decay: Float(s.decay),
    sampling_from_model: s.sampleFromModel ? 1 : 0, dropout: c.dropout,
    recurrent_dropout: c.recurrentDropout, bidirectional_encoder: c.bidirectionalEncoder ? 1 : 0)
}

/// Swift configuration from the C struct, rejecting unknown enum values.
private func configuration(_ p: seqrnn_seq2seq_params) throws(SeqRNNError) -> Seq2SeqConfiguration {
  guard let cell = CellType(rawValue: p.cell) else {
    throw .invalidArgument("params->cell = \(p.cell) is not a seqrnn_cell (0...3)")
  }
  guard let attention = AttentionKind(rawValue: p.attention) else {
    throw .invalidArgument("params->attention = \(p.attention) is not a seqrnn_attention (0...2)")
  }
  guard let initialization = InitializationScheme(rawValue: p.`init`) else {
    throw .invalidArgument("params->init = \(p.`init`) is not a seqrnn_init (0...2)")
  }
  let limit = Int64(1 << 30)
  for (name, value) in [
    ("source_vocab_size", p.source_vocab_size), ("target_vocab_size", p.target_vocab_size),
    ("embedding_size", p.embedding_size), ("hidden_size", p.hidden_size),
    ("num_layers", p.num_layers),
  ] where value < 0 || value > limit {
    throw .invalidArgument("params->\(name) = \(value) is out of range")
  }
  var c = Seq2SeqConfiguration(
    cell: cell, sourceVocabSize: Int(p.source_vocab_size),
    targetVocabSize: Int(p.target_vocab_size), embeddingSize: Int(p.embedding_size),
    hiddenSize: Int(p.hidden_size), numLayers: Int(p.num_layers), attention: attention,
    bosID: Int(p.bos_id), eosID: Int(p.eos_id), dropout: p.dropout,
    recurrentDropout: p.recurrent_dropout, seed: p.seed)
  guard p.bidirectional_encoder == 0 || p.bidirectional_encoder == 1 else {
    throw .invalidArgument(
      "params->bidirectional_encoder must be 0 or 1, got \(p.bidirectional_encoder)")
  }
  c.bidirectionalEncoder = p.bidirectional_encoder == 1
  c.initialization = initialization
  return c
}

/// Training options and sampling schedule from the C struct.
private func trainerSettings(_ p: seqrnn_seq2seq_params) throws(SeqRNNError) -> (
  TrainingOptions, ScheduledSampling
) {
  let options = try trainingOptions(p.train)
  guard let kind = SamplingScheduleKind(rawValue: p.sampling_schedule) else {
    throw .invalidArgument(
      "params->sampling_schedule = \(p.sampling_schedule) is not a seqrnn_sampling_schedule (0...4)"
    )
  }
  guard p.sampling_from_model == 0 || p.sampling_from_model == 1 else {
    throw .invalidArgument(
      "params->sampling_from_model must be 0 or 1, got \(p.sampling_from_model)")
  }
  let sampling = ScheduledSampling(
    kind: kind, start: Double(p.sampling_start), end: Double(p.sampling_end),
    decay: Double(p.sampling_decay), sampleFromModel: p.sampling_from_model == 1)
  return (options, sampling)
}

/// A Swift batch from the C struct (copies the ids; sizes checked first so
/// no buffer is read past what the sizes imply).
private func seq2seqBatch(
  _ pointer: UnsafePointer<seqrnn_seq2seq_batch>?, needTargets: Bool
) throws(SeqRNNError) -> Seq2SeqBatch {
  let p = try required(pointer, "batch").pointee
  guard p.batch_size > 0 else {
    throw .invalidArgument("batch_size must be > 0, got \(p.batch_size)")
  }
  guard p.source_len > 0 else {
    throw .invalidArgument("source_len must be > 0, got \(p.source_len)")
  }
  let limit = Int64(EngineInput.maxPositions)
  let (sourceCount, overflow) = p.batch_size.multipliedReportingOverflow(by: p.source_len)
  guard !overflow, sourceCount <= limit else {
    throw .invalidArgument("batch_size * source_len exceeds the limit \(limit)")
  }
  let b = Int(p.batch_size)
  let source = try required(p.source, "batch->source")
  var batch = Seq2SeqBatch(
    batchSize: b, sourceSteps: Int(p.source_len),
    source: Array(UnsafeBufferPointer(start: source, count: Int(sourceCount))))
  if let lengths = p.source_lengths {
    batch.sourceLengths = (0..<b).map { Int(clamping: lengths[$0]) }
  }
  guard needTargets else { return batch }
  guard p.target_len >= 0 else {
    throw .invalidArgument("target_len must be >= 0, got \(p.target_len)")
  }
  let (targetCount, targetOverflow) = p.batch_size.multipliedReportingOverflow(by: p.target_len)
  guard !targetOverflow, targetCount <= limit else {
    throw .invalidArgument("batch_size * target_len exceeds the limit \(limit)")
  }
  batch.targetSteps = Int(p.target_len)
  if targetCount > 0 {
    let target = try required(p.target, "batch->target")
    batch.target = Array(UnsafeBufferPointer(start: target, count: Int(targetCount)))
  }
  if let lengths = p.target_lengths {
    batch.targetLengths = (0..<b).map { Int(clamping: lengths[$0]) }
  }
  return batch
}

/// `seqrnn_seq2seq_default_params`.
@c @implementation
public func seqrnn_seq2seq_default_params() -> seqrnn_seq2seq_params {
  let c = Seq2SeqConfiguration(sourceVocabSize: 0, targetVocabSize: 0)
  let s = ScheduledSampling()
  return seqrnn_seq2seq_params(
    cell: c.cell.rawValue, source_vocab_size: 0, target_vocab_size: 0,
    embedding_size: Int64(c.embeddingSize), hidden_size: Int64(c.hiddenSize),
    num_layers: Int64(c.numLayers), attention: c.attention.rawValue, bos_id: Int32(c.bosID),
    eos_id: Int32(c.eosID), init: c.initialization.rawValue, seed: c.seed,
    train: seqrnn_train_default_params(), sampling_schedule: s.kind.rawValue,
    sampling_start: Float(s.start), sampling_end: Float(s.end), sampling_decay: Float(s.decay),
    sampling_from_model: 0, dropout: c.dropout, recurrent_dropout: c.recurrentDropout,
    bidirectional_encoder: 0)
}

/// `seqrnn_seq2seq_create`.
@c @implementation
public func seqrnn_seq2seq_create(
  _ params: UnsafePointer<seqrnn_seq2seq_params>?,
  _ outModel: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  outModel?.pointee = nil
  return guarded("seqrnn_seq2seq_create") { () throws(SeqRNNError) in
    let p = try required(params, "params").pointee
    let out = try required(outModel, "out_model")
    let config = try configuration(p)
    let (options, sampling) = try trainerSettings(p)
    out.pointee = retainedHandle(
      Seq2SeqHandle(try Seq2Seq(config, options: options, sampling: sampling)))
  }
}

/// `seqrnn_seq2seq_free`.
@c @implementation
public func seqrnn_seq2seq_free(_ model: OpaquePointer?) { release(model, Seq2SeqHandle.self) }

/// `seqrnn_seq2seq_get_params`.
@c @implementation
public func seqrnn_seq2seq_get_params(
  _ model: OpaquePointer?, _ outParams: UnsafeMutablePointer<seqrnn_seq2seq_params>?
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_get_params") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    try required(outParams, "out_params").pointee = cParams(m)
  }
}

/// `seqrnn_seq2seq_train_step`.
@c @implementation
public func seqrnn_seq2seq_train_step(
  _ model: OpaquePointer?, _ batch: UnsafePointer<seqrnn_seq2seq_batch>?,
  _ outLoss: UnsafeMutablePointer<Float>?
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_train_step") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    let loss = try m.trainStep(try seq2seqBatch(batch, needTargets: true))
    outLoss?.pointee = loss
  }
}

/// `seqrnn_seq2seq_compute_gradients`.
@c @implementation
public func seqrnn_seq2seq_compute_gradients(
  _ model: OpaquePointer?, _ batch: UnsafePointer<seqrnn_seq2seq_batch>?,
  _ outLoss: UnsafeMutablePointer<Float>?
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_compute_gradients") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    let loss = try m.computeGradients(try seq2seqBatch(batch, needTargets: true))
    outLoss?.pointee = loss
  }
}

/// `seqrnn_seq2seq_get_gradient`.
@c @implementation
public func seqrnn_seq2seq_get_gradient(
  _ model: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Float>?,
  _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_get_gradient") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    let values = try m.gradient(named: try nameArgument(name))
    let destination = try required(out, "out")
    try ensureCapacity(capacity, values.count, "out")
    values.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: $0.count) }
  }
}

/// `seqrnn_seq2seq_evaluate`.
@c @implementation
public func seqrnn_seq2seq_evaluate(
  _ model: OpaquePointer?, _ batch: UnsafePointer<seqrnn_seq2seq_batch>?,
  _ outEvaluation: UnsafeMutablePointer<seqrnn_evaluation>?
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_evaluate") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    let out = try required(outEvaluation, "out_evaluation")
    let result = try m.evaluate(try seq2seqBatch(batch, needTargets: true))
    out.pointee = seqrnn_evaluation(
      loss: result.loss, accuracy: result.accuracy, count: Int64(result.count))
  }
}

/// `seqrnn_seq2seq_logits`.
@c @implementation
public func seqrnn_seq2seq_logits(
  _ model: OpaquePointer?, _ batch: UnsafePointer<seqrnn_seq2seq_batch>?,
  _ logits: UnsafeMutablePointer<Float>?, _ logitsCapacity: Int64,
  _ attention: UnsafeMutablePointer<Float>?, _ attentionCapacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_logits") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    let input = try seq2seqBatch(batch, needTargets: true)
    let destination = try required(logits, "logits")
    let rows = input.batchSize * (input.targetSteps + 1)
    try ensureCapacity(logitsCapacity, rows * m.configuration.targetVocabSize, "logits")
    if attention != nil {
      try ensureCapacity(attentionCapacity, rows * input.sourceSteps, "attention")
    }
    let result = try m.logits(input)
    result.logits.withUnsafeBufferPointer {
      destination.update(from: $0.baseAddress!, count: $0.count)
    }
    if let attention {
      result.attention.withUnsafeBufferPointer {
        attention.update(from: $0.baseAddress!, count: $0.count)
      }
    }
  }
}

/// Writes decoded sequences into the caller's buffers.
private func writeDecoded(
  _ decoded: Seq2SeqDecoded, maxLength: Int, eos: Int32, tokens: UnsafeMutablePointer<Int32>,
  lengths: UnsafeMutablePointer<Int64>, scores: UnsafeMutablePointer<Float>?
) {
  for (i, sequence) in decoded.tokens.enumerated() {
    let row = tokens + i * maxLength
    row.update(repeating: eos, count: maxLength)
    for (t, id) in sequence.enumerated() { row[t] = id }
    lengths[i] = Int64(sequence.count)
    scores?[i] = Float(decoded.scores[i])
  }
}

/// Shared argument checks of the two decoders.
private func decodeArguments(
  _ model: OpaquePointer?, _ batch: UnsafePointer<seqrnn_seq2seq_batch>?, _ maxLength: Int64,
  _ outTokens: UnsafeMutablePointer<Int32>?, _ capacity: Int64,
  _ outLengths: UnsafeMutablePointer<Int64>?
) throws(SeqRNNError) -> (
  Seq2Seq, Seq2SeqBatch, Int, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int64>
) {
  let m = try unbox(model, Seq2SeqHandle.self, "model").model
  let input = try seq2seqBatch(batch, needTargets: false)
  guard maxLength >= 1, maxLength <= 1 << 20 else {
    throw .invalidArgument("max_length must be in [1, \(1 << 20)], got \(maxLength)")
  }
  let tokens = try required(outTokens, "out_tokens")
  let lengths = try required(outLengths, "out_lengths")
  try ensureCapacity(capacity, input.batchSize * Int(maxLength), "out_tokens")
  return (m, input, Int(maxLength), tokens, lengths)
}

/// `seqrnn_seq2seq_decode_greedy`.
@c @implementation
public func seqrnn_seq2seq_decode_greedy(
  _ model: OpaquePointer?, _ batch: UnsafePointer<seqrnn_seq2seq_batch>?, _ maxLength: Int64,
  _ outTokens: UnsafeMutablePointer<Int32>?, _ capacity: Int64,
  _ outLengths: UnsafeMutablePointer<Int64>?, _ outScores: UnsafeMutablePointer<Float>?
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_decode_greedy") { () throws(SeqRNNError) in
    let (m, input, length, tokens, lengths) = try decodeArguments(
      model, batch, maxLength, outTokens, capacity, outLengths)
    let decoded = try m.decodeGreedy(input, maxLength: length)
    writeDecoded(
      decoded, maxLength: length, eos: Int32(m.configuration.eosID), tokens: tokens,
      lengths: lengths, scores: outScores)
  }
}

/// `seqrnn_seq2seq_decode_beam`.
@c @implementation
public func seqrnn_seq2seq_decode_beam(
  _ model: OpaquePointer?, _ batch: UnsafePointer<seqrnn_seq2seq_batch>?, _ maxLength: Int64,
  _ beamWidth: Int64, _ lengthPenalty: Float, _ outTokens: UnsafeMutablePointer<Int32>?,
  _ capacity: Int64, _ outLengths: UnsafeMutablePointer<Int64>?,
  _ outScores: UnsafeMutablePointer<Float>?
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_decode_beam") { () throws(SeqRNNError) in
    let (m, input, length, tokens, lengths) = try decodeArguments(
      model, batch, maxLength, outTokens, capacity, outLengths)
    guard beamWidth >= 1, beamWidth <= 256 else {
      throw .invalidArgument("beam_width must be in [1, 256], got \(beamWidth)")
    }
    let decoded = try m.decodeBeam(
      input, maxLength: length, beamWidth: Int(beamWidth), lengthPenalty: Double(lengthPenalty))
    writeDecoded(
      decoded, maxLength: length, eos: Int32(m.configuration.eosID), tokens: tokens,
      lengths: lengths, scores: outScores)
  }
}

/// `seqrnn_seq2seq_step_count`.
@c @implementation
public func seqrnn_seq2seq_step_count(
  _ model: OpaquePointer?, _ outSteps: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_step_count") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    try required(outSteps, "out_steps").pointee = Int64(m.stepCount)
  }
}

/// `seqrnn_seq2seq_teacher_forcing_ratio`.
@c @implementation
public func seqrnn_seq2seq_teacher_forcing_ratio(
  _ model: OpaquePointer?, _ step: Int64, _ outRatio: UnsafeMutablePointer<Double>?
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_teacher_forcing_ratio") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    let out = try required(outRatio, "out_ratio")
    out.pointee =
      step < 0
      ? m.teacherForcingRatio : m.sampling.teacherForcingRatio(step: Int(clamping: step))
  }
}

/// `seqrnn_seq2seq_set_learning_rate`.
@c @implementation
public func seqrnn_seq2seq_set_learning_rate(_ model: OpaquePointer?, _ learningRate: Float)
  -> seqrnn_status
{
  guarded("seqrnn_seq2seq_set_learning_rate") { () throws(SeqRNNError) in
    try unbox(model, Seq2SeqHandle.self, "model").model.setLearningRate(learningRate)
  }
}

/// `seqrnn_seq2seq_tensor_count`.
@c @implementation
public func seqrnn_seq2seq_tensor_count(
  _ model: OpaquePointer?, _ outCount: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_tensor_count") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    try required(outCount, "out_count").pointee = Int64(m.tensorInfos.count)
  }
}

/// `seqrnn_seq2seq_tensor_info`.
@c @implementation
public func seqrnn_seq2seq_tensor_info(
  _ model: OpaquePointer?, _ index: Int64, _ outInfo: UnsafeMutablePointer<seqrnn_tensor_info>?
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_tensor_info") { () throws(SeqRNNError) in
    let handle = try unbox(model, Seq2SeqHandle.self, "model")
    let out = try required(outInfo, "out_info")
    let infos = handle.model.tensorInfos
    guard index >= 0, index < Int64(infos.count) else {
      throw .outOfRange("index \(index) is outside [0, \(infos.count))")
    }
    let info = infos[Int(index)]
    var shape: (Int64, Int64, Int64, Int64) = (0, 0, 0, 0)
    withUnsafeMutableBytes(of: &shape) { raw in
      let dims = raw.bindMemory(to: Int64.self)
      for (i, d) in info.shape.enumerated() { dims[i] = Int64(d) }
    }
    out.pointee = seqrnn_tensor_info(
      name: UnsafePointer(handle.names[Int(index)]), ndim: Int32(info.shape.count), shape: shape,
      count: Int64(info.count))
  }
}

/// `seqrnn_seq2seq_get_tensor`.
@c @implementation
public func seqrnn_seq2seq_get_tensor(
  _ model: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Float>?,
  _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_get_tensor") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    let values = try m.tensor(named: try nameArgument(name))
    let destination = try required(out, "out")
    try ensureCapacity(capacity, values.count, "out")
    values.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: $0.count) }
  }
}

/// `seqrnn_seq2seq_set_tensor`.
@c @implementation
public func seqrnn_seq2seq_set_tensor(
  _ model: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ data: UnsafePointer<Float>?,
  _ count: Int64
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_set_tensor") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    let tensor = try nameArgument(name)
    guard count >= 0, count <= Int64(Int32.max) else {
      throw .shapeMismatch("count = \(count) is out of range")
    }
    try m.setTensor(named: tensor, from: data, count: Int(count))
  }
}

/// `seqrnn_seq2seq_save`.
@c @implementation
public func seqrnn_seq2seq_save(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?)
  -> seqrnn_status
{
  guarded("seqrnn_seq2seq_save") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    let file = String(cString: try required(path, "path"))
    guard !file.isEmpty else { throw .invalidArgument("path is empty") }
    try m.save(to: file)
  }
}

/// `seqrnn_seq2seq_load`.
@c @implementation
public func seqrnn_seq2seq_load(
  _ path: UnsafePointer<CChar>?, _ params: UnsafePointer<seqrnn_seq2seq_params>?,
  _ outModel: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  outModel?.pointee = nil
  return guarded("seqrnn_seq2seq_load") { () throws(SeqRNNError) in
    let file = String(cString: try required(path, "path"))
    let out = try required(outModel, "out_model")
    guard !file.isEmpty else { throw .invalidArgument("path is empty") }
    let (options, sampling) = try trainerSettings(
      params?.pointee ?? seqrnn_seq2seq_default_params())
    out.pointee = retainedHandle(
      Seq2SeqHandle(try Seq2Seq.load(from: file, options: options, sampling: sampling)))
  }
}

/// `seqrnn_seq2seq_save_checkpoint`.
@c @implementation
public func seqrnn_seq2seq_save_checkpoint(
  _ model: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ dataPosition: Int64
) -> seqrnn_status {
  guarded("seqrnn_seq2seq_save_checkpoint") { () throws(SeqRNNError) in
    let m = try unbox(model, Seq2SeqHandle.self, "model").model
    try m.saveCheckpoint(
      to: String(cString: try required(path, "path")), dataPosition: dataPosition)
  }
}

/// `seqrnn_seq2seq_load_checkpoint`.
@c @implementation
public func seqrnn_seq2seq_load_checkpoint(
  _ path: UnsafePointer<CChar>?, _ outModel: UnsafeMutablePointer<OpaquePointer?>?,
  _ outDataPosition: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  outModel?.pointee = nil
  return guarded("seqrnn_seq2seq_load_checkpoint") { () throws(SeqRNNError) in
    let source = String(cString: try required(path, "path"))
    let out = try required(outModel, "out_model")
    let (model, position) = try Seq2Seq.loadCheckpoint(from: source)
    out.pointee = retainedHandle(Seq2SeqHandle(model))
    outDataPosition?.pointee = position
  }
}
