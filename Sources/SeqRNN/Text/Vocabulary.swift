/// Words and their ids for token models: id 0 is `<pad>` (what padding holds), id 1 `<unk>`
/// (every word the vocabulary does not know), then the words. Build one from training text
/// with `build(texts:minFrequency:maxSize:tokenizer:)`; files are the Python package's JSON
/// (`seqrnn.text.Vocabulary`), so a vocabulary moves between Python, C and Swift.
///
/// Words are compared by their Unicode scalars (as Python compares `str`), not by Swift's
/// canonical equivalence: "é" and "e\u{301}" are two words, as they are in Python.
///
/// ```swift
/// let vocab = try Vocabulary.build(texts: ["the cat sat", "the dog sat down"])
/// vocab.words                  // ["<pad>", "<unk>", "sat", "the", "cat", "dog", "down"]
/// try vocab.encode("the cat")  // [3, 4]
/// ```
public struct Vocabulary: Equatable, Sendable {
  /// The padding word, id 0.
  public static let pad = "<pad>"
  /// The unknown word, id 1.
  public static let unknown = "<unk>"
  /// The id padding holds.
  public static let padID: Int32 = 0
  /// The id of every unknown word.
  public static let unknownID: Int32 = 1

  /// The word of each id, the reserved ones included.
  public let words: [String]
  /// How often `build` saw the word of each id (0 for the reserved ids), or nil when the
  /// vocabulary was made from a word list without counts.
  public let counts: [Int]?
  /// What `encode(_:)` splits strings with; nil: only token lists can be encoded.
  public let tokenizer: Tokenizer?
  /// The UTF-8 of each id's word (the lookup key: scalar equality, as in Python).
  package let wordBytes: [[UInt8]]
  /// Id of each word's UTF-8.
  private let index: [[UInt8]: Int32]

  /// The largest number of ids (ids are `Int32`).
  public static let maxSize = Int(Int32.max)

  /// A vocabulary of `words` (ids 2, 3, ... in this order; `<pad>` and `<unk>` are added in
  /// front), with optional training `counts` of those words and a tokenizer for `encode(_:)`.
  ///
  /// - Throws: `.invalidArgument` for an empty word, a word given twice (the reserved words
  ///   included) or a negative count; `.shapeMismatch` when `counts` and `words` differ in
  ///   length.
  public init(words: [String], counts: [Int]? = nil, tokenizer: Tokenizer? = nil)
    throws(SeqRNNError)
  {
    try self.init(
      utf8Words: words.map { Array($0.utf8) }, counts: counts, tokenizer: tokenizer)
  }

  /// `init(words:counts:tokenizer:)` from UTF-8 words (valid UTF-8, checked by the caller).
  package init(utf8Words: [[UInt8]], counts: [Int]?, tokenizer: Tokenizer?) throws(SeqRNNError) {
    guard utf8Words.count <= Vocabulary.maxSize - 2 else {
      throw .invalidArgument(
        "words: \(utf8Words.count) words; at most \(Vocabulary.maxSize - 2) fit Int32 ids")
    }
    let all = [Array(Vocabulary.pad.utf8), Array(Vocabulary.unknown.utf8)] + utf8Words
    var index: [[UInt8]: Int32] = [:]
    index.reserveCapacity(all.count)
    for (i, word) in all.enumerated() {
      guard !word.isEmpty else {
        throw .invalidArgument("words[\(i - 2)]: each word must be non-empty, got ''")
      }
      if let first = index.updateValue(Int32(i), forKey: word) {
        throw .invalidArgument(
          "words: '\(String(decoding: word, as: UTF8.self))' appears twice (ids \(first) and "
            + "\(i)); '\(Vocabulary.pad)' and '\(Vocabulary.unknown)' are reserved as ids 0 and 1"
        )
      }
    }
    if let counts {
      guard counts.count == utf8Words.count else {
        throw .shapeMismatch("counts: \(counts.count) counts for \(utf8Words.count) words")
      }
      if let bad = counts.firstIndex(where: { $0 < 0 }) {
        throw .invalidArgument("counts[\(bad)] = \(counts[bad]); counts must be >= 0")
      }
      self.counts = [0, 0] + counts
    } else {
      self.counts = nil
    }
    self.wordBytes = all
    self.words = all.map { String(decoding: $0, as: UTF8.self) }
    self.index = index
    self.tokenizer = tokenizer
  }

  /// Counts the tokens of `texts` (split by `tokenizer`) and keeps the frequent ones.
  ///
  /// Words seen at least `minFrequency` times are kept, at most `maxSize` ids in all (the two
  /// reserved ones included; nil: no limit), the most frequent first and words of equal
  /// frequency in code point order, so the same texts always give the same ids. Build from
  /// the training split only: words seen only in new text then count as unknown.
  ///
  /// - Throws: `.invalidArgument` for `minFrequency < 1` or `maxSize < 2`, `.unsupported` for
  ///   a `.custom` tokenizer rule.
  public static func build(
    texts: [String], minFrequency: Int = 1, maxSize: Int? = nil,
    tokenizer: Tokenizer = Tokenizer()
  ) throws(SeqRNNError) -> Vocabulary {
    var counter = TokenCounter()
    for text in texts {
      try Array(text.utf8).withUnsafeBufferPointer { (b) throws(SeqRNNError) in
        try counter.addTokens(of: b, validUTF8: true, tokenizer: tokenizer)
      }
    }
    return try counter.vocabulary(
      minFrequency: minFrequency, maxSize: maxSize, tokenizer: tokenizer)
  }

  /// `build(texts:...)` from texts that are already token lists (taken as they are: no
  /// lower-casing). `tokenizer` is kept for `encode(_:)`.
  public static func build(
    tokenLists: [[String]], minFrequency: Int = 1, maxSize: Int? = nil,
    tokenizer: Tokenizer? = Tokenizer()
  ) throws(SeqRNNError) -> Vocabulary {
    var counter = TokenCounter()
    for tokens in tokenLists {
      for token in tokens { counter.add(Array(token.utf8)) }
    }
    return try counter.vocabulary(
      minFrequency: minFrequency, maxSize: maxSize, tokenizer: tokenizer)
  }

  // MARK: lookups

  /// The number of ids, reserved ones included: a token model's `vocabSize`.
  public var count: Int { words.count }

  /// Whether `word` has an id of its own (`<pad>` and `<unk>` do).
  public func contains(_ word: String) -> Bool { index[Array(word.utf8)] != nil }

  /// The id of `word`, or `unknownID` when the vocabulary does not hold it.
  public func id(_ word: String) -> Int32 { index[Array(word.utf8)] ?? Vocabulary.unknownID }

  /// The id of a word given as UTF-8 (`unknownID` when unknown).
  package func id(utf8 word: some Collection<UInt8>) -> Int32 {
    index[Array(word)] ?? Vocabulary.unknownID
  }

  /// The word of `id`.
  ///
  /// - Throws: `.outOfRange` unless `0 <= id < count`.
  public func word(_ id: Int) throws(SeqRNNError) -> String {
    try checkID(id, "id")
    return words[id]
  }

  /// How often `build` saw the word of `id` (0 for the reserved ids and when the vocabulary
  /// has no counts).
  ///
  /// - Throws: `.outOfRange` unless `0 <= id < count`.
  public func count(ofID id: Int) throws(SeqRNNError) -> Int {
    try checkID(id, "id")
    return counts?[id] ?? 0
  }

  /// How often `build` saw `word` (0 for unknown and reserved words, or without counts).
  public func count(of word: String) -> Int {
    guard let i = index[Array(word.utf8)] else { return 0 }
    return counts?[Int(i)] ?? 0
  }

  /// Throws `.outOfRange` naming `what` unless `0 <= id < count`.
  private func checkID(_ id: Int, _ what: String) throws(SeqRNNError) {
    guard id >= 0 && id < words.count else {
      throw .outOfRange("\(what) \(id) is out of range: ids must be in [0, \(words.count))")
    }
  }

  // MARK: encoding

  /// The ids of `text`, split by the vocabulary's tokenizer; unknown words get `unknownID`.
  ///
  /// - Throws: `.invalidArgument` when the vocabulary has no tokenizer, `.unsupported` when
  ///   its rule is `.custom`.
  public func encode(_ text: String) throws(SeqRNNError) -> [Int32] {
    try Array(text.utf8).withUnsafeBufferPointer { (b) throws(SeqRNNError) in
      try encode(utf8: b, validUTF8: true)
    }
  }

  /// `encode(_:)` of UTF-8 text; checks the bytes unless `validUTF8`.
  package func encode(utf8 text: UnsafeBufferPointer<UInt8>, validUTF8: Bool)
    throws(SeqRNNError) -> [Int32]
  {
    guard let tokenizer else {
      throw .invalidArgument(
        "this vocabulary has no tokenizer; encode a list of tokens or give it a tokenizer")
    }
    let (bytes, ranges) =
      validUTF8
      ? try tokenizer.tokenRanges(validUTF8: text) : try tokenizer.tokenRanges(utf8: text)
    return ranges.map { id(utf8: bytes[$0]) }
  }

  /// The ids of tokens; unknown words get `unknownID`.
  public func encode(tokens: [String]) -> [Int32] { tokens.map { id($0) } }

  /// The words of `ids`; padding ids are left out when `skipPad`.
  ///
  /// - Throws: `.outOfRange` naming the first id outside `[0, count)`.
  public func decode(_ ids: [Int32], skipPad: Bool = true) throws(SeqRNNError) -> [String] {
    var out: [String] = []
    out.reserveCapacity(ids.count)
    for (i, id) in ids.enumerated() {
      try checkID(Int(id), "ids[\(i)] =")
      if !(skipPad && id == Vocabulary.padID) { out.append(words[Int(id)]) }
    }
    return out
  }

  /// Equal when words (by scalars), counts and tokenizer are.
  public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
    a.wordBytes == b.wordBytes && a.counts == b.counts && a.tokenizer == b.tokenizer
  }
}

/// Token counts of a corpus, keyed by UTF-8 (so scalar equality, as in Python), turned into a
/// `Vocabulary` by frequency.
package struct TokenCounter {
  /// The count of each token seen.
  private var counts: [[UInt8]: Int] = [:]

  /// An empty counter.
  package init() {}

  /// Counts one token.
  package mutating func add(_ token: [UInt8]) { counts[token, default: 0] += 1 }

  /// Counts the tokens of UTF-8 text split by `tokenizer` (the bytes are checked unless
  /// `validUTF8`).
  package mutating func addTokens(
    of text: UnsafeBufferPointer<UInt8>, validUTF8: Bool, tokenizer: Tokenizer
  ) throws(SeqRNNError) {
    let (bytes, ranges) =
      validUTF8
      ? try tokenizer.tokenRanges(validUTF8: text) : try tokenizer.tokenRanges(utf8: text)
    for r in ranges { add(Array(bytes[r])) }
  }

  /// The vocabulary of the tokens seen at least `minFrequency` times, most frequent first,
  /// ties in code point order (UTF-8 byte order is code point order), at most `maxSize` ids.
  package func vocabulary(minFrequency: Int, maxSize: Int?, tokenizer: Tokenizer?)
    throws(SeqRNNError) -> Vocabulary
  {
    guard minFrequency >= 1 else {
      throw .invalidArgument("min_frequency must be >= 1, got \(minFrequency)")
    }
    if let maxSize, maxSize < 2 {
      throw .invalidArgument(
        "max_size must be >= 2 (the two reserved ids count), got \(maxSize)")
    }
    let pad = Array(Vocabulary.pad.utf8)
    let unknown = Array(Vocabulary.unknown.utf8)
    var ranked = counts.filter { $0.value >= minFrequency && $0.key != pad && $0.key != unknown }
      .map { ($0.key, $0.value) }
    ranked.sort { a, b in
      a.1 != b.1 ? a.1 > b.1 : a.0.lexicographicallyPrecedes(b.0)
    }
    if let maxSize, ranked.count > maxSize - 2 { ranked.removeLast(ranked.count - (maxSize - 2)) }
    return try Vocabulary(
      utf8Words: ranked.map { $0.0 }, counts: ranked.map { $0.1 }, tokenizer: tokenizer)
  }
}
