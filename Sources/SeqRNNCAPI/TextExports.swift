import CSeqRNN
import SeqRNN

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a `seqrnn_vocabulary *` points to: the vocabulary plus C copies of its words (which
/// `seqrnn_vocabulary_word` and `_decode` hand out for its lifetime) and of a custom
/// tokenizer pattern.
final class VocabularyHandle {
  let vocabulary: Vocabulary
  let words: [UnsafeMutablePointer<CChar>]
  let pattern: UnsafeMutablePointer<CChar>?

  init(_ vocabulary: Vocabulary) {
    self.vocabulary = vocabulary
    // strdup would stop at a NUL inside a word; copy the bytes.
    words = vocabulary.wordBytes.map { bytes in
      let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
      bytes.withUnsafeBufferPointer { b in
        UnsafeMutableRawPointer(p).copyMemory(from: b.baseAddress!, byteCount: b.count)
      }
      p[bytes.count] = 0
      return p
    }
    if case .custom(let text) = vocabulary.tokenizer?.rule {
      pattern = strdup(text)
    } else {
      pattern = nil
    }
  }

  deinit {
    for word in words { word.deallocate() }
    free(pattern)
  }
}

/// The C parameters of a Swift tokenizer (a custom pattern pointer from `handle`).
private func cTokenizerParams(_ t: Tokenizer, pattern: UnsafePointer<CChar>? = nil)
  -> seqrnn_tokenizer_params
{
  let rule: seqrnn_token_rule
  switch t.rule {
  case .words: rule = SEQRNN_TOKENS_WORDS
  case .whitespace: rule = SEQRNN_TOKENS_WHITESPACE
  case .custom: rule = SEQRNN_TOKENS_CUSTOM
  }
  return seqrnn_tokenizer_params(
    rule: Int32(rule.rawValue), lower: t.lower ? 1 : 0, pattern: pattern)
}

/// The Swift tokenizer of C parameters (NULL = defaults), validated.
private func tokenizerArgument(_ p: UnsafePointer<seqrnn_tokenizer_params>?, _ name: String)
  throws(SeqRNNError) -> Tokenizer
{
  guard let c = p?.pointee else { return Tokenizer() }
  guard c.lower == 0 || c.lower == 1 else {
    throw .invalidArgument("\(name)->lower must be 0 or 1, got \(c.lower)")
  }
  let rule: TokenRule
  switch c.rule {
  case Int32(SEQRNN_TOKENS_WORDS.rawValue): rule = .words
  case Int32(SEQRNN_TOKENS_WHITESPACE.rawValue): rule = .whitespace
  case Int32(SEQRNN_TOKENS_CUSTOM.rawValue):
    guard let pattern = c.pattern else {
      throw .nullArgument("\(name)->pattern is NULL (rule SEQRNN_TOKENS_CUSTOM needs it)")
    }
    let text = try utf8CString(pattern, "\(name)->pattern")
    guard !text.isEmpty else { throw .invalidArgument("\(name)->pattern is empty") }
    // A custom rule spelling a built-in pattern is that rule.
    rule = TokenRule(pattern: text)
  default:
    throw .invalidArgument(
      "\(name)->rule must be SEQRNN_TOKENS_WORDS, _WHITESPACE or _CUSTOM, got \(c.rule)")
  }
  return Tokenizer(lower: c.lower == 1, rule: rule)
}

/// A NUL-terminated argument as a String, refusing invalid UTF-8.
private func utf8CString(_ p: UnsafePointer<CChar>, _ name: String) throws(SeqRNNError) -> String {
  let bytes = UnsafeBufferPointer(
    start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self),
    count: strlen(p))
  if let offset = firstInvalidUTF8(bytes) {
    throw .invalidArgument("\(name) is not valid UTF-8 (at byte \(offset))")
  }
  return String(decoding: bytes, as: UTF8.self)
}

/// The bytes of a text argument: `size` bytes, or up to the NUL when `size < 0`.
private func textBytes(_ p: UnsafePointer<CChar>, _ size: Int64) -> UnsafeBufferPointer<UInt8> {
  let count = size < 0 ? strlen(p) : Int(size)
  return UnsafeBufferPointer(
    start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: count)
}

/// Checks an element count argument: >= 0 (or >= 1 with `positive`).
private func countArgument(_ n: Int64, _ name: String, positive: Bool = false)
  throws(SeqRNNError) -> Int
{
  let low: Int64 = positive ? 1 : 0
  guard n >= low, n <= Int64(Int32.max) else {
    throw .invalidArgument("\(name) must be in [\(low), \(Int32.max)], got \(n)")
  }
  return Int(n)
}

/// `seqrnn_tokenizer_default_params`.
@c @implementation
public func seqrnn_tokenizer_default_params() -> seqrnn_tokenizer_params {
  cTokenizerParams(Tokenizer())
}

/// `seqrnn_tokenize`.
@c @implementation
public func seqrnn_tokenize(
  _ params: UnsafePointer<seqrnn_tokenizer_params>?, _ text: UnsafePointer<CChar>?,
  _ textSize: Int64, _ outChars: UnsafeMutablePointer<CChar>?, _ charsCapacity: Int64,
  _ outOffsets: UnsafeMutablePointer<Int64>?, _ offsetsCapacity: Int64,
  _ outCount: UnsafeMutablePointer<Int64>?, _ outCharsNeeded: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_tokenize") { () throws(SeqRNNError) in
    let tokenizer = try tokenizerArgument(params, "params")
    let input = try required(text, "text")
    let countOut = try required(outCount, "out_count")
    guard charsCapacity >= 0, offsetsCapacity >= 0 else {
      throw .invalidArgument("chars_capacity and offsets_capacity must be >= 0")
    }
    guard outChars != nil || charsCapacity == 0, outOffsets != nil || offsetsCapacity == 0
    else {
      throw .nullArgument("out_chars or out_offsets is NULL with a capacity > 0")
    }
    let (bytes, ranges) = try tokenizer.tokenRanges(utf8: textBytes(input, textSize))
    let needed = ranges.reduce(0) { $0 + $1.count + 1 }
    countOut.pointee = Int64(ranges.count)
    outCharsNeeded?.pointee = Int64(needed)
    if outChars == nil && outOffsets == nil { return }  // the size query
    let chars = try required(outChars, "out_chars")
    let offsets = try required(outOffsets, "out_offsets")
    try ensureCapacity(charsCapacity, needed, "out_chars")
    try ensureCapacity(offsetsCapacity, ranges.count + 1, "out_offsets")
    var at = 0
    bytes.withUnsafeBufferPointer { b in
      let raw = UnsafeMutableRawPointer(chars)
      for (i, r) in ranges.enumerated() {
        offsets[i] = Int64(at)
        raw.advanced(by: at).copyMemory(from: b.baseAddress! + r.lowerBound, byteCount: r.count)
        at += r.count
        chars[at] = 0
        at += 1
      }
    }
    offsets[ranges.count] = Int64(at)
  }
}

/// Hands a vocabulary to C.
private func boxed(_ v: Vocabulary, _ out: UnsafeMutablePointer<OpaquePointer?>) {
  out.pointee = retainedHandle(VocabularyHandle(v))
}

/// `seqrnn_vocabulary_create`.
@c @implementation
public func seqrnn_vocabulary_create(
  _ words: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int64, _ counts: UnsafePointer<Int64>?,
  _ tokenizer: UnsafePointer<seqrnn_tokenizer_params>?,
  _ outVocabulary: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  outVocabulary?.pointee = nil
  return guarded("seqrnn_vocabulary_create") { () throws(SeqRNNError) in
    let out = try required(outVocabulary, "out_vocabulary")
    let n = try countArgument(count, "count")
    let list = n > 0 ? try required(words, "words") : nil
    var utf8Words: [[UInt8]] = []
    utf8Words.reserveCapacity(n)
    for i in 0..<n {
      let word = try required(list![i], "words[\(i)]")
      utf8Words.append(Array(try utf8CString(word, "words[\(i)]").utf8))
    }
    let wordCounts = counts.map { c in (0..<n).map { Int(c[$0]) } }
    let t = tokenizer == nil ? nil : try tokenizerArgument(tokenizer, "tokenizer")
    boxed(try Vocabulary(utf8Words: utf8Words, counts: wordCounts, tokenizer: t), out)
  }
}

/// `seqrnn_vocabulary_build`.
@c @implementation
public func seqrnn_vocabulary_build(
  _ texts: UnsafePointer<UnsafePointer<CChar>?>?, _ sizes: UnsafePointer<Int64>?, _ count: Int64,
  _ minFrequency: Int64, _ maxSize: Int64, _ tokenizer: UnsafePointer<seqrnn_tokenizer_params>?,
  _ outVocabulary: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  outVocabulary?.pointee = nil
  return guarded("seqrnn_vocabulary_build") { () throws(SeqRNNError) in
    let out = try required(outVocabulary, "out_vocabulary")
    let n = try countArgument(count, "count")
    let (frequency, limit) = try buildLimits(minFrequency, maxSize)
    let t = try tokenizerArgument(tokenizer, "tokenizer")
    let list = n > 0 ? try required(texts, "texts") : nil
    var counter = TokenCounter()
    for i in 0..<n {
      let text = try required(list![i], "texts[\(i)]")
      let size = sizes?[i] ?? -1
      guard sizes == nil || size >= 0 else {
        throw .invalidArgument("sizes[\(i)] must be >= 0, got \(size)")
      }
      do throws(SeqRNNError) {
        try counter.addTokens(of: textBytes(text, size), validUTF8: false, tokenizer: t)
      } catch .invalidArgument(let message) {
        throw .invalidArgument("texts[\(i)]: \(message)")
      }
    }
    boxed(try counter.vocabulary(minFrequency: frequency, maxSize: limit, tokenizer: t), out)
  }
}

/// `min_frequency` and `max_size` arguments (0 = no limit).
private func buildLimits(_ minFrequency: Int64, _ maxSize: Int64) throws(SeqRNNError) -> (
  Int, Int?
) {
  guard minFrequency >= 1 else {
    throw .invalidArgument("min_frequency must be >= 1, got \(minFrequency)")
  }
  guard maxSize == 0 || maxSize >= 2 else {
    throw .invalidArgument(
      "max_size must be 0 (no limit) or >= 2 (the two reserved ids count), got \(maxSize)")
  }
  return (
    Int(min(minFrequency, Int64(Int.max))), maxSize == 0 ? nil : Int(min(maxSize, Int64(Int32.max)))
  )
}

/// `seqrnn_vocabulary_build_from_tokens`.
@c @implementation
public func seqrnn_vocabulary_build_from_tokens(
  _ tokens: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int64, _ minFrequency: Int64,
  _ maxSize: Int64, _ tokenizer: UnsafePointer<seqrnn_tokenizer_params>?,
  _ outVocabulary: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  outVocabulary?.pointee = nil
  return guarded("seqrnn_vocabulary_build_from_tokens") { () throws(SeqRNNError) in
    let out = try required(outVocabulary, "out_vocabulary")
    let n = try countArgument(count, "count")
    let (frequency, limit) = try buildLimits(minFrequency, maxSize)
    let t = try tokenizerArgument(tokenizer, "tokenizer")
    let list = n > 0 ? try required(tokens, "tokens") : nil
    var counter = TokenCounter()
    for i in 0..<n {
      let token = try required(list![i], "tokens[\(i)]")
      counter.add(Array(try utf8CString(token, "tokens[\(i)]").utf8))
    }
    boxed(try counter.vocabulary(minFrequency: frequency, maxSize: limit, tokenizer: t), out)
  }
}

/// `seqrnn_vocabulary_free`.
@c @implementation
public func seqrnn_vocabulary_free(_ vocabulary: OpaquePointer?) {
  release(vocabulary, VocabularyHandle.self)
}

/// `seqrnn_vocabulary_size`.
@c @implementation
public func seqrnn_vocabulary_size(
  _ vocabulary: OpaquePointer?, _ outSize: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_vocabulary_size") { () throws(SeqRNNError) in
    let handle = try unbox(vocabulary, VocabularyHandle.self, "vocabulary")
    try required(outSize, "out_size").pointee = Int64(handle.vocabulary.count)
  }
}

/// Checks an id argument against a vocabulary.
private func idArgument(_ id: Int64, _ handle: VocabularyHandle) throws(SeqRNNError) -> Int {
  guard id >= 0, id < Int64(handle.vocabulary.count) else {
    throw .outOfRange("id \(id) is out of range: ids must be in [0, \(handle.vocabulary.count))")
  }
  return Int(id)
}

/// `seqrnn_vocabulary_word`.
@c @implementation
public func seqrnn_vocabulary_word(
  _ vocabulary: OpaquePointer?, _ id: Int64,
  _ outWord: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> seqrnn_status {
  outWord?.pointee = nil
  return guarded("seqrnn_vocabulary_word") { () throws(SeqRNNError) in
    let handle = try unbox(vocabulary, VocabularyHandle.self, "vocabulary")
    let out = try required(outWord, "out_word")
    out.pointee = UnsafePointer(handle.words[try idArgument(id, handle)])
  }
}

/// `seqrnn_vocabulary_id`.
@c @implementation
public func seqrnn_vocabulary_id(
  _ vocabulary: OpaquePointer?, _ word: UnsafePointer<CChar>?,
  _ outID: UnsafeMutablePointer<Int32>?
) -> seqrnn_status {
  guarded("seqrnn_vocabulary_id") { () throws(SeqRNNError) in
    let handle = try unbox(vocabulary, VocabularyHandle.self, "vocabulary")
    let w = try required(word, "word")
    let out = try required(outID, "out_id")
    out.pointee = handle.vocabulary.id(utf8: textBytes(w, -1))
  }
}

/// `seqrnn_vocabulary_count`.
@c @implementation
public func seqrnn_vocabulary_count(
  _ vocabulary: OpaquePointer?, _ id: Int64, _ outCount: UnsafeMutablePointer<Int64>?,
  _ outHasCounts: UnsafeMutablePointer<Int32>?
) -> seqrnn_status {
  guarded("seqrnn_vocabulary_count") { () throws(SeqRNNError) in
    let handle = try unbox(vocabulary, VocabularyHandle.self, "vocabulary")
    let out = try required(outCount, "out_count")
    out.pointee = Int64(try handle.vocabulary.count(ofID: try idArgument(id, handle)))
    outHasCounts?.pointee = handle.vocabulary.counts == nil ? 0 : 1
  }
}

/// `seqrnn_vocabulary_get_tokenizer`.
@c @implementation
public func seqrnn_vocabulary_get_tokenizer(
  _ vocabulary: OpaquePointer?, _ outHasTokenizer: UnsafeMutablePointer<Int32>?,
  _ outParams: UnsafeMutablePointer<seqrnn_tokenizer_params>?
) -> seqrnn_status {
  guarded("seqrnn_vocabulary_get_tokenizer") { () throws(SeqRNNError) in
    let handle = try unbox(vocabulary, VocabularyHandle.self, "vocabulary")
    let has = try required(outHasTokenizer, "out_has_tokenizer")
    let params = try required(outParams, "out_params")
    has.pointee = handle.vocabulary.tokenizer == nil ? 0 : 1
    params.pointee = cTokenizerParams(
      handle.vocabulary.tokenizer ?? Tokenizer(), pattern: UnsafePointer(handle.pattern))
  }
}

/// `seqrnn_vocabulary_encode`.
@c @implementation
public func seqrnn_vocabulary_encode(
  _ vocabulary: OpaquePointer?, _ text: UnsafePointer<CChar>?, _ textSize: Int64,
  _ outIDs: UnsafeMutablePointer<Int32>?, _ capacity: Int64,
  _ outCount: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_vocabulary_encode") { () throws(SeqRNNError) in
    let handle = try unbox(vocabulary, VocabularyHandle.self, "vocabulary")
    let input = try required(text, "text")
    let countOut = try required(outCount, "out_count")
    guard capacity >= 0 else { throw .invalidArgument("capacity must be >= 0, got \(capacity)") }
    guard outIDs != nil || capacity == 0 else {
      throw .nullArgument("out_ids is NULL with a capacity > 0")
    }
    let ids = try handle.vocabulary.encode(utf8: textBytes(input, textSize), validUTF8: false)
    countOut.pointee = Int64(ids.count)
    guard let out = outIDs else { return }  // the count query
    try ensureCapacity(capacity, ids.count, "out_ids")
    ids.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: ids.count) }
  }
}

/// `seqrnn_vocabulary_encode_tokens`.
@c @implementation
public func seqrnn_vocabulary_encode_tokens(
  _ vocabulary: OpaquePointer?, _ tokens: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int64,
  _ outIDs: UnsafeMutablePointer<Int32>?
) -> seqrnn_status {
  guarded("seqrnn_vocabulary_encode_tokens") { () throws(SeqRNNError) in
    let handle = try unbox(vocabulary, VocabularyHandle.self, "vocabulary")
    guard count >= 0 else { throw .invalidArgument("count must be >= 0, got \(count)") }
    if count == 0 { return }
    let list = try required(tokens, "tokens")
    let out = try required(outIDs, "out_ids")
    var ids = [Int32](repeating: 0, count: Int(count))
    for i in 0..<Int(count) {
      let token = try required(list[i], "tokens[\(i)]")
      ids[i] = handle.vocabulary.id(utf8: textBytes(token, -1))
    }
    ids.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: ids.count) }
  }
}

/// `seqrnn_vocabulary_decode`.
@c @implementation
public func seqrnn_vocabulary_decode(
  _ vocabulary: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ count: Int64, _ skipPad: Int32,
  _ outWords: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ capacity: Int64,
  _ outCount: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_vocabulary_decode") { () throws(SeqRNNError) in
    let handle = try unbox(vocabulary, VocabularyHandle.self, "vocabulary")
    let countOut = try required(outCount, "out_count")
    guard count >= 0 else { throw .invalidArgument("count must be >= 0, got \(count)") }
    guard skipPad == 0 || skipPad == 1 else {
      throw .invalidArgument("skip_pad must be 0 or 1, got \(skipPad)")
    }
    let n = Int(count)
    let input = n > 0 ? try required(ids, "ids") : nil
    let size = handle.vocabulary.count
    var kept: [Int] = []
    kept.reserveCapacity(n)
    for i in 0..<n {
      let id = Int(input![i])
      guard id >= 0 && id < size else {
        throw .outOfRange("ids[\(i)] = \(id) is out of range: ids must be in [0, \(size))")
      }
      if !(skipPad == 1 && id == 0) { kept.append(id) }
    }
    countOut.pointee = Int64(kept.count)
    if kept.isEmpty { return }
    let out = try required(outWords, "out_words")
    try ensureCapacity(capacity, kept.count, "out_words")
    for (k, id) in kept.enumerated() { out[k] = UnsafePointer(handle.words[id]) }
  }
}

/// `seqrnn_vocabulary_save`.
@c @implementation
public func seqrnn_vocabulary_save(_ vocabulary: OpaquePointer?, _ path: UnsafePointer<CChar>?)
  -> seqrnn_status
{
  guarded("seqrnn_vocabulary_save") { () throws(SeqRNNError) in
    let handle = try unbox(vocabulary, VocabularyHandle.self, "vocabulary")
    try handle.vocabulary.save(to: String(cString: try required(path, "path")))
  }
}

/// `seqrnn_vocabulary_load`.
@c @implementation
public func seqrnn_vocabulary_load(
  _ path: UnsafePointer<CChar>?, _ outVocabulary: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  outVocabulary?.pointee = nil
  return guarded("seqrnn_vocabulary_load") { () throws(SeqRNNError) in
    let file = String(cString: try required(path, "path"))
    let out = try required(outVocabulary, "out_vocabulary")
    boxed(try Vocabulary.load(from: file), out)
  }
}

/// `seqrnn_vocabulary_to_json`.
@c @implementation
public func seqrnn_vocabulary_to_json(
  _ vocabulary: OpaquePointer?, _ outText: UnsafeMutablePointer<CChar>?, _ capacity: Int64,
  _ outNeeded: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_vocabulary_to_json") { () throws(SeqRNNError) in
    let handle = try unbox(vocabulary, VocabularyHandle.self, "vocabulary")
    let needed = try required(outNeeded, "out_needed")
    guard capacity >= 0 else { throw .invalidArgument("capacity must be >= 0, got \(capacity)") }
    guard outText != nil || capacity == 0 else {
      throw .nullArgument("out_text is NULL with a capacity > 0")
    }
    let text = Array(handle.vocabulary.jsonText().utf8)
    needed.pointee = Int64(text.count + 1)
    guard let out = outText else { return }  // the size query
    try ensureCapacity(capacity, text.count + 1, "out_text")
    text.withUnsafeBytes {
      UnsafeMutableRawPointer(out).copyMemory(from: $0.baseAddress!, byteCount: $0.count)
    }
    out[text.count] = 0
  }
}

/// `seqrnn_vocabulary_from_json`.
@c @implementation
public func seqrnn_vocabulary_from_json(
  _ text: UnsafePointer<CChar>?, _ textSize: Int64,
  _ outVocabulary: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  outVocabulary?.pointee = nil
  return guarded("seqrnn_vocabulary_from_json") { () throws(SeqRNNError) in
    let input = try required(text, "text")
    let out = try required(outVocabulary, "out_vocabulary")
    boxed(try Vocabulary(jsonText: textBytes(input, textSize)), out)
  }
}

/// `seqrnn_pad_batch`.
@c @implementation
public func seqrnn_pad_batch(
  _ sequences: UnsafePointer<UnsafePointer<Int32>?>?, _ lengths: UnsafePointer<Int64>?,
  _ count: Int64, _ maxLen: Int64, _ padID: Int32, _ outIDs: UnsafeMutablePointer<Int32>?,
  _ capacity: Int64, _ outLengths: UnsafeMutablePointer<Int64>?,
  _ outSeqLen: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_pad_batch") { () throws(SeqRNNError) in
    let seqLenOut = try required(outSeqLen, "out_seq_len")
    guard count >= 1 else {
      throw .shapeMismatch(
        "sequences: empty list (count = \(count)); expected at least one sequence")
    }
    let n = try countArgument(count, "count", positive: true)
    let list = try required(sequences, "sequences")
    let lens = try required(lengths, "lengths")
    guard maxLen >= 0 else {
      throw .invalidArgument("max_len must be >= 0 (0 = all), got \(maxLen)")
    }
    guard capacity >= 0 else { throw .invalidArgument("capacity must be >= 0, got \(capacity)") }
    guard outIDs != nil || capacity == 0 else {
      throw .nullArgument("out_ids is NULL with a capacity > 0")
    }
    var rows: [UnsafePointer<Int32>] = []
    rows.reserveCapacity(n)
    for i in 0..<n {
      guard lens[i] >= 1, lens[i] <= Int64(EngineInput.maxPositions) else {
        throw .shapeMismatch(
          "sequences[\(i)]: empty or too long (lengths[\(i)] = \(lens[i])); every sequence "
            + "needs at least one id (drop it, or give it an <unk>) and at most "
            + "\(EngineInput.maxPositions)")
      }
      rows.append(try required(list[i], "sequences[\(i)]"))
    }
    let cap = maxLen == 0 ? nil : Int(min(maxLen, Int64(EngineInput.maxPositions)))
    // The size first, without reading ids: a size query must not need the buffers.
    var seqLen = 0
    for i in 0..<n { seqLen = max(seqLen, min(cap ?? Int.max, Int(lens[i]))) }
    seqLenOut.pointee = Int64(seqLen)
    guard let out = outIDs else { return }
    let padded = try padBatch(
      count: n, length: { Int(lens[$0]) }, maxLength: cap, padID: padID
    ) { i, row in
      for t in row.indices { row[t] = rows[i][t - row.startIndex] }
    }
    try ensureCapacity(capacity, padded.ids.count, "out_ids")
    padded.ids.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: $0.count) }
    if let outLengths {
      for i in 0..<n { outLengths[i] = Int64(padded.lengths[i]) }
    }
  }
}

/// `seqrnn_bucket_batches`.
@c @implementation
public func seqrnn_bucket_batches(
  _ lengths: UnsafePointer<Int64>?, _ count: Int64, _ batchSize: Int64, _ shuffle: Int32,
  _ seed: UInt64, _ epoch: UInt64, _ chunkBatches: Int64,
  _ outOrder: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_bucket_batches") { () throws(SeqRNNError) in
    let lens = try required(lengths, "lengths")
    let out = try required(outOrder, "out_order")
    let n = try countArgument(count, "count", positive: true)
    guard batchSize >= 1 else {
      throw .invalidArgument("batch_size must be >= 1, got \(batchSize)")
    }
    guard chunkBatches >= 1 else {
      throw .invalidArgument("chunk_batches must be >= 1, got \(chunkBatches)")
    }
    guard shuffle == 0 || shuffle == 1 else {
      throw .invalidArgument("shuffle must be 0 or 1, got \(shuffle)")
    }
    var values = [Int](repeating: 0, count: n)
    for i in 0..<n {
      guard lens[i] >= 0 else {
        throw .outOfRange("lengths[\(i)] = \(lens[i]); lengths must be >= 0")
      }
      values[i] = Int(lens[i])
    }
    let order = try bucketBatches(
      lengths: values, batchSize: Int(min(batchSize, Int64(Int32.max))), shuffle: shuffle == 1,
      seed: seed, epoch: epoch, chunkBatches: Int(min(chunkBatches, Int64(Int32.max))))
    for i in 0..<n { out[i] = Int64(order[i]) }
  }
}
