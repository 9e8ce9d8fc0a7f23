# SPDX-License-Identifier: GPL-2.0-only
"""What the exporter's Python tests share.

  Session(daemon, config)   a private bus and dirtyrated on it (daemon/tests/
                            bus_session.py), as a context manager; skips (77)
                            unless root, which the daemon needs
  Exporter(path, args)      dirtyrate-exporter socket-activated as systemd
                            does it (a listening socket on 127.0.0.1 as fd 3,
                            LISTEN_FDS/LISTEN_PID), started at its READY=1
  http_get(port, ...)       one request, (status, headers, body)
  named_process(name)       a sleeping child whose comm is exactly these bytes
                            (prctl PR_SET_NAME: any bytes but NUL, 15 at most)
  run(main)                 the entry point: FAIL: and status 1 for a failed check
"""

import ctypes
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "daemon", "tests"))
from bus_session import Daemon, PrivateBus  # noqa: E402

BUS_POLICY = os.path.join(SRC, "units", "org.dirtyrate1.conf")
SKIP = 77


class TestFailure(Exception):
    pass


def run(main):
    """The tests' entry point: main()'s status, or 1 with the reason when a check failed."""
    try:
        sys.exit(main())
    except TestFailure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)


def check(cond, what):
    if not cond:
        raise TestFailure(what)


def log(msg):
    print(msg, flush=True)


def wait_for(what, cond, timeout=10.0, interval=0.05):
    """Polls cond() until it returns something true; a timeout is a failure, not a sync point."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TestFailure("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class Session:
    """A private bus with dirtyrated on it; the test body runs inside `with`."""

    def __init__(self, daemon_path, config="[Daemon]\nSampleIntervalSec=100ms\n", policies=()):
        self.daemon_path, self.config_text, self.policies = daemon_path, config, list(policies)
        self.tmp = None
        self.bus = self.daemon = None

    def __enter__(self):
        if os.geteuid() != 0:
            print("needs root (dirtyrated reads other processes' memory); skipping")
            sys.exit(SKIP)
        self.tmp = tempfile.mkdtemp(prefix="dirtyrate-exporter-test-")
        os.chmod(self.tmp, 0o755)  # clients run as other users too
        self.config = os.path.join(self.tmp, "dirtyrated.conf")
        with open(self.config, "w") as f:
            f.write(self.config_text)
        self.bus = PrivateBus(self.tmp, [BUS_POLICY] + self.policies).start()
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus.stable_address  # the bus may restart
        self.daemon = self.new_daemon().start()
        return self

    def new_daemon(self):
        return Daemon(self.daemon_path, self.config, dict(os.environ))

    def __exit__(self, kind, value, tb):
        if self.daemon:
            self.daemon.kill()
        if self.bus:
            self.bus.stop()
        if kind is not None:
            print("---- dirtyrated log (tail) ----\n" + "\n".join(self.daemon.log().splitlines()[-30:])
                  if self.daemon else "", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


class Exporter:
    """dirtyrate-exporter on a socket we bound, handed over as systemd would."""

    def __init__(self, path, args=(), user=None, name="exporter"):
        self.path, self.args, self.user, self.name = path, list(args), user, name
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.tmp = tempfile.mkdtemp(prefix="dirtyrate-exporter-")
        os.chmod(self.tmp, 0o755)
        self.log_path = os.path.join(self.tmp, name + ".log")
        self.proc = None

    def start(self):
        notify_path = os.path.join(self.tmp, "notify")
        if os.path.exists(notify_path):
            os.unlink(notify_path)  # from a previous start
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        os.chmod(notify_path, 0o777)  # an exporter run as another user sends to it
        fd = self.listener.fileno()
        # The socket becomes fd 3 and LISTEN_PID the exporter's own PID (the shell's, which it execs).
        # bash: dash takes only one-digit fds in a redirection, and a test with a few exporters has more.
        move = "" if fd == 3 else "exec 3<&%d %d<&-; " % (fd, fd)
        wrapper = ["/bin/bash", "-c", move + 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"']
        if self.user:
            wrapper = ["setpriv", "--reuid=" + self.user, "--regid=" + self.user, "--clear-groups"] + wrapper
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        self.proc = subprocess.Popen(wrapper + [self.path] + self.args, env=env, pass_fds=(fd,),
                                     stdout=open(self.log_path, "a"), stderr=subprocess.STDOUT)
        notify.settimeout(10)
        try:
            while b"READY=1" not in notify.recv(4096).split(b"\n"):
                pass
        except socket.timeout:
            raise TestFailure("no READY=1 from the exporter within 10 s:\n" + self.log())
        finally:
            notify.close()
        return self

    def stop(self):
        """SIGTERM: it must exit with 0 within 5 s."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure("the exporter did not exit within 5 s of SIGTERM")
        check(status == 0, "the exporter exited with %s on SIGTERM:\n%s" % (status, self.log()))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.listener.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log(self):
        return open(self.log_path, errors="replace").read() if os.path.exists(self.log_path) else ""

    def get(self, path="/metrics", accept=None, method="GET", timeout=10):
        return http_get(self.port, path, accept, method, timeout)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            # __exit__ will not run: print its log and leave nothing behind here.
            print("---- exporter log ----\n" + self.log(), file=sys.stderr)
            self.kill()
            raise

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.stop()
        elif self.proc:
            print("---- exporter log ----\n" + self.log(), file=sys.stderr)
        self.kill()
        return False


def http_get(port, path="/metrics", accept=None, method="GET", timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers={"Accept": accept} if accept else {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")  # what Prometheus 2.42 sends


def named_process(name, rename_on_usr1=None):
    """A child that sleeps until killed, with comm = name (bytes); its PID once the name is set.
    With rename_on_usr1 (bytes), SIGUSR1 renames it to that."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        libc = ctypes.CDLL(None)
        libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0)  # PR_SET_NAME
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: it dies with the test
        if rename_on_usr1 is not None:
            signal.signal(signal.SIGUSR1, lambda *_: libc.prctl(15, ctypes.c_char_p(rename_on_usr1), 0, 0, 0))
        os.write(w, b"x")
        os.close(w)
        while True:
            signal.pause()
    os.close(w)
    os.read(r, 1)
    os.close(r)
    return pid


def kill_process(pid):
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def run_in_thread(fn, *args):
    """Starts fn(*args) in a thread; the returned function joins it and returns its result (or raises)."""
    result = {}

    def target():
        try:
            result["value"] = fn(*args)
        except Exception as e:  # noqa: BLE001 -- handed to the caller
            result["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()

    def join(timeout=None):
        t.join(timeout)
        if t.is_alive():
            raise TestFailure("a request still runs after %s s" % timeout)
        if "error" in result:
            raise result["error"]
        return result.get("value")

    return join
