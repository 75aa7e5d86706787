"""NN306: `module.forward(x)` called on a module instance instead of `module(x)`, which skips its hooks."""

from __future__ import annotations

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static import classes
from nnlint.types import Fix, Severity


class ForwardCalledDirectly(StaticRule):
    """`.forward(x)` called on a module instance skips its hooks; call the module (rules/NN306.md)."""

    code = "NN306"
    name = "forward-called-directly"
    needles = ("forward",)
    severity = Severity.WARNING
    fix_availability = "always"

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "forward":
            return
        receiver = func.value
        if isinstance(receiver, cst.Name) and receiver.value == "self":
            return  # `self.forward(x)` inside the module's own methods
        if isinstance(receiver, cst.Call):
            return  # `super().forward(x)`, `Base.forward(self, x)` has a class as receiver and resolves to nothing
        semantics = self.context.semantics
        resolved = classes.strip_passthrough(semantics.resolve(receiver))
        if resolved is receiver or not isinstance(resolved, cst.Call):
            return
        built = classes.module_construction(semantics, resolved)
        if built is None or built == classes.PARAMETER:
            return
        written = cst.Module([]).code_for_node(receiver)
        # Unsafe: with hooks registered, calling the module runs them, which is the point but changes behaviour.
        fix = Fix(
            f"Call `{written}(...)` instead of `{written}.forward(...)`",
            (self.context.replace(func, written),),
            safe=False,
        )
        self.report(
            node,
            f"`{written}.forward(...)` calls the `forward` of a `{classes.display(built)}` module directly: this skips "
            "`__call__`, so forward hooks and pre-hooks never run — those that DDP and FSDP use to synchronise "
            "gradients, and those of pruning, spectral/weight norm, quantization and activation capture — and "
            f"the model silently trains or measures something else. Call the module: `{written}(...)`.",
            fix=fix,
        )
