"""The probe in isolated workers: ProbeResult, the probe's WorkerKind and `run_targets`. No torch here.

The worker side (`_warm_up`, `_run`) runs inside `python -m nnlint.isolation.worker nnlint.probe.isolated:PROBE`
and calls job.py, which imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from nnlint.isolation.kind import WorkerKind
from nnlint.isolation.protocol import Job
from nnlint.isolation.supervise import Limits, run_isolated
from nnlint.probe.report import ProbeReport
from nnlint.probe.targets import ProbeTarget
from nnlint.types import Finding, Pass


@dataclass(frozen=True)
class ProbeResult:
    """What probing one target gave: its findings (absolute paths) and its report (None when the run aborted)."""

    findings: Tuple[Finding, ...] = ()
    report: Optional[ProbeReport] = None

    @classmethod
    def aborted(cls, finding: Finding) -> "ProbeResult":
        """The result of a target whose probe never finished: only the finding that says why."""
        return cls((finding,))

    def to_dict(self) -> Dict[str, Any]:
        """Plain data (findings in the public JSON shape) for the worker's events."""
        return {
            "findings": [finding.to_dict() for finding in self.findings],
            "report": self.report.to_dict() if self.report is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "ProbeResult":
        """Inverse of to_dict."""
        report = data.get("report")
        return cls(
            tuple(Finding.from_dict(item) for item in data.get("findings", [])),
            ProbeReport.from_dict(report) if report else None,
        )


def _warm_up() -> None:
    from nnlint.probe.job import warm_up

    warm_up()  # torch's import and first kernels cost seconds: not any target's time


def _run(job: Job, target: Dict[str, Any]) -> ProbeResult:
    from nnlint.probe.job import probe_target

    report = probe_target(ProbeTarget.from_json(target), Path(job.root), job.codes, job.options)
    return ProbeResult(report.findings, report)


PROBE: WorkerKind[ProbeResult] = WorkerKind(
    name="probe",
    reference=f"{__name__}:PROBE",
    warm_up=_warm_up,
    run=_run,
    from_dict=ProbeResult.from_dict,
    aborted=ProbeResult.aborted,
    pass_=Pass.PROBE,
    advice="or give it more time (`--timeout`), a smaller batch (`--input-shape`) or fewer `--steps`",
    # Spinning OpenMP threads burn ~10x the CPU time when the machine is busy (CI runners, parallel jobs).
    env={"OMP_WAIT_POLICY": "PASSIVE"},
)


def run_targets(
    targets: Sequence[ProbeTarget], root: Path, codes: Sequence[str], limits: Limits, options: Dict[str, Any]
) -> List[ProbeResult]:
    """Probe every target in isolated workers (options: device, steps, seed); the results line up with `targets`."""
    return run_isolated(PROBE, targets, root, codes, limits, options)
