/// A JSON value with ordered object keys, rendered without Foundation (the
/// CLI's start-up time matters) and in a stable form for pipelines.
public indirect enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int64)
  case unsigned(UInt64)
  case string(String)
  case array([JSONValue])
  case object([(String, JSONValue)])

  public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    lhs.rendered() == rhs.rendered()
  }

  /// An optional value or `null`.
  public static func optional<T>(_ value: T?, _ wrap: (T) -> JSONValue) -> JSONValue {
    value.map(wrap) ?? .null
  }

  /// Renders the value; `indent` > 0 pretty-prints.
  public func rendered(indent: Int = 2) -> String {
    var output = ""
    write(to: &output, indent: indent, level: 0)
    return output
  }

  func write(to output: inout String, indent: Int, level: Int) {
    let newline = indent > 0 ? "\n" : ""
    let pad = String(repeating: " ", count: indent * (level + 1))
    let closePad = String(repeating: " ", count: indent * level)
    switch self {
    case .null: output += "null"
    case .bool(let value): output += value ? "true" : "false"
    case .int(let value): output += String(value)
    case .unsigned(let value): output += String(value)
    case .string(let value): Self.writeString(value, to: &output)
    case .array(let values):
      if values.isEmpty {
        output += "[]"
        return
      }
      output += "[" + newline
      for (index, value) in values.enumerated() {
        output += pad
        value.write(to: &output, indent: indent, level: level + 1)
        output += (index + 1 < values.count ? "," : "") + newline
      }
      output += closePad + "]"
    case .object(let members):
      if members.isEmpty {
        output += "{}"
        return
      }
      output += "{" + newline
      for (index, (key, value)) in members.enumerated() {
        output += pad
        Self.writeString(key, to: &output)
        output += indent > 0 ? ": " : ":"
        value.write(to: &output, indent: indent, level: level + 1)
        output += (index + 1 < members.count ? "," : "") + newline
      }
      output += closePad + "}"
    }
  }

  static func writeString(_ value: String, to output: inout String) {
    output += "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": output += "\\\""
      case "\\": output += "\\\\"
      case "\n": output += "\\n"
      case "\r": output += "\\r"
      case "\t": output += "\\t"
      case let c where c.value < 0x20:
        let hex = String(c.value, radix: 16)
        output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: output.unicodeScalars.append(scalar)
      }
    }
    output += "\""
  }
}
