"""What the files checked together know of each other: user classes and what their `forward` returns."""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional

import libcst as cst

if TYPE_CHECKING:
    from nnlint.static.semantics import FileSemantics, Origin

_PENDING = object()


class ProjectIndex:
    """Classes across all files of one run, so a model defined in one file is understood in another."""

    def __init__(self) -> None:
        self._files: List["FileSemantics"] = []
        self._class_names: set = set()
        self._forward: Dict[str, object] = {}

    def add(self, semantics: "FileSemantics") -> None:
        """Register one parsed file."""
        self._files.append(semantics)
        self._class_names.update(semantics.classes)

    @property
    def files(self) -> List["FileSemantics"]:
        """The parsed files, in the order they were checked."""
        return list(self._files)

    def has_class(self, name: str) -> bool:
        """Whether some checked file defines a class of this name."""
        return name in self._class_names

    def forward_origin(self, class_name: str) -> Optional["Origin"]:
        """What every class of this name returns from `forward`, when they all agree; else None."""
        cached = self._forward.get(class_name)
        if cached is _PENDING:
            return None  # recursion through the same class: unknown
        if class_name in self._forward:
            return cached  # type: ignore[return-value]
        self._forward[class_name] = _PENDING
        origins = []
        for semantics in self._files:
            klass = semantics.classes.get(class_name)
            if klass is not None:
                origins.append(_forward_returns(semantics, klass))
        kinds = {origin.kind if origin else None for origin in origins}
        result = origins[0] if len(kinds) == 1 and origins and origins[0] is not None else None
        self._forward[class_name] = result
        return result


def _forward_returns(semantics: "FileSemantics", klass: cst.ClassDef) -> Optional["Origin"]:
    forward = next(
        (s for s in klass.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "forward"), None
    )
    if forward is None:
        return None
    finder = _ReturnFinder()
    forward.body.visit(finder)
    origins = [semantics.origin(value) if value is not None else None for value in finder.values]
    if not origins or any(origin is None for origin in origins):
        return None
    if len({origin.kind for origin in origins}) != 1:
        return None
    return origins[-1]


class _ReturnFinder(cst.CSTVisitor):
    """Return values of one function, not of functions nested in it."""

    def __init__(self) -> None:
        super().__init__()
        self.values: List[Optional[cst.BaseExpression]] = []

    def visit_Return(self, node: cst.Return) -> None:
        self.values.append(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False
