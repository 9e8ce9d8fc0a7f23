#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A built man page against what it documents, so that the two cannot drift.

  check-drift.py PAGE [--help-of PROGRAM] [--config-parser CONFIG_C]
                      [--introspection XML...] [--names HEADER]
  check-drift.py --print-interface XML

PAGE is rendered with man(1) and checked against each source of truth given:

--help-of PROGRAM      every option PROGRAM --help lists is a term of the
                       page's OPTIONS section, every command under a
                       "...Commands:" heading a term of its COMMANDS section,
                       and the page documents no option or command that
                       --help does not list.
--config-parser FILE   every key in the keys[] table of each
                       parse_SECTION_key() of FILE is a "Key=" term of the
                       page's section named "[Section]", and that section has
                       no other keys.
--introspection XML    each interface of XML appears in the page as
                       systemd's pages show one (--print-interface prints
                       it for pasting), and each of its methods,
                       properties and signals is a term of the section that
                       holds it.
--names HEADER         every string #define of HEADER (bus name, paths,
                       errors, polkit actions) appears in the page, and
                       every error name is a term.

A term is what scdoc makes of "*term*" followed by an indented description.
Exits 1 with one line per problem.
"""

import argparse
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

TERM = "@@term@@ "  # marks the terms in the rendered text


def render(page):
    """The page as man(1) shows it, each term's line starting with TERM.

    scdoc writes a term ("*term*" followed by an indented description) as
    one text line followed by ".RS 4"; a text line never comes right before
    the ".RS 4" of a literal block (".nf") or a list (".P", ".RE")."""
    roff = open(page, encoding="utf-8").read().split("\n")
    for i in range(1, len(roff)):
        if roff[i].startswith(".RS ") and roff[i - 1] and not roff[i - 1].startswith((".", "'")):
            roff[i - 1] = TERM + roff[i - 1]
    # Wide enough that no term wraps; no hyphens added, no justification.
    env = dict(os.environ, MANWIDTH="1000", LC_ALL="C.UTF-8", MANPAGER="cat", PAGER="cat", MAN_DISABLE_SECCOMP="1")
    env.pop("MAN_KEEP_FORMATTING", None)
    out = subprocess.run(["man", "--no-hyphenation", "--no-justification", "-E", "UTF-8", "-l", "-"],
                         input="\n".join(roff), env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return out.splitlines()


def indent(line):
    return len(line) - len(line.lstrip(" "))


def sections(lines):
    """{heading: (first, end)} line ranges of each .SH section (subsections included)."""
    starts = [i for i, l in enumerate(lines) if l.strip() and indent(l) == 0]
    # The first and last lines are the page's header and footer, not headings.
    starts = starts[1:-1]
    return {lines[s].strip(): (s + 1, e) for s, e in zip(starts, starts[1:] + [len(lines) - 1])}


def terms(lines, first, end):
    return [l.strip()[len(TERM):] for l in lines[first:end] if l.strip().startswith(TERM)]


def section_terms(lines, name, problems):
    secs = sections(lines)
    if name not in secs:
        problems.append("no section %s (sections: %s)" % (name, ", ".join(secs)))
        return []
    return terms(lines, *secs[name])


# ---- --help-of ----

def help_items(program):
    run = subprocess.run([program, "--help"], stdout=subprocess.PIPE, text=True)
    if run.returncode != 0:
        sys.exit("%s --help failed with status %d" % (program, run.returncode))
    text = run.stdout
    options, commands, in_commands = set(), set(), False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            in_commands = False
        elif stripped.endswith("Commands:"):
            in_commands = True
        elif stripped.startswith("-"):
            # "-h --help     Show..." -> -h, --help; "--config=PATH" -> --config
            spec = re.split(r"\s{2,}", stripped)[0]
            options.update(re.findall(r"(?<![\w-])--?[A-Za-z0-9][\w-]*", spec))
        elif in_commands and indent(line) > 0:
            commands.add(stripped.split()[0])
    return options, commands


def check_help(lines, program, problems):
    name = os.path.basename(program)
    options, commands = help_items(program)
    if not options:
        problems.append("found no options in %s --help" % name)
    documented = set()
    for t in section_terms(lines, "OPTIONS", problems):
        documented.update(re.findall(r"(?<![\w-])--?[A-Za-z0-9][\w-]*", t))
    for o in sorted(options - documented):
        problems.append("%s --help lists %s, which is no term of OPTIONS" % (name, o))
    for o in sorted(documented - options):
        problems.append("OPTIONS documents %s, which %s --help does not list" % (o, name))
    if commands:
        documented = {t.split()[0] for t in section_terms(lines, "COMMANDS", problems)}
        for c in sorted(commands - documented):
            problems.append("%s --help lists command %s, which is no term of COMMANDS" % (name, c))
        for c in sorted(documented - commands):
            problems.append("COMMANDS documents %s, which %s --help does not list" % (c, name))


# ---- --config-parser ----

def parser_keys(config_c):
    """{"Daemon": [...], "Track": [...]} from each parse_<section>_key()'s keys[] table."""
    text = open(config_c).read()
    out = {}
    for m in re.finditer(r"\bparse_(\w+)_key\s*\([^)]*\)\s*\{(.*?)\n\}", text, re.S):
        table = re.search(r"\bkeys\[\]\s*=\s*\{(.*?)\};", m.group(2), re.S)
        if table:
            out[m.group(1).capitalize()] = re.findall(r'"([^"]+)"', table.group(1))
    return out


def check_config(lines, config_c, problems):
    tables = parser_keys(config_c)
    if not tables or not all(tables.values()):
        problems.append("found no keys[] table in the parse_*_key() functions of %s" % config_c)
    secs = sections(lines)
    for section, keys in sorted(tables.items()):
        heading = next((h for h in secs if "[%s]" % section.upper() in h.upper()), None)
        if heading is None:
            problems.append("no section about [%s] (sections: %s)" % (section, ", ".join(secs)))
            continue
        documented = {m.group(1) for t in terms(lines, *secs[heading])
                      for m in [re.match(r"([A-Za-z]\w*)=", t)] if m}
        for k in sorted(set(keys) - documented):
            problems.append("the parser accepts %s= in [%s], which is no term of %s" % (k, section, heading))
        for k in sorted(documented - set(keys)):
            problems.append("%s documents %s=, which the parser does not accept in [%s]" % (heading, k, section))


# ---- --introspection ----

def placeholder(signature):
    return {"s": "'...'", "o": "'...'", "g": "'...'", "a": "[...]"}.get(signature[0], "...")


def annotations(member, pad):
    return ['%s@%s("%s")' % (pad, a.get("name"), a.get("value")) for a in member.findall("annotation")]


def call(name, args, pad, directions=True):
    """Name(in  s a,\\n      out o b); as systemd's pages print a method (a signal: no in/out)."""
    if not args:
        return ["%s%s();" % (pad, name)]
    parts = ["%s %s" % (a.get("type"), a.get("name")) for a in args]
    if directions:
        parts = ["%s %s" % ((a.get("direction") or "in").ljust(3), p) for a, p in zip(args, parts)]
    lead = [pad + name + "("] + [pad + " " * (len(name) + 1)] * (len(parts) - 1)
    return [l + p + ("," if i < len(parts) - 1 else ");") for i, (l, p) in enumerate(zip(lead, parts))]


def interface_block(iface):
    out, pad = ["  interface %s {" % iface.get("name")], " " * 6
    if iface.findall("method"):
        out.append("    methods:")
        for m in iface.findall("method"):
            out += annotations(m, pad) + call(m.get("name"), m.findall("arg"), pad)
    if iface.findall("signal"):
        out.append("    signals:")
        for s in iface.findall("signal"):
            out += annotations(s, pad) + call(s.get("name"), s.findall("arg"), pad, directions=False)
    if iface.findall("property"):
        out.append("    properties:")
        for p in iface.findall("property"):
            access = {"read": "readonly", "write": "writeonly"}.get(p.get("access"), "readwrite")
            out += annotations(p, pad) + ["%s%s %s %s = %s;" % (pad, access, p.get("type"), p.get("name"),
                                                                 placeholder(p.get("type")))]
    out.append("  };")
    return out


def members(iface):
    return [e.get("name") for kind in ("method", "property", "signal") for e in iface.findall(kind)]


def check_introspection(lines, xml_file, problems):
    ifaces = list(ET.parse(xml_file).getroot().iter("interface"))
    if not ifaces:
        problems.append("%s has no <interface>" % xml_file)
    stripped = [l.strip() for l in lines]
    secs = sections(lines)
    for iface in ifaces:
        name = iface.get("name")
        block = [l.strip() for l in interface_block(iface)]
        at = next((i for i in range(len(stripped)) if stripped[i:i + len(block)] == block), None)
        if at is None:
            problems.append("the page does not show interface %s as %s defines it; "
                            "print it with: check-drift.py --print-interface %s" % (name, xml_file, xml_file))
            continue
        heading, (first, end) = next((h, r) for h, r in secs.items() if r[0] <= at < r[1])
        described = {w for t in terms(lines, first, end) for w in re.findall(r"[A-Za-z_]\w*", t)}
        for m in members(iface):
            if m not in described:
                problems.append("%s.%s is no term of %s, the section that shows %s" % (name, m, heading, name))


# ---- --names ----

def check_names(lines, header, problems):
    names = re.findall(r'^#define\s+\w+\s+"([^"]+)"', open(header).read(), re.M)
    if not names:
        problems.append("found no string #define in %s" % header)
    text = "\n".join(lines)
    described = {w for t in terms(lines, 0, len(lines)) for w in re.split(r"[\s,]+", t)}
    for n in names:
        if n not in text:
            problems.append("%s names %s, which the page does not mention" % (os.path.basename(header), n))
        elif ".Error." in n and n not in described:
            problems.append("%s names error %s, which is no term of the page" % (os.path.basename(header), n))


def main():
    ap = argparse.ArgumentParser(description="Checks a built man page against its sources of truth.")
    ap.add_argument("page", nargs="?")
    ap.add_argument("--help-of", action="append", default=[], metavar="PROGRAM")
    ap.add_argument("--config-parser", action="append", default=[], metavar="CONFIG_C")
    ap.add_argument("--introspection", nargs="+", action="extend", default=[], metavar="XML")
    ap.add_argument("--names", action="append", default=[], metavar="HEADER")
    ap.add_argument("--print-interface", metavar="XML")
    args = ap.parse_args()

    if args.print_interface:
        for iface in ET.parse(args.print_interface).getroot().iter("interface"):
            print("\n".join(interface_block(iface)))
        return 0
    if not args.page or not (args.help_of or args.config_parser or args.introspection or args.names):
        ap.error("a PAGE and at least one source of truth are needed")

    lines = render(args.page)
    problems = []
    for p in args.help_of:
        check_help(lines, p, problems)
    for c in args.config_parser:
        check_config(lines, c, problems)
    for x in args.introspection:
        check_introspection(lines, x, problems)
    for h in args.names:
        check_names(lines, h, problems)

    page = os.path.basename(args.page)
    for p in problems:
        print("%s: %s" % (page, p))
    if problems:
        print("%s: %d problem%s: the page and what it documents have drifted apart"
              % (page, len(problems), "" if len(problems) == 1 else "s"))
        return 1
    print("ok: %s matches %s" % (page, ", ".join(os.path.basename(s) for s in
                                                   args.help_of + args.config_parser + args.introspection + args.names)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
