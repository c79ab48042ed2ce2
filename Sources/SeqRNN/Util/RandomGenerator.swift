/// A small, fast, seedable generator (xoshiro256**, seeded by SplitMix64).
///
/// The standard library's generator is not seedable; weight initialisation
/// must give the same weights for the same seed on every platform.
package struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

  /// Creates a generator whose sequence depends only on `seed`.
  package init(seed: UInt64) {
    var x = seed
    func splitMix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitMix()
    s1 = splitMix()
    s2 = splitMix()
    s3 = splitMix()
  }

  /// The generator's whole state (for checkpoints).
  package var state: [UInt64] {
    get { [s0, s1, s2, s3] }
    set {
      precondition(newValue.count == 4, "a SeededGenerator state has 4 words")
      (s0, s1, s2, s3) = (newValue[0], newValue[1], newValue[2], newValue[3])
    }
  }

  /// The next 64 random bits.
  package mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << 45) | (s3 >> 19)
    return result
  }

  /// Uniform in [0, 1) with 53 bits of resolution.
  package mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// Uniform in [low, high).
  package mutating func uniform(_ low: Double, _ high: Double) -> Double {
    low + (high - low) * unit()
  }

  /// Standard normal (Box-Muller).
  package mutating func normal() -> Double {
    let u1 = max(unit(), 0x1p-60)
    let u2 = unit()
    return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
  }
}
