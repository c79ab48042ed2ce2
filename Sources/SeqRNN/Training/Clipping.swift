import CSeqRNNKernels

/// Gradient clipping as PyTorch does it, shared by `Trainer` and `Seq2Seq`:
/// by value (`clip_grad_value_`) and then by global norm over `ranges`
/// (`clip_grad_norm_`: scaled by `max_norm / (norm + 1e-6)` when the norm is
/// above `max_norm`). Returns `gradients` itself when nothing is clipped,
/// else `out`, which receives the clipped values over `ranges` (so the
/// unclipped gradients stay readable).
func clipGradients(
  _ gradients: UnsafePointer<Float>, ranges: [Range<Int>], clipValue: Float, clipNorm: Float,
  into out: UnsafeMutablePointer<Float>
) -> UnsafePointer<Float> {
  var source = gradients
  if clipValue > 0 {
    for range in ranges {
      srnn_clamp(
        source + range.lowerBound, Int64(range.count), clipValue, out + range.lowerBound)
    }
    source = UnsafePointer(out)
  }
  if clipNorm > 0 {
    var squares = 0.0
    for range in ranges {
      squares += srnn_sum_squares(source + range.lowerBound, Int64(range.count))
    }
    let norm = squares.squareRoot()
    if norm > Double(clipNorm) {
      let scale = Float(Double(clipNorm) / (norm + 1e-6))
      for range in ranges {
        srnn_scale(source + range.lowerBound, Int64(range.count), scale, out + range.lowerBound)
      }
      source = UnsafePointer(out)
    }
  }
  return source
}
