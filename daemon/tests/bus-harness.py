#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Runs one D-Bus test against dirtyrated on its own private system-like bus.

  bus-harness.py --daemon PATH --policy FILE... [--config-text TEXT] [--as-nobody]
                 [--daemon-wrapper 'CMD ARGS'] [--daemon-env NAME=VALUE]... [--daemon-may-stop]
                 -- TEST [ARGS...]

1. Writes a bus config like the system bus's (tools/bus-config.py),
   listening on a socket in a temporary directory and including a directory
   with the --policy files (ours, plus any a test adds).
2. Starts dbus-daemon, then dirtyrated (under --daemon-wrapper, e.g. setpriv
   to drop capabilities, and with the --daemon-env variables) with
   NOTIFY_SOCKET pointing at a socket of ours, and waits for READY=1 (the
   daemon's own readiness contract).
3. Runs TEST with DBUS_SYSTEM_BUS_ADDRESS set and, for tests that need them:
   DIRTYRATED_PID, DIRTYRATED_CONFIG (the config file, which a test may
   rewrite), DIRTYRATED_LOG (the daemon's stderr) and DIRTYRATED_NOTIFY_LOG
   (every sd_notify message, one per line, appended as they arrive).
4. Sends SIGTERM and requires a clean exit (status 0) within 10 s; with
   --daemon-may-stop, a daemon the test stopped itself must have exited 0.

Exit status: the test's (77 = skipped), or 1 if the harness or daemon failed.
"""

import argparse
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
bus_config = __import__("bus-config").bus_config  # tools/bus-config.py, shared with the demo and the VM

READY_TIMEOUT = 30
STOP_TIMEOUT = 10
DEFAULT_CONFIG = "[Daemon]\nSampleIntervalSec=100ms\n"


def fail(msg):
    print("bus-harness: " + msg, file=sys.stderr)
    return 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--policy", action="append", required=True)
    ap.add_argument("--config-text", default=DEFAULT_CONFIG)
    ap.add_argument("--as-nobody", action="store_true",
                    help="run TEST as nobody, from a copy in the (world-readable) temporary directory, "
                         "since the build tree may sit under a directory nobody cannot enter")
    ap.add_argument("--daemon-wrapper", default="",
                    help="a command line the daemon runs under (it execs the daemon), e.g. setpriv")
    ap.add_argument("--daemon-env", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--daemon-may-stop", action="store_true",
                    help="the test may stop the daemon itself (SIGTERM to $DIRTYRATED_PID); "
                         "it must then have exited with status 0")
    ap.add_argument("test", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    test = args.test[1:] if args.test[:1] == ["--"] else args.test
    if not test:
        return fail("no test command")
    if os.geteuid() != 0:
        print("bus-harness: needs root (the daemon reads other processes' pagemaps); skipping")
        return 77

    tmp = tempfile.mkdtemp(prefix="dirtyrate-bus-")
    os.chmod(tmp, 0o755)  # tests run clients as nobody: the socket must be reachable
    policy = os.path.join(tmp, "policy.d")
    os.mkdir(policy)
    for f in args.policy:
        shutil.copy(f, policy)
    conf = os.path.join(tmp, "bus.conf")
    with open(conf, "w") as f:
        f.write(bus_config(os.path.join(tmp, "bus"), policy))
    config = os.path.join(tmp, "dirtyrated.conf")
    with open(config, "w") as f:
        f.write(args.config_text.replace("\\n", "\n"))
    log_path = os.path.join(tmp, "daemon.log")
    notify_log_path = os.path.join(tmp, "notify.log")

    bus = subprocess.run(["dbus-daemon", "--config-file=" + conf, "--fork", "--print-address=1", "--print-pid=1"],
                         stdout=subprocess.PIPE, text=True, timeout=30)
    lines = bus.stdout.split()
    if bus.returncode != 0 or len(lines) < 2:
        return fail("dbus-daemon failed to start")
    address, bus_pid = lines[0], int(lines[1])

    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
    daemon = None
    rc = 1
    try:
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify_path = os.path.join(tmp, "notify")
        notify.bind(notify_path)
        ready = threading.Event()

        def read_notify():
            with open(notify_log_path, "a", buffering=1) as log:
                while True:
                    try:
                        msg = notify.recv(4096).decode(errors="replace")
                    except OSError:
                        return
                    for line in msg.splitlines():
                        log.write(line + "\n")
                        if line == "READY=1":
                            ready.set()

        threading.Thread(target=read_notify, daemon=True).start()

        daemon_env = dict(env, NOTIFY_SOCKET=notify_path)
        daemon_env.update(v.split("=", 1) for v in args.daemon_env)
        daemon = subprocess.Popen(shlex.split(args.daemon_wrapper) + [args.daemon, "--config=" + config, "--debug"],
                                  env=daemon_env,
                                  stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT
        while not ready.wait(0.05):
            if daemon.poll() is not None:
                return fail("dirtyrated exited with %d before READY=1" % daemon.returncode)
            if time.monotonic() > deadline:
                return fail("no READY=1 from dirtyrated within %d s" % READY_TIMEOUT)

        env.update(DIRTYRATED_PID=str(daemon.pid), DIRTYRATED_CONFIG=config, DIRTYRATED_LOG=log_path,
                   DIRTYRATED_NOTIFY_LOG=notify_log_path)
        if args.as_nobody:
            copy = os.path.join(tmp, os.path.basename(test[0]))
            shutil.copy(test[0], copy)
            os.chmod(copy, 0o755)
            test = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", copy] + test[1:]
        rc = subprocess.run(test, env=env).returncode

        if daemon.poll() is not None and args.daemon_may_stop:
            if daemon.returncode != 0:
                rc = rc or fail("dirtyrated, stopped by the test, exited with status %d" % daemon.returncode)
        elif daemon.poll() is not None:
            rc = rc or fail("dirtyrated died during the test (status %d)" % daemon.returncode)
        else:
            daemon.send_signal(signal.SIGTERM)
            try:
                status = daemon.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
                status = None
            if status != 0:
                rc = rc or fail("dirtyrated did not exit cleanly on SIGTERM (status %s)" % status)
    finally:
        if daemon and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        os.kill(bus_pid, signal.SIGTERM)
        if rc not in (0, 77):
            print("---- dirtyrated log ----", file=sys.stderr)
            print(open(log_path).read() if os.path.exists(log_path) else "(none)", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
