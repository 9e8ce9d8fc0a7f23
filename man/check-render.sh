#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# check-render.sh PAGE: man(1) renders the built PAGE without a single
# warning from groff (-ww: all of them), at 80 columns, as UTF-8 and as
# ASCII (what a C locale gets: a character groff cannot show there warns).
# man exits 0 even then, so its standard error decides. (The locale is
# one every Debian has, so that man does not warn about a missing one; its
# seccomp sandbox, which some containers refuse, guards nothing here.)
set -eu
page=$1
command -v man >/dev/null || { echo "man (man-db) is not installed"; exit 1; }
status=0
for encoding in UTF-8 ascii; do
	err=$(LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat PAGER=cat MAN_DISABLE_SECCOMP=1 \
		man --warnings -E "$encoding" -l "$page" 2>&1 >/dev/null) ||
		{ echo "$err"; echo "$(basename "$page"): man -E $encoding failed"; exit 1; }
	if [ -n "$err" ]; then
		echo "$err"
		echo "$(basename "$page"): man --warnings -E $encoding printed the above"
		status=1
	fi
done
[ $status = 0 ] && echo "ok: $(basename "$page") renders without warnings (UTF-8 and ASCII, 80 columns)"
exit $status
