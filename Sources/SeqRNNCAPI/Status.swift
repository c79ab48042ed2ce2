import CSeqRNN
import CSeqRNNSupport
import SeqRNN

/// The status code of each Swift error case.
func statusCode(_ error: SeqRNNError) -> seqrnn_status {
  switch error {
  case .invalidArgument: return SEQRNN_E_INVALID_ARGUMENT
  case .nullArgument: return SEQRNN_E_NULL_ARGUMENT
  case .shapeMismatch: return SEQRNN_E_SHAPE_MISMATCH
  case .outOfRange: return SEQRNN_E_OUT_OF_RANGE
  case .nonFinite: return SEQRNN_E_NON_FINITE
  case .outOfMemory: return SEQRNN_E_OUT_OF_MEMORY
  case .io: return SEQRNN_E_IO
  case .badFormat: return SEQRNN_E_BAD_FORMAT
  case .unsupportedVersion: return SEQRNN_E_UNSUPPORTED_VERSION
  case .bufferTooSmall: return SEQRNN_E_BUFFER_TOO_SMALL
  case .unknownName: return SEQRNN_E_UNKNOWN_NAME
  case .unsupported: return SEQRNN_E_UNSUPPORTED
  case .internalError: return SEQRNN_E_INTERNAL
  }
}

/// Runs the body of an export: errors become a status code plus this
/// thread's last-error message, so no Swift error ever crosses into C.
@inline(__always)
func guarded(_ function: String, _ body: () throws(SeqRNNError) -> Void) -> seqrnn_status {
  do {
    try body()
    return SEQRNN_OK
  } catch {
    srnn_error_set("\(function): \(error.message)")
    return statusCode(error)
  }
}

/// Unwraps a required pointer argument or throws `.nullArgument` naming it.
@inline(__always)
func required<P>(_ pointer: P?, _ name: String) throws(SeqRNNError) -> P {
  guard let pointer else { throw .nullArgument("\(name) is NULL") }
  return pointer
}

/// Checks an output capacity; throws `.bufferTooSmall` naming the buffer.
@inline(__always)
func ensureCapacity(_ capacity: Int64, _ needed: Int, _ name: String) throws(SeqRNNError) {
  guard capacity >= Int64(needed) else {
    throw .bufferTooSmall(
      "\(name) holds \(capacity) elements but \(needed) are needed", needed: needed)
  }
}

/// Reads a NUL-terminated name argument.
func nameArgument(_ name: UnsafePointer<CChar>?) throws(SeqRNNError) -> String {
  String(cString: try required(name, "name"))
}
