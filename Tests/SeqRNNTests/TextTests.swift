// The text tools of the Swift API: the tokenizer against sentences split by hand (Python's re
// semantics: Unicode \w and \s, str.lower() with final sigma), vocabularies of small corpora
// checked by hand (order, minFrequency, maxSize, unknown words, scalar rather than canonical
// equality), JSON files (round trips, the Python package's files, every bad file), padding and
// length buckets (every index once, sorted within batches, reproducible from seed and epoch).

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import SeqRNN
import Testing

private let corpus = ["The cat sat on the mat.", "The dog sat, the cat ran!", "A dog's day"]

/// A fresh path in a new temporary directory.
private func temporaryPath(_ name: String) -> String {
  var template = Array("/tmp/seqrnn-text-XXXXXX".utf8CString)
  let dir = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
  precondition(dir != nil)
  return String(cString: dir!) + "/" + name
}

/// Writes `text` to `path`.
private func write(_ text: String, to path: String) {
  let f = fopen(path, "w")!
  fputs(text, f)
  fclose(f)
}

@Suite struct TextTests {
  @Test func tokenizerSplitsWordsAndPunctuation() throws {
    let tok = Tokenizer()
    #expect(
      try tok.tokenize("Don't panic, it's fine!") == ["don't", "panic", ",", "it's", "fine", "!"])
    #expect(
      try tok.tokenize("A dog's well-made day... 3.5")
        == ["a", "dog's", "well-made", "day", ".", ".", ".", "3", ".", "5"])
    #expect(
      try tok.tokenize("rock 'n' roll - x O\u{2019}Neil")
        == ["rock", "'", "n", "'", "roll", "-", "x", "o\u{2019}neil"])
    #expect(try tok.tokenize(" \t\n\u{1C}\u{A0}") == [])
    #expect(try Tokenizer(lower: false).tokenize("Hi THERE") == ["Hi", "THERE"])
    #expect(
      try Tokenizer(rule: .whitespace).tokenize("Wo n't  stop .") == ["wo", "n't", "stop", "."])
    // Python's str.lower(): final sigma, and İ growing into i + combining dot (a mark, so
    // not \w: a token of its own).
    #expect(try tok.tokenize("ΟΔΟΣ ΣΟΦΟΣ.") == ["οδος", "σοφος", "."])
    #expect(try tok.tokenize("İz") == ["i", "\u{307}", "z"])
    // Digits of any script and numerics (½, Ⅻ) are \w; an emoji is punctuation.
    #expect(try tok.tokenize("٣٤ ½Ⅻ 😀x") == ["٣٤", "½ⅻ", "😀", "x"])
    #expect(throws: SeqRNNError.self) { try Tokenizer(rule: .custom("[a-z]+")).tokenize("a") }
  }

  @Test func rulesAndPatterns() {
    #expect(TokenRule(pattern: Tokenizer.wordPattern) == .words)
    #expect(TokenRule(pattern: "\\S+") == .whitespace)
    #expect(TokenRule(pattern: "[a-z]+") == .custom("[a-z]+"))
    #expect(TokenRule.words.pattern == "\\w+(?:['\\u2019-]\\w+)*|[^\\w\\s]")
  }

  @Test func vocabularyOrderByFrequencyThenCodePoint() throws {
    let v = try Vocabulary.build(texts: corpus)
    #expect(
      v.words == [
        "<pad>", "<unk>", "the", "cat", "sat", "!", ",", ".", "a", "day", "dog", "dog's", "mat",
        "on", "ran",
      ])
    #expect(v.count == 15)
    #expect(v.count(of: "the") == 4 && v.count(of: "cat") == 2 && v.count(of: "zebra") == 0)
    #expect(v.id("the") == 2 && v.id("zebra") == Vocabulary.unknownID)
    #expect(v.contains("cat") && !v.contains("zebra") && v.contains("<pad>"))
    #expect(try v.word(0) == "<pad>")
    #expect(throws: SeqRNNError.self) { try v.word(15) }
    #expect(try v.count(ofID: 2) == 4)
    #expect(try Vocabulary.build(texts: corpus.reversed()) == v)
    #expect(try Vocabulary.build(texts: corpus, minFrequency: 2).words.count == 5)
    #expect(
      try Vocabulary.build(texts: corpus, maxSize: 4).words == ["<pad>", "<unk>", "the", "cat"])
    // Token lists as they are; reserved words are not counted.
    let t = try Vocabulary.build(tokenLists: [["B", "a"], ["a", "<unk>", "<pad>"]])
    #expect(t.words == ["<pad>", "<unk>", "a", "B"])
    #expect(throws: SeqRNNError.self) { try Vocabulary.build(texts: corpus, minFrequency: 0) }
    #expect(throws: SeqRNNError.self) { try Vocabulary.build(texts: corpus, maxSize: 1) }
  }

  @Test func wordsCompareByScalarsAsInPython() throws {
    // Precomposed and decomposed é are two words (Swift's == would merge them), and
    // they sort by code point: "e\u{301}" < "é".
    let v = try Vocabulary.build(tokenLists: [["\u{E9}", "e\u{301}"]])
    #expect(v.count == 4)
    #expect(v.wordBytes[2] == Array("e\u{301}".utf8))
    #expect(v.id("\u{E9}") == 3 && v.id("e\u{301}") == 2)
    #expect(throws: SeqRNNError.self) { try Vocabulary(words: ["a", "b", "a"]) }
    #expect(throws: SeqRNNError.self) { try Vocabulary(words: ["<unk>"]) }
    #expect(throws: SeqRNNError.self) { try Vocabulary(words: [""]) }
    #expect(throws: SeqRNNError.self) { try Vocabulary(words: ["a"], counts: [1, 2]) }
  }

  @Test func encodeDecode() throws {
    let v = try Vocabulary.build(texts: corpus)
    let ids = try v.encode("The cat ran on the ZEBRA!")
    #expect(ids == [2, 3, 14, 13, 2, 1, 5])
    #expect(try v.decode(ids + [0, 0]) == ["the", "cat", "ran", "on", "the", "<unk>", "!"])
    #expect(try v.decode([2, 0], skipPad: false) == ["the", "<pad>"])
    #expect(v.encode(tokens: ["cat", "Cat"]) == [3, 1])
    #expect(throws: SeqRNNError.self) { try v.decode([2, 15]) }
    #expect(throws: SeqRNNError.self) { try Vocabulary(words: ["a"]).encode("a") }
  }

  @Test func filesRoundTripAndReadPythonFiles() throws {
    let path = temporaryPath("vocab.json")
    let v = try Vocabulary.build(texts: corpus, tokenizer: Tokenizer(lower: false))
    try v.save(to: path)
    let w = try Vocabulary.load(from: path)
    #expect(w == v && w.tokenizer == Tokenizer(lower: false))
    // As Python's json.dumps(..., ensure_ascii=False, indent=0) writes it, custom pattern.
    write(
      "{\n\"format\": \"seqrnn.vocabulary\",\n\"format_version\": 1,\n\"words\": [\n"
        + "\"<pad>\",\n\"<unk>\",\n\"caf\\u00e9\",\n\"na\u{EF}ve\"\n],\n\"counts\": null,\n"
        + "\"tokenizer\": {\n\"lower\": true,\n\"pattern\": \"[a-z]+\"\n}\n}", to: path)
    let p = try Vocabulary.load(from: path)
    #expect(p.words == ["<pad>", "<unk>", "café", "naïve"] && p.counts == nil)
    #expect(p.tokenizer == Tokenizer(rule: .custom("[a-z]+")))
    try p.save(to: path)
    #expect(try Vocabulary.load(from: path) == p)

    let bad: [(String, String)] = [
      ("{not json", "not a JSON vocabulary"),
      ("{\"format\": \"other\", \"words\": []}", "not a seqrnn vocabulary"),
      (
        "{\"format\": \"seqrnn.vocabulary\", \"format_version\": 1, \"words\": [\"a\"]}",
        "ids 0 and 1"
      ),
      (
        "{\"format\": \"seqrnn.vocabulary\", \"format_version\": 1, "
          + "\"words\": [\"<pad>\", \"<unk>\", \"x\", \"x\"]}", "twice"
      ),
    ]
    for (text, message) in bad {
      write(text, to: path)
      do {
        _ = try Vocabulary.load(from: path)
        Issue.record("\(text) loaded")
      } catch {
        guard case .badFormat(let m) = error else {
          Issue.record("\(error)")
          continue
        }
        #expect(m.contains(message), "\(m)")
      }
    }
    write(
      "{\"format\": \"seqrnn.vocabulary\", \"format_version\": 2, \"words\": [\"<pad>\", \"<unk>\"]}",
      to: path)
    #expect(
      throws: SeqRNNError.unsupportedVersion(
        "vocabulary format version 2 is newer than this seqrnn reads (1)")
    ) { try Vocabulary.load(from: path) }
    #expect(throws: SeqRNNError.self) { try Vocabulary.load(from: path + ".missing") }
  }

  @Test func padding() throws {
    let p = try padBatch([[4, 5, 6], [7], [8, 9]])
    #expect(p.ids == [4, 5, 6, 7, 0, 0, 8, 9, 0] && p.lengths == [3, 1, 2] && p.seqLen == 3)
    let q = try padBatch([[4, 5, 6], [7]], maxLength: 2, padID: 3)
    #expect(q.ids == [4, 5, 7, 3] && q.lengths == [2, 1])
    #expect(throws: SeqRNNError.self) { try padBatch([]) }
    #expect(throws: SeqRNNError.self) { try padBatch([[1], []]) }
    #expect(throws: SeqRNNError.self) { try padBatch([[1, -2]]) }
    #expect(throws: SeqRNNError.self) { try padBatch([[1]], maxLength: 0) }
  }

  @Test func buckets() throws {
    var g = SplitMix(seed: 7)
    let lengths = (0..<103).map { _ in 1 + Int(g.next() % 49) }
    let order = try bucketBatches(lengths: lengths, batchSize: 8, seed: 1, chunkBatches: 3)
    #expect(order.sorted() == Array(0..<103))
    for start in stride(from: 0, to: 103, by: 8) {
      let batch = order[start..<min(start + 8, 103)].map { lengths[$0] }
      #expect(batch == batch.sorted())
    }
    #expect(try bucketBatches(lengths: lengths, batchSize: 8, seed: 1, chunkBatches: 3) == order)
    #expect(
      try bucketBatches(lengths: lengths, batchSize: 8, seed: 1, epoch: 1, chunkBatches: 3)
        != order)
    #expect(
      try bucketBatches(lengths: [5, 1, 4, 2, 3, 1], batchSize: 4, shuffle: false) == [
        1, 5, 3, 4, 2, 0,
      ])
    #expect(throws: SeqRNNError.self) { try bucketBatches(lengths: [], batchSize: 4) }
    #expect(throws: SeqRNNError.self) { try bucketBatches(lengths: [1], batchSize: 0) }
    #expect(throws: SeqRNNError.self) { try bucketBatches(lengths: [-1], batchSize: 1) }
  }
}

/// The README's Swift lines for the text tools, verbatim.
@Test func readmeTextExampleRuns() throws {
  let texts = ["A gripping, well-made thriller.", "Dull and far too long."]
  let path = temporaryPath("vocab.json")
  let vocab = try Vocabulary.build(texts: texts, minFrequency: 1, tokenizer: Tokenizer(lower: true))
  let batch = try padBatch(texts.map { try vocab.encode($0) })  // ids, lengths, seqLen
  let order = try bucketBatches(lengths: batch.lengths, batchSize: 2, seed: 0, epoch: 0)
  try vocab.save(to: path)
  #expect(batch.seqLen == 6 && batch.lengths == [6, 6] && order.sorted() == [0, 1])
  #expect(try Vocabulary.load(from: path) == vocab)
}

/// A tiny generator for test data.
private struct SplitMix {
  var x: UInt64
  init(seed: UInt64) { x = seed }
  mutating func next() -> UInt64 {
    x &+= 0x9E37_79B9_7F4A_7C15
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
