#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""check-page.py DIR: the Cockpit page in DIR is loadable as files go.

manifest.json parses and has a menu entry whose page exists; every local
file index.html loads is there; the JavaScript parses (node --check). What
the page does is the ui suite's business (tests/ui/).
"""
import html.parser
import json
import os
import shutil
import subprocess
import sys


class Refs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.refs.append(a["src"])
        if tag == "link" and a.get("rel") == "stylesheet":
            self.refs.append(a["href"])


def main():
    page = sys.argv[1]
    errors = []
    with open(os.path.join(page, "manifest.json")) as f:
        manifest = json.load(f)
    entries = {**manifest.get("menu", {}), **manifest.get("tools", {})}
    if not entries:
        errors.append("manifest.json: no menu or tools entry")
    for name, entry in entries.items():
        if not os.path.exists(os.path.join(page, name + ".html")):
            errors.append(f"manifest.json: entry {name!r} has no {name}.html")
        if not entry.get("label"):
            errors.append(f"manifest.json: entry {name!r} has no label")

    refs = Refs()
    with open(os.path.join(page, "index.html")) as f:
        refs.feed(f.read())
    # ../base1/cockpit.js and ../shell/index.css are Cockpit's own.
    local = [r for r in refs.refs if not r.startswith("../")]
    for r in local:
        if not os.path.exists(os.path.join(page, r)):
            errors.append(f"index.html loads {r}, which is not in {page}")
    if "../base1/cockpit.js" not in refs.refs:
        errors.append("index.html does not load ../base1/cockpit.js")

    node = shutil.which("node") or shutil.which("nodejs")
    if node:
        for r in local:
            if r.endswith(".js"):
                p = subprocess.run([node, "--check", os.path.join(page, r)],
                                   capture_output=True, text=True)
                if p.returncode:
                    errors.append(f"{r}: {p.stderr.strip()}")
    for e in errors:
        print("check-page:", e)
    if errors:
        return 1
    print(f"check-page: manifest entries {sorted(entries)}, files {local}"
          + ("" if node else " (no node: JavaScript not parsed)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
