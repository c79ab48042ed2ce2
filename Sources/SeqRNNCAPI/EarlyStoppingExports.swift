import CSeqRNN
import SeqRNN

// `seqrnn_early_stopping *` points to an `EarlyStopping` (boxed with one
// retain by `_create`, released by `_free`).

/// `seqrnn_early_stopping_create`.
@c @implementation
public func seqrnn_early_stopping_create(
  _ maximize: Int32, _ patience: Int64, _ minDelta: Double,
  _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  out?.pointee = nil
  return guarded("seqrnn_early_stopping_create") { () throws(SeqRNNError) in
    let destination = try required(out, "out")
    guard maximize == 0 || maximize == 1 else {
      throw .invalidArgument("maximize must be 0 or 1, got \(maximize)")
    }
    guard patience >= 0, patience <= Int64(Int32.max) else {
      throw .invalidArgument("patience must be in [0, 2^31), got \(patience)")
    }
    let tracker = try EarlyStopping(
      mode: maximize == 1 ? .maximize : .minimize, patience: Int(patience), minDelta: minDelta)
    destination.pointee = retainedHandle(tracker)
  }
}

/// `seqrnn_early_stopping_free`.
@c @implementation
public func seqrnn_early_stopping_free(_ earlyStopping: OpaquePointer?) {
  release(earlyStopping, EarlyStopping.self)
}

/// `seqrnn_early_stopping_update`.
@c @implementation
public func seqrnn_early_stopping_update(
  _ es: OpaquePointer?, _ model: OpaquePointer?, _ value: Double,
  _ outStop: UnsafeMutablePointer<Int32>?
) -> seqrnn_status {
  guarded("seqrnn_early_stopping_update") { () throws(SeqRNNError) in
    let tracker = try unbox(es, EarlyStopping.self, "es")
    let handle = try unbox(model, ModelHandle.self, "model")
    let stop = try tracker.update(value, model: handle.model)
    outStop?.pointee = stop ? 1 : 0
  }
}

/// `seqrnn_early_stopping_restore`.
@c @implementation
public func seqrnn_early_stopping_restore(
  _ es: OpaquePointer?, _ model: OpaquePointer?
) -> seqrnn_status {
  guarded("seqrnn_early_stopping_restore") { () throws(SeqRNNError) in
    let tracker = try unbox(es, EarlyStopping.self, "es")
    let handle = try unbox(model, ModelHandle.self, "model")
    try tracker.restore(into: handle.model)
  }
}

/// `seqrnn_early_stopping_best`.
@c @implementation
public func seqrnn_early_stopping_best(
  _ es: OpaquePointer?, _ outValue: UnsafeMutablePointer<Double>?,
  _ outIndex: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_early_stopping_best") { () throws(SeqRNNError) in
    let tracker = try unbox(es, EarlyStopping.self, "es")
    guard let value = tracker.bestValue, let index = tracker.bestIndex else {
      throw .unsupported("no value has been recorded yet")
    }
    outValue?.pointee = value
    outIndex?.pointee = Int64(index)
  }
}
