#!/bin/bash
# Writes Fixtures/<fixture>/expected/dwarf-layouts.json: the layouts of the
# kernel structure members coroner reads (task_struct, module…), a few type
# sizes and enumerators, taken from the DWARF of the fixture's vmlinux by gdb's
# Python API — a reader independent of coroner's own (libdw) one. Tests compare
# coroner's DWARF and BTF answers with these files; the vmlinux files (300-700
# MB each) stay in the cache.
#
#   Fixtures/generator/dwarf-layouts.sh [VMLINUX_DIR]
#
# VMLINUX_DIR defaults to $CORONER_VMLINUX_DIR, else
# ${CORONER_FIXTURE_CACHE:-/var/tmp/coroner-fixture-cache}/vmlinux. Each
# vmlinux-<release> there goes to every fixture folder whose
# expected/facts.json has that kernelRelease, and to the folders of its kernel
# series that have no facts.json yet (linux-5.10-sysrq, linux-6.1-sysrq,
# linux-6.12-sysrq, linux-6.12-la57-sysrq); other folders are left alone.
# Needs gdb with Python (Debian's gdb also reads arm64 and i386 files:
# apt-get install gdb).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fixtures=$(cd "$here/.." && pwd)
cache=${CORONER_FIXTURE_CACHE:-/var/tmp/coroner-fixture-cache}
vmlinux_dir=${1:-${CORONER_VMLINUX_DIR:-$cache/vmlinux}}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v gdb >/dev/null || die "gdb is not installed (apt-get install gdb)"
gdb -nx -batch -ex 'python import gdb' >/dev/null 2>&1 || die "this gdb has no Python"
[ -d "$vmlinux_dir" ] || die "no vmlinux folder $vmlinux_dir"

# The questions: "type member.path" lines, then sizes, then enumerators.
members='
task_struct tasks
task_struct thread.sp
task_struct thread.cpu_context.sp
task_struct comm
task_struct __state
task_struct state
task_struct pid
task_struct tgid
task_struct real_parent
task_struct on_cpu
task_struct cpu
task_struct flags
task_struct stack
task_struct mm
task_struct se.on_rq
task_struct rcu_users
task_struct sched_reset_on_fork
task_struct in_execve
task_struct thread_info.flags
module list
module name
module state
module mem
module core_layout
list_head next
'
sizes='task_struct module list_head thread_struct pid_t'
enumerators='PIDTYPE_PID PIDTYPE_TGID MODULE_STATE_LIVE MODULE_STATE_GOING TASK_COMM_LEN'

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

# gdb's side: reads the questions from the environment, prints JSON.
cat > "$workdir/layouts.py" <<'PYTHON'
import json
import os
import gdb

AGGREGATES = (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION)


def plain(t):
    """The type without typedefs and qualifiers."""
    for _ in range(64):
        t = t.unqualified()
        if t.code != gdb.TYPE_CODE_TYPEDEF:
            break
        t = t.strip_typedefs()
    return t


def lookup(name):
    for keyword in ("struct ", "union ", "enum ", ""):
        try:
            return gdb.lookup_type(keyword + name)
        except gdb.error:
            pass
    return None


def type_name(t):
    t = plain(t)
    code = t.code
    if code == gdb.TYPE_CODE_STRUCT:
        return "struct " + (t.tag or "(anonymous)")
    if code == gdb.TYPE_CODE_UNION:
        return "union " + (t.tag or "(anonymous)")
    if code == gdb.TYPE_CODE_ENUM:
        return "enum " + (t.tag or "(anonymous)")
    if code == gdb.TYPE_CODE_PTR:
        return "pointer"
    if code == gdb.TYPE_CODE_ARRAY:
        return "array"
    if code == gdb.TYPE_CODE_FUNC:
        return "function"
    if code == gdb.TYPE_CODE_VOID:
        return "void"
    return t.name or "?"


def find(t, name, base_bits, depth=0):
    """(field, bit position from the outer start), looking into anonymous
    struct and union members."""
    if depth > 32:
        return None
    t = plain(t)
    if t.code not in AGGREGATES:
        return None
    for field in t.fields():
        if field.name == name:
            return field, base_bits + field.bitpos
    for field in t.fields():
        if field.name is None and plain(field.type).code in AGGREGATES:
            found = find(field.type, name, base_bits + field.bitpos, depth + 1)
            if found:
                return found
    return None


def member(type_name_, path):
    t = lookup(type_name_)
    if t is None:
        return None
    bits = 0
    field = None
    for component in path.split("."):
        found = find(t, component, bits)
        if not found:
            return None
        field, bits = found
        t = field.type
    result = {
        "byteOffset": bits // 8,
        "size": field.type.sizeof,
        "typeName": type_name(field.type),
        "isPointer": plain(field.type).code == gdb.TYPE_CODE_PTR,
    }
    if field.bitsize:
        result["bitOffset"] = bits % 8
        result["bitSize"] = field.bitsize
    array = plain(field.type)
    if array.code == gdb.TYPE_CODE_ARRAY:
        low, high = array.range()
        result["arrayCount"] = high - low + 1
        result["elementSize"] = array.target().sizeof
    return result


def enumerator(name):
    try:
        value = gdb.parse_and_eval(name)
    except gdb.error:
        return None
    if plain(value.type).code != gdb.TYPE_CODE_ENUM:
        return None
    return int(value)


output = {"members": [], "sizes": {}, "enumerators": {}}
for line in os.environ["LAYOUT_MEMBERS"].strip().splitlines():
    type_name_, path = line.split()
    output["members"].append({"type": type_name_, "path": path, "layout": member(type_name_, path)})
for name in os.environ["LAYOUT_SIZES"].split():
    t = lookup(name)
    output["sizes"][name] = t.sizeof if t is not None else None
for name in os.environ["LAYOUT_ENUMERATORS"].split():
    output["enumerators"][name] = enumerator(name)
with open(os.environ["LAYOUT_OUTPUT"], "w") as out:
    json.dump(output, out)
PYTHON

# series_folders RELEASE : the x86-64 fixture folders of a vmlinux's series.
series_folders() {
  case $1 in
    5.10.*-amd64) echo linux-5.10-sysrq ;;
    6.1.*-amd64) echo linux-6.1-sysrq ;;
    6.12.*-amd64) echo linux-6.12-sysrq linux-6.12-la57-sysrq ;;
  esac
}

# fixture_release FOLDER : the kernelRelease of a folder's facts.json, or "".
fixture_release() {
  local facts="$fixtures/$1/expected/facts.json"
  [ -f "$facts" ] || return 0
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("kernelRelease") or "")' "$facts"
}

written=0
for vmlinux in "$vmlinux_dir"/vmlinux-*; do
  [ -f "$vmlinux" ] || continue
  release=${vmlinux##*/vmlinux-}
  targets=()
  for path in "$fixtures"/*/expected; do
    folder=$(basename "$(dirname "$path")")
    [ "$(fixture_release "$folder")" = "$release" ] && targets+=("$folder")
  done
  for folder in $(series_folders "$release"); do
    [ -d "$fixtures/$folder/expected" ] && [ -z "$(fixture_release "$folder")" ] && targets+=("$folder")
  done
  [ ${#targets[@]} -gt 0 ] || { log "no fixture folder for $release"; continue; }

  log "gdb reads $vmlinux (a minute or two)"
  build_id=$(readelf -n "$vmlinux" | awk '/Build ID:/ { print $3; exit }')
  gdb_version=$(gdb --version | head -1)
  LAYOUT_MEMBERS=$members LAYOUT_SIZES=$sizes LAYOUT_ENUMERATORS=$enumerators \
    LAYOUT_OUTPUT="$workdir/raw.json" \
    gdb -nx -batch -ex "file $vmlinux" -ex "source $workdir/layouts.py" >"$workdir/gdb.log" 2>&1 ||
    { cat "$workdir/gdb.log" >&2; die "gdb failed on $vmlinux"; }
  [ -s "$workdir/raw.json" ] || { cat "$workdir/gdb.log" >&2; die "gdb wrote nothing for $vmlinux"; }

  for folder in "${targets[@]}"; do
    python3 - "$workdir/raw.json" "$fixtures/$folder/expected/dwarf-layouts.json" \
      "${vmlinux##*/}" "$release" "$build_id" "$gdb_version" <<'PYTHON'
import json, sys
raw, target, name, release, build_id, gdb_version = sys.argv[1:]
data = json.load(open(raw))
document = {
    "generator": "Fixtures/generator/dwarf-layouts.sh, from the vmlinux's DWARF through " + gdb_version + "'s Python API",
    "vmlinux": name,
    "kernelRelease": release,
    "buildID": build_id,
    "conventions": (
        "Offsets in bytes from the start of the outer type, summed along dotted paths; "
        "members of anonymous structs and unions are found as direct members. "
        "layout is null when the member does not exist in this kernel. "
        "Bit-fields: byteOffset is the byte holding the first bit, bitOffset (0-7) counts from "
        "its least significant bit, size is the declared type's size. typeName resolves "
        "typedefs and qualifiers: 'struct x', 'union x', 'enum x', 'pointer', 'array', or a base "
        "type as gdb names it ('unsigned long' where DWARF and BTF say 'long unsigned int'). "
        "Enumerators are null when not an enum constant (a #define)."
    ),
    "members": data["members"],
    "sizes": data["sizes"],
    "enumerators": data["enumerators"],
}
with open(target, "w") as out:
    json.dump(document, out, indent=1, sort_keys=True)
    out.write("\n")
PYTHON
    log "wrote $folder/expected/dwarf-layouts.json"
    written=$((written + 1))
  done
done
log "$written file(s) written"
