#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# `systemd-analyze verify` exits 0 on warnings (unknown keys, bad values):
# any output at all is a failure here. verify also insists that ExecStart=
# exists, so the generated unit is checked with only that line pointed at
# the binary in the build tree; every other line is the installed one.
# verify also runs man(1) on each man: page of Documentation=: the built
# PAGEs given are what it finds (none given: the man pages are not built,
# and that check is left out).
#
#   test-verify.sh UNIT DAEMON [PAGE...]
set -eu
unit=$1
daemon=$2
shift 2

command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed; skipping"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

name=$(basename "$unit")
grep -q '^ExecStart=' "$unit" || { echo "$name has no ExecStart="; exit 1; }
sed "s|^ExecStart=.*|ExecStart=$(realpath "$daemon")|" "$unit" >"$dir/$name"

man=--man=no
if [ $# -gt 0 ]; then
	for page in "$@"; do
		mkdir -p "$dir/man/man${page##*.}"
		cp "$page" "$dir/man/man${page##*.}/"
	done
	export MANPATH="$dir/man"
	man=--man=yes
fi

out=$(cd "$dir" && systemd-analyze verify "$man" "$dir/$name" 2>&1) || {
	echo "$out"; echo "systemd-analyze verify failed"; exit 1; }
if [ -n "$out" ]; then
	echo "$out"
	echo "systemd-analyze verify printed warnings: treated as failure"
	exit 1
fi
echo "ok: systemd-analyze verify is silent for $name"
