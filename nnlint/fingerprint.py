"""One fingerprint per finding that survives unrelated edits; SARIF (code scanning) and the baseline both use it.

A fingerprint hashes the rule's code, the file, the names of the functions and classes around the finding, the
flagged source text with every space and comment taken out, and how many findings before it had the same key.
Line and cell numbers stay out, so code added above, lines moved and a reformatting (black, ruff format:
spacing, indentation, wrapping of a short span) keep it; editing the flagged code itself makes a new one. The
enclosing names tell apart the same buggy line pasted into a new function above an old one.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from nnlint.notebook import cell_positions
from nnlint.text import split_lines
from nnlint.types import Finding, Location

# The name both SARIF and the baseline file give the hash; a new way of computing it gets a new name.
NAME = "nnlintFingerprint/v2"  # v2: enclosing names and the flagged code without spaces or comments; no lines

# A span longer than this (a whole class or loop) would change with any edit inside it: the first line stands for it.
MAX_SPAN_LINES = 4


def fingerprints(
    findings: Sequence[Finding],
    read_text: Callable[[str], Optional[str]],
    path_key: Callable[[str], str] = str,
) -> List[str]:
    """Per finding (in the order given, which should be the report's order), a hex digest; `path_key` turns a
    finding's path into the name hashed (the baseline uses paths relative to its own folder)."""
    texts: Dict[str, Optional[str]] = {}
    seen: Counter = Counter()
    prints = []
    for finding in findings:
        path = finding.location.path
        if path not in texts:
            texts[path] = read_text(path)
        text = texts[path]
        context = flagged_text(text, finding.location)
        where = "" if context is None or text is None else enclosing_names(text, finding.location)
        key = (finding.code, path_key(path), where, finding.message if context is None else normalized(context))
        prints.append(_hash(*key, str(seen[key])))
        seen[key] += 1
    return prints


def flagged_text(text: Optional[str], location: Location) -> Optional[str]:
    """The source a location points at: its span when short, else its first line; None when out of range."""
    if text is None:
        return None
    lines = _lines(text)
    first = _first_index(text, lines, location)
    if first is None:
        return None
    if location.end_line is None or not 0 <= location.end_line - location.line < MAX_SPAN_LINES:
        return lines[first]
    last = first + location.end_line - location.line
    if last >= len(lines):
        return lines[first]
    span = list(lines[first : last + 1])
    if location.end_column is not None:
        span[-1] = span[-1][: max(location.end_column - 1, 0)]
    span[0] = span[0][max(location.column - 1, 0) :]
    joined = "\n".join(span)
    return joined if joined.strip() else lines[first]


def enclosing_names(text: str, location: Location) -> str:
    """`Net.forward` for a line in that method: the defs and classes whose indented blocks hold the line, read from
    indentation (so it works on any text nnlint could locate a finding in, and a rewrapped signature keeps it)."""
    lines = _lines(text)
    first = _first_index(text, lines, location)
    if first is None:
        return ""
    indent = _indent(lines[first])
    names: List[str] = []
    for index in range(first - 1, -1, -1):
        if indent == 0:
            break
        line = lines[index]
        if _indent(line) >= indent:
            continue
        match = _DEFINITION.match(line)
        if match is None and not _opens_block(line):
            continue  # blank lines, comments, and what a formatter may outdent: `) -> int:`, string contents
        indent = _indent(line)
        if match:
            names.append(match.group(1))
    return ".".join(reversed(names))


_DEFINITION = re.compile(r"\s*(?:async\s+)?(?:def|class)\s+(\w+)")


def _opens_block(line: str) -> bool:
    """A line that starts an indented block (`def`, `class`, `for`, `if`, ...), not one that closes brackets."""
    code = _without_comment(line).strip()
    return code.endswith(":") and not code.startswith((")", "]", "}"))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


@functools.lru_cache(maxsize=8)  # asked twice per finding, and findings come file by file
def _lines(text: str) -> Tuple[str, ...]:
    return tuple(split_lines(text))


def _first_index(text: str, lines: Sequence[str], location: Location) -> Optional[int]:
    if location.cell is None:
        return location.line - 1 if 1 <= location.line <= len(lines) else None
    for index, at in enumerate(cell_positions(text)):
        if at == (location.cell, location.line):
            return index
    return None


def normalized(source: str) -> str:
    """`source` without comments and without any whitespace: what a formatter may change is left out."""
    return "".join("".join(_without_comment(line).split()) for line in split_lines(source))


def _without_comment(line: str) -> str:
    """The line up to a `#` that starts a comment (one outside the quotes opened on this line)."""
    quote: Optional[str] = None
    index = 0
    while index < len(line):
        char = line[index]
        if quote is None:
            if char == "#":
                return line[:index]
            if char in "'\"":
                quote = line[index : index + 3] if line[index : index + 3] in ('"""', "'''") else char
                index += len(quote)
                continue
        elif char == "\\":
            index += 2
            continue
        elif line.startswith(quote, index):
            index += len(quote)
            quote = None
            continue
        index += 1
    return line


def _hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()
