"""`--plot FILE.png`: a gradient-flow figure (per-layer mean and max |grad|); matplotlib is optional and imported here only."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

from nnlint.probe.report import ProbeReport


class PlotUnavailable(Exception):
    """matplotlib is not installed."""


def pyplot() -> Any:
    """matplotlib.pyplot with a file-only backend, or PlotUnavailable."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable("plotting needs matplotlib: pip install matplotlib") from None
    return plt


def draw_gradient_flow(axes: Any, rows: List[Dict[str, Any]], title: str) -> None:
    """Bars of max and mean |grad| per layer (rows of name, grad_mean, grad_max), input side first, log scale."""
    positions = list(range(len(rows)))
    axes.bar(positions, [max(row["grad_max"], 1e-30) for row in rows], color="#9ecae1", label="max |grad|")
    axes.bar(positions, [max(row["grad_mean"], 1e-30) for row in rows], color="#08519c", label="mean |grad|")
    axes.set_yscale("log")
    axes.set_xticks(positions)
    axes.set_xticklabels([row["name"] for row in rows], rotation=90, fontsize=7)
    axes.set_ylabel("|gradient|")
    axes.set_title(title)
    axes.legend()


def write(report: ProbeReport, path: Path) -> None:
    """Draw the step-0 gradient magnitudes of each layer, input side first, on a log scale."""
    plt = pyplot()
    rows = [row for row in report.layers if row.get("grad_mean") is not None]
    figure, axes = plt.subplots(figsize=(max(6.0, 0.3 * len(rows) + 2), 4.5))
    draw_gradient_flow(axes, rows, f"Gradient flow: {report.target}")
    axes.set_ylabel("|gradient| at step 0")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
