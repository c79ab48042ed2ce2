#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension Model {
  /// Fills rows of `embedding.weight` from a pretrained word-vector text
  /// file and returns how many rows were filled.
  ///
  /// Row `i` receives the vector of `vocabulary[i]`; rows whose word is not
  /// in the file keep their values (an empty string matches no line, so it
  /// marks a row without a word, e.g. padding). Words match byte for byte
  /// (case-sensitive, no Unicode normalisation); when a word occurs twice in
  /// the file its first vector wins.
  ///
  /// The file is GloVe text (`word v1 ... vd` per line) or word2vec text (the
  /// same after a first line `count dim`; a first line of exactly two
  /// unsigned integers is read as that header, and the number of vectors
  /// must then equal `count`). Fields are separated by spaces or tabs;
  /// trailing spaces, `\r\n` line ends, blank lines and a UTF-8 byte-order
  /// mark are accepted. Every line's width is checked, but only the vectors
  /// of vocabulary words are parsed, so a large file loads quickly.
  ///
  /// To keep the pretrained rows fixed during training, freeze the tensor:
  /// `trainer.setFrozen("embedding.weight", true)` (C:
  /// `seqrnn_trainer_set_frozen`; Python: `fit(freeze=("embedding.weight",))`).
  ///
  /// - Throws: `.unsupported` for a feature model (no embedding),
  ///   `.shapeMismatch` when `vocabulary.count` is not `vocabSize` or a
  ///   vector's width (or the word2vec header's `dim`) is not the embedding
  ///   width (naming the word and line), `.io` when the file cannot be read,
  ///   `.badFormat` for a value that is not a number or a wrong vector count
  ///   (naming the line), `.nonFinite` for NaN or infinite values. On error
  ///   the model is unchanged.
  @discardableResult
  public func loadWordVectors(path: String, vocabulary: [String]) throws(SeqRNNError) -> Int {
    try loadWordVectors(path: path, vocabularyBytes: vocabulary.map { Array($0.utf8) })
  }

  /// `loadWordVectors(path:vocabulary:)` with the words as UTF-8 bytes (the
  /// C API's path).
  package func loadWordVectors(
    path: String, vocabularyBytes vocabulary: [[UInt8]]
  ) throws(SeqRNNError) -> Int {
    guard configuration.usesTokens else {
      throw .unsupported(
        "the model takes float features (input_size \(configuration.inputSize)), not tokens: "
          + "it has no embedding to load word vectors into")
    }
    guard vocabulary.count == configuration.vocabSize else {
      throw .shapeMismatch(
        "the vocabulary has \(vocabulary.count) words but the model's vocab_size is "
          + "\(configuration.vocabSize)")
    }
    let info = try layout.info(named: "embedding.weight")
    let width = info.shape[1]
    var staged = try tensor(named: info.name)
    let lookup = WordLookup(vocabulary)
    var filled = [Bool](repeating: false, count: vocabulary.count)
    var found = 0
    var values = [Float](repeating: 0, count: width)

    let reader = try LineReader(path: path)
    var lineNumber = 0
    var header: (count: Int, line: Int)? = nil
    var vectorLines = 0
    while let line = try reader.next() {
      lineNumber += 1
      var bytes = UnsafeBufferPointer(line)
      if lineNumber == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
        bytes = UnsafeBufferPointer(rebasing: bytes[3...])
      }
      let fields = Fields(bytes)
      guard let word = fields.first else { continue }  // blank line
      let fieldCount = fields.count
      if lineNumber == 1, fieldCount == 2, let count = unsignedInteger(word),
        let dim = unsignedInteger(fields.second!)
      {
        guard dim == width else {
          throw .shapeMismatch(
            "\(path):1: the word2vec header says the vectors have \(dim) values, but the "
              + "embedding width is \(width)")
        }
        header = (count, 1)
        continue
      }
      vectorLines += 1
      guard fieldCount - 1 == width else {
        throw .shapeMismatch(
          "\(path):\(lineNumber): the vector of '\(text(word))' has \(fieldCount - 1) values, "
            + "but the embedding width is \(width)")
      }
      let rows = lookup.rows(of: word)
      guard let first = rows.first, !filled[first] else { continue }
      var index = 0
      var valueFields = fields
      valueFields.skipFirst()
      while let field = valueFields.next() {
        guard let value = Float(text(field)) else {
          throw .badFormat(
            "\(path):\(lineNumber): '\(text(field))' (value \(index + 1) of '\(text(word))') "
              + "is not a number")
        }
        guard value.isFinite else {
          throw .nonFinite(
            "\(path):\(lineNumber): value \(index + 1) of '\(text(word))' is \(value)")
        }
        values[index] = value
        index += 1
      }
      for row in rows {
        filled[row] = true
        found += 1
        for k in 0..<width { staged[row * width + k] = values[k] }
      }
    }
    if let header, header.count != vectorLines {
      throw .badFormat(
        "\(path): the word2vec header (line \(header.line)) announces \(header.count) vectors, "
          + "but the file has \(vectorLines)")
    }
    if found > 0 { try setTensor(named: info.name, staged) }
    return found
  }
}

/// Text of a field for messages and number parsing.
private func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
  String(decoding: bytes, as: UTF8.self)
}

/// The value of a field made only of ASCII digits (nil otherwise or on overflow).
private func unsignedInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
  guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
  var value = 0
  for byte in bytes {
    guard byte >= 0x30, byte <= 0x39 else { return nil }
    value = value * 10 + Int(byte - 0x30)
  }
  return value
}

/// The whitespace-separated fields of a line, without allocating.
private struct Fields {
  private let bytes: UnsafeBufferPointer<UInt8>
  private var position = 0

  init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  private static func isSeparator(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0D
  }

  /// The next field, or nil at the end of the line.
  mutating func next() -> UnsafeBufferPointer<UInt8>? {
    while position < bytes.count, Self.isSeparator(bytes[position]) { position += 1 }
    guard position < bytes.count else { return nil }
    let start = position
    while position < bytes.count, !Self.isSeparator(bytes[position]) { position += 1 }
    return UnsafeBufferPointer(rebasing: bytes[start..<position])
  }

  mutating func skipFirst() { _ = next() }

  var first: UnsafeBufferPointer<UInt8>? {
    var copy = self
    return copy.next()
  }

  var second: UnsafeBufferPointer<UInt8>? {
    var copy = self
    _ = copy.next()
    return copy.next()
  }

  var count: Int {
    var copy = self
    var n = 0
    while copy.next() != nil { n += 1 }
    return n
  }
}

/// Vocabulary rows by word, looked up from raw bytes without allocating.
private struct WordLookup {
  private let words: [[UInt8]]
  private var rowsByHash: [UInt64: [Int]] = [:]

  init(_ words: [[UInt8]]) {
    self.words = words
    for (row, word) in words.enumerated() where !word.isEmpty {
      word.withUnsafeBufferPointer { rowsByHash[Self.hash($0), default: []].append(row) }
    }
  }

  /// FNV-1a, 64 bits.
  private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return h
  }

  /// The rows whose word is `bytes` (empty when none).
  func rows(of bytes: UnsafeBufferPointer<UInt8>) -> [Int] {
    guard let candidates = rowsByHash[Self.hash(bytes)] else { return [] }
    return candidates.filter { row in words[row].elementsEqual(bytes) }
  }
}

/// Reads a file line by line through one growing buffer.
private final class LineReader {
  private let fd: Int32
  private let path: String
  private var storage: UnsafeMutablePointer<UInt8>
  private var capacity = 1 << 20
  private var start = 0
  private var end = 0
  private var atEnd = false

  init(path: String) throws(SeqRNNError) {
    var fd: Int32
    repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
    guard fd >= 0 else {
      throw .io("cannot open '\(path)': \(String(cString: strerror(errno)))")
    }
    self.fd = fd
    self.path = path
    storage = .allocate(capacity: capacity)
  }

  deinit {
    _ = close(fd)
    storage.deallocate()
  }

  /// The next line without its `\n`; valid until the next call. Nil at the
  /// end of the file.
  func next() throws(SeqRNNError) -> UnsafeMutableBufferPointer<UInt8>? {
    while true {
      if let newline = memchr(storage + start, 0x0A, end - start) {
        let stop = newline.assumingMemoryBound(to: UInt8.self) - storage
        let line = UnsafeMutableBufferPointer(start: storage + start, count: stop - start)
        start = stop + 1
        return line
      }
      if atEnd {
        guard start < end else { return nil }
        let line = UnsafeMutableBufferPointer(start: storage + start, count: end - start)
        start = end
        return line
      }
      if start > 0 {
        memmove(storage, storage + start, end - start)
        end -= start
        start = 0
      }
      if end == capacity {
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
        larger.update(from: storage, count: end)
        storage.deallocate()
        storage = larger
        capacity *= 2
      }
      var n: Int
      repeat { n = read(fd, storage + end, capacity - end) } while n < 0 && errno == EINTR
      guard n >= 0 else {
        throw .io("cannot read '\(path)': \(String(cString: strerror(errno)))")
      }
      if n == 0 { atEnd = true } else { end += n }
    }
  }
}
