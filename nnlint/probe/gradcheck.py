"""Numerical gradient check of the user's custom `torch.autograd.Function`s, in float64.

While the probe's first forward runs, `Function.apply` is wrapped to keep the first inputs of
each user-defined Function. Each is then checked like gradcheck's fast mode: random projections
u·J·v of the backward against central finite differences of the forward.
"""

from __future__ import annotations

import contextlib
from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch

from nnlint import locate
from nnlint.graph.loading import is_user_file
from nnlint.probe.facts import GradcheckResult
from nnlint.types import Location

Captured = Dict[type, Tuple[tuple, dict]]


@contextlib.contextmanager
def capture_functions() -> Iterator[Captured]:
    """Record the first call of every user-defined autograd.Function inside the block."""
    captured: Captured = {}
    original = torch.autograd.Function.__dict__["apply"]

    def apply(cls, *args, **kwargs):
        if cls not in captured and _user_defined(cls):
            captured[cls] = (tuple(_keep(a) for a in args), {k: _keep(v) for k, v in kwargs.items()})
        return original.__func__(cls, *args, **kwargs)

    torch.autograd.Function.apply = classmethod(apply)  # type: ignore[method-assign, assignment]
    try:
        yield captured
    finally:
        torch.autograd.Function.apply = original  # type: ignore[method-assign]


def _user_defined(cls: type) -> bool:
    code = getattr(getattr(cls, "forward", None), "__code__", None)
    return code is not None and is_user_file(code.co_filename)


def where_defined(cls: type) -> Optional[Location]:
    """The class definition, or its forward's when inspect cannot find the class."""
    found = locate.class_source(cls)
    code = getattr(getattr(cls, "forward", None), "__code__", None)
    return found or (Location(code.co_filename, code.co_firstlineno, 1) if code is not None else None)


def _keep(value: Any) -> Any:
    return value.detach().clone() if isinstance(value, torch.Tensor) else value


def check(captured: Captured, seed: int, projections: int = 3) -> List[GradcheckResult]:
    """One result per captured Function: the worst relative error over random projections, or why it was not judged."""
    results = []
    for cls, (args, kwargs) in captured.items():
        result = GradcheckResult(cls.__name__, where_defined(cls))
        try:
            result.relative_error, result.note = _projections(cls, args, kwargs, seed, projections)
        except Exception as error:  # user code: the Function may not run in float64
            result.note = f"could not be checked in float64 ({type(error).__name__}: {error})"
        results.append(result)
    return results


def _projections(cls: type, args: tuple, kwargs: dict, seed: int, count: int) -> Tuple[Optional[float], str]:
    positions = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor) and a.is_floating_point()]
    if not positions:
        return None, "it has no floating-point tensor input"
    base = [a.double() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args]
    inputs = [base[i].detach().clone().requires_grad_(True) for i in positions]

    def run(values: List[torch.Tensor]) -> List[torch.Tensor]:
        call = list(base)
        for i, value in zip(positions, values):
            call[i] = value
        with torch.random.fork_rng(devices=[]):  # a Function that draws random numbers must draw the same ones
            torch.manual_seed(seed)
            out = cls.apply(*call, **kwargs)  # type: ignore[attr-defined]  # an autograd.Function subclass
        out = out if isinstance(out, (tuple, list)) else (out,)
        return [o for o in out if isinstance(o, torch.Tensor) and o.is_floating_point()]

    outputs = run(inputs)
    differentiable = [o for o in outputs if o.requires_grad]
    if not differentiable:
        return None, "its outputs do not require gradients"
    generator = torch.Generator().manual_seed(seed)
    analytic, numeric = [], []
    for _ in range(count):
        u = [torch.randn(o.shape, generator=generator, dtype=torch.float64).to(o.device) for o in differentiable]
        v = [torch.randn(x.shape, generator=generator, dtype=torch.float64).to(x.device) for x in inputs]
        grads = torch.autograd.grad(differentiable, inputs, grad_outputs=u, retain_graph=True, allow_unused=True)
        if all(g is None for g in grads):
            return None, "its backward returns no input gradient"
        analytic.append(sum(float((g * d).sum()) for g, d in zip(grads, v) if g is not None))
        eps = 1e-6 * max(1.0, max(float(x.detach().abs().max()) for x in inputs))
        with torch.no_grad():
            plus = run([x.detach() + eps * d for x, d in zip(inputs, v)])
            minus = run([x.detach() - eps * d for x, d in zip(inputs, v)])
        selected = [i for i, o in enumerate(outputs) if o.requires_grad]
        numeric.append(sum(float(((plus[i] - minus[i]) * w).sum()) for i, w in zip(selected, u)) / (2 * eps))
    scale = max(max(abs(a), abs(n)) for a, n in zip(analytic, numeric))
    if scale == 0.0:
        return 0.0, ""
    if all(abs(n) <= 1e-8 * scale for n in numeric):
        return None, "its forward is piecewise constant and its backward a surrogate (a straight-through estimator)"
    error = max(abs(a - n) / max(abs(a), abs(n), 1e-12) for a, n in zip(analytic, numeric))
    ratios = [a / n for a, n in zip(analytic, numeric) if abs(n) > 1e-8 * scale]
    mean = sum(ratios) / len(ratios) if ratios else 0.0
    constant = bool(ratios) and max(ratios) - min(ratios) <= 0.01 * abs(mean)
    if constant and mean < 0:
        return None, f"its backward deliberately scales the gradient by {mean:.3g} (gradient reversal)"
    if constant and error > 1e-4:
        return error, f"its backward returns {mean:.4g}× the finite-difference gradient"
    return error, ""
