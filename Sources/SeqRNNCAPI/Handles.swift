import SeqRNN

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a `seqrnn_model *` points to: the model plus C copies of its tensor
/// names, which `seqrnn_tensor_info.name` hands out for the model's lifetime.
final class ModelHandle {
  let model: Model
  let names: [UnsafeMutablePointer<CChar>]

  init(_ model: Model) {
    self.model = model
    names = model.tensorInfos.map { strdup($0.name)! }
  }

  deinit { for name in names { free(name) } }
}

/// What a `seqrnn_state *` points to.
final class StateHandle {
  let state: StreamingState
  init(_ state: StreamingState) { self.state = state }
}

/// What a `seqrnn_trainer *` points to.
final class TrainerHandle {
  let trainer: Trainer
  init(_ trainer: Trainer) { self.trainer = trainer }
}

/// Hands a new object to C with one retain (released by the `_free`).
func retainedHandle(_ object: AnyObject) -> OpaquePointer {
  OpaquePointer(Unmanaged.passRetained(object).toOpaque())
}

/// The object behind a handle, or `.nullArgument` for NULL.
func unbox<T: AnyObject>(_ handle: OpaquePointer?, _ type: T.Type, _ name: String)
  throws(SeqRNNError) -> T
{
  guard let handle else { throw .nullArgument("\(name) is NULL") }
  return Unmanaged<T>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// Drops C's reference to a handle; NULL is a no-op.
func release<T: AnyObject>(_ handle: OpaquePointer?, _ type: T.Type) {
  guard let handle else { return }
  Unmanaged<T>.fromOpaque(UnsafeRawPointer(handle)).release()
}
