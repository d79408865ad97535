#!/usr/bin/env python3
"""One line of page statistics of an ELF64 core dump: how many 4 KiB pages its
PT_LOAD segments hold and how many of them are all zeros.
Usage: elf-page-stats.py CORE"""
import struct
import sys

path = sys.argv[1]
with open(path, "rb") as f:
    eh = f.read(64)
    if eh[:4] != b"\x7fELF" or eh[4] != 2:
        sys.exit("not an ELF64 file")
    phoff, = struct.unpack_from("<Q", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    f.seek(phoff)
    phdrs = [struct.unpack_from("<IIQQQQQQ", f.read(phentsize)) for _ in range(phnum)]
    total = zero = 0
    zero_page = bytes(4096)
    for p_type, _, off, _, paddr, filesz, _, _ in phdrs:
        if p_type != 1:
            continue
        f.seek(off)
        left = filesz
        while left > 0:
            page = f.read(min(4096, left))
            left -= len(page)
            total += 1
            if page == zero_page[:len(page)]:
                zero += 1
print("%s: %d PT_LOAD pages (%.1f MiB), %d of them all zeros (%.0f %%), %d non-zero (%.1f MiB)" %
      (path.rsplit("/", 1)[-1], total, total / 256, zero, 100.0 * zero / max(total, 1), total - zero, (total - zero) / 256))
