"""The user's own modules that the checked files import, found on disk: the rest of the project.

pre-commit passes only the changed files. With `train.py` changed and `model.py` not, `nnlint train.py` must
still know that the `Net` imported from `model.py` returns softmax probabilities. The imports of the named
files are resolved to files (relative imports, the package the file belongs to, the file's own folder, the
project root and its `src/`), transitively; those files are read and analysed when asked about, and nothing is
reported in them. Nothing is imported or executed. Never imports torch.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

_LISTINGS: Dict[str, frozenset] = {}  # folder -> its names, for one context_files() call
_MODULES: Dict[str, List[str]] = {}  # `pkg/mod` -> its files (_module_files), for one context_files() call
_ROOTS: Dict[Path, List[str]] = {}  # folder -> its search roots, for one context_files() call
MAX_FILES = 400  # context files for one run: a project's own modules, not a whole site-packages

# `from ..pkg.mod import a, b`, `from . import a`, `import a.b as c, d` — one statement per line is enough here:
# a missed import only means less context, never a wrong finding.
_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+\(?([\w, \t\\]+)", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w., \t]+)", re.MULTILINE)


def context_files(named: Sequence[Path], root: Path, excluded: Optional[Iterable[Path]] = None) -> List[Path]:
    """The project files the `named` files import, directly or through each other, that are not named."""
    _forget()  # a new run: files may have come or gone
    seen: Set[str] = {_key(path) for path in named}
    seen.update(_key(path) for path in excluded or ())
    found: List[Path] = []
    queue = [path for path in named if path.suffix == ".py"]
    while queue and len(found) < MAX_FILES:
        current = queue.pop(0)
        try:
            text = current.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for candidate in imported_files(current, text, root):
            key = _key(candidate)
            if key not in seen and not _in_environment(candidate):
                seen.add(key)
                found.append(candidate)
                queue.append(candidate)
    _forget()  # the folders may change before the next run (a language server lives long)
    return found[:MAX_FILES]


def _forget() -> None:
    _LISTINGS.clear()
    _MODULES.clear()
    _ROOTS.clear()


def imported_files(path: Path, text: str, root: Path) -> List[Path]:
    """Files of the project that `path` imports (those that exist)."""
    folder = path.parent
    roots = _ROOTS.get(folder)
    if roots is None:
        roots = _ROOTS[folder] = [str(base) for base in _search_roots(folder, root)]
    found: List[str] = []  # strings, not Paths: a file importing 50 names from a package asks ~200 places
    lines = list(_import_lines(text))
    for dots, module, names in (match.groups() for line in lines for match in [_FROM.match(line)] if match):
        parts = [part for part in module.split(".") if part]
        listed = [name.strip() for name in names.replace("\\", " ").split(",") if name.strip()]
        up = _up(folder, len(dots) - 1) if dots else None
        bases = ([str(up)] if up is not None else []) if dots else roots
        for base in bases:
            target = os.path.join(base, *parts)
            found.extend(_module_files(target) if parts else [])
            found.extend(file for name in listed for file in _module_files(os.path.join(target, name.split()[0])))
    for group in (match.group(1) for line in lines for match in [_IMPORT.match(line)] if match):
        for spelled in group.split(","):
            parts = spelled.split(" as ")[0].strip().split(".")
            if parts and all(part.isidentifier() for part in parts):
                for base in roots:
                    found.extend(_module_files(os.path.join(base, *parts)))
    return [Path(file) for file in found]


def _import_lines(text: str) -> Iterator[str]:
    """The lines with the word `import`, in order: the patterns above match within one line, and trying their
    anchored start at every character of every file was most of the time spent finding a run's context files."""
    start, previous = 0, -1
    while True:
        at = text.find("import", start)
        if at < 0:
            return
        begin = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        if begin != previous:
            previous = begin
            yield text[begin:end]
        start = end + 1


def _search_roots(folder: Path, root: Path) -> List[Path]:
    """Where absolute imports of the project's own modules are found: above the package the file is in, the
    file's own folder (scripts import their neighbours), the project root and its `src/`."""
    top = folder
    while (top / "__init__.py").is_file() and top.parent != top:
        top = top.parent
    roots: List[Path] = []
    for candidate in (top, folder, root, root / "src"):
        if candidate.is_dir() and candidate not in roots:
            roots.append(candidate)
    return roots


def _module_files(target: str) -> List[str]:
    """`pkg/mod` -> `pkg/mod.py` or `pkg/mod/__init__.py`, whichever exists (the package's `__init__` too). The
    files of a package import the same modules: asked ~30 times per distinct module, answered once."""
    found = _MODULES.get(target)
    if found is None:
        found = _MODULES[target] = []
        folder, name = os.path.split(target)
        listing = _listing(folder)
        if name + ".py" in listing:
            found.append(target + ".py")
        if name in listing and "__init__.py" in _listing(target):  # a package: not a listing of every name asked
            found.append(os.path.join(target, "__init__.py"))
    return found


def _listing(folder: str) -> frozenset:
    """The names in a folder (empty if it is none), read once per run: `from pkg import a, b, ...` asks about
    every name, and a stat per name and search root was most of a warm run's time."""
    names = _LISTINGS.get(folder)
    if names is None:
        try:
            names = frozenset(os.listdir(folder))
        except OSError:
            names = frozenset()
        _LISTINGS[folder] = names
    return names


def _up(folder: Path, levels: int) -> Optional[Path]:
    for _ in range(levels):
        if folder.parent == folder:
            return None
        folder = folder.parent
    return folder


def _in_environment(path: Path) -> bool:
    """Installed packages are not the user's project (a virtualenv inside the repository, site-packages)."""
    parts = path.parts
    return "site-packages" in parts or "dist-packages" in parts or any(p in (".venv", "venv", ".tox") for p in parts)


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def pairs_for(files: Sequence[Path], cwd: Path) -> List[Tuple[Path, str]]:
    """(path, display path) of context files, named the way checked files are."""
    from nnlint.discover import display_path

    return [(path, display_path(path, cwd)) for path in files]
