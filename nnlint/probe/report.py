"""ProbeReport: what one probe found and measured; `assert report.ok, report` is a unit test. No torch here."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from nnlint.discover import display_path
from nnlint.probe.texts import number
from nnlint.types import Finding, Severity

COLUMNS = ("layer", "type", "grad norm", "update ratio", "dead/sat %", "act mean", "act std")


@dataclass(frozen=True)
class ProbeReport:
    """Findings, per-layer statistics and check outcomes of one probe."""

    target: str
    findings: Tuple[Finding, ...] = ()
    layers: Tuple[Dict[str, Any], ...] = ()
    checks: Dict[str, str] = field(default_factory=dict)  # code -> passed | failed | skipped: ... | inconclusive: ...
    device: str = "cpu"
    seed: int = 0
    torch_version: str = ""
    input: str = ""
    task: Optional[str] = None
    loss: str = ""
    initial_loss: Optional[float] = None
    expected_loss: Optional[float] = None
    expected_why: str = ""
    overfit: Dict[str, Any] = field(default_factory=dict)
    timings: Dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    notes: Tuple[str, ...] = ()
    path: str = ""  # where the model is defined (for findings about the whole model)
    line: int = 1

    @property
    def ok(self) -> bool:
        """True when no finding is a warning or an error."""
        return not any(f.severity.rank >= Severity.WARNING.rank for f in self.findings)

    def with_findings(self, findings: Sequence[Finding]) -> "ProbeReport":
        """The same report with other findings (after suppression, display paths or baseline drift)."""
        failed = {f.code for f in findings}
        checks = {
            code: ("failed" if code in failed else ("passed" if status == "failed" else status))
            for code, status in self.checks.items()
        }
        for code in failed:
            if not code.startswith("NN0") and self.input:
                checks.setdefault(code, "failed")
        return replace(self, findings=tuple(sorted(findings, key=Finding.sort_key)), checks=checks)

    def to_dict(self) -> Dict[str, Any]:
        """Plain data (findings in the public JSON shape) for workers, baselines and tools."""
        return {
            "target": self.target,
            "device": self.device,
            "seed": self.seed,
            "torch": self.torch_version,
            "input": self.input,
            "task": self.task,
            "loss": self.loss,
            "initial_loss": self.initial_loss,
            "expected_loss": self.expected_loss,
            "expected_why": self.expected_why,
            "overfit": dict(self.overfit),
            "layers": [dict(row) for row in self.layers],
            "checks": dict(self.checks),
            "findings": [f.to_dict() for f in self.findings],
            "timings": dict(self.timings),
            "seconds": self.seconds,
            "notes": list(self.notes),
            "path": self.path,
            "line": self.line,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "ProbeReport":
        """Inverse of to_dict."""
        return cls(
            data.get("target", "model"),
            tuple(Finding.from_dict(f) for f in data.get("findings", [])),
            tuple(data.get("layers", [])),
            dict(data.get("checks", {})),
            data.get("device", "cpu"),
            data.get("seed", 0),
            data.get("torch", ""),
            data.get("input", ""),
            data.get("task"),
            data.get("loss", ""),
            data.get("initial_loss"),
            data.get("expected_loss"),
            data.get("expected_why", ""),
            dict(data.get("overfit", {})),
            dict(data.get("timings", {})),
            data.get("seconds", 0.0),
            tuple(data.get("notes", [])),
            data.get("path", ""),
            data.get("line", 1),
        )

    def save_baseline(self, path: Any) -> None:
        """Write this report into a baseline file (other targets in it are kept) for `nnlint.probe(baseline=...)`."""
        from nnlint.probe import baseline

        baseline.save([self], Path(path))

    def table(self) -> List[Tuple[str, ...]]:
        """The per-layer table as rows of strings, header first."""
        rows: List[Tuple[str, ...]] = [COLUMNS]
        for row in self.layers:
            share = row.get("dead") if row.get("dead") is not None else row.get("saturated")
            rows.append(
                (
                    row["name"],
                    row["type"],
                    number(row.get("grad_norm")),
                    number(row.get("update_ratio")),
                    "-" if share is None else f"{share:.0%}",
                    number(row.get("act_mean")),
                    number(row.get("act_std")),
                )
            )
        return rows

    def headline(self) -> str:
        """One line: what was probed, how, and how long it took."""
        if not self.input:
            return f"nnlint probe of {self.target}: not probed (see the findings)"
        task = f"task {self.task}" if self.task else "no task (surrogate loss: gradient flow only)"
        return (
            f"nnlint probe of {self.target} on {self.device} (seed {self.seed}, torch {self.torch_version}): "
            f"input {self.input}; {task}; {self.loss}; {self.seconds:.2f} s"
        )

    def outcome_lines(self) -> List[str]:
        """The initial loss and the overfit test in words."""
        lines = []
        if self.initial_loss is not None:
            chance = f" (chance {self.expected_why})" if self.expected_loss is not None else ""
            lines.append(f"initial loss {number(self.initial_loss)}{chance}")
        if self.overfit.get("status") and self.overfit["status"] != "skipped":
            lines.append(
                f"overfit {self.overfit.get('samples')} samples{_adam(self.overfit)}: {self.overfit['status']} "
                f"after {self.overfit.get('steps')} steps "
                f"(loss {number(self.overfit.get('initial_loss'))} -> {number(self.overfit.get('final_loss'))}, {self.overfit.get('seconds', 0):.2f} s)"
            )
        return lines

    def __str__(self) -> str:
        cwd = Path.cwd()
        lines = [self.headline(), *self.outcome_lines()]
        table = self.table()
        if len(table) > 1:
            widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
            for row in table:
                lines.append(
                    "  "
                    + "  ".join(
                        cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))
                    ).rstrip()
                )
        if self.findings:
            lines.append(f"{len(self.findings)} finding{'s' if len(self.findings) != 1 else ''}:")
            for f in self.findings:
                path = display_path(Path(f.location.path), cwd)
                lines.append(
                    f"  {path}:{f.location.line}:{f.location.column}: {f.code} [{f.name}] {f.severity.value}: {' '.join(f.message.split())}"
                )
        else:
            lines.append("no findings")
        if self.checks:
            lines.append("checks: " + " · ".join(f"{code} {status}" for code, status in sorted(self.checks.items())))
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def _adam(overfit: Dict[str, Any]) -> str:
    """` (Adam lr 0.001; also tried 0.01, 0.0001)`: the learning rates of the overfit test."""
    if not overfit.get("lr"):
        return ""
    others = [f"{lr:g}" for lr, *_ in overfit.get("tried", []) if lr != overfit["lr"]]
    return f" (Adam lr {overfit['lr']:g}" + (f"; also tried {', '.join(others)})" if others else ")")
