"""What a graph rule sees of one traced model, and where its findings go."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set, Tuple, Type, Union

import torch
from torch import fx, nn

from nnlint import locate
from nnlint.types import Finding, Fix, Location, Pass, Severity

if TYPE_CHECKING:
    from nnlint.rule import At, OptionValues, Rule


# Ops that only rearrange values: what feeds a layer through them still feeds it (NN401).
_RESHAPE_METHODS = frozenset(
    {
        "contiguous",
        "flatten",
        "permute",
        "reshape",
        "reshape_as",
        "squeeze",
        "transpose",
        "unsqueeze",
        "view",
        "view_as",
    }
)
_RESHAPE_FUNCTIONS = frozenset(
    {torch.flatten, torch.permute, torch.reshape, torch.squeeze, torch.transpose, torch.unsqueeze}
)


_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
# The model's last op -> what its output is (GraphResult.output_kind).
_OUTPUT_KINDS: Dict[Any, str] = {
    nn.Linear: "logits",
    nn.LazyLinear: "logits",
    nn.Bilinear: "logits",
    torch.nn.functional.linear: "logits",
    nn.Softmax: "softmax",
    nn.Softmax2d: "softmax",
    torch.softmax: "softmax",
    torch.nn.functional.softmax: "softmax",
    nn.LogSoftmax: "log-softmax",
    torch.log_softmax: "log-softmax",
    torch.nn.functional.log_softmax: "log-softmax",
    nn.Sigmoid: "sigmoid",
    torch.sigmoid: "sigmoid",
    torch.nn.functional.sigmoid: "sigmoid",
}
_OUTPUT_METHOD_KINDS = {"softmax": "softmax", "log_softmax": "log-softmax", "sigmoid": "sigmoid"}


@dataclass
class GraphRun:
    """One shape propagation at a batch size: the model output's shapes and, with fx, every node's."""

    batch: int
    output: Any
    node_shapes: Dict[str, Any] = field(default_factory=dict)
    inputs: Tuple[Tuple[int, ...], ...] = ()


class GraphContext:
    """A model, its traced graph (None when traced with hooks only), shapes at two batch sizes, and findings."""

    def __init__(
        self,
        model: nn.Module,
        gm: Optional[fx.GraphModule],
        runs: Tuple[GraphRun, GraphRun],
        used_parameters: Set[int],
        called_modules: Set[str],
        fallback: Location,
        inferred: bool,
        options: Optional[OptionValues] = None,
    ) -> None:
        self.model = model
        self.gm = gm
        self.runs = runs
        self.used_parameters = used_parameters
        self.called_modules = called_modules
        self.fallback = fallback
        self.inferred = inferred
        self.options: OptionValues = options or {}
        self.findings: List[Finding] = []

    @property
    def method(self) -> str:
        """How the model was analysed: "fx" (symbolic trace) or "hooks" (eager forward on meta)."""
        return "fx" if self.gm is not None else "hooks"

    def module(self, node: fx.Node) -> Optional[nn.Module]:
        """The submodule a call_module node calls."""
        return self.model.get_submodule(str(node.target)) if node.op == "call_module" else None

    def calls(self, path: str) -> int:
        """How many times the traced forward calls the submodule at `path` (0 without a graph)."""
        if self.gm is None:
            return 0
        return sum(1 for node in self.gm.graph.nodes if node.op == "call_module" and node.target == path)

    def source_of(self, value: Any) -> Any:
        """The node that made `value`, looking back through ops that only reshape it (`.view()`, `torch.flatten`,
        `nn.Identity`): what a layer is really fed. Non-nodes are returned as they are."""
        while isinstance(value, fx.Node) and value.args and self.reshapes_only(value):
            value = value.args[0]
        return value

    def reshapes_only(self, node: fx.Node) -> bool:
        """Whether a node only rearranges its first input's values (a view, a flatten, a transpose, an identity)."""
        if node.op == "call_method":
            return str(node.target) in _RESHAPE_METHODS
        if node.op == "call_function":
            return node.target in _RESHAPE_FUNCTIONS
        return node.op == "call_module" and isinstance(self.module(node), nn.Identity)

    def in_container(self, path: str) -> bool:
        """Whether a submodule is a layer of an `nn.Sequential`, `nn.ModuleList` or `nn.ModuleDict` (`self.head.2`):
        its place is where the container is built, not a line in forward that loops over it."""
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        return bool(parent) and isinstance(self.model.get_submodule(parent), _CONTAINERS)

    def shape(self, node: Any, run: int = 0) -> Any:
        """The shape a node produced in run 0 (batch 2) or 1 (batch 3); None for non-nodes."""
        return self.runs[run].node_shapes.get(node.name) if isinstance(node, fx.Node) else None

    def option(self, rule: Union[Rule, Type[Rule]], name: str) -> Any:
        """Option `name` of `rule`: the user's value (`[tool.nnlint.options.NNxxx]`) or its declared default."""
        return rule.option_value(name, self.options)

    def where_node(self, node: fx.Node) -> Location:
        """The user's line for a node, or the model's definition."""
        return locate.node_source(node) or self.fallback

    def where_module(self, path: str) -> Location:
        """The user's line defining a submodule, or the model's definition."""
        return locate.module_source(self.model, path) or self.fallback

    def in_library(self, path: str) -> bool:
        """Whether the submodule at `path` is laid out by an installed package's code (timm, torchvision...): the class
        that assigns it (past any containers) is defined in one. A finding about its wiring is not the user's to fix,
        however true (torchvision's VGG-BN keeps a convolution bias before BatchNorm for its published weights)."""
        parts = path.split(".") if path else []
        owner: nn.Module = self.model
        while parts:
            parent = self.model.get_submodule(".".join(parts[:-1]))
            if not isinstance(parent, _CONTAINERS):
                owner = parent
                break
            parts = parts[:-1]
        try:
            filename = inspect.getsourcefile(type(owner)) or ""
        except (OSError, TypeError):
            return True  # defined in C or generated: not the user's code either
        folders = Path(filename).resolve().parts
        return "site-packages" in folders or "dist-packages" in folders or type(owner).__module__.startswith("torch.")

    def output_kind(self) -> str:
        """What the model returns, for the loss-pairing rules: "logits" (a linear layer's output), "softmax",
        "log-softmax", "sigmoid", "activated logits" (ReLU-like after the last linear layer), or "" (unknown: no
        graph, several outputs, or another last op)."""
        try:
            return self._output_kind()
        except Exception:  # a summary for other rules: never a reason to fail the check
            return ""

    def _output_kind(self) -> str:
        if self.gm is None:
            return ""
        output = next(node for node in reversed(self.gm.graph.nodes) if node.op == "output")
        last = self.source_of(output.args[0])
        if not isinstance(last, fx.Node):
            return ""
        kind = _OUTPUT_KINDS.get(type(self.module(last))) if last.op == "call_module" else None
        if last.op == "call_function":
            kind = _OUTPUT_KINDS.get(last.target)
        elif last.op == "call_method":
            kind = _OUTPUT_METHOD_KINDS.get(str(last.target))
        if kind is not None:
            return kind
        from nnlint.rules.nn206_activation_after_logits import activation_written

        if last.args and activation_written(self, last) is not None and self.output_kind_of(last.args[0]) == "logits":
            return "activated logits"
        return ""

    def output_kind_of(self, value: Any) -> str:
        """ "logits" where `value` comes (through reshapes) from a linear layer, else ""."""
        node = self.source_of(value)
        if not isinstance(node, fx.Node):
            return ""
        if node.op == "call_module" and isinstance(self.module(node), (nn.Linear, nn.Bilinear)):
            return "logits"
        return "logits" if node.op == "call_function" and node.target is torch.nn.functional.linear else ""

    def module_edges(self) -> Dict[Tuple[str, str], Location]:
        """Without fx (hooks): (producer, consumer) leaf modules where the consumer was called on the very tensor the
        producer returned, with the user's line of that call. Empty with fx: read the graph instead."""
        from nnlint.graph.flow import edges

        if self.gm is not None:
            return {}
        return {
            edge: Location(path, line, 1) if path else self.fallback for edge, (path, line) in edges(self.model).items()
        }

    def where_built(self, path: str) -> Location:
        """The user's line that constructed a submodule (`nn.Dropout(p)` in a helper or a loop), else its attribute's
        line (`where_module`)."""
        from nnlint.graph.construction import built_at

        site = built_at(self.model.get_submodule(path))
        return Location(site[0], site[1], 1) if site is not None else self.where_module(path)

    def describe(self, node: fx.Node) -> str:
        """A node in the user's terms: "`self.fc1` (Linear)", "`torch.flatten`", "`.view()`"."""
        if node.op == "call_module":
            return f"`self.{node.target}` ({type(self.module(node)).__name__})"
        if node.op == "call_function":
            name = getattr(node.target, "__name__", str(node.target))
            module = getattr(node.target, "__module__", "") or ""
            prefix = "F." if "functional" in module else ("torch." if module.startswith("torch") else "")
            return f"`{prefix}{name}`"
        if node.op == "call_method":
            return f"`.{node.target}()`"
        if node.op == "placeholder":
            return f"the input `{node.target}`"
        return f"`{node.target}`"

    def report(
        self,
        rule: Union[Rule, Type[Rule]],
        at: At,
        message: str,
        *,
        fix: Optional[Fix] = None,
        severity: Optional[Severity] = None,
    ) -> None:
        """Record a finding of `rule` at a location with an absolute path; the parent maps the path for display."""
        if not isinstance(at, Location):
            raise TypeError(f"a graph finding points at a Location, not {type(at).__name__}")
        self.findings.append(rule.finding(at, message, Pass.GRAPH, fix, severity))
