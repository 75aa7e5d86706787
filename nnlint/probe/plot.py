"""`--plot FILE.png`: a gradient-flow figure (per-layer mean and max |grad|); matplotlib is optional and imported here only."""

from __future__ import annotations

from pathlib import Path

from nnlint.probe.report import ProbeReport


class PlotUnavailable(Exception):
    """matplotlib is not installed."""


def write(report: ProbeReport, path: Path) -> None:
    """Draw the step-0 gradient magnitudes of each layer, input side first, on a log scale."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable("`--plot` needs matplotlib: pip install matplotlib") from None
    rows = [row for row in report.layers if row.get("grad_mean") is not None]
    positions = list(range(len(rows)))
    figure, axes = plt.subplots(figsize=(max(6.0, 0.3 * len(rows) + 2), 4.5))
    axes.bar(positions, [max(row["grad_max"], 1e-30) for row in rows], color="#9ecae1", label="max |grad|")
    axes.bar(positions, [max(row["grad_mean"], 1e-30) for row in rows], color="#08519c", label="mean |grad|")
    axes.set_yscale("log")
    axes.set_xticks(positions)
    axes.set_xticklabels([row["name"] for row in rows], rotation=90, fontsize=7)
    axes.set_ylabel("|gradient| at step 0")
    axes.set_title(f"Gradient flow: {report.target}")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
