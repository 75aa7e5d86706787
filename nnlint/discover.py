"""Which files a run checks: Python files under the given paths, minus excluded folders and patterns."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Iterable, List, Sequence, Tuple

SOURCE_SUFFIXES = (".py", ".pyi", ".ipynb")  # notebooks: nnlint/notebook.py


class MissingPath(Exception):
    """A path named on the command line does not exist."""


def display_path(path: Path, cwd: Path) -> str:
    """How findings name a file: relative to the working folder when inside it, with `/` separators."""
    absolute = path if path.is_absolute() else cwd / path
    try:
        return absolute.relative_to(cwd).as_posix()
    except ValueError:
        return absolute.as_posix()


def is_excluded(path: Path, patterns: Sequence[str], root: Path) -> bool:
    """Whether a file or folder matches an exclude pattern, by its name or its path relative to `root`."""
    name = path.name
    try:
        relative = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        relative = path.as_posix()
    for pattern in patterns:
        stripped = pattern.rstrip("/")
        if (
            fnmatch.fnmatch(name, stripped)
            or fnmatch.fnmatch(relative, stripped)
            or relative.startswith(stripped + "/")
        ):
            return True
    return False


def _is_virtualenv(folder: Path) -> bool:
    return (folder / "pyvenv.cfg").is_file()


def discover(paths: Iterable[Path], exclude: Sequence[str], root: Path) -> List[Path]:
    """Files to check, in a stable order; a file named explicitly is always checked."""
    found: List[Path] = []
    seen = set()
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise MissingPath(str(path))
        if path.is_dir():
            candidates = _walk(path, exclude, root)
        else:
            candidates = [path]
        for candidate in candidates:
            key = os.path.normcase(os.path.abspath(candidate))
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


def _walk(folder: Path, exclude: Sequence[str], root: Path) -> List[Path]:
    files: List[Path] = []
    for current, dirs, names in os.walk(folder):
        base = Path(current)
        dirs[:] = sorted(d for d in dirs if not is_excluded(base / d, exclude, root) and not _is_virtualenv(base / d))
        for name in sorted(names):
            candidate = base / name
            if name.endswith(SOURCE_SUFFIXES) and not is_excluded(candidate, exclude, root):
                files.append(candidate)
    return files


def pairs(files: Sequence[Path], cwd: Path) -> List[Tuple[Path, str]]:
    """(path, display path) for each file."""
    return [(path, display_path(path, cwd)) for path in files]
