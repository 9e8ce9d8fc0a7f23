#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""The signal-fed cache (--cache) against reading every process per scrape.

A real dirtyrated on a private bus, sampling every 100 ms, and two exporters
in front of it: one with --cache=yes and a resync an hour away (so only the
signals keep it right), one with --cache=no (GetManagedObjects per scrape,
the reference). Whenever sampling is frozen (SetSampleInterval 1h), every
series of the first, labels and values, must equal the second's:

  - a workload tracked after the cache was built: its object and its rates
    came only from InterfacesAdded and PropertiesChanged;
  - processes added (TrackProcess), removed (exit, UntrackProcess), and a
    PID reused by a new process (the start label changes with it);
  - dirtyrated restarted: a scrape meanwhile reads per scrape, then the
    cache is built again from the new daemon;
  - ReadAccess=owner by Reload: the cache is dropped (owner mode sends no
    per-process signals) and every scrape reads per scrape; back at all, it
    is built again; an exporter started under owner never builds one;
  - a Comm changed (no signal): the cache with a 1 s resync shows it within
    about a second, the one resynced hourly still the old one.

  test-cache.py --daemon PATH --exporter PATH --workload PATH
"""

import argparse
import math
import os
import signal
import subprocess
import time

import dbus
from prometheus_client.parser import text_string_to_metric_families as parse_text

from exporter_session import Exporter, Session, check, kill_process, log, named_process, run, wait_for

BUS_NAME = "org.dirtyrate1"
MANAGER_PATH = "/org/dirtyrate1"
MANAGER = "org.dirtyrate1.Manager"
PROCESS = "org.dirtyrate1.Process"
CONFIG = "[Daemon]\nSampleIntervalSec=100ms\n"
# Not compared: they change from one reading to the next whatever the cache does.
VOLATILE = ("dirtyrate_exporter_", "dirtyrate_daemon_cpu_seconds")


class Daemon:
    """The Manager's methods, on a connection of our own."""

    def __init__(self):
        self.bus = dbus.SystemBus(private=True)
        obj = self.bus.get_object(BUS_NAME, MANAGER_PATH)
        self.manager = dbus.Interface(obj, MANAGER)
        self.objects = dbus.Interface(obj, "org.freedesktop.DBus.ObjectManager")

    def track(self, *pids):
        for pid in pids:
            self.manager.TrackProcess(dbus.UInt32(pid))

    def pids(self):
        return {int(i[PROCESS]["PID"]) for i in self.objects.GetManagedObjects().values() if PROCESS in i}

    def freeze(self):
        """No more passes: the one in flight (a few processes, milliseconds) ends, and its signals go out."""
        self.manager.SetSampleInterval(dbus.UInt64(3600 * 10**6), False)
        time.sleep(0.3)

    def thaw(self):
        self.manager.SetSampleInterval(dbus.UInt64(100000), False)

    def close(self):
        self.bus.close()


def read_series(exporter):
    """The text scrape as {(name, labels): value}, without the volatile families; and cache_active."""
    status, _, body = exporter.get()
    check(status == 200, "a scrape of %s: %d %r" % (exporter.name, status, body[:200]))
    series, active = {}, None
    for family in parse_text(body.decode()):
        for s in family.samples:
            if s.name == "dirtyrate_exporter_cache_active":
                active = int(s.value)
            if not s.name.startswith(VOLATILE):
                series[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return series, active


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def compare(cached, reference, what, want_active):
    """The cached exporter's series against the per-scrape one's, with sampling frozen."""
    a, active = read_series(cached)
    b, _ = read_series(reference)
    if want_active is not None:
        check(active == want_active, "%s: dirtyrate_exporter_cache_active is %s, expected %d" % (
            what, active, want_active))
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    check(not only_a and not only_b, "%s: series only in the cached scrape %s, only per scrape %s" % (
        what, only_a[:3], only_b[:3]))
    differ = [(k, a[k], b[k]) for k in a if not same(a[k], b[k])]
    check(not differ, "%s: %d series differ, e.g. %r" % (what, len(differ), differ[:3]))
    pids = {dict(k[1])["pid"] for k in a if k[0] == "dirtyrate_process_resident_bytes"}
    log("  %s: %d series equal (%d processes), cache_active %s" % (what, len(a), len(pids), active))
    return a


def process_values(series, pid, name):
    return [(dict(k[1]), v) for k, v in series.items() if k[0] == name and dict(k[1]).get("pid") == str(pid)]


def wait_active(exporter, want, what, timeout=10):
    wait_for(what, lambda: read_series(exporter)[1] == want, timeout=timeout, interval=0.1)


def reuse_pid(pid):
    """A new sleeping child with the PID of one that just exited (ns_last_pid), or None if another
    process of the machine took it first every time."""
    for _ in range(20):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        child = named_process(b"dr-reused")
        if child == pid:
            return child
        kill_process(child)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--workload", required=True)
    args = ap.parse_args()

    children, workload = [], None
    with Session(args.daemon, CONFIG) as session:
        daemon = Daemon()
        try:
            a, b, c = (named_process(b"dr-cache-%d" % i) for i in range(3))
            children += [a, b, c]
            daemon.track(a, b, c)
            with Exporter(args.exporter, ["--cache=yes", "--cache-resync=1h", "--debug"], name="cached") as cached, \
                    Exporter(args.exporter, ["--cache=no"], name="reference") as reference:
                wait_active(cached, 1, "the cache to be built")
                check("building a cache" in cached.log(), "no word of the cache in the log:\n" + cached.log())

                # A workload tracked now: all the cache knows of it comes from signals.
                workload = subprocess.Popen([args.workload, "--pages-per-sec=2560", "--region=32M"],
                                            stdout=subprocess.PIPE)
                workload.stdout.readline()  # its truth line: the region is populated
                daemon.track(workload.pid)
                time.sleep(1.5)  # 15 passes
                daemon.freeze()
                series = compare(cached, reference, "a workload added under the cache, its rates changing", 1)
                rates = process_values(series, workload.pid, "dirtyrate_process_dirty_rate_bytes_per_second")
                check(any(labels["window"] == "10s" and v > 0 for labels, v in rates),
                      "the workload's 10 s rate from the cache: %r" % rates)

                # Adds and removes.
                daemon.thaw()
                d, e = named_process(b"dr-cache-d"), named_process(b"dr-cache-e")
                children += [d, e]
                daemon.track(d, e)
                kill_process(a)  # the daemon untracks it: exited
                daemon.manager.UntrackProcess(dbus.UInt32(b))
                wait_for("a and b gone", lambda: not {a, b} & daemon.pids())
                time.sleep(0.3)
                daemon.freeze()
                series = compare(cached, reference, "2 added, 1 exited, 1 untracked", 1)
                pids = {int(dict(k[1])["pid"]) for k in series if k[0] == "dirtyrate_process_resident_bytes"}
                check(pids == {c, d, e, workload.pid}, "the processes: %s" % sorted(pids))

                # A PID used again by a new process: a new start label, the old one gone.
                daemon.thaw()
                old_start = dict(process_values(series, c, "dirtyrate_process_resident_bytes")[0][0])["start"]
                kill_process(c)
                reused = reuse_pid(c)
                if reused:
                    children.append(reused)
                    daemon.track(reused)
                    time.sleep(0.3)
                    daemon.freeze()
                    series = compare(cached, reference, "PID %d used again" % c, 1)
                    starts = [labels["start"] for labels, _ in process_values(series, c,
                                                                              "dirtyrate_process_resident_bytes")]
                    check(len(starts) == 1 and starts[0] != old_start, "PID %d's start labels %s, was %s" % (
                        c, starts, old_start))
                else:
                    log("  PID reuse: the PID was taken by another process 20 times; not checked")
                    daemon.freeze()

                # dirtyrated restarted: per scrape meanwhile, then a new cache.
                live = [p for p in children if p in daemon.pids()] + [workload.pid]
                session.daemon.stop()
                daemon.close()
                session.daemon = session.new_daemon().start()
                daemon = Daemon()
                daemon.track(*live)
                time.sleep(0.3)
                daemon.freeze()
                compare(cached, reference, "just after a restart", None)
                wait_active(cached, 1, "the cache to be built again after the restart")
                daemon.thaw()
                time.sleep(0.5)
                daemon.freeze()
                compare(cached, reference, "the new daemon, from a new cache", 1)
                check("dirtyrated left the bus" in cached.log() or "dirtyrated restarted" in cached.log(),
                      "the restart is not in the log:\n" + cached.log())

                # ReadAccess=owner by Reload: no per-process signals any more, so no cache.
                with open(session.config, "w") as f:
                    f.write(CONFIG + "ReadAccess=owner\n")
                daemon.manager.Reload()
                time.sleep(0.5)
                daemon.freeze()
                compare(cached, reference, "ReadAccess=owner", 0)
                with Exporter(args.exporter, ["--cache=yes", "--debug"], name="cached-owner") as owner:
                    compare(owner, reference, "an exporter started under ReadAccess=owner", 0)
                    compare(owner, reference, "its second scrape", 0)
                    check("building a cache" not in owner.log(), "a cache under owner:\n" + owner.log())
                with open(session.config, "w") as f:
                    f.write(CONFIG)
                daemon.manager.Reload()
                wait_active(cached, 1, "the cache to be built again under ReadAccess=all")
                daemon.freeze()
                compare(cached, reference, "ReadAccess=all again", 1)

                # A Comm changes without a signal: the resync brings it.
                daemon.thaw()
                renamed = named_process(b"dr-to-rename", rename_on_usr1=b"dr-renamed")
                children.append(renamed)
                with Exporter(args.exporter, ["--cache=yes", "--cache-resync=1s"], name="cached-resync") as resync:
                    daemon.track(renamed)
                    wait_active(resync, 1, "the 1 s resync exporter's cache")
                    time.sleep(0.3)
                    os.kill(renamed, signal.SIGUSR1)
                    t0 = time.monotonic()

                    def renamed_in(exporter):
                        s = read_series(exporter)[0]
                        return any(labels.get("comm") == "dr-renamed"
                                   for labels, _ in process_values(s, renamed, "dirtyrate_process_resident_bytes"))
                    wait_for("the new comm in the per-scrape exporter", lambda: renamed_in(reference), timeout=5)
                    wait_for("the new comm from the 1 s resync", lambda: renamed_in(resync), timeout=5)
                    elapsed = time.monotonic() - t0
                    check(elapsed < 2.5, "the resync took %.1f s to bring the new comm" % elapsed)
                    check(not renamed_in(cached), "the cache resynced hourly has the new comm already: is it used?")
                    log("  a Comm changed: per scrape at once, from the 1 s resync after %.1f s, the hourly one "
                        "still has the old" % elapsed)
        finally:
            daemon.close()
            for pid in children:
                kill_process(pid)
            if workload:
                workload.kill()
                workload.wait()
        session.daemon.stop()
    log("ok cache")
    return 0


if __name__ == "__main__":
    run(main)
