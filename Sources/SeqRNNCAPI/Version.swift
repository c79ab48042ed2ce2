import CSeqRNN
import CSeqRNNSupport
import SeqRNN

/// `seqrnn_version_number`: the header's SEQRNN_VERSION_NUMBER at build time.
@c @implementation
public func seqrnn_version_number() -> UInt32 {
  UInt32(SEQRNN_VERSION_MAJOR * 10000 + SEQRNN_VERSION_MINOR * 100 + SEQRNN_VERSION_PATCH)
}

/// `seqrnn_version_string`: "MAJOR.MINOR.PATCH".
@c @implementation
public func seqrnn_version_string() -> UnsafePointer<CChar>? { srnn_version_text() }

/// `seqrnn_status_string`: static text for a status code.
@c @implementation
public func seqrnn_status_string(_ status: seqrnn_status) -> UnsafePointer<CChar>? {
  srnn_status_text(Int32(truncatingIfNeeded: status.rawValue))
}

/// `seqrnn_last_error`: this thread's last failure message.
@c @implementation
public func seqrnn_last_error() -> UnsafePointer<CChar>? { srnn_error_get() }

/// `seqrnn_blas_info`: which BLAS runs the matrix products.
@c @implementation
public func seqrnn_blas_info() -> UnsafePointer<CChar>? { srnn_blas_info() }

/// `seqrnn_set_num_threads`: the compute thread budget of the process.
@c @implementation
public func seqrnn_set_num_threads(_ threads: Int32) -> seqrnn_status {
  guarded("seqrnn_set_num_threads") { () throws(SeqRNNError) in
    try setComputeThreads(Int(threads))
  }
}

/// `seqrnn_get_num_threads`.
@c @implementation
public func seqrnn_get_num_threads() -> Int32 { Int32(computeThreads()) }
