#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# ReadAccess=owner: two unprivileged users (nobody and daemon) each see only
# their own tracked process through every read (ListProcesses, GetProcess,
# Properties.Get/GetAll, GetManagedObjects, the object tree), root sees all,
# and polkit's org.dirtyrate1.read-all (a stand-in answers) shows a user
# everyone's. Run with a config that sets ReadAccess=owner.
. "$(dirname "$0")/dbus-test-lib.sh"
CLIENT=$4
M=/org/dirtyrate1
I=org.dirtyrate1.Manager
P=/org/dirtyrate1/process

start_fake_polkit "$CLIENT"

[ "$(get $M $I ReadAccess)" = '"owner"' ] || fail "ReadAccess is $(get $M $I ReadAccess)"

# One process per user: setpriv execs sleep in place, so $! is its PID.
ln -sf "$(command -v sleep)" "$TMP/dr-owned"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$TMP/dr-owned" 1000 &
A=$!
setpriv --reuid=daemon --regid=daemon --clear-groups "$TMP/dr-owned" 1000 &
B=$!
CHILDREN="$CHILDREN $A $B"
wait_for "nobody's process" comm_is "$A" dr-owned
wait_for "daemon's process" comm_is "$B" dr-owned
call TrackProcess u "$A" >/dev/null
call TrackProcess u "$B" >/dev/null

as() { user=$1; shift; setpriv --reuid="$user" --regid="$user" --init-groups "$@"; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
busctl_as() { # USER ARGS...: busctl as that user ("nobody" has group nogroup)
	u=$1; shift
	if [ "$u" = nobody ]; then as_nobody "$BUSCTL" --system "$@"; else as "$u" "$BUSCTL" --system "$@"; fi
}
list_pids() { busctl_as "$1" --json=short call org.dirtyrate1 $M $I ListProcesses |
	python3 -c 'import json,sys; print(" ".join(str(e[0]) for e in json.load(sys.stdin)["data"][0]))'; }
managed_pids() { busctl_as "$1" --json=short call org.dirtyrate1 $M org.freedesktop.DBus.ObjectManager GetManagedObjects |
	python3 -c 'import json,sys; d=json.load(sys.stdin)["data"][0]; print(" ".join(sorted(str(v["org.dirtyrate1.Process"]["PID"]["data"]) for v in d.values())))'; }

# sees USER OWN OTHER: USER sees OWN's process and not OTHER's, through every read.
sees() {
	u=$1 own=$2 other=$3
	[ "$(list_pids "$u")" = "$own" ] || fail "$u: ListProcesses lists '$(list_pids "$u")', expected '$own'"
	[ "$(managed_pids "$u")" = "$own" ] || fail "$u: GetManagedObjects has '$(managed_pids "$u")', expected '$own'"
	busctl_as "$u" call org.dirtyrate1 $M $I GetProcess u "$own" >/dev/null || fail "$u: GetProcess($own)"
	if busctl_as "$u" call org.dirtyrate1 $M $I GetProcess u "$other" 2>"$TMP/err"; then
		fail "$u: GetProcess($other) of another user succeeded"
	fi
	grep -q "not tracked" "$TMP/err" || fail "$u: GetProcess($other): $(cat "$TMP/err")"
	busctl_as "$u" get-property org.dirtyrate1 "$P/$own" org.dirtyrate1.Process PID >/dev/null ||
		fail "$u: cannot read its own process's PID"
	busctl_as "$u" call org.dirtyrate1 "$P/$own" org.freedesktop.DBus.Properties GetAll s org.dirtyrate1.Process \
		>/dev/null || fail "$u: cannot GetAll its own process"
	if busctl_as "$u" get-property org.dirtyrate1 "$P/$other" org.dirtyrate1.Process Comm 2>"$TMP/err"; then
		fail "$u: read the Comm of another user's process"
	fi
	grep -qi "unknown object" "$TMP/err" || fail "$u: Get on $P/$other: $(cat "$TMP/err")"
	if busctl_as "$u" call org.dirtyrate1 "$P/$other" org.freedesktop.DBus.Properties GetAll s "" 2>/dev/null; then
		fail "$u: GetAll of another user's process succeeded"
	fi
	busctl_as "$u" tree --list org.dirtyrate1 | grep -qx "$P/$other" && fail "$u: busctl tree shows $P/$other"
	echo "  $u sees $own and not $other"
}
sees nobody "$A" "$B"
sees daemon "$B" "$A"
grep -q "^org.dirtyrate1.read-all system-bus-name 0 no$" "$TMP/polkit.log" ||
	fail "polkit not asked for read-all without interaction: $(cat "$TMP/polkit.log")"

both=$(printf '%s\n%s\n' "$A" "$B" | sort -n | tr '\n' ' ' | sed 's/ $//')
[ "$(list_pids root)" = "$both" ] || fail "root: ListProcesses lists '$(list_pids root)'"

# Broadcasts cannot be filtered per receiver: no signal names a process,
# and one per pass says a pass ended (the cheap tick to poll on).
timeout 1.5 "$BUSCTL" --system monitor org.dirtyrate1 >"$TMP/monitor" 2>&1 || true
grep -q "Path=$P/" "$TMP/monitor" && fail "a signal about a process in owner mode: $(grep "Path=$P/" "$TMP/monitor" | head -1)"
grep -q "Member=PropertiesChanged" "$TMP/monitor" || fail "no PropertiesChanged (LastSampleTimestamp) per pass"
echo "  no per-process signals; $(grep -c 'Member=PropertiesChanged' "$TMP/monitor") Manager PropertiesChanged in 1.5 s"

# polkit grants read-all: a user sees everyone's.
echo yes >"$DR_POLKIT_ANSWER_FILE"
[ "$(list_pids nobody)" = "$both" ] || fail "nobody with read-all: ListProcesses lists '$(list_pids nobody)'"
[ "$(managed_pids nobody)" = "$(printf '%s\n%s\n' "$A" "$B" | sort | tr '\n' ' ' | sed 's/ $//')" ] ||
	fail "nobody with read-all: GetManagedObjects has '$(managed_pids nobody)'"
busctl_as nobody get-property org.dirtyrate1 "$P/$B" org.dirtyrate1.Process PID >/dev/null ||
	fail "nobody with read-all cannot read daemon's process"
echo "  with read-all, nobody sees both"
echo "ok read-access"
