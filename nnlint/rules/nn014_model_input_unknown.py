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
    def explain(target: str, reason: str = "", hint: str = "") -> str:
        """Why the model was skipped (`reason`: the guess that failed and where) and how to configure its inputs
        (`hint`: the forward signature and an `inputs = [...]` line with one entry per argument)."""
        if hint:
            return f"Skipped `{target}`: nnlint could not make an input it runs on{reason}. {hint}"
        return (
            f"Skipped `{target}`: its input could not be inferred from its first layer{reason}. To check its "
            f'wiring, add it to pyproject.toml: [[tool.nnlint.models]] target = "{target}" with input_shape = '
            '[...] (or inputs = [{shape = [...], dtype = "int64"}] for several or integer inputs).'
        )
