"""What a graph rule sees of one traced model, and where its findings go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set, Tuple, Type, Union

from torch import fx, nn

from nnlint import locate
from nnlint.types import Finding, Fix, Location, Pass, Severity

if TYPE_CHECKING:
    from nnlint.rule import At, OptionValues, Rule


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
