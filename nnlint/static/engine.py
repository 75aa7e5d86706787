"""The static pass, step by step: read -> cache hit? -> parse -> analyse -> summarise -> report.

Each step is its own module (reading, cache_validation, parse, dispatch, analysis; schedule spreads the
work over processes); this one only puts them in order. Files checked together are analysed together:
a model class defined in one file is understood where another file trains it. Never imports torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Type

from nnlint.rule import Rule
from nnlint.static.analysis import FileResult
from nnlint.static.cache import Cache
from nnlint.static.cache_validation import CachedRun
from nnlint.static.packed_text import TEXT_TYPES, PackedText, sources_class_names
from nnlint.static.parse import parse_for_index
from nnlint.static.project import ProjectIndex
from nnlint.static.reading import Source, read_all
from nnlint.static.schedule import analyze_batch
from nnlint.static.word_index import WordIndex
from nnlint.types import Finding


def check_files(
    files: Sequence[Tuple[Path, str]],
    rules: Sequence[Type[Rule]],
    project: Optional[ProjectIndex] = None,
    cache: Optional[Cache] = None,
    workers: int = 1,
    texts: Optional[Dict[str, Optional[str]]] = None,
    context: Sequence[Tuple[Path, str]] = (),
) -> List[Finding]:
    """Run the static rules over (path, display path) pairs; problems with a file become NN0xx findings.

    Pass a ProjectIndex to look at the checked files afterwards (the graph pass discovers models in it),
    and a dict to receive the exact texts that were checked (fixes must apply to those, not to a newer save).
    `context` files (the project's modules the checked files import) are read to answer questions about them;
    nothing is reported in them.
    """
    readable = [(display, text) for display, text in read_all(context) if isinstance(text, TEXT_TYPES)]
    return check_sources(read_all(files, texts), rules, project, cache, workers, readable)


def check_sources(
    sources: Sequence[Source],
    rules: Sequence[Type[Rule]],
    project: Optional[ProjectIndex] = None,
    cache: Optional[Cache] = None,
    workers: int = 1,
    context: Sequence[Source] = (),
) -> List[Finding]:
    """Run the static rules over (display path, text) pairs, reusing valid cache entries and a process pool;
    `context` sources are known to the analysis but not checked."""
    codes = [rule.code for rule in rules]
    checked = len(sources)
    sources = [*sources, *context]
    # a large run's texts are packed: its questions then go through an index of identifiers, built once here
    words = WordIndex(sources) if any(isinstance(text, PackedText) for _, text in sources) else None
    # the classes each source defines, by a scan of its text: the cache and every worker ask, once is enough
    names = sources_class_names(sources)
    run = CachedRun(sources, cache, checked, words, names)
    results: Dict[int, FileResult] = {}
    batch = run.next_batch()
    while batch:  # parse, analyse and summarise what the cache cannot answer (more when answers changed)
        done = analyze_batch(sources, batch, codes, cache is not None, workers, words, run.known_summaries(), names)
        results.update(run.record(batch, done))
        batch = run.next_batch()
    results.update(run.hits())
    run.store(results)
    if project is not None:  # the caller looks at the checked files afterwards: parsed when asked about
        readable = ((d, text) for d, text in sources[:checked] if isinstance(text, TEXT_TYPES))
        project.add_unparsed(readable, parse_for_index)
    return [finding for index in sorted(results) for finding in results[index].findings]
