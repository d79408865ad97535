/// The result of reading every present page of a dump.
public struct MemoryVerification: Sendable {
  public var pagesRead: UInt64 = 0
  public var bytesRead: UInt64 = 0
  /// Pages that failed to read, with the first few errors.
  public var failures: UInt64 = 0
  public var firstErrors: [String] = []
}

extension PhysicalMemory {
  /// Reads (and so decompresses and checks) every present page, in order.
  public func verifyAllPages(maximumErrors: Int = 10) -> MemoryVerification {
    var result = MemoryVerification()
    let limit = pageFrameLimit
    var pfn: UInt64 = 0
    while pfn < limit {
      if pageState(pfn) == .present {
        do {
          let page = try readPage(pfn)
          result.pagesRead += 1
          result.bytesRead += UInt64(page.count)
        } catch {
          result.failures += 1
          if result.firstErrors.count < maximumErrors { result.firstErrors.append(error.description) }
        }
      }
      pfn += 1
    }
    return result
  }
}
