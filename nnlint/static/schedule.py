"""Where a batch of files is analysed: in this process, or split over a pool of worker processes when it is big.

Never imports torch.
"""

from __future__ import annotations

from typing import Dict, List, Sequence

from nnlint.static.analysis import FileResult, analyze
from nnlint.static.dispatch import rules_for_text
from nnlint.static.reading import Source

PARALLEL_MIN_FILES = 16  # below this a process pool costs more than it saves


def analyze_batch(
    sources: Sequence[Source], batch: List[int], codes: List[str], summarize: bool, workers: int
) -> Dict[int, FileResult]:
    """analyze() for sources[i], i in `batch`, by source index; over `workers` processes if the batch is big enough."""
    if workers > 1 and len(batch) >= PARALLEL_MIN_FILES:
        return _in_pool(sources, batch, codes, summarize, workers)
    return analyze(sources, batch, codes, summarize)


def _in_pool(
    sources: Sequence[Source], todo: List[int], codes: List[str], summarize: bool, workers: int
) -> Dict[int, FileResult]:
    """Split the files over worker processes, balanced by size; each can still parse any other file it needs."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = _contiguous_chunks(sources, todo, codes, workers)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        futures = [pool.submit(analyze, sources, chunk, codes, summarize) for chunk in chunks if chunk]
        merged: Dict[int, FileResult] = {}
        for future in futures:
            for index, result in future.result().items():  # a file checked by one worker, summarised by another
                if index not in merged or merged[index].summary_only:
                    merged[index] = result
        return merged


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
