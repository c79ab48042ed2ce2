/// Minimum-norm linear least squares in double precision, the solution
/// `numpy.linalg.lstsq(a, b, rcond=None)` gives: `x` minimising
/// `|a x - b|`, and among those the shortest.
///
/// `a` is reduced by Householder QR to its triangular factor `R` (when it
/// has more rows than columns), `R` is diagonalised by one-sided Jacobi
/// rotations (Hestenes), and singular values below
/// `eps * max(rows, columns)` times the largest are dropped, as numpy's
/// default `rcond` does. Both steps are backward stable, so collinear
/// columns and fewer rows than columns are handled (no normal equations,
/// whose condition number is the square of `a`'s).
package enum LeastSquares {
  /// Rotations per pair are repeated in sweeps until the columns are
  /// orthogonal to rounding; a handful of sweeps is typical.
  static let maxSweeps = 80

  /// Solves for `x` `[columns][rhs]` given `a` `[rows][columns]` and `b`
  /// `[rows][rhs]`, row-major, finite. Throws `.internalError` only if the
  /// Jacobi sweeps do not converge.
  package static func solve(
    a: UnsafePointer<Double>, rows m: Int, columns n: Int, b: UnsafePointer<Double>, rhs k: Int
  ) throws(SeqRNNError) -> [Double] {
    // One global factor per side keeps every square and dot product clear
    // of overflow; a scalar factor changes neither the minimiser nor which
    // singular values fall below the relative cutoff.
    var aMax = 0.0
    var bMax = 0.0
    for i in 0..<(m * n) { aMax = max(aMax, abs(a[i])) }
    for i in 0..<(m * k) { bMax = max(bMax, abs(b[i])) }
    if aMax == 0 || bMax == 0 { return [Double](repeating: 0, count: n * k) }

    // Column-major working copies: every step below walks columns.
    var q = [Double](repeating: 0, count: m * n)
    var c = [Double](repeating: 0, count: m * k)
    for i in 0..<m {
      for j in 0..<n { q[j * m + i] = a[i * n + j] / aMax }
      for j in 0..<k { c[j * m + i] = b[i * k + j] / bMax }
    }

    // w: the matrix to diagonalise, r x n column-major, with c's first r
    // rows the matching right-hand sides.
    var w: [Double]
    var rhs: [Double]
    if m > n {
      householder(&q, rows: m, columns: n, rhs: &c, rhsColumns: k)
      w = [Double](repeating: 0, count: n * n)
      for j in 0..<n {
        for i in 0...j { w[j * n + i] = q[j * m + i] }
      }
      rhs = [Double](repeating: 0, count: n * k)
      for j in 0..<k {
        for i in 0..<n { rhs[j * n + i] = c[j * m + i] }
      }
    } else {
      w = q
      rhs = c
    }
    let rowsOfW = m > n ? n : m
    var v = [Double](repeating: 0, count: n * n)
    for j in 0..<n { v[j * n + j] = 1 }
    try jacobi(&w, rows: rowsOfW, columns: n, v: &v)

    // x = sum over kept j of v_j (w_j . rhs) / |w_j|^2  (w_j = s_j u_j).
    var norms = [Double](repeating: 0, count: n)
    for j in 0..<n {
      var s = 0.0
      for i in 0..<rowsOfW { s += w[j * rowsOfW + i] * w[j * rowsOfW + i] }
      norms[j] = s.squareRoot()
    }
    let cutoff = (norms.max() ?? 0) * Double.ulpOfOne * Double(max(m, n))
    var x = [Double](repeating: 0, count: n * k)
    for j in 0..<n where norms[j] > cutoff {
      let s2 = norms[j] * norms[j]
      for col in 0..<k {
        var dot = 0.0
        for i in 0..<rowsOfW { dot += w[j * rowsOfW + i] * rhs[col * rowsOfW + i] }
        let factor = dot / s2
        for p in 0..<n { x[p * k + col] += v[j * n + p] * factor }
      }
    }
    let back = bMax / aMax
    for i in 0..<(n * k) { x[i] *= back }
    return x
  }

  /// Householder QR in place: `q` (`rows x columns`, column-major) becomes
  /// `R` in its upper triangle (below it: rubbish), and `rhs`
  /// (`rows x rhsColumns`) becomes `Q^T rhs`.
  static func householder(
    _ q: inout [Double], rows m: Int, columns n: Int, rhs c: inout [Double], rhsColumns k: Int
  ) {
    var u = [Double](repeating: 0, count: m)
    for j in 0..<n {
      var norm2 = 0.0
      for i in j..<m { norm2 += q[j * m + i] * q[j * m + i] }
      if norm2 == 0 { continue }
      let x0 = q[j * m + j]
      // alpha takes the sign opposite to x0, so u = x - alpha e1 does not
      // cancel.
      let alpha = x0 >= 0 ? -norm2.squareRoot() : norm2.squareRoot()
      for i in j..<m { u[i] = q[j * m + i] }
      u[j] = x0 - alpha
      let uu = norm2 - x0 * x0 + u[j] * u[j]
      // H = I - 2 u u^T / (u^T u) on the remaining columns and on rhs.
      func reflect(_ data: inout [Double], _ column: Int) {
        var dot = 0.0
        for i in j..<m { dot += u[i] * data[column * m + i] }
        let f = 2 * dot / uu
        for i in j..<m { data[column * m + i] -= f * u[i] }
      }
      q[j * m + j] = alpha
      for i in (j + 1)..<m { q[j * m + i] = 0 }
      for col in (j + 1)..<n { reflect(&q, col) }
      for col in 0..<k { reflect(&c, col) }
    }
  }

  /// One-sided Jacobi: rotates pairs of `w`'s columns (and of `v`, which
  /// accumulates the rotations) until all columns are orthogonal; then
  /// `w = U S` and the input equals `w v^T`.
  static func jacobi(_ w: inout [Double], rows r: Int, columns n: Int, v: inout [Double])
    throws(SeqRNNError)
  {
    if n < 2 { return }
    let tolerance = Double.ulpOfOne * Double(max(r, 1))
    for _ in 0..<maxSweeps {
      var rotated = false
      for p in 0..<(n - 1) {
        for q in (p + 1)..<n {
          var alpha = 0.0
          var beta = 0.0
          var gamma = 0.0
          for i in 0..<r {
            let x = w[p * r + i]
            let y = w[q * r + i]
            alpha += x * x
            beta += y * y
            gamma += x * y
          }
          if gamma == 0 || abs(gamma) <= tolerance * (alpha * beta).squareRoot() { continue }
          // The rotation by t = tan(theta) that zeroes the pair's dot
          // product; the smaller root keeps |theta| <= pi/4.
          let zeta = (beta - alpha) / (2 * gamma)
          // sqrt(1 + zeta^2) without overflowing for a huge zeta.
          let root = abs(zeta) > 1e150 ? abs(zeta) : (1 + zeta * zeta).squareRoot()
          let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + root)
          // A rotation too small to change anything ends the work on this
          // pair (a column of negligible norm).
          if t == 0 { continue }
          rotated = true
          let cs = 1 / (1 + t * t).squareRoot()
          let sn = cs * t
          for i in 0..<r {
            let x = w[p * r + i]
            let y = w[q * r + i]
            w[p * r + i] = cs * x - sn * y
            w[q * r + i] = sn * x + cs * y
          }
          for i in 0..<n {
            let x = v[p * n + i]
            let y = v[q * n + i]
            v[p * n + i] = cs * x - sn * y
            v[q * n + i] = sn * x + cs * y
          }
        }
      }
      if !rotated { return }
    }
    throw .internalError(
      "least squares: the Jacobi SVD did not converge in \(maxSweeps) sweeps")
  }
}
