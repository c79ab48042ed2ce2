#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A fixed-size, zero-initialised, 64-byte-aligned buffer of scalars.
///
/// The engine works on raw pointers so the hot loops carry no bounds checks
/// or copy-on-write bookkeeping; this class owns such memory and frees it.
package final class FlatBuffer<Element>: @unchecked Sendable {
  /// First element.
  package let pointer: UnsafeMutablePointer<Element>
  /// Number of elements.
  package let count: Int

  /// Allocates `count` elements set to zero (all-zero bytes). Throws
  /// `.outOfMemory` instead of trapping when the memory cannot be had, so
  /// absurd sizes from a caller become an error, not a crash.
  /// `zeroed: false` leaves the contents undefined, for scratch whose every
  /// element is written before it is read (it saves a pass over memory and
  /// the page faults of touching fresh pages twice).
  package init(count: Int, zeroed: Bool = true) throws(SeqRNNError) {
    let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(
      by: MemoryLayout<Element>.stride)
    var raw: UnsafeMutableRawPointer? = nil
    // Linux overcommits: an allocation larger than the machine's memory may
    // "succeed" and then get the process killed when touched. Refuse it here.
    let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) &* Int(sysconf(Int32(_SC_PAGESIZE)))
    guard count >= 0, !overflow, physical <= 0 || bytes < physical,
      posix_memalign(&raw, 64, bytes) == 0, let raw
    else {
      throw .outOfMemory(
        "cannot allocate \(count) elements of \(MemoryLayout<Element>.stride) bytes")
    }
    if zeroed { memset(raw, 0, bytes) }
    self.count = count
    pointer = raw.bindMemory(to: Element.self, capacity: max(count, 1))
  }

  deinit { free(pointer) }

  /// The contents as a buffer pointer.
  package var buffer: UnsafeMutableBufferPointer<Element> {
    UnsafeMutableBufferPointer(start: pointer, count: count)
  }

  /// Sets every element to zero.
  package func zero() {
    UnsafeMutableRawPointer(pointer).initializeMemory(
      as: UInt8.self, repeating: 0, count: count * MemoryLayout<Element>.stride)
  }
}

/// A growable scratch area handed out in slices, reused across calls so the
/// time loop never allocates.
package final class Arena<Element>: @unchecked Sendable {
  private var storage: FlatBuffer<Element>?
  private var used = 0

  /// Creates an empty arena.
  package init() {}

  /// Makes room for `total` elements and forgets earlier slices. Call before
  /// taking slices for a new pass.
  package func reset(capacity total: Int) throws(SeqRNNError) {
    if total > storage?.count ?? -1 {
      storage = nil  // free the old block before asking for a larger one
      storage = try FlatBuffer(count: total, zeroed: false)
    }
    used = 0
  }

  /// A slice of `count` elements whose contents are undefined (every
  /// user writes before reading). Slices are rounded up to 16 elements so
  /// each starts 64-byte aligned for Float.
  package func take(_ count: Int) -> UnsafeMutablePointer<Element> {
    let rounded = (count + 15) & ~15
    precondition(used + rounded <= storage!.count, "Arena too small: planning bug")
    let slice = storage!.pointer + used
    used += rounded
    return slice
  }

  /// Elements a slice of `count` occupies, for planning `reset(capacity:)`.
  package static func footprint(_ count: Int) -> Int { (count + 15) & ~15 }
}

/// Calls `body` with a pointer to `array`'s elements, or nil when there is
/// no array: optional caller buffers handed to pointer-based engine code.
package func withOptionalPointer<E, R>(
  _ array: [E]?, _ body: (UnsafePointer<E>?) throws(SeqRNNError) -> R
) throws(SeqRNNError) -> R {
  guard let array else { return try body(nil) }
  return try array.withUnsafeBufferPointer { (buffer) throws(SeqRNNError) in
    try body(buffer.baseAddress)
  }
}
