/// The dropout masks of a seq2seq training step: one mask stream for the
/// encoder stack and one for the decoder stack, both from one seed, so a
/// step's masks depend only on that seed and the steps before it.
final class Seq2SeqMasks {
  let encoder: Regularizer
  let decoder: Regularizer

  /// Streams seeded with `seed` (encoder) and `seed + 1` (decoder).
  init(seed: UInt64) {
    encoder = Regularizer(seed: seed)
    decoder = Regularizer(seed: seed &+ 1)
  }

  /// Whether `config` drops anything (both stacks share the rates).
  static func isActive(_ config: Seq2SeqConfiguration) -> Bool {
    Regularizer.isActive(config.encoder)
  }

  /// Draws fresh masks for the batch `pass` holds.
  func prepare<T>(_ config: Seq2SeqConfiguration, for pass: Seq2SeqPass<T>) throws(SeqRNNError) {
    try encoder.prepare(config.encoder, batchSize: pass.batchSize, seqLen: pass.sourceSteps)
    try decoder.prepare(config.decoder, batchSize: pass.batchSize, seqLen: pass.decoderSteps)
  }
}
