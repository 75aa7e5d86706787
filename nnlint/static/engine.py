"""The static pass: read and parse each file once, then run every selected static rule in one walk.

Files checked together are analysed together: all files are parsed first, so a model class
defined in one file is understood where another file trains it.
"""

from __future__ import annotations

import gc
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, Type

import libcst as cst

from nnlint import python_syntax
from nnlint.rule import Rule
from nnlint.rules.nn001_parse_error import ParseError
from nnlint.rules.nn002_unreadable_file import UnreadableFile
from nnlint.rules.nn003_internal_error import InternalError
from nnlint.rules.nn004_unsupported_syntax import UnsupportedSyntax
from nnlint.static.cache import Cache, digest
from nnlint.static.context import StaticContext
from nnlint.static.project import ProjectIndex, class_names, class_summaries
from nnlint.static.reading import UnreadableSource, read_source
from nnlint.static.semantics import FileSemantics
from nnlint.types import Finding, Location


@dataclass
class ParsedFile:
    """A file that parsed: what rules need to check it."""

    display_path: str
    source: str
    semantics: FileSemantics
    deep: bool = False  # nested deeper than DEEP_LEVELS: its rules run on a thread with a big stack


Source = Tuple[str, "str | Finding"]  # (display path, text) or a Finding for a file that could not be read
PARALLEL_MIN_FILES = 16  # below this a process pool costs more than it saves


@dataclass
class FileResult:
    """One file's static findings and, for the cache, what its analysis depended on."""

    findings: List[Finding]
    dependencies: List[Tuple[str, str, Any]] = field(default_factory=list)
    classes: Optional[Dict[str, Any]] = None  # what each of its classes' forward returns; None if not parsed


def check_files(
    files: Sequence[Tuple[Path, str]],
    rules: Sequence[Type[Rule]],
    project: Optional[ProjectIndex] = None,
    cache: Optional[Cache] = None,
    workers: int = 1,
    texts: Optional[Dict[str, Optional[str]]] = None,
) -> List[Finding]:
    """Run the static rules over (path, display path) pairs; problems with a file become NN0xx findings.

    Pass a ProjectIndex to look at the checked files afterwards (the graph pass discovers models in it),
    and a dict to receive the exact texts that were checked (fixes must apply to those, not to a newer save).
    """
    sources: List[Source] = []
    for path, display in files:
        try:
            text = read_source(path)[1]
            sources.append((display, text))
            if texts is not None:
                texts[display] = text
        except UnreadableSource as error:
            sources.append((display, UnreadableFile.finding(Location(display, error.line, 1), str(error))))
    return check_sources(sources, rules, project, cache, workers)


def check_sources(
    sources: Sequence[Source],
    rules: Sequence[Type[Rule]],
    project: Optional[ProjectIndex] = None,
    cache: Optional[Cache] = None,
    workers: int = 1,
) -> List[Finding]:
    """Run the static rules over (display path, text) pairs, reusing valid cache entries and a process pool."""
    results: Dict[int, FileResult] = {}
    entries: Dict[int, Dict[str, Any]] = {}
    if cache is not None:
        entries = {
            i: e
            for i, (d, text) in enumerate(sources)
            if isinstance(text, str)
            for e in [cache.load(d, digest(text))]
            if e
        }
    codes = [rule.code for rule in rules]
    fresh: List[int] = []
    answers: Dict[str, str] = {}
    while True:
        valid = set(_still_valid(sources, entries, set(fresh), answers)) if cache is not None else set()
        stale = [i for i in range(len(sources)) if i not in valid and i not in fresh]
        if not stale:
            break
        # Changed files first: a file that only asked about them stays valid if their answers are the same.
        batch = [i for i in stale if i not in entries] or stale
        if workers > 1 and len(batch) >= PARALLEL_MIN_FILES:
            done = _in_pool(sources, batch, codes, cache is not None, workers)
        else:
            done = dict(zip(batch, analyze(sources, batch, codes, cache is not None)))
        for index, result in done.items():
            result.dependencies = [
                (kind, name, texts_answer(sources, name, answers) if kind == "texts" else answer)
                for kind, name, answer in result.dependencies
            ]
            results[index] = result
            entries[index] = {"findings": None, "dependencies": result.dependencies, "classes": result.classes}
        fresh += batch
        if cache is None:
            break
    for index in valid:
        entry = entries[index]
        results[index] = FileResult(
            [Finding.from_dict(f) for f in entry["findings"]], entry["dependencies"], entry["classes"]
        )
    if cache is not None:
        for index in fresh:
            display, text = sources[index]
            if isinstance(text, str):
                result = results[index]
                cache.store(
                    display,
                    digest(text),
                    {
                        "findings": [f.to_dict() for f in result.findings],
                        "dependencies": result.dependencies,
                        "classes": result.classes,
                    },
                )
    if project is not None:
        project._parser = project._parser or _parse_for_index
        for display, text in sources:
            if isinstance(text, str):
                project.add_deferred(display, text)
    return [finding for index in sorted(results) for finding in results[index].findings]


def analyze(
    sources: Sequence[Source], indices: Sequence[int], codes: Sequence[str], summarize: bool
) -> List[FileResult]:
    """Check sources[i] for i in `indices`; every other source is there to be parsed if asked about."""
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
    project = ProjectIndex(_parse_for_index)
    for index, (display, text) in enumerate(sources):
        if index not in chosen and isinstance(text, str):
            project.add_deferred(display, text)
    results: Dict[int, FileResult] = {}
    parsed: List[Tuple[int, ParsedFile, List[Type[Rule]]]] = []
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
        result = parse_source(display, source, project)
        if isinstance(result, Finding):
            results[index] = FileResult([result], classes={})
        else:
            project.add(result.semantics)
            parsed.append((index, result, active))
    for index, item, active in parsed:
        project.dependencies = []
        findings = run_rules(item, active)
        classes = class_summaries(item.semantics) if summarize else None
        results[index] = FileResult(findings, _distinct(project.dependencies), classes)
        project.dependencies = None
    return [results[index] for index in indices]


def _distinct(dependencies: List[Tuple[str, str, Any]]) -> List[Tuple[str, str, Any]]:
    """Each cross-file question once: rules ask the same ones many times, and every entry is written and checked."""
    seen: Dict[Tuple[str, str, Any], Tuple[str, str, Any]] = {}
    for kind, name, answer in dependencies:
        seen.setdefault((kind, name, tuple(answer) if isinstance(answer, list) else answer), (kind, name, answer))
    return list(seen.values())


def _in_pool(
    sources: Sequence[Source], todo: List[int], codes: List[str], summarize: bool, workers: int
) -> Dict[int, FileResult]:
    """Split the files over worker processes, balanced by size; each can still parse any other file it needs."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = _contiguous_chunks(sources, todo, codes, workers)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        futures = [(chunk, pool.submit(analyze, sources, chunk, codes, summarize)) for chunk in chunks if chunk]
        return {index: result for chunk, future in futures for index, result in zip(chunk, future.result())}


def _contiguous_chunks(
    sources: Sequence[Source], todo: List[int], codes: Sequence[str], workers: int
) -> List[List[int]]:
    """`workers` runs of files in path order, of about equal size. A package's files stay together, so the
    classes a file asks about are mostly parsed by the worker that checks them anyway (spread over the
    workers, 15% of the files were parsed twice)."""
    from nnlint import registry

    rules = registry.rules_for(codes)

    def size(index: int) -> int:  # the work: a file no rule looks at is hardly more than read
        text = sources[index][1]
        if not isinstance(text, str):
            return 0
        return len(text) if rules_for_text(rules, text) else len(text) // 20

    ordered = sorted(todo, key=lambda index: sources[index][0])
    share = sum(size(index) for index in ordered) / workers
    chunks: List[List[int]] = [[]]
    filled = 0
    for index in ordered:
        if filled >= share * len(chunks) and len(chunks) < workers:
            chunks.append([])
        chunks[-1].append(index)
        filled += size(index)
    return chunks


def _still_valid(
    sources: Sequence[Source], entries: Dict[int, Dict[str, Any]], fresh: Set[int], answers: Dict[str, str]
) -> List[int]:
    """The cached files whose every recorded cross-file answer is still the same (`fresh` ones were just analysed)."""
    defined: Dict[str, List[int]] = {}
    for index, (_, text) in enumerate(sources):
        if isinstance(text, str):
            for name in class_names(text):
                defined.setdefault(name, []).append(index)
    memo: Dict[int, bool] = {index: True for index in fresh}

    def valid(index: int) -> bool:
        if index in memo:
            return memo[index]
        memo[index] = index in entries  # optimistic inside a cycle of files that depend on each other
        if index in entries:
            memo[index] = all(answer_holds(kind, name, answer) for kind, name, answer in entries[index]["dependencies"])
        return memo[index]

    def answer_holds(kind: str, name: str, answer: Any) -> bool:
        where = defined.get(name, [])
        if kind == "has":
            return bool(where) == answer
        if kind == "texts":
            return texts_answer(sources, name, answers) == answer
        if not all(valid(i) and entries[i].get("classes") is not None for i in where):
            return False
        if kind == "defined":
            return sorted(sources[i][0] for i in where if name in entries[i]["classes"]) == answer
        summaries = [
            entries[i]["classes"][name]
            for i in sorted(where, key=lambda i: sources[i][0])
            if name in entries[i]["classes"]
        ]
        same = len({x[0] if x else None for x in summaries}) == 1  # kinds agree, as in ProjectIndex.forward_origin
        return (summaries[0] if summaries and same and summaries[0] is not None else None) == answer

    return [index for index in entries if index not in fresh and valid(index)]


def texts_answer(sources: Sequence[Source], key: str, memo: Dict[str, str]) -> str:
    """Which files contain every word of `key` (NUL-separated), and their exact contents, as one digest:
    a cached finding that depended on them is redone when any of them changes, appears or goes.
    `memo` keeps the answers of one run (every file that asked the same question gets the same)."""
    if key not in memo:
        words = key.split("\x00")
        found = sorted(
            (display, digest(text))
            for display, text in sources
            if isinstance(text, str) and all(w in text for w in words)
        )
        memo[key] = digest(repr(found))
    return memo[key]


def rules_for_text(rules: Sequence[Type[Rule]], text: str) -> List[Type[Rule]]:
    """The rules with hooks whose needles occur in the text (a rule without needles always runs)."""
    return [rule for rule in rules if _has_hooks(rule) and (not rule.needles or any(n in text for n in rule.needles))]


def _has_hooks(rule: Type[Rule]) -> bool:
    return any(name.startswith(("visit_", "leave_")) for name in dir(rule))


def _parse_for_index(display: str, source: str, project: ProjectIndex) -> Optional[FileSemantics]:
    result = parse_source(display, source, project)
    return None if isinstance(result, Finding) else result.semantics


def parse_source(display: str, source: str, project: ProjectIndex) -> "ParsedFile | Finding":
    """Parse one file's text and build its dataflow, or explain why it cannot be parsed."""

    def parse() -> ParsedFile:
        module = cst.parse_module(source)
        semantics = FileSemantics(display, module, project)
        return ParsedFile(display, source, semantics, deep=semantics.depth > DEEP_LEVELS)

    try:
        try:
            return parse()
        except RecursionError:
            parsed = _deeply(parse)
            parsed.deep = True
            return parsed
    except cst.ParserSyntaxError as error:
        return _syntax_error(display, source, error)
    except RecursionError:
        return ParseError.finding(Location(display, 1, 1), "File is nested too deeply for nnlint to parse it.")


DEEP_LEVELS = 120  # deeper trees are checked on the big-stack thread: rules walk them with libcst's visitors
DEEP_RECURSION_LIMIT = 60_000
DEEP_STACK_BYTES = 512 * 1024 * 1024


def _deeply(call: Callable[[], Any]) -> Any:
    """`call()` on a thread with a large stack and a high recursion limit. libcst's visitors recurse about
    three frames per level of nesting, so a 2,000-part implicit string concatenation (the standard
    library's pydoc_data/topics.py) or a 400-term `a + b + ...` exceeds Python's default limit of 1,000."""
    outcome: List[Tuple[bool, Any]] = []

    def target() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as error:  # handed to the caller's thread
            outcome.append((False, error))

    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size(DEEP_STACK_BYTES)
    sys.setrecursionlimit(max(old_limit, DEEP_RECURSION_LIMIT))
    try:
        thread = threading.Thread(target=target, name="nnlint-deep")
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def _syntax_error(display: str, source: str, error: cst.ParserSyntaxError) -> Finding:
    # libcst's native parser gives rough positions; Python's own compiler says exactly where.
    line, column, message = error.raw_line, error.raw_column + 1, error.message
    try:
        python_syntax.parse(source)
    except SyntaxError as precise:
        if precise.lineno:
            line, column = precise.lineno, max(precise.offset or 1, 1)
        message = precise.msg
    except (ValueError, RecursionError, MemoryError):
        pass
    else:
        # The running Python accepts it: a construct libcst's grammar lacks, such as `(x): int = 1`.
        return UnsupportedSyntax.finding(
            Location(display, max(line, 1), max(column, 1)),
            "Python accepts this file but nnlint's parser (libcst) does not support the construct here, so no "
            "rule checked the file. Rewrite the construct (for example `(x): int = 1` as `x: int = 1`) to have it checked.",
        )
    return ParseError.finding(
        Location(display, max(line, 1), max(column, 1)),
        f"Syntax error: {message}. nnlint checks nothing else in this file until it parses.",
    )


def run_rules(item: ParsedFile, rules: Sequence[Type[Rule]]) -> List[Finding]:
    """Visit one parsed file once with all rules; a rule that raises is reported and switched off."""
    context = StaticContext(item.display_path, item.source, item.semantics)
    dispatcher = _Dispatcher([rule(context) for rule in rules], context)
    if item.deep:
        _deeply(dispatcher.run)
    else:
        dispatcher.run()
    return context.findings + dispatcher.errors


class _Dispatcher(cst.CSTVisitor):
    """Calls each rule's visit_/leave_ hooks for every node, isolating rules from each other's failures."""

    def __init__(self, rules: List[Rule], context: StaticContext) -> None:
        super().__init__()
        self.context = context
        self.errors: List[Finding] = []
        self._failed: set = set()
        self._hooks: Dict[str, List[Tuple[Rule, Callable]]] = {}
        for rule in rules:
            for attribute in dir(type(rule)):
                if attribute.startswith(("visit_", "leave_")):
                    self._hooks.setdefault(attribute, []).append((rule, getattr(rule, attribute)))

    def _call(self, hook: str, node: cst.CSTNode) -> None:
        for rule, method in self._hooks.get(hook, ()):
            if rule.code in self._failed:
                continue
            try:
                method(node)
            except Exception as error:  # a bug in a rule must not stop the others
                self._failed.add(rule.code)
                location = (
                    self.context.location(node)
                    if node in self.context.semantics.positions
                    else Location(self.context.path, 1, 1)
                )
                self.errors.append(
                    InternalError.finding(
                        location,
                        f"Rule {rule.code} ({rule.name}) failed here with {type(error).__name__}: {error}. "
                        "This is a bug in nnlint; the other rules still checked the file. "
                        f"Silence it with `# nnlint: ignore[{rule.code}]` and report it.",
                    )
                )

    def run(self) -> None:
        """Every hook for every node of the file, in libcst's visiting order."""
        if any(name.startswith("leave_") for name in self._hooks):
            self.context.semantics.module.visit(self)
            return
        # No rule needs post-order: the semantics collector already listed every node in pre-order.
        by_kind: Dict[type, str] = {}
        hooks = self._hooks
        for node in self.context.semantics.order:
            kind = type(node)
            name = by_kind.get(kind)
            if name is None:
                name = by_kind[kind] = "visit_" + kind.__name__
            if name in hooks:
                self._call(name, node)

    def on_visit(self, node: cst.CSTNode) -> bool:
        self._call("visit_" + type(node).__name__, node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._call("leave_" + type(original_node).__name__, original_node)
