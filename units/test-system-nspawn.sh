#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The installed service under a real systemd 252 + system bus: boots a
# debootstrapped Debian 12 in systemd-nspawn (built once and cached), with
# our files installed with --prefix=/usr bind-mounted in, and runs
# system-check.sh as a unit whose result ends the container.
#
#   test-system-nspawn.sh SRCDIR
set -eu
src=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
cache=${DIRTYRATE_CACHE:-/var/cache/dirtyrate}
rootfs=$cache/rootfs-bookworm

[ "$(id -u)" = 0 ] || { echo "needs root; skipping"; exit 77; }
for t in systemd-nspawn debootstrap meson; do
	command -v $t >/dev/null || { echo "$t not installed; skipping"; exit 77; }
done

# The machine's own Debian mirror, as scripts/install-deps finds it.
mirror() {
	{ awk '/^URIs:/ { u = $2 } /^Suites:.*[ \t]bookworm([ \t]|$)/ || /^Suites: bookworm$/ { if (u) { print u; exit } }' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null
	  sed -n 's/^deb[[:space:]]\{1,\}\([^[:space:]]*\)[[:space:]]\{1,\}bookworm[[:space:]].*/\1/p' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null; } | head -n1
}

if [ ! -x "$rootfs/lib/systemd/systemd" ]; then
	m=$(mirror)
	[ -n "$m" ] || { echo "no Debian bookworm apt source to debootstrap from"; exit 1; }
	echo "Building the container rootfs once (debootstrap, ~2 min) in $rootfs ..."
	mkdir -p "$cache"
	rm -rf "$rootfs.tmp"
	debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$rootfs.tmp" "$m" \
		>"$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log"; exit 1; }
	mv "$rootfs.tmp" "$rootfs"
fi

tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
echo "Building with --prefix=/usr ..."
meson setup "$tmp/build" "$src" --prefix=/usr >"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; exit 1; }
meson compile -C "$tmp/build" dirtyrated >"$tmp/compile.log" 2>&1 || { cat "$tmp/compile.log"; exit 1; }
DESTDIR="$tmp/dest" meson install -C "$tmp/build" --quiet --no-rebuild

install -D -m 0755 "$here/system-check.sh" "$tmp/dest/usr/local/bin/dirtyrate-system-check"
mkdir -p "$tmp/dest/etc/systemd/system"
cat >"$tmp/dest/etc/systemd/system/dirtyrate-system-check.service" <<UNIT
[Unit]
Description=dirtyrated system check
Requires=dbus.socket
After=dbus.socket
SuccessAction=exit
FailureAction=exit
[Service]
Type=oneshot
ExecStart=/usr/local/bin/dirtyrate-system-check
StandardOutput=journal+console
StandardError=journal+console
UNIT
rm -f "$tmp/dest/etc/dirtyrate/dirtyrated.conf" # the check writes its own

binds=""
for f in $(cd "$tmp/dest" && find . -type f | sed 's|^\.||'); do
	binds="$binds --bind-ro=$tmp/dest$f:$f"
done

echo "Booting the container ..."
rc=0
# shellcheck disable=SC2086
timeout 300 systemd-nspawn --quiet --register=no --keep-unit --console=read-only --volatile=overlay \
	-D "$rootfs" $binds --boot systemd.unit=dirtyrate-system-check.service >"$tmp/console.log" 2>&1 || rc=$?
if [ $rc -ne 0 ] || ! grep -q DIRTYRATE-SYSTEM-CHECK-PASSED "$tmp/console.log"; then
	cat "$tmp/console.log"
	echo "system check failed (container exit $rc)"
	exit 1
fi
grep -a 'dirtyrate-system-check\[' "$tmp/console.log" | sed 's/^.*dirtyrate-system-check\[[0-9]*\]: //' | tail -25
echo "ok: the installed dirtyrated.service works under systemd $(systemctl --version | head -n1 | cut -d' ' -f2)"
