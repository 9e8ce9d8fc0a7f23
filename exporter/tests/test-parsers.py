#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""The renderer's fixture (test-render --print), with --max-processes 1, read
by real parsers: `promtool check metrics` (Prometheus's text parser and
linter) on the text format, the Python client's classic parser on it too,
and its OpenMetrics parser on the OpenMetrics one. The fixture's comm holds
a space, a quote, a backslash, a newline, a tab, UTF-8 and a byte that is
not UTF-8 (which the daemon would never send, but a renderer must survive):
both parsers must give back the comm, with U+FFFD for that byte.

  test-parsers.py TEST-RENDER
"""

import shutil
import subprocess
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

COMM = 'a b"c\\d\n\u00e9\ufffd\tz'


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    return 1


def comms(families):
    return {s.labels["comm"] for f in families for s in f.samples if "comm" in s.labels}


def main():
    render = sys.argv[1]
    text = subprocess.run([render, "--print", "text"], capture_output=True, check=True).stdout
    om = subprocess.run([render, "--print", "openmetrics"], capture_output=True, check=True).stdout

    if not shutil.which("promtool"):
        return fail("promtool is missing (Debian package prometheus; scripts/install-deps installs it)")
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    if lint.returncode != 0:
        return fail("promtool check metrics: %s%s" % (lint.stdout.decode(errors="replace"),
                                                        lint.stderr.decode(errors="replace")))
    print("ok promtool check metrics (%d bytes)" % len(text))

    got = comms(parse_text(text.decode("utf-8")))
    if got != {COMM}:
        return fail("the text parser reads the comm as %r, expected %r" % (got, COMM))
    print("ok the classic parser gives back the comm: %r" % COMM)

    families = list(parse_openmetrics(om.decode("utf-8")))
    got = comms(families)
    if got != {COMM}:
        return fail("the OpenMetrics parser reads the comm as %r, expected %r" % (got, COMM))
    names = {f.name for f in families}
    for name in ("dirtyrate_daemon", "dirtyrate_other_processes", "dirtyrate_process_dirtied_bytes"):
        if name not in names:
            return fail("no family %s in %s" % (name, sorted(names)))
    print("ok the OpenMetrics parser reads %d families and gives back the comm" % len(families))
    return 0


if __name__ == "__main__":
    sys.exit(main())
