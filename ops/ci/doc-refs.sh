#!/usr/bin/env bash
# Documentation references stay inside the repository (docs/README.md):
#
#   - no file cites a document that lives outside it: `DECISIONS`, `STACK-NOTES`,
#     `api-contract`, `contract §`, a bare `§` section sign, an `(M<n>)` defect label,
#     `ARCHITECTURE.md` or `STYLE.md`
#     (cite docs/decisions.md#d<n>, docs/stack-notes.md#..., docs/wire-compatibility.md#m<n>);
#   - every `docs/<file>.md` or `docs/<file>.md#<anchor>` cited anywhere exists, and the anchor is
#     the GitHub slug of a heading in that file (lower-case, punctuation other than `-` and `_`
#     dropped, spaces turned into `-`, `-1`, `-2`, ... for repeated headings);
#   - the relative links and `#anchor` links inside docs/*.md resolve the same way.
#
# Checked: every file of the repository (tracked and untracked, minus what .gitignore ignores;
# every file under the root when git is unavailable), except target directories, .git,
# shared/testdata, Cargo.lock, binary files and this script. Prints `file:line: problem` for each
# finding and exits 1 if there is any. Needs bash and python3 only. Run from anywhere:
#   bash ops/ci/doc-refs.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

exec python3 - "$@" <<'PY'
import os
import re
import subprocess
import sys

ROOT = "."
SKIP_DIRS = {"target", ".git"}
# This script names the forbidden citations itself.
SKIP_PATHS = {"shared/testdata", "Cargo.lock", "ops/ci/doc-refs.sh"}


def skipped(path):
    parts = path.split("/")
    if any(p in SKIP_DIRS for p in parts[:-1]):
        return True
    return any(path == s or path.startswith(s + "/") for s in SKIP_PATHS)


def list_files():
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True, check=True,
        ).stdout.decode("utf-8", "surrogateescape")
        files = sorted({f for f in out.split("\0") if f})
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(ROOT):
            dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS)
            for n in names:
                files.append(os.path.relpath(os.path.join(d, n), ROOT).replace(os.sep, "/"))
    return [f for f in files if not skipped(f) and os.path.isfile(f)]


def read_text(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", "replace")


# Citations of documents that are not in the repository.
FORBIDDEN = [
    (re.compile(r"DECISIONS"), "cites DECISIONS (use docs/decisions.md#d<n>)"),
    (re.compile(r"STACK-NOTES"), "cites STACK-NOTES (use docs/stack-notes.md#<anchor>)"),
    (re.compile(r"api-contract"), "cites api-contract (use docs/wire-compatibility.md)"),
    (re.compile(r"contract\s*§"), "cites a contract section (use docs/wire-compatibility.md)"),
    (re.compile(r"§"), "section sign: cites an outside document's section"),
    (re.compile(r"\(M[0-9]+\)"), "(M<n>) label (use docs/wire-compatibility.md#m<n>)"),
    (re.compile(r"ARCHITECTURE\.md|STYLE\.md"), "cites an outside document (use docs/)"),
]

DOC_REF = re.compile(r"(?<![A-Za-z0-9_./-])docs/([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*\.md)(#[\w-]+)?")
MD_LINK = re.compile(r"\]\(([^()\s]+)\)")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)")


def slug(text):
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


_anchors = {}


def anchors(path):
    if path not in _anchors:
        found, seen, fenced = set(), {}, False
        text = read_text(path) or ""
        for line in text.splitlines():
            if FENCE.match(line):
                fenced = not fenced
                continue
            m = None if fenced else HEADING.match(line)
            if m:
                s = slug(m.group(2))
                n = seen.get(s, 0)
                seen[s] = n + 1
                found.add(s if n == 0 else f"{s}-{n}")
        _anchors[path] = found
    return _anchors[path]


def check_target(path, anchor):
    """A problem with the cited file and anchor, or None."""
    if not os.path.isfile(path):
        return f"{path} does not exist"
    if anchor and path.endswith(".md") and anchor not in anchors(path):
        return f"{path} has no heading with anchor #{anchor}"
    return None


problems = []
for f in list_files():
    text = read_text(f)
    if text is None:
        continue
    in_docs = f.startswith("docs/") and f.endswith(".md")
    for no, line in enumerate(text.splitlines(), 1):
        for rx, why in FORBIDDEN:
            if rx.search(line):
                problems.append(f"{f}:{no}: {why}")
        for m in DOC_REF.finditer(line):
            target = "docs/" + m.group(1)
            anchor = (m.group(2) or "#")[1:]
            p = check_target(target, anchor)
            if p:
                problems.append(f"{f}:{no}: {p}")
        if in_docs:
            for m in MD_LINK.finditer(line):
                link = m.group(1)
                if re.match(r"[a-z][a-z0-9+.-]*:", link, re.I):
                    continue  # http:, https:, mailto:
                target, _, anchor = link.partition("#")
                target = os.path.normpath(os.path.join(os.path.dirname(f), target)) if target else f
                target = target.replace(os.sep, "/")
                p = check_target(target, anchor)
                if p:
                    problems.append(f"{f}:{no}: link ({link}): {p}")

for p in problems:
    print(p)
if problems:
    print(f"doc-refs: {len(problems)} problem(s)", file=sys.stderr)
    sys.exit(1)
print("doc-refs: every documentation reference resolves")
PY
