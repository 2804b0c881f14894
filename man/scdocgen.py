#!/usr/bin/env python3
"""Man pages in scdoc from the files they document, so that each has one
source: docs/protocol.md becomes xgm-protocol(7), the commented
data/xgmd.conf becomes xgmd.conf(5).

markdown: handles the Markdown that docs/protocol.md uses:
headings, paragraphs, `code`, **bold**, "*" lists (with continuation lines
and fenced blocks inside items), fenced code blocks and tables; a table
becomes a list of terms, its first column the term, its last the text, the
columns between added after the term as "header: value".
ini: the file's comment blocks before the first [section] are the
description, each [section] a subsection, a comment block followed by a
blank line a paragraph of it, each key a term with its default, the comment
just above it the text.
SEE_ALSO, when given, becomes the SEE ALSO section.

    scdocgen.py markdown|ini NAME SECTION SUMMARY [SEE_ALSO] < source > page.scd"""
import re
import sys


def inline(text):
    """Markdown inline markup to scdoc: `code` and **bold** both bold."""
    out, pos = [], 0
    for m in re.finditer(r"`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\([^)]+\)", text):
        out.append(escape(text[pos:m.start()]))
        if m.group(3) is not None:
            out.append(escape(m.group(3)))
        else:
            out.append("*" + escape(m.group(1) or m.group(2)) + "*")
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


# The page stays ASCII, so that every groff device and man(1) read it alike.
ASCII = {"\u2026": "...", "\u2013": "-", "\u2014": "--", "\u2019": "'"}


def ascii(text):
    text = "".join(ASCII.get(ch, ch) for ch in text)
    bad = sorted({ch for ch in text if ord(ch) > 127})
    if bad:
        sys.exit(f"md2scdoc: no ASCII spelling for {bad!r}; add one to ASCII")
    return text


def plain(text):
    """A heading: scdoc does no inline markup there, so none is written."""
    return escape(re.sub(r"`([^`]+)`|\*\*([^*]+)\*\*", lambda m: m.group(1) or m.group(2), text))


def escape(text):
    # scdoc's markup characters, and the Markdown escape \n shown literally.
    return re.sub(r"([\\*_])", r"\\\1", text)


def cells(row):
    return [c.strip() for c in row.strip().strip("|").split("|")]


def table(rows, out):
    header = cells(rows[0])
    for row in rows[2:]:
        c = cells(row)
        extra = "; ".join(f"{inline(h.lower())}: {inline(v)}" for h, v in zip(header[1:-1], c[1:-1]))
        out.append(inline(c[0]) + (f" ({extra})" if extra else ""))
        out.append("\t" + inline(c[-1]))
        out.append("")


def preamble(name, section, summary):
    return [f"{name}({section})", "", "# NAME", "", f"{name} - {summary}", ""]


def ini(lines, name, section, summary):
    out = preamble(name, section, summary) + ["# DESCRIPTION", ""]
    comment, started, previous = [], False, None

    def paragraph():
        if comment:
            out.append(inline(" ".join(comment)))
            out.append("")
            comment.clear()

    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            text = stripped.lstrip("#").strip()
            if text:
                comment.append(text)
            else:
                paragraph()
        elif not stripped:
            # A comment that no key follows at once is said on its own.
            paragraph()
        elif stripped.startswith("["):
            if not started:
                paragraph()
                out.extend(["# KEYS", ""])
                started = True
            out.extend(["## " + escape(stripped), ""])
            comment.clear()
            previous = None
        else:
            key, _, value = (part.strip() for part in stripped.partition("="))
            out.append(f"*{escape(key)}* = {escape(value) if value else '(empty)'}")
            # Keys under one comment: it was said at the first of them.
            text = inline(" ".join(comment)) if comment else f"See *{escape(previous)}* above."
            out.append("\t" + text)
            out.append("")
            if comment:
                previous = key
            comment.clear()
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def markdown(lines, name, section, summary):
    out = preamble(name, section, summary)
    i, para = 0, []

    def flush():
        if para:
            out.append(inline(" ".join(para)))
            out.append("")
            para.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            indent = line[:len(line) - len(line.lstrip())]
            block = []
            i += 1
            while not lines[i].strip().startswith("```"):
                block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            out.append("```")
            out.extend(block)
            out.append("```")
            out.append("")
        elif line.startswith("# "):
            flush()
            out.extend(["# DESCRIPTION", ""])
        elif line.startswith("## "):
            flush()
            out.extend(["# " + plain(line[3:]).upper(), ""])
        elif line.startswith("### "):
            flush()
            out.extend(["## " + plain(line[4:]), ""])
        elif stripped.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(lines[i])
                i += 1
            table(rows, out)
            continue
        elif line.startswith("* "):
            flush()
            item = [line[2:]]
            i += 1
            while i < len(lines) and lines[i].startswith("  ") and not lines[i].strip().startswith("```"):
                item.append(lines[i].strip())
                i += 1
            # A blank line then an indented block: it belongs to the item.
            out.append("- " + inline(" ".join(item)))
            out.append("")
            continue
        elif not stripped:
            flush()
        else:
            para.append(stripped)
        i += 1
    flush()
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    mode, name, section, summary = sys.argv[1:5]
    see_also = sys.argv[5] if len(sys.argv) > 5 else ""
    convert = {"markdown": markdown, "ini": ini}[mode]
    page = convert(ascii(sys.stdin.read()).splitlines(), name, section, summary)
    if see_also:
        page += "\n# SEE ALSO\n\n" + escape(see_also) + "\n"
    sys.stdout.write(page)
