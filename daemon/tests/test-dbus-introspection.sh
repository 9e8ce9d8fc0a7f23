#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The live introspection of both interfaces equals the XML we install.
. "$(dirname "$0")/dbus-test-lib.sh"

spawn_named dr-introspect
path=$(call TrackProcess u "$SPAWNED" | cut -d'"' -f2)
[ "$path" = "/org/dirtyrate1/process/$SPAWNED" ] || fail "TrackProcess returned '$path'"

python3 "$SRCDIR/tests/check-introspection.py" "$BUSCTL" /org/dirtyrate1 "$SRCDIR/org.dirtyrate1.Manager.xml"
python3 "$SRCDIR/tests/check-introspection.py" "$BUSCTL" "$path" "$SRCDIR/org.dirtyrate1.Process.xml"

# The tree shows the process node under the manager.
"$BUSCTL" --system tree org.dirtyrate1 | grep -q "$path" || fail "busctl tree lacks $path"
echo "ok introspection"
