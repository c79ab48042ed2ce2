// Padding id sequences into one batch, and batches of similar lengths (length buckets), which
// save the time a recurrent model spends on padding.

/// Id sequences padded into one batch-major array.
public struct PaddedBatch: Equatable, Sendable {
  /// `[batchSize][seqLen]` ids, `padID` past each length.
  public var ids: [Int32]
  /// The kept length of each sequence, in `[1, seqLen]`.
  public var lengths: [Int]
  /// The longest kept length: the time steps of `ids`.
  public var seqLen: Int
}

/// Pads id sequences into one array.
///
/// - Parameters:
///   - sequences: the id sequences (e.g. from `Vocabulary.encode`), each at least one id long
///     (a recurrent model needs a step), ids >= 0.
///   - maxLength: keep at most the first `maxLength` ids of each (nil: all).
///   - padID: the value of the padding (the model never reads it).
/// - Throws: `.shapeMismatch` for no sequences or an empty one, `.outOfRange` for a negative
///   id, `.invalidArgument` for `maxLength < 1` or `padID < 0`.
public func padBatch(_ sequences: [[Int32]], maxLength: Int? = nil, padID: Int32 = 0)
  throws(SeqRNNError) -> PaddedBatch
{
  try padBatch(
    count: sequences.count, length: { sequences[$0].count }, maxLength: maxLength, padID: padID
  ) { i, out in
    // `out` is a slice of the batch: its indices start at the row's offset.
    for (t, k) in out.indices.enumerated() { out[k] = sequences[i][t] }
  }
}

/// `padBatch` over sequences given by their lengths and a copier (the C API's pointers).
/// `copy(i, row)` writes the first `row.count` ids of sequence `i` into `row`.
package func padBatch(
  count: Int, length: (Int) -> Int, maxLength: Int?, padID: Int32,
  copy: (Int, inout ArraySlice<Int32>) -> Void
) throws(SeqRNNError) -> PaddedBatch {
  guard count > 0 else {
    throw .shapeMismatch("sequences: empty list; expected at least one sequence")
  }
  if let maxLength, maxLength < 1 {
    throw .invalidArgument("max_len must be >= 1 (or none), got \(maxLength)")
  }
  guard padID >= 0 else { throw .invalidArgument("pad_id must be >= 0, got \(padID)") }
  var lengths = [Int](repeating: 0, count: count)
  for i in 0..<count {
    let n = length(i)
    guard n > 0 else {
      throw .shapeMismatch(
        "sequences[\(i)]: empty sequence; every sequence needs at least one id "
          + "(drop it, or give it an <unk>)")
    }
    lengths[i] = maxLength.map { min($0, n) } ?? n
  }
  let seqLen = lengths.max()!
  let (total, overflow) = count.multipliedReportingOverflow(by: seqLen)
  guard !overflow, total <= EngineInput.maxPositions else {
    throw .invalidArgument("sequences: \(count) x \(seqLen) ids are too many for one batch")
  }
  var ids = [Int32](repeating: padID, count: total)
  for i in 0..<count {
    var row = ids[(i * seqLen)..<(i * seqLen + lengths[i])]
    copy(i, &row)
    if let bad = row.firstIndex(where: { $0 < 0 }) {
      throw .outOfRange(
        "sequences[\(i)][\(bad - i * seqLen)] = \(row[bad]): ids must be >= 0")
    }
    ids[(i * seqLen)..<(i * seqLen + lengths[i])] = row
  }
  return PaddedBatch(ids: ids, lengths: lengths, seqLen: seqLen)
}

/// Batches of sequence indices whose members have similar lengths, concatenated: batch `k` is
/// `order[k * batchSize ..< min((k + 1) * batchSize, count)]`.
///
/// With `shuffle` (training) the indices are shuffled, cut into chunks of
/// `chunkBatches * batchSize`, each chunk is sorted by length (stable) and cut into batches,
/// and the batches come in random order, except the one batch that may be smaller than
/// `batchSize`, which comes last. Without `shuffle` (prediction): all indices sorted by length
/// (stable), shortest first. The shuffles depend only on `(seed, epoch)`, so each epoch has
/// its own order, reproducible from the seed.
///
/// - Throws: `.invalidArgument` for no lengths, `batchSize < 1` or `chunkBatches < 1`;
///   `.outOfRange` for a negative length.
public func bucketBatches(
  lengths: [Int], batchSize: Int, shuffle: Bool = true, seed: UInt64 = 0, epoch: UInt64 = 0,
  chunkBatches: Int = 20
) throws(SeqRNNError) -> [Int] {
  guard !lengths.isEmpty else {
    throw .invalidArgument("lengths: expected at least one length")
  }
  guard batchSize >= 1 else { throw .invalidArgument("batch_size must be >= 1, got \(batchSize)") }
  guard chunkBatches >= 1 else {
    throw .invalidArgument("chunk_batches must be >= 1, got \(chunkBatches)")
  }
  if let bad = lengths.firstIndex(where: { $0 < 0 }) {
    throw .outOfRange("lengths[\(bad)] = \(lengths[bad]); lengths must be >= 0")
  }
  let n = lengths.count
  /// Stable sort of indices by length.
  func byLength(_ indices: inout ArraySlice<Int>) {
    let sorted = indices.enumerated().sorted { a, b in
      lengths[a.element] != lengths[b.element]
        ? lengths[a.element] < lengths[b.element] : a.offset < b.offset
    }
    indices.replaceSubrange(indices.indices, with: sorted.map { $0.element })
  }
  var order = Array(0..<n)
  guard shuffle else {
    byLength(&order[...])
    return order
  }
  // One generator per (seed, epoch): mixing the epoch into the seed's first output keeps
  // neighbouring seeds and epochs unrelated.
  var seeder = SeededGenerator(seed: seed)
  var rng = SeededGenerator(seed: seeder.next() ^ (epoch &* 0x9E37_79B9_7F4A_7C15))
  shuffleInPlace(&order[...], &rng)
  let (chunkSize, overflow) = chunkBatches.multipliedReportingOverflow(by: batchSize)
  let chunk = overflow ? n : min(chunkSize, n)
  var start = 0
  while start < n {
    byLength(&order[start..<min(start + chunk, n)])
    start += chunk
  }
  // Batches are consecutive slices; only the very last may be short, and it stays last.
  let full = n / batchSize
  var batchOrder = Array(0..<full)
  shuffleInPlace(&batchOrder[...], &rng)
  var result: [Int] = []
  result.reserveCapacity(n)
  for b in batchOrder { result.append(contentsOf: order[(b * batchSize)..<((b + 1) * batchSize)]) }
  result.append(contentsOf: order[(full * batchSize)...])
  return result
}

/// Fisher-Yates with unbiased bounded draws (rejection), so the order depends only on the
/// generator, never on the standard library's shuffle algorithm.
private func shuffleInPlace(_ a: inout ArraySlice<Int>, _ rng: inout SeededGenerator) {
  let base = a.startIndex
  var i = a.count - 1
  while i > 0 {
    let bound = UInt64(i + 1)
    let limit = UInt64.max - UInt64.max % bound
    var x = rng.next()
    while x >= limit { x = rng.next() }
    a.swapAt(base + i, base + Int(x % bound))
    i -= 1
  }
}
