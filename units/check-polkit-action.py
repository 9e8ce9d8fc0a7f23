#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""The polkit action file parses and declares exactly the actions dirtyrated
asks polkit about (include/dirtyrate/bus.h's DIRTYRATE_ACTION_*)."""
import re
import sys
import xml.etree.ElementTree as ET

expected = re.findall(r'#define DIRTYRATE_ACTION_\w+\s+"([^"]+)"', open(sys.argv[2]).read())
text = open(sys.argv[1]).read()
text = text[:text.index("<!DOCTYPE")] + text[text.index(">", text.index("<!DOCTYPE")) + 1:]
root = ET.fromstring(text)
ids = [a.get("id") for a in root.iter("action")]
if not expected or sorted(ids) != sorted(expected):
    sys.exit("actions in %s: %s, but %s names %s" % (sys.argv[1], ids, sys.argv[2], expected))
for a in root.iter("action"):
    for tag in ("description", "message", "defaults/allow_any", "defaults/allow_inactive", "defaults/allow_active"):
        if a.find(tag) is None or not a.find(tag).text.strip():
            sys.exit("action %s lacks <%s>" % (a.get("id"), tag))
print("ok: %s declares %s" % (sys.argv[1], ", ".join(ids)))
