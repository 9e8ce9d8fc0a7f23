#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# page-sampling on a kernel without soft-dirty (this host): the daemon picks
# it over faults-only; an unprivileged workload's rate (it rewrites memory it
# already wrote, which faults-only reads as 0) is within 15 % of the truth
# with a standard error above 0; processes that exit while tracked (some in
# the middle of a pass) leave no object and no broken daemon.
# $4: the build's dirtyrate-workload.
. "$(dirname "$0")/dbus-test-lib.sh"
WORKLOAD=$4
M=/org/dirtyrate1
I=org.dirtyrate1.Manager
PI=org.dirtyrate1.Process

backend=$(get $M $I Backend)
features=$(get $M $I Features)
echo "Backend $backend, Features $features"
case "$features" in *'"pagemap-ioctl"'*|*'"clear-refs"'*)
	echo "soft-dirty present: a soft-dirty backend comes first here"; exit 77 ;;
esac
[ "$backend" = '"page-sampling"' ] || fail "expected page-sampling over faults-only, got $backend"
case "$features" in *'"page-sampling"'*) ;; *) fail "Features lacks page-sampling: $features" ;; esac

# An unprivileged workload: 2560 pages/s (10 MiB/s) in a 64 MiB region.
setpriv --reuid=nobody --regid=nogroup --clear-groups "$WORKLOAD" --pages-per-sec=2560 --region=64M \
	>"$TMP/wl" &
WL=$!
CHILDREN="$CHILDREN $WL"
wait_for "the workload" test -s "$TMP/wl"
call TrackProcess u "$WL" >/dev/null
P=$M/process/$WL
[ "$(get "$P" $PI Backend)" = '"page-sampling"' ] || fail "workload backend $(get "$P" $PI Backend)"
[ "$(get "$P" $PI UID)" = 65534 ] || fail "workload UID"
sleep 4
truth=$((2560 * $(getconf PAGESIZE)))
avg=$(get "$P" $PI DirtyBytesPerSecAvg10)
se=$(get "$P" $PI DirtyBytesPerSecAvg10StdError)
last_se=$(get "$P" $PI DirtyBytesPerSecStdError)
sampled=$(get "$P" $PI SampledPages)
echo "truth $truth B/s: Avg10 $avg ± $se, last interval ± $last_se, $sampled pages read a pass"
awk -v a="$avg" -v t="$truth" 'BEGIN { e = (a - t) / t; exit (e < 0.15 && e > -0.15) ? 0 : 1 }' ||
	fail "Avg10 $avg not within 15 % of $truth"
awk -v s="$se" -v l="$last_se" 'BEGIN { exit (s > 0 && l > 0 && s < l) ? 0 : 1 }' ||
	fail "standard errors: Avg10 $se, last $last_se (expected 0 < Avg10's < the interval's)"
[ "$sampled" -ge 64 ] || fail "SampledPages $sampled"
# The Manager's spend: the one page-sampled process's pages a pass, over
# the period between passes (the interval, or longer under load).
pps=$(get $M $I SampledPagesPerSec)
interval=$(get $M $I SampleIntervalUSec)
echo "SampledPagesPerSec $pps (interval $interval us)"
awk -v p="$pps" -v s="$sampled" -v i="$interval" 'BEGIN { e = s * 1e6 / i; exit (p >= e / 3 && p <= e * 1.1) ? 0 : 1 }' ||
	fail "SampledPagesPerSec $pps, for one process reading $sampled pages a pass every $interval us"

# Exits while tracked: 20 processes of 32 MiB that live 0.05 .. 1 s, tracked
# at 100 ms passes, so that some go in the middle of a pass (their reads
# fail with ESRCH). None may be left and the workload must still be read.
i=0
while [ $i -lt 20 ]; do
	"$WORKLOAD" --quiet --pages-per-sec=20000 --region=32M --unique-window=1 &
	pid=$!
	call TrackProcess u "$pid" >/dev/null 2>&1 || true
	sleep "0.0$((i % 10))"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	i=$((i + 1))
done
tracked() { [ "$(get $M $I TrackedProcesses)" = 1 ]; }
wait_for "the exited processes' objects to go" tracked
kill -0 "$DIRTYRATED_PID" || fail "the daemon died"
t0=$(get "$P" $PI LastSampleTimestampMonotonic)
sleep 0.5
[ "$(get "$P" $PI LastSampleTimestampMonotonic)" -gt "$t0" ] || fail "no pass after the exits"
! grep -q "pass failed" "$DIRTYRATED_LOG" || fail "a pass failed: $(grep 'pass failed' "$DIRTYRATED_LOG")"
echo "OK"
