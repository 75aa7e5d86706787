"""NN012: the model could be built but its forward could not be run on the meta device."""

from typing import Optional

from nnlint.rule import Rule
from nnlint.types import Pass, Severity


class ModelNotRunnable(Rule):
    """The model's forward cannot run on the meta device, so its wiring was not checked."""

    code = "NN012"
    name = "model-not-runnable"
    severity = Severity.WARNING
    passes = (Pass.GRAPH,)

    @staticmethod
    def explain(target: str, error: BaseException, trace_error: Optional[BaseException]) -> str:
        """The message when neither fx tracing nor an eager meta forward worked."""
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        traced = f" torch.fx could not trace it either ({type(trace_error).__name__})." if trace_error else ""
        return (
            f"`{target}` could not run on the meta device: {first}.{traced} Data-dependent code such as "
            "`.item()`, `.tolist()` or `.numpy()` in forward needs real values; move it out of forward, or "
            "check this model with the probe pass."
        )
