"""GraphResult: what the graph pass found and measured for one target. No torch here (the parent reads it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List

from nnlint.types import Finding


@dataclass
class GraphResult:
    """Findings (absolute paths), how the model was analysed, the input used, and where the time went."""

    findings: List[Finding] = field(default_factory=list)
    method: str = ""  # "fx" (traced), "hooks" (not traceable: eager meta forward) or "" (not analysed)
    input_description: str = ""
    seconds: float = 0.0
    summary: List[Dict[str, Any]] = field(default_factory=list)  # per module, for `nnlint graph`
    timings: Dict[str, float] = field(
        default_factory=dict
    )  # seconds per phase (import, build, trace, inputs, runs, rules) and CPU seconds (cpu)
    output_kind: str = ""  # "logits", "softmax", "log-softmax", "sigmoid", "activated logits" or "" (unknown)

    @classmethod
    def aborted(cls, finding: Finding) -> "GraphResult":
        """The result of a target whose check never finished: only the finding that says why."""
        return cls([finding])

    def to_dict(self) -> Dict[str, Any]:
        """Plain data (findings in the public JSON shape) for the worker's events."""
        return {
            "findings": [finding.to_dict() for finding in self.findings],
            "method": self.method,
            "input": self.input_description,
            "output_kind": self.output_kind,
            "seconds": self.seconds,
            "summary": self.summary,
            "timings": self.timings,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "GraphResult":
        """Inverse of to_dict."""
        return cls(
            [Finding.from_dict(item) for item in data.get("findings", [])],
            data.get("method", ""),
            data.get("input", ""),
            data.get("seconds", 0.0),
            data.get("summary") or [],
            data.get("timings") or {},
            output_kind=data.get("output_kind", ""),
        )
