"""One batch of files through parse -> analyse -> summarise: the work of the static pass in one process.

Every file of the run is known to the batch, so a model class defined in a file outside it is
understood where a file inside it trains the model. Never imports torch.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Type

from nnlint import python_syntax
from nnlint.rule import Rule
from nnlint.static import parse
from nnlint.static.dispatch import rules_for_text, run_rules
from nnlint.static.parse import ParsedFile
from nnlint.static.project import ProjectIndex, class_names, class_summaries
from nnlint.static.reading import Source
from nnlint.types import Finding

Dependency = Tuple[str, str, Any]  # (kind of question, name asked about, answer): see ProjectIndex.dependencies


@dataclass
class FileResult:
    """One file's static findings and, for the cache, what its analysis depended on."""

    findings: List[Finding]
    dependencies: List[Dependency] = field(default_factory=list)
    classes: Optional[Dict[str, Any]] = None  # what each of its classes' forward returns; None if not parsed


def analyze(
    sources: Sequence[Source], indices: Sequence[int], codes: Sequence[str], summarize: bool
) -> List[FileResult]:
    """Check sources[i] for i in `indices`; every other source is there to be parsed if asked about.

    With `summarize`, each result also says what its file's classes return (the cache checks other files' entries
    against it)."""
    # Parsing creates millions of objects and every tree is kept to the end, so Python's cyclic collector
    # would scan them all again at each full collection (15-30% of a run over a few hundred files).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _analyze(sources, indices, codes, summarize)
    finally:
        if enabled:
            gc.enable()


def _analyze(
    sources: Sequence[Source], indices: Sequence[int], codes: Sequence[str], summarize: bool
) -> List[FileResult]:
    from nnlint import registry

    rules = registry.rules_for(codes)
    chosen = set(indices)
    project = ProjectIndex(parse.parse_for_index)
    for index, (display, text) in enumerate(sources):
        if index not in chosen and isinstance(text, str):
            project.add_deferred(display, text)
    results: Dict[int, FileResult] = {}
    parsed: List[Tuple[int, ParsedFile, List[Type[Rule]]]] = []
    # Parse every file of the batch before any rule runs: a rule may ask about the classes of any of them.
    for index in indices:
        display, source = sources[index]
        if isinstance(source, Finding):
            results[index] = FileResult([source])
            continue
        active = rules_for_text(rules, source)
        # Nothing to visit here: parse only if asked about. With a cache, files defining classes are
        # parsed anyway, so their entries can answer for the files that depend on them.
        if not active and not (summarize and class_names(source)) and python_syntax.parses(source):
            project.add_deferred(display, source)
            results[index] = FileResult([], classes={})
            continue
        result = parse.parse_source(display, source, project)
        if isinstance(result, Finding):
            results[index] = FileResult([result], classes={})
        else:
            project.add(result.semantics)
            parsed.append((index, result, active))
    for index, item, active in parsed:
        results[index] = _analyse_and_summarise(item, active, project, summarize)
    return [results[index] for index in indices]


def _analyse_and_summarise(
    item: ParsedFile, rules: Sequence[Type[Rule]], project: ProjectIndex, summarize: bool
) -> FileResult:
    """The file's findings, what its rules asked about other files, and (for the cache) what its classes return."""
    asked: List[Dependency] = []
    project.dependencies = asked  # summarising asks too: what a class returns may depend on another file's class
    findings = run_rules(item, rules)
    classes = class_summaries(item.semantics) if summarize else None
    project.dependencies = None
    return FileResult(findings, _distinct(asked), classes)


def _distinct(dependencies: List[Dependency]) -> List[Dependency]:
    """Each cross-file question once: rules ask the same ones many times, and every entry is written and checked."""
    seen: Dict[Dependency, Dependency] = {}
    for kind, name, answer in dependencies:
        seen.setdefault((kind, name, tuple(answer) if isinstance(answer, list) else answer), (kind, name, answer))
    return list(seen.values())
