#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# test-unit-security.sh UNIT LIMIT
#
# `systemd-analyze security --offline=yes` scores the unit file as it will
# be installed; the overall exposure must not exceed LIMIT. Prints the
# score line and every item that still counts.
set -eu
unit=$1
limit=$2

command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed; skipping"; exit 77; }
systemd-analyze security --help 2>/dev/null | grep -q -- '--offline' ||
	{ echo "systemd-analyze security has no --offline (systemd < 250); skipping"; exit 77; }

out=$(systemd-analyze security --offline=yes --no-pager "$(realpath "$unit")" 2>&1) ||
	{ echo "$out"; echo "systemd-analyze security failed"; exit 1; }
echo "$out" | grep '^✗' || true
line=$(echo "$out" | grep 'Overall exposure level') || { echo "$out"; echo "no score in the output"; exit 1; }
echo "$line"
score=$(echo "$line" | sed -n 's/.*: \([0-9][0-9.]*\) .*/\1/p')
[ -n "$score" ] || { echo "cannot read the score"; exit 1; }
awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s <= l) }' ||
	{ echo "exposure $score is above $limit"; exit 1; }
echo "ok: exposure $score <= $limit"
