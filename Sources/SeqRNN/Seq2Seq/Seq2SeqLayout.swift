/// Where each tensor of an encoder-decoder lives in its flat parameter
/// vector, with PyTorch-like names:
///
///     encoder.embedding.weight [Vs][E]   decoder.embedding.weight [Vt][E]
///     encoder.weight_ih_l{k} ...         decoder.weight_ih_l{k} ...
///     attention.linear_in.weight [H][H]  (general attention only)
///     attention.linear_out.weight [H][2H] (W_c over [c_t; h_t]; with attention)
///     output.weight [Vt][H], output.bias [Vt]
///
/// The vector holds two engine blocks (encoder, decoder), each laid out by
/// `ParameterLayout` for its stack so the unchanged `Engine` runs on it, and
/// then the attention and output tensors. Each engine block ends with the
/// engine's one-output head, which seq2seq never uses: it is zero, has no
/// name, is neither saved nor trained (its gradient is never written).
package struct Seq2SeqLayout: Sendable {
  /// The named tensors, in state_dict order (offsets into the flat vector).
  package let tensors: [TensorInfo]
  /// Position of each name in `tensors`.
  package let indexByName: [String: Int]
  /// Total scalars, including the two unused engine heads.
  package let totalCount: Int
  /// The encoder stack's layout, relative to `encoderBase`.
  package let encoder: ParameterLayout
  /// The decoder stack's layout, relative to `decoderBase`.
  package let decoder: ParameterLayout
  /// Offsets of the two engine blocks.
  package let encoderBase: Int
  package let decoderBase: Int
  /// Offset of `attention.linear_in.weight` (general attention).
  package let attentionIn: Int?
  /// Offset of `attention.linear_out.weight` (with attention).
  package let attentionOut: Int?
  /// Offsets of `output.weight` and `output.bias`.
  package let outputWeight: Int
  package let outputBias: Int

  /// Lays out the tensors of a validated configuration.
  package init(_ config: Seq2SeqConfiguration) {
    encoder = ParameterLayout(config.encoder)
    decoder = ParameterLayout(config.decoder)
    var tensors: [TensorInfo] = []
    func addStack(_ layout: ParameterLayout, base: Int, prefix: String) {
      for t in layout.tensors where !t.name.hasPrefix("head.") {
        let bare = t.name.hasPrefix("rnn.") ? String(t.name.dropFirst(4)) : t.name
        tensors.append(TensorInfo(name: prefix + bare, shape: t.shape, offset: base + t.offset))
      }
    }
    encoderBase = 0
    decoderBase = encoder.totalCount
    addStack(encoder, base: encoderBase, prefix: "encoder.")
    addStack(decoder, base: decoderBase, prefix: "decoder.")
    var offset = decoderBase + decoder.totalCount
    func add(_ name: String, _ shape: [Int]) -> Int {
      let start = offset
      tensors.append(TensorInfo(name: name, shape: shape, offset: start))
      offset += shape.reduce(1, *)
      return start
    }
    let h = config.hiddenSize
    attentionIn =
      config.attention == .general ? add("attention.linear_in.weight", [h, h]) : nil
    attentionOut =
      config.attention == .none ? nil : add("attention.linear_out.weight", [h, 2 * h])
    outputWeight = add("output.weight", [config.targetVocabSize, h])
    outputBias = add("output.bias", [config.targetVocabSize])
    totalCount = offset
    self.tensors = tensors
    var index: [String: Int] = [:]
    for (i, t) in tensors.enumerated() { index[t.name] = i }
    indexByName = index
  }

  /// The tensor called `name`, or `.unknownName` listing the valid names.
  package func info(named name: String) throws(SeqRNNError) -> TensorInfo {
    guard let i = indexByName[name] else {
      let names = tensors.map(\.name).joined(separator: ", ")
      throw .unknownName("no tensor named '\(name)'; this seq2seq model has: \(names)")
    }
    return tensors[i]
  }
}
