#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Reload() and SIGHUP: a good config applies (interval, [Track] rules); a bad
# one is refused with file:line and the old one stays; the daemon keeps running.
. "$(dirname "$0")/dbus-test-lib.sh"
: "${DIRTYRATED_CONFIG:?}" "${DIRTYRATED_PID:?}" "${DIRTYRATED_LOG:?}" "${DIRTYRATED_NOTIFY_LOG:?}"
M=/org/dirtyrate1
I=org.dirtyrate1.Manager

ready_count() { grep -c '^READY=1$' "$DIRTYRATED_NOTIFY_LOG" || true; }
ready_count_above() { [ "$(ready_count)" -gt "$1" ]; }
sighup_and_wait() {
	before=$(ready_count)
	kill -HUP "$DIRTYRATED_PID"
	wait_for "READY=1 after SIGHUP" ready_count_above "$before"
}

spawn_named dr-rule-target
target=$SPAWNED
call GetProcess u "$target" 2>/dev/null && fail "tracked before any rule"

# A good config via Reload(): new interval, and the rule tracks the target.
cat >"$DIRTYRATED_CONFIG" <<CONF
[Daemon]
SampleIntervalSec=300ms
[Track]
Comm=dr-rule-target
CONF
call Reload
[ "$(get $M $I SampleIntervalUSec)" = 300000 ] || fail "interval not applied"
call GetProcess u "$target" | grep -q "/org/dirtyrate1/process/$target" || fail "rule did not track the target"

# A bad config via Reload(): refused, naming file:line; nothing changes.
cat >"$DIRTYRATED_CONFIG" <<CONF
[Daemon]
SampleIntervalSec=50ms
Backend=warp-drive
CONF
if call Reload 2>"$TMP/err"; then fail "Reload accepted a bad config"; fi
grep -q "$DIRTYRATED_CONFIG:3: unknown Backend=warp-drive" "$TMP/err" || fail "Reload error: $(cat "$TMP/err")"
[ "$(get $M $I SampleIntervalUSec)" = 300000 ] || fail "bad config partly applied"
call GetProcess u "$target" >/dev/null || fail "rule-tracked process lost"

# The same through SIGHUP: logged with file:line, old config kept, still serving.
before_errors=$(grep -c "$DIRTYRATED_CONFIG:3: unknown Backend=warp-drive" "$DIRTYRATED_LOG" || true)
sighup_and_wait
kill -0 "$DIRTYRATED_PID" || fail "daemon died on SIGHUP with a bad config"
[ "$(grep -c "$DIRTYRATED_CONFIG:3: unknown Backend=warp-drive" "$DIRTYRATED_LOG")" -gt "$before_errors" ] ||
	fail "no file:line message in the log"
grep -q "Keeping the previous configuration" "$DIRTYRATED_LOG" || fail "no 'keeping' message"
[ "$(get $M $I SampleIntervalUSec)" = 300000 ] || fail "SIGHUP applied a bad config"
call GetProcess u "$target" >/dev/null || fail "rule-tracked process lost after SIGHUP"

# A good config through SIGHUP: the rule is gone, so is the tracking.
printf '[Daemon]\nSampleIntervalSec=2s\n' >"$DIRTYRATED_CONFIG"
sighup_and_wait
[ "$(get $M $I SampleIntervalUSec)" = 2000000 ] || fail "SIGHUP did not apply a good config"
if call GetProcess u "$target" 2>"$TMP/err"; then fail "still tracked without a rule"; fi
grep -q "not tracked" "$TMP/err" || fail "GetProcess: $(cat "$TMP/err")"

# No config file at all: the built-in default.
rm "$DIRTYRATED_CONFIG"
call Reload
[ "$(get $M $I SampleIntervalUSec)" = 1000000 ] || fail "built-in default not applied"
echo "ok reload"
