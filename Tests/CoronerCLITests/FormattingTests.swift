import DumpFormats
import Reports
import Testing

@Suite struct FormattingTests {
  @Test func utcDates() {
    #expect(UTCDate.format(0) == "1970-01-01 00:00:00 UTC")
    #expect(UTCDate.format(951_782_400) == "2000-02-29 00:00:00 UTC")
    #expect(UTCDate.format(1_795_328_717) == "2026-11-22 06:25:17 UTC")  // crash's DATE for linux-6.1-sysrq
    #expect(UTCDate.format(-1) == "1969-12-31 23:59:59 UTC")
  }

  @Test func wholeFileCompressionIsNamed() {
    let xz = MemoryByteSource([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0], name: "dump.xz")
    let error = #expect(throws: DumpError.self) { try DumpFile(source: xz) }
    #expect(error?.message.contains("xz-compressed") == true)
  }
}
