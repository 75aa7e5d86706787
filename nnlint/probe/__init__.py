"""The probe pass: a few real forward/backward steps that prove gradients flow and measure training diagnostics.

`nnlint.probe(model, inputs, ...)` calls `nnlint.probe.api.probe`: this package is callable, so the
function and the package share the name. `engine.py` and what it imports touch torch and run inside
a worker (CLI) or the caller's process; this file, `cli.py`, `isolated.py`, `report.py`, `baseline.py` and
`targets.py` stay light.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    """`nnlint.probe(...)` runs the probe; attribute access works as for any package."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from nnlint.probe.api import probe

        return probe(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
