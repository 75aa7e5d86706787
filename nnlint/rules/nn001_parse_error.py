"""NN001: the file is not valid Python, so nothing else in it can be checked."""

from nnlint.rule import Rule
from nnlint.types import Pass, Severity


class ParseError(Rule):
    """File could not be parsed as Python; no other rule checked it."""

    code = "NN001"
    name = "parse-error"
    severity = Severity.ERROR
    passes = (Pass.STATIC,)
