"""NN013: checking a model was aborted: it hung, crashed the worker, exited, or ran out of memory."""

from nnlint.rule import Rule
from nnlint.types import Pass, Severity


class ModelRunAborted(Rule):
    """The worker checking this model hung, crashed, exited or ran out of memory; it was stopped."""

    code = "NN013"
    name = "model-run-aborted"
    severity = Severity.ERROR
    passes = (Pass.GRAPH, Pass.PROBE)
