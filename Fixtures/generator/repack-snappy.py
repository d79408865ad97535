#!/usr/bin/env python3
"""Rewrite a kdump-compressed file whose pages are stored uncompressed so that
every page is snappy-compressed, the way makedumpfile -p would write it.

Usage: repack-snappy.py IN.kdump OUT.kdump

Debian builds makedumpfile without snappy, so the generator makes an
uncompressed kdump file (makedumpfile -d 31, no compression flag) and this
script compresses each page with snappy (raw format, python3-snappy), sets
page_desc.flags to 0x4 and the header status bit 0x4. A page whose snappy form
is not smaller than the page stays raw (flags 0), as makedumpfile does.
Headers, sub header, notes, VMCOREINFO and bitmaps are copied unchanged; the
page descriptors get the new offsets and sizes and the erase info (after the
page data) is moved, with offset_eraseinfo updated.
"""
import os
import struct
import sys

import snappy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kdump_format as kf  # noqa: E402


def main(src, dst):
    data = open(src, "rb").read()
    k = kf.KdumpFile(data)
    if k.hdr["status"] & (kf.ZLIB | kf.LZO | kf.SNAPPY | kf.ZSTD):
        sys.exit("input pages are already compressed (status %#x)" % k.hdr["status"])
    bs = k.block_size
    data_start = k.pd_off + kf.PAGE_DESC.size * k.nr_dumped
    if k.descs and min(d[0] for d in k.descs) < data_start:
        sys.exit("page data overlaps the descriptors: unexpected layout")

    out_data = bytearray()
    new_descs, done = [], {}          # done: old offset -> new (offset, size, flags)
    stats = {"snappy": 0, "raw": 0}
    for off, size, flags, page_flags in k.descs:
        if flags:
            sys.exit("page at %#x has flags %#x: expected uncompressed pages" % (off, flags))
        if off not in done:
            page = data[off:off + size]
            comp = snappy.compress(page)
            if off == data_start and not any(page):
                # makedumpfile's shared zero page (first in the data area) is
                # always written raw, whatever the compression.
                blob, fl = page, 0
                stats["raw"] += 1
            elif len(comp) < size:
                blob, fl = comp, kf.SNAPPY
                stats["snappy"] += 1
            else:
                blob, fl = page, 0
                stats["raw"] += 1
            done[off] = (data_start + len(out_data), len(blob), fl)
            out_data += blob
        noff, nsize, nfl = done[off]
        new_descs.append(kf.PAGE_DESC.pack(noff, nsize, nfl, page_flags))

    # Erase info sits after the page data; move it and fix the sub header.
    sub = dict(k.sub)
    erase = b""
    if sub["size_eraseinfo"]:
        erase = data[sub["offset_eraseinfo"]:sub["offset_eraseinfo"] + sub["size_eraseinfo"]]
    sub["offset_eraseinfo"] = data_start + len(out_data)

    head = bytearray(data[:k.pd_off])
    struct.pack_into("<I", head, kf.HDR_STATUS, k.hdr["status"] | kf.SNAPPY)
    struct.pack_into(kf.SUB_FIELDS, head, bs, *[sub[n] for n in kf.SUB_NAMES])
    with open(dst, "wb") as f:
        f.write(head)
        f.write(b"".join(new_descs))
        f.write(out_data)
        f.write(erase)
    print("%s: %d pages snappy, %d raw, %d bytes -> %d bytes" %
          (dst, stats["snappy"], stats["raw"], len(data), os.path.getsize(dst)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
