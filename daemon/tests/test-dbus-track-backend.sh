#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Backend= in [Track] rules, on the daemon's real backends: a process whose
# rule forces faults-only is measured by it (its Process object says so)
# while another process of the same catch-all rule gets the default (here
# page-sampling); a rule asking for a backend this kernel lacks gets the
# default, and the log says so; a reload with an unknown Backend= in a rule
# is refused with FILE:LINE and changes nothing.
. "$(dirname "$0")/dbus-test-lib.sh"
: "${DIRTYRATED_CONFIG:?}" "${DIRTYRATED_LOG:?}"
M=/org/dirtyrate1
I=org.dirtyrate1.Manager
PI=org.dirtyrate1.Process

default=$(get $M $I Backend)
name=$(echo "$default" | tr -d '"')
features=$(get $M $I Features)
echo "default Backend $default, Features $features"
[ "$default" != '"faults-only"' ] || { echo "faults-only is the default here: nothing to tell apart"; exit 77; }
# A soft-dirty backend this kernel does not have (none on the development hosts).
absent=""
for b in pagemap-ioctl clear-refs; do
	case "$features" in *"\"$b\""*) ;; *) absent=$b; break ;; esac
done

spawn_named dr-be-forced
forced=$SPAWNED
spawn_named dr-be-auto
auto=$SPAWNED
spawn_named dr-be-absent
lacking=$SPAWNED

# The catch-all rule comes first and has no Backend=: the later rules that
# have one decide for their processes.
cat >"$DIRTYRATED_CONFIG" <<CONF
[Daemon]
SampleIntervalSec=100ms
[Track]
Comm=dr-be-*
[Track]
Comm=dr-be-forced
Backend=faults-only
CONF
[ -z "$absent" ] || printf '[Track]\nComm=dr-be-absent\nBackend=%s\n' "$absent" >>"$DIRTYRATED_CONFIG"
call Reload

backend_of() { get "$M/process/$1" $PI Backend; }
[ "$(backend_of "$forced")" = '"faults-only"' ] || fail "forced process: Backend $(backend_of "$forced")"
[ "$(backend_of "$auto")" = "$default" ] || fail "automatic process: Backend $(backend_of "$auto"), default $default"
echo "dr-be-forced: $(backend_of "$forced"), dr-be-auto: $(backend_of "$auto")"
grep -q "Tracking process $forced (dr-be-forced) with backend faults-only, as the \[Track\] rule at line 5 asks" \
	"$DIRTYRATED_LOG" || fail "no log line for the forced process"
# Once the other one has a standard error (0 for an exact backend), the
# forced one has none: faults-only's rate is a lower bound, not an estimate.
has_std_error() { [ "$(get "$M/process/$1" $PI DirtyBytesPerSecStdError)" != nan ]; }
wait_for "a standard error for the automatic process" has_std_error "$auto"
! has_std_error "$forced" || fail "forced process has a standard error: not measured by faults-only"

if [ -n "$absent" ]; then
	[ "$(backend_of "$lacking")" = "$default" ] || fail "Backend=$absent: $(backend_of "$lacking"), default $default"
	grep -q "$DIRTYRATED_CONFIG:8: Backend=$absent of this \[Track\] rule is not available on this kernel; the processes it tracks get the default backend, $name\." "$DIRTYRATED_LOG" ||
		fail "no warning for the unavailable Backend=$absent"
	grep -q "Tracking process $lacking (dr-be-absent) with backend $name: Backend=$absent of the \[Track\] rule at line 8 is not available on this kernel" \
		"$DIRTYRATED_LOG" || fail "no log line for the process that asked for $absent"
	echo "dr-be-absent (Backend=$absent): $(backend_of "$lacking")"
else
	echo "every soft-dirty backend is present: the unavailable case is left out"
fi
[ "$(get $M $I Backend)" = "$default" ] || fail "the default backend changed"

# An unknown backend in a rule: refused with FILE:LINE, nothing changes.
cat >"$DIRTYRATED_CONFIG" <<CONF
[Daemon]
SampleIntervalSec=2s
[Track]
Comm=dr-be-auto
Backend=warp-drive
CONF
if call Reload 2>"$TMP/err"; then fail "Reload accepted Backend=warp-drive in a rule"; fi
grep -q "$DIRTYRATED_CONFIG:5: unknown Backend=warp-drive in \[Track\]" "$TMP/err" || fail "Reload error: $(cat "$TMP/err")"
[ "$(get $M $I SampleIntervalUSec)" = 100000 ] || fail "the refused config was partly applied"
[ "$(backend_of "$forced")" = '"faults-only"' ] || fail "forced process lost or changed"
[ "$(backend_of "$auto")" = "$default" ] || fail "automatic process lost or changed"
echo "ok track-backend"
