"""A baseline of known findings (`--write-baseline`, `--baseline`): adopt nnlint today, fail only on new problems.

The file lists one entry per finding, matched by the fingerprint SARIF uses (nnlint/fingerprint.py) with paths
taken relative to the baseline's own folder, so it survives code moving within a file and runs from any folder.
Entries are only ever written by `--write-baseline`: a run with `--baseline` never adds to it, and a fixed
finding's entry simply matches nothing. (The probe's `nnlint probe --baseline` is a different file: saved metrics.)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, List, Mapping, Optional, Sequence, Tuple

from nnlint.fingerprint import NAME as FINGERPRINT
from nnlint.fingerprint import fingerprints
from nnlint.types import Finding

FORMAT = "nnlint-baseline"
VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read or written; the message names the file and what to do."""


@dataclass(frozen=True)
class Baseline:
    """The fingerprints of the known findings in one baseline file, and the file (as the baseline names it) of each."""

    path: Path
    known: Mapping[str, str]


@dataclass(frozen=True)
class Split:
    """A run's findings against a baseline: those to report, and how many known ones are still there or gone."""

    new: Tuple[Finding, ...]
    still_known: int
    fixed: int


def write(path: Path, findings: Sequence[Finding], read_text: Callable[[str], Optional[str]], cwd: Path) -> int:
    """Record `findings` (as reported, in report order) as the known ones in `path`; returns how many."""
    prints = fingerprints(findings, read_text, _path_key(path, cwd))
    entries = [
        {
            "fingerprint": fingerprint,
            "code": finding.code,
            "path": _path_key(path, cwd)(finding.location.path),
            **({"cell": finding.location.cell} if finding.location.cell is not None else {}),
            "line": finding.location.line,  # for a reader only: matching never looks at it
            "message": finding.message,
        }
        for finding, fingerprint in zip(findings, prints)
    ]
    document = {"format": FORMAT, "version": VERSION, "fingerprint": FINGERPRINT, "findings": entries}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        raise BaselineError(f"cannot write the baseline {path}: {error.strerror or error}") from None
    return len(entries)


def load(path: Path) -> Baseline:
    """Read a baseline written by `write`; BaselineError says what is wrong with any other file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            f"baseline file {path} not found; create it with `nnlint check --write-baseline {path}`"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"cannot read the baseline {path}: {error}") from None
    except ValueError as error:
        raise BaselineError(f"the baseline {path} is not valid JSON ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(f"{path} is not an nnlint baseline (a probe baseline belongs to `nnlint probe --baseline`)")
    if data.get("version") != VERSION or data.get("fingerprint") != FINGERPRINT:
        raise BaselineError(
            f"the baseline {path} was written by another version of nnlint; write it again with --write-baseline"
        )
    entries = data.get("findings")
    if not isinstance(entries, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str) for entry in entries
    ):
        raise BaselineError(f"the baseline {path} has no list of findings with fingerprints")
    return Baseline(path, {entry["fingerprint"]: str(entry.get("path", "")) for entry in entries})


def split(
    findings: Sequence[Finding],
    read_text: Callable[[str], Optional[str]],
    baseline: Baseline,
    cwd: Path,
    checked: Iterable[str] = (),
) -> Split:
    """The findings the baseline does not know, in their order; how many known ones are still present, and how many
    are gone from the `checked` files (display paths; a file not checked this run fixed nothing)."""
    key = _path_key(baseline.path, cwd)
    prints = fingerprints(findings, read_text, key)
    new: List[Finding] = [
        finding for finding, fingerprint in zip(findings, prints) if fingerprint not in baseline.known
    ]
    present = set(prints).intersection(baseline.known)
    looked_at = {key(display) for display in checked}
    gone = [
        fingerprint for fingerprint, path in baseline.known.items() if fingerprint not in present and path in looked_at
    ]
    return Split(tuple(new), len(present), len(gone))


def _path_key(baseline_path: Path, cwd: Path) -> Callable[[str], str]:
    """A finding's display path (relative to `cwd`) as a path relative to the baseline's folder, `/`-separated."""
    folder = os.path.abspath(cwd / baseline_path.parent)

    def key(display: str) -> str:
        absolute = os.path.abspath(cwd / display)
        try:
            relative = os.path.relpath(absolute, folder)
        except ValueError:  # another drive
            return Path(absolute).as_posix()
        return Path(relative).as_posix()

    return key
