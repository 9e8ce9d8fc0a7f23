#!/bin/sh
# The ad-hoc script behind 19-patches.txt and 20-patches.txt, as it ran on
# that machine (its paths): the daemon's VM step (bench/daemon/run) on a given
# bzImage, smaller guest. Usage: run.sh BZIMAGE OUTFILE
set -u
cd /work/main || exit 1
k=$1 outf=$2
tmp=$(mktemp -d)
g=/opt/dirtyrate
tools/bus-config.py --socket /run/dirtyrate-bus --policy-dir "$g/policy" >"$tmp/guest-bus.conf"
set --
for b in sample-cost accuracy cpu-share; do set -- "$@" --add "build/bench/$b:$g/bin/$b"; done
DIRTYRATE_CACHE=/var/tmp/cold33 tests/vm/vm-run --kernel "$k" --mem 6G --timeout 2400 --append quiet "$@" \
	--add "build/daemon/dirtyrated:$g/bin/dirtyrated" \
	--add "build/tools/dirtyratectl:$g/bin/dirtyratectl" \
	--add "build/tools/dirtyrate-workload:$g/bin/dirtyrate-workload" \
	--add "tools/dirtyrate-session:$g/bin/dirtyrate-session" \
	--add "bench/daemon/guest:$g/bin/guest" \
	--add /usr/bin/dbus-daemon \
	--add "units/org.dirtyrate1.conf:$g/policy/org.dirtyrate1.conf" \
	--add "$tmp/guest-bus.conf:$g/bus.conf" \
	-- "$g/bin/guest" --prefix "$g" --cpu-region 64M >"$outf" 2>"$outf.log"
echo "rc=$?" >> "$outf.log"
