# SPDX-License-Identifier: GPL-2.0-only
# Shared by the test-dbus-*.sh scripts; they run under bus-harness.py.
set -eu

BUSCTL=$1
DAEMON=$2
SRCDIR=$3
: "${DBUS_SYSTEM_BUS_ADDRESS:?run me under bus-harness.py}"

fail() { echo "FAIL: $*" >&2; exit 1; }

manager() { "$BUSCTL" --system "$@"; }
get() { # get OBJECT INTERFACE PROPERTY -> value without the type
	"$BUSCTL" --system get-property org.dirtyrate1 "$1" "$2" "$3" | cut -d' ' -f2-
}
call() { "$BUSCTL" --system call org.dirtyrate1 /org/dirtyrate1 org.dirtyrate1.Manager "$@"; }

# Polls a condition (a file the daemon writes) with a bound; not a sleep-as-sync.
wait_for() {
	what=$1; shift
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -lt 600 ] || fail "timed out waiting for $what"
		sleep 0.05
	done
}

TMP=$(mktemp -d)
CHILDREN=""
cleanup() {
	for p in $CHILDREN; do kill "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# Starts a process whose comm is $1 (a symlink to sleep keeps its name).
# A child named $1 (its comm, for Comm= rules), returned once it has exec'd:
# until then its comm is the shell's, and a rule scan would not match it.
comm_is() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }
spawn_named() {
	ln -sf "$(command -v sleep)" "$TMP/$1"
	"$TMP/$1" 1000 &
	CHILDREN="$CHILDREN $!"
	SPAWNED=$!
	wait_for "$1 to start" comm_is "$SPAWNED" "$(printf '%.15s' "$1")"
}

# Starts test-bus-client's stand-in for polkitd ($1), answering what
# $DR_POLKIT_ANSWER_FILE says (no at first) and logging every request to
# $TMP/polkit.log.
start_fake_polkit() {
	export DR_POLKIT_ANSWER_FILE="$TMP/answer"
	echo no >"$DR_POLKIT_ANSWER_FILE"
	"$1" fake-polkit >"$TMP/polkit.log" &
	CHILDREN="$CHILDREN $!"
	wait_for "the fake polkit to own its name" grep -q '^ready$' "$TMP/polkit.log"
}
