"""NN010: importing a model target failed, so the graph pass could not check it."""

from nnlint.rule import Rule
from nnlint.types import Pass, Severity


class ModelImportFailed(Rule):
    """Importing the module that defines a model failed; its wiring was not checked."""

    code = "NN010"
    name = "model-import-failed"
    severity = Severity.ERROR
    passes = (Pass.GRAPH,)

    @staticmethod
    def explain(target: str, error: str) -> str:
        """The message for a failed import."""
        return (
            f"Could not import `{target}`: {error}. The graph pass imports your module to build the model; "
            'make it importable without side effects (guard scripts with `if __name__ == "__main__":`), '
            "or run static checks only with `--no-graph`."
        )
