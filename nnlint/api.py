"""Python API for tests and tools: lint source text or files and get Finding objects back."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, List, Mapping, Optional, Sequence, Union

from nnlint import registry, suppress
from nnlint.config import Config, load_config
from nnlint.discover import display_path
from nnlint.runner import Pipeline, Selection, run, selected_codes
from nnlint.static.analysis import analyze
from nnlint.static.engine import check_sources
from nnlint.types import Finding, Pass


def check_source(
    source: str, path: str = "<string>.py", select: Sequence[str] = ("ALL",), ignore: Sequence[str] = ()
) -> List[Finding]:
    """Findings of the static pass for one source text, after `# noqa` suppressions, sorted."""
    return check_texts({path: source}, select, ignore)


def check_texts(sources: dict, select: Sequence[str] = ("ALL",), ignore: Sequence[str] = ()) -> List[Finding]:
    """Findings for several in-memory files analysed together ({display path: text})."""
    codes = registry.select(select, ignore)
    rules = [rule for rule in registry.rules_for(codes) if Pass.STATIC in rule.passes]
    findings = [f for f in check_sources(list(sources.items()), rules) if f.code in codes]
    return sorted(suppress.apply(findings, sources.get), key=Finding.sort_key)


def check(
    paths: Iterable[Union[str, Path]], config: Optional[Config] = None, select: Optional[Sequence[str]] = None
) -> List[Finding]:
    """Findings for files and folders, with the project's configuration unless one is given."""
    targets = [Path(p) for p in paths]
    active = config if config is not None else load_config(targets)
    return list(run(targets, active, Path.cwd(), Selection(tuple(select) if select else None)).findings)


def check_document(
    text: str,
    path: Union[str, Path],
    neighbours: Union[Mapping[str, str], Mapping[Path, str], None] = None,
    config: Optional[Config] = None,
) -> List[Finding]:
    """Static findings for unsaved `text` as if it were the file at `path`, under the config that applies there.

    `neighbours` ({path: text}) are other files it may use (a model defined beside it): they answer
    cross-file questions but are not checked themselves. Raises ConfigError for a broken config.
    """
    target = Path(path).absolute()
    active = config if config is not None else load_config([target])
    root = active.root or target.parent
    codes = selected_codes(active, Selection())
    static_codes = [code for code in sorted(codes) if Pass.STATIC in registry.BY_CODE[code].passes]
    display = display_path(target, root)
    others = [(display_path(Path(p).absolute(), root), t) for p, t in dict(neighbours or {}).items()]
    sources = [(display, text)] + [(d, t) for d, t in others if d != display]
    findings = analyze(sources, [0], static_codes, False)[0].findings
    return Pipeline(codes, active, {display: target}, root)(findings, {display: text}.get)
