#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# dirtyratectl's bash completion: commands, options and their values, the
# tracked PIDs (asked of the daemon) after show and untrack, running ones
# after track; and every option of --help is offered.
#   test-dbus-ctl-completion.sh BUSCTL DAEMON SRCDIR DIRTYRATECTL COMPLETION   (under bus-harness.py)
. "$(dirname "$0")/dbus-test-lib.sh"
CTL=$4
# shellcheck source=../../tools/dirtyratectl/dirtyratectl.bash
. "$5"

# complete LINE: what completing LINE (the cursor at its end) offers, one a line.
complete_line() {
	COMP_LINE="$CTL${1#dirtyratectl}"
	COMP_POINT=${#COMP_LINE}
	read -ra COMP_WORDS <<<"$COMP_LINE"
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	[[ $COMP_LINE == *' ' ]] && COMP_CWORD=${#COMP_WORDS[@]}
	COMPREPLY=()
	_dirtyratectl
	printf '%s\n' "${COMPREPLY[@]}" | sort
}
expect() { # expect LINE WORD...: exactly these words, in any order
	line=$1; shift
	got=$(complete_line "$line" | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "completing '$line': got '$got', expected '$want'"
	echo "ok '$line' -> $got"
}

spawn_named dr-comp-a
A=$SPAWNED
spawn_named dr-comp-b
B=$SPAWNED
"$CTL" track "$A" >/dev/null
"$CTL" track "$B" >/dev/null

expect "dirtyratectl " status list top watch show track untrack
expect "dirtyratectl t" top track
expect "dirtyratectl --no-legend -d 1 t" top track
expect "dirtyratectl --json=p" pretty
expect "dirtyratectl --json=" short pretty off help
expect "dirtyratectl --order=avg" avg10 avg60 avg300
expect "dirtyratectl --order re" resident
expect "dirtyratectl --no-p" --no-pager
expect "dirtyratectl -d " 
expect "dirtyratectl show " "$A" "$B"
expect "dirtyratectl --no-pager untrack " "$A" "$B"
expect "dirtyratectl show $A " 
expect "dirtyratectl status " 
complete_line "dirtyratectl track " | grep -qx "$$" || fail "track does not offer a running PID ($$)"
echo "ok 'dirtyratectl track ' offers running PIDs"

# No option of --help is missing from the completion.
opts=$(complete_line "dirtyratectl -")
for o in $("$CTL" --help | grep -o -- '--\?-[a-z][a-z-]*' | sort -u); do
	printf '%s\n' "$opts" | grep -qx -- "$o=\?" || fail "--help has $o, the completion does not offer it"
done
echo "ok every option of --help is offered"
echo "ok ctl-completion"
