#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# With polkit on the bus, an unprivileged caller's mutations are decided by
# polkit's answer for org.dirtyrate1.manage, asked asynchronously, with
# interaction when the caller allows it. A stand-in answers here.
. "$(dirname "$0")/dbus-test-lib.sh"
CLIENT=$4
M=/org/dirtyrate1
I=org.dirtyrate1.Manager

start_fake_polkit "$CLIENT"

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
spawn_named dr-polkit-target

# polkit says no: denied, and polkit was asked about our action.
if as_nobody "$BUSCTL" --system call org.dirtyrate1 $M $I TrackProcess u "$SPAWNED" 2>"$TMP/err"; then
	fail "TrackProcess allowed although polkit said no"
fi
grep -q "Access denied" "$TMP/err" || fail "unexpected: $(cat "$TMP/err")"
grep -q "^org.dirtyrate1.manage system-bus-name 1 no$" "$TMP/polkit.log" ||
	fail "polkit not asked as expected (busctl allows interactive auth: flags 1): $(cat "$TMP/polkit.log")"

# polkit says yes: the same call as nobody succeeds.
echo yes >"$DR_POLKIT_ANSWER_FILE"
as_nobody "$BUSCTL" --system call org.dirtyrate1 $M $I TrackProcess u "$SPAWNED" |
	grep -q "/org/dirtyrate1/process/$SPAWNED" || fail "TrackProcess not allowed although polkit said yes"
# SetSampleInterval's own "interactive" argument, like hostnamed's Set*():
# false with a caller that does not allow interaction asks with flags 0,
# true asks with flags 1.
as_nobody "$BUSCTL" --system --allow-interactive-authorization=no call org.dirtyrate1 $M $I \
	SetSampleInterval tb 250000 false || fail "SetSampleInterval not allowed although polkit said yes"
[ "$(get $M $I SampleIntervalUSec)" = 250000 ] || fail "interval not applied"
grep -q "^org.dirtyrate1.manage system-bus-name 0 yes$" "$TMP/polkit.log" || fail "setter check: $(cat "$TMP/polkit.log")"
lines=$(wc -l <"$TMP/polkit.log")
as_nobody "$BUSCTL" --system --allow-interactive-authorization=no call org.dirtyrate1 $M $I \
	SetSampleInterval tb 300000 true || fail "SetSampleInterval(interactive) not allowed although polkit said yes"
tail -n +"$((lines + 1))" "$TMP/polkit.log" | grep -q "^org.dirtyrate1.manage system-bus-name 1 yes$" ||
	fail "interactive setter check: $(cat "$TMP/polkit.log")"
[ "$(get $M $I SampleIntervalUSec)" = 300000 ] || fail "interval not applied"

# A challenge for a caller that does not allow interaction.
echo challenge >"$DR_POLKIT_ANSWER_FILE"
if as_nobody "$BUSCTL" --system --allow-interactive-authorization=no call org.dirtyrate1 $M $I Reload 2>"$TMP/err"; then
	fail "Reload allowed on a challenge"
fi
grep -qi "interactive" "$TMP/err" || fail "challenge: $(cat "$TMP/err")"

# Root never asks polkit.
lines=$(wc -l <"$TMP/polkit.log")
call UntrackProcess u "$SPAWNED"
[ "$(wc -l <"$TMP/polkit.log")" = "$lines" ] || fail "polkit was asked about root"
echo "ok polkit"
