"""NN501: a training script that never seeds its random number generators."""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Set, cast

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static.fastwalk import walk
from nnlint.types import Severity


class UnseededRandomness(StaticRule):
    """A training entry point that never seeds, so no run can be reproduced or compared (rules/NN501.md)."""

    code = "NN501"
    name = "unseeded-randomness"
    needles = ("backward",)
    severity = Severity.INFO

    def visit_Module(self, node: cst.Module) -> None:
        if "step" not in self.context.source:
            return  # no optimizer step (the needle already required `backward`)
        scan = _Scan.of(self.context.semantics.order)
        if scan.seeded or not scan.backward or not scan.step:
            return
        training = _training_names(scan)
        at = self._entry_point(node, training)
        if at is None:
            return
        self.report(
            at,
            "This script trains a model (`.backward()` and an optimizer `.step()`) but never seeds its random "
            "number generators: weight initialisation, data shuffling, dropout and augmentation change on "
            "every run, so two runs cannot be compared and no result can be reproduced. Seed at the start: "
            "`torch.manual_seed(seed)`, `random.seed(seed)`, `np.random.seed(seed)` (or "
            "`lightning.seed_everything(seed)` / `transformers.set_seed(seed)`).",
        )

    def _entry_point(self, module: cst.Module, training: Set[str]) -> Optional[cst.CSTNode]:
        """The `__name__ == "__main__"` test when its block trains, else the first top-level call that trains."""
        for statement in module.body:
            if isinstance(statement, cst.If) and _is_main_guard(statement.test):
                return statement.test if _trains(statement.body, training) else None
        for statement in module.body:
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                continue
            call = _first_training_call(statement, training)
            if call is not None:
                return call
        return None


class _Scan:
    """One pass over the file's nodes: training calls, seeding, and which functions call what."""

    def __init__(self) -> None:
        self.backward = False
        self.step = False
        self.seeded = False
        self.functions: List[cst.FunctionDef] = []

    @classmethod
    def of(cls, nodes: Iterable[cst.CSTNode]) -> "_Scan":
        """Scanned over the collector's pre-order node list: no second walk of the tree."""
        scan = cls()
        for node in nodes:
            kind = type(node)
            if kind is cst.Name:
                scan.visit_Name(cast(cst.Name, node))
            elif kind is cst.Call:
                scan.visit_Call(cast(cst.Call, node))
            elif kind is cst.FunctionDef:
                scan.visit_FunctionDef(cast(cst.FunctionDef, node))
        return scan

    def visit_Name(self, node: cst.Name) -> None:
        # Any `*seed*` name — a call, an import, `args.seed`, `seed=` — or deterministic algorithms.
        lowered = node.value.lower()
        if "seed" in lowered or lowered == "use_deterministic_algorithms":
            self.seeded = True

    def visit_Call(self, node: cst.Call) -> None:
        name = _called_name(node)
        self.backward = self.backward or name == "backward"
        self.step = self.step or name == "step"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)


def _training_names(scan: _Scan) -> Set[str]:
    """Names of functions and methods of this file that run `.backward()`, directly or through each other."""
    calls: Dict[str, Set[str]] = {}
    for function in scan.functions:
        collector = _CallNames()
        walk(function.body, collector)
        calls.setdefault(function.name.value, set()).update(collector.names)
    training = {name for name, called in calls.items() if "backward" in called}
    changed = True
    while changed:
        grown = {name for name, called in calls.items() if called & training}
        changed = not grown <= training
        training |= grown
    return training


class _CallNames(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: Set[str] = set()
        self.first: Optional[cst.Call] = None
        self.wanted: Set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        name = _called_name(node)
        if name is not None:
            self.names.add(name)
            if self.first is None and name in self.wanted:
                self.first = node


def _called_name(call: cst.Call) -> Optional[str]:
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def _trains(body: cst.CSTNode, training: Set[str]) -> bool:
    collector = _CallNames()
    walk(body, collector)
    return bool(collector.names & (training | {"backward"}))


def _first_training_call(statement: cst.CSTNode, training: Set[str]) -> Optional[cst.Call]:
    collector = _CallNames()
    collector.wanted = training | {"backward"}
    walk(statement, collector)
    return collector.first


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = (test.left, target.comparator)
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    return len(names) == 1 and len(strings) == 1
