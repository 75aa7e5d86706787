"""One run: passes -> selection -> suppression -> severity overrides -> dedupe -> sort."""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from nnlint import registry, suppress
from nnlint.config import Config
from nnlint.discover import discover, pairs
from nnlint.static.engine import check_files
from nnlint.static.reading import UnreadableSource, read_source
from nnlint.types import Finding, Pass


@dataclass(frozen=True)
class Selection:
    """Rule selectors from the command line; None or empty means "as configured"."""

    select: Optional[Tuple[str, ...]] = None
    ignore: Tuple[str, ...] = ()
    extend_select: Tuple[str, ...] = ()


@dataclass(frozen=True)
class RunResult:
    """What a run found, over how many files, and how to read a finding's source."""

    findings: Tuple[Finding, ...]
    files_checked: int
    read_text: Callable[[str], Optional[str]]


def selected_codes(config: Config, selection: Selection) -> FrozenSet[str]:
    """Codes to report: command-line select replaces the configured one; ignores and extensions add up."""
    return registry.select(
        selection.select or config.select,
        tuple(config.ignore) + tuple(selection.ignore),
        tuple(config.extend_select) + tuple(selection.extend_select),
    )


def run(paths: Sequence[Path], config: Config, cwd: Path, selection: Selection = Selection()) -> RunResult:
    """Check `paths` under `config`; raises MissingPath or UnknownRule for usage errors."""
    codes = selected_codes(config, selection)
    root = config.root or cwd
    files = pairs(discover(paths, tuple(config.exclude) + tuple(config.extend_exclude), root), cwd)
    by_display: Dict[str, Path] = {display: path for path, display in files}
    read_text = _text_reader(by_display)

    rules = [rule for rule in registry.rules_for(codes) if Pass.STATIC in rule.passes]
    findings: List[Finding] = check_files(files, rules)

    findings = [f for f in findings if f.code in codes]
    findings = _per_file_ignores(findings, config, by_display, root)
    findings = suppress.apply(findings, read_text)
    findings = [_with_severity(f, config) for f in findings]
    return RunResult(tuple(sorted(_dedupe(findings), key=Finding.sort_key)), len(files), read_text)


def _text_reader(by_display: Dict[str, Path]) -> Callable[[str], Optional[str]]:
    cache: Dict[str, Optional[str]] = {}

    def read_text(display: str) -> Optional[str]:
        if display not in cache:
            path = by_display.get(display, Path(display))
            try:
                cache[display] = read_source(path)[1]
            except UnreadableSource:
                cache[display] = None
        return cache[display]

    return read_text


def _per_file_ignores(findings: Iterable[Finding], config: Config, by_display: Dict[str, Path], root: Path) -> List[Finding]:
    if not config.per_file_ignores:
        return list(findings)
    ignored_by_pattern = {pattern: registry.expand(codes) for pattern, codes in config.per_file_ignores.items()}
    kept = []
    for finding in findings:
        path = by_display.get(finding.location.path, Path(finding.location.path))
        try:
            relative = path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            relative = path.as_posix()
        if not any(
            finding.code in codes and (fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern))
            for pattern, codes in ignored_by_pattern.items()
        ):
            kept.append(finding)
    return kept


def _with_severity(finding: Finding, config: Config) -> Finding:
    override = config.severity.get(finding.code)
    return replace(finding, severity=override) if override is not None and override != finding.severity else finding


def _dedupe(findings: Iterable[Finding]) -> List[Finding]:
    """One finding per rule and place, whichever pass saw it first (static before graph before probe)."""
    seen = set()
    kept = []
    for finding in findings:
        key = (finding.code, finding.location.path, finding.location.line, finding.location.column)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept
