import AddressTranslation
import DumpFormats

/// Why a walk over kernel memory stopped early.
public enum WalkStop: Sendable, Equatable, CustomStringConvertible {
  /// A node was seen twice: the list loops without passing its head.
  case cycle(at: UInt64)
  /// A node could not be read (not in the dump, not mapped).
  case fault(at: UInt64, reason: String)
  /// The walk reached its step limit.
  case limit(Int)
  /// `next->prev` does not point back: the list is corrupt here.
  case inconsistent(node: UInt64, previous: UInt64)

  public var description: String {
    switch self {
    case .cycle(let address): return "stopped: the list loops at 0x\(String(address, radix: 16))"
    case .fault(let address, let reason):
      return "stopped: node 0x\(String(address, radix: 16)) unreadable (\(reason))"
    case .limit(let count): return "stopped after \(count) entries (limit)"
    case .inconsistent(let node, let previous):
      return "stopped: node 0x\(String(node, radix: 16)) does not link back to 0x\(String(previous, radix: 16))"
    }
  }
}

/// What a walk read, and why it stopped if it did not finish.
public struct Walk<Element> {
  public var elements: [Element]
  public var stop: WalkStop?
  public init(elements: [Element] = [], stop: WalkStop? = nil) {
    self.elements = elements
    self.stop = stop
  }
}

/// The kernel's circular doubly linked `list_head`, walked with a step limit,
/// cycle detection and a `next->prev` check (as drgn's validating walker).
public enum KernelList {
  /// The default bound on entries.
  public static let defaultLimit = 1 << 22

  /// The addresses of the `list_head`s linked after `head` (head excluded).
  ///
  /// - Parameters:
  ///   - head: the address of the list's head `list_head`.
  ///   - nextOffset/prevOffset: `list_head.next` and `.prev` (0 and 8 on
  ///     64-bit kernels).
  public static func nodes(
    from head: UInt64, in memory: VirtualMemory, nextOffset: UInt64 = 0,
    prevOffset: UInt64 = 8, limit: Int = defaultLimit
  ) -> Walk<UInt64> {
    var walk = Walk<UInt64>()
    var seen = Set<UInt64>()
    var previous = head
    var node: UInt64
    do {
      node = try memory.readPointer(at: head &+ nextOffset)
    } catch {
      walk.stop = .fault(at: head, reason: error.description)
      return walk
    }
    while node != head {
      guard walk.elements.count < limit else {
        walk.stop = .limit(limit)
        return walk
      }
      guard seen.insert(node).inserted else {
        walk.stop = .cycle(at: node)
        return walk
      }
      let next: UInt64
      let back: UInt64
      do {
        next = try memory.readPointer(at: node &+ nextOffset)
        back = try memory.readPointer(at: node &+ prevOffset)
      } catch {
        walk.stop = .fault(at: node, reason: error.description)
        return walk
      }
      guard back == previous else {
        walk.stop = .inconsistent(node: node, previous: previous)
        return walk
      }
      walk.elements.append(node)
      previous = node
      node = next
    }
    return walk
  }
}
