// Vocabulary files: the JSON the Python package has always written, so files move between
// Python, C and Swift:
//   {"format": "seqrnn.vocabulary", "format_version": 1,
//    "words": ["<pad>", "<unk>", ...], "counts": [0, 0, ...] or null,
//    "tokenizer": {"lower": true, "pattern": "..."} or null}

extension Vocabulary {
  /// The `format` member of a vocabulary file.
  public static let fileFormat = "seqrnn.vocabulary"
  /// The newest `format_version` this library reads and the one it writes.
  public static let fileFormatVersion = 1

  /// The vocabulary as the JSON text `save(to:)` writes.
  public func jsonText() -> String {
    var members: [(String, JSONValue)] = [
      ("format", .string(Vocabulary.fileFormat)),
      ("format_version", .number(Double(Vocabulary.fileFormatVersion))),
      ("words", .array(words.map { .string($0) })),
      ("counts", counts.map { .array($0.map { .number(Double($0)) }) } ?? .null),
    ]
    if let tokenizer {
      members.append(
        (
          "tokenizer",
          .object([("lower", .bool(tokenizer.lower)), ("pattern", .string(tokenizer.rule.pattern))])
        ))
    } else {
      members.append(("tokenizer", .null))
    }
    return serializeJSON(.object(members))
  }

  /// The vocabulary of a file's JSON text.
  ///
  /// - Throws: `.badFormat` for text that is not JSON, not a seqrnn vocabulary or has bad
  ///   contents (saying what is wrong), `.unsupportedVersion` for a newer format version.
  public init(jsonText: some Collection<UInt8>) throws(SeqRNNError) {
    let json: JSONValue
    do {
      json = try parseJSON(jsonText)
    } catch {
      throw .badFormat("not a JSON vocabulary: \(error.message) at byte \(error.offset)")
    }
    guard json["format"]?.stringValue == Vocabulary.fileFormat,
      let words = json["words"]?.arrayValue
    else {
      throw .badFormat("not a seqrnn vocabulary (format '\(Vocabulary.fileFormat)')")
    }
    guard let version = json["format_version"]?.intValue else {
      throw .badFormat("vocabulary: format_version must be an integer")
    }
    guard version <= Vocabulary.fileFormatVersion else {
      throw .unsupportedVersion(
        "vocabulary format version \(version) is newer than this seqrnn reads "
          + "(\(Vocabulary.fileFormatVersion))")
    }
    var strings: [String] = []
    strings.reserveCapacity(words.count)
    for (i, word) in words.enumerated() {
      guard let s = word.stringValue else {
        throw .badFormat("vocabulary: bad contents (words[\(i)] is not a string)")
      }
      strings.append(s)
    }
    guard strings.count >= 2, strings[0] == Vocabulary.pad, strings[1] == Vocabulary.unknown
    else {
      throw .badFormat(
        "vocabulary: ids 0 and 1 must be '\(Vocabulary.pad)' and '\(Vocabulary.unknown)'")
    }
    var counts: [Int]? = nil
    if let value = json["counts"], !value.isNull {
      guard let list = value.arrayValue, list.count == strings.count else {
        throw .badFormat("vocabulary: bad contents (counts must be a list, one per word)")
      }
      var parsed: [Int] = []
      parsed.reserveCapacity(list.count)
      for (i, c) in list.enumerated() {
        guard let n = c.intValue, n >= 0 else {
          throw .badFormat("vocabulary: bad contents (counts[\(i)] is not an integer >= 0)")
        }
        parsed.append(n)
      }
      counts = Array(parsed.dropFirst(2))
    }
    var tokenizer: Tokenizer? = nil
    if let value = json["tokenizer"], !value.isNull {
      guard let lower = value["lower"]?.boolValue, let pattern = value["pattern"]?.stringValue,
        value.objectValue?.count == 2
      else {
        throw .badFormat(
          "vocabulary: bad contents (tokenizer must be {\"lower\": bool, \"pattern\": str})")
      }
      tokenizer = Tokenizer(lower: lower, rule: TokenRule(pattern: pattern))
    }
    do {
      try self.init(words: Array(strings.dropFirst(2)), counts: counts, tokenizer: tokenizer)
    } catch {
      throw .badFormat("vocabulary: bad contents (\(error.message))")
    }
  }

  /// Writes the vocabulary (words in id order, counts, tokenizer settings) as UTF-8 JSON; the
  /// file is replaced atomically (a temporary file in the same directory, flushed, renamed).
  ///
  /// - Throws: `.io` naming the failed step and the path.
  public func save(to path: String) throws(SeqRNNError) {
    guard !path.isEmpty else { throw .invalidArgument("path is empty") }
    do {
      try writeFileAtomically(Array(jsonText().utf8), to: path)
    } catch {
      throw error.seqrnnError
    }
  }

  /// Reads a vocabulary written by `save(to:)` or by the Python package.
  ///
  /// - Throws: `.io` for a file that cannot be read, else as `init(jsonText:)` (the messages
  ///   name the path).
  public static func load(from path: String) throws(SeqRNNError) -> Vocabulary {
    guard !path.isEmpty else { throw .invalidArgument("path is empty") }
    let bytes: [UInt8]
    do {
      bytes = try readWholeFile(path)
    } catch {
      throw error.seqrnnError
    }
    do {
      return try Vocabulary(jsonText: bytes)
    } catch .badFormat(let message) {
      throw .badFormat("'\(path)': \(message)")
    } catch {
      throw error
    }
  }
}
