"""The GitHub Action's run step (action.yml): one `nnlint check`, reported three ways.

The findings of a single run (the graph pass may take minutes: it is never run twice) become GitHub annotations
on stdout, a SARIF log for code scanning and a table in the job summary. This step always exits 0 and leaves
the verdict in its outputs (`exit-code`, `findings`, `sarif-file`, `fail`): the upload must happen first.
Inputs come from the environment: INPUT_PATHS, INPUT_ARGS (shell-style words), INPUT_SARIF_FILE,
INPUT_FAIL_ON_FINDINGS.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional


def main() -> int:
    """Run nnlint once, write the reports and the step's outputs; always 0."""
    paths = shlex.split(os.environ.get("INPUT_PATHS") or ".")
    args = shlex.split(os.environ.get("INPUT_ARGS") or "")
    sarif_file = Path(os.environ.get("INPUT_SARIF_FILE") or "nnlint.sarif")
    fail_on_findings = (os.environ.get("INPUT_FAIL_ON_FINDINGS") or "true").strip().lower() == "true"
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "findings.json"
        command = [sys.executable, "-m", "nnlint", "check", *args, "--format", "json", "--output", str(report), *paths]
        print("$ nnlint " + " ".join(shlex.quote(part) for part in command[4:]), flush=True)
        code = subprocess.run(command, check=False).returncode
        items = json.loads(report.read_text(encoding="utf-8")) if code in (0, 1) and report.is_file() else None
    if items is None:
        _outputs(exit_code=code if code else 2, findings=0, sarif_file="", fail=True)
        return 0
    count = _report(items, sarif_file)
    _outputs(exit_code=code, findings=count, sarif_file=str(sarif_file), fail=code == 1 and fail_on_findings)
    return 0


def _report(items: List[dict], sarif_file: Path) -> int:
    """Annotations on stdout, the SARIF log, the job summary; returns the number of findings."""
    from nnlint.reporters.base import ReportContext
    from nnlint.reporters.github import GithubReporter
    from nnlint.reporters.sarif import SarifReporter
    from nnlint.reporters.statistics import statistics_rows
    from nnlint.types import Finding

    findings = [Finding.from_dict(item) for item in items]
    context = ReportContext(read_text=_read_text)
    GithubReporter().render(findings, sys.stdout, context)
    sarif_file.parent.mkdir(parents=True, exist_ok=True)
    with open(sarif_file, "w", encoding="utf-8", newline="\n") as out:
        SarifReporter(root=Path.cwd()).render(findings, out, context)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        rows = statistics_rows(findings)
        lines = ["### nnlint", "", f"{len(findings)} finding{'s' if len(findings) != 1 else ''}.", ""]
        if rows:
            lines += ["| count | code | name | severity |", "|---:|---|---|---|"]
            lines += [f"| {count} | {code} | {name} | {severity} |" for count, code, name, severity in rows]
        with open(summary, "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
    return len(findings)


def _read_text(display: str) -> Optional[str]:
    """A checked file's text as nnlint read it (a notebook's program), for the SARIF fingerprints."""
    from nnlint.static.reading import UnreadableSource, read_source

    try:
        return read_source(Path(display))[1]
    except UnreadableSource:
        return None


def _outputs(**values: object) -> None:
    """The step's outputs, in $GITHUB_OUTPUT (printed when run outside Actions)."""
    text = "".join(
        f"{key.replace('_', '-')}={str(value).lower() if isinstance(value, bool) else value}\n"
        for key, value in values.items()
    )
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stderr.write(text)


if __name__ == "__main__":
    sys.exit(main())
