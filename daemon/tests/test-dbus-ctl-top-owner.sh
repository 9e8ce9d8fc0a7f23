#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# `dirtyratectl top` with ReadAccess=owner, where the daemon sends no
# per-process signal and top reads the objects at each update instead: root
# sees every process and fresh values at each update; nobody sees its own
# process only, and the header says how many there are.
#   test-dbus-ctl-top-owner.sh BUSCTL DAEMON SRCDIR DIRTYRATECTL DIRTYRATE-WORKLOAD
# (under bus-harness.py with ReadAccess=owner)
. "$(dirname "$0")/dbus-test-lib.sh"
CTL=$4
WORKLOAD=$5
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

[ "$(get /org/dirtyrate1 org.dirtyrate1.Manager ReadAccess)" = '"owner"' ] || fail "not in owner mode"
# setpriv itself, not as_nobody: $! must be the workload, not a subshell.
setpriv --reuid=nobody --regid=nogroup --clear-groups "$WORKLOAD" --pages-per-sec 2560 --quiet &
WL=$!
CHILDREN="$CHILDREN $WL"
spawn_named root-idle
IDLE=$SPAWNED
wait_for "the workload to start" comm_is "$WL" dirtyrate-workl
"$CTL" track "$WL" >/dev/null
"$CTL" track "$IDLE" >/dev/null

# Root: both, and the values of each update read afresh (a pass's time in
# the first line moves between the first update and the third, 2 s later).
"$CTL" top -b -n 3 --delay=1 >"$TMP/root"
cat "$TMP/root"
[ "$(grep -c "^2 tracked " "$TMP/root")" = 3 ] || fail "root does not see both processes"
grep -q "^ *$WL dirtyrate-workl " "$TMP/root" || fail "root: no workload row"
grep -q "^ *$IDLE root-idle " "$TMP/root" || fail "root: no root-idle row"
grep -q "read access owner" "$TMP/root" || fail "the header does not say read access owner"
[ "$(grep "^dirtyrated " "$TMP/root" | sed -n 1p)" != "$(grep "^dirtyrated " "$TMP/root" | sed -n 3p)" ] ||
	fail "no new pass between the first and the third update"

# nobody: its own process only, "1 of 2 tracked".
as_nobody "$CTL" top -b -n 2 --delay=0.5 >"$TMP/nobody"
cat "$TMP/nobody"
[ "$(grep -c "^1 of 2 tracked " "$TMP/nobody")" = 2 ] || fail "nobody's header does not say 1 of 2"
grep -q "^ *$WL dirtyrate-workl " "$TMP/nobody" || fail "nobody does not see its own process"
if grep -q "root-idle" "$TMP/nobody"; then fail "nobody sees root's process"; fi
echo "ok ctl-top-owner"
