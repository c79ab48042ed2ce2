/// A batch of source (and, for training and evaluation, target) token
/// sequences, batch-major like the C API.
///
/// Targets hold the output tokens only, without BOS and EOS: the model adds
/// BOS in front of the decoder's inputs and EOS after the last target, so a
/// target of length 0 is allowed (the decoder must then emit EOS at once).
public struct Seq2SeqBatch: Sendable {
  /// Sequences in the batch.
  public var batchSize: Int
  /// Time steps of the source buffer.
  public var sourceSteps: Int
  /// Source token ids `[batch][sourceSteps]`; entries past a length are ignored.
  public var source: [Int32]
  /// Source lengths in `1...sourceSteps`; nil means all `sourceSteps`.
  public var sourceLengths: [Int]?
  /// Time steps of the target buffer (0 when every target is empty).
  public var targetSteps: Int
  /// Target token ids `[batch][targetSteps]`, without BOS/EOS.
  public var target: [Int32]
  /// Target lengths in `0...targetSteps`; nil means all `targetSteps`.
  public var targetLengths: [Int]?

  /// Creates a batch; give targets for training and evaluation.
  public init(
    batchSize: Int, sourceSteps: Int, source: [Int32], sourceLengths: [Int]? = nil,
    targetSteps: Int = 0, target: [Int32] = [], targetLengths: [Int]? = nil
  ) {
    self.batchSize = batchSize
    self.sourceSteps = sourceSteps
    self.source = source
    self.sourceLengths = sourceLengths
    self.targetSteps = targetSteps
    self.target = target
    self.targetLengths = targetLengths
  }

  /// Checks sizes, lengths and token ranges against `config`; the result has
  /// explicit lengths. Targets are checked when `needTargets`.
  package func validated(
    _ config: Seq2SeqConfiguration, needTargets: Bool
  ) throws(SeqRNNError) -> Seq2SeqBatch {
    guard batchSize > 0 else { throw .invalidArgument("batch_size must be > 0, got \(batchSize)") }
    guard sourceSteps > 0 else {
      throw .invalidArgument("source_len must be > 0, got \(sourceSteps)")
    }
    let limit = EngineInput.maxPositions
    let (positions, overflow) = batchSize.multipliedReportingOverflow(by: sourceSteps)
    guard !overflow, positions <= limit else {
      throw .invalidArgument("batch_size * source_len exceeds the limit \(limit)")
    }
    guard source.count == positions else {
      throw .shapeMismatch(
        "source holds \(source.count) ids, expected batch_size * source_len = \(positions)")
    }
    var out = self
    out.sourceLengths = try Self.lengths(
      sourceLengths, batchSize, sourceSteps, minimum: 1, "source_lengths")
    for b in 0..<batchSize {
      for s in 0..<out.sourceLengths![b] {
        let id = source[b * sourceSteps + s]
        guard id >= 0, Int(id) < config.sourceVocabSize else {
          throw .outOfRange(
            "source[\(b)][\(s)] = \(id) is outside [0, source_vocab_size = \(config.sourceVocabSize))"
          )
        }
      }
    }
    guard needTargets else { return out }
    guard targetSteps >= 0 else {
      throw .invalidArgument("target_len must be >= 0, got \(targetSteps)")
    }
    let (targetPositions, targetOverflow) = batchSize.multipliedReportingOverflow(
      by: targetSteps + 1)
    guard !targetOverflow, targetPositions <= limit else {
      throw .invalidArgument("batch_size * (target_len + 1) exceeds the limit \(limit)")
    }
    guard target.count == batchSize * targetSteps else {
      throw .shapeMismatch(
        "target holds \(target.count) ids, expected batch_size * target_len = \(batchSize * targetSteps)"
      )
    }
    out.targetLengths = try Self.lengths(
      targetLengths, batchSize, targetSteps, minimum: 0, "target_lengths")
    for b in 0..<batchSize {
      for s in 0..<out.targetLengths![b] {
        let id = target[b * targetSteps + s]
        guard id >= 0, Int(id) < config.targetVocabSize else {
          throw .outOfRange(
            "target[\(b)][\(s)] = \(id) is outside [0, target_vocab_size = \(config.targetVocabSize))"
          )
        }
      }
    }
    return out
  }

  private static func lengths(
    _ given: [Int]?, _ batch: Int, _ steps: Int, minimum: Int, _ name: String
  ) throws(SeqRNNError) -> [Int] {
    guard let given else { return Array(repeating: steps, count: batch) }
    guard given.count == batch else {
      throw .shapeMismatch("\(name) holds \(given.count) values, expected batch_size = \(batch)")
    }
    for (b, length) in given.enumerated() where length < minimum || length > steps {
      throw .outOfRange("\(name)[\(b)] = \(length) is outside [\(minimum), \(steps)]")
    }
    return given
  }
}
