import CSeqRNNKernels

extension Engine {
  /// Products smaller than this many multiply-adds stay float32 even in
  /// bfloat16 precision: rounding both operands costs more than it saves.
  static var bf16MinimumWork: Int { 1 << 16 }

  /// `C = alpha * op(A) * op(B) + beta * C` (row-major) in the engine's
  /// precision: bfloat16 on AMX when a float32 engine opted in and the
  /// product is large enough, else `T.gemm` (BLAS).
  @inline(__always)
  func gemm(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: T,
    _ a: UnsafePointer<T>, _ lda: Int, _ b: UnsafePointer<T>, _ ldb: Int,
    _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int
  ) {
    if precision == .bfloat16, T.self == Float.self, m * n * k >= Self.bf16MinimumWork,
      srnn_gemm_bf16(
        transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), Float(alpha), f32(a),
        Int64(lda), f32(b), Int64(ldb), Float(beta), f32(c), Int64(ldc)) != 0
    {
      return
    }
    T.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
  }

  /// A layer direction's weight gradients over `rows` positions:
  /// `dWx += dG^T x X` (`[n][xWidth]`) and `dWh += dG^T x H` (`[n][hWidth]`),
  /// with `dG` `[rows][n]` (row stride `ldg`). In bfloat16 one product
  /// converts `dG` once for both; otherwise two GEMMs.
  func weightGradients(
    rows: Int, n: Int, _ dG: UnsafePointer<T>, ldg: Int,
    x: UnsafePointer<T>, xWidth: Int, into dWx: UnsafeMutablePointer<T>,
    h: UnsafePointer<T>, hWidth: Int, into dWh: UnsafeMutablePointer<T>
  ) {
    if precision == .bfloat16, T.self == Float.self,
      rows * n * min(xWidth, hWidth) >= Self.bf16MinimumWork,
      srnn_gemm_bf16_weight_gradients(
        Int64(rows), Int64(n), f32(dG), Int64(ldg), f32(x), Int64(xWidth), Int64(xWidth),
        f32(dWx), Int64(xWidth), f32(h), Int64(hWidth), Int64(hWidth), f32(dWh), Int64(hWidth), 1)
        != 0
    {
      return
    }
    gemm(true, false, n, xWidth, rows, 1, dG, ldg, x, xWidth, 1, dWx, xWidth)
    gemm(true, false, n, hWidth, rows, 1, dG, ldg, h, hWidth, 1, dWh, hWidth)
  }
}
