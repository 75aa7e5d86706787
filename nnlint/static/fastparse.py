"""libcst's parse_module without validating the whitespace and punctuation nodes (imports only libcst; never torch).

Every libcst node checks itself when it is constructed (`CSTNode.__post_init__` calls `_validate`). For the
whitespace, comment and punctuation nodes (fastwalk.TRIVIA: two thirds of a parsed tree) those checks are a
seventh of the parse's time, and a tree the parser builds from source text satisfies them by construction
(libcst's own comment there suggests skipping validation when parsing a file). The other nodes are still
checked: their checks are how nnlint learns that libcst's parser accepted what its nodes refuse (NN004, and NN001
where CPython rejects the file too). Nodes built anywhere else (fixes, rules) are validated as usual: the checks
are switched off only for the duration of one parse. tests/test_fast_walk.py pins the trees to libcst's own.
"""

from __future__ import annotations

import threading

import libcst as cst

from nnlint.static.fastwalk import TRIVIA

_SWITCHING = threading.Lock()  # one parse at a time switches the checks off and on again


def _valid_by_construction(self: cst.CSTNode) -> None:
    """The trivia node of a tree parsed from source: its check would pass."""


def parse_module(source: str) -> cst.Module:
    """`libcst.parse_module(source)`, without checking each whitespace and punctuation node as it is built."""
    with _SWITCHING:
        for kind in TRIVIA:
            kind.__post_init__ = _valid_by_construction  # type: ignore[attr-defined]
        try:
            return cst.parse_module(source)
        finally:
            for kind in TRIVIA:
                del kind.__post_init__  # type: ignore[attr-defined]  # back to CSTNode's own
