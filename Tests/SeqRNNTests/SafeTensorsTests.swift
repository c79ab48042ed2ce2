// Tests of the safetensors reader/writer and the atomic file writer.

import SeqRNN
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - Helpers

/// A file made of a length prefix, `header` exactly as given (no padding) and `data`.
private func rawFile(header: String, data: [UInt8] = []) -> [UInt8] {
  let headerBytes = Array(header.utf8)
  var out: [UInt8] = []
  let length = UInt64(headerBytes.count)
  for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
  return out + headerBytes + data
}

/// Little-endian bytes of F32 values.
private func f32Bytes(_ values: [Float]) -> [UInt8] {
  values.flatMap { value in
    (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * UInt32($0))) }
  }
}

/// Little-endian bytes of 16-bit words (F16 or BF16 payloads).
private func u16Bytes(_ words: [UInt16]) -> [UInt8] {
  words.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
}

/// The message of the `badFormat` error that decoding `bytes` throws, or nil when it does not
/// throw one.
private func formatError(_ bytes: [UInt8]) -> String? {
  do {
    _ = try decodeSafeTensors(bytes)
    return nil
  } catch {
    if case .badFormat(let message) = error { return message }
    return nil
  }
}

/// The message of the `badFormat` error for a file with the given header and data.
private func formatError(header: String, data: [UInt8] = []) -> String? {
  formatError(rawFile(header: header, data: data))
}

/// Bit patterns, so NaNs and signed zeros compare exactly.
private func bits(_ values: [Float]) -> [UInt32] {
  values.map(\.bitPattern)
}

/// A small file with two tensors and metadata, used by the corruption tests.
private func sampleFile() -> [UInt8] {
  encodeSafeTensors(
    [
      SafeTensor(name: "rnn.weight_ih_l0", shape: [2, 2], values: [1, -2, 0.5, 3]),
      SafeTensor(name: "head.bias", shape: [1], values: [7]),
    ],
    metadata: [("format", "seqrnn")])
}

/// A fresh empty directory under /tmp.
private func makeTemporaryDirectory() throws -> String {
  var template = Array("/tmp/seqrnn-safetensors-test-XXXXXX".utf8CString)
  let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
  try #require(created != nil, "mkdtemp failed")
  return String(cString: created!)
}

/// Names in `directory` other than "." and "..".
private func directoryEntries(_ directory: String) -> [String] {
  guard let dir = opendir(directory) else { return [] }
  defer { closedir(dir) }
  var names: [String] = []
  while let entry = readdir(dir) {
    let name = withUnsafePointer(to: &entry.pointee.d_name) {
      String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
    }
    if name != "." && name != ".." { names.append(name) }
  }
  return names.sorted()
}

/// Removes `directory` and everything in it.
private func removeDirectory(_ directory: String) {
  _ = chmod(directory, 0o755)
  for name in directoryEntries(directory) {
    let path = directory + "/" + name
    if unlink(path) != 0 { removeDirectory(path) }
  }
  _ = rmdir(directory)
}

/// Writes `bytes` to `path` with plain POSIX calls (independent of the code under test).
private func writePlain(_ bytes: [UInt8], to path: String) throws {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode_t(0o644))
  try #require(fd >= 0)
  defer { close(fd) }
  let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
  try #require(written == bytes.count)
}

// MARK: - Encoding and round trips

@Suite("SafeTensors encoding")
struct SafeTensorsEncodingTests {
  @Test("output matches the reference implementation's bytes")
  func referenceBytes() {
    // The same tensor as the upstream Rust crate's serialization test, whose header happens
    // to be exactly 64 bytes (no padding needed).
    let out = encodeSafeTensors(
      [SafeTensor(name: "attn.0", shape: [1, 2, 3], values: [0, 1, 2, 3, 4, 5])], metadata: [])
    let header = #"{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}"#
    #expect(out == rawFile(header: header, data: f32Bytes([0, 1, 2, 3, 4, 5])))
  }

  @Test("empty files and metadata are padded with spaces to 8 bytes")
  func padding() {
    #expect(encodeSafeTensors([], metadata: []) == rawFile(header: "{}      "))
    #expect(
      encodeSafeTensors([], metadata: [("framework", "pt")])
        == rawFile(header: #"{"__metadata__":{"framework":"pt"}}     "#))
    for nameLength in 1...9 {
      let out = encodeSafeTensors(
        [SafeTensor(name: String(repeating: "w", count: nameLength), shape: [1], values: [1])],
        metadata: [])
      let headerLength = Int(out[0]) | Int(out[1]) << 8
      #expect(headerLength % 8 == 0)
      #expect(out.count == 8 + headerLength + 4)
      #expect(
        out[8 + headerLength - 1] == UInt8(ascii: " ")
          || out[8 + headerLength - 1] == UInt8(ascii: "}"))
    }
  }

  @Test("tensors and metadata survive a round trip, in order, bit for bit")
  func roundTrip() throws {
    let special: [Float] = [
      .nan, -.infinity, .infinity, -0.0, 0, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
      -1.5, 3.14159,
    ]
    let tensors = [
      SafeTensor(name: "embedding.weight", shape: [3, 3], values: special),
      SafeTensor(name: "scalar", shape: [], values: [42]),
      SafeTensor(name: "empty", shape: [2, 0], values: []),
      SafeTensor(name: "ünïcode \"quoted\"\n", shape: [2], values: [1, 2]),
      SafeTensor(name: "a.first.in.alphabet", shape: [1, 1, 1, 1], values: [-7]),
    ]
    let metadata = [("config", #"{"cell":"lstm","hidden":4}"#), ("format", "pt"), ("", "∅")]
    let decoded = try decodeSafeTensors(encodeSafeTensors(tensors, metadata: metadata))
    #expect(decoded.tensors.map(\.name) == tensors.map(\.name))
    #expect(decoded.tensors.map(\.shape) == tensors.map(\.shape))
    #expect(decoded.tensors.map { bits($0.values) } == tensors.map { bits($0.values) })
    #expect(decoded.metadata.map(\.0) == metadata.map(\.0))
    #expect(decoded.metadata.map(\.1) == metadata.map(\.1))
  }

  @Test("a larger random model round-trips exactly")
  func largeRoundTrip() throws {
    var rng = SeededRNG(seed: 1)
    let tensors = (0..<6).map { i in
      SafeTensor(
        name: "rnn.weight_hh_l\(i)", shape: [64, 16 * (i + 1)],
        values: (0..<(64 * 16 * (i + 1))).map { _ in Float.random(in: -1...1, using: &rng) })
    }
    let decoded = try decodeSafeTensors(encodeSafeTensors(tensors, metadata: []))
    #expect(decoded.tensors == tensors)
    #expect(decoded.metadata.isEmpty)
  }
}

// MARK: - Decoding files written elsewhere

@Suite("SafeTensors decoding")
struct SafeTensorsDecodingTests {
  @Test("tensors come back in data-offset order, whatever the header order")
  func offsetOrder() throws {
    let header =
      #"{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"#
      + #""__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
    let decoded = try decodeSafeTensors(rawFile(header: header, data: f32Bytes([1, 2])))
    #expect(
      decoded.tensors == [
        SafeTensor(name: "a", shape: [1], values: [1]),
        SafeTensor(name: "b", shape: [1], values: [2]),
      ])
    #expect(decoded.metadata.map(\.0) == ["k"])
    #expect(decoded.metadata.map(\.1) == ["v"])
  }

  @Test("zero-size tensors may share an offset")
  func zeroSize() throws {
    let header =
      #"{"e1":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"#
      + #""x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
      + #""e2":{"dtype":"BF16","shape":[3,0],"data_offsets":[4,4]}}"#
    let decoded = try decodeSafeTensors(rawFile(header: header, data: f32Bytes([9])))
    #expect(decoded.tensors.map(\.name) == ["e1", "x", "e2"])
    #expect(decoded.tensors[1].values == [9])
  }

  @Test("F16, BF16 and F64 data convert to Float")
  func otherDtypes() throws {
    let f64: [UInt8] = [1.5, -0.25].flatMap { (value: Double) in
      (0..<8).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * UInt64($0))) }
    }
    let data = u16Bytes([0x3C00, 0xC000]) + u16Bytes([0x3F80, 0x4049]) + f64
    let header =
      #"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"#
      + #""b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},"#
      + #""d":{"dtype":"F64","shape":[2,1],"data_offsets":[8,24]}}"#
    let decoded = try decodeSafeTensors(rawFile(header: header, data: data))
    #expect(decoded.tensors.map(\.values) == [[1, -2], [1, 3.140625], [1.5, -0.25]])
    #expect(decoded.tensors[2].shape == [2, 1])
  }

  @Test("trailing-space padding and whitespace in the header are accepted")
  func whitespace() throws {
    let header =
      "{ \"x\" : { \"dtype\" : \"F32\", \"shape\" : [ 1 ], \"data_offsets\" : [ 0, 4 ] } }\n    "
    let decoded = try decodeSafeTensors(rawFile(header: header, data: f32Bytes([5])))
    #expect(decoded.tensors == [SafeTensor(name: "x", shape: [1], values: [5])])
  }

  @Test("half precision converts exactly, including subnormals, infinities and NaN")
  func halfConversion() {
    let cases: [(UInt16, Float)] = [
      (0x0000, 0), (0x3C00, 1), (0xC000, -2), (0x3800, 0.5), (0x7BFF, 65504),
      (0x3555, 0.333251953125), (0x0400, 0x1p-14), (0x0001, 0x1p-24), (0x03FF, 1023 * 0x1p-24),
      (0x8001, -0x1p-24), (0x7C00, .infinity), (0xFC00, -.infinity), (0x4248, 3.140625),
    ]
    for (half, expected) in cases {
      #expect(floatFromHalfBits(half) == expected, "half 0x\(String(half, radix: 16))")
    }
    #expect(floatFromHalfBits(0x8000).bitPattern == (-Float(0)).bitPattern)
    #expect(floatFromHalfBits(0x7E00).isNaN)
    #expect(floatFromHalfBits(0xFE00).isNaN && floatFromHalfBits(0xFE00).sign == .minus)
    #expect(floatFromHalfBits(0x7C01).isNaN)
    #if !(os(macOS) && arch(x86_64))
      // Cross-check against the hardware/library conversion for all 65536 patterns.
      for pattern in UInt16.min...UInt16.max {
        let reference = Float(Float16(bitPattern: pattern))
        let mine = floatFromHalfBits(pattern)
        if reference.isNaN {
          #expect(mine.isNaN, "half 0x\(String(pattern, radix: 16))")
        } else {
          #expect(mine.bitPattern == reference.bitPattern, "half 0x\(String(pattern, radix: 16))")
        }
      }
    #endif
  }

  @Test("bfloat16 converts exactly")
  func bfloat16Conversion() {
    #expect(floatFromBFloat16Bits(0x3F80) == 1)
    #expect(floatFromBFloat16Bits(0xC000) == -2)
    #expect(floatFromBFloat16Bits(0x4049) == 3.140625)
    #expect(floatFromBFloat16Bits(0x7F80) == .infinity)
    #expect(floatFromBFloat16Bits(0xFF80) == -.infinity)
    #expect(floatFromBFloat16Bits(0x7FC0).isNaN)
    #expect(floatFromBFloat16Bits(0x0001) == 0x1p-133)
    #expect(floatFromBFloat16Bits(0x8000).bitPattern == 0x8000_0000)
    #expect(floatFromBFloat16Bits(0x7F7F) == 0x1.FEp127)
  }
}

// MARK: - Rejection

@Suite("SafeTensors rejection")
struct SafeTensorsRejectionTests {
  @Test("every truncation of a valid file is rejected")
  func truncation() throws {
    let file = sampleFile()
    _ = try decodeSafeTensors(file)
    for length in 0..<file.count {
      #expect(
        formatError(Array(file[..<length])) != nil, "accepted \(length) of \(file.count) bytes")
    }
    #expect(
      formatError(file + [0])
        == "tensors cover 20 bytes but the data buffer after the header has 21 bytes")
  }

  @Test("flipping any byte of the length or header is rejected")
  func flippedHeaderBytes() throws {
    let file = sampleFile()
    let headerEnd = 8 + Int(file[0]) + Int(file[1]) << 8
    for index in 0..<headerEnd {
      var corrupt = file
      corrupt[index] ^= 0xFF
      #expect(formatError(corrupt) != nil, "accepted a flip at byte \(index)")
      if index < 8 {
        // Off-by-one lengths are caught too (they shift the header/data boundary).
        corrupt = file
        corrupt[index] ^= 0x01
        #expect(formatError(corrupt) != nil, "accepted a length bit flip at byte \(index)")
      }
    }
  }

  @Test("random corruption never traps")
  func fuzz() {
    var rng = SeededRNG(seed: 0xF00D)
    let file = sampleFile()
    for _ in 0..<5000 {
      var corrupt = file
      for _ in 0..<Int.random(in: 1...3, using: &rng) {
        let index = Int.random(in: 0..<corrupt.count, using: &rng)
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: corrupt[index] = UInt8.random(in: 0...255, using: &rng)
        case 1: corrupt[index] = Array("{}[]\",:0123456789-e ".utf8).randomElement(using: &rng)!
        case 2: corrupt.remove(at: index)
        default: corrupt.insert(UInt8.random(in: 0...255, using: &rng), at: index)
        }
      }
      // Reaching the next iteration means no trap; the result itself may be valid.
      _ = formatError(corrupt)
    }
  }

  @Test("header lengths beyond the file or the size cap are rejected")
  func headerLength() {
    var file = sampleFile()
    file.replaceSubrange(0..<8, with: [0x7F, 0x96, 0x98, 0, 0, 0, 0, 0])  // 9999999
    #expect(formatError(file) == "header length 9999999 exceeds file size \(file.count)")
    file.replaceSubrange(0..<8, with: [UInt8](repeating: 0xFF, count: 8))
    #expect(
      formatError(file) == "header length 18446744073709551615 exceeds file size \(file.count)")
    #expect(formatError([1, 0, 0]) == "file is 3 bytes, too short for the 8-byte header length")
    #expect(formatError([]) == "file is 0 bytes, too short for the 8-byte header length")
    // One byte over the 100 MB cap, in a file big enough to hold it.
    let length = safeTensorsMaxHeaderSize + 1
    var big = [UInt8](repeating: UInt8(ascii: " "), count: 8 + length)
    for i in 0..<8 { big[i] = UInt8(truncatingIfNeeded: length >> (8 * i)) }
    #expect(formatError(big) == "header length 100000001 exceeds the limit of 100000000 bytes")
  }

  @Test("headers that are not a JSON object are rejected")
  func notAnObject() {
    #expect(formatError(header: "[]") == "header does not start with '{'")
    #expect(formatError(header: " {}") == "header does not start with '{'")
    #expect(formatError(header: "") == "header does not start with '{'")
    #expect(formatError(header: "{\"a\":}")?.hasPrefix("header is not valid JSON: ") == true)
    #expect(
      formatError(header: "{} x")
        == "header is not valid JSON: unexpected character 'x' after the JSON value at header "
        + "byte 3"
    )
    #expect(formatError(header: "{\"a\":1}") == "tensor 'a': entry is not a JSON object")
  }

  @Test("data_offsets inconsistent with the shape are rejected with a precise message")
  func wrongOffsets() {
    let header = #"{"rnn.weight_ih_l0":{"dtype":"F32","shape":[4,2],"data_offsets":[0,12]}}"#
    #expect(
      formatError(header: header, data: [UInt8](repeating: 0, count: 12))
        == "tensor 'rnn.weight_ih_l0': data_offsets [0, 12] do not match shape [4, 2] of F32 "
        + "(32 bytes)"
    )
    #expect(
      formatError(
        header: #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, data: [0, 0, 0, 0])
        == "tensor 'x': data_offsets [8, 4] end before they begin")
    #expect(
      formatError(
        header: #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: [0, 0, 0, 0])
        == "tensor 'x': data_offsets [4, 8] exceed the data buffer of 4 bytes")
    for offsets in ["[0]", "[0,4,8]", "[\"0\",4]", "[-1,3]", "[0.5,4.5]", "{}", "null"] {
      let text = #"{"x":{"dtype":"F32","shape":[1],"data_offsets":"# + offsets + "}}"
      #expect(
        formatError(header: text, data: [0, 0, 0, 0])?.hasSuffix(
          "is not a pair of non-negative integers") == true,
        "offsets \(offsets)")
    }
  }

  @Test("holes, overlaps and uncovered bytes in the data buffer are rejected")
  func coverage() {
    let hole =
      #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
      + #""b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
    #expect(
      formatError(header: hole, data: [UInt8](repeating: 0, count: 12))
        == "tensor 'b' starts at byte 8, leaving a hole after byte 4 of the data buffer")
    let overlap =
      #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
      + #""b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
    #expect(
      formatError(header: overlap, data: [UInt8](repeating: 0, count: 8))
        == "tensor 'b' starts at byte 4, overlapping the data before byte 8")
    let notAtZero = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
    #expect(
      formatError(header: notAtZero, data: [UInt8](repeating: 0, count: 8))
        == "tensor 'a' starts at byte 4, leaving a hole after byte 0 of the data buffer")
    #expect(
      formatError(header: "{}", data: [1, 2])
        == "tensors cover 0 bytes but the data buffer after the header has 2 bytes")
  }

  @Test(
    "unsupported dtypes are named in the error",
    arguments: ["I64", "U8", "BOOL", "F8_E4M3", "f32", "Q99", ""])
  func unsupportedDtype(_ dtype: String) {
    let header = #"{"w":{"dtype":""# + dtype + #"","shape":[1],"data_offsets":[0,8]}}"#
    #expect(
      formatError(header: header, data: [UInt8](repeating: 0, count: 8))
        == "tensor 'w': unsupported dtype '\(dtype)' (seqrnn reads F32, F64, F16, BF16)")
  }

  @Test("malformed tensor entries are rejected")
  func malformedEntries() {
    let four = [UInt8](repeating: 0, count: 4)
    let cases: [(String, String)] = [
      (#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, "tensor 'w': missing 'dtype'"),
      (#"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, "tensor 'w': missing 'shape'"),
      (#"{"w":{"dtype":"F32","shape":[1]}}"#, "tensor 'w': missing 'data_offsets'"),
      (
        #"{"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}"#,
        "tensor 'w': 'dtype' is not a string"
      ),
      (
        #"{"w":{"dtype":"F32","shape":1,"data_offsets":[0,4]}}"#,
        "tensor 'w': 'shape' is not an array"
      ),
      (
        #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
        "tensor 'w': shape [-1] has a dimension that is not a non-negative integer"
      ),
      (
        #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#,
        "tensor 'w': shape [1.5] has a dimension that is not a non-negative integer"
      ),
      (
        #"{"w":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}"#,
        #"tensor 'w': shape ["1"] has a dimension that is not a non-negative integer"#
      ),
      (
        #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#,
        "tensor 'w': unexpected key 'extra'"
      ),
      (
        #"{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
        "tensor 'w': duplicate key 'dtype'"
      ),
      (
        #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
          + #""w":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}"#,
        "duplicate tensor name 'w'"
      ),
      (
        #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#,
        "tensor 'w': shape [4611686018427387904, 4] has too many elements"
      ),
      (
        #"{"w":{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,4]}}"#,
        "tensor 'w': shape [2305843009213693952] of F32 is too many bytes"
      ),
    ]
    for (header, message) in cases {
      #expect(formatError(header: header, data: four) == message, "header \(header)")
    }
  }

  @Test("malformed metadata is rejected")
  func malformedMetadata() {
    let cases: [(String, String)] = [
      (#"{"__metadata__":{"epochs":3}}"#, "metadata value of 'epochs' is not a string"),
      (#"{"__metadata__":{"a":null}}"#, "metadata value of 'a' is not a string"),
      (#"{"__metadata__":{"a":{"b":"c"}}}"#, "metadata value of 'a' is not a string"),
      (#"{"__metadata__":["a"]}"#, "'__metadata__' is not a JSON object"),
      (#"{"__metadata__":"a"}"#, "'__metadata__' is not a JSON object"),
      (#"{"__metadata__":{"a":"1","a":"2"}}"#, "duplicate metadata key 'a'"),
      (#"{"__metadata__":{},"__metadata__":{}}"#, "duplicate '__metadata__' entry"),
    ]
    for (header, message) in cases {
      #expect(formatError(header: header) == message, "header \(header)")
    }
  }
}

// MARK: - Files

@Suite("SafeTensors files")
struct SafeTensorsFileTests {
  @Test("written files read back identically, replacing the old content and keeping its mode")
  func writeAndRead() throws {
    let directory = try makeTemporaryDirectory()
    defer { removeDirectory(directory) }
    let path = directory + "/model.safetensors"
    try writeFileAtomically(sampleFile(), to: path)
    #expect(try readWholeFile(path) == sampleFile())
    #expect(chmod(path, 0o600) == 0)
    let bigger = [UInt8](repeating: 0xAB, count: 300_000)
    try writeFileAtomically(bigger, to: path)
    #expect(try readWholeFile(path) == bigger)
    var status = stat()
    #expect(stat(path, &status) == 0)
    #expect(status.st_mode & 0o777 == 0o600)
    try writeFileAtomically([], to: path)
    #expect(try readWholeFile(path) == [])
    #expect(directoryEntries(directory) == ["model.safetensors"])
  }

  @Test("a path with '..' components writes the file it names")
  func dotDotPath() throws {
    let directory = try makeTemporaryDirectory()
    defer { removeDirectory(directory) }
    // The temporary file goes to "<directory>/a/../a", the same directory as the target.
    let sub = directory + "/a"
    #expect(mkdir(sub, 0o755) == 0)
    try writeFileAtomically([1, 2, 3], to: directory + "/a/../a/x.bin")
    #expect(try readWholeFile(sub + "/x.bin") == [1, 2, 3])
  }

  @Test("reading a missing file or a directory reports the path and reason")
  func readErrors() throws {
    let directory = try makeTemporaryDirectory()
    defer { removeDirectory(directory) }
    #expect(
      throws: SafeTensorsError.io("cannot open '\(directory)/nope': No such file or directory")
    ) {
      try readWholeFile(directory + "/nope")
    }
    #expect(throws: SafeTensorsError.io("cannot read '\(directory)': Is a directory")) {
      try readWholeFile(directory)
    }
  }

  @Test("a directory as target fails and is left untouched, with no temporary file")
  func targetIsDirectory() throws {
    let directory = try makeTemporaryDirectory()
    defer { removeDirectory(directory) }
    let target = directory + "/model.safetensors"
    #expect(mkdir(target, 0o755) == 0)
    #expect(throws: SafeTensorsError.io("cannot write '\(target)': Is a directory")) {
      try writeFileAtomically([1, 2, 3], to: target)
    }
    #expect(directoryEntries(directory) == ["model.safetensors"])
    #expect(directoryEntries(target) == [])
    #expect(throws: SafeTensorsError.self) { try writeFileAtomically([1], to: directory + "/") }
  }

  @Test("a missing parent directory fails with the reason")
  func missingDirectory() throws {
    let directory = try makeTemporaryDirectory()
    defer { removeDirectory(directory) }
    do {
      try writeFileAtomically([1], to: directory + "/missing/model.safetensors")
      Issue.record("write into a missing directory succeeded")
    } catch {
      guard case .io(let message) = error else {
        Issue.record("unexpected error \(error)")
        return
      }
      #expect(
        message.hasPrefix(
          "cannot create temporary file '\(directory)/missing/.model.safetensors.tmp."))
      #expect(message.hasSuffix(": No such file or directory"))
    }
  }

  @Test(
    "an unwritable directory fails and leaves the old file intact",
    .enabled(if: geteuid() != 0, "root ignores directory permissions; see the exit test below"))
  func unwritableDirectory() throws {
    let directory = try makeTemporaryDirectory()
    defer { removeDirectory(directory) }
    let path = directory + "/model.safetensors"
    try writePlain([9, 9, 9], to: path)
    #expect(chmod(directory, 0o555) == 0)
    #expect(throws: SafeTensorsError.self) { try writeFileAtomically([1, 2, 3, 4], to: path) }
    #expect(try readWholeFile(path) == [9, 9, 9])
    #expect(directoryEntries(directory) == ["model.safetensors"])
  }

  @Test("a write that fails midway (file size limit) leaves the old file intact")
  func failingWrite() async {
    // Runs in a child process: lowering RLIMIT_FSIZE would break other tests running in
    // parallel in this one. Works as root too, unlike a read-only directory.
    await #expect(processExitsWith: .success) {
      var template = Array("/tmp/seqrnn-safetensors-test-XXXXXX".utf8CString)
      guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) })
      else { exit(10) }
      let directory = String(cString: created)
      let path = directory + "/model.safetensors"
      let old: [UInt8] = Array(repeating: 7, count: 100)
      guard (try? writeFileAtomically(old, to: path)) != nil else { exit(11) }
      signal(SIGXFSZ, SIG_IGN)
      var limit = rlimit(rlim_cur: 4096, rlim_max: 4096)
      guard setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0 else { exit(12) }
      var code: Int32 = 0
      do {
        try writeFileAtomically([UInt8](repeating: 1, count: 1 << 20), to: path)
        code = 13
      } catch let error as SafeTensorsError {
        if case .io(let message) = error, message.hasPrefix("cannot write '\(directory)/."),
          message.hasSuffix(": File too large")
        {
        } else {
          code = 14
        }
      } catch {
        code = 17
      }
      if code == 0, (try? readWholeFile(path)) != old { code = 15 }
      if code == 0, directoryEntries(directory) != ["model.safetensors"] { code = 16 }
      removeDirectory(directory)
      exit(code)
    }
  }

  @Test("concurrent writers to one path leave one complete file and no temporaries")
  func concurrentWriters() async throws {
    let directory = try makeTemporaryDirectory()
    defer { removeDirectory(directory) }
    let path = directory + "/model.safetensors"
    let variants = (0..<4).map { i in
      encodeSafeTensors(
        [SafeTensor(name: "w", shape: [1000], values: Array(repeating: Float(i), count: 1000))],
        metadata: [])
    }
    await withTaskGroup(of: Void.self) { group in
      for variant in variants {
        group.addTask {
          for _ in 0..<10 { try? writeFileAtomically(variant, to: path) }
        }
      }
    }
    #expect(variants.contains(try readWholeFile(path)))
    #expect(directoryEntries(directory) == ["model.safetensors"])
  }
}
