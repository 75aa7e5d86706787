"""Where a batch of files is analysed: in this process, or split over a pool of worker processes when it is big.

Never imports torch.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from nnlint.static.analysis import FileResult, analyze
from nnlint.static.dispatch import rules_for_text
from nnlint.static.packed_text import PACK_ABOVE_BYTES, TEXT_TYPES, sources_class_names, text_of
from nnlint.static.project import Summaries
from nnlint.static.reading import Source
from nnlint.static.word_index import WordIndex

PARALLEL_MIN_FILES = 16  # below this a process pool costs more than it saves
# The sources of the run, for forked workers to inherit: handed to each worker as an argument, every text of a
# large run (198 MB for a whole site-packages) was pickled and held again in each worker.
_INHERITED: Sequence[Source] = ()
_INHERITED_NAMES: Sequence[frozenset] = ()  # their class names, scanned once for every round
_INHERITED_WORDS: Optional[WordIndex] = None  # and the index of their identifiers, built once (packed texts)
_INHERITED_KNOWN: Summaries = {}  # class summaries known before a round: of earlier rounds and valid cache entries
# Weighted source size of the files one worker analyses before it is replaced by a fresh one (_in_pool): a worker's
# memory grew with every file it had analysed, freed or not (375 MB after transformers/models/[a-c], no tree alive).
CHUNK_BYTES = 1_000_000


def analyze_batch(
    sources: Sequence[Source],
    batch: List[int],
    codes: List[str],
    summarize: bool,
    workers: int,
    words: Optional[WordIndex] = None,
    known: Optional[Summaries] = None,
    names: Optional[Sequence[frozenset]] = None,
) -> Dict[int, FileResult]:
    """analyze() for sources[i], i in `batch`, by source index; over `workers` processes if the batch is big enough.
    `words`: the run's WordIndex, when its texts are packed; `known`: class summaries that hold (ProjectIndex);
    `names`: the class names of every source (class_names), when the caller has them."""
    if len(batch) >= PARALLEL_MIN_FILES and (workers > 1 or _large(sources, batch)):
        return _in_pool(sources, batch, codes, summarize, workers, words, known or {}, names)
    return analyze(sources, batch, codes, summarize, names, words, known)


def _large(sources: Sequence[Source], batch: List[int]) -> bool:
    """Whether one process would analyse so much that it should be done by fresh workers in turn (see _in_pool): as
    much source as makes reading pack the texts."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return False  # a spawned worker imports nnlint again and is sent every source: not worth it
    return sum(len(text) for i in batch for text in [sources[i][1]] if isinstance(text, TEXT_TYPES)) > PACK_ABOVE_BYTES


def _in_pool(
    sources: Sequence[Source],
    todo: List[int],
    codes: List[str],
    summarize: bool,
    workers: int,
    words: Optional[WordIndex],
    known: Summaries,
    names: Optional[Sequence[frozenset]] = None,
) -> Dict[int, FileResult]:
    """Split the files over worker processes, balanced by size; each can still parse any other file it needs.

    A large run goes in rounds of fresh workers, each round `workers` chunks of about CHUNK_BYTES: a worker that
    parsed many files keeps most of their memory even after freeing every tree (Python's small-object arenas stay
    fragmented), so a worker's memory is bounded by its chunk, not by the run. Each round knows the class summaries
    of the files analysed in the rounds before it: a fresh worker need not parse them again to learn that a class
    returns nothing known."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _INHERITED, _INHERITED_NAMES, _INHERITED_WORDS, _INHERITED_KNOWN
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else "spawn")
    # without fork every chunk carries all the sources: one round only
    chunks = [chunk for chunk in _contiguous_chunks(sources, todo, codes, workers, fork) if chunk]
    # with rounds, summaries pay for themselves even where no cache keeps them: the next rounds read them
    summarize = summarize or len(chunks) > workers
    _INHERITED = sources if fork else ()
    if names is None:
        names = sources_class_names(sources)
    _INHERITED_NAMES = names if fork else ()
    _INHERITED_WORDS = words if fork else None
    # grown after each round with what it summarised: the next round's workers are forked with it
    _INHERITED_KNOWN = known = dict(known)
    merged: Dict[int, FileResult] = {}
    try:
        for start in range(0, len(chunks), workers):
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                if fork:
                    futures = [pool.submit(_analyze_inherited, c, codes, summarize) for c in chunks[start:][:workers]]
                else:
                    futures = [
                        pool.submit(analyze, sources, c, codes, summarize, names, words, known)
                        for c in chunks[start:][:workers]
                    ]
                for future in futures:
                    for index, result in future.result().items():  # checked by one worker, summarised by another
                        if index not in merged or merged[index].summary_only:
                            merged[index] = result
                        if result.classes is not None:
                            known[sources[index][0]] = result.classes
        return merged
    finally:
        _INHERITED, _INHERITED_NAMES, _INHERITED_WORDS, _INHERITED_KNOWN = (), (), None, {}


def _analyze_inherited(chunk: List[int], codes: List[str], summarize: bool) -> Dict[int, FileResult]:
    """analyze() in a forked worker, over the sources it inherited from the parent."""
    return analyze(_INHERITED, chunk, codes, summarize, _INHERITED_NAMES, _INHERITED_WORDS, _INHERITED_KNOWN)


def _contiguous_chunks(
    sources: Sequence[Source], todo: List[int], codes: Sequence[str], workers: int, rounds: bool = True
) -> List[List[int]]:
    """Runs of files in path order, of about equal size: `workers` of them, or (with `rounds`) a multiple of it
    with about CHUNK_BYTES each. A package's files stay together, so the classes a file asks about are mostly
    parsed by the worker that checks them anyway (spread over the workers, 15% of the files were parsed twice)."""
    from nnlint import registry

    rules = registry.rules_for(codes)

    def size(index: int) -> int:  # the work: a file no rule looks at is hardly more than read
        text = text_of(sources[index][1])
        if text is None:
            return 0
        return len(text) if rules_for_text(rules, text) else len(text) // 20

    ordered = sorted(todo, key=lambda index: sources[index][0])
    sizes = {index: size(index) for index in ordered}
    total = sum(sizes.values())
    count = workers * max(1, -(-total // (CHUNK_BYTES * workers))) if rounds else workers
    share = total / count
    chunks: List[List[int]] = [[]]
    filled = 0
    for index in ordered:
        if filled >= share * len(chunks) and len(chunks) < count:
            chunks.append([])
        chunks[-1].append(index)
        filled += sizes[index]
    return chunks
