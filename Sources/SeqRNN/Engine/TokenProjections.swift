import Synchronization

/// Layer 0's input projection of every token, cached per weights version.
///
/// A token model's first layer computes `W_ih · embedding[token] + biases`
/// for every position, but there are only `vocabSize` distinct results.
/// Once they are in a table, the projection of a batch is a row gather: a
/// streaming step no longer reads `W_ih` of layer 0 (a quarter of a 2x512
/// LSTM's weights), and full sequences skip one of their large GEMMs. The
/// table belongs to one weights version (`Model.weightsVersion`, bumped by
/// every write to the weights) and one precision; any other version builds
/// a new one. Padded positions get the biases alone, as the GEMM path gives
/// them (their input row is zero).
package final class TokenProjections: @unchecked Sendable {
  /// Tables larger than this stay unbuilt (large vocabularies): the GEMM
  /// path is then cheaper than keeping the table in cache.
  static let maximumFloats = 8 << 20

  private struct Entry {
    var version: UInt64
    var precision: Precision
    /// [directions][vocab][G*H], or nil while only a miss was recorded.
    var table: FlatBuffer<Float>?
  }

  private let entry = Mutex<Entry?>(nil)

  package init() {}

  /// The table for `version` and `precision`, built with `build` when
  /// missing and worth it: at once when `rows` (positions in the batch)
  /// reach a quarter of the vocabulary, else on the second call for the same
  /// version (streaming: one position per call, many calls). Nil when the
  /// table is too large or not worth building yet.
  package func table(
    version: UInt64, precision: Precision, floats: Int, rows: Int, vocab: Int,
    build: (UnsafeMutablePointer<Float>) -> Void
  ) -> FlatBuffer<Float>? {
    guard floats <= Self.maximumFloats else { return nil }
    return entry.withLock { (current: inout Entry?) -> FlatBuffer<Float>? in
      if let cached = current, cached.version == version, cached.precision == precision {
        if let table = cached.table { return table }
      } else if rows * 4 < vocab {
        current = Entry(version: version, precision: precision, table: nil)
        return nil
      }
      guard let table = try? FlatBuffer<Float>(count: floats, zeroed: false) else { return nil }
      build(table.pointer)
      current = Entry(version: version, precision: precision, table: table)
      return table
    }
  }
}
