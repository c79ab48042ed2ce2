import CSeqRNNSupport

/// Model files: safetensors with the tensors under their PyTorch names and
/// the configuration as JSON in the header's `__metadata__`:
///
///     "format": "seqrnn", "format_version": "1", "seqrnn_version": "0.1.0",
///     "config": "{\"cell\":\"lstm\",\"input_size\":0,...}"
///
/// A reader refuses files of a newer `format_version` instead of guessing.
enum ModelFile {
  /// The version written; bump when the meaning of a file changes.
  static let formatVersion = 1

  /// The configuration as a JSON object, with enum values by name.
  static func configurationJSON(_ c: ModelConfiguration) -> JSONValue {
    .object([
      ("cell", .string(c.cell.name)),
      ("input_size", .number(Double(c.inputSize))),
      ("vocab_size", .number(Double(c.vocabSize))),
      ("hidden_size", .number(Double(c.hiddenSize))),
      ("num_layers", .number(Double(c.numLayers))),
      ("bidirectional", .bool(c.bidirectional)),
      ("output_size", .number(Double(c.outputSize))),
      ("output_mode", .string(c.outputMode.name)),
      ("loss", .string(c.loss.name)),
      // As a string: a 64-bit seed does not survive a JSON double.
      ("seed", .string(String(c.seed))),
      ("dropout", .number(Double(c.dropout))),
      ("head_dropout", .number(Double(c.headDropout))),
      ("recurrent_dropout", .number(Double(c.recurrentDropout))),
      ("zoneout", .number(Double(c.zoneout))),
      ("init", .string(c.initialization.name)),
      ("forget_bias_one", .bool(c.forgetBiasOne)),
    ])
  }

  /// Reads a configuration written by `configurationJSON`.
  /// A configuration number added after the first file format (a dropout
  /// rate): 0 when the file predates it, `.badFormat` when it is not a number.
  static func optionalRate(_ json: JSONValue, _ key: String) throws(SeqRNNError) -> Float {
    guard let value = json[key] else { return 0 }
    guard let number = value.doubleValue else {
      throw .badFormat("config field '\(key)' is not a number")
    }
    return Float(number)
  }

  static func configuration(from json: JSONValue) throws(SeqRNNError) -> ModelConfiguration {
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
    guard let bidirectional = json["bidirectional"]?.boolValue else {
      throw .badFormat("config field 'bidirectional' is missing or not a boolean")
    }
    guard let seedText = json["seed"]?.stringValue, let seed = UInt64(seedText) else {
      throw .badFormat("config field 'seed' is missing or not an unsigned integer string")
    }
    var config = ModelConfiguration(
      cell: try named("cell", \CellType.name), inputSize: try integer("input_size"),
      vocabSize: try integer("vocab_size"), hiddenSize: try integer("hidden_size"),
      numLayers: try integer("num_layers"), bidirectional: bidirectional,
      outputSize: try integer("output_size"),
      outputMode: try named("output_mode", \OutputMode.name),
      loss: try named("loss", \LossKind.name), seed: seed)
    // Fields added in 0.2 are optional, so files of 0.1 still load.
    config.dropout = try optionalRate(json, "dropout")
    config.headDropout = try optionalRate(json, "head_dropout")
    config.recurrentDropout = try optionalRate(json, "recurrent_dropout")
    config.zoneout = try optionalRate(json, "zoneout")
    if json["init"] != nil {
      config.initialization = try named("init", \InitializationScheme.name)
    }
    if let forget = json["forget_bias_one"] {
      guard let flag = forget.boolValue else {
        throw .badFormat("config field 'forget_bias_one' is not a boolean")
      }
      config.forgetBiasOne = flag
    }
    return config
  }
}

extension Model {
  /// Saves the model as safetensors at `path`, atomically: the file is
  /// written beside `path`, flushed, then renamed over it.
  public func save(to path: String) throws(SeqRNNError) {
    try ModelFileContainer.write(
      layout.tensors, of: parameters.pointer, format: "seqrnn",
      formatVersion: ModelFile.formatVersion,
      config: ModelFile.configurationJSON(configuration), to: path)
  }

  /// Loads a model saved by `save(to:)`. Files that are truncated, corrupt,
  /// of another format, missing tensors or of a newer format version are
  /// refused with a precise error.
  public static func load(from path: String) throws(SeqRNNError) -> Model {
    let (tensors, json) = try ModelFileContainer.read(
      path, format: "seqrnn", kind: "a seqrnn model", formatVersion: ModelFile.formatVersion)
    let config = try ModelFile.configuration(from: json)
    let model: Model
    do {
      model = try Model(config)
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

/// The library version, "MAJOR.MINOR.PATCH", from include/seqrnn.h's macros.
public let seqrnnVersion = String(cString: srnn_version_text())

/// What every seqrnn model file shares (plain models and seq2seq models):
/// safetensors of the named tensors, with the format name, its version, the
/// library version and the configuration (JSON) in `__metadata__`.
enum ModelFileContainer {
  /// Writes `tensors` of `parameters` atomically (beside `path`, flushed,
  /// renamed over it).
  static func write(
    _ tensors: [TensorInfo], of parameters: UnsafePointer<Float>, format: String,
    formatVersion: Int, config: JSONValue, to path: String
  ) throws(SeqRNNError) {
    let named = tensors.map { info in
      SafeTensor(
        name: info.name, shape: info.shape,
        values: Array(UnsafeBufferPointer(start: parameters + info.offset, count: info.count)))
    }
    let metadata = [
      ("format", format),
      ("format_version", String(formatVersion)),
      ("seqrnn_version", seqrnnVersion),
      ("config", serializeJSON(config)),
    ]
    do {
      try writeFileAtomically(encodeSafeTensors(named, metadata: metadata), to: path)
    } catch {
      throw error.seqrnnError
    }
  }

  /// Checks a seqrnn file's metadata: `format` must be `format` (else the
  /// file "is `otherwise`"), and `format_version` at least 1 and at most
  /// `formatVersion` (else `.unsupportedVersion`).
  static func checkFormat(
    _ metadata: [String: String], path: String, format: String, formatVersion: Int,
    otherwise: @autoclosure () -> String
  ) throws(SeqRNNError) {
    guard metadata["format"] == format else { throw .badFormat("\(path) is \(otherwise())") }
    guard let versionText = metadata["format_version"], let version = Int(versionText), version >= 1
    else {
      throw .badFormat("\(path): metadata 'format_version' is missing or invalid")
    }
    guard version <= formatVersion else {
      throw .unsupportedVersion(
        "\(path) has format_version \(version); this seqrnn (\(seqrnnVersion)) reads up to \(formatVersion)"
      )
    }
  }

  /// Reads a file written by `write`: its tensors and configuration, after
  /// checking the format (`kind` names it in errors, e.g. "a seqrnn model")
  /// and that its version is at most `formatVersion`.
  static func read(
    _ path: String, format: String, kind: String, formatVersion: Int
  ) throws(SeqRNNError) -> (tensors: [SafeTensor], config: JSONValue) {
    let decoded: (tensors: [SafeTensor], metadata: [(String, String)])
    do {
      decoded = try decodeSafeTensors(try readWholeFile(path))
    } catch {
      throw error.seqrnnError
    }
    let metadata = Dictionary(decoded.metadata, uniquingKeysWith: { first, _ in first })
    try checkFormat(
      metadata, path: path, format: format, formatVersion: formatVersion,
      otherwise: "a safetensors file but not \(kind) (metadata 'format' is not \"\(format)\")")
    guard let configText = metadata["config"] else {
      throw .badFormat("\(path): metadata 'config' is missing")
    }
    do {
      return (decoded.tensors, try parseJSON(Array(configText.utf8)))
    } catch {
      throw .badFormat("\(path): metadata 'config' is not valid JSON: \(error.message)")
    }
  }
}
