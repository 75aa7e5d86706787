"""Analyse step of the static pass: which rules a file needs, and one walk of its tree calling all their hooks.

A rule that raises is reported (NN003) and switched off for that file; the others go on. Never imports torch.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Set, Tuple, Type

import libcst as cst

from nnlint.rule import Rule
from nnlint.rules.nn003_internal_error import InternalError
from nnlint.static.context import StaticContext
from nnlint.static.parse import ParsedFile, on_big_stack
from nnlint.types import Finding, Location


def rules_for_text(rules: Sequence[Type[Rule]], text: str) -> List[Type[Rule]]:
    """The rules with hooks whose needles occur in the text (a rule without needles always runs)."""
    return [rule for rule in rules if _has_hooks(rule) and (not rule.needles or any(n in text for n in rule.needles))]


def _has_hooks(rule: Type[Rule]) -> bool:
    return bool(_hook_names(rule))


def _hook_names(rule: Type[Rule]) -> Tuple[str, ...]:
    """The rule class's visit_/leave_ methods: dir() of a class is slow, and this is asked per rule and file."""
    names = _HOOK_NAMES.get(rule)
    if names is None:
        names = _HOOK_NAMES[rule] = tuple(name for name in dir(rule) if name.startswith(("visit_", "leave_")))
    return names


_HOOK_NAMES: Dict[Type[Rule], Tuple[str, ...]] = {}


def run_rules(item: ParsedFile, rules: Sequence[Type[Rule]]) -> List[Finding]:
    """Visit one parsed file once with all rules; a rule that raises is reported and switched off."""
    context = StaticContext(item.display_path, item.source, item.semantics)
    dispatcher = _Dispatcher([rule(context) for rule in rules], context)
    if item.deep:
        on_big_stack(dispatcher.run)
    else:
        dispatcher.run()
    return context.findings + dispatcher.errors


class _Dispatcher(cst.CSTVisitor):
    """Calls each rule's visit_/leave_ hooks for every node, isolating rules from each other's failures."""

    def __init__(self, rules: List[Rule], context: StaticContext) -> None:
        super().__init__()
        self.context = context
        self.errors: List[Finding] = []
        self._failed: Set[str] = set()
        self._hooks: Dict[str, List[Tuple[Rule, Callable]]] = {}
        for rule in rules:
            for attribute in _hook_names(type(rule)):
                self._hooks.setdefault(attribute, []).append((rule, getattr(rule, attribute)))

    def _call(self, hook: str, node: cst.CSTNode) -> None:
        for rule, method in self._hooks.get(hook, ()):
            if rule.code in self._failed:
                continue
            try:
                method(node)
            except Exception as error:  # a bug in a rule must not stop the others
                self._failed.add(rule.code)
                location = (
                    self.context.location(node)
                    if node in self.context.semantics.positions
                    else Location(self.context.path, 1, 1)
                )
                self.errors.append(
                    InternalError.finding(
                        location,
                        f"Rule {rule.code} ({rule.name}) failed here with {type(error).__name__}: {error}. "
                        "This is a bug in nnlint; the other rules still checked the file. "
                        f"Silence it with `# nnlint: ignore[{rule.code}]` and report it.",
                    )
                )

    def run(self) -> None:
        """Every hook for every node of the file, in libcst's visiting order."""
        if any(name.startswith("leave_") for name in self._hooks):
            self.context.semantics.module.visit(self)
            return
        # No rule needs post-order: the semantics collector already listed every node in pre-order.
        by_kind: Dict[type, str] = {}
        hooks = self._hooks
        for node in self.context.semantics.order:
            kind = type(node)
            name = by_kind.get(kind)
            if name is None:
                name = by_kind[kind] = "visit_" + kind.__name__
            if name in hooks:
                self._call(name, node)

    def on_visit(self, node: cst.CSTNode) -> bool:
        self._call("visit_" + type(node).__name__, node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._call("leave_" + type(original_node).__name__, original_node)
