#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Scrape the installed dirtyrate-exporter as Prometheus would, and check it.

One HTTP GET with urllib (the rootfs has no curl) of --url, optionally with
an Accept header. Checks the status and, given, the exact Content-Type and
a text the body must contain. For a 200 of /metrics it also parses the
exposition with python3-prometheus-client's parser for its Content-Type
(the text format 0.0.4, or OpenMetrics 1.0 with its '# EOF') and checks
what exporter/README.md documents: per --pid PID=BACKEND, the process's
dirty rate in its four windows with that backend label and
the number of series the README gives for that backend (15 for
page-sampling, 11 otherwise); with --only-pids, that no other process is
exported; dirtyrate_daemon_info's backend, dirtyrate_tracked_processes,
the exporter's own series (scrape errors 0, the previous scrape's duration
present or absent). Prints what it saw; a failure prints
"exporter-scrape: FAIL: ..." and exits 1.
"""
import argparse
import sys
import urllib.error
import urllib.request

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

RATE = "dirtyrate_process_dirty_rate_bytes_per_second"
WINDOWS = {"sample", "10s", "60s", "300s"}


def fail(msg):
    print(f"exporter-scrape: FAIL: {msg}")
    sys.exit(1)


def parse(body, openmetrics):
    """[(name, labels, value)] of every sample, by the format's parser in
    Debian's python3-prometheus-client (the OpenMetrics one requires '# EOF')."""
    parser = parse_openmetrics if openmetrics else parse_text
    try:
        return [(s.name, s.labels, s.value) for family in parser(body) for s in family.samples]
    except Exception as e:  # the parsers raise ValueError and others on bad input
        fail(f"the exposition does not parse as {'OpenMetrics' if openmetrics else 'the text format'}: {e}")


def get(url, accept):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()
    except OSError as e:
        fail(f"GET {url}: {e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:9777/metrics")
    ap.add_argument("--accept")
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--content-type")
    ap.add_argument("--body-contains")
    ap.add_argument("--pid", action="append", default=[], metavar="PID=BACKEND")
    ap.add_argument("--only-pids", action="store_true", help="no process but the --pid ones")
    ap.add_argument("--daemon-backend")
    ap.add_argument("--tracked", type=int)
    ap.add_argument("--scrape-duration", choices=["present", "absent"])
    a = ap.parse_args()

    status, ctype, body = get(a.url, a.accept)
    print(f"GET {a.url}{' Accept: ' + a.accept if a.accept else ''} -> {status}, Content-Type: {ctype}, "
          f"{len(body)} bytes")
    if status != a.status:
        fail(f"status {status}, expected {a.status}; body: {body[:300]!r}")
    if a.content_type is not None and ctype != a.content_type:
        fail(f"Content-Type {ctype!r}, expected {a.content_type!r}")
    if a.body_contains is not None and a.body_contains not in body:
        fail(f"the body does not contain {a.body_contains!r}: {body[:300]!r}")
    if status != 200 or not a.url.endswith("/metrics"):
        return

    samples = parse(body, bool(ctype and ctype.startswith("application/openmetrics-text")))
    value = {}
    for name, labels, v in samples:
        if "pid" not in labels:
            value.setdefault(name, (labels, v))
    exported = {}
    for name, labels, v in samples:
        if "pid" in labels:
            exported.setdefault(int(labels["pid"]), []).append((name, labels, v))
    print(f"{len(samples)} samples; processes {sorted(exported)}")

    for spec in a.pid:
        pid, _, backend = spec.partition("=")
        series = exported.get(int(pid))
        if not series:
            fail(f"process {pid} is not exported (exported: {sorted(exported)})")
        rates = {l.get("window"): (l, v) for n, l, v in series if n == RATE}
        if set(rates) != WINDOWS:
            fail(f"{RATE} of {pid} has the windows {sorted(k or '' for k in rates)}, expected {sorted(WINDOWS)}")
        labels, v = rates["sample"]
        if labels.get("backend") != backend:
            fail(f"{RATE} of {pid} has backend={labels.get('backend')!r}, expected {backend!r}")
        want = 15 if backend == "page-sampling" else 11
        if len(series) != want:
            fail(f"{pid} has {len(series)} series, exporter/README.md says {want} for {backend}: "
                 f"{sorted(n for n, l, v in series)}")
        print(f"pid {pid}: {len(series)} series, comm={labels.get('comm')!r} uid={labels.get('uid')} "
              f"unit={labels.get('unit')!r} backend={labels.get('backend')}, rate {v:.0f} B/s")
    if a.only_pids:
        extra = set(exported) - {int(s.partition("=")[0]) for s in a.pid}
        if extra:
            fail(f"processes exported that were not expected: {sorted(extra)}")

    for name in ("dirtyrate_daemon_info", "dirtyrate_tracked_processes",
                 "dirtyrate_exporter_scrape_errors_total", "dirtyrate_exporter_cache_active"):
        if name not in value:
            fail(f"{name} is missing")
    info = value["dirtyrate_daemon_info"][0]
    print(f"daemon: version {info.get('version')}, backend {info.get('backend')}, "
          f"features {info.get('features')}; tracked {value['dirtyrate_tracked_processes'][1]:.0f}; "
          f"exporter: scrape errors {value['dirtyrate_exporter_scrape_errors_total'][1]:.0f}, "
          f"cache active {value['dirtyrate_exporter_cache_active'][1]:.0f}, previous scrape "
          f"{value['dirtyrate_exporter_scrape_duration_seconds'][1] if 'dirtyrate_exporter_scrape_duration_seconds' in value else '-'} s")
    if a.daemon_backend is not None and info.get("backend") != a.daemon_backend:
        fail(f"dirtyrate_daemon_info backend={info.get('backend')!r}, expected {a.daemon_backend!r}")
    if a.tracked is not None and value["dirtyrate_tracked_processes"][1] != a.tracked:
        fail(f"dirtyrate_tracked_processes {value['dirtyrate_tracked_processes'][1]}, expected {a.tracked}")
    if value["dirtyrate_exporter_scrape_errors_total"][1] != 0:
        fail(f"dirtyrate_exporter_scrape_errors_total {value['dirtyrate_exporter_scrape_errors_total'][1]}, expected 0")
    if a.scrape_duration is not None:
        present = "dirtyrate_exporter_scrape_duration_seconds" in value
        if present != (a.scrape_duration == "present"):
            fail(f"dirtyrate_exporter_scrape_duration_seconds is {'present' if present else 'absent'}, "
                 f"expected {a.scrape_duration}")


if __name__ == "__main__":
    main()
