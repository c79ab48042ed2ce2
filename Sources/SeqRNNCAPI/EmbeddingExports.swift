import CSeqRNN
import SeqRNN

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `seqrnn_model_load_word_vectors`.
@c @implementation
public func seqrnn_model_load_word_vectors(
  _ model: OpaquePointer?, _ path: UnsafePointer<CChar>?,
  _ vocabulary: UnsafePointer<UnsafePointer<CChar>?>?, _ vocabularySize: Int64,
  _ outFound: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  outFound?.pointee = 0
  return guarded("seqrnn_model_load_word_vectors") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let file = String(cString: try required(path, "path"))
    let config = handle.model.configuration
    guard config.usesTokens else {
      throw .unsupported(
        "the model takes float features (input_size \(config.inputSize)), not tokens: it has "
          + "no embedding to load word vectors into")
    }
    guard vocabularySize == Int64(config.vocabSize) else {
      throw .shapeMismatch(
        "vocabulary_size is \(vocabularySize) but the model's vocab_size is \(config.vocabSize)")
    }
    let words = try required(vocabulary, "vocabulary")
    var vocabularyBytes: [[UInt8]] = []
    vocabularyBytes.reserveCapacity(config.vocabSize)
    for i in 0..<config.vocabSize {
      guard let word = words[i] else { throw .nullArgument("vocabulary[\(i)] is NULL") }
      let raw = UnsafeRawPointer(word).assumingMemoryBound(to: UInt8.self)
      vocabularyBytes.append(Array(UnsafeBufferPointer(start: raw, count: strlen(word))))
    }
    let found = try handle.model.loadWordVectors(path: file, vocabularyBytes: vocabularyBytes)
    outFound?.pointee = Int64(found)
  }
}
