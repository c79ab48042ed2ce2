import CSeqRNN
import SeqRNN

/// The C struct of a Swift `RecordSizes`.
private func cSizes(_ s: RecordSizes) -> seqrnn_record_sizes {
  seqrnn_record_sizes(
    hidden: Int64(s.hidden), cell: Int64(s.cell), gates: Int64(s.gates),
    gate_count: Int64(s.gateCount))
}

/// `seqrnn_model_record_sizes`.
@c @implementation
public func seqrnn_model_record_sizes(
  _ model: OpaquePointer?, _ batchSize: Int64, _ seqLen: Int64,
  _ outSizes: UnsafeMutablePointer<seqrnn_record_sizes>?
) -> seqrnn_status {
  guarded("seqrnn_model_record_sizes") { () throws(SeqRNNError) in
    let config = try unbox(model, ModelHandle.self, "model").model.configuration
    let out = try required(outSizes, "out_sizes")
    let b = try positiveSize(batchSize, "batch_size")
    let t = try positiveSize(seqLen, "seq_len")
    out.pointee = cSizes(config.recordSizes(batchSize: b, seqLen: t))
  }
}

/// `seqrnn_model_record`.
@c @implementation
public func seqrnn_model_record(
  _ model: OpaquePointer?, _ batch: UnsafePointer<seqrnn_batch>?, _ layer: Int64,
  _ hidden: UnsafeMutablePointer<Float>?, _ hiddenCapacity: Int64,
  _ cell: UnsafeMutablePointer<Float>?, _ cellCapacity: Int64,
  _ gates: UnsafeMutablePointer<Float>?, _ gatesCapacity: Int64,
  _ outNeeded: UnsafeMutablePointer<seqrnn_record_sizes>?
) -> seqrnn_status {
  guarded("seqrnn_model_record") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let config = handle.model.configuration
    let input = try engineInput(batch, config, needTargets: false)
    let sizes = config.recordSizes(batchSize: input.batchSize, seqLen: input.seqLen)
    outNeeded?.pointee = cSizes(sizes)
    guard layer >= 0, layer < Int64(config.numLayers) else {
      throw .outOfRange("layer = \(layer) is outside [0, num_layers = \(config.numLayers))")
    }
    try config.checkRecording(layer: Int(layer), cell: cell != nil, gates: gates != nil)
    if hidden != nil { try ensureCapacity(hiddenCapacity, sizes.hidden, "hidden") }
    if cell != nil { try ensureCapacity(cellCapacity, sizes.cell, "cell") }
    if gates != nil { try ensureCapacity(gatesCapacity, sizes.gates, "gates") }
    try handle.model.record(input, layer: Int(layer), hidden: hidden, cell: cell, gates: gates)
  }
}
