import CSeqRNN
import SeqRNN

/// The Swift precision of a C `seqrnn_precision`, rejecting unknown values.
func precision(_ value: seqrnn_precision) throws(SeqRNNError) -> Precision {
  guard let precision = Precision(rawValue: Int32(bitPattern: value.rawValue)) else {
    throw .invalidArgument("precision = \(value.rawValue) is not a seqrnn_precision (0 or 1)")
  }
  return precision
}

/// `seqrnn_precision_available`.
@c @implementation
public func seqrnn_precision_available(_ value: seqrnn_precision) -> Int32 {
  guard let precision = try? precision(value) else { return 0 }
  return precision.isAvailable ? 1 : 0
}

/// `seqrnn_model_set_precision`.
@c @implementation
public func seqrnn_model_set_precision(
  _ model: OpaquePointer?, _ value: seqrnn_precision
) -> seqrnn_status {
  guarded("seqrnn_model_set_precision") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    try handle.model.setPrecision(try precision(value))
  }
}

/// `seqrnn_model_get_precision`.
@c @implementation
public func seqrnn_model_get_precision(
  _ model: OpaquePointer?, _ out: UnsafeMutablePointer<seqrnn_precision>?
) -> seqrnn_status {
  guarded("seqrnn_model_get_precision") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    try required(out, "out_precision").pointee = seqrnn_precision(
      rawValue: UInt32(bitPattern: handle.model.precision.rawValue))
  }
}
