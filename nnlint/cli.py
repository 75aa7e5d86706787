"""Command line: `nnlint [check] PATHS`, `nnlint rule CODE`, `nnlint rules`."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence, TextIO

from nnlint import __version__
from nnlint.types import Severity

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SUBCOMMANDS = ("check", "rule", "rules")


class UsageError(Exception):
    """A problem with how nnlint was called or configured (exit code 2)."""


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
    parser.add_argument("--format", choices=("rich", "text", "json", "sarif", "github"), help="output format (default: rich on a terminal, text otherwise)")
    parser.add_argument("--output", "-o", type=Path, help="write the report to this file instead of stdout")
    parser.add_argument("--select", action="append", metavar="RULES", help="rules to run, by code, prefix (NN2) or name; replaces the configured selection")
    parser.add_argument("--ignore", action="append", metavar="RULES", help="rules to skip, by code, prefix or name")
    parser.add_argument("--extend-select", action="append", metavar="RULES", help="rules to run in addition to the selection")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("--statistics", action="store_true", help="print the number of findings per rule instead of the findings")
    parser.add_argument("--config", type=Path, help="read [tool.nnlint] from this pyproject.toml")
    parser.add_argument("--fix", action="store_true", help="apply safe fixes to the files (never to files that do not parse)")
    parser.add_argument("--unsafe-fixes", action="store_true", help="with --fix or --diff, also apply fixes that may change behaviour")
    parser.add_argument("--diff", action="store_true", help="print the fixes as a unified diff instead of writing them")
    parser.add_argument("--no-graph", action="store_true", help="run only the static pass (never imports your code or torch)")
    parser.add_argument("--version", action="version", version=f"nnlint {__version__}")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the `nnlint` command; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] == "rule":
            return _cmd_rule(args[1:], sys.stdout)
        if args and args[0] == "rules":
            return _cmd_rules(sys.stdout)
        if args and args[0] == "check":
            args = args[1:]
        return _cmd_check(args)
    except UsageError as error:
        print(f"nnlint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("nnlint: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:  # never a traceback for the user; NNLINT_DEBUG=1 shows it
        if os.environ.get("NNLINT_DEBUG"):
            raise
        print(f"nnlint: internal error: {type(error).__name__}: {error} (this is a bug in nnlint; rerun with NNLINT_DEBUG=1 and report it)", file=sys.stderr)
        return EXIT_ERROR


def _cmd_check(argv: List[str]) -> int:
    from nnlint import registry
    from nnlint.config import ConfigError, load_config
    from nnlint.discover import MissingPath
    from nnlint.reporters import get_reporter
    from nnlint.reporters.base import ReportContext
    from nnlint.runner import FixMode, Selection, run

    options = _check_parser().parse_args(argv)
    paths = options.paths or [Path(".")]
    cwd = Path.cwd()
    try:
        config = load_config(paths, options.config)
        selection = Selection(_split(options.select) or None, _split(options.ignore), _split(options.extend_select))
        fix_mode = FixMode(write=options.fix and not options.diff, diff=options.diff, unsafe=options.unsafe_fixes)
        result = run(paths, config, cwd, selection, fix_mode)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    except registry.UnknownRule as error:
        raise UsageError(str(error)) from None
    except MissingPath as error:
        raise UsageError(f"path does not exist: {error}") from None

    for note in result.notes:
        print(f"nnlint: warning: {note}", file=sys.stderr)
    if options.diff:
        sys.stdout.write("".join(result.diffs))
        return EXIT_FINDINGS if result.diffs and not options.exit_zero else EXIT_CLEAN
    if result.fixed:
        count = sum(result.fixed.values())
        print(f"nnlint: fixed {count} finding{'s' if count != 1 else ''} in {len(result.fixed)} file{'s' if len(result.fixed) != 1 else ''}", file=sys.stderr)
    to_terminal = options.output is None and sys.stdout.isatty()
    name = options.format or ("rich" if to_terminal else "text")
    reporter = get_reporter(name)
    color = to_terminal and not os.environ.get("NO_COLOR")
    ctx = ReportContext(result.files_checked, result.read_text, color, options.statistics, dict(result.fixed))
    if options.output is not None:
        try:
            with open(options.output, "w", encoding="utf-8", newline="\n") as out:
                reporter.render(result.findings, out, ctx)
        except OSError as error:
            raise UsageError(f"cannot write {options.output}: {error.strerror or error}") from None
    else:
        reporter.render(result.findings, sys.stdout, ctx)
        sys.stdout.flush()
    failing = any(f.severity.rank >= Severity.WARNING.rank for f in result.findings)
    return EXIT_FINDINGS if failing and not options.exit_zero else EXIT_CLEAN


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
        rows.append((rule.code, rule.name, ",".join(p.value for p in rule.passes) or "-", rule.severity.value, rule.fix_availability))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
    return EXIT_CLEAN
