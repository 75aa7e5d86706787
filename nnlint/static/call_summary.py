"""What a file calls, told cheaply: the small per-file summary that decides which files value flow must parse
to find a function's callers.

Value flow asks "who calls `train()`?" of the whole project. A file whose text merely mentions `train(` in a
definition, or calls another module's `train`, need not be parsed with libcst, which costs ~20x more than
Python's own parser and keeps a large tree; and a helper called from more places than value flow follows
(calls.MAX_SITES) need not have any of its callers parsed at all. The summary reads the file's imports with
`ast` (statements only, every scope) and finds the calls written `name(...)` or `x.name(...)` by a pattern over
the text, each with the imported dotted name the callee is written with, as the libcst analysis would qualify it.
A call in a comment or a string is counted too: a superset, so a caller is never missed. Never imports torch.
"""

from __future__ import annotations

import ast
import re
from typing import Callable, Dict, Iterator, List, Match, Optional, Pattern, Set, Tuple

_PATTERNS: Dict[str, Tuple[Pattern[str], Pattern[str]]] = {}  # per name: its occurrences, and its calls


class CallSummary:
    """The imports of one file, and its text to find the calls of a name in."""

    def __init__(self, text: str, imports: Dict[str, Set[str]]) -> None:
        self._text = text
        self._imports = imports

    def count(self, name: str, accept: Callable[[Optional[str]], bool]) -> int:
        """How many calls written `name(...)`/`x.name(...)` may run the callee that `accept` recognises by its
        qualified name (None: the head of the callee is not imported)."""
        return sum(1 for spellings in self._spellings(name) if any(accept(q) for q in (spellings or {None})))

    def calls(self, name: str) -> bool:
        """Whether some call is written `name(...)` or `x.name(...)`."""
        return next(self._spellings(name), None) is not None

    def _spellings(self, name: str) -> Iterator[Set[Optional[str]]]:
        for match in _calls_of(name, self._text):
            receiver = match.group(1)
            if receiver is None:  # `f(x).name(...)`: a method of a value
                yield set()
            elif not receiver:  # `name(...)`
                yield set(self._imports.get(name, ()))
            else:  # `mod.sub.name(...)`
                parts = [part.strip() for part in receiver.split(".") if part.strip()]
                rest = ".".join([*parts[1:], name])
                yield {prefix + "." + rest for prefix in self._imports.get(parts[0], ())}


def _calls_of(name: str, text: str) -> Iterator[Match[str]]:
    """The calls written `name(...)` or `x.name(...)`, each with its dotted receiver as group 1 (None: `).name(`).

    The full pattern starts with a dotted receiver of any length, so the regex engine tries it at every character
    of the text (a tenth of a run's time, per name asked); `name(` itself is a literal that is found fast. Every match
    of the full pattern is such an occurrence and the receiver before it: names, dots and whitespace. So the full
    pattern is tried only over that stretch (its lookbehinds still see the text before it)."""
    patterns = _PATTERNS.get(name)
    if patterns is None:
        escaped = re.escape(name)
        # a dotted receiver (`mod.`, `self.model.`) or none; not `def name(`/`class name(`; `).name(` has none
        patterns = _PATTERNS[name] = (
            re.compile(escaped + r"\s*\("),
            re.compile(
                r"(?<![\w.])(?<!def )(?<!class )((?:[A-Za-z_]\w*\s*\.\s*)*)" + escaped + r"\s*\("
                r"|(?<=[)\]}'\"]\.)" + escaped + r"\s*\("
            ),
        )
    occurrence, full = patterns
    for found in occurrence.finditer(text):
        match = full.search(text, _receiver_start(text, found.start()), found.end())
        if match is not None:
            yield match


def _receiver_start(text: str, end: int) -> int:
    """Where the run of word characters, dots and whitespace that ends at `end` starts."""
    start = end
    while start:
        char = text[start - 1]
        if not (char.isalnum() or char in "._" or char.isspace()):  # `\w`, `.` and `\s` as `re` reads them
            break
        start -= 1
    return start


def summarize_calls(text: str, path: str) -> Optional[CallSummary]:
    """The file's call summary, or None when Python's parser cannot read it (then only libcst can tell)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    imports: Dict[str, Set[str]] = {}
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    imports.setdefault(alias.asname, set()).add(alias.name)
                else:
                    head = alias.name.split(".")[0]
                    imports.setdefault(head, set()).add(head)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if not module:
                continue
            for alias in node.names:
                if alias.name != "*":
                    qualified = module + alias.name if module.endswith(".") else f"{module}.{alias.name}"
                    imports.setdefault(alias.asname or alias.name, set()).add(absolute_import(qualified, path))
    return CallSummary(text, imports)


def _statements(body: List[ast.stmt]) -> Iterator[ast.AST]:
    """Every statement, nested ones too (imports inside functions count), without walking expressions."""
    stack: List[ast.AST] = list(reversed(body))
    while stack:
        statement = stack.pop()
        yield statement
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(statement, field, None)
            if isinstance(inner, list):
                stack.extend(reversed([node for node in inner if isinstance(node, ast.AST)]))


def absolute_import(imported: str, path: str) -> str:
    """`..models.Net` imported in `pkg/train/loop.py` -> `pkg.models.Net` (by the file's display path); an absolute
    name is returned as it is."""
    if not imported.startswith("."):
        return imported
    level = len(imported) - len(imported.lstrip("."))
    package = path.split("/")[:-1]
    base = package[: len(package) - (level - 1)] if level - 1 <= len(package) else []
    return ".".join([*base, imported[level:]]).strip(".")
