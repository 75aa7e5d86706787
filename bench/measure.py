"""What the bench scripts measure the same way."""

from __future__ import annotations


def children_cpu() -> float:
    """User+system CPU seconds of finished child processes (wall time is noisy on a shared machine)."""
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime
    except Exception:
        return float("nan")
