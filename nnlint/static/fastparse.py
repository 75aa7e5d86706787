"""libcst's parse_module without validating the nodes it builds, names excepted (imports only libcst; never torch).

Every libcst node checks itself when it is constructed (`CSTNode.__post_init__` calls `_validate`): that its
whitespace is whitespace, that a `not` has a space after it, that parentheses pair up. A tree the parser builds
from source text satisfies those checks by construction (libcst's own comment there suggests skipping validation
when parsing a file): the whitespace and punctuation nodes' checks were a seventh of the parse's time, the other
nodes' another 4-6%. Parsing 14,000 files (CPython's standard library and its tests, torchvision, timm, nnlint's
fixtures) with and without the checks raised the same errors on the same files.

A `Name` is still checked: `str.isidentifier` is how nnlint learns that libcst's parser accepted a name that this
Python refuses (NN004, or NN001 where CPython rejects the file too). Nodes built anywhere else (fixes, rules) are
validated as usual: the checks are switched off only for the duration of one parse. tests/test_fast_walk.py pins
the trees to libcst's own.
"""

from __future__ import annotations

import threading
from typing import List, Optional, Type

import libcst as cst

_SWITCHING = threading.Lock()  # one parse at a time switches the checks off and on again
_UNCHECKED: Optional[List[Type[cst.CSTNode]]] = None


def _valid_by_construction(self: cst.CSTNode) -> None:
    """The node of a tree parsed from source: its check would pass."""


def unchecked_kinds() -> List[Type[cst.CSTNode]]:
    """libcst's node classes whose check a parse skips: every class of libcst with no subclass in libcst (setting
    the hook on a base class would reach `Name` too), `Name` excepted."""
    global _UNCHECKED
    if _UNCHECKED is None:
        found, pending = [], [cst.CSTNode]
        while pending:
            kind = pending.pop()
            below = [sub for sub in kind.__subclasses__() if sub.__module__.startswith("libcst.")]
            pending.extend(below)
            if not below and kind is not cst.Name and "__post_init__" not in vars(kind):
                found.append(kind)
        _UNCHECKED = sorted(set(found), key=lambda kind: (kind.__module__, kind.__qualname__))
    return _UNCHECKED


def parse_module(source: str) -> cst.Module:
    """`libcst.parse_module(source)`, without checking each node but the names as it is built."""
    kinds = unchecked_kinds()
    with _SWITCHING:
        for kind in kinds:
            kind.__post_init__ = _valid_by_construction  # type: ignore[method-assign]
        try:
            return cst.parse_module(source)
        finally:
            for kind in kinds:
                del kind.__post_init__  # type: ignore[attr-defined]  # back to CSTNode's own
