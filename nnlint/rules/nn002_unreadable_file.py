"""NN002: the file could not be read or decoded."""

from nnlint.rule import Rule
from nnlint.types import Pass, Severity


class UnreadableFile(Rule):
    """File could not be read or decoded (binary, wrong encoding, broken link, no permission)."""

    code = "NN002"
    name = "unreadable-file"
    severity = Severity.ERROR
    passes = (Pass.STATIC,)
