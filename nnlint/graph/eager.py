"""The eager forward on meta that every graph check trusts (fx only narrows it): which parameters and layers
it used, where it failed, and the arguments a traced graph takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Set, Tuple

import torch
from torch import fx, nn
from torch.overrides import TorchFunctionMode

from nnlint.graph import flow
from nnlint.graph import inputs as input_plans
from nnlint.graph.interpreter import (
    NO_ANSWER,
    check_meta_gaps,
    describe,
    meta_gap_answer,
)
from nnlint.graph.loading import is_user_file


class _ParameterUse(TorchFunctionMode):
    """Records which parameters any torch function touched during an eager forward, and the error a torch
    function raised (a shape error is one a torch operation raises, not the user's own checks)."""

    def __init__(self) -> None:
        super().__init__()
        self.used: Set[int] = set()
        self.raised: Optional[BaseException] = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        for value in list(args) + list(kwargs.values()):
            self._note(value)
        try:
            answer = meta_gap_answer(func, args)
            if answer is not NO_ANSWER:
                return answer
            check_meta_gaps(func, args, kwargs)
            return func(*args, **kwargs)
        except Exception as error:
            self.raised = error
            raise

    def _note(self, value: Any) -> None:
        if isinstance(value, nn.Parameter):
            self.used.add(id(value))
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._note(item)


class _ModuleCalls:
    """Forward hooks on every submodule: which ran, which was running when an error was raised, and (when
    `record`) what each returned on its first call."""

    def __init__(self, model: nn.Module, record: bool = False) -> None:
        self.called: Set[str] = set()
        self.stack: List[str] = []
        self.deepest_failed: Optional[str] = None
        self.outputs: Dict[str, Tuple[Any, Optional[str], Optional[str]]] = {}  # path -> (shape, dtype in, out)
        self.record = record
        self.handles = []
        for name, module in model.named_modules():
            self.handles.append(module.register_forward_pre_hook(self._enter(name)))
            self.handles.append(module.register_forward_hook(self._leave(name)))

    def _enter(self, name: str):
        def hook(module, args):
            self.called.add(name)
            self.stack.append(name)

        return hook

    def _leave(self, name: str):
        def hook(module, args, output):
            if self.stack and self.stack[-1] == name:
                self.stack.pop()
            if self.record and name not in self.outputs:
                self.outputs[name] = (describe(output), _dtype_of(args), _dtype_of(output))

        return hook

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def _dtype_of(value: Any) -> Optional[str]:
    """The dtype of the first tensor in a value (a module's arguments or output)."""
    if isinstance(value, torch.Tensor):
        return str(value.dtype).replace("torch.", "")
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _dtype_of(item)
            if found is not None:
                return found
    if isinstance(value, dict):
        return _dtype_of(list(value.values()))
    return None


@dataclass
class EagerRun:
    """One eager forward on meta: its output or error, the modules it called and the parameters it used."""

    output: Any
    error: Optional[BaseException]
    calls: _ModuleCalls
    used: Set[int]
    by_torch_op: bool  # the error was raised by a torch operation (not by the user's own checks)


def eager_run(
    model: nn.Module, plan: input_plans.InputPlan, inputs: Tuple[torch.Tensor, ...], record=False
) -> EagerRun:
    calls = _ModuleCalls(model, record)
    use = _ParameterUse()
    error = None
    output = None
    args, kwargs = plan.arguments(inputs)
    try:
        with torch.no_grad(), use, flow.recording(model):  # which layer fed which (NN401 without fx)
            output = model(*args, **kwargs)
    except Exception as raised:  # user code
        error = raised
        calls.deepest_failed = calls.stack[-1] if calls.stack else None
    finally:
        calls.close()
    by_torch = error is not None and (error is use.raised or _raised_inside_torch(error))
    return EagerRun(output, error, calls, use.used, by_torch)


def asked_by_user_code(error: BaseException) -> bool:
    """Whether the innermost frame outside torch and nnlint that led to the error is the user's project
    code, not an installed library's."""
    innermost = None
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if is_user_file(filename):
            innermost = filename
        tb = tb.tb_next
    return innermost is not None and "site-packages" not in innermost and "dist-packages" not in innermost


def _raised_inside_torch(error: BaseException) -> bool:
    """Whether the innermost frame of the error is torch's own Python (a layer's argument checks, as
    `nn.LSTM.check_input`) rather than the user's code (their own `assert`, `raise`)."""
    innermost = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename != __file__:  # not this module's own hooks around torch functions
            innermost = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return innermost is not None and not is_user_file(innermost)


def graph_arguments(gm: fx.GraphModule, model: nn.Module, plan: input_plans.InputPlan, inputs) -> List[Any]:
    """The graph's placeholder values, in order, for a plan's inputs: its positional ones fill forward's
    arguments in order, its keyword ones by name, and arguments traced with their default get it."""
    args, kwargs = plan.arguments(inputs)
    if not kwargs:
        return list(args)
    positional = [p.name for p in input_plans.forward_parameters(model) if p.kind is not p.KEYWORD_ONLY]
    bound: Dict[str, Any] = dict(zip(positional, args))
    bound.update(kwargs)
    values = []
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            name = str(node.target)
            values.append(bound[name] if name in bound else (node.args[0] if node.args else None))
    return values
