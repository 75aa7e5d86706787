"""nnlint walks libcst trees by direct field access, not libcst's generic visit: it must see the same nodes in the same order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import libcst as cst
import pytest

from nnlint.static.fastwalk import TRIVIA, walk
from nnlint.static.project import ProjectIndex
from nnlint.static.semantics import FileSemantics

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(ROOT.glob("fixtures/**/*.py")) + sorted(ROOT.glob("bench/precision_snippets/**/*.py"))


class _Recorder(cst.CSTVisitor):
    """libcst's own visit: every node on entry and exit, with its parent."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list = []
        self.parents: dict = {}
        self.stack: list = []

        self.trivia: set = set()  # nodes in a whitespace, comment or punctuation subtree (fastwalk.TRIVIA)

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(("visit", id(node)))
        if self.stack:
            self.parents[id(node)] = id(self.stack[-1])
            if id(self.stack[-1]) in self.trivia:
                self.trivia.add(id(node))
        if type(node) in TRIVIA:
            self.trivia.add(id(node))
        self.stack.append(node)
        return True

    def without_trivia(self) -> list:
        """The visit and leave events of the nodes that are not trivia (what fastwalk.walk visits)."""
        return [event for event in self.events if event[1] not in self.trivia]

    def collected(self) -> list:
        """The visited nodes the semantics collector lists: all but the trivia, in visiting order."""
        return [i for kind, i in self.events if kind == "visit" and i not in self.trivia]

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()
        self.events.append(("leave", id(original_node)))


def test_the_corpus_is_not_empty():
    assert len(FILES) > 100


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_fast_walks_visit_what_libcst_visits_in_its_order(path):
    try:
        module = cst.parse_module(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, cst.ParserSyntaxError, RecursionError):
        pytest.skip("a fixture of a file that does not parse")
    expected = _Recorder()
    module.visit(expected)
    # the generic walk, used for read-only visitors
    walked = _Recorder()
    walk(module, walked)
    assert walked.events == expected.without_trivia()
    # the semantics collector: pre-order index (rules are dispatched from it) and parents
    semantics = FileSemantics(path.name, module, ProjectIndex())
    assert [id(node) for node in semantics.order] == expected.collected()
    assert {id(child): id(parent) for child, parent in semantics.parents.items()} == {
        child: parent for child, parent in expected.parents.items() if child not in expected.trivia
    }


def test_a_visitor_that_prunes_is_pruned_the_same_way():
    class Pruning(_Recorder):
        def on_visit(self, node: cst.CSTNode) -> bool:
            super().on_visit(node)
            return not isinstance(node, (cst.FunctionDef, cst.Call))

    module = cst.parse_module("def f(x):\n    return g(x)\n\nclass A:\n    y = h(1)\n")
    expected, walked = Pruning(), Pruning()
    module.visit(expected)
    walk(module, walked)
    assert walked.events == expected.without_trivia()


def test_child_fields_are_the_fields_libcsts_visiting_source_names():
    """child_fields reads the compiled visiting code; its source text names the same fields in the same order
    (`visit_required(self, "field", ...)`), for every node type of the installed libcst."""
    import inspect
    import re

    from nnlint.static.fastwalk import child_fields

    visited = re.compile(r'visit_\w+\(\s*self,\s*"(\w+)"')
    kinds, stack = set(), [cst.CSTNode]
    while stack:
        for kind in stack.pop().__subclasses__():
            if kind not in kinds:
                kinds.add(kind)
                stack.append(kind)
    concrete = [kind for kind in kinds if not inspect.isabstract(kind) and dataclasses.is_dataclass(kind)]
    assert len(concrete) > 200
    for kind in concrete:
        source = inspect.getsource(kind._visit_and_replace_children)
        assert child_fields(kind) == tuple(dict.fromkeys(visited.findall(source))), kind.__name__


def test_without_readable_visiting_code_the_walk_falls_back_to_libcst_children(monkeypatch):
    """child_fields reads libcst's visiting code; where it cannot, the walk must still be correct."""
    import nnlint.static.collect as collect_module
    import nnlint.static.fastwalk as fastwalk_module

    def unreadable(_):
        raise AttributeError("no code object")

    monkeypatch.setattr(fastwalk_module, "_CHILD_FIELDS", {})
    monkeypatch.setattr(collect_module, "_COLLECTOR_PLAN", {})
    monkeypatch.setattr(fastwalk_module, "_visiting_code", unreadable)
    source = (ROOT / "fixtures" / "demo" / "train.py").read_text(encoding="utf-8")
    module = cst.parse_module(source)
    expected, walked = _Recorder(), _Recorder()
    module.visit(expected)
    walk(module, walked)
    assert walked.events == expected.without_trivia()
    semantics = FileSemantics("train.py", module, ProjectIndex())
    assert [id(node) for node in semantics.order] == expected.collected()
    assert semantics.descendants(module) == list(semantics.order)[1:]


@pytest.mark.parametrize("path", FILES[::10], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_positions_are_libcsts(path):
    """Positions are generated without MetadataWrapper (it adds a useless tree visit): the same ranges."""
    from libcst.metadata import MetadataWrapper, PositionProvider

    from nnlint.static.fastwalk import positions_of

    try:
        module = cst.parse_module(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, cst.ParserSyntaxError, RecursionError):
        pytest.skip("a fixture of a file that does not parse")
    assert dict(positions_of(module)) == dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))


@pytest.mark.parametrize("path", FILES[::3], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_descendants_are_what_a_walk_of_the_subtree_visits(path):
    """semantics.descendants(node) slices the pre-order list; it must equal walking the subtree, for every
    node, and with nested classes pruned as a visitor returning False from visit_ClassDef does."""
    try:
        module = cst.parse_module(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, cst.ParserSyntaxError, RecursionError):
        pytest.skip("a fixture of a file that does not parse")
    semantics = FileSemantics(path.name, module, ProjectIndex())

    class Pruning(_Recorder):
        def on_visit(self, node: cst.CSTNode) -> bool:
            super().on_visit(node)
            return not (isinstance(node, cst.ClassDef) and len(self.events) > 1)

    for node in semantics.order:
        walked = _Recorder()
        walk(node, walked)
        assert [id(n) for n in semantics.descendants(node)] == walked.collected()[1:]
        if isinstance(node, (cst.FunctionDef, cst.IndentedBlock)):
            pruned = Pruning()
            walk(node, pruned)
            visited = pruned.collected()[1:]
            classes = {id(n) for n in semantics.order if isinstance(n, cst.ClassDef)}
            assert [id(n) for n in semantics.descendants(node, prune=(cst.ClassDef,))] == [
                i for i in visited if i not in classes
            ]


@pytest.mark.parametrize("path", FILES[::5], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_fast_parse_builds_libcsts_tree(path):
    """fastparse skips the checks of whitespace and punctuation nodes while parsing: the same tree, node for node."""
    from nnlint.static.fastparse import parse_module

    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        expected = cst.parse_module(text)
    except (cst.ParserSyntaxError, cst.CSTValidationError, RecursionError) as error:
        with pytest.raises(type(error)):
            parse_module(text)
        return
    fast = parse_module(text)
    assert fast.deep_equals(expected) and fast.code == text


def test_nodes_built_after_a_fast_parse_are_checked_again():
    from nnlint.static.fastparse import parse_module

    parse_module("x = (1, 2)  # a comment\n")
    with pytest.raises(cst.CSTValidationError):
        cst.SimpleWhitespace("not whitespace")
    with pytest.raises(cst.CSTValidationError):
        cst.Comment("no hash")
