#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Runs inside the container booted by test-system-nspawn.sh, as a unit of
# the real systemd 252 with the real system bus and the installed files.
set -eux
# Whatever happens, show what the daemon said.
trap 'journalctl -b -u dirtyrated.service -o cat --no-pager' EXIT
M="org.dirtyrate1 /org/dirtyrate1 org.dirtyrate1.Manager"
mkdir -p /etc/dirtyrate
printf '[Daemon]\nSampleIntervalSec=1s\n' >/etc/dirtyrate/dirtyrated.conf

# The first call activates dirtyrated.service through the bus (activation
# file -> SystemdService=); it must be Type=notify-ready with a status.
busctl get-property $M Backend Version
[ "$(systemctl is-active dirtyrated.service)" = active ]
[ "$(systemctl show dirtyrated.service -p Type --value)" = notify ]
[ "$(systemctl show dirtyrated.service -p WatchdogUSec --value)" = 30s ]
systemctl show dirtyrated.service -p StatusText --value | grep -q '^Tracking 0 processes'

# Tracking another user's process works inside the sandbox.
setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 1000 &
P=$!
busctl call $M TrackProcess u $P | grep -q "/org/dirtyrate1/process/$P"
busctl get-property org.dirtyrate1 /org/dirtyrate1/process/$P org.dirtyrate1.Process UID | grep -qx 'u 65534'
systemctl show dirtyrated.service -p StatusText --value | grep -q '^Tracking 1 process;'
busctl call $M ListProcesses | grep -q "\"/org/dirtyrate1/process/$P\""

# The installed bus policy: nobody reads, but may not mutate.
setpriv --reuid=nobody --regid=nogroup --clear-groups busctl get-property $M TrackedProcesses | grep -qx 'u 1'
if setpriv --reuid=nobody --regid=nogroup --clear-groups busctl call $M Reload; then exit 1; fi

# systemctl reload: applies a good config, fails on a bad one and keeps the old.
printf '[Daemon]\nSampleIntervalSec=500ms\n' >/etc/dirtyrate/dirtyrated.conf
systemctl reload dirtyrated.service
busctl get-property $M SampleIntervalUSec | grep -qx 't 500000'
printf '[Daemon]\nSampleIntervalSec=soon\n' >/etc/dirtyrate/dirtyrated.conf
if systemctl reload dirtyrated.service; then exit 1; fi
[ "$(systemctl is-active dirtyrated.service)" = active ]
busctl get-property $M SampleIntervalUSec | grep -qx 't 500000'
journalctl -b -u dirtyrated.service -o cat | grep -q 'dirtyrated.conf:2: invalid time'

# Exit of the tracked process; clean stop.
kill $P
wait $P || true
i=0
until busctl get-property $M TrackedProcesses | grep -qx 'u 0'; do
	i=$((i + 1)); [ $i -lt 100 ] || exit 1; sleep 0.1
done
systemctl stop dirtyrated.service
[ "$(systemctl show dirtyrated.service -p Result --value)" = success ]
[ "$(systemctl show dirtyrated.service -p NRestarts --value)" = 0 ]
echo DIRTYRATE-SYSTEM-CHECK-PASSED
