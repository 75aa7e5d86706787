"""What a file calls, read with Python's own parser: the small per-file summary that decides which files value
flow must parse to find a function's callers.

Value flow asks "who calls `train()`?" of the whole project. A file whose text merely mentions `train(` (in a
comment, a string, a definition, or a call of another module's `train`) need not be parsed with libcst, which
costs ~20x more than `ast` and keeps a large tree; and a helper called from more places than value flow follows
(calls.MAX_SITES) need not have any of its callers parsed at all. The summary records, for every call written
`name(...)` or `x.name(...)`, the imported dotted name the callee is written with, as the libcst analysis
would qualify it (imports of any scope of the file: a superset, so a caller is never missed). Never imports torch.
"""

from __future__ import annotations

import ast
from typing import Callable, Dict, List, Optional, Set

# the imported dotted name of one call's callee: `from models import train` -> `train(...)` is "models.train";
# `""` when the head of the callee is not imported (a local function, a method of a local value)
Qualified = str


class CallSummary:
    """The calls of one file by the last name of their callee, each with the qualified names it may have."""

    def __init__(self, calls: Dict[str, List[Set[Qualified]]]) -> None:
        self._calls = calls

    def count(self, name: str, accept: Callable[[Optional[str]], bool]) -> int:
        """How many calls written `name(...)`/`x.name(...)` may run the callee that `accept` recognises by its
        qualified name (None: not imported)."""
        return sum(1 for spellings in self._calls.get(name, ()) if any(accept(q or None) for q in spellings or {""}))

    def calls(self, name: str) -> bool:
        """Whether some call is written `name(...)` or `x.name(...)`."""
        return name in self._calls


def summarize_calls(text: str, path: str) -> Optional[CallSummary]:
    """The file's call summary, or None when Python's parser cannot read it (then only libcst can tell)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    imports: Dict[str, Set[str]] = {}
    calls: List[ast.Call] = []
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Call:
            calls.append(node)  # type: ignore[arg-type]
        elif kind is ast.Import:
            for alias in node.names:  # type: ignore[attr-defined]
                if alias.asname:
                    imports.setdefault(alias.asname, set()).add(alias.name)
                else:
                    head = alias.name.split(".")[0]
                    imports.setdefault(head, set()).add(head)
        elif kind is ast.ImportFrom:
            module = "." * node.level + (node.module or "")  # type: ignore[attr-defined]
            if not module:
                continue
            for alias in node.names:  # type: ignore[attr-defined]
                if alias.name == "*":
                    continue
                qualified = module + alias.name if module.endswith(".") else f"{module}.{alias.name}"
                imports.setdefault(alias.asname or alias.name, set()).add(absolute_import(qualified, path))
    found: Dict[str, List[Set[Qualified]]] = {}
    for call in calls:
        dotted = _dotted(call.func)
        if dotted is None:
            continue
        head, _, rest = dotted.partition(".")
        last = dotted.rsplit(".", 1)[-1]
        spellings = {prefix + ("." + rest if rest else "") for prefix in imports.get(head, ())}
        found.setdefault(last, []).append(spellings)
    return CallSummary(found)


def absolute_import(imported: str, path: str) -> str:
    """`..models.Net` imported in `pkg/train/loop.py` -> `pkg.models.Net` (by the file's display path); an absolute
    name is returned as it is."""
    if not imported.startswith("."):
        return imported
    level = len(imported) - len(imported.lstrip("."))
    package = path.split("/")[:-1]
    base = package[: len(package) - (level - 1)] if level - 1 <= len(package) else []
    return ".".join([*base, imported[level:]]).strip(".")


def _dotted(node: ast.expr) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if parts:  # `self.model.fit(...)`, `get()(x).fit(...)`: the last name is still what calls_named keys on
        return "<value>." + ".".join(reversed(parts))
    return None
