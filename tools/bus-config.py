#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Print a dbus-daemon config for a private bus that behaves like the system bus.

  bus-config.py --socket PATH --policy-dir DIR [--system-conf FILE]

It is /usr/share/dbus-1/system.conf (same default-deny policy) minus what only
the real system bus may do (<user>, <fork/>, pidfile, syslog, service helper
and directories, /etc includes), listening on PATH and including the policy
files in DIR (ours, plus any a test adds). Used by the D-Bus tests, the demo
and, generated on the host, inside the VM.
"""

import argparse
import re
import sys


def bus_config(socket_path, policy_dir, system_conf="/usr/share/dbus-1/system.conf"):
    text = open(system_conf).read()
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    for pattern in (r"<user>.*?</user>", r"<fork\s*/>", r"<pidfile>.*?</pidfile>", r"<syslog\s*/>",
                    r"<servicehelper>.*?</servicehelper>", r"<standard_system_servicedirs\s*/>",
                    r"<include\b[^>]*>.*?</include>", r"<includedir>.*?</includedir>"):
        text = re.sub(pattern, "", text, flags=re.S)
    text, n = re.subn(r"<listen>.*?</listen>", "<listen>unix:path=%s</listen>" % socket_path, text, flags=re.S)
    if n != 1:
        raise SystemExit("bus-config: %s has no single <listen> to replace" % system_conf)
    return text.replace("</busconfig>", "  <includedir>%s</includedir>\n</busconfig>" % policy_dir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--policy-dir", required=True)
    ap.add_argument("--system-conf", default="/usr/share/dbus-1/system.conf")
    args = ap.parse_args()
    sys.stdout.write(bus_config(args.socket, args.policy_dir, args.system_conf))


if __name__ == "__main__":
    main()
