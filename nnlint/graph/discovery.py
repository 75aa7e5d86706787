"""Zero-config discovery: the nn.Module subclasses defined in the checked files that build with their defaults.

Works on the static pass's parse (libcst), so nothing is imported to find the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List

import libcst as cst

from nnlint.graph.targets import GraphTarget
from nnlint.static import torch_api
from nnlint.static.project import ProjectIndex, method
from nnlint.static.semantics import FileSemantics


def discover_models(project: ProjectIndex) -> List[GraphTarget]:
    """A target for each top-level nn.Module subclass with a `forward` that needs no constructor arguments."""
    classes: Dict[str, List[tuple]] = {}
    for semantics in project.files_where(lambda text: "Module" in text or "Sequential" in text):
        for statement in semantics.module.body:
            if isinstance(statement, cst.ClassDef):
                classes.setdefault(statement.name.value, []).append((semantics, statement))
    finder = _ModuleClasses(classes)
    targets = []
    for name, definitions in classes.items():
        for semantics, klass in definitions:
            if (
                finder.is_module(semantics, klass)
                and finder.has_forward(klass)
                and finder.builds_with_defaults(semantics, klass)
            ):
                targets.append(
                    GraphTarget(
                        f"{semantics.path}:{name}", discovered=True, path=semantics.path, line=semantics.line(klass)
                    )
                )
    return sorted(targets, key=lambda t: (t.path or "", t.line or 0))


@dataclass(frozen=True)
class SkippedModel:
    """An nn.Module subclass that discovery did not check, and why, with the config that would include it."""

    target: str
    path: str
    line: int
    reason: str


def skipped_models(project: ProjectIndex) -> List[SkippedModel]:
    """The top-level nn.Module subclasses `discover_models` leaves out: no `forward`, or a constructor that
    needs arguments (nanoGPT's `GPT(config)`)."""
    classes: Dict[str, List[tuple]] = {}
    for semantics in project.files_where(lambda text: "Module" in text or "Sequential" in text):
        for statement in semantics.module.body:
            if isinstance(statement, cst.ClassDef):
                classes.setdefault(statement.name.value, []).append((semantics, statement))
    finder = _ModuleClasses(classes)
    skipped = []
    for name, definitions in classes.items():
        for semantics, klass in definitions:
            if not finder.is_module(semantics, klass):
                continue
            target = f"{semantics.path}:{name}"
            if not finder.has_forward(klass):
                reason = "defines no forward (a base class or a container): nothing to run"
            elif not finder.builds_with_defaults(semantics, klass):
                needed = _required_init_arguments(klass)
                what = f" ({', '.join(needed)})" if needed else ""
                reason = (
                    f"its constructor needs arguments{what}; to check it, add to pyproject.toml: "
                    f'[[tool.nnlint.models]] target = "{target}" kwargs = {{...}} '
                    "(or a factory function returning the model)"
                )
            else:
                continue
            skipped.append(SkippedModel(target, semantics.path, semantics.line(klass), reason))
    return sorted(skipped, key=lambda s: (s.path, s.line))


def _required_init_arguments(klass: cst.ClassDef) -> List[str]:
    init = method(klass, "__init__")
    if init is None:
        return []
    params = init.params
    positional = list(params.posonly_params) + list(params.params)
    return [p.name.value for p in positional[1:] + list(params.kwonly_params) if p.default is None]


class _ModuleClasses:
    """Answers questions about classes by name across the checked files, following local base classes."""

    def __init__(self, classes: Dict[str, List[tuple]]) -> None:
        self.classes = classes
        self._visiting: set = set()

    def is_module(self, semantics: FileSemantics, klass: cst.ClassDef) -> bool:
        """Whether the class derives from torch.nn.Module (directly, via a torch.nn class, or a local base)."""
        for base in klass.bases:
            qualified = semantics.qualified_name(base.value)
            if (
                qualified is not None
                and qualified.startswith(torch_api.NN)
                and qualified.rsplit(".", 1)[-1][:1].isupper()
            ):
                return True
        key = id(klass)
        if key in self._visiting:
            return False
        self._visiting.add(key)
        try:
            return any(self.is_module(s, k) for s, k in self._bases_by_name(klass))
        finally:
            self._visiting.discard(key)

    def has_forward(self, klass: cst.ClassDef) -> bool:
        """Whether the class (or a local base) defines `forward`."""
        return method(klass, "forward") is not None or any(self.has_forward(k) for _, k in self._bases_by_name(klass))

    def builds_with_defaults(self, semantics: FileSemantics, klass: cst.ClassDef) -> bool:
        """Whether `Class()` needs no argument: every `__init__` parameter has a default. A class without
        `__init__` takes its base's: a torch layer's (`class StdConv(nn.Conv2d)`) needs its sizes."""
        init = method(klass, "__init__")
        if init is None:
            for base in klass.bases:
                qualified = semantics.qualified_name(base.value)
                if (
                    qualified is not None
                    and qualified.startswith(torch_api.NN)
                    and qualified.rsplit(".", 1)[-1] not in _NO_ARGUMENTS
                ):
                    return False
            return all(self.builds_with_defaults(s, k) for s, k in self._bases_by_name(klass))
        params = init.params
        positional = list(params.posonly_params) + list(params.params)
        return all(p.default is not None for p in positional[1:] + list(params.kwonly_params))

    def _bases_by_name(self, klass: cst.ClassDef) -> List[tuple]:
        found = []
        for base in klass.bases:
            name = base.value.value if isinstance(base.value, cst.Name) else None
            if name and name in self.classes and name != klass.name.value:
                found.extend(self.classes[name])
        return found


# Last segments of the torch.nn classes whose constructor needs no argument.
_NO_ARGUMENTS = frozenset(name.rsplit(".", 1)[-1] for name in torch_api.NO_ARGUMENT_MODULES)
