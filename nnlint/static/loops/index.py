"""One pass over a file's nodes for the loop model: calls per statement, definitions per scope, jumps, imports.

Imports libcst and the loop model's data modules; never torch.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Set

import libcst as cst

from nnlint.static.fastwalk import KindTest
from nnlint.static.loops.names import FOREIGN_FRAMEWORKS, TORCH_FRAMEWORKS
from nnlint.static.loops.syntax import text_of

if TYPE_CHECKING:
    from nnlint.static.semantics import FileSemantics

Parents = Mapping[cst.CSTNode, cst.CSTNode]

_IMPORTS = frozenset({cst.Import, cst.ImportFrom})
_JUMPS = frozenset({cst.Continue, cst.Break, cst.Return, cst.Raise})
_HEADERS = KindTest(cst.If, cst.While, cst.For, cst.WithItem, cst.Match)
_SMALL_STATEMENT = KindTest(cst.BaseSmallStatement)
_DEFINITION = KindTest(cst.Lambda, cst.FunctionDef, cst.ClassDef, cst.Decorator)
_JUMP_SCOPE = KindTest(cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.Module)
_LOOP = KindTest(cst.For, cst.While)
_JUMP_BLOCK = KindTest(cst.If, cst.Try, cst.TryStar, cst.With, cst.Match)


class FileIndex:
    """What the loop model needs of a file, from one pass over the nodes the dataflow already knows.

    A libcst traversal of a large file takes seconds; the parent map holds every node already.
    """

    def __init__(self, semantics: FileSemantics) -> None:
        parents = semantics.parents
        order = semantics.order
        self.calls: Dict[int, List[cst.Call]] = {}  # statement (or header expression) -> its calls in evaluation order
        self.all_calls: List[cst.Call] = []
        self.defs: Dict[int, Dict[str, List[cst.FunctionDef]]] = {}
        self.owner: Dict[int, Optional[cst.CSTNode]] = {}
        self.functions: List[cst.FunctionDef] = []
        self.jumps: Set[int] = set()
        roots: Set[str] = set()
        for node in parents:
            kind = type(node)  # exact types (libcst's node classes have no subclasses): isinstance on them is slow
            if kind is cst.Call:
                call: cst.Call = node  # type: ignore[assignment]  # the exact type was just checked
                self.all_calls.append(call)
                anchor = _anchor(call, parents)
                if anchor is not None:
                    self.calls.setdefault(id(anchor), []).append(call)
            elif kind is cst.FunctionDef:
                function: cst.FunctionDef = node  # type: ignore[assignment]
                scope = _scope(function, parents)
                self.defs.setdefault(id(scope), {}).setdefault(function.name.value, []).append(function)
                self.owner[id(function)] = scope
                self.functions.append(function)
            elif kind in _IMPORTS:
                if isinstance(_scope(node, parents), cst.Module):
                    roots.update(_import_roots(node))
            elif kind in _JUMPS:
                self._mark_jump(node, parents)

        def evaluated_before(first: cst.Call, second: cst.Call) -> int:
            return _evaluated_before(first, second, parents, order)

        evaluation = functools.cmp_to_key(evaluated_before)
        for found in self.calls.values():
            found.sort(key=evaluation)
        self.functions.sort(key=lambda f: order[f])
        self.relevant = bool(roots & TORCH_FRAMEWORKS) and not (roots & FOREIGN_FRAMEWORKS)

    def _mark_jump(self, node: cst.CSTNode, parents: Parents) -> None:
        loop_jump = isinstance(node, (cst.Continue, cst.Break))
        current = parents.get(node)
        while current is not None and not _JUMP_SCOPE[type(current)]:
            if loop_jump and _LOOP[type(current)]:
                return
            if _JUMP_BLOCK[type(current)]:
                self.jumps.add(id(current))
            current = parents.get(current)


def _import_roots(node: cst.CSTNode) -> List[str]:
    if isinstance(node, cst.Import):
        return [text_of(alias.name).split(".")[0] for alias in node.names]
    if isinstance(node, cst.ImportFrom) and node.module is not None and not node.relative:
        return [text_of(node.module).split(".")[0]]
    return []


def _evaluated_before(first: cst.Call, second: cst.Call, parents: Parents, order: Mapping[cst.CSTNode, int]) -> int:
    """Order two calls of one statement as Python evaluates them: arguments before the call, then left to right."""
    if _inside(first, second, parents):
        return -1
    if _inside(second, first, parents):
        return 1
    return -1 if order[first] < order[second] else 1


def _inside(node: cst.CSTNode, outer: cst.CSTNode, parents: Parents) -> bool:
    current = parents.get(node)
    while current is not None and not _SMALL_STATEMENT[type(current)]:
        if current is outer:
            return True
        current = parents.get(current)
    return False


def _anchor(call: cst.Call, parents: Parents) -> Optional[cst.CSTNode]:
    """The small statement, or the header expression of a compound statement, that evaluates `call`."""
    child: cst.CSTNode = call
    current = parents.get(call)
    while current is not None:
        kind = type(current)
        if _DEFINITION[kind]:
            return None
        if _SMALL_STATEMENT[kind]:
            return current
        if _HEADERS[kind]:
            return child
        child, current = current, parents.get(current)
    return None


def _scope(node: cst.CSTNode, parents: Parents) -> Optional[cst.CSTNode]:
    """The function, class or module that directly contains a definition."""
    current = parents.get(node)
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Module)):
        current = parents.get(current)
    return current
