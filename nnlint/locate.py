"""Pointing graph and probe findings at the user's source: an fx node's line, a submodule's definition."""

from __future__ import annotations

import ast
import functools
import inspect
import re
import textwrap
from typing import Optional

from torch import fx, nn

from nnlint import python_syntax
from nnlint.graph.loading import is_user_file
from nnlint.types import Location

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>\S+)')
_CONTAINERS = (nn.ModuleList, nn.ModuleDict, nn.Sequential, nn.ParameterList, nn.ParameterDict)


def node_source(node: fx.Node) -> Optional[Location]:
    """The innermost line of user code that created an fx node (from its recorded stack trace)."""
    trace = node.stack_trace or ""
    found = None
    for match in _FRAME.finditer(trace):
        if is_user_file(match.group("file")):
            found = Location(match.group("file"), int(match.group("line")), 1)
    return found


def class_source(cls: type) -> Optional[Location]:
    """Where a class is defined, if it is the user's."""
    try:
        filename = inspect.getsourcefile(cls)
        _, line = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return None
    if filename is None or not is_user_file(filename):
        return None
    return Location(filename, line, 1)


def module_source(model: nn.Module, path: str) -> Optional[Location]:
    """Where the submodule at `path` is assigned in its parent's class (`self.fc = nn.Linear(...)`)."""
    parts = path.split(".") if path else []
    index: Optional[int] = None
    while parts:
        parent = model.get_submodule(".".join(parts[:-1]))
        attribute = parts[-1]
        if isinstance(parent, _CONTAINERS) and len(parts) > 1:
            index = int(attribute) if attribute.isdigit() and index is None else index
            parts = parts[:-1]  # `blocks.3`: point at where `self.blocks` is built
            continue
        where = _assignment_line(type(parent), attribute)
        if where is not None:
            return _element(where, index) if index is not None else where
        parts = parts[:-1]
        index = None
    return class_source(type(model))


def _element(where: Location, index: int) -> Location:
    """The position of layer `index` in `self.x = nn.Sequential(a, b, ...)` starting at `where`, else `where`."""
    filename, line = where.path, where.line
    try:
        with open(filename, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        start = line - 1
        indent = len(lines[start]) - len(lines[start].lstrip())
        tree = None
        for end in range(start + 1, min(start + 200, len(lines)) + 1):
            try:
                tree = python_syntax.parse(textwrap.dedent("\n".join(lines[start:end])))
                break
            except SyntaxError:
                continue
    except (OSError, UnicodeDecodeError, IndexError):
        return where
    if tree is None or not tree.body or not isinstance(tree.body[0], (ast.Assign, ast.AnnAssign)):
        return where
    value = tree.body[0].value
    if (
        isinstance(value, ast.Call)
        and index < len(value.args)
        and not any(isinstance(a, ast.Starred) for a in value.args)
    ):
        element = value.args[index]
        return Location(filename, line + element.lineno - 1, element.col_offset + 1 + indent)
    return where


def _assignment_line(cls: type, attribute: str) -> Optional[Location]:
    """The line in `cls` (or its user-defined bases) that assigns `self.<attribute>`."""
    pattern = re.compile(
        rf"self\.{re.escape(attribute)}\s*(:[^=]+)?=(?!=)|(add_module|register_module|register_parameter|register_buffer)\(\s*['\"]{re.escape(attribute)}['\"]"
    )
    for klass in cls.__mro__:
        if klass in (nn.Module, object):
            break
        where = class_source(klass)
        if where is None:
            continue
        try:
            lines, start = inspect.getsourcelines(klass)
        except (OSError, TypeError):
            continue
        for offset, text in enumerate(lines):
            if pattern.search(text):
                return Location(where.path, start + offset, len(text) - len(text.lstrip()) + 1)
    return None


def statement(where: Location) -> Optional[ast.stmt]:
    """The innermost statement of the user's source that spans `where`'s line (None if unreadable)."""
    tree = _parse(where.path)
    if tree is None:
        return None
    line = where.line
    found: Optional[ast.stmt] = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno):
            if (
                found is None
                or (node.end_lineno or node.lineno) - node.lineno <= (found.end_lineno or found.lineno) - found.lineno
            ):
                found = node
    return found


def source_tree(filename: str) -> Optional[ast.Module]:
    """The parsed source of a user's file (cached), or None when it cannot be read or parsed."""
    return _parse(filename)


@functools.lru_cache(maxsize=64)
def _parse(filename: str) -> Optional[ast.Module]:
    try:
        with open(filename, encoding="utf-8") as handle:
            return python_syntax.parse(handle.read())
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
