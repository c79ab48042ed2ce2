// Tests of the Foundation-free JSON parser and serializer used for model-file headers.

import SeqRNN
import Testing

/// Parses a Swift string's UTF-8.
private func parse(_ text: String, maxDepth: Int = jsonDefaultMaxDepth) throws(JSONError)
  -> JSONValue
{
  try parseJSON(Array(text.utf8), maxDepth: maxDepth)
}

/// The error `parse` throws for `text`, or nil when it parses.
private func parseError(_ text: String) -> JSONError? {
  parseError(Array(text.utf8))
}

/// The error `parseJSON` throws for `bytes`, or nil when they parse.
private func parseError(_ bytes: [UInt8]) -> JSONError? {
  do {
    _ = try parseJSON(bytes)
    return nil
  } catch {
    return error
  }
}

@Suite("JSON parsing")
struct JSONParsingTests {
  @Test("scalars parse to the expected values")
  func scalars() throws {
    #expect(try parse("null") == .null)
    #expect(try parse("true") == .bool(true))
    #expect(try parse("false") == .bool(false))
    #expect(try parse("0") == .number(0))
    #expect(try parse("-0").doubleValue?.sign == .minus)
    #expect(try parse("42") == .number(42))
    #expect(try parse("-1.25e-2") == .number(-0.0125))
    #expect(try parse("1E3") == .number(1000))
    #expect(try parse("1e+2") == .number(100))
    #expect(try parse("0.1") == .number(0.1))
    #expect(try parse("9007199254740993") == .number(9_007_199_254_740_992))
    #expect(try parse(" \t\r\n\"x\" \n") == .string("x"))
  }

  @Test("containers keep order and duplicate keys")
  func containers() throws {
    let value = try parse(#"{"b": [1, {"c": null}], "a": true, "b": "second"}"#)
    let members = try #require(value.objectValue)
    #expect(members.map(\.0) == ["b", "a", "b"])
    #expect(value["b"] == .array([.number(1), .object([("c", .null)])]))
    #expect(value["a"]?.boolValue == true)
    #expect(value["missing"] == nil)
    #expect(try parse("[]") == .array([]))
    #expect(try parse("{}") == .object([]))
    #expect(try parse("[ [ ] , { } ]") == .array([.array([]), .object([])]))
  }

  @Test("object equality depends on member order")
  func objectEquality() {
    let ab = JSONValue.object([("a", .number(1)), ("b", .number(2))])
    let ba = JSONValue.object([("b", .number(2)), ("a", .number(1))])
    #expect(ab == ab)
    #expect(ab != ba)
    #expect(ab != .object([("a", .number(1))]))
    #expect(JSONValue.array([.null]) != .array([.bool(false)]))
    #expect(JSONValue.number(1) != .string("1"))
  }

  @Test("every escape decodes, including surrogate pairs")
  func escapes() throws {
    let text = #""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00""#
    #expect(try parse(text) == .string("\"\\/\u{8}\u{c}\n\r\tAé€😀"))
    #expect(try parse(#""\u0000""#) == .string("\u{0}"))
    #expect(try parse("\"héllo 😀\"") == .string("héllo 😀"))
  }

  @Test("accessors return values only for the matching case")
  func accessors() throws {
    #expect(JSONValue.number(3).intValue == 3)
    #expect(JSONValue.number(3.0e3).intValue == 3000)
    #expect(JSONValue.number(-7).intValue == -7)
    #expect(JSONValue.number(2.5).intValue == nil)
    #expect(JSONValue.number(1e300).intValue == nil)
    #expect(JSONValue.string("3").intValue == nil)
    #expect(JSONValue.number(2.5).doubleValue == 2.5)
    #expect(JSONValue.bool(true).doubleValue == nil)
    #expect(JSONValue.string("s").stringValue == "s")
    #expect(JSONValue.null.stringValue == nil)
    #expect(JSONValue.bool(false).boolValue == false)
    #expect(JSONValue.number(0).boolValue == nil)
    #expect(JSONValue.null.isNull)
    #expect(!JSONValue.bool(false).isNull)
    #expect(JSONValue.array([]).objectValue == nil)
    #expect(JSONValue.number(1)["k"] == nil)
  }
}

@Suite("JSON rejection")
struct JSONRejectionTests {
  @Test(
    "malformed documents are rejected",
    arguments: [
      "", " ", "nul", "tru", "True", "NaN", "Infinity", "-Infinity", "+1", "01", "-01", "-",
      "1.", ".5", "1e", "1e+", "0x10", "1 2", "{}x", "[1,]", "[,1]", "[1 2]", "{\"a\":1,}",
      "{\"a\" 1}", "{a:1}", "{'a':1}", "{\"a\":}", "[", "]", "{", "}", "\"abc", "\"\\x\"",
      "\"\\u12\"", "\"\\u12G4\"", "\"\\ud800\"", "\"\\ud800\\u0041\"", "\"\\udc00\"",
      "\"\\ud800x\"", "\"tab\there\"", "\"nl\nx\"", "// c\n1", "/* c */ 1", "[1]]", "1e400",
      "-1e400", "\u{FEFF}1",
    ])
  func malformed(_ text: String) {
    #expect(parseError(text) != nil, "accepted \(text.debugDescription)")
  }

  @Test("invalid UTF-8 inside strings is rejected")
  func invalidUTF8() {
    let quote = UInt8(ascii: "\"")
    for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xE2, 0x82], [0x80], [0xED, 0xA0, 0x80]] {
      #expect(parseError([quote] + bad + [quote]) != nil, "accepted bytes \(bad)")
    }
    // A stray non-ASCII byte outside a string is rejected too.
    #expect(parseError([0xC3, 0xA9]) != nil)
  }

  @Test("errors report the byte offset of the problem")
  func offsets() {
    #expect(parseError("[1,]")?.offset == 3)
    #expect(parseError("{\"a\" 1}")?.offset == 5)
    #expect(parseError("[1] x")?.offset == 4)
    #expect(parseError("01")?.offset == 1)
    #expect(parseError("\"a\\qb\"")?.offset == 3)
    #expect(parseError("")?.message == "unexpected end of input, expected a value")
    #expect(parseError("[1] x")?.message == "unexpected character 'x' after the JSON value")
  }

  @Test("nesting is limited to the maximum depth")
  func depthLimit() throws {
    let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
    #expect(throws: Never.self) { try parse(ok) }
    let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
    let error = try #require(parseError(tooDeep))
    #expect(error.message == "nesting deeper than 64 levels")
    #expect(error.offset == 64)
    let objects = String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65)
    #expect(parseError(objects)?.message == "nesting deeper than 64 levels")
    // Hostile depth that would overflow the stack of an unbounded recursive parser.
    #expect(parseError(String(repeating: "[", count: 1_000_000)) != nil)
    #expect(throws: JSONError.self) { try parse("[[[1]]]", maxDepth: 2) }
    #expect(try parse("[[1]]", maxDepth: 2) == .array([.array([.number(1)])]))
  }

  @Test("every proper prefix of a document is rejected")
  func truncation() {
    let text = Array(#"{"a":[1,-2.5e3,{"b":"c\u00e9\ud83d\ude00"}],"t":true,"n":null}"#.utf8)
    #expect(parseError(text) == nil)
    for length in 0..<text.count {
      #expect(parseError(Array(text[..<length])) != nil, "accepted a prefix of \(length) bytes")
    }
  }

  @Test("random and mutated input never traps")
  func fuzz() {
    var rng = SeededRNG(seed: 0x5EED)
    let seed = Array(#"{"k":[1,2.5e-3,"s\n\u00e9",true,false,null,{"x":{}}]}"#.utf8)
    let alphabet = Array(#"{}[],:"\-+.eE0123456789tfnulrsa \#t\#n"#.utf8) + [0x00, 0x80, 0xFF]
    for _ in 0..<5000 {
      var bytes = seed
      for _ in 0..<Int.random(in: 1...4, using: &rng) {
        let index = Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: bytes[index] = alphabet.randomElement(using: &rng)!
        case 1: bytes.remove(at: index)
        default: bytes.insert(alphabet.randomElement(using: &rng)!, at: index)
        }
        if bytes.isEmpty { bytes = [0x20] }
      }
      // Either outcome is fine; reaching the next iteration means no trap.
      _ = parseError(bytes)
    }
    for _ in 0..<2000 {
      let bytes = (0..<Int.random(in: 0...40, using: &rng)).map { _ in
        alphabet.randomElement(using: &rng)!
      }
      _ = parseError(bytes)
    }
  }
}

@Suite("JSON serialization")
struct JSONSerializationTests {
  @Test("output is compact with integers printed exactly")
  func compact() {
    let value = JSONValue.object([
      ("name", .string("rnn")), ("layers", .number(2)), ("dropout", .number(0.1)),
      ("shape", .array([.number(4), .number(-3)])), ("bidirectional", .bool(false)),
      ("extra", .null), ("big", .number(1e300)), ("tiny", .number(1e-5)),
    ])
    #expect(
      serializeJSON(value)
        == #"{"name":"rnn","layers":2,"dropout":0.1,"shape":[4,-3],"bidirectional":false,"#
        + #""extra":null,"big":1e+300,"tiny":1e-05}"#)
    #expect(serializeJSON(.number(123_456_789_012)) == "123456789012")
    #expect(serializeJSON(.number(0x1p62)) == "4611686018427387904")
    #expect(serializeJSON(.number(-0x1p63)) == "-9.223372036854776e+18")
    #expect(serializeJSON(.number(-0.0)) == "-0")
    #expect(serializeJSON(.number(2.5)) == "2.5")
  }

  @Test("non-finite numbers become null")
  func nonFinite() {
    #expect(
      serializeJSON(.array([.number(.nan), .number(.infinity), .number(-.infinity)]))
        == "[null,null,null]")
  }

  @Test("strings are escaped as RFC 8259 requires")
  func escaping() {
    #expect(serializeJSON(.string("a\"b\\c/d")) == #""a\"b\\c/d""#)
    #expect(serializeJSON(.string("\n\r\t\u{8}\u{c}")) == #""\n\r\t\b\f""#)
    #expect(serializeJSON(.string("\u{0}\u{1}\u{1f}")) == #""\u0000\u0001\u001f""#)
    #expect(serializeJSON(.string("é€😀")) == "\"é€😀\"")
    #expect(serializeJSON(.object([("k\"ey", .string("v"))])) == #"{"k\"ey":"v"}"#)
  }

  @Test("serialize then parse gives back the same value")
  func roundTrip() throws {
    let value = JSONValue.object([
      ("s", .string("quote \" backslash \\ control \u{1} newline \n emoji 😀")),
      ("n", .array([.number(0), .number(-1), .number(0.1), .number(1.0 / 3.0), .number(6.02e23)])),
      ("nested", .object([("a", .array([.array([.object([])])])), ("b", .bool(true))])),
      ("z", .null),
    ])
    #expect(try parse(serializeJSON(value)) == value)
    // And the text is stable on a second trip.
    let text = serializeJSON(value)
    #expect(serializeJSON(try parse(text)) == text)
  }
}
