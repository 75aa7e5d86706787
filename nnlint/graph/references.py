"""Where a model's source reads `self.<name>`: in which method, under which `if` (NN303 explains an unused layer).

Reads the classes' source with `ast`; nothing is run. A class whose source cannot be read has no references.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import re
import textwrap
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

from torch import nn

from nnlint.graph.loading import is_user_file

# Methods that touch a layer without running it: construction, weight initialisation, repr, checkpoint loading.
_SETUP = re.compile(r"init|reset|repr|state_dict|load")


@dataclass(frozen=True)
class Reference:
    """One read of `self.<name>` in a method, and the innermost `if` whose untaken side holds it, if any."""

    method: str
    condition: Optional[str] = None  # the `if` test as written: "x.dim() == 4"
    in_else: bool = False
    on_training: bool = False  # the test reads `self.training`
    on_inputs: bool = False  # the test reads a name other than `self`: an argument, or a value computed from it


@dataclass(frozen=True)
class Usage:
    """The reads of one attribute: in the methods forward reaches, and in the class's other methods."""

    in_forward: Tuple[Reference, ...]
    elsewhere: Tuple[str, ...]  # the other methods that read it: "encode", "compute_loss"


def usage(owner: nn.Module, attribute: str) -> Usage:
    """How the class of `owner` (and its user-defined bases) reads `self.<attribute>`, outside the methods that only
    set layers up (`__init__`, `_init_weights`, `reset_parameters`)."""
    methods = _methods(type(owner))
    reachable = _reachable(methods)
    in_forward: List[Reference] = []
    elsewhere: List[str] = []
    for name, function in methods.items():
        if _SETUP.search(name):
            continue  # building, initialising or printing a layer is not using it
        found = list(_reads(function, attribute))
        if name in reachable:
            # A read without an `if` in a method called under one (`self.forward_test(x)` in an `else`) is under it.
            caller_branch = reachable[name]
            in_forward.extend(caller_branch if r.condition is None and caller_branch else r for r in found)
        elif found:
            elsewhere.append(name)
    return Usage(tuple(in_forward), tuple(elsewhere))


def _methods(cls: type) -> Dict[str, ast.FunctionDef]:
    """The methods of a class and its bases up to nn.Module, the most derived definition of each name."""
    found: Dict[str, ast.FunctionDef] = {}
    for klass in cls.__mro__:
        if klass in (nn.Module, object) or klass.__module__.startswith("torch."):
            break
        tree = _class_tree(klass)
        if tree is None:
            continue
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.setdefault(statement.name, statement)  # type: ignore[arg-type]
    return found


def _class_tree(klass: type) -> Optional[ast.ClassDef]:
    try:
        filename = inspect.getsourcefile(klass)
        lines, _ = inspect.getsourcelines(klass)
    except (OSError, TypeError):
        return None
    if filename is None or not is_user_file(filename):
        return None
    try:
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except SyntaxError:
        return None
    return tree.body[0] if tree.body and isinstance(tree.body[0], ast.ClassDef) else None


def _reachable(methods: Dict[str, ast.FunctionDef]) -> Dict[str, Optional[Reference]]:
    """`forward` and the methods it calls as `self.<method>(...)`, transitively, each with the untaken-looking branch
    it is called under (`if self.training: ... else: return self.forward_test(x)`), None when called unconditionally."""
    reached: Dict[str, Optional[Reference]] = {}
    frontier: List[Tuple[str, Optional[Reference]]] = [("forward", None)] if "forward" in methods else []
    while frontier:
        name, branch = frontier.pop()
        if name in reached and (reached[name] is None or branch is not None):
            continue  # already reached, as unconditionally as this
        reached[name] = branch
        for callee in methods:
            for call in _reads(methods[name], callee):
                frontier.append((callee, call if call.condition is not None else branch))
    return reached


def _self_attribute(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return None


def _reads(function: ast.FunctionDef, attribute: str) -> Iterator[Reference]:
    """Each read of `self.<attribute>` in the function, with its innermost enclosing `if` (statement or expression).
    Statements after `if cond: ... return` count as the `else` of that `if`."""

    def block(statements: List[ast.stmt], branch: Optional[Tuple[ast.expr, bool]]) -> Iterator[Reference]:
        for statement in statements:
            yield from visit(statement, branch)
            if isinstance(statement, ast.If) and not statement.orelse and _exits(statement.body):
                branch = (statement.test, True)  # the rest runs only when the test was false

    def visit(node: ast.AST, branch: Optional[Tuple[ast.expr, bool]]) -> Iterator[Reference]:
        if isinstance(node, ast.Attribute) and _self_attribute(node) == attribute and isinstance(node.ctx, ast.Load):
            yield _reference(function.name, branch)
        if isinstance(node, ast.If):
            yield from visit(node.test, branch)
            yield from block(node.body, (node.test, False))
            yield from block(node.orelse, (node.test, True))
            return
        if isinstance(node, ast.IfExp):
            yield from visit(node.test, branch)
            yield from visit(node.body, (node.test, False))
            yield from visit(node.orelse, (node.test, True))
            return
        for field in ("body", "orelse", "finalbody"):  # loops, with, try: their statement lists, in order
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                yield from block(statements, branch)
        for name, child in ast.iter_fields(node):
            if name in ("body", "orelse", "finalbody") and isinstance(child, list):
                continue
            for item in child if isinstance(child, list) else [child]:
                if isinstance(item, ast.AST):
                    yield from visit(item, branch)

    yield from block(function.body, None)


def _exits(statements: List[ast.stmt]) -> bool:
    return bool(statements) and isinstance(statements[-1], (ast.Return, ast.Raise))


def _reference(method: str, branch: Optional[Tuple[ast.expr, bool]]) -> Reference:
    if branch is None:
        return Reference(method)
    test, in_else = branch
    # Any name but `self` and builtins (`isinstance`, `len`) may hold the input or something computed from it.
    names = {node.id for node in ast.walk(test) if isinstance(node, ast.Name)} - {"self"} - set(dir(builtins))
    # `if self.training:` / `if not self.training:` only: the pass traces in training mode, so the untaken side is
    # the eval side. A compound test (`self.training and self.aux`) may be untaken for its other part.
    bare = test.operand if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) else test
    training = _self_attribute(bare) == "training"
    return Reference(method, ast.unparse(test), in_else, training, bool(names))
