#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""The polkit action file parses and declares exactly org.dirtyrate1.manage,
the action id dirtyrated asks polkit about (daemon/bus-authorize.h)."""
import sys
import xml.etree.ElementTree as ET

text = open(sys.argv[1]).read()
text = text[:text.index("<!DOCTYPE")] + text[text.index(">", text.index("<!DOCTYPE")) + 1:]
root = ET.fromstring(text)
ids = [a.get("id") for a in root.iter("action")]
if ids != ["org.dirtyrate1.manage"]:
    sys.exit("actions in %s: %s" % (sys.argv[1], ids))
for a in root.iter("action"):
    for tag in ("description", "message", "defaults/allow_any", "defaults/allow_inactive", "defaults/allow_active"):
        if a.find(tag) is None or not a.find(tag).text.strip():
            sys.exit("action %s lacks <%s>" % (a.get("id"), tag))
print("ok: %s declares %s" % (sys.argv[1], ids[0]))
