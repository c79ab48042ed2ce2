// Python's character classes and lower-casing, so the tokenizer splits text exactly as
// Python's `re` does: files and ids made by the Python package and by C or Swift programs
// must agree token for token.

/// Whether `scalar` is in Python's `\w` for `str` patterns: `str.isalnum()` (letters of
/// categories Lu, Ll, Lt, Lm, Lo, and every scalar with a numeric value, which covers all
/// decimal digits, digits and numerics) or the underscore.
@inline(__always)
package func isPythonWordScalar(_ scalar: Unicode.Scalar) -> Bool {
  let v = scalar.value
  if v < 0x80 { return asciiWord[Int(v)] }
  let properties = scalar.properties
  switch properties.generalCategory {
  case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
    return true
  default:
    return properties.numericType != nil
  }
}

/// Whether `scalar` is in Python's `\s` for `str` patterns (`str.isspace()`): bidirectional
/// class WS, B or S, or category Zs. Unicode's White_Space property differs (it lacks
/// U+001C..U+001F), so the list is spelled out.
@inline(__always)
package func isPythonSpaceScalar(_ scalar: Unicode.Scalar) -> Bool {
  switch scalar.value {
  case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F,
    0x205F, 0x3000:
    return true
  default:
    return false
  }
}

/// `\w` for ASCII, by table: letters, digits and `_`.
private let asciiWord: [Bool] = (0..<128).map { v in
  (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
}

/// Appends the UTF-8 bytes of `scalar` to `out`.
@inline(__always)
package func appendUTF8(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
  let v = scalar.value
  if v < 0x80 {
    out.append(UInt8(v))
  } else if v < 0x800 {
    out.append(UInt8(0xC0 | (v >> 6)))
    out.append(UInt8(0x80 | (v & 0x3F)))
  } else if v < 0x10000 {
    out.append(UInt8(0xE0 | (v >> 12)))
    out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
    out.append(UInt8(0x80 | (v & 0x3F)))
  } else {
    out.append(UInt8(0xF0 | (v >> 18)))
    out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
    out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
    out.append(UInt8(0x80 | (v & 0x3F)))
  }
}

/// The scalars of valid UTF-8 `bytes` (the caller validated them).
package func decodeScalars(_ bytes: UnsafeBufferPointer<UInt8>) -> [Unicode.Scalar] {
  var scalars: [Unicode.Scalar] = []
  scalars.reserveCapacity(bytes.count)
  var i = 0
  while i < bytes.count {
    let (scalar, width) = decodeScalar(bytes, at: i)
    scalars.append(scalar)
    i += width
  }
  return scalars
}

/// The scalar starting at byte `i` of valid UTF-8 and its width in bytes.
@inline(__always)
package func decodeScalar(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (Unicode.Scalar, Int) {
  let b0 = UInt32(bytes[i])
  let value: UInt32
  let width: Int
  if b0 < 0x80 {
    value = b0
    width = 1
  } else if b0 < 0xE0 {
    value = (b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
    width = 2
  } else if b0 < 0xF0 {
    value = (b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
    width = 3
  } else {
    value =
      (b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
      | UInt32(bytes[i + 3] & 0x3F)
    width = 4
  }
  // Valid UTF-8 never encodes a surrogate or a value past U+10FFFF.
  return (Unicode.Scalar(value) ?? "\u{FFFD}", width)
}

/// Python's `str.lower()` of valid UTF-8 text, as UTF-8: each scalar's full lower-case
/// mapping (SpecialCasing included, so "İ" becomes "i̇"), and a capital sigma becomes the
/// final "ς" when a cased letter precedes it and none follows it (case-ignorable scalars
/// skipped both ways), as Python does. Swift's `lowercased()` has no final-sigma rule.
package func pythonLowercasedUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
  var out: [UInt8] = []
  out.reserveCapacity(bytes.count)
  // All-ASCII text is the common case: no tables, no allocation per scalar.
  if !bytes.contains(where: { $0 >= 0x80 }) {
    for b in bytes { out.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b) }
    return out
  }
  let scalars = decodeScalars(bytes)
  for (k, scalar) in scalars.enumerated() {
    let v = scalar.value
    if v < 0x80 {
      out.append(v >= 0x41 && v <= 0x5A ? UInt8(v | 0x20) : UInt8(v))
    } else if v == 0x3A3 {
      appendUTF8(isFinalSigma(scalars, k) ? "\u{3C2}" : "\u{3C3}", to: &out)
    } else {
      for lowered in scalar.properties.lowercaseMapping.unicodeScalars {
        appendUTF8(lowered, to: &out)
      }
    }
  }
  return out
}

/// Python's Final_Sigma condition for the capital sigma at `scalars[k]` of the original text:
/// the nearest scalar before it that is not case-ignorable is cased, and the nearest one after
/// it is not (or there is none).
private func isFinalSigma(_ scalars: [Unicode.Scalar], _ k: Int) -> Bool {
  /// nil for case-ignorable scalars (skipped), else whether the scalar is cased.
  func cased(_ s: Unicode.Scalar) -> Bool? {
    s.properties.isCaseIgnorable ? nil : s.properties.isCased
  }
  var precededByCased = false
  for j in stride(from: k - 1, through: 0, by: -1) {
    if let c = cased(scalars[j]) {
      precededByCased = c
      break
    }
  }
  guard precededByCased else { return false }
  for m in (k + 1)..<scalars.count {
    if let c = cased(scalars[m]) { return !c }
  }
  return true
}
