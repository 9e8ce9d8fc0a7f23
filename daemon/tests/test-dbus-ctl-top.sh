#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# `dirtyratectl top` in an 80x24 tmux pane, driven by send-keys and read
# with capture-pane: the header, the workload's row, the sort keys, pause,
# help, an unknown key, a resize, q restoring the terminal; then the batch
# mode on a pipe, and the daemon going away under a running top. Every
# captured pane is printed, to be read in the test log.
#   test-dbus-ctl-top.sh BUSCTL DAEMON SRCDIR DIRTYRATECTL DIRTYRATE-WORKLOAD
# (under bus-harness.py --daemon-may-stop)
. "$(dirname "$0")/dbus-test-lib.sh"
CTL=$4
WORKLOAD=$5
command -v tmux >/dev/null || fail "tmux is not installed (scripts/install-deps)"

# The workload dirties 10 MiB/s; a-idle (a sleep) nothing: by rate the
# workload comes first, by name a-idle does. Passes are 1 s apart (the
# config): a page-sampling estimate of 100 ms can read 0 for the workload.
"$WORKLOAD" --pages-per-sec 2560 --quiet &
WL=$!
CHILDREN="$CHILDREN $WL"
spawn_named a-idle
IDLE=$SPAWNED
"$CTL" track "$WL" >/dev/null
"$CTL" track "$IDLE" >/dev/null
has_rate() { "$CTL" show "$WL" | grep -q '^DirtyBytesPerSecAvg10=[1-9]'; }
wait_for "the workload's rate" has_rate

# A tmux server of our own (its socket in $TMP), one 80x24 pane, UTF-8.
export LANG=C.UTF-8
T() { tmux -S "$TMP/tmux" "$@"; }
cleanup_tmux() { T kill-server 2>/dev/null || true; cleanup; }
trap cleanup_tmux EXIT

N=0
SESSION=""
capture() { # capture NAME: $SESSION's pane into $TMP/NAME, and into the log
	T capture-pane -p -t "$SESSION" >"$TMP/$1"
	N=$((N + 1))
	echo "---- pane $N: $1 ----"
	cat "$TMP/$1"
}
# until_pane NAME [!] GREP-ARGS...: capture until the pane matches (with !:
# until it does not), 10 s at most.
until_pane() {
	name=$1; shift
	want=0
	[ "$1" != "!" ] || { want=1; shift; }
	i=0
	while :; do
		T capture-pane -p -t "$SESSION" >"$TMP/$name"
		got=0
		grep -q "$@" "$TMP/$name" || got=1
		[ $got != $want ] || break
		i=$((i + 1))
		[ $i -lt 200 ] || { capture "$name"; fail "pane $name never matched: $*"; }
		sleep 0.05
	done
	capture "$name"
}
# No line of the table wrapped: below the headings (line 6) only rows.
check_rows() {
	sed -n '7,$p' "$TMP/$1" | grep -Ev '^$|^ *[0-9]+ ' >"$TMP/odd" && fail "pane $1: not a row: $(cat "$TMP/odd")"
	:
}
row_of() { # row_of PANE PID: the pane's line number of the process's row
	grep -n "^ *$2 " "$TMP/$1" | head -n 1 | cut -d: -f1
}
# above PANE PID1 PID2: PID1's row is above PID2's
above() {
	a=$(row_of "$1" "$2") b=$(row_of "$1" "$3")
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}
start_top() { # start_top NAME: top in a new 80x24 pane, its terminal modes saved around it
	SESSION=$1
	T new-session -d -s "$1" -x 80 -y 24 \
		"stty -g >$TMP/$1.stty-before; $CTL top --delay=0.2; echo \"EXIT=\$?\" >$TMP/$1.exit; stty -g >$TMP/$1.stty-after; sleep 1000"
}

version=$("$DAEMON" --version)
start_top live
until_pane start -F "dirtyrated $version"
# The header: version, backend, features, interval, the count and totals.
grep -q "^dirtyrated $version  backend [a-z-]*  every 1s  last pass [0-9:]*$" "$TMP/start" ||
	fail "header line 1"
grep -q "^features [a-z]" "$TMP/start" || fail "no features line"
grep -q "^2 tracked  dirty [0-9.]*[BKMG]/s" "$TMP/start" || fail "no totals line"
grep -q "^faults .*resident .*pass took" "$TMP/start" || fail "no costs line"
grep -q "^ *PID COMM  *DIRTY/s  *AVG10  *AVG60 FAULTS/s RESIDENT$" "$TMP/start" ||
	fail "the headings of an 80-column table (PID COMM DIRTY/s AVG10 AVG60 FAULTS/s RESIDENT)"
# The workload's row: its comm, a rate (± where the backend estimates), resident size.
grep -Eq "^ *$WL dirtyrate-workl +[0-9.]+[BKMG]( ±[0-9.]+[BKMG])? " "$TMP/start" || fail "the workload's row"
grep -q "Sorted by DIRTY/s, descending" "$TMP/start" || fail "not sorted by DIRTY/s at first"
above start "$WL" "$IDLE" || fail "by rate, the workload is not above a-idle"
check_rows start
[ "$(T display -p -t live '#{alternate_on}')" = 1 ] || fail "top is not on the alternate screen"

# Sort keys: c (name), p (PID), the same key again (reversed), r (rate).
T send-keys -t live c
until_pane by-comm "Sorted by COMM, ascending"
above by-comm "$IDLE" "$WL" || fail "by COMM, a-idle is not above the workload"
T send-keys -t live p
until_pane by-pid "Sorted by PID, ascending"
if [ "$WL" -lt "$IDLE" ]; then first=$WL second=$IDLE; else first=$IDLE second=$WL; fi
above by-pid "$first" "$second" || fail "by PID, $first is not above $second"
T send-keys -t live p
until_pane by-pid-reversed "Sorted by PID, descending"
above by-pid-reversed "$second" "$first" || fail "by PID reversed, $second is not above $first"
T send-keys -t live '>'
until_pane next-column "Sorted by COMM, ascending"
T send-keys -t live r
until_pane by-rate "Sorted by DIRTY/s, descending"
above by-rate "$WL" "$IDLE" || fail "back by rate, the workload is not above a-idle"

# Pause: the screen stays as it is (the clock of the last pass included)
# while passes go on; space again resumes.
T send-keys -t live Space
until_pane paused "PAUSED"
sleep 1.5
capture paused-later
cmp -s "$TMP/paused" "$TMP/paused-later" || fail "the screen changed while paused"
T send-keys -t live Space
sleep 1.5
capture resumed
grep -q PAUSED "$TMP/resumed" && fail "still paused after the second space"
[ "$(sed -n 1p "$TMP/resumed")" != "$(sed -n 1p "$TMP/paused")" ] || fail "no update after resuming"

# Help, any key back; an unknown key is named.
T send-keys -t live h
until_pane help "sort by DIRTY/s"
grep -q "space .*pause" "$TMP/help" || fail "the help does not mention pause"
T send-keys -t live x
until_pane after-help "Sorted by DIRTY/s"
T send-keys -t live x
until_pane unknown-key "Unknown key 'x'; h shows the keys."

# A narrower terminal (SIGWINCH): fewer columns, nothing wider than it; a
# wider one: more columns.
T resize-window -t live -x 60 -y 20
until_pane narrow ! RESIDENT
grep -q "^ *PID COMM  *DIRTY/s" "$TMP/narrow" || fail "PID, COMM and DIRTY/s must stay in 60 columns"
grep -q "^ *$WL dirtyrate-workl" "$TMP/narrow" || fail "the workload's row in 60 columns"
check_rows narrow
T resize-window -t live -x 140 -y 24
until_pane wide "AVG300"
grep -q "BACKEND" "$TMP/wide" || fail "no BACKEND column in 140 columns"
check_rows wide

# q: top ends with 0, the terminal as it was (modes, main screen).
T send-keys -t live q
i=0
until [ -s "$TMP/live.stty-after" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "top did not quit on q"; sleep 0.05
done
capture quit
grep -qx "EXIT=0" "$TMP/live.exit" || fail "top exited with $(cat "$TMP/live.exit") on q"
cmp -s "$TMP/live.stty-before" "$TMP/live.stty-after" || fail "the terminal's modes were not restored"
[ "$(T display -p -t live '#{alternate_on}')" = 0 ] || fail "still on the alternate screen after q"
echo "ok top: header, rows, sort keys, pause, help, unknown key, resize, quit"

# Batch mode on a pipe: plain text, every column, N iterations.
"$CTL" top --iterations=3 --delay=0.2 | cat >"$TMP/batch"
echo "---- top on a pipe ----"
cat "$TMP/batch"
[ "$(grep -c "^dirtyrated $version " "$TMP/batch")" = 3 ] || fail "not 3 iterations on a pipe"
[ "$(grep -c "^ *PID COMM .* BACKEND  *UNIT$" "$TMP/batch")" = 3 ] || fail "not every column on a pipe"
grep -q "^ *$WL dirtyrate-workl .* [a-z-]* -$" "$TMP/batch" || fail "no workload row on a pipe"
if grep -q "$(printf '\033')" "$TMP/batch"; then fail "escape sequences on a pipe"; fi
"$CTL" top -b -n 2 --no-legend --order=pid >"$TMP/batch-rows"
echo "---- top -b -n 2 --no-legend --order=pid ----"
cat "$TMP/batch-rows"
[ "$(grep -c "^ *[0-9]" "$TMP/batch-rows")" = 4 ] || fail "--no-legend: not 2 x 2 rows"
[ "$(grep -vc "^ *[0-9]\|^$" "$TMP/batch-rows")" = 0 ] || fail "--no-legend: more than rows"
[ "$(grep "^ *[0-9]" "$TMP/batch-rows" | head -n 2 | awk '{print $1}' | tr '\n' ' ')" = "$first $second " ] ||
	fail "--order=pid: not in PID order"
# -b on a terminal too.
SESSION="batch"
T new-session -d -s batch -x 80 -y 24 "$CTL top -b -n 1; echo EXIT=\$?; sleep 1000"
until_pane batch-on-terminal "EXIT=0"
grep -q "^dirtyrated $version " "$TMP/batch-on-terminal" || fail "-b on a terminal"
echo "ok top --batch"

# The daemon goes away under a running top: it says so, exits 1, and
# leaves the terminal as it found it.
start_top gone
until_pane before-gone -F "dirtyrated $version"
kill -TERM "$DIRTYRATED_PID"
i=0
until [ -s "$TMP/gone.stty-after" ]; do
	i=$((i + 1)); [ $i -lt 200 ] || { capture gone; fail "top did not end when the daemon left"; }; sleep 0.05
done
until_pane gone "left the bus"
grep -q "^dirtyrated left the bus (nothing owns org.dirtyrate1 any more).$" "$TMP/gone" ||
	fail "no clear message when the daemon left"
grep -qx "EXIT=1" "$TMP/gone.exit" || fail "top exited with $(cat "$TMP/gone.exit") when the daemon left"
cmp -s "$TMP/gone.stty-before" "$TMP/gone.stty-after" || fail "the terminal's modes were not restored"
[ "$(T display -p -t gone '#{alternate_on}')" = 0 ] || fail "still on the alternate screen"

# And started with no daemon: the same words, before any screen.
for cmd in "top" "top -b" "status" "list --json"; do
	# shellcheck disable=SC2086 # the command's words
	if "$CTL" $cmd >"$TMP/out" 2>"$TMP/err"; then fail "$cmd succeeded with no daemon"; fi
	grep -q "dirtyrated is not running (nothing owns org.dirtyrate1 on the bus)" "$TMP/err" ||
		fail "$cmd with no daemon: $(cat "$TMP/err")"
	[ ! -s "$TMP/out" ] || fail "$cmd with no daemon wrote to stdout: $(cat "$TMP/out")"
done
echo "ok top: the daemon gone"
echo "ok ctl-top"
