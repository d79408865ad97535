#!/usr/bin/env python3
"""Print a kdump-compressed file's header facts as JSON (status bits, dump
level, page descriptor flag counts; for a part of a split dump its pfn range).
Usage: kdump-info.py FILE"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kdump_format as kf  # noqa: E402

k = kf.KdumpFile(open(sys.argv[1], "rb").read())
info = {
    "header_version": k.header_version,
    "utsname": k.utsname,
    "status": k.hdr["status"],
    "status_names": k.status_names(),
    "block_size": k.block_size,
    "nr_cpus": k.hdr["nr_cpus"],
    "dump_level": k.sub["dump_level"],
    "phys_base": hex(k.sub["phys_base"]),
    "max_mapnr": k.sub["max_mapnr_64"],
    "split": k.sub["split"],
    "start_pfn_64": k.sub["start_pfn_64"],
    "end_pfn_64": k.sub["end_pfn_64"],
    "start_pfn": k.sub["start_pfn"],
    "end_pfn": k.sub["end_pfn"],
    "dumped_pages": k.nr_dumped,
    "dumped_pages_whole_dump": k.nr_dumped_total,
    "page_flags": {hex(f): n for f, n in sorted(k.page_flag_counts().items())},
}
print(json.dumps(info, indent=1))
