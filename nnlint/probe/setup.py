"""A probe request resolved into a Setup: device, inputs (given, configured or inferred from the first layer), task, loss."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, FrozenSet, Iterable, List, Optional, Sequence, Tuple

import torch
from torch import nn

from nnlint import registry
from nnlint.config import InputSpec
from nnlint.graph import inputs as input_plans
from nnlint.graph.input_dtypes import with_first_layer_dtypes
from nnlint.probe import data
from nnlint.probe.failures import raised_at
from nnlint.rule import Need, OptionValues
from nnlint.types import Location, Pass

PROBE_CODES = frozenset(code for code, rule in registry.BY_CODE.items() if Pass.PROBE in rule.passes)
DEFAULT_BATCH = 16
UNKNOWN = Location("<unknown>", 1, 1)  # where findings go when the model's definition cannot be found
BUDGETS = {"cpu": 10.0, "cuda": 60.0}  # seconds of optimizer steps per probe, by device type


@dataclass
class Setup:
    """Everything one probe needs, resolved: the model on its device, inputs, loss, limits."""

    model: nn.Module
    batches: data.Batches
    batch: int
    input_description: str
    task: Optional[str]
    loss_fn: Optional[Callable]
    targets: Any  # the user's targets, or None for synthetic ones
    optimizer: Optional[torch.optim.Optimizer]
    device: torch.device
    seed: int
    codes: FrozenSet[str]
    options: OptionValues
    fallback: Location
    budget: float
    max_steps: Optional[int] = None
    name: str = "model"
    notes: List[str] = field(default_factory=list)
    targets_used: Any = None  # the targets of step 0 (the user's or synthetic)

    def needs(self, *needs: Need) -> bool:
        """Whether a selected rule declares any of these needs."""
        return not registry.needs(self.codes).isdisjoint(needs)

    def generator(self, stream: int) -> torch.Generator:
        """A CPU generator per purpose, so that results do not depend on which checks ran before."""
        return torch.Generator().manual_seed(self.seed * 1000 + stream)


class SetupProblem(Exception):
    """The probe cannot start: no input could be made, or the request is inconsistent; `code` is the rule to report."""

    def __init__(self, code: str, message: str, where: Optional[Location] = None) -> None:
        super().__init__(message)
        self.code, self.where = code, where


def resolve_device(device: Any) -> torch.device:
    """`auto` picks CUDA when available, else the CPU."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise data.UsageProblem("device cuda was asked for, but torch.cuda.is_available() is False")
    return resolved


def codes_for(select: Optional[Iterable[str]], ignore: Iterable[str] = ()) -> frozenset:
    """The probe codes to run: every probe rule (and the NN0 failures) unless narrowed."""
    chosen = registry.select(select or ("ALL",), tuple(ignore))
    return frozenset(code for code in chosen if code in PROBE_CODES or code.startswith("NN0"))


def make_setup(
    model: nn.Module,
    *,
    inputs: Any = None,
    targets: Any = None,
    loss_fn: Optional[Callable] = None,
    task: Optional[str] = None,
    num_classes: Optional[int] = None,
    optimizer: Optional[torch.optim.Optimizer] = None,
    steps: Optional[int] = None,
    device: Any = "auto",
    seed: int = 0,
    codes: frozenset = frozenset(),
    options: Optional[OptionValues] = None,
    budget: Optional[float] = None,
    specs: Optional[Sequence[InputSpec]] = None,
    name: Optional[str] = None,
    fallback: Location = UNKNOWN,
) -> Setup:
    """A ready-to-run Setup; raises SetupProblem or data.UsageProblem when the request cannot be met."""
    if not isinstance(model, nn.Module):
        raise data.UsageProblem(f"model must be an nn.Module, not {type(model).__name__}")
    resolved = resolve_device(device)
    resolved_task = data.task_for(task, loss_fn, num_classes)
    chosen_loss = loss_fn if loss_fn is not None else data.default_loss(resolved_task)
    generator = torch.Generator().manual_seed(seed)
    notes = []
    if inputs is not None:
        user = _as_args(inputs)
        batches = data.Batches(resolved, generator, user=_on(user, resolved))
        batch, description = batches.batch, _describe(user)
    else:
        make, split, batch, description = _planned(model, specs, generator)
        batches = data.Batches(resolved, generator, make=make, split=split)
    if batch < 1:
        raise SetupProblem("NN014", "the inputs have no batch dimension (dimension 0 is the batch)")
    if targets is not None:
        targets = _on(targets, resolved)
    if num_classes is not None and resolved_task == "multiclass":
        notes.append(f"num_classes={num_classes}; the probe takes the number of classes from the output's dimension 1")
    return Setup(
        model=model,
        batches=batches,
        batch=batch,
        input_description=description,
        task=resolved_task,
        loss_fn=chosen_loss,
        targets=targets,
        optimizer=optimizer,
        device=resolved,
        seed=seed,
        codes=codes,
        options={str(key): dict(value) for key, value in (options or {}).items()},
        fallback=fallback,
        budget=budget if budget is not None else BUDGETS.get(resolved.type, 30.0),
        max_steps=steps,
        name=name or type(model).__name__,
        notes=notes,
    )


def _as_args(inputs: Any) -> data.Args:
    if isinstance(inputs, dict):
        return (), dict(inputs)
    if isinstance(inputs, (tuple, list)):
        return tuple(inputs), {}
    return (inputs,), {}


def _on(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict) and isinstance(value[0], tuple):
        return tuple(_on(v, device) for v in value[0]), {k: _on(v, device) for k, v in value[1].items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_on(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _on(v, device) for k, v in value.items()}
    return value


def _describe(args: data.Args) -> str:
    parts = [
        f"{str(t.dtype).replace('torch.', '')}{list(t.shape)}"
        for t in list(args[0]) + list(args[1].values())
        if isinstance(t, torch.Tensor)
    ]
    return ", ".join(parts) or "(no tensors)"


def _planned(
    model: nn.Module, specs: Optional[Sequence[InputSpec]], generator: torch.Generator
) -> Tuple[Callable[[int], tuple], Callable[[tuple], data.Args], int, str]:
    """(make(n), split into positional and keyword arguments, batch size, description) from configured input
    specs (the graph pass's contract: one per argument, by keyword where a spec has a `name`) or the model's
    first layer."""
    if specs:
        completed = with_first_layer_dtypes(model, specs)  # `--input-shape` on an Embedding-first model: int64 ids
        if completed != tuple(specs) and not _runs(model, specs, torch.Generator().manual_seed(0)):
            specs = completed  # only when the float input fails: an Embedding registered first may not come first
        given = input_plans.from_specs(specs)
        ranges = data.ranges_for(model, specs, len(specs))
        return (
            (lambda n: data.materialize(given.make(n, 0), ranges, generator)),
            given.arguments,
            specs[0].shape[0],
            given.describe(0),
        )
    plan = input_plans.infer(model, None)
    if plan is None:
        raise SetupProblem("NN014", "the probe cannot tell what input the model takes from its first layer")
    ranges = data.ranges_for(model, None, len(plan.make(1, plan.sizes[0])))
    errors = []
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        for size in data.sizes_to_try(plan):
            args, kwargs = plan.arguments(
                tuple(t.to(device) for t in data.materialize(plan.make(2, size), ranges, generator))
            )
            try:
                with torch.no_grad():
                    model(*args, **kwargs)
            except Exception as error:  # user code; try the next size
                errors.append((size, error))
                continue
            described = plan.describe(size).replace("[B,", f"[{DEFAULT_BATCH},")
            make = lambda n, s=size: data.materialize(plan.make(n, s), ranges, generator)  # noqa: E731
            return make, plan.arguments, DEFAULT_BATCH, described
    finally:
        for module, training in modes:
            module.training = training
    size, first = errors[0]
    if len(errors) == 1:  # the first layer fixes the whole input: the failure is the model's own
        raise SetupProblem(
            "NN013",
            f"forward raised {type(first).__name__}: {_first_line(first)} on the input its first layer takes "
            f"({plan.describe(size)}); fix forward, or give the input it needs",
            raised_at(first),
        )
    tried = ", ".join(str(s) for s, _ in errors)
    raise SetupProblem(
        "NN014",
        f"the model fails on every input inferred from its first layer ({plan.describe(size)}, sizes tried: {tried}); "
        f"the first failure: {type(first).__name__}: {_first_line(first)}",
    )


def _runs(model: nn.Module, specs: Sequence[InputSpec], generator: torch.Generator) -> bool:
    """Whether an eval-mode forward on two samples of `specs` runs (the model's modes are restored)."""
    ranges = data.ranges_for(model, specs, len(specs))
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    plan = input_plans.from_specs(specs)
    args, kwargs = plan.arguments(tuple(t.to(device) for t in data.materialize(plan.make(2, 0), ranges, generator)))
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            model(*args, **kwargs)
        return True
    except Exception:  # user code: the other dtype is tried
        return False
    finally:
        for module, training in modes:
            module.training = training


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else ""
