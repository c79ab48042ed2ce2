import CSeqRNN
import SeqRNN

/// `seqrnn_model_save`.
@c @implementation
public func seqrnn_model_save(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?)
  -> seqrnn_status
{
  guarded("seqrnn_model_save") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let target = String(cString: try required(path, "path"))
    guard !target.isEmpty else { throw .invalidArgument("path is empty") }
    try handle.model.save(to: target)
  }
}

/// `seqrnn_model_load`.
@c @implementation
public func seqrnn_model_load(
  _ path: UnsafePointer<CChar>?, _ outModel: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  outModel?.pointee = nil
  return guarded("seqrnn_model_load") { () throws(SeqRNNError) in
    let source = String(cString: try required(path, "path"))
    let out = try required(outModel, "out_model")
    guard !source.isEmpty else { throw .invalidArgument("path is empty") }
    out.pointee = retainedHandle(ModelHandle(try Model.load(from: source)))
  }
}
