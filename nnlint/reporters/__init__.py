"""Output formats by name; each reporter module is imported only when used."""

from __future__ import annotations

import importlib

from nnlint.reporters.base import Reporter

FORMATS = {
    "text": ("nnlint.reporters.text", "TextReporter"),
    "rich": ("nnlint.reporters.rich", "RichReporter"),
    "json": ("nnlint.reporters.json", "JsonReporter"),
    "sarif": ("nnlint.reporters.sarif", "SarifReporter"),
    "github": ("nnlint.reporters.github", "GithubReporter"),
}


def get_reporter(name: str) -> Reporter:
    """A reporter instance for a format name in FORMATS."""
    module_name, class_name = FORMATS[name]
    return getattr(importlib.import_module(module_name), class_name)()
