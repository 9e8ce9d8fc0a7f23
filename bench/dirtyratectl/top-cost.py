#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""What `dirtyratectl top` costs with many tracked processes (run by bench/dirtyratectl/run).

  top-cost.py --ctl PATH --processes N --updates K --label LABEL   (under tools/dirtyrate-session)

The daemon's config tracks every process named dr-bench-idle; this starts N
of them, waits until all are tracked, then measures, for K updates of one
pass each (--delay=0):
  none   the daemon alone (its CPU per pass: the floor);
  batch  `top -b` to /dev/null (every row formatted every update);
  screen `top` in an 80x24 tmux pane (the rows in sight formatted).
For each: dirtyratectl's CPU time per update (user + system, from the
kernel's accounting of the finished process) and the daemon's per pass
(DaemonCPUUSec). One line per view: "TOP-COST label view n cpu_ctl_ms cpu_daemon_ms".
Then, with no passes, the daemon's CPU time per GetManagedObjects of all N
(what a viewer that reads all objects at each update costs it) and per
Peer.Ping: "TOP-GMO label n gmo_ms ping_ms".
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def manager(ctl):
    return json.loads(subprocess.run([ctl, "status", "--json=short"], capture_output=True, text=True,
                                     check=True).stdout)


def daemon_window(ctl, run):
    """run() between two readings: (daemon CPU µs, passes) in between."""
    before = manager(ctl)
    t0 = before["LastSampleTimestamp"]
    run()
    after = manager(ctl)
    interval = after["SampleIntervalUSec"]
    passes = max(1, round((after["LastSampleTimestamp"] - t0) / interval))
    return after["DaemonCPUUSec"] - before["DaemonCPUUSec"], passes


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--processes", type=int, default=1000)
    ap.add_argument("--updates", type=int, default=20)
    ap.add_argument("--label", default="")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="dirtyrate-bench-top.")
    idle = os.path.join(tmp, "dr-bench-idle")
    os.symlink(shutil.which("sleep"), idle)
    procs = []
    try:
        for _ in range(args.processes):
            procs.append(subprocess.Popen([idle, "3600"]))
        # One rescan (the config's [Track] rule) picks them all up; periodic
        # rescans are off, or their walk of /proc would count as a pass's.
        subprocess.run(["busctl", "--system", "call", "org.dirtyrate1", "/org/dirtyrate1", "org.dirtyrate1.Manager",
                        "Reload"], check=True, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while manager(args.ctl)["TrackedProcesses"] < args.processes:
            if time.monotonic() > deadline:
                raise SystemExit("top-cost: not all %d processes tracked after 300 s" % args.processes)
            time.sleep(0.5)
        # Let the rates of all of them be measured once (two passes).
        time.sleep(3 * manager(args.ctl)["SampleIntervalUSec"] / 1e6)
        k = str(args.updates)

        def report(view, ctl_seconds, window):
            cpu, passes = window
            print("TOP-COST %s %s %d %s %.3f" % (args.label, view, args.processes,
                                                 "-" if ctl_seconds is None else "%.3f" % (ctl_seconds * 1e3 / args.updates),
                                                 cpu / 1e3 / passes), flush=True)

        interval = manager(args.ctl)["SampleIntervalUSec"] / 1e6
        report("none", None, daemon_window(args.ctl, lambda: time.sleep(args.updates * interval)))

        c0 = children_cpu()
        window = daemon_window(args.ctl, lambda: subprocess.run(
            [args.ctl, "top", "-b", "-n", k, "--delay=0"], stdout=subprocess.DEVNULL, check=True))
        report("batch", children_cpu() - c0, window)

        if shutil.which("tmux"):
            sock = os.path.join(tmp, "tmux")
            times = os.path.join(tmp, "times")
            # sh's `times`: its children's user and system time, second line.
            cmd = "%s top -n %s --delay=0; times >%s" % (args.ctl, k, times)

            def screen():
                subprocess.run(["tmux", "-S", sock, "new-session", "-d", "-x", "80", "-y", "24", cmd], check=True)
                while not os.path.exists(times) or os.path.getsize(times) == 0:
                    time.sleep(0.1)
            window = daemon_window(args.ctl, screen)
            subprocess.run(["tmux", "-S", sock, "kill-server"], stderr=subprocess.DEVNULL)
            user, system = open(times).read().split("\n")[1].split()
            seconds = sum(float(x.split("m")[0]) * 60 + float(x.split("m")[1].rstrip("s")) for x in (user, system))
            report("screen", seconds, window)

        # What a viewer that polls adds to the daemon per update: one
        # GetManagedObjects of all N, against Peer.Ping, with no passes
        # (an hour between two) to blur the daemon's CPU time.
        subprocess.run(["busctl", "--system", "call", "org.dirtyrate1", "/org/dirtyrate1", "org.dirtyrate1.Manager",
                        "SetSampleInterval", "tb", "3600000000", "false"], check=True)
        time.sleep(1)
        costs = {}
        for method in (("org.freedesktop.DBus.ObjectManager", "GetManagedObjects"), ("org.freedesktop.DBus.Peer", "Ping")):
            before = manager(args.ctl)["DaemonCPUUSec"]
            for _ in range(args.updates * 5):
                subprocess.run(["busctl", "--system", "call", "org.dirtyrate1", "/org/dirtyrate1"] + list(method),
                               stdout=subprocess.DEVNULL, check=True)
            # The status read after the calls costs what one read before did.
            costs[method[1]] = (manager(args.ctl)["DaemonCPUUSec"] - before) / 1e3 / (args.updates * 5)
        print("TOP-GMO %s %d %.3f %.3f" % (args.label, args.processes, costs["GetManagedObjects"], costs["Ping"]),
              flush=True)
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
