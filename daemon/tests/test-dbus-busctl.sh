#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Every Manager property and the read methods through busctl, as root and as
# nobody; a mutating call as nobody is refused by the daemon.
. "$(dirname "$0")/dbus-test-lib.sh"
M=/org/dirtyrate1
I=org.dirtyrate1.Manager

[ "$(get $M $I Version)" = "\"$("$DAEMON" --version)\"" ] || fail "Version mismatch"
backend=$(get $M $I Backend)
case "$backend" in
	'"pagemap-ioctl"'|'"clear-refs"'|'"page-sampling"'|'"faults-only"') ;;
	*) fail "Backend is $backend" ;;
esac
features=$(get $M $I Features)
echo "Backend $backend, Features $features"
# On a kernel without soft-dirty (this host), page-sampling (over faults-only).
if ! grep -q '^CONFIG_MEM_SOFT_DIRTY=y' "/boot/config-$(uname -r)" 2>/dev/null &&
   [ ! -e /proc/self/clear_refs ] ; then
	[ "$backend" = '"page-sampling"' ] || fail "expected page-sampling"
fi
[ "$(get $M $I PageSize)" = "$(getconf PAGESIZE)" ] || fail "PageSize"
[ "$(get $M $I SampleIntervalUSec)" = 100000 ] || fail "SampleIntervalUSec"
[ "$(get $M $I TrackedProcesses)" = 0 ] || fail "TrackedProcesses"
get $M $I LastSampleDurationUSec >/dev/null
get $M $I SampledPagesPerSec >/dev/null
[ "$(get $M $I DaemonCPUUSec)" -gt 0 ] || fail "DaemonCPUUSec"

spawn_named dr-busctl
call TrackProcess u "$SPAWNED" >/dev/null
[ "$(get $M $I TrackedProcesses)" = 1 ] || fail "TrackedProcesses after TrackProcess"
call ListProcesses | grep -q "^a(uosddt) 1 $SPAWNED \"/org/dirtyrate1/process/$SPAWNED\" \"dr-busctl\" " ||
	fail "ListProcesses: $(call ListProcesses)"
P=/org/dirtyrate1/process/$SPAWNED
[ "$(get "$P" org.dirtyrate1.Process Comm)" = '"dr-busctl"' ] || fail "Comm"
[ "$(get "$P" org.dirtyrate1.Process PID)" = "$SPAWNED" ] || fail "PID"
"$BUSCTL" --system introspect org.dirtyrate1 "$P" org.dirtyrate1.Process

# Reads are open to anyone, mutations are not.
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
[ "$(as_nobody "$BUSCTL" --system get-property org.dirtyrate1 $M $I TrackedProcesses)" = "u 1" ] ||
	fail "nobody cannot read TrackedProcesses"
as_nobody "$BUSCTL" --system get-property org.dirtyrate1 "$P" org.dirtyrate1.Process DirtiedBytesTotal >/dev/null ||
	fail "nobody cannot read a Process property"
as_nobody "$BUSCTL" --system call org.dirtyrate1 $M $I ListProcesses >/dev/null || fail "nobody cannot list"
if as_nobody "$BUSCTL" --system call org.dirtyrate1 $M $I UntrackProcess u "$SPAWNED" 2>"$TMP/err"; then
	fail "nobody could UntrackProcess"
fi
# busctl shows any AccessDenied as "Access denied"; that the daemon (not the
# bus policy) refused is checked by test-bus-client's "unprivileged" test.
grep -q "Access denied" "$TMP/err" || fail "unexpected failure: $(cat "$TMP/err")"
[ "$(get $M $I TrackedProcesses)" = 1 ] || fail "the denied call changed something"

# A comm that is not UTF-8 (the kernel allows any bytes; this one is cut
# inside a two-byte sequence, as a 15-byte truncation does) reads as U+FFFD
# per bad byte, and does not break the replies that carry every process.
BAD=$(printf 'dr-bad\377name\303')
spawn_named "$BAD"
call TrackProcess u "$SPAWNED" >/dev/null
comm=$("$BUSCTL" --system --json=short get-property org.dirtyrate1 "/org/dirtyrate1/process/$SPAWNED" \
	org.dirtyrate1.Process Comm | python3 -c 'import json,sys; print(ascii(json.load(sys.stdin)["data"]))')
[ "$comm" = "'dr-bad\ufffdname\ufffd'" ] || fail "Comm of a non-UTF-8 name: $comm"
call ListProcesses >/dev/null || fail "ListProcesses with a non-UTF-8 comm"
"$BUSCTL" --system call org.dirtyrate1 $M org.freedesktop.DBus.ObjectManager GetManagedObjects >/dev/null ||
	fail "GetManagedObjects with a non-UTF-8 comm"
echo "ok busctl"
