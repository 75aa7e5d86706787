"""The hooks of one sampled step: armed after the step before it, removed as soon as their part is measured.

Forward: the watch's ActivationRecorder (activations.py: activation statistics, module order) runs from the
model's forward pre-hook to its forward hook, over consecutive training forwards until enough samples were
seen (after the first, with hooks on the few modules that hold activations).
Loss: a forward hook on the loss module (when one is given) keeps the targets. Optimizer: a step pre-hook
reads the final gradients and the weights, a step post-hook the update; without an optimizer the gradients
are read when the step ends. Everything stays on the device until `Sample.read()`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, cast

import torch
from torch import nn

from nnlint.probe import data, numerics, overfit_targets
from nnlint.probe.first_step import weight_decay_term
from nnlint.types import Location
from nnlint.watch.activations import ActivationRecorder

Params = List[Tuple[str, nn.Parameter]]


class Sample:
    """The hooks and raw device figures of one sampled step (`step` is the training step it measures)."""

    def __init__(
        self,
        step: int,
        model: nn.Module,
        params: Params,
        optimizer: Optional[torch.optim.Optimizer],
        loss_module: Optional[nn.Module],
        saturation: float,
        min_samples: int,
        max_forwards: int = 16,
        snapshot: Optional[Snapshot] = None,
    ) -> None:
        self.step, self.model, self.params, self.optimizer = step, model, params, optimizer
        self.snapshot = snapshot if snapshot is not None else Snapshot()
        self.min_samples, self.max_forwards = min_samples, max_forwards
        self.recorder = ActivationRecorder(model, saturation)
        self.forwards = self.samples = 0
        self.recording = self.locating = False
        self.args: Optional[Tuple[tuple, dict]] = None  # the first forward's inputs, to name a NaN's source
        self.logits: Optional[torch.Tensor] = None
        self.output_range: Optional[Tuple[float, float, str]] = None
        self.output_finite: Optional[torch.Tensor] = None
        self.model_loss: Optional[torch.Tensor] = None  # a Hugging Face model's `output.loss`
        self.nonfinite_source: Optional[Tuple[str, Optional[Location]]] = None  # what made the output NaN/Inf
        self.targets: Any = None
        # [4, n]: l1, l2, max |g| (with an optimizer: of unchanged params only, else NaN), ||θ|| of params with a gradient
        self.grads: Optional[torch.Tensor] = None
        self.with_grad: List[int] = []  # indices into params
        self.decay: Optional[Tuple[torch.Tensor, str]] = None
        self.updates: Optional[torch.Tensor] = None  # ||Δθ|| / ||θ after|| per param in the optimizer
        self.stepped: List[int] = []
        self._before: List[torch.Tensor] = []
        self._forward_hooks: List[Any] = []
        self._other_hooks: List[Any] = []
        self._outer: Optional[nn.Module] = None
        # the model and its direct children: a LightningModule's training_step may call `self.net(x)`, not `self(x)`
        for module in (model, *model.children()):
            self._forward_hooks.append(module.register_forward_pre_hook(self._forward_starts, with_kwargs=True))
            self._forward_hooks.append(module.register_forward_hook(self._forward_ends, always_call=True))
        if loss_module is not None:
            self._other_hooks.append(loss_module.register_forward_hook(self._loss_called))
        if optimizer is not None:
            self._other_hooks.append(optimizer.register_step_pre_hook(self._before_step))
            self._other_hooks.append(optimizer.register_step_post_hook(self._after_step))

    @property
    def forward_done(self) -> bool:
        """Whether the forward statistics cover enough samples (or forwards) to be judged."""
        return not self._forward_hooks

    # --- forward -----------------------------------------------------------------------------

    def _forward_starts(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        if not module.training or self.recording or self.locating:  # evaluation passes are not measured
            return
        self._outer = module
        if self.args is None:
            self.args = (args, kwargs)
            labels = kwargs.get("labels")
            if self.targets is None and isinstance(labels, torch.Tensor):
                self.targets = labels.detach()
        self.recording = True
        self.recorder.begin(module, args)

    def _forward_ends(self, module: nn.Module, args: tuple, output: Any) -> None:
        if not self.recording or module is not self._outer:
            return
        self.recorder.__exit__(None, None, None)
        self.recording = False
        self.forwards += 1
        logits = _logits(output)
        if logits is not None:
            self.samples += logits.shape[0] if logits.dim() else 1
        if self.forwards == 1:
            tensors = data.float_outputs(output)
            if tensors:
                self.output_finite = torch.stack([torch.isfinite(t.detach()).all() for t in tensors]).all()
                if not bool(self.output_finite) and self.args is not None:  # one synchronisation per sample
                    # named now: after this step's optimizer update the weights themselves hold the NaN
                    self.locating = True
                    try:
                        self.nonfinite_source = locate_forward(module, self.args)
                    finally:
                        self.locating = False
            if logits is not None:
                self.logits = logits.detach()
                self.output_range = overfit_targets.output_range(logits)
            loss = getattr(output, "loss", None) if not isinstance(output, dict) else output.get("loss")
            if isinstance(loss, torch.Tensor) and loss.numel() == 1:
                self.model_loss = loss.detach()
            self.recorder.narrow()
        # the later forwards add samples to the activation sites of the first: without any, they add nothing
        if self.samples >= self.min_samples or self.forwards >= self.max_forwards or not self.recorder.sites:
            self.remove_forward_hooks()

    def _loss_called(self, module: nn.Module, args: tuple, output: Any) -> None:
        if self.targets is None and len(args) >= 2 and isinstance(args[1], torch.Tensor):
            self.targets = args[1].detach()

    # --- optimizer ---------------------------------------------------------------------------

    def _before_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if self.grads is None:
            self.read_gradients()
            self.decay = weight_decay_term(self.optimizer)
        lrs = members(optimizer)
        self.stepped = [i for i, (_, p) in enumerate(self.params) if id(p) in lrs]
        self._before = self.snapshot.take([self.params[i][1].detach() for i in self.stepped])

    def _after_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if self._before:
            after = [self.params[i][1].detach() for i in self.stepped]
            torch._foreach_sub_(self._before, after)  # in place: no second copy of the weights
            delta = torch.stack(torch._foreach_norm(self._before))
            self.updates = delta / torch.stack(torch._foreach_norm(after)).clamp_min(1e-30)
            self._max_gradients(delta)
        self._before = []
        self.remove_other_hooks()

    def _max_gradients(self, delta: torch.Tensor) -> None:
        """max |g| of the parameters the step left unchanged (NN411 asks whether their update rounded away);
        an infinity norm costs a ResNet step's worth of time on CPU, so it is taken only where it is needed."""
        if self.grads is None:
            return
        unchanged = {self.stepped[k] for k, moved in enumerate((delta > 0).tolist()) if not moved}
        for column, index in enumerate(self.with_grad):
            grad = self.params[index][1].grad
            if index in unchanged and grad is not None:
                self.grads[2, column] = _dense(grad.detach()).abs().max().float()

    def read_gradients(self) -> None:
        """Norms of the gradients now held by the parameters (the optimizer's pre-step hook, or the step's end)."""
        present = [i for i, (_, p) in enumerate(self.params) if p.grad is not None]
        if not present:
            return
        grads = [_dense(cast(torch.Tensor, self.params[i][1].grad).detach()) for i in present]
        weights = [self.params[i][1].detach() for i in present]
        self.with_grad = present
        l1 = _l1_norms(grads)
        self.grads = torch.stack(
            [
                l1,
                torch.stack(torch._foreach_norm(grads, 2)).float(),
                torch.full_like(l1, float("nan")) if self.optimizer is not None else _max_abs(grads),
                torch.stack(torch._foreach_norm(weights, 2)).float(),
            ]
        )

    # --- the end -------------------------------------------------------------------------------

    def remove_forward_hooks(self) -> None:
        """Stop recording forwards (enough samples, or the sample is abandoned)."""
        if self.recording:
            self.recorder.__exit__(None, None, None)
            self.recording = False
        for handle in self._forward_hooks:
            handle.remove()
        self._forward_hooks.clear()

    def remove_other_hooks(self) -> None:
        """Remove the loss and optimizer hooks."""
        for handle in self._other_hooks:
            handle.remove()
        self._other_hooks.clear()

    def close(self) -> None:
        """Remove every hook this sample still holds."""
        self.remove_forward_hooks()
        self.remove_other_hooks()


class Snapshot:
    """The weights before an optimizer step, in buffers kept from one sample to the next while the weights live
    in host memory: on CPU, allocating 45 MB afresh (ResNet-18) costs 13 ms, page faults mostly, and copying into
    kept buffers 2 ms. The peak memory is the same (every sample holds a copy during its step); on a GPU the
    caching allocator already reuses the memory, and the buffers are let go after each step."""

    def __init__(self) -> None:
        self.buffers: List[torch.Tensor] = []

    def take(self, weights: List[torch.Tensor]) -> List[torch.Tensor]:
        """A copy of `weights` (the caller may change it in place until the next `take`)."""
        same = len(self.buffers) == len(weights) and all(
            b.shape == w.shape and b.dtype == w.dtype and b.device == w.device for b, w in zip(self.buffers, weights)
        )
        if same and weights:
            torch._foreach_copy_(self.buffers, weights)
            copy = self.buffers
        else:
            copy = [w.clone() for w in weights]
        self.buffers = copy if all(w.device.type == "cpu" for w in weights) else []
        return copy

    def release(self) -> None:
        """Let the kept buffers go (the watch is closed)."""
        self.buffers = []


def locate_forward(model: nn.Module, args: Tuple[tuple, dict]) -> Tuple[str, Optional[Location]]:
    """The probe's forward tracer, with the model's buffers (BatchNorm statistics) and the RNG left as they were."""
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    devices = [t.device.index or 0 for t in data.float_outputs(args) if t.is_cuda][:1]
    try:
        with torch.random.fork_rng(devices=devices):
            return numerics.locate_forward(model, args[0], args[1])
    finally:
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)


def members(optimizer: Any) -> Dict[int, float]:
    """id(param) -> lr of every parameter in the optimizer's param groups (empty without an optimizer)."""
    return {id(p): float(g.get("lr", 0.0)) for g in getattr(optimizer, "param_groups", []) for p in g["params"]}


def _logits(output: Any) -> Optional[torch.Tensor]:
    logits = getattr(output, "logits", None)
    if isinstance(logits, torch.Tensor):
        return logits
    return data.logits_of(output)


def _l1_norms(grads: List[torch.Tensor]) -> torch.Tensor:
    """sum |g| of each gradient, float32: on CPU `_foreach_norm(grads, 1)` has no vectorised kernel and takes
    twice as long as `abs().sum()` (6.5 and 3.6 ms on ResNet-18); on a GPU it is one fused launch."""
    if all(g.device.type == "cpu" for g in grads):
        return torch.stack([g.abs().sum(dtype=torch.float32) for g in grads])
    return torch.stack(torch._foreach_norm(grads, 1)).float()


def _max_abs(grads: List[torch.Tensor]) -> torch.Tensor:
    return torch.stack(torch._foreach_norm(grads, float("inf"))).float()


def _dense(grad: torch.Tensor) -> torch.Tensor:
    return grad.to_dense() if grad.is_sparse else grad
