#!/usr/bin/env python3
"""man.py: the man page loramake.1, written from docs/cli.md.

    python3 docs/man.py docs/cli.md VERSION >loramake.1

docs/cli.md stays the one description of the command line; this turns the
Markdown it uses (headings, paragraphs, ``` blocks, | tables |, `code`,
**bold**, [links](x)) into roff for man(7). Nothing else is supported: a
construct it does not know is printed as text, never dropped.
"""
import re
import sys


def roff_text(s):
    """S escaped for roff, with Markdown's inline marks as fonts."""
    s = s.replace("\\", "\\e")
    s = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", s)       # [text](link) -> text
    s = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", s)
    s = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", s)
    s = s.replace("-", "\\-")
    return s


def line_start(s):
    """S as a roff input line: not read as a request if it begins with . or
    ', and every character beyond ASCII as a glyph escape (\\[u2026])."""
    s = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in s)
    return "\\&" + s if s[:1] in (".", "'") else s


def table(rows):
    """Markdown table rows -> .TP entries (first cell the tag)."""
    out = []
    for row in rows:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if all(re.fullmatch(r":?-+:?", c) for c in cells):
            continue
        out += [".TP", line_start(roff_text(cells[0])),
                line_start(roff_text(" ".join(cells[1:])))]
    return out


def convert(md, version):
    lines = md.split("\n")
    out = ['.TH LORAMAKE 1 "" "loramake %s" "User Commands"' % version,
           ".SH NAME", "loramake \\- make for LoRA training datasets",
           ".SH SYNOPSIS"]
    i, para = 0, []

    def flush():
        if para:
            out.append(".PP")
            out.append(line_start(roff_text(" ".join(para))))
            para.clear()

    while i < len(lines):
        ln = lines[i]
        if ln.startswith("```"):
            flush()
            out += [".PP", ".nf", ".RS 4"]
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(line_start(lines[i].replace("\\", "\\e").replace("-", "\\-")))
                i += 1
            out += [".RE", ".fi"]
        elif ln.startswith("# "):
            flush()                     # the title: the synopsis follows
        elif ln.startswith("## "):
            flush()
            out.append(".SH " + roff_text(ln[3:].strip().upper()))
        elif ln.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            header = [c.strip() for c in rows[0].strip().strip("|").split("|")]
            out += [".PP", roff_text(" / ".join(header).upper()) + ":"]
            out += table(rows[1:])
            continue
        elif not ln.strip():
            flush()
        else:
            para.append(ln.strip())
        i += 1
    flush()
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: man.py CLI.md VERSION")
    with open(sys.argv[1], encoding="utf-8") as f:
        sys.stdout.write(convert(f.read(), sys.argv[2]))


if __name__ == "__main__":
    main()
