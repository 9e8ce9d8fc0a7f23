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
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from bus_session import Daemon, PrivateBus, SessionError

# The test's last stderr lines, repeated after the daemon's log when it fails.
STDERR_TAIL_LINES = 20

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
    config = os.path.join(tmp, "dirtyrated.conf")
    with open(config, "w") as f:
        f.write(args.config_text.replace("\\n", "\n"))

    bus = PrivateBus(tmp, args.policy)
    daemon = None
    rc = None  # the test's status, once it ran
    test_stderr_tail = collections.deque(maxlen=STDERR_TAIL_LINES)
    try:
        bus.start()
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
        daemon = Daemon(args.daemon, config, env, wrapper=args.daemon_wrapper, extra_env=args.daemon_env)
        daemon.start()

        env.update(DIRTYRATED_PID=str(daemon.proc.pid), DIRTYRATED_CONFIG=config, DIRTYRATED_LOG=daemon.log_path,
                   DIRTYRATED_NOTIFY_LOG=daemon.notify_log_path)
        if args.as_nobody:
            copy = os.path.join(tmp, os.path.basename(test[0]))
            shutil.copy(test[0], copy)
            os.chmod(copy, 0o755)
            test = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", copy] + test[1:]
        rc = run_test(test, env, test_stderr_tail)

        if daemon.proc.poll() is not None and args.daemon_may_stop:
            if daemon.proc.returncode != 0:
                rc = rc or fail("dirtyrated, stopped by the test, exited with status %d" % daemon.proc.returncode)
        elif daemon.proc.poll() is not None:
            rc = rc or fail("dirtyrated died during the test (status %d)" % daemon.proc.returncode)
        else:
            daemon.stop()
    except SessionError as e:
        rc = fail(str(e)) if rc is None else rc or fail(str(e))
    finally:
        if daemon:
            daemon.kill()
        bus.stop()
        if rc not in (0, 77):
            print("---- dirtyrated log ----", file=sys.stderr)
            print(daemon.log() if daemon else "(none)", file=sys.stderr)
            if test_stderr_tail:
                # meson shows only the end of a long log: say again why the test failed.
                print("---- the test's last lines on stderr, again ----", file=sys.stderr)
                print("".join(test_stderr_tail), end="", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if rc is None else rc


def run_test(test, env, tail):
    """Runs the test, passing its stderr through as it comes and keeping its last lines in tail."""
    proc = subprocess.Popen(test, env=env, stderr=subprocess.PIPE)

    def forward():
        for line in iter(proc.stderr.readline, b""):
            text = line.decode(errors="replace")
            sys.stderr.write(text)
            sys.stderr.flush()
            tail.append(text)

    reader = threading.Thread(target=forward, daemon=True)
    reader.start()
    try:
        rc = proc.wait()
    except BaseException:  # SIGTERM from meson's timeout: the test goes too, as with subprocess.run()
        proc.kill()
        proc.wait()
        raise
    # A child the test left behind may hold the pipe open: don't wait for it.
    reader.join(timeout=2)
    return rc


if __name__ == "__main__":
    # meson stops a test that timed out with SIGTERM: leave through main()'s
    # finally, which stops the daemon and the bus and removes the directory,
    # rather than leave them running.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    sys.exit(main())
