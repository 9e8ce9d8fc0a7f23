#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Conformance: a real dirtyrated on a private bus, the exporter in front of it.

The daemon tracks a workload of known rate, sleepers, one process that a
[Track] rule puts on faults-only, and one whose comm holds a space, a double
quote, a backslash, a newline, UTF-8 and a byte that is not UTF-8. Then its
sampling is frozen (SetSampleInterval 1h) and:
  - the text-format scrape passes `promtool check metrics` (Prometheus's own
    parser and linter) and parses with the Python client's classic parser;
  - the OpenMetrics scrape (Prometheus's Accept header) parses with the
    Python client's OpenMetrics parser;
  - in both, every series of every process and of the daemon equals the D-Bus
    property it comes from, labels included; each process has 11 series,
    15 with page-sampling's standard errors;
  - with --max-processes 2, the two highest 60 s averages are kept and the
    others are summed into dirtyrate_other_*.

  test-conformance.py --daemon PATH --exporter PATH --workload PATH
"""

import argparse
import math
import subprocess
import time

import dbus
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from exporter_session import (PROMETHEUS_ACCEPT, Exporter, Session, check, kill_process, log, named_process, run,
                              wait_for)

BUS_NAME = "org.dirtyrate1"
MANAGER_PATH = "/org/dirtyrate1"
MANAGER = "org.dirtyrate1.Manager"
PROCESS = "org.dirtyrate1.Process"

NASTY = b'dr "q\\ \xc3\xa9\xff\nz'  # 13 bytes: space, quote, backslash, UTF-8 e-acute, not UTF-8, newline
CONFIG = ("[Daemon]\nSampleIntervalSec=100ms\nRescanIntervalSec=100ms\n"
          "[Track]\nComm=dr-fo-sleeper\nBackend=faults-only\n")

WINDOWS = {"sample": "DirtyBytesPerSec", "10s": "DirtyBytesPerSecAvg10", "60s": "DirtyBytesPerSecAvg60",
           "300s": "DirtyBytesPerSecAvg300"}
# family (as the parsers name it) -> the Process property, for the unwindowed series
SINGLE = {
    "dirtyrate_process_dirtied_bytes": "DirtiedBytesTotal",
    "dirtyrate_process_write_faults": "WriteFaultsTotal",
    "dirtyrate_process_foreign_clears": "ForeignClears",
    "dirtyrate_process_last_sample_disturbed": "LastSampleDisturbed",
    "dirtyrate_process_resident_bytes": "ResidentBytes",
    "dirtyrate_process_scanned_bytes": "ScannedBytes",
}
COUNTERS = {"dirtyrate_process_dirtied_bytes", "dirtyrate_process_write_faults", "dirtyrate_process_foreign_clears"}


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def read_bus():
    bus = dbus.SystemBus(private=True)
    obj = bus.get_object(BUS_NAME, MANAGER_PATH)
    manager = obj.GetAll(MANAGER, dbus_interface="org.freedesktop.DBus.Properties")
    objects = obj.GetManagedObjects(dbus_interface="org.freedesktop.DBus.ObjectManager")
    processes = {int(ifaces[PROCESS]["PID"]): ifaces[PROCESS] for ifaces in objects.values() if PROCESS in ifaces}
    bus.close()
    return manager, processes


def samples_by_family(families):
    return {f.name: f.samples for f in families}


def process_labels(p):
    start = int(p["StartTimestampBoottime"]) // 10000
    return {"pid": str(int(p["PID"])), "comm": str(p["Comm"]), "unit": str(p["Unit"]), "uid": str(int(p["UID"])),
            "backend": str(p["Backend"]), "start": "%d.%02d" % (start // 100, start % 100)}


def check_exposition(name, families, manager, processes, cpu_after):
    """Every series against the bus, for one parsed scrape. Both parsers name a
    counter's family without _total; a sample keeps it."""
    by = samples_by_family(families)

    # Per process.
    series = {}
    for fam, samples in by.items():
        for s in samples:
            if "pid" in s.labels:
                series.setdefault(int(s.labels["pid"]), []).append((fam, s))
    check(set(series) == set(processes), "%s: processes %s, the bus has %s" % (name, sorted(series),
                                                                                sorted(processes)))
    for pid, p in processes.items():
        got = series[pid]
        want = 15 if p["Backend"] == "page-sampling" else 11
        check(len(got) == want, "%s: pid %d (%s) has %d series, expected %d" % (name, pid, p["Backend"], len(got),
                                                                                 want))
        for fam, s in got:
            labels = dict(s.labels)
            window = labels.pop("window", None)
            check(labels == process_labels(p), "%s: %s labels %r, the bus says %r" % (name, fam, labels,
                                                                                    process_labels(p)))
            if fam == "dirtyrate_process_dirty_rate_bytes_per_second":
                want = float(p[WINDOWS[window]])
            elif fam == "dirtyrate_process_dirty_rate_standard_error_bytes_per_second":
                want = float(p[WINDOWS[window] + "StdError"])
            elif fam == "dirtyrate_process_start_time_seconds":
                want = int(p["StartTimestamp"]) / 1e6
            else:
                want = float(p[SINGLE[fam]])
                check(s.name == fam + "_total" if fam in COUNTERS else s.name == fam,
                      "%s: a sample of %s is named %s" % (name, fam, s.name))
            check(same(float(s.value), want), "%s: pid %d %s{window=%s} = %r, the bus says %r"
                  % (name, pid, fam, window, s.value, want))

    # Per daemon.
    info = by["dirtyrate_daemon" if name == "openmetrics" else "dirtyrate_daemon_info"][0]
    check(info.name == "dirtyrate_daemon_info" and info.value == 1, "%s: %r" % (name, info))
    check(info.labels == {"version": str(manager["Version"]), "backend": str(manager["Backend"]),
                          "features": ",".join(str(f) for f in manager["Features"])},
          "%s: daemon info %r" % (name, info.labels))
    expect = {
        "dirtyrate_tracked_processes": int(manager["TrackedProcesses"]),
        "dirtyrate_sample_interval_seconds": int(manager["SampleIntervalUSec"]) / 1e6,
        "dirtyrate_last_sample_duration_seconds": int(manager["LastSampleDurationUSec"]) / 1e6,
        "dirtyrate_last_sample_timestamp_seconds": int(manager["LastSampleTimestamp"]) / 1e6,
        "dirtyrate_sampled_pages_per_second": float(manager["SampledPagesPerSec"]),
        "dirtyrate_exporter_scrape_errors": 0,
    }
    for fam, value in expect.items():
        check(by[fam][0].value == value, "%s: %s = %r, the bus says %r" % (name, fam, by[fam][0].value, value))
    cpu = by["dirtyrate_daemon_cpu_seconds"][0]
    check(cpu.name == "dirtyrate_daemon_cpu_seconds_total", "%s: %s" % (name, cpu.name))
    check(int(manager["DaemonCPUUSec"]) / 1e6 <= cpu.value <= cpu_after, "%s: daemon CPU %r outside [%r, %r]" % (
        name, cpu.value, int(manager["DaemonCPUUSec"]) / 1e6, cpu_after))
    log("  %s: %d processes, every series equals its D-Bus property" % (name, len(processes)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--workload", required=True)
    args = ap.parse_args()

    with Session(args.daemon, CONFIG) as session:
        manager_obj = dbus.SystemBus().get_object(BUS_NAME, MANAGER_PATH)
        track = manager_obj.get_dbus_method("TrackProcess", MANAGER)
        children = [named_process(NASTY), named_process(b"dr-sleeper"), named_process(b"dr-fo-sleeper")]
        workload = subprocess.Popen([args.workload, "--pages-per-sec=2560", "--region=64M"], stdout=subprocess.PIPE)
        workload.stdout.readline()  # its truth line: the region is populated
        try:
            for pid in children[:2] + [workload.pid]:
                track(dbus.UInt32(pid))
            wait_for("the [Track] rule to track dr-fo-sleeper", lambda: children[2] in read_bus()[1])
            # Three passes after the last was tracked: every rate measured (but the sample window may
            # be NaN for a disturbed interval, which the comparison allows).
            first = int(read_bus()[0]["LastSampleTimestamp"])
            wait_for("three passes", lambda: int(read_bus()[0]["LastSampleTimestamp"]) > first + 250000)
            manager_obj.get_dbus_method("SetSampleInterval", MANAGER)(dbus.UInt64(3600 * 10**6), False)
            # Frozen: the pass in flight (if any) ends, and then nothing changes for an hour.
            time.sleep(0.5)
            manager, processes = read_bus()
            check(len(processes) == 4, "the daemon tracks %s" % sorted(processes))
            check(processes[children[0]]["Comm"] == NASTY.decode("utf-8", "replace"),
                  "the nasty comm reads %r on the bus" % processes[children[0]]["Comm"])
            check(processes[children[2]]["Backend"] == "faults-only", "the rule's process is on %s"
                  % processes[children[2]]["Backend"])
            check(processes[workload.pid]["DirtyBytesPerSecAvg10"] > 0, "the workload reads 0 B/s")

            with Exporter(args.exporter) as exporter:
                status, headers, body = exporter.get(accept=PROMETHEUS_ACCEPT)
                check(status == 200, "OpenMetrics scrape: %d %r" % (status, body[:200]))
                check(headers["content-type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8",
                      "Content-Type " + headers["content-type"])
                om_text = body.decode("utf-8")  # strict: must be UTF-8
                check(om_text.endswith("# EOF\n"), "no # EOF at the end")
                om = list(parse_openmetrics(om_text))

                status, headers, body = exporter.get()
                check(status == 200, "text scrape: %d" % status)
                check(headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8",
                      "Content-Type " + headers["content-type"])
                text = body.decode("utf-8")
                lint = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
                check(lint.returncode == 0, "promtool check metrics: %s%s" % (lint.stdout.decode(),
                                                                                 lint.stderr.decode()))
                log("  promtool check metrics: passes on the text scrape (%d bytes)" % len(body))
                cpu_after = int(read_bus()[0]["DaemonCPUUSec"]) / 1e6
                check_exposition("openmetrics", om, manager, processes, cpu_after)
                check_exposition("text", list(parse_text(text)), manager, processes, cpu_after)

                status, _, body = exporter.get(accept=PROMETHEUS_ACCEPT)
                duration = samples_by_family(parse_openmetrics(body.decode()))[
                    "dirtyrate_exporter_scrape_duration_seconds"][0].value
                check(0 < duration < 5, "the previous scrape took %r s" % duration)
                log("  the previous scrape's D-Bus and render time: %.1f ms" % (duration * 1000))

            with Exporter(args.exporter, ["--max-processes", "2"], name="exporter-max2") as exporter:
                status, _, body = exporter.get(accept=PROMETHEUS_ACCEPT)
                check(status == 200, "--max-processes scrape: %d" % status)
                by = samples_by_family(parse_openmetrics(body.decode()))
                kept = {int(s.labels["pid"]) for s in by["dirtyrate_process_resident_bytes"]}
                ranked = sorted(processes, key=lambda pid: (
                    math.isnan(float(processes[pid]["DirtyBytesPerSecAvg60"])),
                    -float(processes[pid]["DirtyBytesPerSecAvg60"]), pid))
                check(kept == set(ranked[:2]), "kept %s, the top two by Avg60 are %s" % (sorted(kept), ranked[:2]))
                check(by["dirtyrate_other_processes"][0].value == 2, "others: %r" % by["dirtyrate_other_processes"])
                for s in by["dirtyrate_other_processes_dirty_rate_bytes_per_second"]:
                    prop = WINDOWS[s.labels["window"]]
                    want = sum(float(processes[pid][prop]) for pid in ranked[2:]
                               if not math.isnan(float(processes[pid][prop])))
                    check(math.isclose(s.value, want, rel_tol=1e-12, abs_tol=1e-9),
                          "others{window=%s} = %r, expected %r" % (s.labels["window"], s.value, want))
                log("  --max-processes 2: kept %s, 2 others summed" % sorted(kept))
        finally:
            for pid in children:
                kill_process(pid)
            workload.kill()
            workload.wait()
        session.daemon.stop()
    log("ok conformance")
    return 0


if __name__ == "__main__":
    run(main)
