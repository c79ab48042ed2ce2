import CSeqRNN
import SeqRNN

/// `seqrnn_state_create`.
@c @implementation
public func seqrnn_state_create(
  _ model: OpaquePointer?, _ batchSize: Int64, _ outState: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  outState?.pointee = nil
  return guarded("seqrnn_state_create") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let out = try required(outState, "out_state")
    let b = try positiveSize(batchSize, "batch_size")
    out.pointee = retainedHandle(StateHandle(try StreamingState(model: handle.model, batchSize: b)))
  }
}

/// `seqrnn_state_free`.
@c @implementation
public func seqrnn_state_free(_ state: OpaquePointer?) { release(state, StateHandle.self) }

/// `seqrnn_state_reset`.
@c @implementation
public func seqrnn_state_reset(_ state: OpaquePointer?) -> seqrnn_status {
  guarded("seqrnn_state_reset") { () throws(SeqRNNError) in
    try unbox(state, StateHandle.self, "state").state.reset()
  }
}

/// `seqrnn_state_step`.
@c @implementation
public func seqrnn_state_step(
  _ state: OpaquePointer?, _ features: UnsafePointer<Float>?, _ tokens: UnsafePointer<Int32>?,
  _ outputs: UnsafeMutablePointer<Float>?, _ outputsCapacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_state_step") { () throws(SeqRNNError) in
    let stream = try unbox(state, StateHandle.self, "state").state
    let out = try required(outputs, "outputs")
    let config = stream.model.configuration
    try ensureCapacity(outputsCapacity, stream.batchSize * config.outputSize, "outputs")
    try stream.step(features: features, tokens: tokens, outputs: out)
  }
}

/// `seqrnn_state_get`.
@c @implementation
public func seqrnn_state_get(
  _ state: OpaquePointer?, _ h: UnsafeMutablePointer<Float>?, _ c: UnsafeMutablePointer<Float>?,
  _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_state_get") { () throws(SeqRNNError) in
    let stream = try unbox(state, StateHandle.self, "state").state
    let hOut = try required(h, "h")
    if c != nil, stream.model.configuration.cell != .lstm {
      throw .unsupported(
        "c must be NULL: the model's cell is \(stream.model.configuration.cell.name)")
    }
    try ensureCapacity(capacity, stream.stateCount, "h/c (capacity)")
    stream.hiddenState.withUnsafeBufferPointer {
      hOut.update(from: $0.baseAddress!, count: $0.count)
    }
    if let c, let cells = stream.cellState {
      cells.withUnsafeBufferPointer { c.update(from: $0.baseAddress!, count: $0.count) }
    }
  }
}

/// `seqrnn_state_set`.
@c @implementation
public func seqrnn_state_set(
  _ state: OpaquePointer?, _ h: UnsafePointer<Float>?, _ c: UnsafePointer<Float>?, _ count: Int64
) -> seqrnn_status {
  guarded("seqrnn_state_set") { () throws(SeqRNNError) in
    let stream = try unbox(state, StateHandle.self, "state").state
    let hIn = try required(h, "h")
    guard count == Int64(stream.stateCount) else {
      throw .shapeMismatch(
        "count must be \(stream.stateCount) (layers x batch x hidden), got \(count)")
    }
    try stream.setState(h: hIn, c: c, count: stream.stateCount)
  }
}
