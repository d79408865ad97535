"""Reading and writing makedumpfile's kdump-compressed ("KDUMP   ") layout.

Only what the generator needs, written from makedumpfile's published layout
(diskdump_mod.h): block 0 holds struct disk_dump_header, the next sub_hdr_size
blocks struct kdump_sub_header (plus the VMCOREINFO and ELF notes it points
to), then bitmap_blocks blocks of two equal bitmaps (1st: pages present,
2nd: pages dumped), then one struct page_desc per dumped page (pfn order),
then the page data, then the erase info (if any).

Split files (makedumpfile --split, sub header "split" = 1) carry the whole
2nd bitmap but page descriptors only for the pages of their own pfn range
[start_pfn_64, end_pfn_64); the descriptor area is still sized for every
dumped page of the whole dump, so the page data starts at the same offset in
every part.
"""
import struct

SIGNATURE = b"KDUMP   "
# disk_dump_header.status and page_desc.flags bits
ZLIB, LZO, SNAPPY, INCOMPLETE, EXCLUDED_VMEMMAP, ZSTD = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
STATUS_NAMES = {ZLIB: "zlib", LZO: "lzo", SNAPPY: "snappy", INCOMPLETE: "incomplete",
                EXCLUDED_VMEMMAP: "excluded_vmemmap", ZSTD: "zstd"}

# struct disk_dump_header (x86-64): signature[8], header_version, new_utsname
# (6 x 65 chars), padding, struct timeval, then eleven 32-bit fields.
HDR_UTS = 12                # offset of utsname
HDR_STATUS = 424            # offset of status (after the 16-byte timeval at 408)
HDR_FIELDS = "<IiiIIIIIIi"  # status .. nr_cpus (starting at HDR_STATUS)
HDR_NAMES = ["status", "block_size", "sub_hdr_size", "bitmap_blocks", "max_mapnr",
             "total_ram_blocks", "device_blocks", "written_blocks", "current_cpu", "nr_cpus"]

# struct kdump_sub_header (x86-64, header_version 6): 8-byte fields except the two ints.
SUB_FIELDS = "<QiiQQQQQQQQQQQ"
SUB_NAMES = ["phys_base", "dump_level", "split", "start_pfn", "end_pfn",
             "offset_vmcoreinfo", "size_vmcoreinfo", "offset_note", "size_note",
             "offset_eraseinfo", "size_eraseinfo", "start_pfn_64", "end_pfn_64", "max_mapnr_64"]

PAGE_DESC = struct.Struct("<qIIQ")   # offset, size, flags, page_flags


class KdumpFile:
    def __init__(self, data):
        if data[:8] != SIGNATURE:
            raise ValueError("not a kdump-compressed file (signature %r)" % data[:8])
        self.data = data
        self.header_version = struct.unpack_from("<i", data, 8)[0]
        uts = data[HDR_UTS:HDR_UTS + 6 * 65]
        self.utsname = [uts[i * 65:(i + 1) * 65].split(b"\0")[0].decode() for i in range(6)]
        self.hdr = dict(zip(HDR_NAMES, struct.unpack_from(HDR_FIELDS, data, HDR_STATUS)))
        bs = self.block_size = self.hdr["block_size"]
        self.sub = dict(zip(SUB_NAMES, struct.unpack_from(SUB_FIELDS, data, bs)))
        self.bitmap_off = bs * (1 + self.hdr["sub_hdr_size"])
        half = bs * self.hdr["bitmap_blocks"] // 2
        self.bitmap2 = data[self.bitmap_off + half:self.bitmap_off + 2 * half]
        self.pd_off = self.bitmap_off + 2 * half
        # every dumped page of the whole dump (sizes the descriptor area)
        self.nr_dumped_total = sum(bin(b).count("1") for b in self.bitmap2)
        self.split = bool(self.sub["split"])
        if self.split:
            lo, hi = self.sub["start_pfn_64"], self.sub["end_pfn_64"]
            self.nr_dumped = sum((self.bitmap2[i >> 3] >> (i & 7)) & 1 for i in range(lo, hi))
        else:
            self.nr_dumped = self.nr_dumped_total
        # where makedumpfile puts the page data (its shared zero page first)
        self.data_start = self.pd_off + PAGE_DESC.size * self.nr_dumped_total
        self.descs = [PAGE_DESC.unpack_from(data, self.pd_off + i * PAGE_DESC.size)
                      for i in range(self.nr_dumped)]

    def status_names(self):
        s = self.hdr["status"]
        return [n for bit, n in STATUS_NAMES.items() if s & bit]

    def page_flag_counts(self):
        counts = {}
        for _, _, flags, _ in self.descs:
            counts[flags] = counts.get(flags, 0) + 1
        return counts
