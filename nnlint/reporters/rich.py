"""For people at a terminal: findings grouped by file, the flagged source line underlined, then a summary."""

from __future__ import annotations

import unicodedata
from typing import Dict, List, Optional, Sequence, TextIO, Tuple

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from nnlint.notebook import line_of
from nnlint.reporters.base import ReportContext, Reporter
from nnlint.reporters.statistics import statistics_rows
from nnlint.types import Finding, Location, Severity

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
NOUNS = {
    Severity.ERROR: ("error", "errors"),
    Severity.WARNING: ("warning", "warnings"),
    Severity.INFO: ("info", "info"),
}
PIPED_WIDTH = 100
INDENT = "    "

# Python's own line breaks; str.splitlines would also split on form feeds and other separators.


class RichReporter(Reporter):
    """Colour when ctx.color, none at all otherwise; messages and source are shown verbatim, never as markup."""

    def render(self, findings: Sequence[Finding], out: TextIO, ctx: ReportContext) -> None:
        console = make_console(out, ctx.color)
        if ctx.statistics:
            console.print(statistics_table(findings))
            console.print()
        else:
            for path, group in _by_path(findings).items():
                print_file(console, path, group, ctx.read_text(path))
        console.print(summary(findings, ctx))


def make_console(out: TextIO, color: bool) -> Console:
    """A console on `out` that never wraps, highlights or reads markup; no ANSI codes unless `color`."""
    isatty = getattr(out, "isatty", None)
    tty = bool(isatty and isatty())
    return Console(
        file=out,
        width=None if tty else PIPED_WIDTH,
        color_system="auto" if color else None,
        force_terminal=color,
        no_color=not color,
        force_jupyter=False,
        force_interactive=False,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
        legacy_windows=False,
    )


def _by_path(findings: Sequence[Finding]) -> Dict[str, List[Finding]]:
    groups: Dict[str, List[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.location.path, []).append(finding)
    return groups


def print_file(console: Console, path: str, findings: List[Finding], source: Optional[str]) -> None:
    """A file's name, then each of its findings with the flagged line, then a blank line."""
    gutter = max(len(str(f.location.line)) for f in findings)
    place = max(len(_place(f.location)) for f in findings)
    console.print(Text(printable(path), style="bold underline"))
    for finding in findings:
        console.print(_headline(finding, place))
        for line in finding.message.splitlines() or [""]:
            console.print(Text(INDENT + printable(line)))
        snippet_line = line_of(source, finding.location)
        if snippet_line is not None:
            console.print(_snippet(snippet_line, finding, gutter))
        if finding.fix is not None:
            console.print(Text.assemble(INDENT, ("fix: ", "green"), printable(finding.fix.title)))
    console.print()


def _place(loc: Location) -> str:
    return f"{'' if loc.cell is None else f'cell {loc.cell}:'}{loc.line}:{loc.column}"


def _headline(finding: Finding, width: int) -> Text:
    return Text.assemble(
        f"  {_place(finding.location).ljust(width)}  ",
        (f"{finding.severity.value:<7}", STYLES[finding.severity]),
        "  ",
        (finding.code, "bold"),
        " ",
        (finding.name, "dim"),
    )


def _snippet(line: str, finding: Finding, gutter: int) -> Text:
    """The source line and, under it, carets from the start column to the end column (or line end)."""
    source = printable(line.rstrip())
    start, end = _span(source, finding.location)
    padding = _blank(source[:start]) + " " * max(start - len(source), 0)
    # columns past the end of the line (a parse error at EOL) still get one caret each
    width = cell_len(source[start:end]) + max(end - max(start, len(source)), 0)
    number = str(finding.location.line).rjust(gutter)
    return Text.assemble(
        (f"{INDENT}{number} | ", "dim"),
        source,
        "\n",
        (f"{INDENT}{' ' * gutter} | ", "dim"),
        padding,
        ("^" * max(width, 1), STYLES[finding.severity]),
    )


def _span(source: str, loc: Location) -> Tuple[int, int]:
    """0-based [start, end) of the flagged text on its first line; a span that goes on runs to the line's end."""
    start = loc.column - 1
    if loc.end_line is not None and loc.end_line > loc.line:
        end = len(source)
    elif loc.end_column is not None:
        end = loc.end_column - 1
    else:
        end = start + 1
    return start, max(end, start + 1)


def _blank(text: str) -> str:
    # keep tabs so the carets line up however the terminal expands them; wide characters take two cells
    return "".join(ch if ch == "\t" else " " * cell_len(ch) for ch in text)


def printable(text: str) -> str:
    """`text` with control characters other than tab shown as `?`, so no escape sequence reaches the terminal."""
    return "".join("?" if unicodedata.category(ch) == "Cc" and ch != "\t" else ch for ch in text)


def summary(findings: Sequence[Finding], ctx: ReportContext) -> Text:
    """`Found N findings (E errors, W warnings, I info) in F files checked.`, plus fixes applied."""
    files = f"{ctx.files_checked} file{'s' if ctx.files_checked != 1 else ''} checked"
    text = Text()
    if findings:
        text.append(f"Found {_plural(len(findings), 'finding')}", style="bold")
        text.append(f" ({', '.join(_severity_counts(findings))}) in {files}.")
    else:
        text.append("No findings", style="bold green")
        text.append(f" in {files}.")
    fixed = sum(ctx.fixed.values())
    if fixed:
        text.append(f" Fixed {_plural(fixed, 'finding')}.", style="green")
    return text


def _severity_counts(findings: Sequence[Finding]) -> List[str]:
    counts = [(severity, sum(1 for f in findings if f.severity is severity)) for severity in Severity]
    return [f"{n} {NOUNS[severity][n != 1]}" for severity, n in counts if n]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def statistics_table(findings: Sequence[Finding]) -> Table:
    """Count, code, name and severity per rule, most frequent first."""
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False)
    table.add_column("count", justify="right")
    for header in ("code", "name", "severity"):
        table.add_column(header)
    for count, code, name, severity in statistics_rows(findings):
        table.add_row(
            str(count), Text(code, style="bold"), Text(name), Text(severity, style=STYLES[Severity(severity)])
        )
    return table
