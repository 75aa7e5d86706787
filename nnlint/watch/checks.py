"""The figures of a sampled step as the probe's Facts, judged by the probe's own rules (same codes, thresholds, texts).

The probe's messages speak of its own steps ("at initialisation", "over steps 3-10"); `restate` puts the
watched step in their place, and every message ends with the step it was measured at.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn

from nnlint import registry
from nnlint.probe import data, overfit_targets
from nnlint.probe.context import ProbeContext
from nnlint.probe.engine import param_facts
from nnlint.probe.facts import Facts, LossFacts, NonFinite, ParamFacts, Regularization
from nnlint.probe.training import median
from nnlint.rule import OptionValues, ProbeRule
from nnlint.rules.nn003_internal_error import InternalError
from nnlint.rules.nn314_saturated_activation import SaturatedActivation
from nnlint.types import Finding, Location, Pass
from nnlint.watch.sampling import Params, Sample, members

# the probe rules whose facts a training run provides
WATCHED = ("NN102", "NN207", "NN208", "NN313", "NN314", "NN315", "NN316", "NN317", "NN411", "NN412")


@dataclasses.dataclass
class StepFigures:
    """What one sampled step measured, as plain numbers (for TensorBoard and the end-of-run plot)."""

    step: int
    loss: Optional[float]
    params: List[ParamFacts]
    update_ratios: Dict[str, float]
    dead_fractions: Dict[str, float]


class Judge:
    """Keeps what the run has shown so far (first-step figures, update ratios, the loss curve) and judges each sample."""

    def __init__(
        self,
        model: nn.Module,
        params: Params,
        optimizer: Optional[torch.optim.Optimizer],
        loss_fn: Any,
        task: Optional[str],
        codes: frozenset,
        options: OptionValues,
        fallback: Location,
    ) -> None:
        self.model, self.params, self.optimizer = model, params, optimizer
        self.loss_fn, self.task, self.options, self.fallback = loss_fn, task, options, fallback
        self.base = [param_facts(model, name, p) for name, p in params]
        self.rules = [r for r in registry.hooked(registry.rules_for(codes), ProbeRule) if r.code in WATCHED]
        self.ratios: Dict[int, List[float]] = {}  # param index -> update ratios of the sampled steps after the first
        self.ratio_steps: List[int] = []
        self.first_step: Optional[int] = None
        self.curve: List[Tuple[int, int, float]] = []
        self.regularization0: Optional[Tuple[float, float, str]] = None
        self.floor: Optional[Tuple[float, str]] = None
        self.output_module = ""
        self.lost = False  # a NaN/Inf was reported: the run is lost, and later samples are not judged
        self.reg_source = "the regularization terms"  # named after the loss terms `step()` was given

    def saturation(self) -> float:
        """The pre-activation from which NN314 counts a unit as saturated (the Recorder needs it up front)."""
        return float(SaturatedActivation.option_value("preactivation", self.options))

    def judge(
        self, sample: Sample, loss: Optional[torch.Tensor], parts: Optional[Dict[str, torch.Tensor]], window: Any
    ) -> Tuple[List[Finding], StepFigures]:
        """Findings of one sampled step (messages restated for it) and its figures; `window` is (first, last, mean loss)."""
        facts = Facts(user_optimizer=self.optimizer is not None)
        step = sample.step
        lrs = members(self.optimizer) if self.optimizer is not None else {}
        share = float(SaturatedActivation.option_value("sample_share", self.options))
        if sample.forwards:
            facts.activations, facts.layer_outputs, _ = sample.recorder.read(share)
            if sample.recorder.order:
                self.output_module = sample.recorder.order[-1]
        order = sample.recorder.order
        facts.params = [copy.copy(p) for p in self.base]
        for facts_p, (_, param) in zip(facts.params, self.params):
            facts_p.used = True
            facts_p.order = order.index(facts_p.module) if facts_p.module in order else (-1 if order else 0)
            if self.optimizer is not None:
                facts_p.in_optimizer = id(param) in lrs
                facts_p.lr = lrs.get(id(param))
        values = self._read(sample, loss, parts)
        self._note_gradients(facts, sample, values)
        self._note_updates(facts, sample, values)
        if window is not None:
            self.curve.append(window)
        facts.loss_curve = list(self.curve)
        loss_value = values.get("loss")
        if step == self.first_sampled(step):
            facts.loss = self._loss_facts(sample, loss_value)
        self._note_regularization(facts, step, values)
        facts.loss_floor = self.floor
        facts.nonfinite = self._nonfinite(facts, sample, values)
        if self.lost:
            return [], self._figures(step, values, facts)  # after the first NaN/Inf, everything else is its consequence
        if facts.nonfinite is not None:
            self.lost = True
            facts.activations = []  # NaN is neither dead nor saturated: NN313/NN314 would report the NaN again
        if facts.loss is None and self.output_module:
            facts.loss = LossFacts(self.task, "", output_module=self.output_module)
            facts.loss.expected_why = "the chance level is judged at the first watched step only"
        ctx = ProbeContext(self.model, facts, self.fallback, self.options)
        for rule in self.rules:
            try:
                rule(ctx).check_probe(ctx)
            except Exception as error:  # a bug in one rule must not hide the others
                ctx.report(InternalError, self.fallback, InternalError.rule_failed(rule, Pass.PROBE, error))
        found = [dataclasses.replace(f, message=restate(f.message, step, self.ratio_steps)) for f in ctx.findings]
        return found, self._figures(step, values, facts)

    def _figures(self, step: int, values: Dict[str, Any], facts: Facts) -> StepFigures:
        relus = [site for site in facts.activations if site.kind == "relu" and site.units]
        return StepFigures(
            step,
            values.get("loss"),
            facts.params,
            {p.name: r for p, r in zip(facts.params, values.get("ratios", [])) if r is not None},
            {site.name: site.dead_units / site.units for site in relus},
        )

    def first_sampled(self, step: int) -> int:
        """The first step the watch measured (the chance level and the first-step ratios belong to it)."""
        if self.first_step is None:
            self.first_step = step
        return self.first_step

    # --- reading -------------------------------------------------------------------------------

    def _read(
        self, sample: Sample, loss: Optional[torch.Tensor], parts: Optional[Dict[str, torch.Tensor]]
    ) -> Dict[str, Any]:
        """Every device figure of the sample in one synchronisation."""
        pieces: List[Tuple[str, torch.Tensor]] = []
        if loss is not None:
            pieces.append(("loss", loss.detach().float().reshape(1)))
        elif sample.model_loss is not None:
            pieces.append(("loss", sample.model_loss.float().reshape(1)))
        if sample.output_finite is not None:
            pieces.append(("output_finite", sample.output_finite.float().reshape(1)))
        if sample.grads is not None:
            pieces.append(("grads", sample.grads.reshape(-1)))
        if sample.updates is not None:
            pieces.append(("updates", sample.updates.float()))
        if parts:
            reg_names, data_names = data.split_parts(parts)
            if reg_names and data_names:
                reg = torch.stack([parts[n].detach().reshape(()) for n in reg_names]).sum().float()
                dat = torch.stack([parts[n].detach().reshape(()) for n in data_names]).sum().float()
                pieces.append(("reg_parts", torch.stack([reg, dat])))
                self.reg_source = "the loss terms " + ", ".join(f"`{n}`" for n in reg_names)
        if sample.decay is not None and "reg_parts" not in [k for k, _ in pieces]:
            pieces.append(("decay", sample.decay[0].detach().float().reshape(1)))
        if not pieces:
            return {}
        device = pieces[0][1].device
        flat = torch.cat([t.to(device) for _, t in pieces]).tolist()
        values: Dict[str, Any] = {}
        offset = 0
        for key, tensor in pieces:
            size = tensor.numel()
            chunk = flat[offset : offset + size]
            offset += size
            values[key] = chunk[0] if size == 1 and key in ("loss", "output_finite", "decay") else chunk
        return values

    def _note_gradients(self, facts: Facts, sample: Sample, values: Dict[str, Any]) -> None:
        grads = values.get("grads")
        if grads is None:
            return
        count = len(sample.with_grad)
        for k, index in enumerate(sample.with_grad):
            l1, l2, top, size = (grads[j * count + k] for j in range(4))
            facts_p = facts.params[index]
            facts_p.had_grad, facts_p.nonzero = True, l1 > 0
            facts_p.finite = math.isfinite(l1) and math.isfinite(l2)
            facts_p.grad_mean_abs = l1 / max(math.prod(facts_p.shape), 1)
            facts_p.grad_norm, facts_p.grad_max_abs, facts_p.weight_norm = l2, top, size

    def _note_updates(self, facts: Facts, sample: Sample, values: Dict[str, Any]) -> None:
        updates = values.get("updates")
        ratios: List[Optional[float]] = [None] * len(facts.params)
        if updates is not None:
            first = sample.step == self.first_sampled(sample.step)
            if not first:
                self.ratio_steps.append(sample.step)
            for index, ratio in zip(sample.stepped, updates):
                ratios[index] = ratio
                facts_p = facts.params[index]
                if facts_p.had_grad and facts_p.nonzero:
                    facts_p.changed = ratio > 0
                if first:
                    facts_p.first_update_ratio = ratio
                else:
                    self.ratios.setdefault(index, []).append(ratio)
        for index, facts_p in enumerate(facts.params):
            facts_p.update_ratio = median(self.ratios.get(index, []))
        values["ratios"] = ratios

    def _loss_facts(self, sample: Sample, loss_value: Optional[float]) -> Optional[LossFacts]:
        """The chance level from the real labels' balance, and the floor a squashed output puts under the loss."""
        logits, targets = sample.logits, sample.targets
        if logits is None or loss_value is None:
            return None
        loss_fn = self.loss_fn
        if loss_fn is None and sample.model_loss is not None and isinstance(targets, torch.Tensor):
            loss_fn = nn.CrossEntropyLoss()  # a Hugging Face classifier's built-in loss
        task = data.task_for(self.task, loss_fn, None) if self.task is None and loss_fn is not None else self.task
        facts = LossFacts(task, type(loss_fn).__name__ if loss_fn is not None else "your loss")
        facts.initial = loss_value
        facts.output_module = self.output_module
        if loss_fn is None or targets is None:
            facts.expected_why = "pass `loss=` (your loss module) so that the watch sees the targets"
            return facts
        if logits.dim() > 2 and task == "multiclass":
            facts.expected_why = "the chance level is judged for [batch, classes] outputs only"
            return facts
        facts.expected, facts.expected_why = data.chance_loss(task, loss_fn, logits, targets, True)
        facts.from_prior = task in ("binary", "multilabel") and isinstance(loss_fn, (nn.BCEWithLogitsLoss, nn.BCELoss))
        self.floor = overfit_targets.loss_floor(loss_fn, sample.output_range, targets)
        return facts

    def _note_regularization(self, facts: Facts, step: int, values: Dict[str, Any]) -> None:
        """NN208's terms: at the first step as they are; later, as they are when they now outweigh the data
        term, else their growth since the first step."""
        if "reg_parts" in values:
            reg, dat = values["reg_parts"]
            source = self.reg_source
        elif "decay" in values and "loss" in values:
            reg, dat = values["decay"], values["loss"]
            source = self._decay_source()
        else:
            return
        if self.regularization0 is None:
            self.regularization0 = (reg, dat, source)
            facts.regularization = Regularization(source, reg, dat)
        elif reg > dat:
            facts.regularization = Regularization(source, reg, dat)
        else:
            reg0, dat0, _ = self.regularization0
            facts.regularization = Regularization(source, reg0, dat0, reg, dat)
            facts.optimizer_steps = step

    def _decay_source(self) -> str:
        from nnlint.probe.first_step import weight_decay_term

        term = weight_decay_term(self.optimizer)
        return term[1] if term is not None else "weight decay"

    def _nonfinite(self, facts: Facts, sample: Sample, values: Dict[str, Any]) -> Optional[NonFinite]:
        """The first NaN/Inf of this step, naming the first layer (forward) or the layer nearest the loss (backward)."""
        step = sample.step
        if values.get("output_finite", 1.0) < 1.0:
            what, where = sample.nonfinite_source or ("the forward pass produced NaN/Inf", None)
            phase = "the input batch" if what.startswith("the input batch") else "forward"
            return NonFinite(phase, step, what, where)
        loss = values.get("loss")
        if loss is not None and not math.isfinite(loss):
            return NonFinite("the loss", step, "the loss is NaN/Inf although the outputs are finite", None)
        bad = [p for p in facts.params if p.had_grad and not p.finite]
        if bad:
            nearest = max(bad, key=lambda p: p.order)
            where = ProbeContext(self.model, facts, self.fallback).where_module(nearest.name)
            return NonFinite(
                "backward",
                step,
                f"the gradients are NaN/Inf from `{nearest.name}` (the layer nearest the loss with NaN/Inf gradients) "
                "back towards the input",
                where,
            )
        return None


_PHRASES = (("At initialisation", "At step {step}"), ("at initialisation", "at step {step}"))


def restate(message: str, step: int, ratio_steps: List[int]) -> str:
    """A probe message said of a watched step: the step in place of the probe's own, and the step at the end."""
    if step > 0:
        for old, new in _PHRASES:
            message = message.replace(old, new.format(step=step))
    if ratio_steps:
        shown = f"{ratio_steps[0]}" if len(ratio_steps) == 1 else f"{ratio_steps[0]}-{ratio_steps[-1]}"
        message = message.replace("over steps 3-10", f"over the watched steps {shown}")
    return f"{message} (step {step})"
