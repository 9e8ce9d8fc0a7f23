#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Bad input and a daemon (or bus) that goes away, against a real exporter.

HTTP: an answer leaves at once (not at a timer's next tick); other paths
-> 404 and methods -> 405 with a reason; too many request headers, or one
header line longer than the connection memory -> 431 at once; slowloris clients that send a byte now and then, and idle
ones, are cut off at --connection-timeout (408) while scrapes go on; a
connection limit full of them frees itself at the timeout.

The daemon: stopped -> 503 "not running", back -> 200; frozen (SIGSTOP) ->
503 at --scrape-timeout, while / still answers at once; killed in the middle
of a scrape -> 503 at once, not at the timeout; the bus itself restarted ->
503, then 200 again on a new connection; SIGTERM with a scrape pending ->
exit 0 at once.

  test-bad-input.py --daemon PATH --exporter PATH
"""

import argparse
import os
import random
import signal
import socket
import statistics
import time

from exporter_session import (PROMETHEUS_ACCEPT, Exporter, Session, check, http_get, kill_process, log, named_process,
                              run, run_in_thread)

TIMEOUT = 2  # --connection-timeout, seconds


def raw_request(port, data, timeout=10):
    """Sends data, reads until the server closes: (seconds until closed, what came back)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(timeout)
    t0 = time.monotonic()
    try:
        s.sendall(data)
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    except ConnectionResetError:
        pass
    finally:
        s.close()
    return time.monotonic() - t0, reply


class Slowloris:
    """A client that sends its request headers one line every 0.25 s, for ever."""

    def __init__(self, port, trickle=True):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.trickle = trickle
        self.t0 = time.monotonic()
        self.next = self.t0
        self.reply = b""
        self.closed_after = None
        if trickle:
            self.sock.send(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")

    def step(self):
        now = time.monotonic()
        if self.closed_after is not None:
            return
        try:
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    self.closed_after = now - self.t0
                    self.sock.close()
                    return
                self.reply += chunk
        except BlockingIOError:
            pass
        except ConnectionResetError:
            self.closed_after = now - self.t0
            self.sock.close()
            return
        if self.trickle and now >= self.next:
            try:
                self.sock.send(b"X-Slow: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.next = now + 0.25


def run_clients(clients, seconds, scrape_port=None):
    """Steps the clients for a while; scrapes every 0.3 s meanwhile, each must be quick and 200."""
    deadline = time.monotonic() + seconds
    next_scrape = time.monotonic()
    scrapes = []
    while time.monotonic() < deadline and any(c.closed_after is None for c in clients):
        for c in clients:
            c.step()
        if scrape_port and time.monotonic() >= next_scrape:
            t0 = time.monotonic()
            status, _, _ = http_get(scrape_port, timeout=5)
            scrapes.append((status, time.monotonic() - t0))
            next_scrape = time.monotonic() + 0.3
        time.sleep(0.02)
    return scrapes


def test_latency(exporter):
    """An answer leaves at the event loop's next iteration: sd-event fires a timer "due now" only at its next
    250 ms tick, which once held every answer (and the close after it) back by 0-250 ms, 125 ms on average.
    At random moments, so that no tick lines up with them, the median of 25 must be well under that."""
    answered, closed = [], []
    rng = random.Random(1)
    for _ in range(25):
        time.sleep(rng.uniform(0, 0.25))
        t0 = time.monotonic()
        status, _, _ = exporter.get()
        check(status == 200, "a scrape: %d" % status)
        answered.append(time.monotonic() - t0)
        elapsed, reply = raw_request(exporter.port, b"GET /metrics HTTP/1.0\r\n\r\n")
        check(reply.startswith(b"HTTP/1.1 200 "), "an HTTP/1.0 scrape: %r" % reply[:60])
        closed.append(elapsed)
    a, c = statistics.median(answered), statistics.median(closed)
    check(a < 0.06 and c < 0.06, "scrapes answered after %.0f ms and closed after %.0f ms (medians of 25); "
          "expected well under 60 ms" % (1000 * a, 1000 * c))
    log("  25 scrapes at random moments: answered after %.1f ms, an HTTP/1.0 one closed after %.1f ms (medians)"
        % (1000 * a, 1000 * c))


def test_http(exporter):
    port = exporter.port
    for path in ("/foo", "/metrics/", "/metricsx", "/../metrics"):
        status, headers, body = exporter.get(path)
        check(status == 404 and b"Not found" in body, "GET %s: %d %r" % (path, status, body))
        check(headers["content-type"].startswith("text/plain"), "404 Content-Type %s" % headers["content-type"])
    for method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
        status, headers, body = exporter.get("/metrics", method=method)
        check(status == 405 and headers.get("allow") == "GET, HEAD" and method.encode() in body,
              "%s /metrics: %d %r %r" % (method, status, headers, body))
    log("  other paths: 404, other methods: 405 with Allow: GET, HEAD and a reason")

    status, headers, body = exporter.get("/")
    check(status == 200 and b'href="metrics"' in body and headers["content-type"].startswith("text/html"),
          "GET /: %d %r" % (status, body[:100]))
    status, headers, body = exporter.get(method="HEAD")
    check(status == 200 and body == b"" and int(headers["content-length"]) > 1000,
          "HEAD /metrics: %d %r" % (status, headers))
    status, _, _ = exporter.get("/metrics?name[]=x")
    check(status == 200, "a query string: %d" % status)
    log("  /: an index page; HEAD /metrics: the headers of a scrape, no body")

    # Concurrent scrapes share readings; each gets its own format.
    joins = [run_in_thread(exporter.get, "/metrics", PROMETHEUS_ACCEPT if i % 2 else None) for i in range(12)]
    for i, join in enumerate(joins):
        status, headers, body = join(10)
        check(status == 200 and headers["content-type"].startswith(
            "application/openmetrics-text" if i % 2 else "text/plain") and
            body.endswith(b"# EOF\n") == bool(i % 2), "concurrent scrape %d: %d %r" % (i, status, headers))
    log("  12 concurrent scrapes, 6 of each format: all 200, each in its format")

    # Many headers: more than the connection's 16 KiB of memory.
    elapsed, reply = raw_request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Many: header\r\n" * 2000 +
                                 b"\r\n")
    check(reply.startswith(b"HTTP/1.1 431 "), "2000 headers: %r" % reply[:80])
    check(elapsed < 1, "2000 headers: answered after %.1f s" % elapsed)
    # One line longer than the buffer: the same.
    long_line, reply = raw_request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 +
                                   b"\r\n\r\n")
    check(reply.startswith(b"HTTP/1.1 431 "), "a 100 KB header line: %r" % reply[:80])
    check(long_line < 1, "a 100 KB header line: answered after %.1f s" % long_line)
    # Below the limit, a big header is fine.
    elapsed, reply = raw_request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " +
                                 b"a" * 6000 + b"\r\n\r\n")
    check(reply.startswith(b"HTTP/1.1 200 "), "a 6 KB header: %r" % reply[:80])
    log("  2000 headers: 431 at once; a 100 KB header line: 431 after %.0f ms; a 6 KB one: 200"
        % (1000 * long_line))

    # Slowloris and idle clients, while scrapes go on.
    clients = [Slowloris(port) for _ in range(8)] + [Slowloris(port, trickle=False) for _ in range(4)]
    scrapes = run_clients(clients, TIMEOUT + 4, scrape_port=port)
    for c in clients:
        check(c.closed_after is not None, "a %s client is still connected after %d s" % (
            "slowloris" if c.trickle else "idle", TIMEOUT + 4))
        check(TIMEOUT - 0.5 < c.closed_after < TIMEOUT + 2.5, "a %s client was closed after %.2f s" % (
            "slowloris" if c.trickle else "idle", c.closed_after))
        check(c.reply.startswith(b"HTTP/1.1 408 "), "a slow client got %r" % c.reply[:60])
    check(len(scrapes) >= 4 and all(s == 200 and t < 1 for s, t in scrapes), "scrapes meanwhile: %r" % scrapes)
    log("  8 slowloris and 4 idle clients: each 408 and closed after %.2f-%.2f s; %d scrapes meanwhile, "
        "all 200 within %.0f ms" % (min(c.closed_after for c in clients), max(c.closed_after for c in clients),
                                   len(scrapes), 1000 * max(t for _, t in scrapes)))


def test_connection_limit(exporter_path):
    with Exporter(exporter_path, ["--connection-timeout", "%ds" % TIMEOUT, "--max-connections", "4"],
                  name="exporter-limit") as exporter:
        clients = [Slowloris(exporter.port) for _ in range(4)]
        run_clients(clients, 0.3)
        # A fifth waits in the listen backlog, not served until the slow ones are cut off.
        join = run_in_thread(lambda: (exporter.get(timeout=TIMEOUT + 5)[0], time.monotonic()))
        t0 = time.monotonic()
        run_clients(clients, TIMEOUT + 3)
        check(all(c.closed_after is not None for c in clients), "the slow clients still hold the slots")
        status, served = join(TIMEOUT + 5)
        check(status == 200, "the fifth connection got %d" % status)
        check(TIMEOUT - 0.8 < served - t0 < TIMEOUT + 2.5, "the fifth connection was served after %.2f s, "
              "with the 4 slots taken for %d s" % (served - t0, TIMEOUT))
        status, _, _ = exporter.get(timeout=2)
        check(status == 200, "after the slow clients were cut off: %d" % status)
        log("  --max-connections 4 taken by slow clients: a fifth waits, and is served %.2f s later when they "
            "are cut off; and so is the next" % (served - t0))


def expect_503(exporter, fragment, within):
    t0 = time.monotonic()
    status, headers, body = exporter.get(timeout=30)
    elapsed = time.monotonic() - t0
    check(status == 503, "expected 503, got %d: %r" % (status, body[:200]))
    check(fragment.encode() in body and body.endswith(b"\n") and body.count(b"\n") == 1,
          "503 body %r lacks %r" % (body, fragment))
    check(elapsed < within, "503 after %.1f s, expected within %.1f s" % (elapsed, within))
    return body.decode().strip(), elapsed


def test_daemon(session, exporter_path):
    with Exporter(exporter_path, ["--scrape-timeout", "1s"], name="exporter-daemon") as exporter:
        sleeper = named_process(b"dr-bad-input")
        try:
            check(exporter.get()[0] == 200, "a first scrape")

            session.daemon.stop()
            reason, elapsed = expect_503(exporter, "dirtyrated is not running", 1)
            log("  daemon stopped: 503 \"%s\" (%.0f ms)" % (reason, elapsed * 1000))
            session.daemon = session.new_daemon().start()
            check(exporter.get()[0] == 200, "the daemon is back, the exporter is not")
            log("  daemon started again: 200")

            # Frozen: the calls time out; the HTTP side does not wait for them.
            os.kill(session.daemon.proc.pid, signal.SIGSTOP)
            try:
                join = run_in_thread(expect_503, exporter, "did not answer within 1.0 s", 3.5)
                time.sleep(0.2)
                t0 = time.monotonic()
                status, _, _ = exporter.get("/")
                check(status == 200 and time.monotonic() - t0 < 0.5, "/ waited for the frozen scrape")
                reason, elapsed = join(5)
                check(elapsed >= 0.9, "the timeout came after %.2f s only" % elapsed)
                log("  daemon frozen: 503 \"%s\" after %.2f s; / answered meanwhile" % (reason, elapsed))

                # Killed in the middle of a scrape: the bus says so (the reason), no need to wait for
                # the timeout, which would say "did not answer".
                join = run_in_thread(expect_503, exporter, "went away before answering", 3)
                time.sleep(0.3)
                os.kill(session.daemon.proc.pid, signal.SIGKILL)
                reason, elapsed = join(5)
                log("  daemon killed mid-scrape: 503 \"%s\" after %.2f s" % (reason, elapsed))
            finally:
                session.daemon.kill()
            session.daemon = session.new_daemon().start()
            check(exporter.get()[0] == 200, "the daemon is back after a kill, the exporter is not")

            # The bus itself goes away and comes back on the same address: a new connection.
            session.daemon.stop()
            session.bus.stop()
            reason, _ = expect_503(exporter, "system bus", 1)
            log("  bus gone: 503 \"%s\"" % reason)
            session.bus.start()
            session.daemon = session.new_daemon().start()
            status, _, body = exporter.get()
            check(status == 200, "bus and daemon back, the exporter answers %d %r" % (status, body))
            errors = [line for line in body.decode().splitlines()
                      if line.startswith("dirtyrate_exporter_scrape_errors_total ")]
            check(errors == ["dirtyrate_exporter_scrape_errors_total 4"], "errors counted: %r" % errors)
            log("  bus and daemon back: 200 on a new bus connection; dirtyrate_exporter_scrape_errors_total 4")

            # SIGTERM while a scrape waits on a frozen daemon: out at once, cleanly.
            os.kill(session.daemon.proc.pid, signal.SIGSTOP)
            try:
                def pending():
                    try:
                        return exporter.get(timeout=5)[0]
                    except (ConnectionError, OSError):
                        return "closed"
                join = run_in_thread(pending)
                time.sleep(0.2)
                t0 = time.monotonic()
                exporter.stop()
                check(time.monotonic() - t0 < 1, "SIGTERM took %.1f s" % (time.monotonic() - t0))
                result = join(5)
                check(result in (503, "closed"), "the pending scrape got %r" % result)
                log("  SIGTERM with a scrape pending: exit 0 after %.0f ms, the scrape got %s" % (
                    (time.monotonic() - t0) * 1000, result))
            finally:
                os.kill(session.daemon.proc.pid, signal.SIGCONT)
            exporter.start()  # for the context manager's stop()
        finally:
            kill_process(sleeper)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()

    with Session(args.daemon) as session:
        with Exporter(args.exporter, ["--connection-timeout", "%ds" % TIMEOUT]) as exporter:
            test_latency(exporter)
            test_http(exporter)
        test_connection_limit(args.exporter)
        test_daemon(session, args.exporter)
        session.daemon.stop()
    log("ok bad input")
    return 0


if __name__ == "__main__":
    run(main)
