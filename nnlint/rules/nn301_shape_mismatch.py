"""NN301: a layer receives a tensor whose shape it cannot take (found by propagating shapes on meta)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from nnlint.rule import Rule
from nnlint.types import Finding, Location, Pass, Severity


class ShapeMismatch(Rule):
    """A layer is wired to an input of the wrong size: the model fails on its first batch (rules/NN301.md)."""

    code = "NN301"
    name = "shape-mismatch"
    severity = Severity.ERROR
    # Reported by the graph engine when no input size runs (there is no traced model to hand a hook).
    passes = (Pass.GRAPH,)

    @classmethod
    def failed_run(
        cls,
        model: Any,
        where: Any,
        error: Optional[BaseException],
        inputs: str,
        fallback: Location,
        tried: Optional[Sequence[int]] = None,
    ) -> Finding:
        """The finding for a model that fails on its first batch at `where` (an fx node or a module path).

        `inputs` describes the input that failed; `tried` lists the sizes tried when the input was inferred."""
        from torch import fx

        from nnlint import locate

        location: Optional[Location] = None
        if isinstance(where, fx.Node):
            location = locate.node_source(where)
        elif isinstance(where, str):
            location = locate.module_source(model, where)
        message = explain_failure(model, where, error, inputs)
        if tried:
            message += f" The input was inferred from the first layer; it failed at every size tried ({', '.join(map(str, tried))})."
            message += " If the model needs another input, configure it in [[tool.nnlint.models]]."
        return cls.finding(location or fallback, message, Pass.GRAPH)


def explain_failure(model: Any, where: Any, error: Optional[BaseException], inputs: str) -> str:
    """What failed, in the user's terms: the layer, what it expects, what it got and from where."""
    from torch import fx

    detail = _first_line(error)
    if isinstance(where, fx.Node) and where.op == "call_module":
        module = model.get_submodule(where.target)
        source = where.args[0] if where.args else None
        got = source.meta.get("nnlint_shape") if isinstance(source, fx.Node) else None
        producer = _producer(source)
        expected = _expectation(module, got)
        if expected is not None and got is not None:
            return (
                f"`self.{where.target}` ({type(module).__name__}) {expected}, but gets shape {list(got)} from "
                f"{producer}, for input {inputs}. The model fails on its first batch; fix the layer's size "
                "or the reshape that feeds it."
            )
        return f"`self.{where.target}` ({type(module).__name__}) fails for input {inputs}: {detail}."
    if isinstance(where, fx.Node):
        shapes = [a.meta.get("nnlint_shape") for a in where.args if isinstance(a, fx.Node)]
        return f"{_producer(where)} fails on shapes {shapes} for input {inputs}: {detail}."
    if isinstance(where, str) and where:
        module = model.get_submodule(where)
        return f"`self.{where}` ({type(module).__name__}) fails for input {inputs}: {detail}."
    return f"The model fails for input {inputs}: {detail}."


def _first_line(error: Optional[BaseException]) -> str:
    if error is None:
        return "unknown error"
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _producer(node: Any) -> str:
    from torch import fx

    if not isinstance(node, fx.Node):
        return "its input"
    if node.op == "call_module":
        what = f"`self.{node.target}`"
    elif node.op == "call_function":
        what = f"`{getattr(node.target, '__name__', node.target)}`"
    elif node.op == "call_method":
        what = f"`.{node.target}()`"
    else:
        what = f"the input `{node.target}`"
    from nnlint.locate import node_source

    where = node_source(node)
    return f"{what} at line {where.line}" if where else what


def _expectation(module: Any, got: Any) -> Optional[str]:
    """ "expects 400 input features" when the module's size and the incoming shape disagree."""
    from torch import nn

    if not isinstance(got, tuple) or not got:
        return None
    if isinstance(module, nn.Linear) and got[-1] != module.in_features:
        return f"expects {module.in_features} input features (last dimension)"
    if isinstance(module, nn.modules.conv._ConvNd) and len(got) > 1 and got[1] != module.in_channels:
        return f"expects {module.in_channels} input channels (dimension 1)"
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and len(got) > 1 and got[1] != module.num_features:
        return f"expects {module.num_features} features (dimension 1)"
    if isinstance(module, nn.LayerNorm):
        shape = tuple(module.normalized_shape)
        if tuple(got[-len(shape) :]) != shape:
            return f"normalizes the last dimensions {list(shape)}"
    if isinstance(module, nn.RNNBase) and got[-1] != module.input_size:
        return f"expects {module.input_size} input features (last dimension)"
    return None
