"""NN005: a file too large for the static pass to analyse within its memory bound, so no rule checked it."""

from nnlint.rule import Rule
from nnlint.types import Pass, Severity


class FileTooLarge(Rule):
    """A generated table or a huge test file: libcst would take hundreds of megabytes for it alone. Info, so a
    run does not fail on it."""

    code = "NN005"
    name = "file-too-large"
    severity = Severity.INFO
    passes = (Pass.STATIC,)
