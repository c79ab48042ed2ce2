import CSeqRNN
import SeqRNN

/// Fills a C tensor description from the model's layout.
private func describe(
  _ handle: ModelHandle, index: Int, into out: UnsafeMutablePointer<seqrnn_tensor_info>
) {
  let info = handle.model.tensorInfos[index]
  var result = seqrnn_tensor_info()
  result.name = UnsafePointer(handle.names[index])
  result.ndim = Int32(info.shape.count)
  withUnsafeMutableBytes(of: &result.shape) { raw in
    let dims = raw.bindMemory(to: Int64.self)
    for i in 0..<dims.count { dims[i] = i < info.shape.count ? Int64(info.shape[i]) : 0 }
  }
  result.count = Int64(info.count)
  out.pointee = result
}

/// `seqrnn_model_tensor_count`.
@c @implementation
public func seqrnn_model_tensor_count(
  _ model: OpaquePointer?, _ outCount: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_model_tensor_count") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    try required(outCount, "out_count").pointee = Int64(handle.names.count)
  }
}

/// `seqrnn_model_tensor_info`.
@c @implementation
public func seqrnn_model_tensor_info(
  _ model: OpaquePointer?, _ index: Int64, _ outInfo: UnsafeMutablePointer<seqrnn_tensor_info>?
) -> seqrnn_status {
  guarded("seqrnn_model_tensor_info") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let out = try required(outInfo, "out_info")
    guard index >= 0, index < Int64(handle.names.count) else {
      throw .outOfRange("index \(index) is outside [0, \(handle.names.count))")
    }
    describe(handle, index: Int(index), into: out)
  }
}

/// `seqrnn_model_find_tensor`.
@c @implementation
public func seqrnn_model_find_tensor(
  _ model: OpaquePointer?, _ name: UnsafePointer<CChar>?,
  _ outInfo: UnsafeMutablePointer<seqrnn_tensor_info>?
) -> seqrnn_status {
  guarded("seqrnn_model_find_tensor") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let key = try nameArgument(name)
    let out = try required(outInfo, "out_info")
    let info = try handle.model.layout.info(named: key)
    describe(handle, index: handle.model.layout.indexByName[info.name]!, into: out)
  }
}

/// `seqrnn_model_get_tensor`.
@c @implementation
public func seqrnn_model_get_tensor(
  _ model: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Float>?,
  _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_model_get_tensor") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let info = try handle.model.layout.info(named: try nameArgument(name))
    let destination = try required(out, "out")
    try ensureCapacity(capacity, info.count, "out")
    destination.update(from: handle.model.parameters.pointer + info.offset, count: info.count)
  }
}

/// `seqrnn_model_set_tensor`.
@c @implementation
public func seqrnn_model_set_tensor(
  _ model: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ data: UnsafePointer<Float>?,
  _ count: Int64
) -> seqrnn_status {
  guarded("seqrnn_model_set_tensor") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let key = try nameArgument(name)
    let values = try required(data, "data")
    let info = try handle.model.layout.info(named: key)
    guard count == Int64(info.count) else {
      throw .shapeMismatch(
        "tensor '\(key)' has shape \(info.shape) (\(info.count) values), got count = \(count)")
    }
    try handle.model.setTensor(named: key, from: values, count: info.count)
  }
}
