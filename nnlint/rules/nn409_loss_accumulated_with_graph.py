"""NN409: a running total built from loss tensors keeps every iteration's autograd graph alive."""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Set

import libcst as cst

from nnlint.static import loops
from nnlint.static.fastwalk import walk
from nnlint.static.loops import BACKWARD, LoopRule
from nnlint.types import Fix, Severity

_DETACHING = frozenset({"item", "detach", "detach_", "tolist", "numpy", "__float__"})
_KEEPING = frozenset(
    {
        "mean",
        "sum",
        "float",
        "double",
        "half",
        "bfloat16",
        "cpu",
        "cuda",
        "to",
        "clone",
        "squeeze",
        "unsqueeze",
        "view",
        "reshape",
        "abs",
        "contiguous",
        "mul",
        "div",
        "add",
    }
)
_CRITERION = re.compile(r"criterion|^loss_?f(?:u)?n|^loss_func|^loss_function|^compute_loss$|^lossfn", re.I)
_MAX_DEPTH = 8


class LossAccumulatedWithGraph(LoopRule):
    """A loss tensor summed or collected across iterations instead of `loss.item()` (rules/NN409.md)."""

    code = "NN409"
    name = "loss-accumulated-with-graph"
    severity = Severity.WARNING
    needles = ("loss", "Loss", "criterion", "backward")
    fix_availability = "sometimes"

    def __init__(self, context) -> None:
        super().__init__(context)
        self._sinks: Dict[int, "_Flow"] = {}

    def check_model(self, model: loops.LoopModel) -> None:
        """Nothing file-wide: the visit_ hooks below check each accumulation, once `self.model` is set."""

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.operator, cst.AddAssign):
            self._check(node, node.target, node.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1 or not isinstance(node.value, cst.BinaryOperation):
            return
        target, value = node.targets[0].target, node.value
        if not isinstance(value.operator, cst.Add):
            return
        code = self.context.semantics.module.code_for_node
        if _is_ref(target) and code(value.left) == code(target):
            self._check(node, target, value.right)
        elif _is_ref(target) and code(value.right) == code(target):
            self._check(node, target, value.left)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "append"
            and len(node.args) == 1
            and node.args[0].keyword is None
        ):
            self._check(node, func.value, node.args[0].value)

    def _check(self, statement: cst.CSTNode, accumulator: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if self.model is None or not _is_ref(accumulator):
            return
        semantics = self.context.semantics
        loop = semantics.enclosing(statement, (cst.For, cst.While, cst.FunctionDef, cst.Lambda, cst.ClassDef))
        if not isinstance(loop, (cst.For, cst.While)):
            return
        function = semantics.enclosing(statement, (cst.FunctionDef,)) or semantics.module
        flow = self._flow(function)
        if self._grad_off(statement, function, training=bool(flow.backpropagated)):
            return
        tensor = self._graph_tensor(value, flow, 0)
        if tensor is None:
            return
        name = semantics.module.code_for_node(accumulator)
        if name == semantics.module.code_for_node(tensor) or flow.reaches_backward(name):
            return  # the total itself is backpropagated: summing losses before one backward is correct
        if _reset_in(loop, name, semantics.order[statement], semantics):
            return
        text = semantics.module.code_for_node(tensor)
        if _detached_in(loop, text, semantics.order[statement], semantics):
            return  # `if with_backward: loss.backward(); loss = loss.detach()`: detached where it was backpropagated
        fix = Fix(f"Accumulate `{text}.item()`", (self.context.replace(tensor, f"{text}.item()"),), safe=False)
        self.report(
            statement,
            f"`{name}` collects `{text}`, a tensor that carries its autograd graph, on every iteration: each "
            "graph stays referenced by the running total, so memory grows batch after batch (with the "
            "activations of every batch when that loss is never backpropagated) until the run slows down or "
            f"runs out of memory. Accumulate a number instead: `{text}.item()` (or `{text}.detach()`).",
            fix=fix,
        )

    def _grad_off(self, statement: cst.CSTNode, function, training: bool) -> bool:
        """Whether autograd may be off here: a no_grad block, or callers that disable it (or that we cannot see)."""
        semantics = self.context.semantics
        if loops.grad_disabled_at(semantics, statement):
            return True
        if isinstance(function, cst.FunctionDef) and self.model is not None:
            callers = loops.call_sites(self.model, function)
            if not callers and not training:
                return True  # evaluation code called from elsewhere, perhaps under no_grad
            return any(loops.grad_disabled_at(semantics, call) for call in callers)
        return False

    def _flow(self, function) -> "_Flow":
        key = id(function)
        if key not in self._sinks:
            assert self.model is not None
            self._sinks[key] = _Flow(self.model, function)
        return self._sinks[key]

    def _graph_tensor(self, expr: cst.BaseExpression, flow: "_Flow", depth: int) -> Optional[cst.BaseExpression]:
        """The part of `expr` that is a loss tensor with a graph (what to detach), or None."""
        if depth > _MAX_DEPTH:
            return None
        semantics = self.context.semantics
        if isinstance(expr, cst.BinaryOperation) and isinstance(
            expr.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)
        ):
            return self._graph_tensor(expr.left, flow, depth + 1) or self._graph_tensor(expr.right, flow, depth + 1)
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute):
                if func.attr.value in _DETACHING:
                    return None
                if func.attr.value in _KEEPING and self._graph_tensor(func.value, flow, depth + 1) is not None:
                    return expr
            if self._is_loss_call(expr):
                return None if loops.grad_disabled_at(semantics, expr) else expr
            return None
        if isinstance(expr, cst.Name):
            assigned = semantics.assigned_value(expr)
            if isinstance(assigned, cst.BaseExpression) and not isinstance(assigned, (cst.Ellipsis, cst.Name)):
                if loops.grad_disabled_at(semantics, assigned) or _detached(assigned):
                    return None
                if self._graph_tensor(assigned, flow, depth + 1) is not None:
                    return expr
            return expr if expr.value in flow.backpropagated else None
        if isinstance(expr, cst.Attribute):
            return expr if semantics.module.code_for_node(expr) in flow.backpropagated else None
        return None

    def _is_loss_call(self, call: cst.Call) -> bool:
        if self.context.semantics.loss_call(call) is not None:
            return True
        name = loops.last_name(call.func)
        return name is not None and bool(_CRITERION.search(name))


def _is_ref(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) or (
        isinstance(expr, cst.Attribute) and isinstance(expr.value, (cst.Name, cst.Attribute))
    )


def _detached(expr: cst.BaseExpression) -> bool:
    """`x.item()`, `x.detach()...`, `float(x)`: a value without a graph."""
    while isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Name) and func.value in ("float", "int"):
            return True
        if not isinstance(func, cst.Attribute):
            return False
        if func.attr.value in _DETACHING:
            return True
        expr = func.value
    return isinstance(expr, cst.Attribute) and expr.attr.value == "data"


def _reset_in(loop: cst.CSTNode, name: str, before: int, semantics) -> bool:
    """Whether the accumulator is re-initialised inside the loop: it then holds the graphs of a few iterations only.

    A fresh value before the addition, or after it on the same iteration path (`running_loss = 0` after the
    optimizer step of gradient accumulation, `total -= total`, `total.zero_()`, `losses.clear()`). A reset after
    the addition under an `if` counts only when that branch also steps the optimizer: a logging window
    (`if step % 10 == 0: print(total / 10); total = 0`) while the optimizer steps every iteration still keeps
    ten graphs alive (ray-project/ray#40940).
    """
    finder = _Resets(name, semantics, before, loop)
    walk(loop, finder)
    return finder.found


def _detached_in(loop: cst.CSTNode, name: str, before: int, semantics) -> bool:
    """Whether the loop rebinds the added name to a detached value before the addition (`loss = loss.detach()`)."""
    finder = _Rebinds(name, semantics, before)
    walk(loop, finder)
    return finder.found


class _Rebinds(cst.CSTVisitor):
    def __init__(self, name: str, semantics, before: int) -> None:
        super().__init__()
        self.name, self.semantics, self.before = name, semantics, before
        self.found = False

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.semantics.order[node] < self.before and _detached(node.value):
            code = self.semantics.module.code_for_node
            if any(code(target.target) == self.name for target in node.targets):
                self.found = True


def _references(semantics, node: cst.CSTNode, name: str) -> bool:
    finder = _Refs(semantics.module.code_for_node)
    walk(node, finder)
    return name in finder.refs


class _Resets(cst.CSTVisitor):
    def __init__(self, name: str, semantics, before: int, loop: cst.CSTNode) -> None:
        super().__init__()
        self.name, self.semantics, self.before, self.loop = name, semantics, before, loop
        self.found = False

    def _bounds_memory(self, node: cst.CSTNode) -> bool:
        """Whether a reset after the addition runs at an optimizer step (or on every iteration)."""
        branch = self.semantics.enclosing(node, (cst.If, cst.For, cst.While))
        if branch is None or branch is self.loop or not isinstance(branch, cst.If):
            return True
        finder = _StepCalls()
        walk(branch.body, finder)
        return finder.found

    def _is_name(self, node: cst.CSTNode) -> bool:
        return self.semantics.module.code_for_node(node) == self.name

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if not self._is_name(target.target):
                continue
            if self.semantics.order[node] < self.before or _detached(node.value):
                self.found = True
            elif not _references(self.semantics, node.value, self.name) and self._bounds_memory(node):
                self.found = True  # a fresh value (0, None, a new tensor) after the addition

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if self._is_name(node.target) and self._is_name(node.value) and isinstance(node.operator, cst.SubtractAssign):
            self.found = self.found or self._bounds_memory(node)  # `total -= total`

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("zero_", "clear") and self._is_name(func.value):
            self.found = self.found or self._bounds_memory(node)

    def visit_Del(self, node: cst.Del) -> None:
        if self._is_name(node.target):
            self.found = self.found or self._bounds_memory(node)


class _StepCalls(cst.CSTVisitor):
    """Finds an optimizer step: `optimizer.step()`, `scaler.step(optimizer)`, `accelerator`-style `opt.step()`."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "step":
            self.found = True


class _Flow:
    """Which names a function backpropagates, and where each name's value flows (assignments, appends)."""

    def __init__(self, model: loops.LoopModel, function) -> None:
        self.semantics = model.semantics
        unit = loops.Unit(function, None, model.events(function))
        direct = [e for e in unit.of(BACKWARD) if not any(f.kind == "call" for f in unit.tail(e))]
        self.backpropagated: Set[str] = {e.target for e in direct if e.target}
        finder = _FlowFinder(self.semantics)
        walk(function.body, finder) if isinstance(function, cst.FunctionDef) else walk(function, finder)
        self.edges = finder.edges
        self.sinks: Set[str] = set(finder.backward_names)
        if not direct:
            self.sinks |= finder.returned  # a function that builds a loss and returns it for someone to backpropagate

    def reaches_backward(self, name: str) -> bool:
        seen, todo = {name}, [name]
        while todo:
            current = todo.pop()
            if current in self.sinks:
                return True
            for nxt in self.edges.get(current, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False


class _FlowFinder(cst.CSTVisitor):
    def __init__(self, semantics) -> None:
        super().__init__()
        self.code = semantics.module.code_for_node
        self.edges: Dict[str, Set[str]] = {}
        self.backward_names: Set[str] = set()
        self.returned: Set[str] = set()

    def _refs(self, node: cst.CSTNode) -> List[str]:
        finder = _Refs(self.code)
        walk(node, finder)
        return finder.refs

    def _edge(self, sources: cst.CSTNode, target: cst.CSTNode) -> None:
        name = self.code(target)
        for source in self._refs(sources):
            self.edges.setdefault(source, set()).add(name)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._edge(node.value, target.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._edge(node.value, node.target)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("append", "extend", "insert") and node.args:
            for arg in node.args:
                self._edge(arg.value, func.value)
        name = loops.last_name(func)
        if name in ("backward", "manual_backward") or (name == "grad" and isinstance(func, cst.Attribute)):
            self.backward_names.update(self._refs(node))

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.returned.update(self._refs(node.value))

    def visit_Yield(self, node: cst.Yield) -> None:
        if isinstance(node.value, cst.BaseExpression):
            self.returned.update(self._refs(node.value))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


class _Refs(cst.CSTVisitor):
    def __init__(self, code) -> None:
        super().__init__()
        self.code = code
        self.refs: List[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.refs.append(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.refs.append(self.code(node))

    def visit_Call(self, node: cst.Call) -> bool:
        return not _detached(node)  # `total.item()` carries no graph onwards
