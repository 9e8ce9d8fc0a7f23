#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A reply too large for the bus: dbus-daemon disconnects a peer that sends a
# message beyond its max_message_size, so GetManagedObjects must refuse,
# with LimitsExceeded, a reply that could exceed MaxReplyBytes=, and the
# daemon must stay on the bus. Run on a bus that allows 64 KiB
# (small-messages-policy.conf), with MaxReplyBytes=60K; a tracked process
# takes about 1 KiB of that reply.
. "$(dirname "$0")/dbus-test-lib.sh"
M=/org/dirtyrate1
OM=org.freedesktop.DBus.ObjectManager

managed_count() {
	manager --json=short call org.dirtyrate1 $M $OM GetManagedObjects |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"][0]))'
}
listed_count() {
	call ListProcesses --json=short | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"][0]))'
}
track_sleepers() { # N: starts and tracks N more processes
	i=0
	while [ $i -lt "$1" ]; do
		sleep 1000 &
		CHILDREN="$CHILDREN $!"
		call TrackProcess u $! >/dev/null || fail "TrackProcess($!)"
		i=$((i + 1))
	done
}

# A few fit: the bound lets a reply well below the limit through.
track_sleepers 20
[ "$(managed_count)" = 20 ] || fail "GetManagedObjects with 20 tracked has $(managed_count) objects"

# A hundred and twenty do not (about 120 KiB): a named error, not a reply
# the bus would drop the daemon for.
track_sleepers 100
# dbus-send prints the error's name with its message.
if dbus-send --system --print-reply --dest=org.dirtyrate1 $M $OM.GetManagedObjects >"$TMP/out" 2>"$TMP/err"; then
	fail "GetManagedObjects with 120 tracked succeeded ($(wc -c <"$TMP/out") bytes of output) on a 64 KiB bus"
fi
grep -q "^Error org.freedesktop.DBus.Error.LimitsExceeded: " "$TMP/err" &&
	grep -q "more than MaxReplyBytes=61440" "$TMP/err" ||
	fail "GetManagedObjects failed otherwise: $(cat "$TMP/err")"
grep -q "for 120 processes" "$TMP/err" || fail "the error does not count the processes: $(cat "$TMP/err")"

# Still on the bus, with every process.
[ "$(listed_count)" = 120 ] || fail "after the refusal ListProcesses lists $(listed_count), expected 120"
manager get-property org.dirtyrate1 $M org.dirtyrate1.Manager Version >/dev/null ||
	fail "the daemon no longer answers after the refusal"
echo "ok: 20 processes in GetManagedObjects; 120 refused, the daemon stayed: $(cat "$TMP/err")"
