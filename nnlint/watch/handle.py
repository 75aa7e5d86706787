"""`nnlint.watch(model, optimizer)`: the probe's checks on a real training run, at a few sampled steps.

    watcher = nnlint.watch(model, optimizer, loss=criterion)
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        watcher.step(loss)
    watcher.close()

Step 0 and every `every`-th step are sampled: hooks are attached after the step before, measure that step's
forward (over a few steps when a batch holds fewer samples than the dead-unit check needs), its final
gradients and its optimizer update, and are removed. Between samples a step costs one device addition
(the loss window). Findings are the probe's, printed once each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

import torch
from torch import nn

from nnlint import locate
from nnlint.probe.api import caller_location
from nnlint.probe.setup import codes_for
from nnlint.rules.nn313_dead_relu import DeadRelu
from nnlint.types import Finding, Location
from nnlint.watch import output, reduce
from nnlint.watch.checks import Judge, StepFigures
from nnlint.watch.sampling import Sample, Snapshot

_WRAPPERS = ("DistributedDataParallel", "FullyShardedDataParallel", "DataParallel")


class Watch:
    """A training run under watch: call `step(loss)` after each optimizer step; findings in `findings`."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: Optional[torch.optim.Optimizer] = None,
        *,
        every: int = 50,
        loss: Any = None,
        task: Optional[str] = None,
        select: Optional[Iterable[str]] = None,
        ignore: Iterable[str] = (),
        options: Optional[Dict[str, Dict[str, Any]]] = None,
        echo: bool = True,
        tensorboard: Any = None,
        plot: Optional[Union[str, Path]] = None,
    ) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, not {every}")
        self.model = _unwrap(model)
        self.optimizer = getattr(optimizer, "optimizer", optimizer) if optimizer is not None else None
        self.every, self.echo, self.plot_path = every, echo, plot
        self.loss_module = loss if isinstance(loss, nn.Module) else None
        self.params: List[Tuple[str, nn.Parameter]] = [
            (name, p) for name, p in self.model.named_parameters() if p.requires_grad
        ]
        fallback = locate.class_source(type(self.model)) or caller_location()
        self.judge = Judge(
            self.model, self.params, self.optimizer, loss, task, codes_for(select, ignore), options or {}, fallback
        )
        self.min_samples = int(DeadRelu.option_value("min_samples", options or {}))
        self.findings: List[Finding] = []
        self.history: List[StepFigures] = []
        self.ranks: Dict[Tuple[str, Location], List[int]] = {}
        self.tensorboard = output.TensorBoard(tensorboard) if tensorboard is not None else None
        self.step_count = 0
        self._seen: set = set()
        self._window: Optional[torch.Tensor] = None  # [sum of losses, steps] since the last sample, on the device
        self._window_start = 0
        self._sample: Optional[Sample] = None
        self._snapshot = Snapshot()  # the weights before a sampled step's update, reused on CPU
        self._pending: Optional[Tuple[Sample, Optional[torch.Tensor], Any]] = None
        self._closed = False
        self._arm(0)

    # --- the training loop's calls -------------------------------------------------------------

    def step(self, loss: Any = None) -> List[Finding]:
        """Note one training step's loss (a tensor, or a dict of named terms with "loss" the total); returns
        the findings that are new at this step (empty between sampled steps)."""
        if self._closed:
            raise RuntimeError("this watch was closed")
        total, parts = _split(loss)
        sample = self._sample
        if total is None and sample is not None and sample.step == self.step_count and sample.model_loss is not None:
            total = sample.model_loss  # a Hugging Face model's own loss, seen on the sampled forward
        if total is not None:
            value = torch.stack([total.detach().float().reshape(()), torch.ones((), device=total.device)])
            self._window = value if self._window is None else self._window + value.to(self._window.device)
        number = self.step_count
        self.step_count += 1
        new: List[Finding] = []
        if sample is not None and sample.step == number:
            if self.optimizer is None and sample.grads is None:
                sample.read_gradients()
            sample.remove_other_hooks()  # this step's gradients and update are measured (or never came)
            self._pending = (sample, total, parts)
        if self._pending is not None and (self._pending[0].forward_done or self._due(number + 1)):
            new = self._finish(number)
        if self._due(number + 1):
            self._arm(number + 1)
        return new

    def close(self) -> List[Finding]:
        """Judge what the last sample measured, remove every hook, write the plot; returns the new findings."""
        if self._closed:
            return []
        if self._pending is None and self._window is not None and self._sample is not None:
            self._sample.step = max(self.step_count - 1, 0)  # armed for a step that never came: judged as the last
            self._pending = (self._sample, None, None)  # the last window of losses is judged too
        new = self._finish(self.step_count - 1) if self._pending is not None else []
        if self._sample is not None:
            self._sample.close()
            self._sample = None
        self._closed = True
        self._snapshot.release()
        if self.tensorboard is not None:
            self.tensorboard.close()
        if self.plot_path is not None and self.history and reduce.world()[0] == 0:
            self.plot(self.plot_path)
        return new

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- results -------------------------------------------------------------------------------

    @property
    def ok(self) -> bool:
        """No warning or error so far."""
        return not any(f.severity.rank >= 1 for f in self.findings)

    def report(self, fmt: str = "text") -> str:
        """The findings so far in one of nnlint's formats: text, rich, json, sarif or github."""
        return output.render(self.findings, fmt)

    def to_json(self) -> str:
        """The findings so far as nnlint's JSON."""
        return self.report("json")

    def to_sarif(self) -> str:
        """The findings so far as SARIF 2.1.0."""
        return self.report("sarif")

    def plot(self, path: Union[str, Path]) -> None:
        """Write the gradient flow (last sampled step) and the update ratios over the run to an image (matplotlib)."""
        output.plot(self.history, path, type(self.model).__name__)

    def __repr__(self) -> str:
        return f"<nnlint.watch {type(self.model).__name__}: step {self.step_count}, {len(self.findings)} findings>"

    # --- sampling ------------------------------------------------------------------------------

    def _due(self, number: int) -> bool:
        return number % self.every == 0

    def _arm(self, number: int) -> None:
        if self._sample is not None:
            self._sample.close()
        self._sample = Sample(
            number,
            self.model,
            self.params,
            self.optimizer,
            self.loss_module,
            self.judge.saturation(),
            self.min_samples,
            snapshot=self._snapshot,
        )

    def _finish(self, number: int) -> List[Finding]:
        assert self._pending is not None
        sample, total, parts = self._pending
        self._pending = None
        sample.remove_forward_hooks()
        if self._sample is sample:
            self._sample = None
        window = self._read_window(number)
        reduce.recorder(sample.recorder)
        found, figures = self.judge.judge(sample, total, parts, window)
        self.history.append(figures)
        if self.tensorboard is not None and reduce.world()[0] == 0:
            self.tensorboard.write(figures)
        new = []
        for finding, ranks in reduce.findings(found):
            key = (finding.code, finding.location)
            if key in self._seen:
                continue
            self._seen.add(key)
            if reduce.active():
                ranks_text = ", ".join(str(r) for r in ranks)
                finding = _with_message(
                    finding, f"{finding.message} (seen on rank{'s' if len(ranks) > 1 else ''} {ranks_text})"
                )
            self.ranks[key] = ranks
            self.findings.append(finding)
            new.append(finding)
            if self.echo:
                output.log(finding)
        return new

    def _read_window(self, step: int) -> Optional[Tuple[int, int, float]]:
        """(first step, last step, mean loss) of the steps since the last sample, averaged over the ranks."""
        if self._window is None:
            return None
        total, count = reduce.sum_(self._window).tolist()
        self._window = None
        start, self._window_start = self._window_start, step + 1
        if count <= 0:
            return None
        return (start, step, total / count)


def watch(model: nn.Module, optimizer: Optional[torch.optim.Optimizer] = None, **kwargs: Any) -> Watch:
    """Watch a training run: `handle = nnlint.watch(model, optimizer, loss=criterion)`, then `handle.step(loss)`
    after each `optimizer.step()`. Keywords: every (50), loss (your loss module: its targets give the chance
    level), task, select/ignore/options (as for the probe), echo (log each finding once), tensorboard (a log
    directory or a SummaryWriter), plot (an image written at `close()`)."""
    return Watch(model, optimizer, **kwargs)


def _split(loss: Any) -> Tuple[Optional[torch.Tensor], Optional[Dict[str, torch.Tensor]]]:
    """(total, named parts) of what `step()` was given."""
    if loss is None:
        return None, None
    if isinstance(loss, torch.Tensor):
        return loss, None
    if isinstance(loss, dict):
        parts = {str(k): v for k, v in loss.items() if isinstance(v, torch.Tensor) and v.numel() == 1}
        total = parts.pop("loss", None)
        if total is None and parts:
            total = torch.stack([v.detach().reshape(()) for v in parts.values()]).sum()
        return total, parts or None
    if isinstance(loss, (int, float)):
        return torch.tensor(float(loss)), None
    raise TypeError(f"step() takes the loss as a tensor, a number or a dict of tensors, not {type(loss).__name__}")


def _with_message(finding: Finding, message: str) -> Finding:
    import dataclasses

    return dataclasses.replace(finding, message=message)


def _unwrap(model: nn.Module) -> nn.Module:
    """The module inside a DDP/FSDP/DataParallel wrapper (its parameter names are the user's)."""
    inner = getattr(model, "module", None)
    while type(model).__name__ in _WRAPPERS and isinstance(inner, nn.Module):
        model, inner = inner, getattr(inner, "module", None)
    return model
