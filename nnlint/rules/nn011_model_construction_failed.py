"""NN011: building a model target failed, so the graph pass could not check it."""

from nnlint.rule import Rule
from nnlint.types import Pass, Severity


class ModelConstructionFailed(Rule):
    """Building the model (calling its class or factory) failed; its wiring was not checked."""

    code = "NN011"
    name = "model-construction-failed"
    severity = Severity.ERROR
    passes = (Pass.GRAPH,)

    @staticmethod
    def explain(target: str, error: str) -> str:
        """The message for a failed construction."""
        return (
            f"Could not build `{target}`: {error}. nnlint builds the model on the meta device (no weights are "
            "allocated); give the constructor arguments with `kwargs` in [[tool.nnlint.models]] or `--kwargs`, "
            "or point `target` at a zero-argument factory."
        )
