#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A third-party dashboard of dirtyrated: python3-dbus, no dirtyrate code.

Walks org.freedesktop.DBus.ObjectManager.GetManagedObjects on
/org/dirtyrate1, prints every tracked process with its rates, and checks
that --pid is among them with the properties and types of the installed
introspection XML (the API's one description). With --truth, also measures
the process's dirty rate over --seconds from the monotonic
DirtiedBytesTotal and LastSampleTimestampMonotonic of two passes, and
requires it and the last interval's DirtyBytesPerSec to be within
--tolerance percent of the truth. A sampled backend's last interval may
also be off by up to --se-multiple times the standard error it reports
(DirtyBytesPerSecStdError), the error bar it claims.

With --progress-log (the workload's), the truth of the window and of the
last interval is what the workload wrote between those passes, not its
nominal rate: a workload the scheduler holds back for a while writes less
in one interval and catches up in the next, which no backend should be
blamed for (the window's sum stays right, one interval does not).
"""
import argparse
import math
import sys
import time
import xml.etree.ElementTree as ET

import dbus

NAME = "org.dirtyrate1"
PROCESS = "org.dirtyrate1.Process"
INTERFACE_XML = "/usr/share/dbus-1/interfaces/org.dirtyrate1.Process.xml"
PAGE = 4096  # the workload's pages, as its progress log counts them
# D-Bus signature -> the dbus-python type a value of it arrives as.
PYTHON_TYPES = {"u": dbus.UInt32, "t": dbus.UInt64, "s": dbus.String, "d": dbus.Double, "b": dbus.Boolean}


def documented_types():
    """property -> dbus-python type, from the installed introspection XML."""
    text = open(INTERFACE_XML).read()
    start = text.find("<!DOCTYPE")  # ElementTree cannot fetch the DTD
    if start >= 0:
        text = text[:start] + text[text.index(">", start) + 1:]
    iface = ET.fromstring(text).find(f"interface[@name='{PROCESS}']")
    return {p.get("name"): PYTHON_TYPES[p.get("type")] for p in iface.iter("property")}


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


def workload_rate(points, t0_usec, t1_usec, nominal):
    """Bytes/s the workload wrote between two CLOCK_MONOTONIC moments, by
    its progress log (the last tick done by each), or the nominal rate
    without one."""
    if points is None:
        return nominal

    def pages_at(t):
        done = [pages for when, pages in points if when <= t]
        if not done:
            fail(f"the workload's progress log starts after {t} us")
        return done[-1]

    return (pages_at(t1_usec) - pages_at(t0_usec)) * PAGE / ((t1_usec - t0_usec) / 1e6)


def read_progress(path):
    """(CLOCK_MONOTONIC usec, pages written) per line of dirtyrate-workload's --progress-log."""
    try:
        with open(path) as f:
            return [tuple(int(x) for x in line.split()) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        fail(f"cannot read the workload's progress log {path}: {e}")


def within(name, value, truth, tolerance, stderr=0.0, se_multiple=0.0):
    err = 100.0 * (value - truth) / truth if not math.isnan(value) else math.inf
    bound = tolerance
    if stderr > 0 and se_multiple > 0:
        bound = max(tolerance, 100.0 * se_multiple * stderr / truth)
    ok = abs(err) <= bound
    claim = f", ±{stderr:.0f} B/s (1 SE)" if stderr > 0 else ""
    print(f"{name}: {value:.0f} B/s{claim}, truth {truth:.0f} B/s, error {err:+.2f} % "
          f"({'ok' if ok else 'NOT'} within {bound:.1f} %)")
    return ok


def next_pass(manager, pid, after_usec, deadline):
    """The process's properties as of the first pass after LastSampleTimestampMonotonic after_usec."""
    while (p := snapshot(manager, pid))["LastSampleTimestampMonotonic"] == after_usec:
        if time.monotonic() > deadline:
            fail(f"passes stopped: LastSampleTimestampMonotonic stays {after_usec}")
        time.sleep(0.1)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--backend")
    ap.add_argument("--truth", type=int, help="bytes/s the workload dirties")
    ap.add_argument("--tolerance", type=float, default=5.0, help="percent")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--se-multiple", type=float, default=0.0,
                    help="the last interval may be off by this many of its reported standard errors")
    ap.add_argument("--progress-log", help="the workload's --progress-log: judge by what it wrote")
    args = ap.parse_args()

    manager = dbus.SystemBus().get_object(NAME, "/org/dirtyrate1")
    procs = processes(manager)
    print(f"GetManagedObjects: {len(procs)} process object(s)")
    for pid, p in sorted(procs.items()):
        print(f"  {pid} {p['Comm']} unit={p['Unit']} uid={p['UID']} backend={p['Backend']} "
              f"rate={fmt(p['DirtyBytesPerSec'])} avg10={fmt(p['DirtyBytesPerSecAvg10'])} "
              f"total={p['DirtiedBytesTotal']} faults/s={fmt(p['WriteFaultsPerSec'])} B/s")
    p = snapshot(manager, args.pid)
    types = documented_types()
    for prop, typ in types.items():
        if prop not in p:
            fail(f"{prop} missing from the Process interface")
        if not isinstance(p[prop], typ):
            fail(f"{prop} is {type(p[prop]).__name__}, not {typ.__name__}")
    undocumented = set(p) - set(types)
    if undocumented:
        fail(f"properties not in {INTERFACE_XML}: {sorted(undocumented)}")
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
    first = next_pass(manager, args.pid, snapshot(manager, args.pid)["LastSampleTimestampMonotonic"], deadline)
    print(f"passes: DirtyBytesPerSec / Avg10 at +0.0 s: {fmt(first['DirtyBytesPerSec'])} / "
          f"{fmt(first['DirtyBytesPerSecAvg10'])}")
    prev = last = first
    while last["LastSampleTimestampMonotonic"] - first["LastSampleTimestampMonotonic"] < args.seconds * 1e6:
        prev, last = last, next_pass(manager, args.pid, last["LastSampleTimestampMonotonic"], deadline)
        print(f"passes: DirtyBytesPerSec / Avg10 at +{(last['LastSampleTimestampMonotonic'] - first['LastSampleTimestampMonotonic']) / 1e6:.1f} s: "
              f"{fmt(last['DirtyBytesPerSec'])} / {fmt(last['DirtyBytesPerSecAvg10'])}")
    span = (last["LastSampleTimestampMonotonic"] - first["LastSampleTimestampMonotonic"]) / 1e6
    mean = (last["DirtiedBytesTotal"] - first["DirtiedBytesTotal"]) / span
    points = read_progress(args.progress_log) if args.progress_log else None
    ts = [p["LastSampleTimestampMonotonic"] for p in (first, prev, last)]
    window_truth = workload_rate(points, ts[0], ts[2], args.truth)
    last_truth = workload_rate(points, ts[1], ts[2], args.truth)
    if points is not None:
        # Both, so that a miss shows whether the workload or the estimate moved.
        print(f"the workload wrote {window_truth:.0f} B/s over the window, {last_truth:.0f} B/s in the "
              f"last interval, by its progress log (nominal {args.truth} B/s)")
    ok = within(f"mean over {span:.2f} s", mean, window_truth, args.tolerance)
    ok &= within("DirtyBytesPerSec (last interval)", float(last["DirtyBytesPerSec"]), last_truth, args.tolerance,
                 float(last["DirtyBytesPerSecStdError"]), args.se_multiple)
    # Not asserted: a 10 s moving average also weighs the intervals before
    # the window, the workload's start-up and python's included.
    avg10 = float(last["DirtyBytesPerSecAvg10"])
    print(f"DirtyBytesPerSecAvg10: {avg10:.0f} B/s, error {100.0 * (avg10 - args.truth) / args.truth:+.2f} % "
          "(not checked: it weighs the intervals before the window too)")
    if not ok:
        fail("the measured dirty rate is off")


if __name__ == "__main__":
    main()
