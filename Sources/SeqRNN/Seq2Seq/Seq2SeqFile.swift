/// Seq2seq model files: safetensors with the named tensors (`encoder.*`,
/// `decoder.*`, `attention.*`, `output.*`) and the configuration as JSON in
/// `__metadata__` (`"format": "seqrnn-seq2seq"`, `"format_version": "1"`,
/// `"config"`). Optimizer state is not saved: a loaded model starts a fresh
/// trainer (`Seq2SeqCheckpoint.swift` saves everything training needs).
enum Seq2SeqFile {
  /// The version written; bump when the meaning of a file changes.
  static let formatVersion = 1
  static let format = "seqrnn-seq2seq"

  static func configurationJSON(_ c: Seq2SeqConfiguration) -> JSONValue {
    .object([
      ("cell", .string(c.cell.name)),
      ("source_vocab_size", .number(Double(c.sourceVocabSize))),
      ("target_vocab_size", .number(Double(c.targetVocabSize))),
      ("embedding_size", .number(Double(c.embeddingSize))),
      ("hidden_size", .number(Double(c.hiddenSize))),
      ("num_layers", .number(Double(c.numLayers))),
      ("bidirectional_encoder", .bool(c.bidirectionalEncoder)),
      ("attention", .string(c.attention.name)),
      ("bos_id", .number(Double(c.bosID))),
      ("eos_id", .number(Double(c.eosID))),
      ("dropout", .number(Double(c.dropout))),
      ("recurrent_dropout", .number(Double(c.recurrentDropout))),
      ("init", .string(c.initialization.name)),
      ("seed", .string(String(c.seed))),
    ])
  }

  static func configuration(from json: JSONValue) throws(SeqRNNError) -> Seq2SeqConfiguration {
    func integer(_ key: String) throws(SeqRNNError) -> Int {
      guard let value = json[key]?.intValue else {
        throw .badFormat("config field '\(key)' is missing or not an integer")
      }
      return value
    }
    func named<E: CaseIterable>(_ key: String, _ name: (E) -> String) throws(SeqRNNError) -> E {
      guard let text = json[key]?.stringValue,
        let value = E.allCases.first(where: { name($0) == text })
      else {
        throw .badFormat("config field '\(key)' is missing or not a known value")
      }
      return value
    }
    guard let seedText = json["seed"]?.stringValue, let seed = UInt64(seedText) else {
      throw .badFormat("config field 'seed' is missing or not an unsigned integer string")
    }
    var config = Seq2SeqConfiguration(
      cell: try named("cell", \CellType.name), sourceVocabSize: try integer("source_vocab_size"),
      targetVocabSize: try integer("target_vocab_size"),
      embeddingSize: try integer("embedding_size"), hiddenSize: try integer("hidden_size"),
      numLayers: try integer("num_layers"),
      attention: try named("attention", \AttentionKind.name), bosID: try integer("bos_id"),
      eosID: try integer("eos_id"), seed: seed)
    config.initialization = try named("init", \InitializationScheme.name)
    // Fields added in 0.4 are optional, so earlier files still load.
    if let value = json["bidirectional_encoder"] {
      guard let flag = value.boolValue else {
        throw .badFormat("config field 'bidirectional_encoder' is not a boolean")
      }
      config.bidirectionalEncoder = flag
    }
    config.dropout = try ModelFile.optionalRate(json, "dropout")
    config.recurrentDropout = try ModelFile.optionalRate(json, "recurrent_dropout")
    return config
  }
}

extension Seq2Seq {
  /// Saves the weights and configuration as safetensors at `path`,
  /// atomically (written beside `path`, flushed, renamed over it).
  public func save(to path: String) throws(SeqRNNError) {
    try ModelFileContainer.write(
      layout.tensors, of: parameters.pointer, format: Seq2SeqFile.format,
      formatVersion: Seq2SeqFile.formatVersion,
      config: Seq2SeqFile.configurationJSON(configuration), to: path)
  }

  /// Loads a model saved by `save(to:)`, with fresh trainer state from
  /// `options` and `sampling`. Truncated, corrupt or foreign files, missing
  /// or misshapen tensors and newer format versions are refused.
  public static func load(
    from path: String, options: TrainingOptions = TrainingOptions(),
    sampling: ScheduledSampling = ScheduledSampling()
  ) throws(SeqRNNError) -> Seq2Seq {
    let (tensors, json) = try ModelFileContainer.read(
      path, format: Seq2SeqFile.format, kind: "a seqrnn seq2seq model",
      formatVersion: Seq2SeqFile.formatVersion)
    let config = try Seq2SeqFile.configuration(from: json)
    let model: Seq2Seq
    do {
      model = try Seq2Seq(config, options: options, sampling: sampling)
    } catch {
      if case .outOfMemory = error { throw error }
      throw .badFormat("\(path): invalid configuration: \(error.message)")
    }
    try NamedTensors.load(
      tensors, path: path, tensors: model.layout.tensors,
      indexByName: model.layout.indexByName
    ) { (name, values) throws(SeqRNNError) in try model.setTensor(named: name, values) }
    return model
  }
}
