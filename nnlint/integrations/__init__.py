"""Training frameworks' callbacks around `nnlint.watch`; each module imports its framework and nothing else does."""
