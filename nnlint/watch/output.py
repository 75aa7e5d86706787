"""Where a watch's findings and figures go: the log (each finding once), reporters, TensorBoard, an end-of-run plot."""

from __future__ import annotations

import io
import logging
import math
from pathlib import Path
from typing import Any, List, Optional, Sequence, Union

from nnlint.reporters import get_reporter
from nnlint.reporters.base import ReportContext
from nnlint.types import Finding, Severity

LOGGER = logging.getLogger("nnlint.watch")
_LEVELS = {Severity.ERROR: logging.ERROR, Severity.WARNING: logging.WARNING, Severity.INFO: logging.INFO}


def log(finding: Finding) -> None:
    """One line per finding on the `nnlint.watch` logger (a handler is added when the application set none)."""
    if not logging.getLogger().handlers and not LOGGER.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        LOGGER.addHandler(handler)
    LOGGER.log(
        _LEVELS.get(finding.severity, logging.WARNING),
        "%s %s %s",
        finding.location.place(),
        finding.code,
        finding.message,
    )


def render(findings: Sequence[Finding], fmt: str = "text") -> str:
    """The findings in one of nnlint's formats: text, rich, json, sarif or github."""
    out = io.StringIO()
    ordered = sorted(findings, key=lambda f: (f.location.sort_key(), f.code))
    get_reporter(fmt).render(ordered, out, ReportContext(read_text=_read_text))
    return out.getvalue()


def _read_text(path: str) -> Optional[str]:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


class TensorBoard:
    """The measured figures as scalars under `nnlint/` (loss, per-layer gradient, update ratio, dead units)."""

    def __init__(self, target: Union[str, Path, Any]) -> None:
        if isinstance(target, (str, Path)):
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise ImportError("`tensorboard=` needs the tensorboard package: pip install tensorboard") from None
            self.writer, self.owned = SummaryWriter(str(target)), True
        else:
            self.writer, self.owned = target, False  # a SummaryWriter (or anything with add_scalar) of the caller's

    def write(self, figures: Any) -> None:
        """Scalars of one sampled step (a `checks.StepFigures`)."""
        step = figures.step
        if figures.loss is not None:
            self.writer.add_scalar("nnlint/loss", figures.loss, step)
        for param in figures.params:
            if param.had_grad and param.is_weight:
                self.writer.add_scalar(f"nnlint/grad_mean_abs/{param.name}", param.grad_mean_abs, step)
        for name, ratio in figures.update_ratios.items():
            self.writer.add_scalar(f"nnlint/update_ratio/{name}", ratio, step)
        for name, fraction in figures.dead_fractions.items():
            self.writer.add_scalar(f"nnlint/dead_fraction/{name}", fraction, step)

    def close(self) -> None:
        """Flush; close the writer when the watch made it."""
        if hasattr(self.writer, "flush"):
            self.writer.flush()
        if self.owned:
            self.writer.close()


def plot(history: List[Any], path: Union[str, Path], title: str) -> None:
    """Gradient flow at the last sampled step and update ratios per layer over the run, in one figure."""
    from nnlint.probe.plot import draw_gradient_flow, pyplot

    plt = pyplot()
    figure, (flow, ratios) = plt.subplots(1, 2, figsize=(13, 4.5))
    last = next((h for h in reversed(history) if any(p.had_grad for p in h.params)), None)
    if last is not None:
        rows = [
            {"name": p.name, "grad_mean": p.grad_mean_abs, "grad_max": _finite_or(p.grad_max_abs, p.grad_mean_abs)}
            for p in last.params
            if p.had_grad and p.is_weight
        ]
        draw_gradient_flow(flow, rows, f"Gradient flow at step {last.step}: {title}")
    names = sorted({name for h in history for name in h.update_ratios})
    for name in names:
        points = [(h.step, h.update_ratios[name]) for h in history if name in h.update_ratios]
        ratios.plot([s for s, _ in points], [max(r, 1e-30) for _, r in points], marker="o", label=name)
    ratios.axhline(1e-3, color="grey", linestyle="--", linewidth=0.8)
    ratios.set_yscale("log")
    ratios.set_xlabel("step")
    ratios.set_ylabel("||Δθ|| / ||θ||")
    ratios.set_title("Update ratios (healthy ≈ 1e-3)")
    if 0 < len(names) <= 12:
        ratios.legend(fontsize=6)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _finite_or(value: float, other: float) -> float:
    """`value`, or `other` where it was not measured (max |g| is taken only for parameters a step left unchanged)."""
    return value if math.isfinite(value) else other
