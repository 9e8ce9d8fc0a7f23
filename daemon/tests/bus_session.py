# SPDX-License-Identifier: GPL-2.0-only
"""A private system-like bus and a dirtyrated on it, for tests in Python.

bus-harness.py runs one test against one bus and one daemon; tests that
stop and start them (the exporter's: a daemon that restarts, a bus that
goes away) use these classes directly.

  PrivateBus(tmp, policies)   dbus-daemon with the system bus's config
                              (tools/bus-config.py) and our policies, on a
                              socket in tmp; start() again listens on the
                              same path (stable_address, without the guid
                              that changes with each start).
  Daemon(path, config, env)   dirtyrated on it, with NOTIFY_SOCKET pointing
                              at a socket of ours: start() returns at its
                              READY=1, stop() requires a clean exit on SIGTERM.
"""

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
bus_config = __import__("bus-config").bus_config  # tools/bus-config.py, shared with the demo and the VM

READY_TIMEOUT = 30
STOP_TIMEOUT = 10


class SessionError(Exception):
    pass


class PrivateBus:
    def __init__(self, tmp, policies):
        self.tmp = tmp
        self.policy_dir = os.path.join(tmp, "policy.d")
        os.makedirs(self.policy_dir, exist_ok=True)
        for f in policies:
            shutil.copy(f, self.policy_dir)
        self.conf = os.path.join(tmp, "bus.conf")
        with open(self.conf, "w") as f:
            f.write(bus_config(os.path.join(tmp, "bus"), self.policy_dir))
        self.address = None
        self.pid = None

    def start(self):
        bus = subprocess.run(["dbus-daemon", "--config-file=" + self.conf, "--fork", "--print-address=1",
                              "--print-pid=1"], stdout=subprocess.PIPE, text=True, timeout=30)
        lines = bus.stdout.split()
        if bus.returncode != 0 or len(lines) < 2:
            raise SessionError("dbus-daemon failed to start")
        self.address, self.pid = lines[0], int(lines[1])
        # The real system bus's address names no guid; this one's changes with every start.
        self.stable_address = ",".join(p for p in self.address.split(",") if not p.startswith("guid="))
        return self

    def stop(self):
        """SIGTERM, and wait until it is gone (its socket with it)."""
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while os.path.exists("/proc/%d" % self.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.pid = None


class Daemon:
    def __init__(self, path, config, env, wrapper="", extra_env=(), log_path=None, notify_log_path=None):
        self.path, self.config, self.env = path, config, env
        self.wrapper = shlex.split(wrapper)
        self.extra_env = dict(v.split("=", 1) for v in extra_env)
        tmp = os.path.dirname(config)
        self.log_path = log_path or os.path.join(tmp, "daemon.log")
        self.notify_log_path = notify_log_path or os.path.join(tmp, "notify.log")
        self.notify_path = os.path.join(tmp, "notify")
        self.proc = None
        self.notify = None

    def start(self):
        """Starts dirtyrated and returns at its READY=1 (SessionError if it never comes)."""
        if os.path.exists(self.notify_path):
            os.unlink(self.notify_path)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        ready = threading.Event()
        notify = self.notify

        def read_notify():
            with open(self.notify_log_path, "a", buffering=1) as log:
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
        env = dict(self.env, NOTIFY_SOCKET=self.notify_path)
        env.update(self.extra_env)
        self.proc = subprocess.Popen(self.wrapper + [self.path, "--config=" + self.config, "--debug"], env=env,
                                     stdout=open(self.log_path, "a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT
        while not ready.wait(0.05):
            if self.proc.poll() is not None:
                raise SessionError("dirtyrated exited with %d before READY=1" % self.proc.returncode)
            if time.monotonic() > deadline:
                raise SessionError("no READY=1 from dirtyrated within %d s" % READY_TIMEOUT)
        return self

    def stop(self):
        """SIGTERM; SessionError unless it exits with 0 within STOP_TIMEOUT."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            status = None
        self._close_notify()
        if status != 0:
            raise SessionError("dirtyrated did not exit cleanly on SIGTERM (status %s)" % status)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_notify()

    def _close_notify(self):
        if self.notify:
            self.notify.close()
            self.notify = None

    def log(self):
        return open(self.log_path, errors="replace").read() if os.path.exists(self.log_path) else "(none)"
