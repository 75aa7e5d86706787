"""What every command-line front end shares (cli.py, probe/cli.py): exit codes and UsageError. Imports nothing."""

from __future__ import annotations

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A problem with how nnlint was called or configured (exit code 2)."""
