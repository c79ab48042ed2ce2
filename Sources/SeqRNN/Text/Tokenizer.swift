/// How a `Tokenizer` cuts text into tokens.
public enum TokenRule: Equatable, Hashable, Sendable {
  /// Words and punctuation: a run of word characters (letters, digits, `_`), which may
  /// continue after an inner apostrophe (`'` or `’`) or hyphen (`don't`, `well-made`), or any
  /// other single non-space character. Exactly Python's
  /// `re.findall(r"\w+(?:['\u2019-]\w+)*|[^\w\s]", text)` (`Tokenizer.wordPattern`).
  case words
  /// Runs of non-space characters, for text that is already tokenized: Python's `\S+`.
  case whitespace
  /// A regular expression seqrnn does not implement (one a Python program used). A vocabulary
  /// keeps it so that its file round-trips, but tokenizing with it throws `.unsupported`:
  /// split such text yourself and encode the tokens.
  case custom(String)

  /// The rule's pattern as vocabulary files record it (Python's regex syntax).
  public var pattern: String {
    switch self {
    case .words: return Tokenizer.wordPattern
    case .whitespace: return Tokenizer.whitespacePattern
    case .custom(let pattern): return pattern
    }
  }

  /// The rule of a recorded pattern: the built-in rules for their own patterns, else
  /// `.custom`.
  public init(pattern: String) {
    // Compare scalars, not canonically equivalent Strings.
    if pattern.unicodeScalars.elementsEqual(Tokenizer.wordPattern.unicodeScalars) {
      self = .words
    } else if pattern.unicodeScalars.elementsEqual(Tokenizer.whitespacePattern.unicodeScalars) {
      self = .whitespace
    } else {
      self = .custom(pattern)
    }
  }
}

/// Splits text into word and punctuation tokens, optionally lower-cased first, exactly as the
/// Python package's `seqrnn.text.Tokenizer` does (a hand-written scanner over Unicode scalars
/// with Python's `\w`, `\s` and `str.lower()`).
///
/// ```swift
/// let tokenizer = Tokenizer()
/// try tokenizer.tokenize("Don't panic, it's fine!")
/// // ["don't", "panic", ",", "it's", "fine", "!"]
/// ```
public struct Tokenizer: Equatable, Hashable, Sendable {
  /// The pattern of `TokenRule.words` in Python's regex syntax (`seqrnn.text.WORD_PATTERN`).
  public static let wordPattern = "\\w+(?:['\\u2019-]\\w+)*|[^\\w\\s]"
  /// The pattern of `TokenRule.whitespace`.
  public static let whitespacePattern = "\\S+"

  /// Lower-case the text (Python's `str.lower()`) before splitting it.
  public var lower: Bool
  /// How the text is cut.
  public var rule: TokenRule

  /// A tokenizer; by default words and punctuation of lower-cased text.
  public init(lower: Bool = true, rule: TokenRule = .words) {
    self.lower = lower
    self.rule = rule
  }

  /// The tokens of `text`, in order.
  ///
  /// - Throws: `.unsupported` for a `.custom` rule.
  public func tokenize(_ text: String) throws(SeqRNNError) -> [String] {
    let (bytes, ranges) = try Array(text.utf8).withUnsafeBufferPointer {
      (b) throws(SeqRNNError) in try tokenRanges(validUTF8: b)
    }
    return bytes.withUnsafeBufferPointer { b in
      ranges.map { String(decoding: UnsafeBufferPointer(rebasing: b[$0]), as: UTF8.self) }
    }
  }

  /// Tokenizes UTF-8 bytes from outside (a C caller): checks that they are valid UTF-8.
  ///
  /// - Returns: the text the tokens point into (lower-cased when `lower`) and each token's
  ///   byte range in it.
  /// - Throws: `.invalidArgument` for invalid UTF-8 (naming the byte offset), `.unsupported`
  ///   for a `.custom` rule.
  package func tokenRanges(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(SeqRNNError) -> (
    [UInt8], [Range<Int>]
  ) {
    if let offset = firstInvalidUTF8(bytes) {
      throw .invalidArgument("text is not valid UTF-8 (at byte \(offset))")
    }
    return try tokenRanges(validUTF8: bytes)
  }

  /// `tokenRanges(utf8:)` for bytes known to be valid UTF-8.
  package func tokenRanges(validUTF8 bytes: UnsafeBufferPointer<UInt8>) throws(SeqRNNError) -> (
    [UInt8], [Range<Int>]
  ) {
    let text = lower ? pythonLowercasedUTF8(bytes) : Array(bytes)
    let ranges = try text.withUnsafeBufferPointer { (t) throws(SeqRNNError) in
      switch rule {
      case .words: return scanWords(t)
      case .whitespace: return scanNonSpace(t)
      case .custom(let pattern):
        throw SeqRNNError.unsupported(
          "the tokenizer pattern \(quoted(pattern)) is not one seqrnn implements (it splits "
            + "with \(quoted(Tokenizer.wordPattern)) or \(quoted(Tokenizer.whitespacePattern)));"
            + " split the text yourself and encode the tokens")
      }
    }
    return (text, ranges)
  }
}

/// `\w+(?:['\u2019-]\w+)*|[^\w\s]` over valid UTF-8. The regex is greedy and `\w+` is
/// maximal, so a separator joins when, and only when, a word character follows it: no
/// backtracking is ever needed.
private func scanWords(_ t: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
  var ranges: [Range<Int>] = []
  var i = 0
  let n = t.count
  while i < n {
    let (scalar, width) = decodeScalar(t, at: i)
    if isPythonWordScalar(scalar) {
      let start = i
      i += width
      while i < n {
        let (next, w) = decodeScalar(t, at: i)
        if isPythonWordScalar(next) {
          i += w
        } else if next == "'" || next == "\u{2019}" || next == "-", i + w < n,
          isPythonWordScalar(decodeScalar(t, at: i + w).0)
        {
          i += w
        } else {
          break
        }
      }
      ranges.append(start..<i)
    } else {
      if !isPythonSpaceScalar(scalar) { ranges.append(i..<(i + width)) }
      i += width
    }
  }
  return ranges
}

/// `\S+` over valid UTF-8.
private func scanNonSpace(_ t: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
  var ranges: [Range<Int>] = []
  var i = 0
  let n = t.count
  var start = -1
  while i < n {
    let (scalar, width) = decodeScalar(t, at: i)
    if isPythonSpaceScalar(scalar) {
      if start >= 0 { ranges.append(start..<i) }
      start = -1
    } else if start < 0 {
      start = i
    }
    i += width
  }
  if start >= 0 { ranges.append(start..<n) }
  return ranges
}

/// The offset of the first byte that breaks UTF-8 (overlong forms, surrogates and values past
/// U+10FFFF included), or nil when all of `bytes` is valid.
package func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
  var i = 0
  let n = bytes.count
  while i < n {
    let b0 = bytes[i]
    if b0 < 0x80 {
      i += 1
      continue
    }
    let width: Int
    var low: UInt8 = 0x80
    var high: UInt8 = 0xBF
    switch b0 {
    case 0xC2...0xDF: width = 2
    case 0xE0:
      width = 3
      low = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: width = 3
    case 0xED:
      width = 3
      high = 0x9F
    case 0xF0:
      width = 4
      low = 0x90
    case 0xF1...0xF3: width = 4
    case 0xF4:
      width = 4
      high = 0x8F
    default: return i
    }
    guard i + width <= n else { return i }
    guard bytes[i + 1] >= low && bytes[i + 1] <= high else { return i }
    for k in 2..<width where bytes[i + k] & 0xC0 != 0x80 {
      return i
    }
    i += width
  }
  return nil
}

/// A string in single quotes for messages.
package func quoted(_ s: String) -> String { "'\(s)'" }
