"""Watching a real training run with the probe's checks: `nnlint.watch(model, optimizer, loss=criterion)`.

This package is callable (`nnlint.watch(...)` is `nnlint.watch.handle.watch`), and imports torch only when
called or when its modules are: `handle.py` (the object a training loop calls), `sampling.py` (the hooks of a
sampled step), `checks.py` (figures -> the probe's Facts -> the probe's rules), `reduce.py` (several
processes) and `output.py` (log, reporters, TensorBoard, plot).
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    """`nnlint.watch(...)` starts a watch; attribute access works as for any package."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from nnlint.watch.handle import watch

        return watch(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
