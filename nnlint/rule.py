"""The rule contract for all three passes: metadata, declared options and needs, hook bases, one report().

A rule class is its concept's metadata (`code`, `name`, `severity`, the docstring's first line) plus the hooks of
the passes that can see the concept, taken from the bases it inherits:

- `StaticRule`: libcst `visit_<Node>` / `leave_<Node>` methods, batched over one walk of each file;
- `GraphRule`: `check_graph(ctx)`, called once per traced model with a `GraphContext`;
- `ProbeRule`: `check_probe(ctx)`, called once per probed model with a `ProbeContext`;
- `BaselineRule`: `check_baseline(ctx)`, called once per probe report that has a saved baseline (`DriftContext`).

`passes` is derived from those bases. Every context has one `report(rule, at, message, *, fix=None,
severity=None)`; a rule calls it through `self.report(at, message, ...)`, where `at` is a libcst node (static pass)
or a `Location`. Thresholds are declared `Option`s, set by users in `[tool.nnlint.options.NN313]`, read with
`ctx.option(rule, name)` and documented under `## Options` on the rule's page. Work a pass does only for some
rules is declared as `needs`. The contexts are imported only for type checking: the registry, which imports every
rule, never imports torch.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Dict, FrozenSet, Mapping, Optional, Protocol, Tuple, Union

from nnlint.types import Finding, Fix, Location, Pass, Severity

if TYPE_CHECKING:
    import libcst as cst

    from nnlint.graph.context import GraphContext
    from nnlint.probe.baseline import DriftContext
    from nnlint.probe.context import ProbeContext
    from nnlint.static.context import StaticContext

#: Where a finding points: a libcst node of the file under check (static pass) or a location (every pass).
At = Union["cst.CSTNode", Location]

#: Rule options as users give them: option values by rule code (or rule name).
OptionValues = Mapping[str, Mapping[str, Any]]


class Context(Protocol):
    """What every pass's context offers a rule: one place to report findings."""

    def report(
        self, rule: Rule, at: At, message: str, *, fix: Optional[Fix] = None, severity: Optional[Severity] = None
    ) -> None:
        """Record a finding of `rule` at a node or location of the user's source."""


@dataclass(frozen=True)
class Option:
    """A setting of one rule: its key in `[tool.nnlint.options.NNxxx]`, its default, and what it changes."""

    name: str
    default: Any
    help: str

    def accepts(self, value: Any) -> bool:
        """Whether `value` has this option's type (an int is accepted where a float is the default)."""
        kind = type(self.default)
        if kind is bool or isinstance(value, bool):
            return type(value) is kind
        if kind is float:
            return isinstance(value, (int, float))
        if kind is tuple:  # a list of numbers (a TOML array)
            return (
                isinstance(value, (list, tuple))
                and bool(value)
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            )
        return isinstance(value, kind)


class Need(str, enum.Enum):
    """Work a pass does only when a selected rule needs it (probe phases cost seconds; most rules need none)."""

    ACTIVATIONS = "activations"  # activation statistics over extra samples (dead / saturated units)
    VARIANCE_SHIFT = "variance shift"  # train- vs eval-mode input variance of normalisation layers
    GRADIENT_CUTS = "gradient cuts"  # where the gradient path to a parameter is cut (detach, no_grad, ...)
    GRADCHECK = "gradcheck"  # numerical gradient check of custom autograd.Functions
    BATCH_INDEPENDENCE = "batch independence"  # whether one sample's output depends on the others
    USER_OPTIMIZER = "user optimizer"  # a few steps with the user's own optimizer
    OVERFIT = "overfit"  # the overfit-one-batch run with the probe's own optimizer


class Rule:
    """One concept a user would recognise; subclasses add the hook bases of the passes that can see it."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    # Derived from the hook bases (see __init_subclass__); set by hand only on rules the engines report
    # themselves (NN0xx: a file that does not parse, a model that cannot be built...).
    passes: ClassVar[Tuple[Pass, ...]] = (Pass.STATIC,)
    fix_availability: ClassVar[str] = "never"  # never | sometimes | always
    # Words a file must contain for the rule to have anything to find there; files with none of any
    # selected rule's needles are not even parsed. Empty: the rule runs on every file.
    needles: ClassVar[Tuple[str, ...]] = ()
    options: ClassVar[Tuple[Option, ...]] = ()
    needs: ClassVar[FrozenSet[Need]] = frozenset()
    hook_pass: ClassVar[Optional[Pass]] = None  # the pass whose hooks a hook base adds
    passes_declared: ClassVar[bool] = False  # `passes` set by hand on this class or a base (engine-reported rules)

    def __init__(self, context: Context) -> None:
        self.context = context

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "passes" in cls.__dict__:
            cls.passes_declared = True
        if not cls.passes_declared and cls.derived_passes():
            cls.passes = cls.derived_passes()

    @classmethod
    def derived_passes(cls) -> Tuple[Pass, ...]:
        """The passes whose hook bases this rule inherits (empty for rules only the engines report)."""
        hooked = {base.__dict__["hook_pass"] for base in cls.__mro__ if base.__dict__.get("hook_pass") is not None}
        return tuple(kind for kind in Pass if kind in hooked)

    @classmethod
    def summary(cls) -> str:
        """The first line of the rule's docstring, without its page reference."""
        first = (cls.__doc__ or "").strip().splitlines()[0]
        return re.sub(r"\s*\(rules/NN\d+\.md\)", "", first)

    @classmethod
    def option_defaults(cls) -> Dict[str, Any]:
        """Every declared option's default, by name."""
        return {option.name: option.default for option in cls.options}

    @classmethod
    def option_value(cls, name: str, values: OptionValues) -> Any:
        """Option `name` of this rule: the value given under the rule's code or name, else its declared default."""
        for key in (cls.code, cls.name):
            given = values.get(key)
            if given is not None and name in given:
                return given[name]
        defaults = cls.option_defaults()
        if name not in defaults:
            raise KeyError(f"{cls.code} declares no option {name!r} (declared: {', '.join(defaults) or 'none'})")
        return defaults[name]

    @classmethod
    def finding(
        cls,
        location: Location,
        message: str,
        pass_: Pass = Pass.STATIC,
        fix: Optional[Fix] = None,
        severity: Optional[Severity] = None,
    ) -> Finding:
        """A finding of this rule at a location, with the rule's default severity unless one is given."""
        return Finding(cls.code, cls.name, message, severity or cls.severity, pass_, location, fix)

    def report(self, at: At, message: str, *, fix: Optional[Fix] = None, severity: Optional[Severity] = None) -> None:
        """Report a finding of this rule at a node or location of the user's source."""
        self.context.report(self, at, message, fix=fix, severity=severity)


class StaticRule(Rule):
    """A rule seen in the source: libcst `visit_*`/`leave_*` hooks, run in one batched walk per file."""

    hook_pass: ClassVar[Pass] = Pass.STATIC
    context: StaticContext


class GraphRule(Rule):
    """A rule seen on the traced model: `check_graph` runs once per model the graph pass analysed."""

    hook_pass: ClassVar[Pass] = Pass.GRAPH

    def check_graph(self, ctx: GraphContext) -> None:
        """Inspect the traced model and report through `ctx.report` (or `self.report`)."""
        raise NotImplementedError


class ProbeRule(Rule):
    """A rule seen while the probe trains the model for a few steps: `check_probe` judges the measured facts."""

    hook_pass: ClassVar[Pass] = Pass.PROBE

    def check_probe(self, ctx: ProbeContext) -> None:
        """Judge the probe's facts and report through `ctx.report` (or `self.report`)."""
        raise NotImplementedError


class BaselineRule(Rule):
    """A probe rule that compares a probe's report with a saved baseline: `check_baseline` runs once per report."""

    hook_pass: ClassVar[Pass] = Pass.PROBE

    def check_baseline(self, ctx: DriftContext) -> None:
        """Compare `ctx.current` with `ctx.saved` and report through `ctx.report` (or `self.report`)."""
        raise NotImplementedError
