"""NN003: a rule raised an exception; the other rules and files were still checked."""

from nnlint.rule import Rule
from nnlint.types import Pass, Severity


class InternalError(Rule):
    """A rule of nnlint failed on this file: a bug in nnlint, not in your code."""

    code = "NN003"
    name = "internal-error"
    severity = Severity.ERROR
    passes = (Pass.STATIC, Pass.GRAPH, Pass.PROBE)
