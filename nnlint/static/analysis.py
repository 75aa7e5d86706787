"""One batch of files through parse -> analyse -> summarise: the work of the static pass in one process.

Every file of the run is known to the batch, so a model class defined in a file outside it is
understood where a file inside it trains the model. Never imports torch.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, Type

from nnlint import python_syntax
from nnlint.rule import Rule
from nnlint.static import parse
from nnlint.static.dispatch import rules_for_text, run_rules
from nnlint.static.packed_text import class_names, text_of, unpacked
from nnlint.static.parse import ParsedFile
from nnlint.static.project import ProjectIndex, Summaries, class_summaries
from nnlint.static.reading import Source
from nnlint.static.word_index import WordIndex
from nnlint.types import Finding

# Source bytes of the parsed files a process keeps between two checked files, for the next ones' questions (a
# package's files ask about the same classes); beyond it the least recently needed go back to text. A parsed tree
# with its dataflow takes ~75 bytes of memory per byte of source: keeping every tree cost 5.3 GB (two workers) on
# transformers' 54 MB. A large run is split over fresh workers of ~1 MB each (schedule.CHUNK_BYTES), so this
# mostly bounds the files that one chunk's questions parse; released files asked about again are parsed again.
# 1 MB against 3 MB: a whole site-packages' summed peak RSS 994 against 1,128 MB, the same CPU (1,369 / 1,362 s)
# and findings; the 60 timm files of the speed bench 3.9 against 4.1 CPU s.
KEEP_PARSED = 1_000_000
COLLECT_EVERY = 200  # released files between two collections (the collector is off while trees are built)
Dependency = Tuple[str, str, Any]  # (kind of question, name asked about, answer): see ProjectIndex.dependencies


@dataclass
class FileResult:
    """One file's static findings and, for the cache, what its analysis depended on."""

    findings: List[Finding]
    dependencies: List[Dependency] = field(default_factory=list)
    classes: Optional[Dict[str, Any]] = None  # what each of its classes' forward returns; None if not parsed
    # True for a file that was not checked but parsed to answer a question (a context file): only its classes'
    # summaries and what they depend on, so the cache can tell later runs whether the answers still hold
    summary_only: bool = False


def analyze(
    sources: Sequence[Source],
    indices: Sequence[int],
    codes: Sequence[str],
    summarize: bool,
    names: Optional[Sequence[frozenset]] = None,
    words: Optional[WordIndex] = None,
    known: Optional[Summaries] = None,
) -> Dict[int, FileResult]:
    """Check sources[i] for i in `indices`; every other source is there to be parsed if asked about. Returns the
    results by source index.

    With `summarize`, each result also says what its file's classes return (the cache checks other files' entries
    against it), and every other file that a question parsed gets a `summary_only` result: without one, a file
    whose cached findings depend on a class of that file would be analysed again in every run. `names` are the
    sources' class names when the caller has them (class_names(text) per source): workers in rounds would
    otherwise scan every text again. `words` is the run's WordIndex when its texts are packed. `known`: class
    summaries of files analysed before (ProjectIndex), which spare parsing them to answer what a class returns."""
    # Parsing creates millions of objects, so Python's cyclic collector would scan the live trees again at each
    # automatic full collection (15-30% of a run over a few hundred files); released trees are collected in
    # batches instead.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _analyze(sources, indices, codes, summarize, names, words, known)
    finally:
        if enabled:
            gc.enable()


def _analyze(
    sources: Sequence[Source],
    indices: Sequence[int],
    codes: Sequence[str],
    summarize: bool,
    names: Optional[Sequence[frozenset]],
    words: Optional[WordIndex],
    known: Optional[Summaries],
) -> Dict[int, FileResult]:
    from nnlint import registry

    rules = registry.rules_for(codes)
    chosen = set(indices)
    project = ProjectIndex(parse.parse_for_index, words, known)
    for index, (display, text) in enumerate(sources):
        if index not in chosen and not isinstance(text, Finding):
            project.add_deferred(display, text, names[index] if names is not None else None)
    results: Dict[int, FileResult] = {}
    todo: List[Tuple[int, List[Type[Rule]]]] = []
    for index in indices:
        display, value = sources[index]
        if isinstance(value, Finding):  # why it could not be read
            results[index] = FileResult([value])
            continue
        source = unpacked(value)
        active = rules_for_text(rules, source)
        # Every file of the batch can answer the others' cross-file questions (parsed when asked) before its
        # own turn. Nothing to visit here: it is only that, unless a cache needs what its classes return.
        project.add_deferred(display, value, names[index] if names is not None else None)
        if not active and not (summarize and class_names(source)) and python_syntax.parses(source):
            results[index] = FileResult([], classes={})
            continue
        todo.append((index, active))
    released = 0
    for index, active in todo:  # unpacked again, not kept: a large run's chunk holds only the file in hand
        display, own_text = sources[index][0], text_of(sources[index][1])
        assert own_text is not None  # read errors were reported above
        item = _parsed(display, own_text, project)
        if isinstance(item, Finding):
            results[index] = FileResult([item], classes={})
            continue
        results[index] = _analyse_and_summarise(item, active, project, summarize)
        released += project.release(KEEP_PARSED)
        if released >= COLLECT_EVERY:  # trees point back at their file's caches: cycles only the collector frees
            _collect()
            released = 0
    checked = {index: results[index] for index in indices}
    if summarize:
        checked.update(_summaries_of_others(sources, chosen, project))
    project.close()
    return checked


def _collect() -> None:
    """Free the released trees, and give the freed memory back to the system: glibc's allocator keeps it in the
    process otherwise, and a long run's memory would follow the largest trees it ever held, not what it holds."""
    gc.collect()
    global _trim
    if _trim is None:
        _trim = _malloc_trim()
    _trim()


def _malloc_trim() -> Callable[[], object]:
    try:
        import ctypes

        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (ImportError, OSError, AttributeError):  # not glibc: nothing to do
        return lambda: None
    return lambda: trim(0)


_trim: Optional[Callable[[], object]] = None


def _summaries_of_others(sources: Sequence[Source], chosen: Set[int], project: ProjectIndex) -> Dict[int, FileResult]:
    """Class summaries of the files parsed only to answer questions (and of those that summarising parses)."""
    index_of = {display: index for index, (display, _) in enumerate(sources)}
    done = {sources[index][0] for index in chosen}
    found: Dict[int, FileResult] = {}
    pending = [f for f in project.files if f.path not in done and f.path in index_of]
    while pending:
        for semantics in pending:
            done.add(semantics.path)
            asked: List[Dependency] = []
            project.dependencies = asked
            classes = class_summaries(semantics)
            project.dependencies = None
            found[index_of[semantics.path]] = FileResult([], _distinct(asked), classes, summary_only=True)
        pending = [f for f in project.files if f.path not in done and f.path in index_of]
    return found


def _parsed(display: str, source: str, project: ProjectIndex) -> "ParsedFile | Finding":
    """The file to check, parsed now or earlier (when another file's question needed it)."""
    semantics = project.take_parsed(display)
    if semantics is not None:
        return ParsedFile(display, source, semantics, deep=semantics.depth > parse.DEEP_LEVELS)
    result = parse.parse_source(display, source, project)
    if not isinstance(result, Finding):
        project.add(result.semantics)
    return result


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
