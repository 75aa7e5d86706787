"""Fast read-only walks of libcst trees, built on libcst internals (imports only libcst; never torch).

libcst's generic `node.visit(visitor)` rebuilds every node it passes (about 3x the time of a plain walk),
and `MetadataWrapper.resolve(PositionProvider)` follows its code-generation pass with a useless visit of
the whole tree. This module avoids both by reaching into libcst:

- `child_fields` reads each node type's compiled `_visit_and_replace_children` to learn which fields hold
  children, in libcst's visiting order; `structural_fields` leaves out those whose declared type admits only
  TRIVIA. `walk`, `subtree_end` and the semantics collector follow them and never enter a trivia subtree.
- `positions_of` runs `PositionProvider._gen_impl` directly.

Fallbacks: where the visiting code cannot be read (a libcst whose nodes are not plain Python functions),
`child_fields` returns None and the walks use libcst's public `node.children`; where the position
provider works differently, `positions_of` uses `MetadataWrapper`. tests/test_fast_walk.py pins all of
it against libcst's own visit minus the trivia (same nodes, same order, same parents, same positions),
fallbacks included: run it after upgrading libcst.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any, Dict, Mapping, Optional, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider


class KindTest(Dict[type, bool]):
    """`isinstance(node, kinds)` as `test[type(node)]`, answered once per type. libcst's node classes are ABCs:
    isinstance on one that the node is not an instance of runs ABCMeta's Python-level check every time, ten times
    a dict lookup, and the hot loops over parents and pre-order lists ask it hundreds of thousands of times."""

    def __init__(self, *kinds: type) -> None:
        super().__init__()
        self.kinds = kinds

    def __missing__(self, kind: type) -> bool:
        self[kind] = answer = issubclass(kind, self.kinds)
        return answer


#: A field libcst leaves at its default (`MaybeSentinel.DEFAULT`): no child there.
NO_VALUE = cst.MaybeSentinel.DEFAULT
#: Whitespace, comments and punctuation: two thirds of a tree's nodes, and no rule asks about them. The semantics
#: collector leaves their subtrees (only more of the same) out of its pre-order list and parent map, so every
#: pass over those tables is three times shorter; `subtree_end` skips them the same way.
TRIVIA = frozenset(
    {
        cst.SimpleWhitespace,
        cst.ParenthesizedWhitespace,
        cst.TrailingWhitespace,
        cst.Newline,
        cst.EmptyLine,
        cst.Comment,
        cst.Comma,
        cst.Dot,
        cst.Colon,
        cst.Semicolon,
        cst.AssignEqual,
        cst.LeftParen,
        cst.RightParen,
        cst.LeftSquareBracket,
        cst.RightSquareBracket,
        cst.LeftCurlyBrace,
        cst.RightCurlyBrace,
    }
)
_CHILD_FIELDS: Dict[type, Optional[Tuple[str, ...]]] = {}
_STRUCTURAL_FIELDS: Dict[type, Optional[Tuple[str, ...]]] = {}
_TRIVIA_NAMES = frozenset((kind.__module__, kind.__qualname__) for kind in TRIVIA)


def positions_of(module: cst.Module) -> Mapping[cst.CSTNode, Any]:
    """PositionProvider's code ranges. Generated directly: MetadataWrapper.resolve would follow the
    code-generation pass with a visit of the whole tree for (no) batchable providers, ~40% more time."""
    provider = PositionProvider()
    try:
        provider._computed = {}
        provider._gen_impl(module)  # type: ignore[attr-defined]
        return provider._computed
    except AttributeError:  # a libcst whose provider works differently: its public way
        return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)


def child_fields(kind: type) -> Optional[Tuple[str, ...]]:
    """The fields libcst visits for a node type, in its order, read once from the type's own visiting code: every
    child is visited through visit_required/optional/sentinel/sequence(self, "field", ...), and the compiler keeps
    a function's string constants in the order they first occur. The constants that name a field of the node are
    its children (the other fields, such as Name.value, are passed on by keyword, whose names the compiler keeps
    in tuples). Reading the compiled constants, not the source text (inspect.getsource tokenizes libcst's whole
    module), costs a thousandth as much: 0.6 G instructions for all node types before. None where the code cannot
    be read."""
    if kind not in _CHILD_FIELDS:
        try:
            constants = _visiting_code(kind).co_consts
            names = {field.name for field in dataclasses.fields(kind)}
        except (AttributeError, TypeError):
            _CHILD_FIELDS[kind] = None
        else:
            _CHILD_FIELDS[kind] = tuple(dict.fromkeys(c for c in constants if type(c) is str and c in names))
    return _CHILD_FIELDS[kind]


def structural_fields(kind: type) -> Optional[Tuple[str, ...]]:
    """child_fields without the fields whose declared type admits only TRIVIA (`whitespace_after`, `lpar`,
    `comma`...): more than half of a node's fields. The walks that leave trivia out skip them without reading
    them. None where child_fields is None."""
    if kind not in _STRUCTURAL_FIELDS:
        fields = child_fields(kind)
        if fields is not None:
            declared = {field.name: field.type for field in dataclasses.fields(kind)}
            fields = tuple(name for name in fields if not _only_trivia(declared.get(name)))
        _STRUCTURAL_FIELDS[kind] = fields
    return _STRUCTURAL_FIELDS[kind]


def _only_trivia(declared: Any) -> bool:
    """Whether every value a field of this declared type can hold is TRIVIA, None or MaybeSentinel.DEFAULT
    (`Sequence[LeftParen]`, `Union[Comma, MaybeSentinel]`, `BaseParenthesizableWhitespace`). Unknown: False."""
    if declared is type(None) or declared is cst.MaybeSentinel:
        return True
    origin = typing.get_origin(declared)
    if origin is not None:
        arguments = typing.get_args(declared)
        return origin is not typing.Literal and bool(arguments) and all(_only_trivia(a) for a in arguments)
    if not (isinstance(declared, type) and issubclass(declared, cst.CSTNode)):
        return False  # a string annotation or a forward reference: not known to be trivia
    kinds, stack = [], [declared]
    while stack:
        kind = stack.pop()
        kinds.append(kind)
        stack.extend(kind.__subclasses__())
    # by name: libcst's add_slots replaces each node class by a copy, and the original stays a subclass too
    return all((kind.__module__, kind.__qualname__) in _TRIVIA_NAMES for kind in kinds if not inspect.isabstract(kind))


def _visiting_code(kind: type) -> Any:
    return kind._visit_and_replace_children.__code__  # type: ignore[attr-defined]


def subtree_end(node: cst.CSTNode, order: Mapping[cst.CSTNode, int]) -> int:
    """One past the pre-order index of the last node under `node` in the semantics collector's list: follow the
    last child that is not TRIVIA down."""
    last = node
    while True:
        child = _last_child(last)
        if child is None:
            return order[last] + 1
        last = child


def _last_child(node: cst.CSTNode) -> Optional[cst.CSTNode]:
    fields = structural_fields(type(node))
    if fields is None:
        return next((child for child in reversed(node.children) if type(child) not in TRIVIA), None)
    for name in reversed(fields):
        value = getattr(node, name)
        if value is None or value is NO_VALUE:
            continue
        if type(value) is tuple or type(value) is list:
            for item in reversed(value):
                if type(item) not in TRIVIA:
                    return item
            continue
        if type(value) not in TRIVIA:
            return value
    return None


def walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """`node.visit(visitor)` for a read-only visitor (no attribute hooks), without rebuilding every node and
    without the TRIVIA below `node` (two thirds of a tree's nodes): no nnlint visitor looks at whitespace,
    comments or punctuation, and rules see none (they are dispatched from the collector's list)."""
    if visitor.on_visit(node):
        fields = structural_fields(type(node))
        if fields is None:  # libcst's own (slower) list of children, in the same order
            for child in node.children:
                if type(child) not in TRIVIA:
                    walk(child, visitor)
            fields = ()
        for name in fields:
            value = getattr(node, name)
            if value is None or value is NO_VALUE:
                continue
            if type(value) is tuple or type(value) is list:
                for item in value:
                    if type(item) not in TRIVIA:
                        walk(item, visitor)
            elif type(value) not in TRIVIA:
                walk(value, visitor)
    visitor.on_leave(node)
