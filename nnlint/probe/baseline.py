"""Baselines: a probe's per-layer statistics, outcomes and environment saved as JSON, and drift from them. No torch here."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Type, Union

from nnlint.probe.report import ProbeReport
from nnlint.types import Finding, Fix, Location, Pass, Severity

if TYPE_CHECKING:
    from nnlint.rule import At, OptionValues, Rule

FORMAT = "nnlint-probe-baseline"


class BaselineError(Exception):
    """A baseline file that cannot be read; the message names the file and the problem."""


def save(reports: Sequence[ProbeReport], path: Path) -> None:
    """Write the reports into `path` by target name, keeping other targets already in the file."""
    existing: Dict[str, Any] = {}
    if path.is_file():
        try:
            existing = load(path)
        except BaselineError:
            existing = {}
    for report in reports:
        entry = report.to_dict()
        entry["env"] = {
            "torch": report.torch_version,
            "device": report.device,
            "seed": report.seed,
            "git": git_commit(path.resolve().parent),
        }
        existing[report.target] = entry
    text = json.dumps(
        {"format": FORMAT, "version": 1, "targets": existing}, indent=2, sort_keys=True, ensure_ascii=False
    )
    path.write_text(text + "\n", encoding="utf-8")


def load(path: Path) -> Dict[str, Any]:
    """The saved reports of a baseline file, by target name."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BaselineError(f"{path}: cannot read the baseline: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("targets"), dict):
        raise BaselineError(
            f"{path}: not an nnlint probe baseline (write one with `nnlint probe --save-baseline FILE`)"
        )
    return data["targets"]


def drift(current: Dict[str, Any], saved: Dict[str, Any], options: Optional[OptionValues] = None) -> List[Finding]:
    """NN502 findings: how the current report drifted from its saved baseline."""
    from nnlint.rules.nn502_baseline_drift import BaselineDrift

    context = DriftContext(current, saved, options)
    BaselineDrift(context).check_baseline(context)
    return context.findings


class DriftContext:
    """What a baseline rule compares (two reports as plain data), its options, and where its findings go."""

    def __init__(self, current: Dict[str, Any], saved: Dict[str, Any], options: Optional[OptionValues] = None) -> None:
        self.current, self.saved = current, saved
        self.fallback = Location(current.get("path") or "<unknown>", current.get("line") or 1, 1)
        self.options: OptionValues = options or {}
        self.findings: List[Finding] = []

    def option(self, rule: Union[Rule, Type[Rule]], name: str) -> Any:
        """Option `name` of `rule`: the user's value or the rule's declared default."""
        return rule.option_value(name, self.options)

    def report(
        self,
        rule: Union[Rule, Type[Rule]],
        at: At,
        message: str,
        *,
        fix: Optional[Fix] = None,
        severity: Optional[Severity] = None,
    ) -> None:
        """Record a probe finding of `rule`."""
        if not isinstance(at, Location):
            raise TypeError(f"a drift finding points at a Location, not {type(at).__name__}")
        self.findings.append(rule.finding(at, message, Pass.PROBE, fix, severity))


def git_commit(folder: Path) -> Optional[str]:
    """The commit checked out in the repository holding `folder`, or None."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None
