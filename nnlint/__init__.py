"""nnlint: a linter for PyTorch model code that finds the bugs that make a network train badly."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """`nnlint.probe(model, ...)` and `nnlint.watch(model, ...)`, imported on first use so that `import nnlint`
    never imports torch."""
    if name in ("probe", "watch"):
        import importlib

        return importlib.import_module(f"nnlint.{name}")
    raise AttributeError(f"module 'nnlint' has no attribute {name!r}")
