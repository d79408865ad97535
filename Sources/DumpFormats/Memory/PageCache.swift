/// A small, fixed-size cache of decoded pages (CLOCK replacement).
///
/// Its size is set at creation and never grows with the dump.
final class PageCache {
  private var keys: [UInt64]
  private var pages: [[UInt8]]
  private var referenced: [Bool]
  private var slotOfKey: [UInt64: Int] = [:]
  private var hand = 0
  let capacity: Int

  init(capacity: Int) {
    self.capacity = max(1, capacity)
    keys = []
    pages = []
    referenced = []
    keys.reserveCapacity(self.capacity)
  }

  func page(_ key: UInt64) -> [UInt8]? {
    guard let slot = slotOfKey[key] else { return nil }
    referenced[slot] = true
    return pages[slot]
  }

  func insert(_ key: UInt64, _ page: [UInt8]) {
    if let slot = slotOfKey[key] {
      pages[slot] = page
      return
    }
    if keys.count < capacity {
      slotOfKey[key] = keys.count
      keys.append(key)
      pages.append(page)
      referenced.append(false)
      return
    }
    while referenced[hand] {
      referenced[hand] = false
      hand = (hand + 1) % capacity
    }
    slotOfKey[keys[hand]] = nil
    keys[hand] = key
    pages[hand] = page
    slotOfKey[key] = hand
    hand = (hand + 1) % capacity
  }
}
