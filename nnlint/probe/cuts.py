"""Why a parameter got no gradient: its module never ran, it ran under no_grad, or a call cut the path to the loss."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Set

from torch import nn

from nnlint.probe.facts import ParamFacts
from nnlint.probe.stats import Recorder


def reachable_parameters(node: Any, cache: Dict[int, Set[int]]) -> Set[int]:
    """id()s of the leaf tensors (parameters) an autograd node's backward would reach."""
    found: Set[int] = set()
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if id(current) in cache:
            found |= cache[id(current)]
            continue
        variable = getattr(current, "variable", None)
        if variable is not None:
            found.add(id(variable))
        stack.extend(next_node for next_node, _ in getattr(current, "next_functions", ()))
    cache[id(node)] = found
    return found


def explain(model: nn.Module, missing: Iterable[ParamFacts], recorder: Recorder) -> None:
    """Fill `why_no_grad` and `cut_where` of parameters that the backward did not reach."""
    by_name = dict(model.named_parameters())
    cache: Dict[int, Set[int]] = {}
    reach: List[Set[int]] = [
        reachable_parameters(cut.grad_fn, cache) if cut.grad_fn is not None else set() for cut in recorder.cuts
    ]
    for facts in missing:
        param = by_name[facts.name]
        key = id(param)
        owner = f"`self.{facts.module}` ({facts.module_type})" if facts.module else "the model"
        if facts.module and facts.module not in recorder.called and key not in recorder.used_params:
            facts.why_no_grad = f"{owner} never ran in forward, so nothing it computes reaches the loss"
            continue
        if key not in recorder.used_params:
            facts.why_no_grad = (
                f"forward never uses it (the parameter is registered on {owner} but no operation reads it)"
            )
            continue
        if key not in recorder.grad_params:
            where = recorder.nograd_use.get(key)
            facts.why_no_grad = f"it is only used while gradients are disabled (`torch.no_grad()` or `torch.inference_mode()`) in {owner}"
            facts.cut_where = where
            continue
        for cut, reached in zip(recorder.cuts, reach):
            if cut.param == key or key in reached:
                target = "the parameter itself" if cut.param == key else "a tensor computed from it"
                facts.why_no_grad = f"{cut.label} on {target} cuts it out of the autograd graph"
                facts.cut_where = cut.where
                break
        else:
            facts.why_no_grad = (
                f"{owner} runs, but its result never reaches the loss: it is computed and dropped, or reaches the "
                "output only through non-differentiable operations (argmax, comparisons, rounding, integer casts)"
            )
