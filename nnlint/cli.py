"""Command line: `nnlint [check] PATHS`, `nnlint rule CODE`, `nnlint rules`, `nnlint server`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence, TextIO

from nnlint import __version__
from nnlint.command import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, UsageError
from nnlint.graph.result import GraphResult
from nnlint.types import Severity

SUBCOMMANDS = ("check", "rule", "rules", "graph", "probe", "server")


def _split(values: Optional[List[str]]) -> tuple:
    """`--select NN2,NN401 --select dropout-before-batchnorm` -> a flat tuple."""
    return tuple(part.strip() for value in values or () for part in value.split(",") if part.strip())


def _check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnlint",
        description="Find the bugs that make a PyTorch model train badly without crashing.",
        epilog="Other commands: `nnlint rule CODE|NAME` prints a rule's page; `nnlint rules` lists the rules.",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="files and folders to check (default: .)")
    parser.add_argument(
        "--format",
        choices=("rich", "text", "json", "sarif", "github"),
        help="output format (default: rich on a terminal, text otherwise)",
    )
    parser.add_argument("--output", "-o", type=Path, help="write the report to this file instead of stdout")
    parser.add_argument(
        "--select",
        action="append",
        metavar="RULES",
        help="rules to run, by code, prefix (NN2) or name; replaces the configured selection",
    )
    parser.add_argument("--ignore", action="append", metavar="RULES", help="rules to skip, by code, prefix or name")
    parser.add_argument(
        "--extend-select", action="append", metavar="RULES", help="rules to run in addition to the selection"
    )
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument(
        "--statistics", action="store_true", help="print the number of findings per rule instead of the findings"
    )
    parser.add_argument("--config", type=Path, help="read [tool.nnlint] from this pyproject.toml")
    parser.add_argument(
        "--fix", action="store_true", help="apply safe fixes to the files (never to files that do not parse)"
    )
    parser.add_argument(
        "--unsafe-fixes", action="store_true", help="with --fix or --diff, also apply fixes that may change behaviour"
    )
    parser.add_argument("--diff", action="store_true", help="print the fixes as a unified diff instead of writing them")
    parser.add_argument(
        "--no-graph", action="store_true", help="run only the static pass (never imports your code or torch)"
    )
    _add_adoption_options(parser)
    parser.add_argument(
        "--no-cache", action="store_true", help="do not read or write the result cache (.nnlint_cache/)"
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=0,
        metavar="N",
        help="worker processes for the static pass (default: one per core)",
    )
    _add_model_options(parser)
    parser.add_argument(
        "--graph-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="time limit per model in the graph pass (default 60)",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="say how each model was analysed (fx trace or hooks) and how long it took",
    )
    parser.add_argument("--version", action="version", version=f"nnlint {__version__}")
    return parser


def _add_adoption_options(parser: argparse.ArgumentParser) -> None:
    """Options for bringing nnlint into a codebase that already has findings (README: Adopting nnlint)."""
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="report only findings not recorded in this baseline file (default: `baseline` in [tool.nnlint])",
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="ignore the configured baseline and report every finding"
    )
    parser.add_argument(
        "--write-baseline", type=Path, metavar="FILE", help="record the current findings in FILE as known, exit 0"
    )
    parser.add_argument(
        "--add-noqa", action="store_true", help="add `# noqa: NNxxx` to every line with a finding, exit 0"
    )
    parser.add_argument(
        "--diff-base",
        metavar="REF",
        help="report only findings on lines changed since the git ref REF (e.g. origin/main)",
    )


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        metavar="TARGET",
        help="check this model in the graph pass: `path/to/file.py:Class` or `pkg.module:factory`",
    )
    parser.add_argument(
        "--input-shape",
        metavar="DIMS",
        help="the model's input shape, e.g. 8,3,32,32 (default: inferred from the first layer)",
    )
    parser.add_argument("--kwargs", metavar="JSON", help="constructor arguments as a JSON object")


def _model_target(options: argparse.Namespace):
    """A GraphTarget from --model/--input-shape/--kwargs, or None."""
    import json

    from nnlint.config import ConfigError, ModelSpec, parse_table
    from nnlint.graph.targets import GraphTarget

    if options.model is None:
        if options.input_shape or options.kwargs:
            raise UsageError("--input-shape and --kwargs need --model")
        return None
    entry = {"target": options.model}
    try:
        if options.input_shape:
            entry["input_shape"] = [int(part) for part in options.input_shape.split(",") if part.strip()]
        if options.kwargs:
            entry["kwargs"] = json.loads(options.kwargs)
        spec: ModelSpec = parse_table({"models": [entry]}, Path("--model")).models[0]
    except (ValueError, ConfigError) as error:
        raise UsageError(f"bad --model options: {error}") from None
    return GraphTarget.from_spec(spec)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the `nnlint` command; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] == "rule":
            return _cmd_rule(args[1:], sys.stdout)
        if args and args[0] == "rules":
            return _cmd_rules(sys.stdout)
        if args and args[0] == "graph":
            return _cmd_graph(args[1:], sys.stdout)
        if args and args[0] == "probe":
            from nnlint.probe.cli import main as probe_main

            return probe_main(args[1:], sys.stdout)
        if args and args[0] == "server":
            return _cmd_server(args[1:])
        if args and args[0] == "check":
            args = args[1:]
        return _cmd_check(args)
    except UsageError as error:
        print(f"nnlint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("nnlint: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # `nnlint ... | head`: the reader left; say nothing more (as grep and ruff do).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FINDINGS
    except Exception as error:  # never a traceback for the user; NNLINT_DEBUG=1 shows it
        if os.environ.get("NNLINT_DEBUG"):
            raise
        print(
            f"nnlint: internal error: {type(error).__name__}: {error} (this is a bug in nnlint; rerun with NNLINT_DEBUG=1 and report it)",
            file=sys.stderr,
        )
        return EXIT_ERROR


def _cmd_check(argv: List[str]) -> int:
    from nnlint import registry
    from nnlint.config import ConfigError, load_config
    from nnlint.discover import MissingPath
    from nnlint.isolation.supervise import Limits
    from nnlint.reporters import get_reporter
    from nnlint.reporters.base import ReportContext
    from nnlint.runner import FixMode, GraphOptions, Performance, Selection, run

    options = _check_parser().parse_args(argv)
    paths = options.paths or [Path(".")]
    cwd = Path.cwd()
    try:
        config = load_config(paths, options.config)
        selection = Selection(_split(options.select) or None, _split(options.ignore), _split(options.extend_select))
        fix_mode = FixMode(write=options.fix and not options.diff, diff=options.diff, unsafe=options.unsafe_fixes)
        target = _model_target(options)
        graph = GraphOptions(
            not options.no_graph, (target,) if target else (), Limits.for_machine(options.graph_timeout)
        )
        cache_dir = None if options.no_cache else Path(config.cache_dir or (config.root or cwd) / ".nnlint_cache")
        if cache_dir is not None and not cache_dir.is_absolute():
            cache_dir = (config.root or cwd) / cache_dir
        result = run(paths, config, cwd, selection, fix_mode, graph, Performance(max(options.jobs, 0), cache_dir))
    except ConfigError as error:
        raise UsageError(str(error)) from None
    except registry.UnknownRule as error:
        raise UsageError(str(error)) from None
    except MissingPath as error:
        raise UsageError(f"path does not exist: {error}") from None

    for note in result.notes:
        print(f"nnlint: warning: {note}", file=sys.stderr)
    if options.verbose:
        _print_graph_report(result, sys.stderr)
    if options.diff:
        sys.stdout.write("".join(result.diffs))
        return EXIT_FINDINGS if result.diffs and not options.exit_zero else EXIT_CLEAN
    if options.add_noqa:
        return _add_noqa(result, cwd)
    if options.write_baseline is not None:
        return _write_baseline(options.write_baseline, result, cwd)
    findings = _adopted(options, config, paths, result, cwd)
    if result.fixed:
        count = sum(result.fixed.values())
        print(
            f"nnlint: fixed {count} finding{'s' if count != 1 else ''} in {len(result.fixed)} file{'s' if len(result.fixed) != 1 else ''}",
            file=sys.stderr,
        )
    to_terminal = options.output is None and sys.stdout.isatty()
    name = options.format or ("rich" if to_terminal else "text")
    reporter = get_reporter(name)
    color = to_terminal and not os.environ.get("NO_COLOR")
    ctx = ReportContext(result.files_checked, result.read_text, color, options.statistics, dict(result.fixed))
    if options.output is not None:
        try:
            with open(options.output, "w", encoding="utf-8", newline="\n") as out:
                reporter.render(findings, out, ctx)
        except OSError as error:
            raise UsageError(f"cannot write {options.output}: {error.strerror or error}") from None
    else:
        reporter.render(findings, sys.stdout, ctx)
        sys.stdout.flush()
    failing = any(f.severity.rank >= Severity.WARNING.rank for f in findings)
    return EXIT_FINDINGS if failing and not options.exit_zero else EXIT_CLEAN


def _adopted(options: argparse.Namespace, config, paths: List[Path], result, cwd: Path) -> list:
    """The findings to report: those the baseline does not know, on lines changed since --diff-base."""
    from nnlint.baseline import BaselineError, load, split
    from nnlint.changed_lines import GitError, changed_lines

    findings = list(result.findings)
    baseline_path = None if options.no_baseline else options.baseline
    if baseline_path is None and config.baseline and not options.no_baseline:
        baseline_path = (config.root or cwd) / config.baseline
    if baseline_path is not None:
        try:
            known = split(findings, result.read_text, load(baseline_path), cwd, result.by_display)
        except BaselineError as error:
            raise UsageError(str(error)) from None
        findings = list(known.new)
        if options.statistics:
            print(
                f"nnlint: {known.still_known} known finding{'s' if known.still_known != 1 else ''} "
                f"of the baseline {baseline_path} remain"
                + (
                    f"; {known.fixed} {'are' if known.fixed != 1 else 'is'} fixed "
                    f"(`--write-baseline {baseline_path}` drops {'them' if known.fixed != 1 else 'it'})"
                    if known.fixed
                    else ""
                ),
                file=sys.stderr,
            )
    if options.diff_base is not None:
        try:
            changed = changed_lines(options.diff_base, paths, cwd)
        except GitError as error:
            raise UsageError(str(error)) from None
        findings = changed.keep(findings, cwd, result.read_text)
    return findings


def _write_baseline(path: Path, result, cwd: Path) -> int:
    from nnlint.baseline import BaselineError, write

    try:
        count = write(path, result.findings, result.read_text, cwd)
    except BaselineError as error:
        raise UsageError(str(error)) from None
    print(f"nnlint: recorded {count} finding{'s' if count != 1 else ''} in the baseline {path}", file=sys.stderr)
    return EXIT_CLEAN


def _add_noqa(result, cwd: Path) -> int:
    from nnlint.add_noqa import add_noqa

    outcome = add_noqa(result.findings, result.by_display, result.read_text)
    for note in outcome.notes:
        print(f"nnlint: warning: {note}", file=sys.stderr)
    count, files = sum(outcome.added.values()), len(outcome.added)
    print(
        f"nnlint: added {count} noqa comment{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}",
        file=sys.stderr,
    )
    return EXIT_CLEAN


def _print_graph_report(result, out: TextIO) -> None:
    """`-v`: every model the graph pass checked (how, on which input, how long, or why it was not analysed)
    and every module class discovery left out, with the config that would include it."""
    for graph_target, outcome in result.graph:
        how = {
            "fx": "torch.fx trace",
            "hooks": "hooks on an eager meta forward (fx could not trace it, or disagreed with eager)",
        }.get(outcome.method, "")
        if how and outcome.input_description:
            what = f"analysed with {how}; input {outcome.input_description}"
        else:
            reasons = [f.code for f in outcome.findings if f.code.startswith("NN0") or f.code == "NN301"]
            what = f"not analysed ({', '.join(reasons) or 'no result'}: see the finding)"
        origin = "discovered" if graph_target.discovered else "configured"
        print(f"nnlint: graph: {graph_target.target} ({origin}): {what}; {outcome.seconds:.2f} s", file=out)
    for skipped in result.graph_skipped:
        print(f"nnlint: graph: {skipped.target} (line {skipped.line}): skipped: {skipped.reason}", file=out)


def _cmd_graph(argv: List[str], out: TextIO) -> int:
    """`nnlint graph TARGET`: a torchinfo-like table computed on the meta device, and the graph findings."""
    from nnlint.config import load_config
    from nnlint.graph.isolated import run_targets
    from nnlint.isolation.supervise import Limits
    from nnlint.registry import BY_CODE
    from nnlint.types import Pass

    parser = argparse.ArgumentParser(prog="nnlint graph", description="Summarize a model built on the meta device.")
    parser.add_argument("model", metavar="TARGET", help="`path/to/file.py:Class` or `pkg.module:factory`")
    parser.add_argument("--input-shape", metavar="DIMS")
    parser.add_argument("--kwargs", metavar="JSON")
    parser.add_argument("--graph-timeout", type=float, default=120.0, metavar="SECONDS")
    options = parser.parse_args(argv)
    target = _model_target(options)
    config = load_config([Path.cwd()])
    codes = [code for code, rule in BY_CODE.items() if Pass.GRAPH in rule.passes]
    limits = Limits.for_machine(options.graph_timeout, max_workers=1)
    outcome = run_targets([target], config.root or Path.cwd(), codes, limits, summary=True)[0]
    _print_summary(outcome, out)
    for finding in outcome.findings:
        out.write(
            f"{finding.location.path}:{finding.location.line}: {finding.code} [{finding.name}] {finding.message}\n"
        )
    failing = any(f.severity.rank >= Severity.WARNING.rank for f in outcome.findings)
    return EXIT_FINDINGS if failing else EXIT_CLEAN


def _print_summary(outcome: GraphResult, out: TextIO) -> None:
    rows = [("module", "type", "output shape", "parameters", "trainable")]
    for entry in outcome.summary:
        shape = entry["output_shape"]
        dtype = f" {entry['dtype']}" if entry.get("dtype") else ""
        rows.append(
            (
                entry["module"],
                entry["type"],
                "-" if shape is None else _shape_text(shape) + dtype,
                f"{entry['parameters']:,}",
                f"{entry['trainable']:,}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        out.write(
            "  ".join(
                cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))
            ).rstrip()
            + "\n"
        )
    if outcome.method:
        out.write(
            f"analysed with {'torch.fx' if outcome.method == 'fx' else 'hooks'}; input {outcome.input_description}; {outcome.seconds:.2f} s\n"
        )


def _shape_text(shape) -> str:
    """[2, 16, 64] for a tensor; (…, …) for tuples of them, {key: …} for dicts, as torchinfo prints them."""
    if isinstance(shape, (list, tuple)) and all(isinstance(d, int) for d in shape):
        return str(list(shape))
    if isinstance(shape, (list, tuple)):
        return "(" + ", ".join("-" if s is None else _shape_text(s) for s in shape) + ")"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {'-' if v is None else _shape_text(v)}" for k, v in shape.items()) + "}"
    return str(shape)


def _cmd_server(argv: List[str]) -> int:
    """`nnlint server`: the language server on stdin/stdout; needs the `lsp` extra (pygls)."""
    import importlib.util

    parser = argparse.ArgumentParser(
        prog="nnlint server",
        description="Serve nnlint's diagnostics and fixes to an editor over the Language Server Protocol (stdio).",
    )
    parser.parse_args(argv)
    if importlib.util.find_spec("pygls") is None:
        raise UsageError("the language server needs pygls: pip install 'nnlint[lsp]'")
    try:
        from nnlint.lsp.server import serve
    except ImportError as error:  # pygls there but broken or too old
        raise UsageError(f"the language server cannot start ({error}): pip install 'nnlint[lsp]'") from None
    return serve()


def _cmd_rule(argv: List[str], out: TextIO) -> int:
    from nnlint import registry
    from nnlint.pages import page_text

    if len(argv) != 1:
        raise UsageError("usage: nnlint rule CODE|NAME")
    rule = registry.lookup(argv[0])
    if rule is None:
        raise UsageError(f"no rule {argv[0]!r} (see `nnlint rules`)")
    text = page_text(rule.code)
    if text is None:
        raise UsageError(f"the page of {rule.code} is missing from this installation")
    out.write(text if text.endswith("\n") else text + "\n")
    return EXIT_CLEAN


def _cmd_rules(out: TextIO) -> int:
    from nnlint.rules import ALL_RULES

    rows = [("code", "name", "passes", "severity", "fix")]
    for rule in ALL_RULES:
        rows.append(
            (
                rule.code,
                rule.name,
                ",".join(p.value for p in rule.passes) or "-",
                rule.severity.value,
                rule.fix_availability,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
    return EXIT_CLEAN
