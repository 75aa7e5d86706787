"""Cache hit? step of the static pass: which cached results still hold, which files to analyse, what to store.

A cache entry (cache.py) matches its file's current text; it still holds while every cross-file
answer it recorded (has class X? what does X.forward return? which files mention these words?) is the
same for the files of this run. Never imports torch.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Set

from nnlint.static.analysis import FileResult
from nnlint.static.cache import Cache, digest
from nnlint.static.calls import module_matches
from nnlint.static.packed_text import sources_class_names, text_of
from nnlint.static.project import MAX_DEFINING_FILES, mentions_all
from nnlint.static.reading import Source
from nnlint.static.word_index import WordIndex, required_tokens
from nnlint.types import Finding


class CachedRun:
    """One run's use of the result cache (or of none): batches of files to analyse, the cached results that hold."""

    def __init__(
        self,
        sources: Sequence[Source],
        cache: Optional[Cache],
        checked: Optional[int] = None,
        words: Optional[WordIndex] = None,
        names: Optional[Sequence[frozenset]] = None,
    ) -> None:
        self.sources = sources
        self.words = words  # the run's index of identifiers, when its texts are packed
        # the class names each source defines (class_names), when the caller scanned them already
        self.names = names if names is not None else sources_class_names(sources)
        self.checked = len(sources) if checked is None else checked  # sources past this are context, never checked
        self.cache = cache
        self.entries: Dict[int, Dict[str, Any]] = {}
        if cache is not None:
            # a context file's entry has no findings: a checked file cannot use one
            self.entries = {
                i: e
                for i, (d, value) in enumerate(sources)
                for text in [text_of(value)]
                if text is not None
                for e in [cache.load(d, digest(text))]
                if e and not (i < self.checked and e.get("context"))
            }
        self.fresh: List[int] = []  # analysed in this run, in order
        self.summarised: List[int] = []  # context files parsed in this run: their class summaries are stored
        self._valid: Set[int] = set()  # cached files whose every answer holds, as of the last next_batch()
        self._answers: Dict[str, str] = {}  # texts_answer's memo for this run

    def next_batch(self) -> List[int]:
        """The files to analyse next ([] when done): without a cache all of them once; with one, the changed files
        first, then the cached ones with an answer that surely changed, then (only if nothing else is left) those
        that asked about a class of a file still to be redone, until every answer holds."""
        if self.cache is None:
            return [] if self.fresh else list(range(self.checked))
        fresh = set(self.fresh)
        states = _states(
            self.sources, self.names, self.entries, fresh | set(self.summarised), self._answers, self.words
        )
        self._valid = {index for index, state in states.items() if state is True}
        stale = [i for i in range(self.checked) if i not in self._valid and i not in fresh]
        # Changed files first: a file that only asked about them stays valid if their answers are the same. Then
        # the surely stale: editing resnet.py redoes the files that asked who builds its Bottleneck, and those
        # that asked what another class returns wait until its file is redone (its answer is mostly the same).
        changed = [i for i in stale if i not in self.entries]
        return changed or [i for i in stale if states.get(i) is False] or stale

    def known_summaries(self) -> Dict[str, Dict[str, Any]]:
        """The class summaries that hold, by display path: of the cached files whose every answer holds (as of the
        last next_batch()) and of the files analysed or summarised in this run. A file re-checked alone then need
        not parse the files it asks about to learn that their classes return nothing known."""
        holding = self._valid | set(self.fresh) | set(self.summarised)
        return {
            self.sources[index][0]: entry["classes"]
            for index in sorted(holding)
            for entry in [self.entries.get(index)]
            if entry is not None and entry.get("classes") is not None
        }

    def record(self, batch: List[int], done: Dict[int, FileResult]) -> Dict[int, FileResult]:
        """The checked files' results of one batch, with the answers only the whole run knows filled in ("texts"
        questions); the class summaries of context files parsed on the way are kept for the cache."""
        checked: Dict[int, FileResult] = {}
        for index, result in done.items():
            if result.summary_only and (index < self.checked or not self._may_summarise(index)):
                continue  # a checked file has (or gets) its full result; a full entry is better than a summary
            if self.cache is not None:  # without one the answers are never compared: not worth a scan each
                result.dependencies = [
                    (
                        kind,
                        name,
                        texts_answer(self.sources, name, self._answers, self.words) if kind == "texts" else answer,
                    )
                    for kind, name, answer in result.dependencies
                ]
            entry = {"findings": None, "dependencies": result.dependencies, "classes": result.classes}
            if result.summary_only:
                self.entries[index] = {**entry, "context": True}
                self.summarised.append(index)
            else:
                self.entries[index] = entry
                checked[index] = result
        self.fresh += batch
        return checked

    def _may_summarise(self, index: int) -> bool:
        known = self.entries.get(index)
        return self.cache is not None and (known is None or bool(known.get("context"))) and index not in self.summarised

    def hits(self) -> Dict[int, FileResult]:
        """The cached results that still hold, by source index."""
        return {
            index: FileResult(
                [Finding.from_dict(f) for f in entry["findings"]], entry["dependencies"], entry["classes"]
            )
            for index in self._valid
            if index < self.checked
            for entry in [self.entries[index]]
        }

    def store(self, results: Dict[int, FileResult]) -> None:
        """Write the entries of the files analysed in this run, and the class summaries of the context files."""
        if self.cache is None:
            return
        for index in self.summarised:
            display, text = self.sources[index][0], text_of(self.sources[index][1])
            if text is not None:
                self.cache.store(display, digest(text), {**self.entries[index], "findings": []})
        for index in self.fresh:
            display, text = self.sources[index][0], text_of(self.sources[index][1])
            if text is not None:
                result = results[index]
                self.cache.store(
                    display,
                    digest(text),
                    {
                        "findings": [f.to_dict() for f in result.findings],
                        "dependencies": result.dependencies,
                        "classes": result.classes,
                    },
                )


def _states(
    sources: Sequence[Source],
    names: Sequence[frozenset],
    entries: Dict[int, Dict[str, Any]],
    fresh: Set[int],
    answers: Dict[str, str],
    words: Optional[WordIndex] = None,
) -> Dict[int, Optional[bool]]:
    """Per cached file: True when every recorded cross-file answer is still the same (`fresh` ones were just
    analysed), False when one surely changed, None when one can only be told after a file it asked about is
    analysed again."""
    defined: Dict[str, List[int]] = {}
    for index, defines in enumerate(names):
        for name in defines:
            defined.setdefault(name, []).append(index)
    memo: Dict[int, Optional[bool]] = {index: True for index in fresh}

    def state(index: int) -> Optional[bool]:
        if index in memo:
            return memo[index]
        if index not in entries:
            memo[index] = False
            return False
        memo[index] = True  # optimistic inside a cycle of files that depend on each other
        found: Optional[bool] = True
        for kind, name, answer in entries[index]["dependencies"]:
            holds = answer_holds(kind, name, answer)
            if holds is False:
                found = False
                break
            if holds is None:
                found = None
        memo[index] = found
        return found

    def answer_holds(kind: str, name: str, answer: Any) -> Optional[bool]:
        if kind == "defined_in":  # is class `name` defined in a file of module `imported`?
            name, imported = name.split("\x00")
            where = [i for i in defined.get(name, []) if module_matches(imported, sources[i][0])]
        else:
            where = defined.get(name, [])
        if kind == "has":
            return bool(where) == answer
        if kind == "texts":
            return texts_answer(sources, name, answers, words) == answer
        if kind in ("defined", "forward") and len(where) > MAX_DEFINING_FILES:
            return answer == ([] if kind == "defined" else None)  # not looked up (ProjectIndex.too_common)
        if any(i not in entries and i not in fresh for i in where):
            return None  # a changed file defines the class: known once it is analysed
        if not all(state(i) is True and entries[i].get("classes") is not None for i in where):
            return None  # its answer is known once that file is analysed again
        if kind == "defined":
            return sorted(sources[i][0] for i in where if name in entries[i]["classes"]) == answer
        if kind == "defined_in":
            return any(name in entries[i]["classes"] for i in where) == answer
        summaries = [
            entries[i]["classes"][name]
            for i in sorted(where, key=lambda i: sources[i][0])
            if name in entries[i]["classes"]
        ]
        same = len({x[0] if x else None for x in summaries}) == 1  # kinds agree, as in ProjectIndex.forward_origin
        return (summaries[0] if summaries and same and summaries[0] is not None else None) == answer

    return {index: state(index) for index in entries if index not in fresh}


def texts_answer(sources: Sequence[Source], key: str, memo: Dict[str, str], index: Optional[WordIndex] = None) -> str:
    """Which files contain every word of `key` (NUL-separated), and their exact contents, as one digest:
    a cached finding that depended on them is redone when any of them changes, appears or goes.
    `memo` keeps the answers of one run (every file that asked the same question gets the same); with the run's
    WordIndex only the files with the identifiers the words require are read."""
    if key not in memo:
        words = key.split("\x00")
        having = index.having(required_tokens(words)) if index is not None else None
        found = []
        for display, value in sources:
            text = text_of(value) if having is None or display in having else None
            if text is not None and mentions_all(text, words):
                found.append((display, digest(text)))
        memo[key] = digest(repr(sorted(found)))
    return memo[key]
