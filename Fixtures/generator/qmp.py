#!/usr/bin/env python3
"""Minimal QMP client: send commands to a QEMU monitor socket, one at a time.

Usage: qmp.py SOCKET 'JSON-COMMAND' ['JSON-COMMAND' ...]
Negotiates capabilities, then sends each command and waits for its "return"
(or "error"), skipping asynchronous events. Prints every answer; exits 1 on an error.
"""
import json
import socket
import sys


def main(path, cmds):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rw")
    json.loads(f.readline())                       # greeting

    def call(cmd):
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        while True:
            msg = json.loads(f.readline())
            if "event" in msg:
                continue
            return msg

    call({"execute": "qmp_capabilities"})
    rc = 0
    for c in cmds:
        ans = call(json.loads(c))
        print(json.dumps(ans))
        if "error" in ans:
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
