"""Core data of nnlint: findings and where they point. Frozen, and imports nothing of nnlint."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional, Tuple


class Severity(str, enum.Enum):
    """How bad a finding is; `warning` and above fail a run (exit code 1)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Larger is worse; used to sort and to decide the exit code."""
        return {"info": 0, "warning": 1, "error": 2}[self.value]


class Pass(str, enum.Enum):
    """Which of nnlint's passes saw a finding."""

    STATIC = "static"
    GRAPH = "graph"
    PROBE = "probe"


@dataclass(frozen=True)
class Location:
    """A span in a user's file. Lines and columns are 1-based; the end is exclusive of nothing (inclusive line, exclusive column)."""

    path: str
    line: int
    column: int
    end_line: Optional[int] = None
    end_column: Optional[int] = None
    symbol: Optional[str] = None
    cell: Optional[int] = None  # in a notebook: the cell (1-based, every cell counted); lines are the cell's

    def sort_key(self) -> Tuple[str, int, int, int]:
        """Order used by every reporter: path, then cell, then line, then column."""
        return (self.path, self.cell or 0, self.line, self.column)

    def place(self) -> str:
        """`path:line:column`, or `path:cell N:line:column` in a notebook, as text output prints it."""
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{cell}{self.line}:{self.column}"


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 1-based (line, column) positions with `text`."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str
    cell: Optional[int] = None  # in a notebook: the cell the lines belong to

    def to_dict(self) -> dict:
        """The public JSON shape of an edit (`cell` only in notebooks)."""
        data = {
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "text": self.text,
        }
        if self.cell is not None:
            data["cell"] = self.cell
        return data


@dataclass(frozen=True)
class Fix:
    """A titled set of edits that resolves a finding; `safe` fixes are applied by `--fix`."""

    title: str
    edits: Tuple[Edit, ...]
    safe: bool = True

    def to_dict(self) -> dict:
        """The public JSON shape of a fix."""
        return {
            "title": self.title,
            "safe": self.safe,
            "edits": [edit.to_dict() for edit in self.edits],
        }


@dataclass(frozen=True)
class Finding:
    """One problem nnlint found: what, where, how bad, which pass saw it, and an optional fix."""

    code: str
    name: str
    message: str
    severity: Severity
    pass_: Pass
    location: Location
    fix: Optional[Fix] = field(default=None, compare=False)

    def sort_key(self) -> tuple:
        """Deterministic order: location first, then code and message."""
        return (*self.location.sort_key(), self.code, self.message)

    def to_dict(self) -> dict:
        """The public, stable JSON shape of a finding (documented in README)."""
        loc = self.location
        data = {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "pass": self.pass_.value,
            "path": loc.path,
            "line": loc.line,
            "column": loc.column,
            "end_line": loc.end_line if loc.end_line is not None else loc.line,
            "end_column": loc.end_column if loc.end_column is not None else loc.column,
            "message": self.message,
            "fix": self.fix.to_dict() if self.fix else None,
        }
        if loc.cell is not None:
            data["cell"] = loc.cell
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Finding":
        """Inverse of to_dict (findings cross process boundaries as JSON)."""
        fix = data.get("fix")
        return cls(
            data["code"],
            data["name"],
            data["message"],
            Severity(data["severity"]),
            Pass(data["pass"]),
            _location(data),
            Fix(fix["title"], tuple(Edit(**edit) for edit in fix["edits"]), fix["safe"]) if fix else None,
        )


def _location(data: dict) -> Location:
    """A Location from to_dict's flat keys; an empty span is what to_dict writes for "no end"."""
    end_line, end_column = data.get("end_line"), data.get("end_column")
    if (end_line, end_column) == (data["line"], data["column"]):
        end_line = end_column = None
    return Location(data["path"], data["line"], data["column"], end_line, end_column, cell=data.get("cell"))
