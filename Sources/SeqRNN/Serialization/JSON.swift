// A small, strict JSON (RFC 8259) value type, parser and serializer.
//
// The core links the Swift runtime statically and must not import Foundation, so it cannot use
// JSONSerialization or Codable's JSON coders. Model files (safetensors) carry a JSON header and
// the model configuration as JSON, and those headers come from files a user may have downloaded:
// the parser therefore never traps, bounds its nesting depth and reports the byte offset of the
// first problem.

/// A parsed JSON value.
///
/// Objects keep their members in file order (and keep duplicate keys, which RFC 8259 permits
/// but discourages), so callers that care, like the safetensors reader, can reject duplicates
/// and preserve order.
package enum JSONValue: Equatable, Sendable {
  /// `null`.
  case null
  /// `true` or `false`.
  case bool(Bool)
  /// A number; always finite when produced by `parseJSON`.
  case number(Double)
  /// A string.
  case string(String)
  /// An array of values.
  case array([JSONValue])
  /// An object's members, in order, duplicates kept.
  case object([(String, JSONValue)])

  /// Structural equality; objects are equal when they have the same members in the same order.
  package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null):
      return true
    case (.bool(let a), .bool(let b)):
      return a == b
    case (.number(let a), .number(let b)):
      return a == b
    case (.string(let a), .string(let b)):
      return a == b
    case (.array(let a), .array(let b)):
      return a == b
    case (.object(let a), .object(let b)):
      guard a.count == b.count else { return false }
      for (x, y) in zip(a, b) where x.0 != y.0 || x.1 != y.1 {
        return false
      }
      return true
    default:
      return false
    }
  }

  /// The value of the first member named `key` when this is an object, else nil.
  package subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    for (name, value) in members where name == key {
      return value
    }
    return nil
  }

  /// The string when this is a string, else nil.
  package var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The number as an `Int` when it is an integer exactly representable as `Int`, else nil
  /// (so `2.5`, `1e300` and non-numbers give nil rather than a rounded or trapping conversion).
  package var intValue: Int? {
    if case .number(let d) = self { return Int(exactly: d) }
    return nil
  }

  /// The number when this is a number, else nil.
  package var doubleValue: Double? {
    if case .number(let d) = self { return d }
    return nil
  }

  /// The Boolean when this is `true` or `false`, else nil.
  package var boolValue: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }

  /// The elements when this is an array, else nil.
  package var arrayValue: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }

  /// The members, in order, when this is an object, else nil.
  package var objectValue: [(String, JSONValue)]? {
    if case .object(let o) = self { return o }
    return nil
  }

  /// Whether this is `null`.
  package var isNull: Bool {
    if case .null = self { return true }
    return false
  }
}

/// Why a JSON text was rejected, and where.
package struct JSONError: Error, Equatable {
  /// What is wrong, e.g. "expected ':' after object key".
  package var message: String
  /// Byte offset in the input at which the problem was found.
  package var offset: Int

  /// Makes an error with a message and the byte offset it refers to.
  package init(message: String, offset: Int) {
    self.message = message
    self.offset = offset
  }
}

/// The default maximum nesting depth of arrays and objects accepted by `parseJSON`.
///
/// The parser is recursive; this bound keeps hostile input (`[[[[...`) from exhausting the
/// stack, and is far deeper than any header seqrnn reads or writes.
package let jsonDefaultMaxDepth = 64

/// Parses one JSON text (RFC 8259, strict) from UTF-8 bytes.
///
/// Strict means: no comments, no trailing commas, no leading zeros, no `NaN`/`Infinity`, no
/// leading `+`, no control characters or invalid UTF-8 inside strings, no lone surrogate
/// escapes, no numbers outside the range of `Double`, and nothing but whitespace after the
/// value. Arrays and objects may nest at most `maxDepth` levels.
///
/// - Throws: `JSONError` with a message and the byte offset of the first problem. Never traps.
package func parseJSON(
  _ bytes: some Collection<UInt8>,
  maxDepth: Int = jsonDefaultMaxDepth
) throws(JSONError) -> JSONValue {
  var parser = JSONParser(bytes: Array(bytes), maxDepth: maxDepth)
  parser.skipWhitespace()
  let value = try parser.parseValue(depth: 0)
  parser.skipWhitespace()
  if parser.position < parser.bytes.count {
    throw JSONError(
      message: "unexpected \(describeByte(parser.bytes[parser.position])) after the JSON value",
      offset: parser.position)
  }
  return value
}

/// Serializes a value as compact JSON (no insignificant whitespace).
///
/// Strings are escaped as RFC 8259 requires (`"`, `\`, and control characters); other
/// characters are written as UTF-8. Integral numbers of magnitude below 2^63 print as exact
/// integers (`3`, not `3.0`); other finite numbers print in the shortest form that reads back
/// to the same `Double`. JSON cannot represent NaN or infinities: they are written as `null`.
package func serializeJSON(_ value: JSONValue) -> String {
  var out: [UInt8] = []
  appendJSON(value, to: &out)
  return String(decoding: out, as: UTF8.self)
}

// MARK: - Serializer

/// Appends the compact JSON text of `value` to `out`.
private func appendJSON(_ value: JSONValue, to out: inout [UInt8]) {
  switch value {
  case .null:
    out.append(contentsOf: "null".utf8)
  case .bool(let b):
    out.append(contentsOf: (b ? "true" : "false").utf8)
  case .number(let d):
    out.append(contentsOf: formatJSONNumber(d).utf8)
  case .string(let s):
    appendJSONString(s, to: &out)
  case .array(let elements):
    out.append(UInt8(ascii: "["))
    for (i, element) in elements.enumerated() {
      if i > 0 { out.append(UInt8(ascii: ",")) }
      appendJSON(element, to: &out)
    }
    out.append(UInt8(ascii: "]"))
  case .object(let members):
    out.append(UInt8(ascii: "{"))
    for (i, (key, member)) in members.enumerated() {
      if i > 0 { out.append(UInt8(ascii: ",")) }
      appendJSONString(key, to: &out)
      out.append(UInt8(ascii: ":"))
      appendJSON(member, to: &out)
    }
    out.append(UInt8(ascii: "}"))
  }
}

/// Formats a number as JSON: exact integers without ".0", non-finite values as `null`.
private func formatJSONNumber(_ d: Double) -> String {
  guard d.isFinite else { return "null" }
  // Below 2^63 an integral Double converts to Int64 exactly, so the digits are its exact value
  // (shape and offset numbers stay readable instead of becoming "4.6e+18").
  if d.rounded(.towardZero) == d && d.magnitude < 9_223_372_036_854_775_808 {
    if d == 0 && d.sign == .minus { return "-0" }
    return String(Int64(d))
  }
  // Swift's description is the shortest round-tripping form, e.g. "0.1", "1e-05", "1e+300",
  // all of which are valid JSON numbers.
  return d.description
}

/// Appends `s` as a quoted, escaped JSON string.
private func appendJSONString(_ s: String, to out: inout [UInt8]) {
  let hexDigits = Array("0123456789abcdef".utf8)
  out.append(UInt8(ascii: "\""))
  for byte in s.utf8 {
    switch byte {
    case UInt8(ascii: "\""):
      out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
    case UInt8(ascii: "\\"):
      out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
    case 0x0A:
      out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
    case 0x0D:
      out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
    case 0x09:
      out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
    case 0x08:
      out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
    case 0x0C:
      out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
    case 0x00..<0x20:
      // Other control characters have no short escape: \u00XX.
      out.append(contentsOf: "\\u00".utf8)
      out.append(hexDigits[Int(byte >> 4)])
      out.append(hexDigits[Int(byte & 0x0F)])
    default:
      out.append(byte)
    }
  }
  out.append(UInt8(ascii: "\""))
}

// MARK: - Parser

/// Describes a byte for an error message: printable ASCII quoted, anything else in hex.
private func describeByte(_ byte: UInt8) -> String {
  if byte >= 0x20 && byte < 0x7F {
    return "character '\(Character(Unicode.Scalar(byte)))'"
  }
  let hex = String(byte, radix: 16, uppercase: true)
  return "byte 0x\(hex.count < 2 ? "0" + hex : hex)"
}

/// A recursive-descent parser over a byte array; `position` is the next unread byte.
private struct JSONParser {
  /// The whole input.
  let bytes: [UInt8]
  /// Maximum nesting depth of arrays and objects.
  let maxDepth: Int
  /// Index of the next byte to read.
  var position = 0

  /// Makes a parser at the start of `bytes`.
  init(bytes: [UInt8], maxDepth: Int) {
    self.bytes = bytes
    self.maxDepth = maxDepth
  }

  /// The next byte, or nil at the end of the input.
  var peek: UInt8? {
    position < bytes.count ? bytes[position] : nil
  }

  /// An error at the current position.
  func error(_ message: String) -> JSONError {
    JSONError(message: message, offset: position)
  }

  /// An error describing the byte at the current position (or the end of input) as unexpected.
  func unexpected(_ expectation: String) -> JSONError {
    guard let byte = peek else { return error("unexpected end of input, \(expectation)") }
    return error("unexpected \(describeByte(byte)), \(expectation)")
  }

  /// Skips the four JSON whitespace characters (space, tab, line feed, carriage return).
  mutating func skipWhitespace() {
    while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
      position &+= 1
    }
  }

  /// Parses any value starting at the current (non-whitespace) position.
  mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
    guard let byte = peek else { throw unexpected("expected a value") }
    switch byte {
    case UInt8(ascii: "{"):
      return try parseObject(depth: depth &+ 1)
    case UInt8(ascii: "["):
      return try parseArray(depth: depth &+ 1)
    case UInt8(ascii: "\""):
      return .string(try parseString())
    case UInt8(ascii: "t"):
      try expectLiteral("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try expectLiteral("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try expectLiteral("null")
      return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return .number(try parseNumber())
    default:
      throw unexpected("expected a value")
    }
  }

  /// Consumes exactly `literal` or throws.
  mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
    let start = position
    let expected = literal.withUTF8Buffer { Array($0) }
    for byte in expected {
      guard peek == byte else {
        position = start
        throw error("invalid literal, expected '\(literal)'")
      }
      position &+= 1
    }
  }

  /// Throws if entering one more level would exceed the depth limit.
  func checkDepth(_ depth: Int) throws(JSONError) {
    if depth > maxDepth {
      throw error("nesting deeper than \(maxDepth) levels")
    }
  }

  /// Parses an object; the current byte is `{`.
  mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
    try checkDepth(depth)
    position &+= 1
    var members: [(String, JSONValue)] = []
    skipWhitespace()
    if peek == UInt8(ascii: "}") {
      position &+= 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard peek == UInt8(ascii: "\"") else { throw unexpected("expected a string object key") }
      let key = try parseString()
      skipWhitespace()
      guard peek == UInt8(ascii: ":") else { throw unexpected("expected ':' after object key") }
      position &+= 1
      skipWhitespace()
      let value = try parseValue(depth: depth)
      members.append((key, value))
      skipWhitespace()
      switch peek {
      case UInt8(ascii: ","):
        position &+= 1
      case UInt8(ascii: "}"):
        position &+= 1
        return .object(members)
      default:
        throw unexpected("expected ',' or '}' in object")
      }
    }
  }

  /// Parses an array; the current byte is `[`.
  mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
    try checkDepth(depth)
    position &+= 1
    var elements: [JSONValue] = []
    skipWhitespace()
    if peek == UInt8(ascii: "]") {
      position &+= 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      elements.append(try parseValue(depth: depth))
      skipWhitespace()
      switch peek {
      case UInt8(ascii: ","):
        position &+= 1
      case UInt8(ascii: "]"):
        position &+= 1
        return .array(elements)
      default:
        throw unexpected("expected ',' or ']' in array")
      }
    }
  }

  /// Parses a number per the RFC 8259 grammar
  /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
  ///
  /// The grammar is checked here; the conversion is the standard library's correctly rounded
  /// `Double(String)`, which would also accept forms JSON forbids (hex, "inf"), hence the
  /// check first.
  mutating func parseNumber() throws(JSONError) -> Double {
    let start = position
    if peek == UInt8(ascii: "-") { position &+= 1 }
    guard let first = peek, isDigit(first) else {
      throw unexpected("expected a digit in number")
    }
    position &+= 1
    if first == UInt8(ascii: "0"), let next = peek, isDigit(next) {
      throw error("leading zeros are not allowed in numbers")
    }
    skipDigits()
    if peek == UInt8(ascii: ".") {
      position &+= 1
      guard let digit = peek, isDigit(digit) else {
        throw unexpected("expected a digit after the decimal point")
      }
      skipDigits()
    }
    if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
      position &+= 1
      if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position &+= 1 }
      guard let digit = peek, isDigit(digit) else {
        throw unexpected("expected a digit in the exponent")
      }
      skipDigits()
    }
    let text = String(decoding: bytes[start..<position], as: UTF8.self)
    guard let value = Double(text), value.isFinite else {
      position = start
      throw error("number \(text.prefix(40)) is out of range")
    }
    return value
  }

  /// Whether `byte` is an ASCII digit.
  func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }

  /// Advances over consecutive ASCII digits.
  mutating func skipDigits() {
    while let byte = peek, isDigit(byte) { position &+= 1 }
  }

  /// Parses a string; the current byte is the opening quote.
  ///
  /// Raw bytes are collected and validated as UTF-8 at the end (so invalid UTF-8 is rejected,
  /// as RFC 8259 requires for interchange); escapes are decoded into UTF-8 as they come.
  mutating func parseString() throws(JSONError) -> String {
    let start = position
    position &+= 1
    var utf8: [UInt8] = []
    while true {
      guard let byte = peek else {
        position = start
        throw error("unterminated string")
      }
      switch byte {
      case UInt8(ascii: "\""):
        position &+= 1
        guard let string = String(validating: utf8, as: UTF8.self) else {
          position = start
          throw error("string is not valid UTF-8")
        }
        return string
      case UInt8(ascii: "\\"):
        position &+= 1
        try parseEscape(into: &utf8)
      case 0x00..<0x20:
        throw error("unescaped control character \(describeByte(byte)) in string")
      default:
        utf8.append(byte)
        position &+= 1
      }
    }
  }

  /// Decodes one escape sequence (the backslash already consumed) and appends its UTF-8.
  mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONError) {
    guard let byte = peek else { throw error("unterminated escape sequence") }
    position &+= 1
    switch byte {
    case UInt8(ascii: "\""): utf8.append(0x22)
    case UInt8(ascii: "\\"): utf8.append(0x5C)
    case UInt8(ascii: "/"): utf8.append(0x2F)
    case UInt8(ascii: "b"): utf8.append(0x08)
    case UInt8(ascii: "f"): utf8.append(0x0C)
    case UInt8(ascii: "n"): utf8.append(0x0A)
    case UInt8(ascii: "r"): utf8.append(0x0D)
    case UInt8(ascii: "t"): utf8.append(0x09)
    case UInt8(ascii: "u"):
      let escapeStart = position &- 2
      let unit = try parseHex4()
      var scalarValue = UInt32(unit)
      if (0xD800..<0xDC00).contains(unit) {
        // A high surrogate must be followed by an escaped low surrogate; together they encode
        // one scalar above U+FFFF.
        guard peek == UInt8(ascii: "\\"), position &+ 1 < bytes.count,
          bytes[position &+ 1] == UInt8(ascii: "u")
        else {
          position = escapeStart
          throw error("high surrogate escape not followed by a low surrogate escape")
        }
        position &+= 2
        let low = try parseHex4()
        guard (0xDC00..<0xE000).contains(low) else {
          position = escapeStart
          throw error("high surrogate escape not followed by a low surrogate escape")
        }
        scalarValue = 0x10000 &+ ((UInt32(unit) &- 0xD800) << 10) &+ (UInt32(low) &- 0xDC00)
      } else if (0xDC00..<0xE000).contains(unit) {
        position = escapeStart
        throw error("lone low surrogate escape")
      }
      guard let scalar = Unicode.Scalar(scalarValue) else {
        position = escapeStart
        throw error("invalid unicode escape")
      }
      utf8.append(contentsOf: String(Character(scalar)).utf8)
    default:
      position &-= 1
      throw error("invalid escape sequence: backslash followed by \(describeByte(byte))")
    }
  }

  /// Reads exactly four hexadecimal digits as a UTF-16 code unit.
  mutating func parseHex4() throws(JSONError) -> UInt16 {
    var value: UInt16 = 0
    for _ in 0..<4 {
      guard let byte = peek else { throw error("unterminated \\u escape") }
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte &- UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- UInt8(ascii: "a") &+ 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- UInt8(ascii: "A") &+ 10
      default: throw error("invalid hex digit \(describeByte(byte)) in \\u escape")
      }
      value = (value << 4) | UInt16(digit)
      position &+= 1
    }
    return value
  }
}
