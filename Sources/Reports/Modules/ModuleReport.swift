import LinuxKernel

/// Renders the module list as crash's `mod` does, and as JSON.
public enum ModuleReport {
  public static func text(_ list: ModuleList) -> String {
    var lines = ["     MODULE       NAME                         BASE         SIZE  STATE"]
    for module in list.modules {
      lines.append(
        String(module.address, radix: 16) + "  " + module.name.padding(toLength: 22) + " "
          + String(module.base, radix: 16) + "  " + pad(String(module.size), 5) + "  "
          + module.state.replacingPrefix("MODULE_STATE_", with: ""))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  public static func json(_ list: ModuleList) -> JSONValue {
    .array(
      list.modules.map { module in
        .object([
          ("name", .string(module.name)),
          ("base", .string("0x" + String(module.base, radix: 16))),
          ("size", .unsigned(module.size)),
          ("state", .string(module.state)),
          ("refcount", .optional(module.referenceCount) { .int(Int64($0)) }),
          ("taints", .optional(module.taints) { .unsigned($0) }),
          ("module", .string("0x" + String(module.address, radix: 16))),
        ])
      })
  }

  static func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
  }
}

extension String {
  func padding(toLength width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }

  func replacingPrefix(_ prefix: String, with replacement: String) -> String {
    hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
  }
}
