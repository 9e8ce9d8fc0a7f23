#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Builds one man page from its scdoc source.

  build-page.py SCDOC SOURCE.scd OUTPUT [NAME=VALUE...]

Replaces each @NAME@ of SOURCE by VALUE (the build's paths and version;
any other @UPPER_CASE@ left is an error), runs scdoc, and turns
hyphenation off after .TH: scdoc 1.11 turns it off before, where the man
macros' .TH turns it back on, and a hyphen would split names such as
TrackProcess() across two lines.
"""

import re
import subprocess
import sys


def main():
    scdoc, source, output, *pairs = sys.argv[1:]
    text = open(source, encoding="utf-8").read()
    for pair in pairs:
        name, value = pair.split("=", 1)
        text = text.replace("@%s@" % name, value)
    left = sorted(set(re.findall(r"@[A-Z][A-Z_]*@", text)))
    if left:
        sys.exit("%s: no value for %s" % (source, ", ".join(left)))

    run = subprocess.run([scdoc], input=text, stdout=subprocess.PIPE, text=True)
    if run.returncode != 0:
        sys.exit("%s: scdoc failed (its message above gives LINE:COLUMN)" % source)
    roff = run.stdout
    roff, n = re.subn(r"^(\.TH .*)$", r"\1\n.nh", roff, count=1, flags=re.M)
    if n != 1:
        sys.exit("%s: scdoc wrote no .TH line" % source)
    with open(output, "w", encoding="utf-8") as f:
        f.write(roff)


if __name__ == "__main__":
    main()
