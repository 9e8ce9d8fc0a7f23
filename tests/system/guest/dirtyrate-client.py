#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A third-party dashboard of dirtyrated: python3-dbus, no dirtyrate code.

Walks org.freedesktop.DBus.ObjectManager.GetManagedObjects on
/org/dirtyrate1, prints every tracked process with its rates, and checks
that --pid is among them with the types the API documents. With --truth,
also measures the process's dirty rate over --seconds from the monotonic
DirtiedBytesTotal and LastSampleUSec of two passes, and requires it and
the last interval's DirtyBytesPerSec to be within --tolerance percent of
the truth.
"""
import argparse
import math
import sys
import time

import dbus

NAME = "org.dirtyrate1"
PROCESS = "org.dirtyrate1.Process"
TYPES = {  # property -> dbus-python type of its documented signature
    "PID": dbus.UInt32, "StartTimeUSec": dbus.UInt64, "Comm": dbus.String,
    "Unit": dbus.String, "UID": dbus.UInt32, "Backend": dbus.String,
    "DirtyBytesPerSec": dbus.Double, "DirtyBytesPerSecAvg10": dbus.Double,
    "DirtyBytesPerSecAvg60": dbus.Double, "DirtyBytesPerSecAvg300": dbus.Double,
    "DirtiedBytesTotal": dbus.UInt64, "WriteFaultsPerSec": dbus.Double,
    "WriteFaultsTotal": dbus.UInt64, "ForeignClears": dbus.UInt64,
    "LastSampleDisturbed": dbus.Boolean, "ResidentBytes": dbus.UInt64,
    "TrackedBytes": dbus.UInt64, "LastSampleUSec": dbus.UInt64,
}


def fail(msg):
    print(f"dirtyrate-client: FAIL: {msg}")
    sys.exit(1)


def processes(manager):
    objects = manager.GetManagedObjects(dbus_interface="org.freedesktop.DBus.ObjectManager")
    return {int(ifaces[PROCESS]["PID"]): ifaces[PROCESS]
            for path, ifaces in objects.items() if PROCESS in ifaces}


def snapshot(manager, pid):
    procs = processes(manager)
    if pid not in procs:
        fail(f"process {pid} is not in GetManagedObjects (has {sorted(procs)})")
    return procs[pid]


def fmt(v):
    return "nan" if isinstance(v, float) and math.isnan(v) else f"{float(v):.0f}"


def within(name, value, truth, tolerance):
    err = 100.0 * (value - truth) / truth if not math.isnan(value) else math.inf
    ok = abs(err) <= tolerance
    print(f"{name}: {value:.0f} B/s, truth {truth} B/s, error {err:+.2f} % "
          f"({'ok' if ok else 'NOT'} within {tolerance} %)")
    return ok


def next_pass(manager, pid, after_usec, deadline):
    """The process's properties as of the first pass after LastSampleUSec after_usec."""
    while (p := snapshot(manager, pid))["LastSampleUSec"] == after_usec:
        if time.monotonic() > deadline:
            fail(f"passes stopped: LastSampleUSec stays {after_usec}")
        time.sleep(0.1)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--backend")
    ap.add_argument("--truth", type=int, help="bytes/s the workload dirties")
    ap.add_argument("--tolerance", type=float, default=5.0, help="percent")
    ap.add_argument("--seconds", type=float, default=6.0)
    args = ap.parse_args()

    manager = dbus.SystemBus().get_object(NAME, "/org/dirtyrate1")
    procs = processes(manager)
    print(f"GetManagedObjects: {len(procs)} process object(s)")
    for pid, p in sorted(procs.items()):
        print(f"  {pid} {p['Comm']} unit={p['Unit']} uid={p['UID']} backend={p['Backend']} "
              f"rate={fmt(p['DirtyBytesPerSec'])} avg10={fmt(p['DirtyBytesPerSecAvg10'])} "
              f"total={p['DirtiedBytesTotal']} faults/s={fmt(p['WriteFaultsPerSec'])} B/s")
    p = snapshot(manager, args.pid)
    for prop, typ in TYPES.items():
        if prop not in p:
            fail(f"{prop} missing from the Process interface")
        if not isinstance(p[prop], typ):
            fail(f"{prop} is {type(p[prop]).__name__}, not {typ.__name__}")
    if args.backend and p["Backend"] != args.backend:
        fail(f"Backend {p['Backend']}, expected {args.backend}")
    if args.truth is None:
        return

    # A window between two passes, long enough that the workload's 10 ms
    # ticks and the scheduling of passes are noise. It opens at the first
    # pass after this client started: python's start-up takes the one vCPU
    # of a TCG guest for a while, the workload falls behind its schedule,
    # then catches up in the next interval (the counts of the two are off by
    # -23 % and +29 % then, though their sum is right); a window that held
    # only the catch-up would blame the daemon for the workload's burst.
    deadline = time.monotonic() + args.seconds + 30
    first = next_pass(manager, args.pid, snapshot(manager, args.pid)["LastSampleUSec"], deadline)
    print(f"passes: DirtyBytesPerSec / Avg10 at +0.0 s: {fmt(first['DirtyBytesPerSec'])} / "
          f"{fmt(first['DirtyBytesPerSecAvg10'])}")
    last = first
    while last["LastSampleUSec"] - first["LastSampleUSec"] < args.seconds * 1e6:
        last = next_pass(manager, args.pid, last["LastSampleUSec"], deadline)
        print(f"passes: DirtyBytesPerSec / Avg10 at +{(last['LastSampleUSec'] - first['LastSampleUSec']) / 1e6:.1f} s: "
              f"{fmt(last['DirtyBytesPerSec'])} / {fmt(last['DirtyBytesPerSecAvg10'])}")
    span = (last["LastSampleUSec"] - first["LastSampleUSec"]) / 1e6
    mean = (last["DirtiedBytesTotal"] - first["DirtiedBytesTotal"]) / span
    ok = within(f"mean over {span:.2f} s", mean, args.truth, args.tolerance)
    ok &= within("DirtyBytesPerSec (last interval)", float(last["DirtyBytesPerSec"]), args.truth, args.tolerance)
    # Not asserted: a 10 s moving average also weighs the intervals before
    # the window, the workload's start-up and python's included.
    avg10 = float(last["DirtyBytesPerSecAvg10"])
    print(f"DirtyBytesPerSecAvg10: {avg10:.0f} B/s, error {100.0 * (avg10 - args.truth) / args.truth:+.2f} % "
          "(not checked: it weighs the intervals before the window too)")
    if not ok:
        fail("the measured dirty rate is off")


if __name__ == "__main__":
    main()
