/// Tensors by name in a flat float32 parameter vector: the rules `Model` and
/// `Seq2Seq` share (their layouts differ, their checks must not).
enum NamedTensors {
  /// Validated write of one tensor: `count` must be its element count and
  /// every value finite; on error nothing is written.
  static func write(
    _ info: TensorInfo, name: String, from values: UnsafePointer<Float>?, count: Int,
    into parameters: UnsafeMutablePointer<Float>
  ) throws(SeqRNNError) {
    guard count == info.count else {
      throw .shapeMismatch(
        "tensor '\(name)' has shape \(info.shape) (\(info.count) values), got \(count) values")
    }
    guard let values else { throw .nullArgument("data is NULL") }
    for i in 0..<count where !values[i].isFinite {
      throw .nonFinite("value \(i) for tensor '\(name)' is not finite")
    }
    (parameters + info.offset).update(from: values, count: count)
  }

  /// Fills a freshly created model from a file's tensors: each must be one
  /// of `tensors` (found through `indexByName`) with its shape, and none may
  /// be missing. `set` writes one tensor.
  static func load(
    _ decoded: [SafeTensor], path: String, tensors: [TensorInfo], indexByName: [String: Int],
    set: (String, [Float]) throws(SeqRNNError) -> Void
  ) throws(SeqRNNError) {
    var seen = Set<String>()
    for tensor in decoded {
      guard let index = indexByName[tensor.name] else {
        throw .badFormat("\(path): unexpected tensor '\(tensor.name)' for this configuration")
      }
      let info = tensors[index]
      guard tensor.shape == info.shape else {
        throw .badFormat(
          "\(path): tensor '\(tensor.name)' has shape \(tensor.shape), expected \(info.shape)")
      }
      try set(tensor.name, tensor.values)
      seen.insert(tensor.name)
    }
    if let missing = tensors.first(where: { !seen.contains($0.name) }) {
      throw .badFormat("\(path): tensor '\(missing.name)' is missing")
    }
  }
}
