"""`nnlint probe [TARGET]`: probe a model (or every configured one) in isolated workers and report. No torch here."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence, TextIO

from nnlint.command import EXIT_CLEAN, EXIT_FINDINGS, UsageError
from nnlint.discover import display_path
from nnlint.probe.isolated import run_targets
from nnlint.probe.report import ProbeReport
from nnlint.probe.targets import ProbeTarget
from nnlint.types import Finding, Pass, Severity

DEFAULT_TIMEOUT = 120.0


def parser() -> argparse.ArgumentParser:
    """The `nnlint probe` options."""
    parser = argparse.ArgumentParser(
        prog="nnlint probe",
        description="Run a few real training steps on a model and check that it can learn: gradients, activations, "
        "initial loss, overfitting a few samples. Without TARGET, every [[tool.nnlint.models]] entry is probed.",
    )
    parser.add_argument("model", nargs="?", metavar="TARGET", help="`path/to/file.py:Class` or `pkg.module:factory`")
    parser.add_argument(
        "--input-shape",
        metavar="DIMS",
        help="input shape with the batch first, e.g. 16,3,64,64 (default: inferred, batch 16)",
    )
    parser.add_argument("--kwargs", metavar="JSON", help="constructor arguments as a JSON object")
    parser.add_argument(
        "--task",
        choices=("multiclass", "binary", "multilabel", "regression"),
        help="what the model predicts (sets the loss and the checks of the initial loss and of overfitting)",
    )
    parser.add_argument("--num-classes", type=int, metavar="C", help="number of classes (implies --task multiclass)")
    parser.add_argument(
        "--loss", metavar="DOTTED", help="loss class built without arguments, e.g. torch.nn.CrossEntropyLoss"
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda or cuda:N")
    parser.add_argument("--steps", type=int, metavar="N", help="step limit of the overfit test (default 200)")
    parser.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the weights and synthetic data (default 0)"
    )
    parser.add_argument(
        "--format",
        choices=("rich", "text", "json", "sarif", "github"),
        help="output format (default: rich on a terminal, text otherwise)",
    )
    parser.add_argument(
        "--save-baseline",
        type=Path,
        metavar="FILE",
        help="write per-layer statistics, outcomes and environment to this JSON file",
    )
    parser.add_argument(
        "--baseline", type=Path, metavar="FILE", help="compare with a saved baseline; drift becomes NN502 findings"
    )
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="write a gradient-flow figure (needs matplotlib)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit per model (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument("--config", type=Path, help="read [tool.nnlint] from this pyproject.toml")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    return parser


def main(argv: Sequence[str], out: TextIO) -> int:
    """Run the command; returns the exit code. Usage problems raise nnlint.command.UsageError."""
    from nnlint import registry
    from nnlint.config import ConfigError, load_config
    from nnlint.isolation.supervise import Limits
    from nnlint.probe.baseline import BaselineError, drift, load, save
    from nnlint.runner import Pipeline, Selection, selected_codes

    options = parser().parse_args(list(argv))
    cwd = Path.cwd()
    try:
        config = load_config([cwd], options.config)
        targets = _targets(options, config)
        codes = sorted(
            code
            for code in selected_codes(config, Selection())
            if Pass.PROBE in registry.BY_CODE[code].passes or code.startswith("NN0")
        )
        saved = load(options.baseline) if options.baseline else {}
    except (ConfigError, BaselineError, ValueError) as error:
        raise UsageError(str(error)) from None
    root = config.root or cwd
    limits = Limits.for_machine(options.timeout, max_workers=1)
    if options.device != "cpu" and _cuda_possible():
        limits = replace(limits, memory=0)  # CUDA needs a large address space
    results = run_targets(
        targets,
        root,
        codes,
        limits,
        {"device": options.device, "steps": options.steps, "seed": options.seed, "rules": config.options},
    )
    pipeline = Pipeline(frozenset(codes), config, {}, root)
    reports: List[ProbeReport] = []
    for target, result in zip(targets, results):
        report = result.report or ProbeReport(target.target)
        findings = list(result.findings)
        entry = saved.get(target.target)
        if entry is not None:
            findings += drift(report.to_dict(), entry, config.options)
        reports.append(report.with_findings(pipeline([_for_display(f, cwd) for f in findings], _reader())))
    if options.save_baseline:
        save(reports, options.save_baseline)
    _render(reports, len({t.target.rpartition(":")[0] for t in targets}), options, out)
    if options.plot:
        _plot(reports, options.plot)
    failing = any(f.severity.rank >= Severity.WARNING.rank for r in reports for f in r.findings)
    return EXIT_FINDINGS if failing and not options.exit_zero else EXIT_CLEAN


def _targets(options: argparse.Namespace, config) -> List[ProbeTarget]:
    from nnlint.config import parse_table

    if options.model is None:
        if options.input_shape or options.kwargs:
            raise UsageError("--input-shape and --kwargs need a TARGET")
        if not config.models:
            raise UsageError(
                "no TARGET given and no [[tool.nnlint.models]] configured; e.g. `nnlint probe model.py:Net --input-shape 16,3,32,32`"
            )
        return [ProbeTarget.from_spec(spec) for spec in config.models]
    entry: Dict[str, object] = {"target": options.model}
    if options.input_shape:
        entry["input_shape"] = [int(part) for part in options.input_shape.split(",") if part.strip()]
    if options.kwargs:
        entry["kwargs"] = json.loads(options.kwargs)
    for key in ("task", "num_classes", "loss"):
        if getattr(options, key) is not None:
            entry[key] = getattr(options, key)
    return [ProbeTarget.from_spec(parse_table({"models": [entry]}, Path("command line")).models[0])]


def _cuda_possible() -> bool:
    """Whether an NVIDIA device may be present (then no address-space cap: CUDA reserves a lot of it)."""
    return any(os.path.exists(path) for path in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg"))


def _for_display(finding: Finding, cwd: Path) -> Finding:
    """Workers report absolute paths; show them relative to the working folder like the other passes."""
    if finding.location.path.startswith("<"):
        return finding
    return replace(finding, location=replace(finding.location, path=display_path(Path(finding.location.path), cwd)))


def _reader():
    from nnlint.static.reading import UnreadableSource, read_source

    cache: Dict[str, Optional[str]] = {}

    def read_text(display: str) -> Optional[str]:
        if display not in cache:
            try:
                cache[display] = read_source(Path(display))[1]
            except (UnreadableSource, OSError):
                cache[display] = None
        return cache[display]

    return read_text


def _render(reports: Sequence[ProbeReport], files: int, options: argparse.Namespace, out: TextIO) -> None:
    from nnlint.reporters import get_reporter
    from nnlint.reporters.base import ReportContext

    to_terminal = out is sys.stdout and sys.stdout.isatty()
    name = options.format or ("rich" if to_terminal else "text")
    color = to_terminal and not os.environ.get("NO_COLOR")
    if name in ("rich", "text"):
        for report in reports:
            _summary(report, out, rich=name == "rich", color=color)
    findings = sorted((f for r in reports for f in r.findings), key=Finding.sort_key)
    get_reporter(name).render(findings, out, ReportContext(files, _reader(), color))
    out.flush()


def _summary(report: ProbeReport, out: TextIO, rich: bool, color: bool) -> None:
    lines = [report.headline(), *report.outcome_lines()]
    table = report.table()
    if rich:
        from rich.table import Table

        from nnlint.reporters.rich import make_console

        console = make_console(out, color)
        for line in lines:
            console.print(line)
        if len(table) > 1:
            grid = Table(show_edge=False, pad_edge=False)
            for index, title in enumerate(table[0]):
                grid.add_column(title, justify="left" if index < 2 else "right")
            for row in table[1:]:
                grid.add_row(*row)
            console.print(grid)
        if report.checks:
            console.print("checks: " + " · ".join(f"{code} {status}" for code, status in sorted(report.checks.items())))
        return
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    if len(table) > 1:
        lines += [
            "  "
            + "  ".join(
                cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))
            ).rstrip()
            for row in table
        ]
    if report.checks:
        lines.append("checks: " + " · ".join(f"{code} {status}" for code, status in sorted(report.checks.items())))
    out.write("\n".join(lines) + "\n")


def _plot(reports: Sequence[ProbeReport], path: Path) -> None:
    from nnlint.probe.plot import PlotUnavailable, write

    for index, report in enumerate(reports):
        target = path if index == 0 else path.with_name(f"{path.stem}-{index + 1}{path.suffix}")
        try:
            write(report, target)
        except PlotUnavailable as error:
            print(f"nnlint: warning: {error}", file=sys.stderr)
            return
