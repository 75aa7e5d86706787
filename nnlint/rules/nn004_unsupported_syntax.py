"""NN004: valid Python that nnlint's parser (libcst) does not accept, so the file was not checked."""

from nnlint.rule import Rule
from nnlint.types import Pass, Severity


class UnsupportedSyntax(Rule):
    """Python accepts the file, libcst does not: nothing in it was checked. Info, so a run does not fail on it."""

    code = "NN004"
    name = "unsupported-syntax"
    severity = Severity.INFO
    passes = (Pass.STATIC,)
