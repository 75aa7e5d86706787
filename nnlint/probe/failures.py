"""User code failing inside the probe: the exception becomes a finding that says what happened and what to try."""

from __future__ import annotations

import traceback
from typing import Any, Literal, Optional

from nnlint.graph.loading import is_user_file
from nnlint.types import Location


class ProbeAborted(Exception):
    """User code failed in a way that stops the probe; carries the finding to report."""

    def __init__(self, message: str, where: Optional[Location]) -> None:
        super().__init__(message)
        self.where = where


class user_code:
    """Turns an exception raised by the user's code in a phase into ProbeAborted with a helpful message."""

    def __init__(self, phase: str) -> None:
        self.phase = phase

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Optional[BaseException], tb: Any) -> Literal[False]:
        if error is None or isinstance(error, (ProbeAborted, KeyboardInterrupt)) or not isinstance(error, Exception):
            return False
        raise as_aborted(error, self.phase) from None


def as_aborted(error: BaseException, phase: str) -> ProbeAborted:
    """ProbeAborted for an exception raised in `phase`; running out of memory gets its own advice."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if out_of_memory(error):
        return ProbeAborted(
            f"The probe ran out of memory in {phase} ({type(error).__name__}: {text[:200]}). Probe with a smaller batch "
            "(the first number of `--input-shape`, or fewer rows in `inputs`) or on a device with more memory.",
            raised_at(error),
        )
    return ProbeAborted(
        f"The probe stopped: {phase} raised {type(error).__name__}: {text[:300]}. If the input does not fit the model, "
        "give the right one (`--input-shape`, `inputs` in [[tool.nnlint.models]], or `inputs=` in Python).",
        raised_at(error),
    )


def out_of_memory(error: BaseException) -> bool:
    """CPU or GPU out-of-memory, whatever exception type carries it."""
    return (
        isinstance(error, MemoryError)
        or "out of memory" in str(error).lower()
        or "can't allocate memory" in str(error).lower()
        or type(error).__name__ == "OutOfMemoryError"
    )


def raised_at(error: BaseException) -> Optional[Location]:
    """The innermost frame of the user's code in the exception's traceback."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if is_user_file(frame.filename):
            found = Location(frame.filename, frame.lineno or 1, 1)
    return found
