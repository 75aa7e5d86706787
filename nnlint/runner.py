"""One run: passes -> selection -> suppression -> severity overrides -> dedupe -> sort (-> fixes)."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from nnlint import fix, notebook, registry, suppress
from nnlint.config import Config
from nnlint.discover import discover, display_path, pairs
from nnlint.graph.discovery import SkippedModel, discover_models, skipped_models
from nnlint.graph.isolated import run_targets
from nnlint.graph.result import GraphResult
from nnlint.graph.targets import GraphTarget
from nnlint.isolation.supervise import Limits
from nnlint.static import project_files
from nnlint.static.cache import Cache, salt_for
from nnlint.static.engine import check_files, check_sources
from nnlint.static.project import ProjectIndex
from nnlint.static.reading import UnreadableSource, read_source
from nnlint.types import Finding, Pass, Severity


@dataclass(frozen=True)
class Selection:
    """Rule selectors from the command line; None or empty means "as configured"."""

    select: Optional[Tuple[str, ...]] = None
    ignore: Tuple[str, ...] = ()
    extend_select: Tuple[str, ...] = ()


@dataclass(frozen=True)
class FixMode:
    """What to do with fixes: write them (`--fix`), show them (`--diff`), and whether unsafe ones count."""

    write: bool = False
    diff: bool = False
    unsafe: bool = False


@dataclass(frozen=True)
class GraphOptions:
    """The graph pass: off entirely (`--no-graph`), extra targets from the command line, limits, summary."""

    enabled: bool = True
    targets: Tuple[GraphTarget, ...] = ()
    limits: Limits = Limits()
    summary: bool = False


@dataclass(frozen=True)
class Performance:
    """How the static pass runs: worker processes (0 = one per core) and the result cache (None = off)."""

    workers: int = 0
    cache_dir: Optional[Path] = None


@dataclass(frozen=True)
class RunResult:
    """What a run found, over how many files, how to read a finding's source, and what fixing did."""

    findings: Tuple[Finding, ...]
    files_checked: int
    read_text: Callable[[str], Optional[str]]
    fixed: Dict[str, int] = field(default_factory=dict)
    diffs: Tuple[str, ...] = ()
    notes: Tuple[str, ...] = ()
    graph: Tuple[Tuple[GraphTarget, GraphResult], ...] = ()
    graph_skipped: Tuple[SkippedModel, ...] = ()  # module classes discovery left out, and why (for `-v`)
    by_display: Dict[str, Path] = field(default_factory=dict)  # each checked file by the path findings give it


def selected_codes(config: Config, selection: Selection) -> FrozenSet[str]:
    """Codes to report: command-line select replaces the configured one; ignores and extensions add up."""
    return registry.select(
        selection.select or config.select,
        tuple(config.ignore) + tuple(selection.ignore),
        tuple(config.extend_select) + tuple(selection.extend_select),
    )


class Pipeline:
    """The decisions taken on raw findings before anything is reported; the editor (check_document) reuses them
    so it shows exactly what `nnlint check` would."""

    def __init__(self, codes: FrozenSet[str], config: Config, by_display: Dict[str, Path], root: Path) -> None:
        self.codes, self.config, self.by_display, self.root = codes, config, by_display, root
        self._per_file = {pattern: registry.expand(listed) for pattern, listed in config.per_file_ignores.items()}

    def __call__(self, findings: Iterable[Finding], read_text: Callable[[str], Optional[str]]) -> List[Finding]:
        kept = [f for f in findings if f.code in self.codes and not self._ignored_for_file(f)]
        kept = [self._with_severity(f) for f in suppress.apply(kept, read_text)]
        return sorted(_dedupe(kept), key=Finding.sort_key)

    def _ignored_for_file(self, finding: Finding) -> bool:
        if not self._per_file:
            return False
        path = self.by_display.get(finding.location.path, Path(finding.location.path))
        try:
            relative = path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            relative = path.as_posix()
        return any(
            finding.code in codes and (fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern))
            for pattern, codes in self._per_file.items()
        )

    def _with_severity(self, finding: Finding) -> Finding:
        override = self.config.severity.get(finding.code)
        return replace(finding, severity=override) if override is not None and override != finding.severity else finding


def run(
    paths: Sequence[Path],
    config: Config,
    cwd: Path,
    selection: Selection = Selection(),
    fix_mode: FixMode = FixMode(),
    graph: GraphOptions = GraphOptions(),
    performance: Performance = Performance(),
) -> RunResult:
    """Check `paths` under `config`; raises MissingPath or UnknownRule for usage errors."""
    codes = selected_codes(config, selection)
    root = config.root or cwd
    files = pairs(discover(paths, tuple(config.exclude) + tuple(config.extend_exclude), root), cwd)
    by_display: Dict[str, Path] = {display: path for path, display in files}
    texts: Dict[str, Optional[str]] = {}
    read_text = _text_reader(by_display, texts)
    pipeline = Pipeline(codes, config, by_display, root)

    rules = [rule for rule in registry.rules_for(codes) if Pass.STATIC in rule.passes]
    project = ProjectIndex()
    cache = Cache(performance.cache_dir, salt_for(rule.code for rule in rules)) if performance.cache_dir else None
    workers = performance.workers or min(os.cpu_count() or 1, 8)
    context = project_files.pairs_for(project_files.context_files([path for path, _ in files], root), cwd)
    # Fixes apply to the texts that were checked, not to a newer save, so a fixing run keeps every text; any other
    # run reads again the few files whose findings need their text (noqa comments, notebook cells), and a large
    # run keeps its texts packed (packed_text.py).
    fixing = fix_mode.write or fix_mode.diff
    raw = check_files(files, rules, project, cache, workers, texts if fixing else None, context)
    graph_results = _graph_pass(project, config, codes, root, cwd, graph)
    raw += [finding for _, outcome in graph_results for finding in outcome.findings]
    findings = pipeline(raw, read_text)
    if not fixing:
        return RunResult(
            tuple(_in_cells(findings, read_text)),
            len(files),
            read_text,
            graph=tuple(graph_results),
            graph_skipped=_skipped(project, config, graph),
            by_display=by_display,
        )

    def relint(display: str, candidate: str) -> List[Finding]:
        return pipeline(check_sources([(display, candidate)], rules), {display: candidate}.get)

    fixed = fix.apply_all(findings, by_display, texts, relint, fix_mode.unsafe, fix_mode.diff)
    return RunResult(
        tuple(_in_cells(fixed.findings, read_text)),
        len(files),
        read_text,
        fixed.fixed,
        tuple(fixed.diffs),
        tuple(fixed.notes),
        tuple(graph_results),
        _skipped(project, config, graph),
        by_display,
    )


def graph_targets(project: ProjectIndex, config: Config, graph: GraphOptions) -> List[GraphTarget]:
    """Targets from the command line, else configured ones, plus discovered models unless `graph` says otherwise."""
    if graph.targets:
        return list(graph.targets)
    targets = [GraphTarget.from_spec(spec) for spec in config.models]
    if config.graph == "auto":
        configured = {t.target for t in targets}
        targets += [t for t in discover_models(project) if t.target not in configured]
    return targets


def _skipped(project: ProjectIndex, config: Config, graph: GraphOptions) -> Tuple[SkippedModel, ...]:
    """Module classes zero-config discovery leaves out (when it runs), minus those configured."""
    if not graph.enabled or graph.targets or config.graph != "auto":
        return ()
    configured = {spec.target for spec in config.models}
    return tuple(s for s in skipped_models(project) if s.target not in configured)


def _graph_pass(project, config, codes, root, cwd, graph: GraphOptions) -> List[Tuple[GraphTarget, GraphResult]]:
    graph_codes = [code for code in codes if Pass.GRAPH in registry.BY_CODE[code].passes]
    if not graph.enabled or config.graph == "off" or not graph_codes or importlib.util.find_spec("torch") is None:
        return []
    targets = graph_targets(project, config, graph)
    if not targets:
        return []
    outcomes = run_targets(targets, root, graph_codes, graph.limits, graph.summary, options={"rules": config.options})
    results = []
    for target, outcome in zip(targets, outcomes):
        findings = [_for_display(f, cwd, target.discovered) for f in outcome.findings]
        results.append((target, replace(outcome, findings=findings)))
    return results


def _for_display(finding: Finding, cwd: Path, discovered: bool) -> Finding:
    """Worker findings carry absolute paths; show them like the static pass does. A discovered model that
    cannot be built or run was only a guess of nnlint's, so that failure is information, not an error."""
    location = replace(finding.location, path=display_path(Path(finding.location.path), cwd))
    severity = Severity.INFO if discovered and finding.code.startswith("NN0") else finding.severity
    return replace(finding, location=location, severity=severity)


def _in_cells(findings: Iterable[Finding], read_text: Callable[[str], Optional[str]]) -> List[Finding]:
    """Sorted findings, those in notebooks pointing at their cell and the line within it."""
    mapped = []
    for finding in findings:
        text = read_text(finding.location.path) if notebook.is_notebook(finding.location.path) else None
        if text is not None:
            finding = notebook.to_cells(finding, text)
        mapped.append(finding)
    return sorted(mapped, key=Finding.sort_key)


def _text_reader(by_display: Dict[str, Path], texts: Dict[str, Optional[str]]) -> Callable[[str], Optional[str]]:
    def read_text(display: str) -> Optional[str]:
        if display not in texts:
            path = by_display.get(display, Path(display))
            try:
                texts[display] = read_source(path)[1]
            except UnreadableSource:
                texts[display] = None
        return texts[display]

    return read_text


def _dedupe(findings: Iterable[Finding]) -> List[Finding]:
    """One finding per rule and place. Static findings come first; a graph or probe finding of the same
    rule on the same line says the same thing (their columns are less precise), so it is merged away."""
    exact, lines = set(), set()
    kept = []
    for finding in sorted(findings, key=lambda f: list(Pass).index(f.pass_)):
        loc = finding.location
        key, line = (finding.code, loc.path, loc.line, loc.column), (finding.code, loc.path, loc.line)
        if key in exact or (finding.pass_ is not Pass.STATIC and line in lines):
            continue
        exact.add(key)
        lines.add(line)
        kept.append(finding)
    return kept
