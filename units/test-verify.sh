#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# test-verify.sh UNIT BINARY [UNIT|PAGE...]
#
# `systemd-analyze verify` exits 0 on warnings (unknown keys, bad values):
# any output at all is a failure here. verify also insists that ExecStart=
# exists, so the first (generated) unit is checked with only that line
# pointed at BINARY in the build tree; every other line is the installed
# one. Further units (a .socket and its service) are verified with it, side
# by side, as they refer to each other. verify also runs man(1) on each man:
# page of Documentation=: the built PAGEs given are what it finds (none
# given: the man pages are not built, and that check is left out).
set -eu
unit=$1
binary=$2
shift 2

command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed; skipping"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

name=$(basename "$unit")
grep -q '^ExecStart=' "$unit" || { echo "$name has no ExecStart="; exit 1; }
sed "s|^ExecStart=[^ ]*|ExecStart=$(realpath "$binary")|" "$unit" >"$dir/$name"
names=$name
man=--man=no
for file in "$@"; do
	case $file in
	*.service | *.socket | *.timer | *.path)
		cp "$file" "$dir/"
		names="$names $(basename "$file")"
		;;
	*)
		mkdir -p "$dir/man/man${file##*.}"
		cp "$file" "$dir/man/man${file##*.}/"
		export MANPATH="$dir/man"
		man=--man=yes
		;;
	esac
done

# shellcheck disable=SC2086 # a list of unit names
out=$(cd "$dir" && systemd-analyze verify "$man" $names 2>&1) || {
	echo "$out"; echo "systemd-analyze verify failed"; exit 1; }
if [ -n "$out" ]; then
	echo "$out"
	echo "systemd-analyze verify printed warnings: treated as failure"
	exit 1
fi
echo "ok: systemd-analyze verify is silent for $names"
