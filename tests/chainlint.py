#!/usr/bin/env python3
"""chainlint.py: every command of a CLI test counts (git's chainlint, small).

    python3 tests/chainlint.py tests/cli/*.sh

Reads each test body (the quoted second argument of test_expect_success)
and each helper function of the scripts, and reports, as FILE:LINE: ...,
what would let a failing command pass unseen:

  - a command that is not joined to the next by && (or ||, |), unless the
    next line closes a block (fi, done, esac, }, ...) or it is the last;
  - commands joined by `;` (the first one's status is lost);
  - a loop whose body has no `|| return 1` / `|| exit 1` (inside an &&
    chain `set -e` is off, so only the last iteration's status counts);
  - `a || b && c` outside { } (c runs when a fails and b succeeds; under
    the run-time lint b sees status 117);
  - `lm ... | cmd` and `! lm ...` (a crash of loramake would pass: write
    its output to a file, use expect_exit).

lib.sh runs each body behind `(exit 117) &&` as well, which catches a
broken chain at run time; this lint also sees inside loops, ifs and helper
functions, where that trick cannot look. Exit 1 if anything is reported.
"""
import re
import sys

OPENERS = ("&&", "||", "|", "then", "do", "else", "{", "(", "in", ";;")
CLOSERS = ("fi", "done", "esac", "}", ")", "else", "elif", ";;", "then", "do")
HEREDOC = re.compile(r"<<-?\s*\\?(['\"]?)(\w+)\1")
ASSIGN_ONLY = re.compile(r"^(\w+=(\S*|\"[^\"$`]*\")\s*)+$")
SAFE_ALONE = re.compile(r"^(shift|local\b.*|:|set -[a-z]+|unset\b.*|export \w+(=\S*)?)$")
# a command whose failure the line itself handles, or that cannot matter
HANDLED = re.compile(r"\|\|\s*(return|exit|true|continue|break|\w+=)|[^&]&$|"
                     r"^(echo|printf|cat)\b.*>&2$|^(return|exit)\b")


def strip_quotes(line):
    """LINE with the inside of quotes, $(...) and comments blanked."""
    out, i, depth = [], 0, 0
    quote = None
    while i < len(line):
        c = line[i]
        if quote == "'":
            if c == "'":
                quote = None
            out.append("_" if c != "'" else c)
        elif quote == '"':
            if c == "\\":
                out.append("__")
                i += 2
                continue
            if c == '"':
                quote = None
                out.append(c)
            else:
                out.append("_")
        elif depth:
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            out.append("_" if depth else ")")
        elif c == "\\":
            out.append("__")
            i += 2
            continue
        elif c in "'\"":
            quote = c
            out.append(c)
        elif line.startswith("$(", i):
            depth = 1
            out.append("$(")
            i += 2
            continue
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            break
        else:
            out.append(c)
        i += 1
    return "".join(out).rstrip()


def logical_lines(lines, first):
    """(line number, text, blanked text) of LINES with here-documents and
    continuations folded away."""
    result, i = [], 0
    while i < len(lines):
        no, text = first + i, lines[i]
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i].strip()
        blank = strip_quotes(text.strip())
        m = HEREDOC.search(text) if HEREDOC.search(blank) else None
        if m:
            end = m.group(2)
            i += 1
            while i < len(lines) and lines[i].strip() != end:
                i += 1
        if blank:
            result.append((no, text.strip(), blank))
        i += 1
    return result


def top_level(blank):
    """BLANK without what sits inside { } and ( )."""
    out, depth = [], 0
    for c in blank:
        if c in "{(":
            depth += 1
        elif c in "})" and depth:
            depth -= 1
        elif not depth:
            out.append(c)
    return "".join(out)


def words(blank):
    return re.split(r"[\s;&|()]+", blank.strip())


def lint_block(path, lines, first, report):
    ll = logical_lines(lines, first)
    guards = guard_ifs(ll)
    for k, (no, text, blank) in enumerate(ll):
        w = blank.split()
        nxt = ll[k + 1][2] if k + 1 < len(ll) else None
        ends_open = blank.endswith(OPENERS) or re.search(r"\)\s*$", blank) and \
            re.match(r"^[^()]*\)$", blank)  # a case pattern `x)`
        alone_ok = ASSIGN_ONLY.match(blank) or SAFE_ALONE.match(blank) or \
            HANDLED.search(blank) or k in guards or \
            nxt is not None and re.match(r"^(return|exit)\b", nxt)
        next_closes = nxt is not None and nxt.split()[0].rstrip(";") in CLOSERS
        if nxt is not None and not ends_open and not next_closes and not alone_ok:
            report(path, no, "not joined to the next command by &&: " + text)
        if re.search(r"\|\|.*&&", top_level(blank)):
            report(path, no, "`a || b && c` runs c after a fails; group it: { a || b; } && c: " + text)
        if nxt is None and blank.endswith(("&&", "||", "|")):
            report(path, no, "the last command ends in an operator: " + text)
        if re.search(r"[^;];(?!;|\s*[})])", blank + " ") and \
           not re.search(r";\s*(then|do)\b", blank) and "{" not in blank \
           and "case" not in w and not blank.startswith(("for ", "while ", "if ")):
            report(path, no, "`;` loses the status of what comes before it: " + text)
        if re.search(r"(^|&&|\|\||!)\s*lm\b[^|]*\|(?!\|)", blank):
            report(path, no, "loramake's status is lost in a pipe: " + text)
        if re.search(r"(^|&&|\|\|)\s*!\s*lm\b", blank):
            report(path, no, "`! lm` passes when loramake crashes; use expect_exit: " + text)
    lint_loops(path, ll, report)


def guard_ifs(ll):
    """Indexes of the lines of ifs that return or exit, up to their `fi`:
    `if bad; then echo why; return 1; fi` is a guard and may stand alone."""
    stack, guards = [], set()
    for k, (no, text, blank) in enumerate(ll):
        w = words(blank)
        if w and w[0] == "if" and not re.search(r"\bfi\b", blank):
            stack.append([k, False])
        elif stack and re.search(r"\b(return|exit)\b", blank):
            stack[-1][1] = True
        if w and w[0] == "fi" and stack:
            start, returns = stack.pop()
            if returns:
                guards.update(range(start + 1, k + 1))
    return guards


def lint_loops(path, ll, report):
    stack = []
    for no, text, blank in ll:
        toks = re.findall(r"[\w-]+|;;|[;&|(){}]", blank)
        for j, t in enumerate(toks):
            if t in ("for", "while", "until") and (j == 0 or toks[j - 1] in ";&|(){}do then else".split()):
                stack.append([no, text, False])
            elif t in ("return", "exit") and stack:
                for s in stack:
                    s[2] = True
            elif t == "done" and stack:
                start, head, ok = stack.pop()
                if not ok:
                    report(path, start, "a failing command inside this loop would be lost "
                           "(end its body with || return 1): " + head)


def bodies(path, src):
    """(first line number, lines) of each test body and helper function."""
    lines = src.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^test_expect_success\s+('[^']*'|\"[^\"]*\")\s+(['\"])(.*)$", line)
        if m:
            body, start, quote = [], i + 2, m.group(2)
            rest = m.group(3)
            if rest.endswith(quote):
                yield i + 1, [rest[:-1]]
                i += 1
                continue
            if rest:
                body.append(rest)
            i += 1
            while i < len(lines) and lines[i].rstrip() != quote:
                body.append(lines[i])
                i += 1
            yield start, body
        m = re.match(r"^(\w+)\(\)\s*\{\s*(.*)$", line)
        if m:
            if m.group(2).rstrip().endswith("}"):
                yield i + 1, [m.group(2).rstrip()[:-1].rstrip().rstrip(";")]
            else:
                body, start = [], i + 2
                i += 1
                while i < len(lines) and lines[i].rstrip() != "}":
                    body.append(lines[i])
                    i += 1
                yield start, body
        i += 1


def main(paths):
    found = []

    def report(path, no, msg):
        found.append("%s:%d: %s" % (path, no, msg))

    for path in paths:
        with open(path, encoding="utf-8") as f:
            src = f.read()
        for first, lines in bodies(path, src):
            lint_block(path, lines, first, report)
    for f in found:
        print(f)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
