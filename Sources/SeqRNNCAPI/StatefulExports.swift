import CSeqRNN
import SeqRNN

/// `seqrnn_trainer_get_state`: the latest step's final states.
@c @implementation
public func seqrnn_trainer_get_state(
  _ trainer: OpaquePointer?, _ h: UnsafeMutablePointer<Float>?, _ c: UnsafeMutablePointer<Float>?,
  _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_trainer_get_state") { () throws(SeqRNNError) in
    let t = try unbox(trainer, TrainerHandle.self, "trainer").trainer
    let hOut = try required(h, "h")
    let config = t.model.configuration
    if c != nil, config.cell != .lstm {
      throw .unsupported("c must be NULL: the model's cell is \(config.cell.name)")
    }
    let carry = t.carry
    guard carry.batchSize > 0 else {
      throw .unsupported("no training step has run yet, so there are no final states")
    }
    try ensureCapacity(capacity, carry.hidden.count, "h/c (capacity)")
    carry.hidden.withUnsafeBufferPointer { hOut.update(from: $0.baseAddress!, count: $0.count) }
    if let c {
      carry.cell.withUnsafeBufferPointer { c.update(from: $0.baseAddress!, count: $0.count) }
    }
  }
}

/// `seqrnn_trainer_reset_state`: document boundaries in stateful training.
@c @implementation
public func seqrnn_trainer_reset_state(
  _ trainer: OpaquePointer?, _ reset: UnsafePointer<UInt8>?, _ count: Int64
) -> seqrnn_status {
  guarded("seqrnn_trainer_reset_state") { () throws(SeqRNNError) in
    let t = try unbox(trainer, TrainerHandle.self, "trainer").trainer
    let carry = t.carry
    guard let reset else {
      carry.reset(nil, config: t.model.configuration)
      return
    }
    guard count == Int64(carry.batchSize) else {
      throw .shapeMismatch(
        "count = \(count) but the carried states are for batch size \(carry.batchSize)")
    }
    let flags = (0..<Int(count)).map { reset[$0] != 0 }
    carry.reset(flags, config: t.model.configuration)
  }
}
