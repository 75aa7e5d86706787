"""Step 0: forward, loss and backward in train mode with every hook on, read back in one synchronisation.

It fills the gradient facts of every parameter, the loss facts (chance level, probabilities) and the
regularization terms, names the cut for parameters the backward did not reach and locates the first
NaN/Inf. Also: extra no-grad samples so that activation statistics cover enough samples.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, ContextManager, List, Optional, Tuple, cast

import torch
from torch import nn

from nnlint.probe import cuts, data, gradcheck, numerics, overfit_targets
from nnlint.probe.context import ProbeContext
from nnlint.probe.facts import LossFacts, NonFinite, Regularization, VarianceShift
from nnlint.probe.failures import ProbeAborted, user_code
from nnlint.probe.setup import Setup
from nnlint.probe.stats import Recorder
from nnlint.rule import Need
from nnlint.rules.nn313_dead_relu import DeadRelu
from nnlint.rules.nn314_saturated_activation import SaturatedActivation


def step_zero(setup: Setup, ctx: ProbeContext, params: List[nn.Parameter]):
    """Forward, loss and backward in train mode with every hook on; fills gradient and loss facts."""
    model, facts = setup.model, ctx.facts
    model.train()
    args = setup.batches.get(setup.batch)
    recorder = Recorder(model, ctx.option(SaturatedActivation, "preactivation"))
    recorder.activations = True  # the report's table shows activation statistics even when NN313/NN314 are off
    recorder.cuts_enabled = setup.needs(Need.GRADIENT_CUTS)
    recorder.variance = setup.needs(Need.VARIANCE_SHIFT)
    capturing: ContextManager[gradcheck.Captured] = (
        gradcheck.capture_functions() if setup.needs(Need.GRADCHECK) else contextlib.nullcontext({})
    )
    captured: gradcheck.Captured = {}
    with user_code("the forward pass"):
        with capturing as captured, recorder:
            output = model(*args[0], **args[1])
    logits = data.logits_of(output)
    if logits is None:
        raise ProbeAborted(
            f"`{setup.name}` returned {type(output).__name__} with no floating-point tensor, so there is nothing to "
            "backpropagate from. Return the logits (or a tuple/dict holding them).",
            setup.fallback,
        )
    targets = setup.targets if setup.targets is not None else data.make_targets(setup.task, output, setup.generator(1))
    setup.targets_used = targets
    with user_code("the loss"):
        value = data.compute_loss(setup.loss_fn, setup.task, output, targets)
    loss_facts = _loss_facts(setup, recorder, logits, targets)
    loss_facts.output_range = overfit_targets.output_range(logits)
    facts.loss = loss_facts
    reg0 = regularization_terms(setup, value)
    if value.total.requires_grad:
        with user_code("the backward pass"):
            value.total.backward()
    # one synchronisation for everything step 0 measured
    present = [p for p in params if p.grad is not None]
    weights = [p.detach() for p in present]
    grads = [
        grad.to_dense() if grad.is_sparse else grad for grad in (cast(torch.Tensor, p.grad).detach() for p in present)
    ]
    pieces = [value.total.detach().float().reshape(1), _finite_flag(output)]
    pieces.append(data.probability_rows(logits).float().reshape(1))
    if reg0 is not None:
        pieces += [reg0[0].detach().float().reshape(1), reg0[1].detach().float().reshape(1)]
    if present:
        pieces += [
            torch.stack(torch._foreach_norm(grads, 1)).float(),
            torch.stack(torch._foreach_norm(grads, 2)).float(),
            torch.stack(torch._foreach_norm(grads, float("inf"))).float(),
            torch.stack(torch._foreach_norm(weights, 2)).float(),
        ]
    values = torch.cat([p.to(logits.device) for p in pieces]).tolist()
    loss_facts.initial, output_finite, loss_facts.probabilities = values[0], bool(values[1]), bool(values[2])
    offset = 3
    if reg0 is not None:
        facts.regularization = Regularization(reg0[2], values[3], values[4])
        offset = 5
    by_param = {id(p): i for i, p in enumerate(present)}
    count = len(present)
    for facts_p, param in zip(facts.params, params):
        facts_p.used = id(param) in recorder.used_params or not recorder.cuts_enabled
        facts_p.order = recorder.order.index(facts_p.module) if facts_p.module in recorder.order else -1
        index = by_param.get(id(param))
        if index is None:
            continue
        l1, l2, top, size = (values[offset + k * count + index] for k in range(4))
        facts_p.had_grad, facts_p.nonzero = True, l1 > 0
        facts_p.finite = math.isfinite(l1) and math.isfinite(l2)
        facts_p.grad_mean_abs, facts_p.grad_norm, facts_p.grad_max_abs, facts_p.weight_norm = (
            l1 / max(param.numel(), 1),
            l2,
            top,
            size,
        )
    _check_finite(setup, ctx, args, output, params, output_finite, step=0)
    if recorder.cuts_enabled:
        cuts.explain(model, [f for f in facts.params if not f.had_grad], recorder)
    for param in params:
        param.grad = None
    return _detach(output), recorder, captured


def more_samples(setup: Setup, ctx: ProbeContext, recorder: Recorder) -> None:
    """No-grad train-mode forwards until activation statistics cover `min_samples` samples."""
    need = int(ctx.option(DeadRelu, "min_samples")) - setup.batch
    if need <= 0:
        return
    recorder.cuts_enabled = False
    args = setup.batches.extra(need)
    with user_code("the forward pass"), torch.no_grad(), recorder:
        setup.model(*args[0], **args[1])


def read_recorder(ctx: ProbeContext, recorder: Recorder) -> None:
    """Activation statistics, layer outputs and variance ratios into the facts (one synchronisation)."""
    facts = ctx.facts
    share = float(ctx.option(SaturatedActivation, "sample_share"))
    facts.activations, facts.layer_outputs, ratios = recorder.read(share)
    seen = set()
    for module, where, label, ratio in ratios:  # the first forward that saw each BatchNorm
        if module not in seen:
            seen.add(module)
            facts.variance_shifts.append(VarianceShift(module, where, ratio, label))


def regularization_terms(setup: Setup, value: data.LossValue) -> Optional[Tuple[torch.Tensor, torch.Tensor, str]]:
    """(regularization term, data term, where it comes from) when the loss reports parts or weight decay is set."""
    if value.parts:
        reg_names, data_names = data.split_parts(value.parts)
        if reg_names and data_names:
            reg = torch.stack([value.parts[n].reshape(()) for n in reg_names]).sum()
            dat = torch.stack([value.parts[n].reshape(()) for n in data_names]).sum()
            return reg, dat, "the loss terms " + ", ".join(f"`{n}`" for n in reg_names)
    term = weight_decay_term(setup.optimizer)
    if term is not None:
        return term[0], value.total, term[1]
    return None


def weight_decay_term(optimizer: Optional[torch.optim.Optimizer]) -> Optional[Tuple[torch.Tensor, str]]:
    """(weight_decay/2 · ||θ||² summed over the param groups that decay, where it comes from), or None."""
    if optimizer is None:
        return None
    terms, decays = [], set()
    for group in optimizer.param_groups:
        decay = float(group.get("weight_decay", 0.0) or 0.0)
        params = [p for p in group["params"] if p.requires_grad]
        if decay > 0 and params:
            decays.add(decay)
            terms.append(decay / 2 * torch.stack(torch._foreach_norm([p.detach() for p in params])).pow(2).sum())
    if not terms:
        return None
    shown = ", ".join(f"{d:g}" for d in sorted(decays))
    return torch.stack(terms).sum(), f"weight_decay={shown} in your optimizer (as an L2 term: weight_decay/2 · ||θ||²)"


def _finite_flag(output: Any) -> torch.Tensor:
    tensors = data.float_outputs(output)
    device = tensors[0].device if tensors else "cpu"
    flags = [torch.isfinite(t.detach()).all().reshape(1) for t in tensors]
    return torch.cat(flags).all().float().reshape(1) if flags else torch.ones(1, device=device)


def _detach(output: Any) -> Any:
    if isinstance(output, torch.Tensor):
        return output.detach()
    if isinstance(output, (list, tuple)):
        return (
            type(output)(_detach(o) for o in output)
            if not hasattr(output, "_fields")
            else type(output)(*(_detach(o) for o in output))
        )
    if isinstance(output, dict):
        return {k: _detach(v) for k, v in output.items()}
    return output


def _loss_facts(setup: Setup, recorder: Recorder, logits: torch.Tensor, targets: Any) -> LossFacts:
    name = (
        "a surrogate loss (mean squared error against random targets)"
        if setup.loss_fn is None
        else type(setup.loss_fn).__name__
    )
    facts = LossFacts(setup.task, name)
    facts.log_softmax_loss = data.applies_log_softmax(setup.loss_fn)
    facts.classes = logits.shape[1] if logits.dim() >= 2 else None
    facts.softmax_where = recorder.softmax_where
    facts.output_module = recorder.order[-1] if recorder.order else ""
    if setup.loss_fn is not None:
        facts.expected, facts.expected_why = data.chance_loss(
            setup.task, setup.loss_fn, logits, targets, setup.targets is not None
        )
        facts.from_prior = (
            setup.targets is not None
            and setup.task in ("binary", "multilabel")
            and isinstance(setup.loss_fn, (nn.BCEWithLogitsLoss, nn.BCELoss))
        )
    else:
        facts.expected_why = "no task or loss was given"
    return facts


def _check_finite(setup: Setup, ctx: ProbeContext, args, output, params, output_finite: bool, step: int) -> None:
    facts = ctx.facts
    if facts.nonfinite is not None:
        return
    if not output_finite:
        what, where = numerics.locate_forward(setup.model, args[0], args[1])
        phase = "the input batch" if what.startswith("the input batch") else "forward"
        facts.nonfinite = NonFinite(phase, step, what, where)
    elif facts.loss is not None and not math.isfinite(facts.loss.initial):
        facts.nonfinite = NonFinite(
            "the loss", step, f"the loss ({facts.loss.loss_name}) is NaN/Inf although the outputs are finite", None
        )
    elif any(p.had_grad and not p.finite for p in facts.params):

        def again() -> torch.Tensor:
            out = setup.model(*args[0], **args[1])
            return data.compute_loss(setup.loss_fn, setup.task, out, setup.targets_used).total

        what, where = numerics.locate_backward(again, params)
        facts.nonfinite = NonFinite("backward", step, what, where)
