#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Checks that the live introspection of dirtyrated equals the installed XML.

  check-introspection.py BUSCTL_PATH OBJECT_PATH INTERFACE_XML

Compares the <interface> element of INTERFACE_XML with the one of the same
name that OBJECT_PATH introspects to: elements, attributes and order must be
equal; whitespace and comments (our documentation) do not count.
"""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET


def canonical(e):
    return (e.tag, sorted(e.attrib.items()), [canonical(c) for c in e])


def interface(root, name):
    for i in root.iter("interface"):
        if i.get("name") == name:
            return i
    return None


def strip_doctype(text):
    # ElementTree cannot fetch DTDs; the DOCTYPE adds nothing to compare.
    start = text.find("<!DOCTYPE")
    if start >= 0:
        text = text[:start] + text[text.index(">", start) + 1:]
    return text


def main():
    busctl, path, xml_file = sys.argv[1:4]
    installed = ET.fromstring(strip_doctype(open(xml_file).read()))
    ifaces = list(installed.iter("interface"))
    if len(ifaces) != 1:
        print("%s: expected exactly one <interface>" % xml_file)
        return 1
    name = ifaces[0].get("name")
    live_text = subprocess.run([busctl, "--system", "call", "org.dirtyrate1", path,
                                "org.freedesktop.DBus.Introspectable", "Introspect", "--json=short"],
                               check=True, stdout=subprocess.PIPE, text=True).stdout
    live = ET.fromstring(strip_doctype(json.loads(live_text)["data"][0]))
    live_iface = interface(live, name)
    if live_iface is None:
        print("%s does not implement %s" % (path, name))
        return 1
    if canonical(live_iface) != canonical(ifaces[0]):
        print("Live introspection of %s differs from %s:" % (name, xml_file))
        print(ET.tostring(live_iface, encoding="unicode"))
        return 1
    print("%s at %s matches %s" % (name, path, xml_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
