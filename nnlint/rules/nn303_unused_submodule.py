"""NN303: a submodule or parameter that forward never uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, List

from nnlint.rule import GraphRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.graph.context import GraphContext


class UnusedSubmodule(GraphRule):
    """A trainable submodule or parameter is never used in forward (rules/NN303.md)."""

    code = "NN303"
    name = "unused-submodule"
    severity = Severity.WARNING

    def check_graph(self, ctx: GraphContext) -> None:
        """Report the outermost modules (and loose parameters) whose trainable weights forward never touched."""
        if any(run.output is None for run in ctx.runs):
            return  # an eager run failed: usage is incomplete, say nothing
        reported: List[str] = []
        for path, module in ctx.model.named_modules():
            if not path or any(path.startswith(prefix + ".") for prefix in reported):
                continue
            weights = [p for p in module.parameters() if p.requires_grad]
            if weights and not any(id(p) in ctx.used_parameters for p in weights) and not _called(ctx, path):
                reported.append(path)
                count = sum(p.numel() for p in weights)
                self.report(ctx.where_module(path), _module_message(path, type(module).__name__, count))
        for path, parameter in ctx.model.named_parameters():
            owner = path.rsplit(".", 1)[0] if "." in path else ""
            if owner and not _is_user_module(ctx.model.get_submodule(owner)):
                continue  # weights of torch layers are covered by the module check above
            if any(path.startswith(prefix + ".") for prefix in reported) or not parameter.requires_grad:
                continue
            if id(parameter) not in ctx.used_parameters:
                self.report(ctx.where_module(path), _parameter_message(path, parameter.numel()))


def _called(ctx: GraphContext, path: str) -> bool:
    prefix = path + "."
    return any(name == path or name.startswith(prefix) for name in ctx.called_modules)


def _is_user_module(module) -> bool:
    return not type(module).__module__.startswith("torch.")


def _module_message(path: str, kind: str, count: int) -> str:
    return (
        f"`self.{path}` ({kind}, {count:,} trainable parameters) is never used in forward: it is trained "
        "by nothing, wastes memory, and DistributedDataParallel fails with `find_unused_parameters=False`. "
        "Use it in forward, or remove it (or freeze it with `requires_grad_(False)` if it is used elsewhere)."
    )


def _parameter_message(path: str, count: int) -> str:
    return (
        f"Parameter `self.{path}` ({count:,} values) is never used in forward: it never gets a gradient, "
        "and DistributedDataParallel fails with `find_unused_parameters=False`. Use it or remove it."
    )
