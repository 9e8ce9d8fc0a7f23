#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""The exporter's read policy, with a real polkitd: under ReadAccess=owner the
installed rule (units/50-dirtyrate-exporter.rules) lets the user
"dirtyrate-exporter" see every tracked process, another user sees none (and
its exporter says why in its log); and that user may do nothing else: the
bus policy (units/org.dirtyrate1.exporter.conf) refuses its TrackProcess
before dirtyrated sees it, and without that policy polkit does.

Runs in a mount namespace of its own (meson runs it under unshare --mount):
/etc/passwd and /etc/group gain the two users (as systemd-sysusers would
add dirtyrate-exporter), and polkit's action and rule directories hold only
ours, by bind mounts that end with the namespace.

  test-read-policy.py --daemon PATH --exporter PATH --rule FILE --action FILE --bus-policy FILE
"""

import argparse
import os
import shutil
import subprocess

import dbus
from prometheus_client.parser import text_string_to_metric_families as parse_text

from exporter_session import SKIP, Exporter, Session, TestFailure, check, log, run, wait_for

POLKITD = "/usr/lib/polkit-1/polkitd"
POLKIT_BUS_POLICY = "/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf"
EXPORTER_USER, EXPORTER_UID = "dirtyrate-exporter", 61900
OTHER_USER, OTHER_UID = "dr-reader", 61901


def bind(source, target):
    subprocess.run(["mount", "--bind", source, target], check=True)


def private_world(tmp, rule, action):
    """Our users and only our polkit action and rule, in this mount namespace."""
    if subprocess.run(["findmnt", "-n", "-o", "PROPAGATION", "/"], capture_output=True,
                      text=True).stdout.strip() == "shared":
        raise TestFailure("/ propagates mounts: run under unshare --mount")
    for name, extra in (("passwd", ["%s:x:%d:%d::/:/usr/sbin/nologin\n" % (u, uid, uid)
                                    for u, uid in ((EXPORTER_USER, EXPORTER_UID), (OTHER_USER, OTHER_UID))]),
                        ("group", ["%s:x:%d:\n" % (u, uid)
                                   for u, uid in ((EXPORTER_USER, EXPORTER_UID), (OTHER_USER, OTHER_UID))])):
        path = os.path.join(tmp, name)
        shutil.copy("/etc/" + name, path)
        with open(path, "a") as f:
            f.writelines(extra)
        os.chmod(path, 0o644)
        bind(path, "/etc/" + name)
    for d, files in (("actions", [action]), ("rules", [rule]), ("etc-rules", [])):
        path = os.path.join(tmp, d)
        os.mkdir(path)
        os.chmod(path, 0o755)
        for f in files:
            shutil.copy(f, path)
    bind(os.path.join(tmp, "actions"), "/usr/share/polkit-1/actions")
    bind(os.path.join(tmp, "rules"), "/usr/share/polkit-1/rules.d")
    bind(os.path.join(tmp, "etc-rules"), "/etc/polkit-1/rules.d")


def reload_bus_config():
    subprocess.run(["busctl", "--system", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                    "org.freedesktop.DBus", "ReloadConfig"], check=True, capture_output=True)


def as_user(user, *cmd):
    return subprocess.run(["setpriv", "--reuid=" + user, "--regid=" + user, "--clear-groups"] + list(cmd),
                          capture_output=True, text=True)


def visible(exporter):
    status, _, body = exporter.get()
    check(status == 200, "scrape: %d %r" % (status, body[:200]))
    by = {f.name: f.samples for f in parse_text(body.decode())}
    pids = {int(s.labels["pid"]) for s in by.get("dirtyrate_process_resident_bytes", [])}
    return pids, int(by["dirtyrate_tracked_processes"][0].value)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--rule", required=True)
    ap.add_argument("--action", required=True)
    ap.add_argument("--bus-policy", required=True)
    args = ap.parse_args()
    if os.geteuid() == 0 and not (os.path.exists(POLKITD) and os.path.exists(POLKIT_BUS_POLICY)):
        print("polkitd is not installed (Debian package polkitd; scripts/install-deps installs it); skipping")
        return SKIP

    config = "[Daemon]\nSampleIntervalSec=100ms\nReadAccess=owner\n"
    with Session(args.daemon, config, policies=[POLKIT_BUS_POLICY, args.bus_policy]) as session:
        private_world(session.tmp, args.rule, args.action)
        reload_bus_config()  # the bus resolves the user names in its policies when it loads them
        exporter_bin = os.path.join(session.tmp, "dirtyrate-exporter")  # the build tree may be closed to others
        shutil.copy(args.exporter, exporter_bin)
        # polkitd switches to its own user itself, which alone may own its name.
        polkitd = subprocess.Popen([POLKITD, "--no-debug"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        workloads = []
        try:
            bus = dbus.SystemBus()
            wait_for("polkitd on the bus", lambda: bus.name_has_owner("org.freedesktop.PolicyKit1"))
            manager = bus.get_object("org.dirtyrate1", "/org/dirtyrate1")
            for user in ("nobody", "daemon"):
                p = subprocess.Popen(["setpriv", "--reuid=" + user, "--regid=" + user if user != "nobody"
                                      else "--regid=nogroup", "--clear-groups", "sleep", "1000"])
                workloads.append(p)
            wait_for("the sleepers to exec", lambda: all(
                open("/proc/%d/comm" % p.pid).read().strip() == "sleep" for p in workloads))
            for p in workloads:
                manager.TrackProcess(dbus.UInt32(p.pid), dbus_interface="org.dirtyrate1.Manager")
            tracked = {p.pid for p in workloads}

            with Exporter(exporter_bin, user=EXPORTER_USER, name="exporter-granted") as exporter:
                pids, total = visible(exporter)
                check(pids == tracked and total == 2, "%s sees %s of %d, expected %s" % (
                    EXPORTER_USER, sorted(pids), total, sorted(tracked)))
                log("  %s (granted org.dirtyrate1.read-all by the rule) sees both processes, of two other users"
                    % EXPORTER_USER)
                check("read-all" not in exporter.log(), "a warning although it sees all:\n" + exporter.log())

            with Exporter(exporter_bin, user=OTHER_USER, name="exporter-other") as exporter:
                pids, total = visible(exporter)
                check(pids == set() and total == 2, "%s sees %s of %d" % (OTHER_USER, sorted(pids), total))
                check("grant its user the polkit action org.dirtyrate1.read-all" in exporter.log(),
                      "no warning from an exporter that sees 0 of 2:\n" + exporter.log())
                log("  %s (no rule for it) sees none of the 2, and its exporter's log says why" % OTHER_USER)

            def track_as_exporter():
                # dbus-send, which prints the error's whole message (busctl shortens an AccessDenied)
                return as_user(EXPORTER_USER, "dbus-send", "--system", "--print-reply", "--dest=org.dirtyrate1",
                               "/org/dirtyrate1", "org.dirtyrate1.Manager.TrackProcess", "uint32:%d" % os.getpid())
            r = track_as_exporter()
            check(r.returncode != 0 and "rejected send message" in r.stderr.lower() and "org.dirtyrate1.manage"
                  not in r.stderr, "TrackProcess as %s, with the bus policy: %d %s%s" % (
                      EXPORTER_USER, r.returncode, r.stdout, r.stderr))
            log("  TrackProcess as %s: refused by the bus policy (%s)" % (EXPORTER_USER, r.stderr.strip()[:90]))
            os.unlink(os.path.join(session.bus.policy_dir, os.path.basename(args.bus_policy)))
            reload_bus_config()
            r = track_as_exporter()
            check(r.returncode != 0 and "org.dirtyrate1.manage" in r.stderr,
                  "TrackProcess as %s, without the bus policy: %d %s%s" % (EXPORTER_USER, r.returncode, r.stdout,
                                                                           r.stderr))
            log("  without it, by polkit (%s)" % r.stderr.strip())
        finally:
            for p in workloads:
                p.kill()
                p.wait()
            polkitd.terminate()
            polkitd.wait()
        session.daemon.stop()
    log("ok read policy")
    return 0


if __name__ == "__main__":
    run(main)
