"""SARIF 2.1.0 for GitHub code scanning: every rule with its page, results with stable fingerprints and fixes."""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Dict, Iterable, List, Optional, Sequence, TextIO, Type
from urllib.parse import quote

from nnlint import __version__, pages
from nnlint.fingerprint import NAME as FINGERPRINT_KEY
from nnlint.fingerprint import fingerprints
from nnlint.reporters.base import ReportContext, Reporter
from nnlint.rule import Rule
from nnlint.rules import ALL_RULES
from nnlint.types import Edit, Finding, Fix, Location, Severity

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


class SarifReporter(Reporter):
    """One SARIF log with one run; paths are relative to `root` (default: the working folder)."""

    def __init__(self, root: Optional[PurePath] = None, rules: Optional[Sequence[Type[Rule]]] = None) -> None:
        self.root = root
        self.rules = rules

    def render(self, findings: Sequence[Finding], out: TextIO, ctx: ReportContext) -> None:
        json.dump(self.log(findings, ctx), out, indent=2, ensure_ascii=False)
        out.write("\n")

    def log(self, findings: Sequence[Finding], ctx: ReportContext) -> dict:
        """The SARIF log as plain data."""
        rules = ALL_RULES if self.rules is None else self.rules
        descriptors = [rule_descriptor(rule) for rule in rules] + _unknown_descriptors(findings, rules)
        index = {descriptor["id"]: i for i, descriptor in enumerate(descriptors)}
        prints = fingerprints(findings, ctx.read_text)
        run = {
            "tool": {"driver": _driver(descriptors)},
            "originalUriBaseIds": {SRCROOT: {"uri": root_uri(self.root or Path.cwd())}},
            "columnKind": "unicodeCodePoints",
            "results": [result(finding, index, fp) for finding, fp in zip(findings, prints)],
        }
        return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _driver(descriptors: List[dict]) -> dict:
    return {
        "name": "nnlint",
        "version": __version__,
        "informationUri": pages.PROJECT_URL,
        "rules": descriptors,
    }


def rule_descriptor(rule: Type[Rule]) -> dict:
    """A reportingDescriptor: summary, the page's "What it does", the whole page as help, default level."""
    summary = rule.summary()
    page = pages.page_text(rule.code)
    what = pages.markdown_section(page, "What it does") if page else None
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": what or summary, "markdown": what or summary},
        "help": {"text": page or summary, "markdown": page or summary},
        "helpUri": pages.page_url(rule.code),
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": [p.value for p in rule.passes]},
    }


def _unknown_descriptors(findings: Iterable[Finding], rules: Sequence[Type[Rule]]) -> List[dict]:
    # every result needs a rule entry for GitHub to title its alert, even a code missing from `rules`
    known = {rule.code for rule in rules}
    names = {f.code: f.name for f in findings if f.code not in known}
    return [{"id": code, "name": name} for code, name in names.items()]


def root_uri(root: PurePath) -> str:
    """The file URI of a folder, ending in `/` as SARIF requires of a base URI."""
    uri = root.as_uri() if root.is_absolute() else Path(root).absolute().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def artifact_location(path: str) -> dict:
    """A relative path as a percent-encoded URI under %SRCROOT%; an absolute one as a file URI."""
    if PurePath(path).is_absolute():
        return {"uri": PurePath(path).as_uri()}
    return {"uri": quote(path, safe="/"), "uriBaseId": SRCROOT}


def region(loc: Location) -> dict:
    """1-based start and (when known) end; SARIF's endColumn is exclusive, like ours."""
    span = {"startLine": loc.line, "startColumn": loc.column}
    if loc.end_line is not None:
        span["endLine"] = loc.end_line
    if loc.end_column is not None:
        span["endColumn"] = loc.end_column
    return span


def result(finding: Finding, rule_index: Dict[str, int], fingerprint: str) -> dict:
    """A SARIF result for one finding."""
    location: dict = {
        "physicalLocation": {
            "artifactLocation": artifact_location(finding.location.path),
            "region": region(finding.location),
        }
    }
    if finding.location.symbol:
        location["logicalLocations"] = [{"fullyQualifiedName": finding.location.symbol}]
    if finding.location.cell is not None:
        # A notebook: the region's lines count within the cell, which this property and a logical location name.
        cell = finding.location.cell
        location["properties"] = {"cell": cell}
        location.setdefault("logicalLocations", []).insert(
            0, {"name": f"cell {cell}", "kind": "module", "fullyQualifiedName": f"{finding.location.path}:cell {cell}"}
        )
    obj = {
        "ruleId": finding.code,
        "ruleIndex": rule_index[finding.code],
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if finding.fix is not None and finding.fix.edits:
        obj["fixes"] = [sarif_fix(finding.fix, finding.location.path)]
    obj["properties"] = {"pass": finding.pass_.value}
    return obj


def sarif_fix(fix: Fix, path: str) -> dict:
    """A SARIF fix: the title as description, each edit as a replacement of a region."""
    return {
        "description": {"text": fix.title},
        "artifactChanges": [
            {"artifactLocation": artifact_location(path), "replacements": [_replacement(e) for e in fix.edits]}
        ],
        "properties": {"safe": fix.safe},
    }


def _replacement(edit: Edit) -> dict:
    deleted = {
        "startLine": edit.line,
        "startColumn": edit.column,
        "endLine": edit.end_line,
        "endColumn": edit.end_column,
    }
    replacement = {"deletedRegion": deleted, "insertedContent": {"text": edit.text}}
    if edit.cell is not None:
        replacement["properties"] = {"cell": edit.cell}
    return replacement
