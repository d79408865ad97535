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
page data) is moved, with offset_eraseinfo updated. makedumpfile's shared
zero page (the first page of the data area) stays raw, as makedumpfile writes
it whatever the compression.

A part of a split dump (makedumpfile --split) works the same way: it holds
descriptors only for its own pfn range, in a descriptor area sized for the
whole dump; the unused rest of that area is copied as it is.
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
    data_start = k.data_start
    if k.descs and min(d[0] for d in k.descs) < data_start:
        sys.exit("page data overlaps the descriptors: unexpected layout")

    out_data = bytearray()
    new_descs, done = [], {}          # done: old offset -> new (offset, size, flags)
    stats = {"snappy": 0, "raw": 0}
    zero_page = data[data_start:data_start + bs]
    if len(zero_page) == bs and not any(zero_page):
        # makedumpfile's shared zero page: always first, always raw.
        done[data_start] = (data_start, bs, 0)
        out_data += zero_page
    for off, size, flags, page_flags in k.descs:
        if flags:
            sys.exit("page at %#x has flags %#x: expected uncompressed pages" % (off, flags))
        if off not in done:
            page = data[off:off + size]
            comp = snappy.compress(page)
            if len(comp) < size:
                blob, fl = comp, kf.SNAPPY
                stats["snappy"] += 1
            else:
                blob, fl = page, 0
                stats["raw"] += 1
            done[off] = (data_start + len(out_data), len(blob), fl)
            out_data += blob
        elif off == data_start:
            stats["raw"] += 1
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
        f.write(data[k.pd_off + len(new_descs) * kf.PAGE_DESC.size:data_start])   # unused descriptors (split parts)
        f.write(out_data)
        f.write(erase)
    print("%s: %d pages snappy, %d raw, %d bytes -> %d bytes" %
          (dst, stats["snappy"], stats["raw"], len(data), os.path.getsize(dst)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
