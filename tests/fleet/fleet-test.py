#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""fleet: a real Prometheus scraping three dirtyrate "hosts" on one machine.

Each host is a network namespace of its own with a private system-like bus,
its own dirtyrated, its own dirtyrate-exporter listening on the host's
address, and workloads of known rates. A fourth namespace, the monitoring
host, is linked to each by a veth pair (10.77.N.1 there, 10.77.N.2 on host
N) and runs Prometheus, configured from contrib/prometheus: the same scrape
job and rules, scraping and evaluating every second, the high-rate alert's
threshold and duration lowered for a test that lasts a minute. Through
Prometheus's HTTP API the test checks the fleet-wide top three, the
recording rules, the alert, and that an exited workload's series goes
stale. It prints every query and its result.

  fleet-test.py --source-root DIR --dirtyrated PATH --dirtyratectl PATH
                --workload PATH --exporter PATH [--prometheus PATH]
                [--keep-tmp]

Needs root (network namespaces); exits 77 (skip) without it. Everything it
starts dies with it, and its namespaces and files are deleted on any exit;
those of a test that was killed outright are deleted by the next run.
"""

import argparse
import contextlib
import ctypes
import json
import math
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

PAGE = os.sysconf("SC_PAGE_SIZE")
PORT = 9777
PROMETHEUS_LISTEN = "127.0.0.1:9090"
NS_PREFIX = "drfleet"
TMP_PREFIX = "dirtyrate-fleet."

# page-sampling (the best this host's kernel has) estimates from a sample
# of pages: its error falls with the pages read per pass and with the
# intervals an average spans (daemon/README.md, "the budget"). Every host's
# daemon tracks one or two workloads, so a budget of 4096 pages a second
# reads about 4000 pages a pass of a workload that rewrites 1/8 of its
# memory a second: one interval's standard error is about 4 %, the 60 s
# average's after 30 intervals under 1 %, against a tolerance of 10 %. It
# costs each daemon about 16 ms of CPU a second.
DAEMON_CONFIG = "[Daemon]\nSampleIntervalSec=1s\nSampleBudgetPagesPerSec=4096\n"
# A workload populates its region, then writes it round-robin: a round
# takes 8 s at any rate (the region is twice its 4 s unique window). Its
# truth (the pages its progress log counts) holds from then on; it is
# tracked only once that has passed, and judged when the 60 s average spans
# enough intervals.
WORKLOAD_SETTLE_SEC = 10  # from the workload's start to tracking
WARMUP_SEC = 15           # from tracking to the accuracy check
TOLERANCE = 0.10

# Distinct pages written per second. host 3's exporter runs with
# --max-processes 1, so its second workload is only in the "others"
# aggregate, and its per-host sum is 20 % short if a rule forgets it. host
# 1 also tracks an idle process, which the top three must leave out.
HOSTS = {
    1: {"workloads": [("writer-1m", 256)], "idle": True},
    2: {"workloads": [("writer-3m", 768)]},
    3: {"workloads": [("writer-8m", 2048), ("writer-2m-cut", 512)], "max_processes": 1},
}
# Between host 2's 3 MiB/s and host 3's 8 MiB/s: only host 3's writer fires.
ALERT = "DirtyrateHighDirtyRate"
ALERT_THRESHOLD = 5 * 1024 * 1024
ALERT_FOR = "3s"
RATE_METRIC = "dirtyrate_process_dirty_rate_bytes_per_second"

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
libc = ctypes.CDLL("libc.so.6", use_errno=True)


class TestFailure(Exception):
    pass


def log(msg=""):
    print(msg, flush=True)


def die_with_parent():
    """preexec_fn: SIGKILL the child if the test dies (even by SIGKILL)."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def run(*argv, **kw):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def pid_gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    return False


def sweep_stale():
    """Delete the namespaces and directories of earlier runs that were
    killed outright (their processes died with them: PR_SET_PDEATHSIG)."""
    netns = os.listdir("/run/netns") if os.path.isdir("/run/netns") else []
    for name in netns:
        m = re.fullmatch(NS_PREFIX + r"(\d+)-\w+", name)
        if m and pid_gone(int(m.group(1))):
            log(f"fleet: deleting namespace {name}, left by a test that did not finish")
            subprocess.run(["ip", "netns", "del", name])
    tmpdir = tempfile.gettempdir()
    for name in os.listdir(tmpdir):
        m = re.fullmatch(re.escape(TMP_PREFIX) + r"(\d+)\..*", name)
        if m and pid_gone(int(m.group(1))):
            shutil.rmtree(os.path.join(tmpdir, name), ignore_errors=True)


@contextlib.contextmanager
def in_netns(path):
    """Sockets made inside this block live in the namespace at PATH.

    The test is single-threaded; setns() moves only the calling thread, and
    back again on the way out."""
    with open("/proc/thread-self/ns/net") as home, open(path) as target:
        if libc.setns(target.fileno(), CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns({path})")
        try:
            yield
        finally:
            if libc.setns(home.fileno(), CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns(back)")


class Fleet:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}.")
        self.namespaces = []
        self.procs = []          # (name, Popen), stopped in reverse order
        self.daemons = {}        # host -> Popen of dirtyrated
        self.bus_env = {}        # host -> environment with its bus
        self.workloads = []      # dicts: host, name, rate, pid, popen, progress, tracked_at
        self.idle = {}           # host -> pid
        # No proxy, whatever the environment says: every address is ours.
        self.http = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ---- namespaces -------------------------------------------------------

    def ns(self, name):
        return f"{NS_PREFIX}{os.getpid()}-{name}"

    def add_namespace(self, name):
        full = self.ns(name)
        run("ip", "netns", "add", full)
        self.namespaces.append(full)
        run("ip", "-n", full, "link", "set", "lo", "up")
        return full

    def build_network(self):
        """The monitoring host "mon" and hosts 1-3, one veth pair each,
        made inside the test's namespaces (nothing touches the machine's)."""
        mon = self.add_namespace("mon")
        for n in HOSTS:
            host = self.add_namespace(f"h{n}")
            run("ip", "-n", mon, "link", "add", f"h{n}", "type", "veth", "peer", "name", "eth0", "netns", host)
            run("ip", "-n", mon, "addr", "add", f"10.77.{n}.1/24", "dev", f"h{n}")
            run("ip", "-n", host, "addr", "add", f"10.77.{n}.2/24", "dev", "eth0")
            run("ip", "-n", mon, "link", "set", f"h{n}", "up")
            run("ip", "-n", host, "link", "set", "eth0", "up")
        log(f"fleet: namespaces {' '.join(self.namespaces)}; host N is 10.77.N.2, "
            f"the monitoring host 10.77.N.1")

    # ---- processes --------------------------------------------------------

    def spawn(self, name, netns, argv, env=None, stdout=None):
        """ARGV in network namespace NETNS (nsenter execs it: the pid is
        the program's own)."""
        with open(os.path.join(self.tmp, name + ".log"), "w") as logf:
            p = subprocess.Popen(["nsenter", f"--net=/run/netns/{netns}", "--"] + argv, env=env,
                                 stdin=subprocess.DEVNULL, stdout=logf if stdout is None else stdout, stderr=logf,
                                 preexec_fn=die_with_parent)
        self.procs.append((name, p))
        return p

    def logfile(self, name):
        path = os.path.join(self.tmp, name + ".log")
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start_bus(self, n):
        policy = os.path.join(self.tmp, "policy")
        if not os.path.isdir(policy):
            os.mkdir(policy)
            shutil.copy(os.path.join(self.args.source_root, "units", "org.dirtyrate1.conf"), policy)
        conf = os.path.join(self.tmp, f"bus-h{n}.conf")
        with open(conf, "w") as f:
            f.write(run(sys.executable, os.path.join(self.args.source_root, "tools", "bus-config.py"),
                        "--socket", os.path.join(self.tmp, f"bus-h{n}"), "--policy-dir", policy).stdout)
        p = self.spawn(f"dbus-h{n}", self.ns(f"h{n}"),
                       ["dbus-daemon", f"--config-file={conf}", "--nofork", "--print-address=1"],
                       stdout=subprocess.PIPE)
        ready, _, _ = select.select([p.stdout], [], [], 10)
        address = p.stdout.readline().decode().strip() if ready else ""
        if not address:
            raise TestFailure(f"host {n}: dbus-daemon did not print its address")
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        self.bus_env[n] = env

    def ctl(self, n, *argv):
        return run(self.args.dirtyratectl, *argv, env=self.bus_env[n]).stdout

    def start_daemon(self, n):
        conf = os.path.join(self.tmp, f"dirtyrated-h{n}.conf")
        with open(conf, "w") as f:
            f.write(DAEMON_CONFIG)
        env = dict(self.bus_env[n], DIRTYRATED_SAMPLE_SEED=str(n))
        p = self.spawn(f"dirtyrated-h{n}", self.ns(f"h{n}"), [self.args.dirtyrated, f"--config={conf}"], env=env)
        self.daemons[n] = p
        deadline = time.monotonic() + 30
        while True:
            if p.poll() is not None:
                raise TestFailure(f"host {n}: dirtyrated exited ({p.returncode}) before it was ready")
            if subprocess.run([self.args.dirtyratectl, "status"], env=self.bus_env[n],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise TestFailure(f"host {n}: dirtyrated not ready after 30 s")
            time.sleep(0.1)

    def track(self, n, pid):
        self.ctl(n, "track", str(pid))

    def start_workloads(self, n, spec):
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        for name, rate in spec["workloads"]:
            # Its comm is the name it is run by: one per workload.
            exe = os.path.join(bindir, name)
            os.symlink(os.path.abspath(self.args.workload), exe)
            progress = os.path.join(self.tmp, name + ".progress")
            p = self.spawn(name, self.ns(f"h{n}"),
                           [exe, f"--pages-per-sec={rate}", f"--progress-log={progress}", "--quiet"])
            self.workloads.append({"host": n, "name": name, "rate": rate, "pid": p.pid, "popen": p,
                                   "progress": progress, "started_at": time.monotonic()})
        if spec.get("idle"):
            p = self.spawn(f"idle-h{n}", self.ns(f"h{n}"), ["sleep", "3600"])
            self.idle[n] = p.pid

    def track_all(self):
        for w in self.workloads:
            self.track(w["host"], w["pid"])
            w["tracked_at"] = time.monotonic()
        for n, pid in self.idle.items():
            self.track(n, pid)

    def start_exporter(self, n, spec):
        argv = [self.args.exporter, "--listen", f"10.77.{n}.2:{PORT}"]
        if "max_processes" in spec:
            argv += ["--max-processes", str(spec["max_processes"])]
        p = self.spawn(f"exporter-h{n}", self.ns(f"h{n}"), argv, env=self.bus_env[n])
        # Ready when the monitoring host gets a 200 from it (which also
        # proves the link).
        url = f"http://10.77.{n}.2:{PORT}/metrics"
        deadline = time.monotonic() + 15
        while True:
            if p.poll() is not None:
                raise TestFailure(f"host {n}: dirtyrate-exporter exited ({p.returncode}):\n"
                                  + self.logfile(f"exporter-h{n}"))
            try:
                with in_netns(f"/run/netns/{self.ns('mon')}"):
                    resp = self.http.open(url, timeout=5)
                if resp.status == 200:
                    return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TestFailure(f"host {n}: {url} does not answer 200 after 15 s")
            time.sleep(0.2)

    # ---- Prometheus -------------------------------------------------------

    def prometheus_files(self):
        """contrib/prometheus's config and rules, adapted to a one-minute
        test: scrape and evaluate every second, our three targets, and the
        high-rate alert's threshold and `for:` lowered; every expression is
        otherwise the operator's."""
        # Absolute: Prometheus reads rule_files relative to the config's
        # directory, and a pattern that matches nothing is no error.
        contrib = os.path.join(os.path.abspath(self.args.source_root), "contrib", "prometheus")
        with open(os.path.join(contrib, "prometheus.yml")) as f:
            config = yaml.safe_load(f)
        with open(os.path.join(contrib, "dirtyrate-alerts.rules.yml")) as f:
            alerts = yaml.safe_load(f)
        with open(os.path.join(contrib, "dirtyrate-recording.rules.yml")) as f:
            groups = yaml.safe_load(f)["groups"] + alerts["groups"]
        self.n_rules = sum(len(g["rules"]) for g in groups)
        # The exporter's metric names the rules use (not the names rules
        # record, which have colons).
        self.rule_metrics = {m for g in groups for r in g["rules"]
                             for m in re.findall(r"(?<![\w:])dirtyrate_\w+(?![\w:])", r["expr"])}

        changed = 0
        for group in alerts["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") != ALERT:
                    continue
                expr, n = re.subn(r">\s*[0-9.e+]+\s*$", f"> {ALERT_THRESHOLD}", rule["expr"].strip())
                if n != 1:
                    raise TestFailure(f"{ALERT}'s expression does not end in '> THRESHOLD': {rule['expr']!r}")
                rule["expr"], rule["for"] = expr, ALERT_FOR
                changed += 1
        if changed != 1:
            raise TestFailure(f"contrib/prometheus/dirtyrate-alerts.rules.yml has {changed} {ALERT} rules")
        alerts_path = os.path.join(self.tmp, "alerts.rules.yml")
        with open(alerts_path, "w") as f:
            yaml.safe_dump(alerts, f, sort_keys=False)

        config["global"]["scrape_interval"] = "1s"
        config["global"]["evaluation_interval"] = "1s"
        config["rule_files"] = [os.path.join(contrib, "dirtyrate-recording.rules.yml"), alerts_path]
        jobs = [j for j in config["scrape_configs"] if j["job_name"] == "dirtyrate"]
        if len(jobs) != 1:
            raise TestFailure("contrib/prometheus/prometheus.yml has no single job 'dirtyrate'")
        jobs[0]["scrape_timeout"] = "1s"     # at most the interval
        jobs[0]["static_configs"] = [{"targets": [f"10.77.{n}.2:{PORT}" for n in HOSTS]}]
        config_path = os.path.join(self.tmp, "prometheus.yml")
        with open(config_path, "w") as f:
            yaml.safe_dump(config, f, sort_keys=False)
        log(f"fleet: Prometheus config (contrib/prometheus/prometheus.yml, adapted):\n"
            + open(config_path).read().rstrip())
        log(f"fleet: {ALERT} for this test: `{expr}`, for: {ALERT_FOR}")
        return config_path

    def start_prometheus(self):
        config = self.prometheus_files()
        self.spawn("prometheus", self.ns("mon"),
                   [self.args.prometheus, f"--config.file={config}",
                    f"--storage.tsdb.path={os.path.join(self.tmp, 'tsdb')}",
                    f"--web.listen-address={PROMETHEUS_LISTEN}"])
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.get_raw("/-/ready").status == 200:
                    return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TestFailure("Prometheus not ready after 30 s:\n" + self.logfile("prometheus")[-3000:])
            time.sleep(0.2)

    def get_raw(self, path):
        with in_netns(f"/run/netns/{self.ns('mon')}"):
            return self.http.open(f"http://{PROMETHEUS_LISTEN}{path}", timeout=10)

    def api(self, path, **params):
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        with self.get_raw(path + query) as resp:
            data = json.load(resp)
        if data.get("status") != "success":
            raise TestFailure(f"{path}{query}: {data}")
        return data["data"]

    def query(self, expr, quiet=False):
        result = self.api("/api/v1/query", query=expr)["result"]
        if not quiet:
            log(f"  query: {expr}")
            if not result:
                log("    (empty)")
            for r in result:
                log(f"    {format_labels(r['metric'])} => {r['value'][1]}")
        return result

    # ---- the truth --------------------------------------------------------

    def written_rate(self, w, since):
        """Bytes per second the workload really wrote from SINCE (its
        CLOCK_MONOTONIC, as the progress log's) to its last logged tick."""
        points = []
        with open(w["progress"]) as f:
            for line in f:
                t, pages = line.split()
                points.append((int(t) / 1e6, int(pages)))
        start = [p for p in points if p[0] <= since]
        if not start or points[-1][0] - start[-1][0] < 5:
            raise TestFailure(f"{w['name']}: its progress log covers too little time")
        (t0, p0), (t1, p1) = start[-1], points[-1]
        return (p1 - p0) * PAGE / (t1 - t0)

    # ---- teardown ---------------------------------------------------------

    def stop(self, failed):
        status_ok = True
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for name, p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log(f"fleet: {name} did not exit within 10 s of SIGTERM; killing it")
                p.kill()
                p.wait()
                status_ok = False
        for n, p in self.daemons.items():
            if p.returncode != 0:
                log(f"fleet: dirtyrated of host {n} exited with status {p.returncode} on SIGTERM")
                status_ok = False
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns])
        if failed or not status_ok:
            for name, _ in self.procs:
                text = self.logfile(name)
                if text.strip():
                    log(f"---- {name} (last lines) ----")
                    log("\n".join(text.rstrip().splitlines()[-25:]))
        if self.args.keep_tmp:
            log(f"fleet: kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return status_ok


def format_labels(metric):
    name = metric.get("__name__", "")
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{inner}}}"


def exported_alone(w):
    """Whether W has series of its own: --max-processes N keeps a host's N
    fastest (the rest are in the others aggregate)."""
    spec = HOSTS[w["host"]]
    faster = [r for _, r in spec["workloads"] if r > w["rate"]]
    return len(faster) < spec.get("max_processes", len(spec["workloads"]) + 1)


def within(measured, truth):
    return abs(measured - truth) <= TOLERANCE * truth


def poll(timeout, fn):
    """FN() until it returns something true; its last value otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def check(cond, msg, failures):
    log(("  ok: " if cond else "  FAIL: ") + msg)
    if not cond:
        failures.append(msg)


def scenario(fleet):
    failures = []
    t_start = time.monotonic()
    fleet.build_network()
    # The workloads first: they settle while the rest starts.
    for n, spec in HOSTS.items():
        fleet.start_workloads(n, spec)
    for n, spec in HOSTS.items():
        t = [time.monotonic()]
        fleet.start_bus(n)
        t.append(time.monotonic())
        fleet.start_daemon(n)
        t.append(time.monotonic())
        fleet.start_exporter(n, spec)
        t.append(time.monotonic())
        log(f"fleet: host {n} up: bus {t[1] - t[0]:.1f} s, dirtyrated {t[2] - t[1]:.1f} s, "
            f"dirtyrate-exporter {t[3] - t[2]:.1f} s")
    status = fleet.ctl(1, "status")
    log("fleet: host 1's dirtyrated: " + " ".join(status.split()))
    fleet.start_prometheus()
    t_prom = time.monotonic()
    log(f"fleet: three hosts and Prometheus up in {t_prom - t_start:.1f} s")

    def targets_up():
        active = fleet.api("/api/v1/targets")["activeTargets"]
        up = [t for t in active if t["health"] == "up"]
        return active if len(up) == len(HOSTS) else None
    active = poll(20, targets_up)
    log("== Prometheus targets")
    for t in fleet.api("/api/v1/targets")["activeTargets"]:
        log(f"  {t['scrapeUrl']}: {t['health']} {t.get('lastError', '')}")
    if not active:
        raise TestFailure("not all three targets are up after 20 s")
    log(f"fleet: all three targets up {time.monotonic() - t_prom:.1f} s after Prometheus started")

    instance = {n: f"10.77.{n}.2:{PORT}" for n in HOSTS}
    per_process = [w for w in fleet.workloads if exported_alone(w)]
    expected_order = sorted(per_process, key=lambda w: -w["rate"])
    topk = f'topk(3, {RATE_METRIC}{{window="60s"}})'

    rest = max(w["started_at"] for w in fleet.workloads) + WORKLOAD_SETTLE_SEC - time.monotonic()
    if rest > 0:
        log(f"fleet: waiting {rest:.1f} s for the workloads to settle")
        time.sleep(rest)
    fleet.track_all()
    log(f"fleet: tracking the workloads; waiting {WARMUP_SEC} s for the 60 s averages")
    time.sleep(WARMUP_SEC)

    tracked = max(w["tracked_at"] for w in fleet.workloads)
    log(f"== the fleet's top three (60 s window), {time.monotonic() - tracked:.0f} s after tracking")
    result = fleet.query(topk)
    # From the first pass, the baseline, on.
    truth = {w["pid"]: fleet.written_rate(w, w["tracked_at"] + 1) for w in fleet.workloads}
    log("  rank  instance          pid      comm            measured B/s   truth B/s    error")
    for i, r in enumerate(result):
        m, v = r["metric"], float(r["value"][1])
        t = truth.get(int(m.get("pid", 0)))
        err = f"{(v - t) / t * 100:+.2f} %" if t else "(not a workload)"
        log(f"  {i + 1:<5} {m.get('instance', ''):<17} {m.get('pid', ''):<8} {m.get('comm', ''):<15} "
            f"{v:>12.0f} {t or 0:>12.0f}   {err}")
    check(len(result) == 3, f"{topk} returns 3 series (got {len(result)})", failures)
    for i, w in enumerate(expected_order):
        if i >= len(result):
            break
        m, v = result[i]["metric"], float(result[i]["value"][1])
        check(m.get("instance") == instance[w["host"]] and m.get("pid") == str(w["pid"]),
              f"rank {i + 1} is {w['name']} on host {w['host']} (pid {w['pid']}); got {m.get('comm')} "
              f"pid {m.get('pid')} on {m.get('instance')}", failures)
        check(within(v, truth[w["pid"]]),
              f"{w['name']}: {v:.0f} B/s within {TOLERANCE:.0%} of the truth {truth[w['pid']]:.0f} B/s "
              f"(nominal {w['rate'] * PAGE} B/s)", failures)
        check(m.get("backend") in ("page-sampling", "pagemap-ioctl", "clear-refs"),
              f"{w['name']} is measured by {m.get('backend')}", failures)
        check(re.fullmatch(r"\d+\.\d\d", m.get("start", "")) is not None,
              f"{w['name']} has a start label ({m.get('start')!r})", failures)
    writer_labels = {int(r["metric"]["pid"]): r["metric"] for r in result if "pid" in r["metric"]}

    log("== recording rules")
    sums = fleet.query("instance:dirtyrate_dirty_rate_bytes_per_second:sum")
    host_truth = {n: sum(truth[w["pid"]] for w in fleet.workloads if w["host"] == n) for n in HOSTS}
    got = {r["metric"].get("instance"): float(r["value"][1]) for r in sums}
    for n in HOSTS:
        v = got.get(instance[n])
        check(v is not None and within(v, host_truth[n]),
              f"host {n}'s sum {v} B/s within {TOLERANCE:.0%} of its workloads' {host_truth[n]:.0f} B/s"
              + (" (one of them only in the others aggregate)" if "max_processes" in HOSTS[n] else ""),
              failures)
    fleet_sum = fleet.query("job:dirtyrate_dirty_rate_bytes_per_second:sum")
    total = sum(host_truth.values())
    check(len(fleet_sum) == 1 and within(float(fleet_sum[0]["value"][1]), total),
          f"the fleet's sum within {TOLERANCE:.0%} of {total:.0f} B/s", failures)
    top10 = fleet.query("sort_desc(fleet:dirtyrate_process_dirty_rate_bytes_per_second:topk10)")
    want = {str(w["pid"]) for w in per_process} | {str(p) for p in fleet.idle.values()}
    check({r["metric"].get("pid") for r in top10} == want,
          f"the top-ten rule holds every per-process series, pids {sorted(want)}", failures)
    others = fleet.query(f'dirtyrate_other_processes{{instance="{instance[3]}"}}')
    check(len(others) == 1 and float(others[0]["value"][1]) == 1,
          "host 3's exporter (--max-processes 1) reports one process in the others aggregate", failures)

    names = set(fleet.api("/api/v1/label/__name__/values"))
    missing = sorted(fleet.rule_metrics - names)
    check(not missing, f"every metric the rules use is scraped ({', '.join(sorted(fleet.rule_metrics))})"
          f"{f'; missing: {missing}' if missing else ''}", failures)

    rules = fleet.api("/api/v1/rules")["groups"]
    bad = [(r["name"], r.get("health"), r.get("lastError")) for g in rules for r in g["rules"]
           if r.get("health") != "ok"]
    loaded = sum(len(g["rules"]) for g in rules)
    check(not bad and loaded == fleet.n_rules,
          f"all {fleet.n_rules} rules of contrib/prometheus are loaded ({loaded}) and evaluate without error"
          f"{f' (failing: {bad})' if bad else ''}", failures)

    log(f"== the alert ({ALERT} above {ALERT_THRESHOLD} B/s for {ALERT_FOR})")
    firing_q = f'ALERTS{{alertname="{ALERT}",alertstate="firing"}}'
    t0 = time.monotonic()
    firing = poll(30, lambda: fleet.query(firing_q, quiet=True))
    log(f"  firing after {time.monotonic() - t0:.1f} s")
    fleet.query(firing_q)
    fast = max(per_process, key=lambda w: w["rate"])
    check(len(firing) == 1 and firing[0]["metric"].get("pid") == str(fast["pid"])
          and firing[0]["metric"].get("instance") == instance[fast["host"]]
          and firing[0]["metric"].get("start") == writer_labels.get(fast["pid"], {}).get("start"),
          f"{ALERT} fires for {fast['name']} (pid {fast['pid']}, its start label) and no other", failures)
    all_alerts = fleet.query(f'ALERTS{{alertname="{ALERT}"}}')
    check({a["metric"].get("pid") for a in all_alerts} == {str(fast["pid"])},
          f"no other process is even pending for {ALERT}", failures)
    other = fleet.query(f'ALERTS{{alertname!="{ALERT}"}}')
    check(not other, "no other alert is pending or firing", failures)

    victim = next(w for w in per_process if w["host"] == 2)
    labels = f'instance="{instance[2]}",pid="{victim["pid"]}"'
    sel = f'{RATE_METRIC}{{{labels}}}'
    log(f"== staleness: {victim['name']} (pid {victim['pid']}) on host 2 exits")
    before = fleet.query(sel)
    check(len(before) == 4, f"before: its 4 windows are there (got {len(before)})", failures)
    victim["popen"].terminate()
    victim["popen"].wait(timeout=10)
    t0 = time.monotonic()
    gone = poll(20, lambda: not fleet.query(sel, quiet=True))
    elapsed = time.monotonic() - t0
    after = fleet.query(sel)
    check(gone and not after,
          f"after: nothing at 'now' {elapsed:.1f} s after it exited (lookback delta is 5 min: "
          f"this is the staleness marker, not the series ageing out)", failures)
    history = fleet.query(f'last_over_time({RATE_METRIC}{{{labels},window="60s"}}[5m])')
    check(len(history) == 1, "its samples before the exit are still in the database", failures)
    time.sleep(2)   # two evaluations
    check(not fleet.query(f'fleet:dirtyrate_process_dirty_rate_bytes_per_second:topk10{{pid="{victim["pid"]}"}}'),
          "it has left the top-ten rule too", failures)
    still = fleet.query(topk)
    check(len(still) == 3 and str(victim["pid"]) not in {r["metric"].get("pid") for r in still},
          "the others are still there; the idle process takes the third place", failures)
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--dirtyrated", required=True)
    ap.add_argument("--dirtyratectl", required=True)
    ap.add_argument("--workload", required=True)
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--prometheus", default="prometheus")
    ap.add_argument("--keep-tmp", action="store_true")
    args = ap.parse_args()

    if os.geteuid() != 0:
        log("fleet: SKIP: needs root (network namespaces)")
        return 77
    for prog in (args.prometheus, "ip", "nsenter", "dbus-daemon"):
        if not shutil.which(prog):
            log(f"fleet: {prog} not found: run scripts/install-deps")
            return 1

    # meson's timeout sends SIGTERM: clean up as on any other failure.
    def on_signal(sig, frame):
        raise TestFailure(f"killed by signal {sig}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    sweep_stale()
    started = time.monotonic()
    fleet = Fleet(args)
    failures = []
    try:
        failures = scenario(fleet)
    except TestFailure as e:
        log(f"fleet: FAIL: {e}")
        failures = [str(e)]
    except Exception as e:
        import traceback
        traceback.print_exc()
        failures = [repr(e)]
    finally:
        clean = fleet.stop(bool(failures))
    log(f"fleet: {time.monotonic() - started:.0f} s in all")
    if failures or not clean:
        log(f"fleet: FAIL ({len(failures)} checks failed{'' if clean else ', unclean shutdown'})")
        return 1
    log("fleet: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
