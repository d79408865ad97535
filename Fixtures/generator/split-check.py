#!/usr/bin/env python3
"""Check one part of a split kdump (makedumpfile --split) page by page against
a whole dump of the same crash, both read with drgn (libkdumpfile):

    split-check.py PART START_PFN END_PFN WHOLE_DUMP

Every page of the part's pfn range [START_PFN, END_PFN) must read the same
from the part as from WHOLE_DUMP (pages absent from both are counted apart),
and the page just outside the range must be unreadable from the part.
Prints one JSON object; exit status 1 when a page differs.
Run with drgn's Python (the generator's venv)."""
import json
import sys

import drgn


def open_dump(path):
    prog = drgn.Program()
    prog.set_core_dump(path)
    return prog


def readable(prog, pfn):
    try:
        return prog.read(pfn * 4096, 4096, True)
    except (drgn.FaultError, ValueError):
        return None


part_path, lo, hi, whole_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
part, whole = open_dump(part_path), open_dump(whole_path)
res = {"range": [lo, hi], "equal": 0, "different": 0, "absentFromBoth": 0,
       "onlyInPart": 0, "onlyInWhole": 0}
for pfn in range(lo, hi):
    a, b = readable(part, pfn), readable(whole, pfn)
    if a is None and b is None:
        res["absentFromBoth"] += 1
    elif a is None:
        res["onlyInWhole"] += 1
    elif b is None:
        res["onlyInPart"] += 1
    elif a == b:
        res["equal"] += 1
    else:
        res["different"] += 1
outside = [p for p in (lo - 1, hi) if p >= 0 and readable(whole, p) is not None]
res["outsideRangeReadableFromPart"] = [p for p in outside if readable(part, p) is not None]
res["ok"] = res["different"] == 0 and res["onlyInPart"] == 0 and res["onlyInWhole"] == 0 \
    and not res["outsideRangeReadableFromPart"]
print(json.dumps(res))
sys.exit(0 if res["ok"] else 1)
