"""NN303: a submodule or parameter that forward never uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from nnlint.rule import GraphRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from torch import nn

    from nnlint.graph.context import GraphContext
    from nnlint.graph.references import Reference

_WHY = (
    "its weights are never trained, they waste memory, and DistributedDataParallel fails with "
    "`find_unused_parameters=False`"
)


class UnusedSubmodule(GraphRule):
    """A trainable submodule or parameter is never used in forward (rules/NN303.md)."""

    code = "NN303"
    name = "unused-submodule"
    severity = Severity.WARNING

    def check_graph(self, ctx: GraphContext) -> None:
        """Report the outermost modules (and loose parameters) whose trainable weights forward never touched, unless
        another method reads them (`encode()`, a loss); say which untaken branch of forward would use them."""
        if any(run.output is None for run in ctx.runs):
            return  # an eager run failed: usage is incomplete, say nothing
        reported: List[str] = []
        for path, module in ctx.model.named_modules():
            if not path or any(path.startswith(prefix + ".") for prefix in reported):
                continue
            weights = [p for p in module.parameters() if p.requires_grad]
            if weights and not any(id(p) in ctx.used_parameters for p in weights) and not _called(ctx, path):
                reported.append(path)  # also when another method uses it: then its own layers are used there too
                count = sum(p.numel() for p in weights)
                self._unused(ctx, path, f"`self.{path}` ({type(module).__name__}, {count:,} trainable parameters)")
        for path, parameter in ctx.model.named_parameters():
            owner = path.rsplit(".", 1)[0] if "." in path else ""
            if owner and not _is_user_module(ctx.model.get_submodule(owner)):
                continue  # weights of torch layers are covered by the module check above
            if any(path.startswith(prefix + ".") for prefix in reported) or not parameter.requires_grad:
                continue
            if id(parameter) not in ctx.used_parameters:
                self._unused(ctx, path, f"Parameter `self.{path}` ({parameter.numel():,} values)")

    def _unused(self, ctx: GraphContext, path: str, what: str) -> None:
        """Report `what` at its definition, with the branch of forward that would use it, if the source tells."""
        from nnlint.graph.references import usage

        owner, attribute = _owner(ctx.model, path)
        found = usage(owner, attribute)
        if found.elsewhere:
            return  # read by other methods (`encode()`, `compute_loss()`): used there, not (only) by forward
        where = ctx.where_module(path)
        branch = _only_branch(found.in_forward)
        if branch is None:
            self.report(
                where,
                f"{what} is never used in forward: {_WHY}. Use it in forward, or remove it (or freeze it with "
                "`requires_grad_(False)` if it is used elsewhere).",
            )
        elif branch.on_training:
            self.report(
                where,
                f"{what} is used in `{branch.method}` only when `self.training` is False: a training step never "
                f"runs it, so {_WHY}. Use it in training too, or freeze it with `requires_grad_(False)` if its "
                "weights come from elsewhere.",
            )
        elif branch.on_inputs:
            shapes = " and ".join(str(shape) for shape in ctx.runs[0].inputs) or "?"
            self.report(
                where,
                f"{what} is used in `{branch.method}` only {_side(branch)}, which nnlint's input (shape {shapes}) "
                f"did not take. If your training inputs never take it either, {_WHY}.",
                severity=Severity.INFO,
            )
        else:
            self.report(
                where,
                f"{what} is used in `{branch.method}` only {_side(branch)}, which the model as built never takes, "
                f"so {_WHY}. Build it only when that branch can run, or freeze it with `requires_grad_(False)`.",
            )


def _owner(model: nn.Module, path: str):
    """The module whose class assigns the attribute at `path`, and the attribute (`blocks.3` -> model, "blocks")."""
    from torch import nn

    parts = path.split(".")
    while len(parts) > 1:
        parent = model.get_submodule(".".join(parts[:-1]))
        if not isinstance(parent, (nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)):
            return parent, parts[-1]
        parts = parts[:-1]
    return model, parts[0]


def _only_branch(references) -> Optional[Reference]:
    """The untaken branch that explains why forward never used an attribute it reads: every read is inside an `if`
    (the first such `if` is named). None when a read is unconditional or there is none: then nothing explains it."""
    if not references or any(reference.condition is None for reference in references):
        return None
    return references[0]


def _side(reference: Reference) -> str:
    condition = f"`if {reference.condition}:`"
    return f"in the `else` of {condition}" if reference.in_else else f"in the branch {condition}"


def _called(ctx: GraphContext, path: str) -> bool:
    prefix = path + "."
    return any(name == path or name.startswith(prefix) for name in ctx.called_modules)


def _is_user_module(module) -> bool:
    return not type(module).__module__.startswith("torch.")
