"""NN014: a discovered model was skipped because nnlint could not tell what input it takes."""

from nnlint.rule import Rule
from nnlint.types import Pass, Severity


class ModelInputUnknown(Rule):
    """nnlint could not infer this model's input from its first layer; it was not checked."""

    code = "NN014"
    name = "model-input-unknown"
    severity = Severity.INFO
    passes = (Pass.GRAPH,)

    @staticmethod
    def explain(target: str) -> str:
        """How to configure the model instead."""
        return (
            f"Skipped `{target}`: its input could not be inferred from its first layer. To check its wiring, "
            f'add it to pyproject.toml: [[tool.nnlint.models]] target = "{target}" with input_shape = [...] '
            '(or inputs = [{shape = [...], dtype = "int64"}] for several or integer inputs).'
        )
