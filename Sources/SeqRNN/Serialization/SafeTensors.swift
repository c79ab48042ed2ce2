// The safetensors file format (https://github.com/huggingface/safetensors), which PyTorch and
// Hugging Face read, so a seqrnn model file opens there unchanged:
//
//   8 bytes   N, little-endian u64: length of the header
//   N bytes   UTF-8 JSON object: {"name": {"dtype": "F32", "shape": [..],
//             "data_offsets": [begin, end]}, ..., "__metadata__": {"key": "string", ...}};
//             writers pad it with spaces so the data starts 8-byte aligned
//   rest      the data buffer; offsets are relative to its start, and the tensors' regions
//             must cover it exactly, in offset order, without holes or overlaps
//
// The reader validates as strictly as the reference implementation (and a little more:
// duplicate names and unexpected keys are errors) because model files come from outside.
// Nothing here traps on file contents: all arithmetic on file-derived numbers is checked.

import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A named tensor of `Float` values in C (row-major) order.
package struct SafeTensor: Equatable, Sendable {
  /// The tensor's name, e.g. `rnn.weight_ih_l0`.
  package var name: String
  /// The dimensions; the product equals `values.count` (an empty shape is a scalar).
  package var shape: [Int]
  /// The elements, row-major.
  package var values: [Float]

  /// Makes a tensor from its name, shape and row-major values.
  package init(name: String, shape: [Int], values: [Float]) {
    self.name = name
    self.shape = shape
    self.values = values
  }
}

/// Why a safetensors file could not be read or written.
package enum SafeTensorsError: Error, Equatable {
  /// A system call failed; the message names the operation, the path and `strerror` text.
  case io(String)
  /// The bytes are not a valid safetensors file (or hold something seqrnn cannot read); the
  /// message says precisely what is wrong.
  case badFormat(String)

  /// The same failure as a library error (`.io` or `.badFormat`).
  package var seqrnnError: SeqRNNError {
    switch self {
    case .io(let message): return .io(message)
    case .badFormat(let message): return .badFormat(message)
    }
  }
}

/// The largest header the reader accepts, in bytes: the reference implementation's limit,
/// which keeps a corrupt length from making the reader parse an enormous "header".
package let safeTensorsMaxHeaderSize = 100_000_000

/// The element types seqrnn reads, with the safetensors spelling and element size.
private enum SafeTensorsDType: String {
  case f32 = "F32"
  case f64 = "F64"
  case f16 = "F16"
  case bf16 = "BF16"

  /// Bytes per element.
  var size: Int {
    switch self {
    case .f32: return 4
    case .f64: return 8
    case .f16, .bf16: return 2
    }
  }
}

// MARK: - Encoding

/// Encodes tensors as a safetensors file: F32 little-endian, data in the given order, the
/// header padded with spaces to a multiple of 8 bytes (so the data is 8-byte aligned, as the
/// reference writer does), `__metadata__` first and omitted when `metadata` is empty.
///
/// - Precondition: names are unique and not `__metadata__`, metadata keys are unique, and each
///   tensor's shape has non-negative dimensions whose product is `values.count`. These are
///   programming errors of the caller (the model's own weights), not properties of input.
package func encodeSafeTensors(_ tensors: [SafeTensor], metadata: [(String, String)]) -> [UInt8] {
  var names = Set<String>()
  for tensor in tensors {
    precondition(tensor.name != "__metadata__", "a tensor cannot be named __metadata__")
    precondition(names.insert(tensor.name).inserted, "duplicate tensor name '\(tensor.name)'")
    precondition(
      elementCount(of: tensor.shape) == tensor.values.count,
      "tensor '\(tensor.name)': shape \(tensor.shape) does not hold \(tensor.values.count) values")
  }
  var keys = Set<String>()
  for (key, _) in metadata {
    precondition(keys.insert(key).inserted, "duplicate metadata key '\(key)'")
  }

  var header: [(String, JSONValue)] = []
  if !metadata.isEmpty {
    header.append(("__metadata__", .object(metadata.map { ($0.0, .string($0.1)) })))
  }
  var offset = 0
  for tensor in tensors {
    let end = offset + tensor.values.count * 4
    let entry: JSONValue = .object([
      ("dtype", .string("F32")),
      ("shape", .array(tensor.shape.map { .number(Double($0)) })),
      ("data_offsets", .array([.number(Double(offset)), .number(Double(end))])),
    ])
    header.append((tensor.name, entry))
    offset = end
  }
  var headerBytes = Array(serializeJSON(.object(header)).utf8)
  while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }

  var out: [UInt8] = []
  out.reserveCapacity(8 + headerBytes.count + offset)
  appendLittleEndian(UInt64(headerBytes.count), to: &out)
  out.append(contentsOf: headerBytes)
  for tensor in tensors {
    #if _endian(little)
      // The in-memory layout already is the file layout: one bulk copy.
      tensor.values.withUnsafeBytes { out.append(contentsOf: $0) }
    #else
      for value in tensor.values {
        appendLittleEndian(UInt64(value.bitPattern), byteCount: 4, to: &out)
      }
    #endif
  }
  return out
}

/// The product of `shape`, or nil when a dimension is negative or the product overflows `Int`.
private func elementCount(of shape: [Int]) -> Int? {
  var count = 1
  for dimension in shape {
    guard dimension >= 0 else { return nil }
    let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
    if overflow { return nil }
    count = product
  }
  return count
}

/// Appends the low `byteCount` bytes of `value`, least significant first.
private func appendLittleEndian(_ value: UInt64, byteCount: Int = 8, to out: inout [UInt8]) {
  for i in 0..<byteCount {
    out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))))
  }
}

// MARK: - Decoding

/// One tensor entry of the header, validated, before its data is converted.
private struct TensorEntry {
  /// The tensor's name.
  var name: String
  /// The element type.
  var dtype: SafeTensorsDType
  /// The dimensions.
  var shape: [Int]
  /// Number of elements (the product of `shape`).
  var count: Int
  /// Start of the data, relative to the data buffer.
  var begin: Int
  /// End (exclusive) of the data, relative to the data buffer.
  var end: Int
  /// Position of the entry in the header, to keep the sort by offsets stable.
  var headerIndex: Int
}

/// Decodes and validates a safetensors file held in memory.
///
/// Checks, in order: the 8-byte length prefix is present; the header length fits in the file
/// and under `safeTensorsMaxHeaderSize`; the header is a JSON object (starting with `{`); the
/// optional `__metadata__` is an object of strings; every other member is a tensor entry with
/// exactly the keys `dtype`, `shape` and `data_offsets`, a supported dtype (F32, F64, F16,
/// BF16), a shape of non-negative integers whose byte size does not overflow, and offsets
/// `[begin, end]` with `end - begin` equal to that byte size and `end` inside the buffer; names
/// are unique; and the regions, sorted by offset, cover the data buffer exactly. Values are
/// converted to `Float` (F64 is rounded to nearest; NaN, infinities and subnormals of F16 and
/// BF16 are converted exactly).
///
/// - Returns: the tensors in order of their data offsets, and the metadata in header order.
/// - Throws: `SafeTensorsError.badFormat` naming the first problem. Never traps.
package func decodeSafeTensors(_ bytes: [UInt8]) throws(SafeTensorsError) -> (
  tensors: [SafeTensor], metadata: [(String, String)]
) {
  guard bytes.count >= 8 else {
    throw .badFormat("file is \(bytes.count) bytes, too short for the 8-byte header length")
  }
  var headerLength: UInt64 = 0
  for i in 0..<8 {
    headerLength |= UInt64(bytes[i]) << (8 * UInt64(i))
  }
  let available = bytes.count - 8
  guard headerLength <= UInt64(available) else {
    throw .badFormat("header length \(headerLength) exceeds file size \(bytes.count)")
  }
  guard headerLength <= UInt64(safeTensorsMaxHeaderSize) else {
    throw .badFormat(
      "header length \(headerLength) exceeds the limit of \(safeTensorsMaxHeaderSize) bytes")
  }
  let headerEnd = 8 + Int(headerLength)
  let headerBytes = bytes[8..<headerEnd]
  guard headerBytes.first == UInt8(ascii: "{") else {
    throw .badFormat("header does not start with '{'")
  }
  let header: JSONValue
  do {
    header = try parseJSON(headerBytes)
  } catch {
    throw .badFormat("header is not valid JSON: \(error.message) at header byte \(error.offset)")
  }
  guard let members = header.objectValue else {
    throw .badFormat("header is not a JSON object")
  }

  let bufferLength = bytes.count - headerEnd
  var metadata: [(String, String)]? = nil
  var entries: [TensorEntry] = []
  var names = Set<String>()
  for (name, value) in members {
    if name == "__metadata__" {
      guard metadata == nil else { throw .badFormat("duplicate '__metadata__' entry") }
      metadata = try decodeMetadata(value)
      continue
    }
    guard names.insert(name).inserted else {
      throw .badFormat("duplicate tensor name '\(name)'")
    }
    entries.append(
      try decodeEntry(
        name: name, value: value, headerIndex: entries.count, bufferLength: bufferLength))
  }

  // Files are read in offset order, which writers need not follow in the header.
  entries.sort { ($0.begin, $0.end, $0.headerIndex) < ($1.begin, $1.end, $1.headerIndex) }
  var covered = 0
  for entry in entries {
    if entry.begin > covered {
      throw .badFormat(
        "tensor '\(entry.name)' starts at byte \(entry.begin), leaving a hole after byte "
          + "\(covered) of the data buffer")
    }
    if entry.begin < covered {
      throw .badFormat(
        "tensor '\(entry.name)' starts at byte \(entry.begin), overlapping the data before "
          + "byte \(covered)")
    }
    covered = entry.end
  }
  if covered != bufferLength {
    throw .badFormat(
      "tensors cover \(covered) bytes but the data buffer after the header has "
        + "\(bufferLength) bytes")
  }

  let data = bytes[headerEnd...]
  let tensors = entries.map { entry in
    SafeTensor(
      name: entry.name, shape: entry.shape,
      values: convertToFloat(
        data, from: data.startIndex + entry.begin, count: entry.count, dtype: entry.dtype))
  }
  return (tensors, metadata ?? [])
}

/// Validates the `__metadata__` object: string values only, unique keys.
private func decodeMetadata(_ value: JSONValue) throws(SafeTensorsError) -> [(String, String)] {
  guard let members = value.objectValue else {
    throw .badFormat("'__metadata__' is not a JSON object")
  }
  var keys = Set<String>()
  var result: [(String, String)] = []
  for (key, member) in members {
    guard keys.insert(key).inserted else {
      throw .badFormat("duplicate metadata key '\(key)'")
    }
    guard let string = member.stringValue else {
      throw .badFormat("metadata value of '\(key)' is not a string")
    }
    result.append((key, string))
  }
  return result
}

/// Validates one tensor entry of the header.
private func decodeEntry(
  name: String, value: JSONValue, headerIndex: Int, bufferLength: Int
) throws(SafeTensorsError) -> TensorEntry {
  guard let fields = value.objectValue else {
    throw .badFormat("tensor '\(name)': entry is not a JSON object")
  }
  var seen = Set<String>()
  for (key, _) in fields {
    guard ["dtype", "shape", "data_offsets"].contains(key) else {
      throw .badFormat("tensor '\(name)': unexpected key '\(key)'")
    }
    guard seen.insert(key).inserted else {
      throw .badFormat("tensor '\(name)': duplicate key '\(key)'")
    }
  }

  guard let dtypeValue = value["dtype"] else {
    throw .badFormat("tensor '\(name)': missing 'dtype'")
  }
  guard let dtypeName = dtypeValue.stringValue else {
    throw .badFormat("tensor '\(name)': 'dtype' is not a string")
  }
  guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
    throw .badFormat(
      "tensor '\(name)': unsupported dtype '\(dtypeName)' (seqrnn reads F32, F64, F16, BF16)")
  }

  guard let shapeValue = value["shape"] else {
    throw .badFormat("tensor '\(name)': missing 'shape'")
  }
  guard let shapeElements = shapeValue.arrayValue else {
    throw .badFormat("tensor '\(name)': 'shape' is not an array")
  }
  var shape: [Int] = []
  for element in shapeElements {
    guard let dimension = element.intValue, dimension >= 0 else {
      throw .badFormat(
        "tensor '\(name)': shape \(describeForMessage(shapeValue)) has a dimension that is not a "
          + "non-negative integer")
    }
    shape.append(dimension)
  }
  let shapeText = describeForMessage(shapeValue)
  guard let count = elementCount(of: shape) else {
    throw .badFormat("tensor '\(name)': shape \(shapeText) has too many elements")
  }
  let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.size)
  guard !overflow else {
    throw .badFormat("tensor '\(name)': shape \(shapeText) of \(dtypeName) is too many bytes")
  }

  guard let offsetsValue = value["data_offsets"] else {
    throw .badFormat("tensor '\(name)': missing 'data_offsets'")
  }
  let offsetsText = describeForMessage(offsetsValue)
  guard let offsets = offsetsValue.arrayValue, offsets.count == 2,
    let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, end >= 0
  else {
    throw .badFormat(
      "tensor '\(name)': data_offsets \(offsetsText) is not a pair of non-negative integers")
  }
  guard begin <= end else {
    throw .badFormat("tensor '\(name)': data_offsets \(offsetsText) end before they begin")
  }
  guard end - begin == byteCount else {
    throw .badFormat(
      "tensor '\(name)': data_offsets \(offsetsText) do not match shape \(shapeText) of "
        + "\(dtypeName) (\(byteCount) bytes)")
  }
  guard end <= bufferLength else {
    throw .badFormat(
      "tensor '\(name)': data_offsets \(offsetsText) exceed the data buffer of "
        + "\(bufferLength) bytes")
  }
  return TensorEntry(
    name: name, dtype: dtype, shape: shape, count: count, begin: begin, end: end,
    headerIndex: headerIndex)
}

/// Renders a header value for an error message, arrays as `[4, 2]` like Python prints them.
private func describeForMessage(_ value: JSONValue) -> String {
  guard let elements = value.arrayValue else { return serializeJSON(value) }
  return "[" + elements.map(serializeJSON).joined(separator: ", ") + "]"
}

/// Converts `count` little-endian elements of `dtype` starting at `start` to `Float`.
/// The caller has checked that the range lies inside `data`.
private func convertToFloat(
  _ data: ArraySlice<UInt8>, from start: Int, count: Int, dtype: SafeTensorsDType
) -> [Float] {
  data.withUnsafeBytes { raw in
    // `raw` starts at data.startIndex.
    let base = start - data.startIndex
    var values: [Float] = []
    values.reserveCapacity(count)
    switch dtype {
    case .f32:
      for i in 0..<count {
        let bits = raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self)
        values.append(Float(bitPattern: UInt32(littleEndian: bits)))
      }
    case .f64:
      for i in 0..<count {
        let bits = raw.loadUnaligned(fromByteOffset: base + 8 * i, as: UInt64.self)
        values.append(Float(Double(bitPattern: UInt64(littleEndian: bits))))
      }
    case .f16:
      for i in 0..<count {
        let bits = raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self)
        values.append(floatFromHalfBits(UInt16(littleEndian: bits)))
      }
    case .bf16:
      for i in 0..<count {
        let bits = raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self)
        values.append(floatFromBFloat16Bits(UInt16(littleEndian: bits)))
      }
    }
    return values
  }
}

// MARK: - Half precision

/// Converts IEEE 754 binary16 bits to `Float`, exactly (every half value is a float value):
/// zeros keep their sign, subnormals are scaled, infinities stay infinite and NaNs stay NaN with
/// their sign and payload. Written by hand because `Float16` is unavailable on some platforms.
package func floatFromHalfBits(_ bits: UInt16) -> Float {
  let sign = UInt32(bits & 0x8000) << 16
  let exponent = UInt32(bits >> 10) & 0x1F
  let mantissa = UInt32(bits & 0x03FF)
  switch exponent {
  case 0:
    // Zero or subnormal: mantissa * 2^-24, exact in Float.
    let magnitude = Float(mantissa) * 0x1p-24
    return sign != 0 ? -magnitude : magnitude
  case 0x1F:
    // Infinity (mantissa 0) or NaN (payload moved to the top of the float mantissa).
    return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
  default:
    // Normal: rebias the exponent from 15 to 127.
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
  }
}

/// Converts bfloat16 bits (the top half of a binary32) to `Float`, exactly.
package func floatFromBFloat16Bits(_ bits: UInt16) -> Float {
  Float(bitPattern: UInt32(bits) << 16)
}

// MARK: - Files

/// Reads a whole file into memory.
///
/// - Throws: `SafeTensorsError.io` with the path and the system's reason.
package func readWholeFile(_ path: String) throws(SafeTensorsError) -> [UInt8] {
  let fd = retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
  guard fd >= 0 else { throw ioError("cannot open", path) }
  defer { _ = close(fd) }

  var status = stat()
  guard fstat(fd, &status) == 0 else { throw ioError("cannot stat", path) }
  if (status.st_mode & S_IFMT) == S_IFDIR {
    throw .io("cannot read '\(path)': Is a directory")
  }
  // The size is only a hint: the loop reads until end of file, so a file that changes size
  // (or a special file that reports 0) is still read whole.
  var bytes: [UInt8] = []
  bytes.reserveCapacity(max(Int(status.st_size), 0) + 1)
  var chunk = [UInt8](repeating: 0, count: 1 << 16)
  while true {
    let n = chunk.withUnsafeMutableBytes { buffer in
      retryingOnInterrupt { read(fd, buffer.baseAddress, buffer.count) }
    }
    if n < 0 { throw ioError("cannot read", path) }
    if n == 0 { return bytes }
    bytes.append(contentsOf: chunk[0..<n])
  }
}

/// Process-wide counter that gives concurrent saves distinct temporary file names.
private let temporaryFileCounter = Atomic<UInt64>(0)

/// Replaces the file at `path` with `bytes` atomically: readers see either the old file or the
/// complete new one, and a crash or full disk never leaves a truncated model behind.
///
/// Writes a temporary file `.<basename>.tmp.<pid>.<counter>` in the same directory (so the
/// rename cannot cross file systems), retrying short and interrupted writes, flushes it to disk,
/// renames it over `path`, and flushes the directory so the rename itself is durable. An
/// existing target's permission bits are kept. On any failure the temporary file is removed
/// and an existing target is left untouched.
///
/// - Throws: `SafeTensorsError.io` naming the failed step, the path and the system's reason.
package func writeFileAtomically(_ bytes: [UInt8], to path: String) throws(SafeTensorsError) {
  let (directory, basename) = splitPath(path)
  guard !basename.isEmpty, basename != ".", basename != ".." else {
    throw .io("cannot write '\(path)': not a file name")
  }
  var existing = stat()
  var keepMode: mode_t? = nil
  if stat(path, &existing) == 0 {
    if (existing.st_mode & S_IFMT) == S_IFDIR {
      throw .io("cannot write '\(path)': Is a directory")
    }
    keepMode = existing.st_mode & 0o7777
  }

  let directoryPrefix = directory == "" ? "" : directory == "/" ? "/" : directory + "/"
  let prefix = directoryPrefix + "." + basename + ".tmp.\(getpid())."
  var temporaryPath = ""
  var fd: Int32 = -1
  // O_EXCL never reuses a file another process left behind; a collision just takes the next
  // number.
  for _ in 0..<100 {
    temporaryPath = prefix + String(temporaryFileCounter.add(1, ordering: .relaxed).newValue)
    fd = retryingOnInterrupt {
      open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(0o644))
    }
    if fd >= 0 || errno != EEXIST { break }
  }
  guard fd >= 0 else { throw ioError("cannot create temporary file", temporaryPath) }

  var failure: SafeTensorsError? = nil
  if let mode = keepMode, fchmod(fd, mode) != 0 {
    failure = ioError("cannot set permissions of", temporaryPath)
  }
  if failure == nil {
    failure = writeAll(bytes, to: fd, path: temporaryPath)
  }
  if failure == nil && retryingOnInterrupt({ fsync(fd) }) != 0 {
    failure = ioError("cannot flush", temporaryPath)
  }
  // close can report a deferred write error (e.g. on NFS); EINTR still closes on Linux.
  if close(fd) != 0 && errno != EINTR && failure == nil {
    failure = ioError("cannot close", temporaryPath)
  }
  if failure == nil && rename(temporaryPath, path) != 0 {
    failure = ioError("cannot rename '\(temporaryPath)' to", path)
  }
  if let failure {
    _ = unlink(temporaryPath)
    throw failure
  }
  try syncDirectory(directory == "" ? "." : directory)
}

/// Writes all of `bytes` to `fd`, continuing after short writes and interruptions.
/// Returns the error, or nil on success.
private func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) -> SafeTensorsError? {
  bytes.withUnsafeBytes { buffer -> SafeTensorsError? in
    var written = 0
    while written < buffer.count {
      // Linux writes at most 0x7ffff000 bytes per call; asking for less keeps every
      // platform's limit out of the picture.
      let request = min(buffer.count - written, 1 << 30)
      let n = retryingOnInterrupt { write(fd, buffer.baseAddress! + written, request) }
      if n < 0 { return ioError("cannot write", path) }
      if n == 0 { return .io("cannot write '\(path)': no progress (device full?)") }
      written += n
    }
    return nil
  }
}

/// Flushes a directory so a rename inside it survives a crash. File systems that cannot sync
/// directories (EINVAL) are accepted: there is nothing more to do on them.
private func syncDirectory(_ directory: String) throws(SafeTensorsError) {
  let fd = retryingOnInterrupt { open(directory, O_RDONLY | O_CLOEXEC) }
  guard fd >= 0 else { throw ioError("cannot open directory", directory) }
  defer { _ = close(fd) }
  if retryingOnInterrupt({ fsync(fd) }) != 0 && errno != EINVAL {
    throw ioError("cannot flush directory", directory)
  }
}

/// Splits a path into its directory ("" when there is none) and last component.
private func splitPath(_ path: String) -> (directory: String, basename: String) {
  let utf8 = Array(path.utf8)
  guard let slash = utf8.lastIndex(of: UInt8(ascii: "/")) else { return ("", path) }
  let directory = slash == 0 ? "/" : String(decoding: utf8[..<slash], as: UTF8.self)
  return (directory, String(decoding: utf8[(slash + 1)...], as: UTF8.self))
}

/// Calls `body` again while it fails with EINTR.
private func retryingOnInterrupt<T: BinaryInteger>(_ body: () -> T) -> T {
  while true {
    let result = body()
    if result >= 0 || errno != EINTR { return result }
  }
}

/// An I/O error from the current `errno`: "<what> '<path>': <strerror text>".
private func ioError(_ what: String, _ path: String) -> SafeTensorsError {
  let code = errno
  return .io("\(what) '\(path)': \(String(cString: strerror(code)))")
}
