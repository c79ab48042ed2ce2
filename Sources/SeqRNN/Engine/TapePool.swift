import Synchronization

/// A few reusable forward tapes for a model's concurrent forward calls.
///
/// A model may serve several threads at once, so each call takes its own
/// tape; returning it afterwards lets the next call reuse its memory. At
/// most `capacity` idle tapes are kept (one per core is enough).
final class TapePool: Sendable {
  private let idle = Mutex<[Tape<Float>]>([])
  private let capacity = 2

  /// An idle tape, or a new one.
  func take() -> Tape<Float> {
    idle.withLock { $0.popLast() } ?? Tape()
  }

  /// Returns a tape for reuse (dropped when enough are idle).
  func give(_ tape: Tape<Float>) {
    idle.withLock { tapes in
      if tapes.count < capacity { tapes.append(tape) }
    }
  }
}
