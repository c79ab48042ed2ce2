import CSeqRNNKernels

/// The arithmetic of a model's matrix products.
///
/// `float32` is the default and matches PyTorch to about 1e-6. `bfloat16`
/// is an explicit opt-in for speed on CPUs with AMX (Intel Xeon 4th
/// generation and later): every matrix product (input projections, the
/// recurrent step, the output head and their gradients) rounds its two
/// inputs to bfloat16 and sums in float32 on the tile unit. Weights,
/// states, cell arithmetic, the loss and the optimizer stay float32, so
/// training keeps float32 master weights (mixed precision); the char-rnn
/// benchmark checks that the training loss stays within 1% of float32's.
/// It is a compute setting of a model object, not saved with it.
public enum Precision: Int32, Sendable, CaseIterable, CustomStringConvertible {
  /// float32 throughout (the default).
  case float32 = 0
  /// bfloat16 products with float32 sums, on AMX.
  case bfloat16 = 1

  /// Whether this machine can run the precision (bfloat16 needs AMX-BF16
  /// and the operating system's permission to use the tile registers).
  public var isAvailable: Bool {
    switch self {
    case .float32: return true
    case .bfloat16: return srnn_bf16_available() != 0
    }
  }

  /// "float32" or "bfloat16".
  public var description: String { self == .float32 ? "float32" : "bfloat16" }
}
