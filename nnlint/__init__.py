"""nnlint: a linter for PyTorch model code that finds the bugs that make a network train badly."""

__version__ = "0.1.0"
