"""Where each layer was constructed (`nn.Dropout(0.5)` in a helper, a loop, a config list): the user's line to
point at when the attribute that holds the layer tells nothing (`self.body = nn.Sequential(*layers)`)."""

from __future__ import annotations

import contextlib
import sys
import weakref
from types import FrameType
from typing import Iterator, Optional, Tuple

from torch import nn

# module -> (file, line) of the user's call that constructed it; weak, so models are freed as usual.
_BUILT_AT: "weakref.WeakKeyDictionary[nn.Module, Tuple[str, int]]" = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def recording() -> Iterator[None]:
    """Inside the block, every module constructed records the innermost user frame that called its constructor."""
    from nnlint.graph.loading import is_user_file

    original = nn.Module.__init__

    def init(module: nn.Module, *args, **kwargs) -> None:
        original(module, *args, **kwargs)
        frame: Optional[FrameType] = sys._getframe(1)
        while frame is not None:
            code = frame.f_code
            # Skip the module's own constructors (`super().__init__()` in a user-defined layer): the caller built it.
            if is_user_file(code.co_filename) and not (
                code.co_name == "__init__" and frame.f_locals.get("self") is module
            ):
                _BUILT_AT[module] = (code.co_filename, frame.f_lineno)
                return
            frame = frame.f_back

    nn.Module.__init__ = init  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        nn.Module.__init__ = original  # type: ignore[method-assign]


def built_at(module: nn.Module) -> Optional[Tuple[str, int]]:
    """(file, line) of the user's call that constructed `module`, if it was built while recording."""
    try:
        return _BUILT_AT.get(module)
    except TypeError:  # not weak-referenceable
        return None
