import CSeqRNNSupport

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The scalar types the engine runs in: Float for everything users do,
/// Double so the test suite can check gradients by finite differences with
/// the very same code.
package protocol EngineScalar: BinaryFloatingPoint, Sendable {
  /// `C = alpha * op(A) * op(B) + beta * C`, row-major (BLAS).
  static func gemm(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Self,
    _ a: UnsafePointer<Self>, _ lda: Int, _ b: UnsafePointer<Self>, _ ldb: Int,
    _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
  /// e^x.
  static func exp(_ x: Self) -> Self
  /// Hyperbolic tangent.
  static func tanh(_ x: Self) -> Self
  /// Natural logarithm.
  static func log(_ x: Self) -> Self
}

extension Float: EngineScalar {
  @inline(__always)
  package static func gemm(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
  ) {
    srnn_sgemm(
      transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b,
      Int64(ldb), beta, c, Int64(ldc))
  }
  @inline(__always) package static func exp(_ x: Float) -> Float { expf(x) }
  @inline(__always) package static func tanh(_ x: Float) -> Float { tanhf(x) }
  @inline(__always) package static func log(_ x: Float) -> Float { logf(x) }
}

extension Double: EngineScalar {
  @inline(__always)
  package static func gemm(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Double,
    _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int,
    _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int
  ) {
    srnn_dgemm(
      transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b,
      Int64(ldb), beta, c, Int64(ldc))
  }
  @inline(__always) package static func exp(_ x: Double) -> Double { Glibc.exp(x) }
  @inline(__always) package static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
  @inline(__always) package static func log(_ x: Double) -> Double { Glibc.log(x) }
}

/// Logistic sigmoid, `1 / (1 + e^-x)`; saturates cleanly to 0 and 1.
@inline(__always)
package func sigmoid<T: EngineScalar>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }

/// Describes the BLAS the engine uses (loading it if needed).
public func blasDescription() -> String { String(cString: srnn_blas_info()) }

/// Sets how many threads seqrnn's compute may use (BLAS and its own work), 1...1024.
public func setComputeThreads(_ threads: Int) throws(SeqRNNError) {
  guard threads >= 1, threads <= 1024 else {
    throw .invalidArgument("threads must be in [1, 1024], got \(threads)")
  }
  srnn_blas_set_threads(Int32(threads))
}

/// The compute thread budget (default: the number of online CPUs).
public func computeThreads() -> Int { Int(srnn_thread_budget()) }
