#!/bin/busybox sh
# A workload process of the panic guests. It runs under a link named
# /bin/coroner-NAME, which becomes its comm. "sleep": waits in a child sleep;
# "spin": busy loop in the shell itself (on the CPU when the crash comes).
case "$1" in
    spin) i=0; while :; do i=$((i + 1)); done ;;
    *) while :; do sleep 1000; done ;;
esac
