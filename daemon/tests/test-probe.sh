#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# dirtyrated --probe: exits 0 exactly when it lists a soft-dirty backend
# (pagemap-ioctl or clear-refs) as available, 2 otherwise -- whatever else
# this kernel offers (page-sampling works everywhere). ./demo and the vm
# suite decide with it whether soft-dirty is here.
#   test-probe.sh DIRTYRATED
set -u
out=$("$1" --probe) && rc=0 || rc=$?
printf '%s\n' "$out"
case $out in
*"pagemap-ioctl  yes"* | *"clear-refs     yes"*) want=0 ;;
*) want=2 ;;
esac
for b in pagemap-ioctl clear-refs page-sampling faults-only; do
	printf '%s\n' "$out" | grep -Eq "^$b +(yes|no)\$" ||
		{ echo "FAIL: no line for $b"; exit 1; }
done
if [ "$rc" != "$want" ]; then
	echo "FAIL: --probe exited $rc, expected $want for the backends above"
	exit 1
fi
echo "ok: exit $rc"
