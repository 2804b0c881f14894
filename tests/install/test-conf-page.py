#!/usr/bin/env python3
"""xgmd.conf(5), as built, against the table xgmd parses its configuration
with (config-keys prints it), so that the page cannot silently disagree
with the code:
- the page lists exactly the parser's keys, each in its [section];
- each shows its built-in default, or, where the installed file sets
  another value, says "The built-in default is X" (X: "empty" for "");
- a key is marked "Changes only at restart" (in its own text, the text it
  shares with the key before it, or its section's) exactly when a reload
  keeps it.
    test-conf-page.py CONFIG_KEYS PAGE"""
import re
import subprocess
import sys

config_keys, page = sys.argv[1:3]
fails = 0


def check(what, ok, detail=""):
    global fails
    print(("ok - " if ok else "not ok - ") + what + ("" if ok else f" ({detail})"))
    fails += 0 if ok else 1


def unroff(text):
    """scdoc's roff back to the words the reader sees."""
    for esc, plain in ((r"\&", ""), (r"\fB", ""), (r"\fI", ""), (r"\fR", ""),
                       (r"\(aq", "'"), (r"\-", "-"), (r"\e", "\\")):
        text = text.replace(esc, plain)
    return text


# The code's table: (section, key) -> (default, "reload" | "restart").
table = {}
for line in subprocess.run([config_keys], check=True, capture_output=True,
                           text=True).stdout.splitlines():
    section, key, default, when = line.split("\t")
    table[(section, key)] = (default, when)

# The page: (section, key) -> (value, text); section -> text.
keys, sections = {}, {}
section = key = None
for line in open(page, encoding="ascii").read().splitlines():
    if line.startswith(".SH"):
        section = key = None
    elif m := re.fullmatch(r"\.SS \[(.+)\]", line):
        section, key = m.group(1), None
        sections[section] = ""
    elif section and (m := re.fullmatch(r"\\fB(.+?)\\fR = (.*)", line)):
        key = (section, unroff(m.group(1)))
        value = unroff(m.group(2))
        check(f"{key[0]}.{key[1]} is listed once", key not in keys)
        keys[key] = ["" if value == "(empty)" else value, ""]
    elif section and not line.startswith("."):
        if key:
            keys[key][1] += " " + unroff(line)
        else:
            sections[section] += " " + unroff(line)

check("the page lists keys", len(keys) > 0, page)
for missing in sorted(set(table) - set(keys)):
    check(f"{'.'.join(missing)}, a key xgmd parses, is in the page", False, "missing")
for unknown in sorted(set(keys) - set(table)):
    check(f"{'.'.join(unknown)}, in the page, is a key xgmd parses", False, "unknown")

RESTART = re.compile(r"changes only at restart", re.IGNORECASE)
for (section, name), (value, text) in keys.items():
    if (section, name) not in table:
        continue
    default, when = table[(section, name)]
    full = f"{section}.{name}"
    if value != default:
        said = f"The built-in default is {default or 'empty'}"
        check(f"{full} = {value!r}, not the built-in {default!r}: the page says so",
              said in text, f"no {said!r} in its text")
    else:
        check(f"{full} shows its built-in default {default!r}", True)
    # "See KEY above": the text is the earlier key's.
    shared = re.fullmatch(r"\s*See (\S+) above\.\s*", text)
    if shared:
        text = keys.get((section, shared.group(1)), ["", ""])[1]
    marked = bool(RESTART.search(text) or RESTART.search(sections[section]))
    check(f"{full}: marked \"Changes only at restart\" exactly when a reload keeps it",
          marked == (when == "restart"),
          f"the page {'marks' if marked else 'does not mark'} it; xgmd applies it at {when}")

print(f"{fails} failed")
sys.exit(1 if fails else 0)
