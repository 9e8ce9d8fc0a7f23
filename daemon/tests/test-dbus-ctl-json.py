#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""dirtyratectl --json against the D-Bus properties, and its bad input.

  test-dbus-ctl-json.py DIRTYRATECTL BUSCTL DIRTYRATE-WORKLOAD   (under bus-harness.py)

For status, show and list, the JSON must hold exactly the properties busctl
reads from the same objects, under their D-Bus names, with the documented
types (tools/README.md, "JSON output"): strings, integers, booleans, arrays
of strings, and doubles as floats or null for NaN. Values are compared
exactly: once the workload's rates are measured, the sample interval is set
to an hour, and each comparison is sandwiched between two busctl reads with
no pass between them (LastSampleTimestamp unchanged), so the daemon showed
the same pass to all three; DaemonCPUUSec, which moves all the time, must
lie between the two reads. Then the output modes (short, pretty, bare
--json on a pipe and on a terminal) and bad input: clear errors, exit 1.
"""

import json
import math
import os
import pty
import subprocess
import sys
import time

CTL, BUSCTL, WORKLOAD = sys.argv[1:4]
MANAGER = ("/org/dirtyrate1", "org.dirtyrate1.Manager")
# Properties that change without a pass (busctl's read and ours may differ):
# only that they lie between the two reads is checked.
BETWEEN = {"DaemonCPUUSec"}
failures = []


def fail(msg):
    print("FAIL: " + msg)
    failures.append(msg)


def ctl(*args, check=True):
    p = subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise SystemExit("FAIL: dirtyratectl %s: status %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def get_all(path, interface):
    """The properties as busctl's JSON reads them: {name: (signature, value)}."""
    out = subprocess.run([BUSCTL, "--system", "--json=short", "call", "org.dirtyrate1", path,
                          "org.freedesktop.DBus.Properties", "GetAll", "s", interface],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return {k: (v["type"], v["data"]) for k, v in json.loads(out)["data"][0].items()}


def type_ok(signature, value):
    if signature == "s":
        return isinstance(value, str)
    if signature in ("u", "t"):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if signature == "b":
        return isinstance(value, bool)
    if signature == "d":
        return value is None or (isinstance(value, float) and math.isfinite(value))
    if signature == "as":
        return isinstance(value, list) and all(isinstance(x, str) for x in value)
    return False


def sandwiched(read_ours, path, interface, what):
    """Our JSON of one object, read between two busctl reads of the same pass."""
    for _ in range(40):
        before = get_all(path, interface)
        ours = read_ours()
        after = get_all(path, interface)
        if before["LastSampleTimestamp"] == after["LastSampleTimestamp"]:
            return before, ours, after
    raise SystemExit("FAIL: %s: a pass between every pair of busctl reads" % what)


def compare(what, before, ours, after):
    if set(ours) != set(before):
        fail("%s: names %s, D-Bus has %s" % (what, sorted(ours), sorted(before)))
        return
    for name, (signature, value) in before.items():
        if not type_ok(signature, ours[name]):
            fail("%s: %s is %r, not of D-Bus type %s as documented" % (what, name, ours[name], signature))
        elif name in BETWEEN:
            if not value <= ours[name] <= after[name][1]:
                fail("%s: %s = %r, not between %r and %r" % (what, name, ours[name], value, after[name][1]))
        elif ours[name] != value:
            fail("%s: %s = %r, D-Bus says %r" % (what, name, ours[name], value))


def wait_for(what, cond, timeout=20):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit("FAIL: timed out waiting for " + what)
        time.sleep(0.1)


def check_properties(pids):
    before, ours, after = sandwiched(lambda: json.loads(ctl("status", "--json=short").stdout),
                                     *MANAGER, "status --json")
    compare("status --json", before, ours, after)
    print("status --json: %d properties, as D-Bus has them" % len(ours))

    for pid in pids:
        path = "/org/dirtyrate1/process/%d" % pid
        before, ours, after = sandwiched(lambda: json.loads(ctl("show", str(pid), "--json=short").stdout),
                                         path, "org.dirtyrate1.Process", "show --json")
        compare("show %d --json" % pid, before, ours, after)
    print("show --json: %d processes, as D-Bus has them" % len(pids))

    # list: the objects in PID order, each as show prints it; one pass for all.
    for _ in range(40):
        befores = {p: get_all("/org/dirtyrate1/process/%d" % p, "org.dirtyrate1.Process") for p in pids}
        listed = json.loads(ctl("list", "--json=short").stdout)
        afters = {p: get_all("/org/dirtyrate1/process/%d" % p, "org.dirtyrate1.Process") for p in pids}
        if all(befores[p]["LastSampleTimestamp"] == afters[p]["LastSampleTimestamp"] for p in pids):
            break
    else:
        raise SystemExit("FAIL: list --json: a pass between every pair of busctl reads")
    if not isinstance(listed, list) or [o.get("PID") for o in listed] != sorted(pids):
        fail("list --json: PIDs %r, expected %r in order" % ([o.get("PID") for o in listed], sorted(pids)))
    else:
        for o in listed:
            compare("list --json, PID %d" % o["PID"], befores[o["PID"]], o, afters[o["PID"]])
    print("list --json: %d objects in PID order, as D-Bus has them" % len(listed))


def on_terminal(args, **env):
    """dirtyratectl's status and output with stdout on a terminal (a pty)."""
    master, slave = pty.openpty()
    environ = dict(os.environ, TERM="xterm", COLUMNS="80", PAGER="cat")
    environ.pop("NO_COLOR", None)
    environ.update(env)
    p = subprocess.Popen([CTL] + args, stdout=slave, stderr=subprocess.PIPE, env=environ)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return p.wait(timeout=30), out.decode().replace("\r\n", "\n")


def check_terminal():
    """Pager and colour on a terminal only, as systemd's tools."""
    paged = "echo PAGED; cat"
    status, text = on_terminal(["list"], PAGER=paged)
    if status != 0 or not text.startswith("PAGED\n"):
        fail("list on a terminal did not go through $PAGER: %r" % text[:200])
    status, text = on_terminal(["list"], PAGER=paged, SYSTEMD_PAGER="echo SYSTEMD_PAGER; cat")
    if not text.startswith("SYSTEMD_PAGER\n"):
        fail("$SYSTEMD_PAGER does not come before $PAGER: %r" % text[:200])
    for args, env in ((["--no-pager", "list"], {"PAGER": paged}), (["list"], {"PAGER": "cat"}),
                      (["top", "-n", "1", "-b"], {"PAGER": paged})):
        status, text = on_terminal(args, **env)
        if status != 0 or "PAGED" in text:
            fail("%s with %s went through a pager: %r" % (args, env, text[:200]))
    p = subprocess.run([CTL, "list"], capture_output=True, text=True, env=dict(os.environ, PAGER=paged))
    if "PAGED" in p.stdout:
        fail("list on a pipe went through the pager")
    # The table through the pager is laid out for the terminal: 80 columns,
    # headings underlined; no escape sequence with NO_COLOR= or on a pipe.
    status, text = on_terminal(["list"], PAGER=paged)
    lines = text.split("\n")
    if not lines[1].startswith("\x1b[4m") or "BACKEND" in lines[1] or max(len(x) for x in lines[2:]) > 80:
        fail("list through the pager is not laid out for an 80-column terminal: %r" % text[:400])
    status, text = on_terminal(["list"], NO_COLOR="1")
    if "\x1b" in text:
        fail("escape sequences with NO_COLOR=: %r" % text[:200])
    if "\x1b" in ctl("list").stdout:
        fail("escape sequences on a pipe")
    print("terminal: $SYSTEMD_PAGER or $PAGER for list, none with --no-pager, cat, a pipe or top -b; "
          "80 columns and underlined headings; no colour with NO_COLOR= or on a pipe")


def check_modes(pid):
    short = ctl("status", "--json=short").stdout
    pretty = ctl("status", "--json=pretty").stdout
    bare = ctl("--json", "status").stdout
    j = ctl("-j", "list").stdout
    if short.count("\n") != 1 or not short.startswith("{"):
        fail("--json=short is not one line: %r" % short)
    if pretty.count("\n") < 5 or '\n  "Version": ' not in pretty:
        fail("--json=pretty is not indented: %r" % pretty)
    if bare.count("\n") != 1 or j.count("\n") != 1:
        fail("bare --json / -j on a pipe is not short: %r %r" % (bare, j))
    for text in (short, pretty, bare):
        if json.loads(text)["Version"] != get_all(*MANAGER)["Version"][1]:
            fail("the modes disagree on Version")
    # On a terminal, bare --json is pretty.
    status, text = on_terminal(["--json", "show", str(pid)])
    if status != 0:
        fail("--json on a terminal: status %d" % status)
    if text.count("\n") < 5 or json.loads(text)["PID"] != pid:
        fail("bare --json on a terminal is not pretty JSON: %r" % text[:200])
    # --json=off is the human output.
    if not ctl("status", "--json=off").stdout.startswith("Version:  "):
        fail("--json=off did not give the human output")
    print("--json=short: one line; =pretty and bare --json on a terminal: indented; bare on a pipe: one line")


def check_bad_input():
    cases = [
        (["--json=yaml", "status"], "Unknown argument to --json= switch: yaml"),
        (["--jsn", "status"], "unrecognized option '--jsn'"),
        (["-x", "status"], "invalid option -- 'x'"),
        (["frobnicate"], "Unknown command: frobnicate"),
        ([], "A command is needed"),
        (["show"], "show takes exactly one PID"),
        (["show", "1", "2"], "show takes exactly one PID"),
        (["status", "extra"], "status takes no arguments"),
        (["show", "abc"], "Not a process ID: abc"),
        (["show", "0"], "Not a process ID: 0"),
        (["show", "-5"], "invalid option -- '5'"),
        (["show", "4194305000"], "Not a process ID: 4194305000"),
        (["show", "1"], "Failed to get process 1:"),
        (["top", "--json"], "--json is for status, list and show, not top"),
        (["track", "--json=short", "1"], "--json is for status, list and show, not track"),
        (["--order=speed", "list"], "Unknown column for --order=: speed"),
        (["--delay=soon", "top"], "Invalid --delay="),
        (["--iterations=-1", "top"], "Invalid --iterations="),
        (["--interval=0", "watch"], "Invalid --interval="),
    ]
    for args, message in cases:
        p = ctl(*args, check=False)
        # systemd's tools: EXIT_FAILURE for bad arguments as for failed calls.
        if p.returncode != 1:
            fail("dirtyratectl %s: status %d, expected 1" % (" ".join(args), p.returncode))
        if message not in p.stderr:
            fail("dirtyratectl %s: stderr %r lacks %r" % (" ".join(args), p.stderr, message))
        if p.stdout:
            fail("dirtyratectl %s: wrote %r to stdout" % (" ".join(args), p.stdout))
    p = ctl("--json=help")
    if p.stdout.split() != ["short", "pretty", "off"]:
        fail("--json=help: %r" % p.stdout)
    print("bad input: %d cases, each a clear error and status 1" % len(cases))


def main():
    workload = subprocess.Popen([WORKLOAD, "--pages-per-sec", "1280", "--quiet"])
    idle = subprocess.Popen(["sleep", "1000"])
    try:
        pids = [workload.pid, idle.pid]
        for pid in pids:
            ctl("track", str(pid))
        # Rates are measured from the second pass on: wait for them, so that
        # doubles as numbers (not only null) are compared.
        wait_for("the workload's rates", lambda: json.loads(ctl("show", str(workload.pid), "--json=short").stdout)
                 ["DirtyBytesPerSecAvg10"] is not None)
        # Then no more passes (an hour between two), whatever the load on
        # this machine: the reads below see the same pass.
        subprocess.run([BUSCTL, "--system", "call", "org.dirtyrate1", "/org/dirtyrate1", "org.dirtyrate1.Manager",
                        "SetSampleInterval", "tb", "3600000000", "false"], check=True, timeout=30)
        check_properties(pids)
        check_modes(workload.pid)
        check_terminal()
        check_bad_input()
    finally:
        workload.kill()
        idle.kill()
    if failures:
        print("%d failures" % len(failures))
        return 1
    print("ok ctl-json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
