"""The static pass: read and parse each file once, then run every selected static rule in one walk.

Files checked together are analysed together: all files are parsed first, so a model class
defined in one file is understood where another file trains it.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Type

import libcst as cst

from nnlint.rule import Rule
from nnlint.rules.nn001_parse_error import ParseError
from nnlint.rules.nn002_unreadable_file import UnreadableFile
from nnlint.rules.nn003_internal_error import InternalError
from nnlint.static.context import StaticContext
from nnlint.static.project import ProjectIndex
from nnlint.static.reading import UnreadableSource, read_source
from nnlint.static.semantics import FileSemantics
from nnlint.types import Finding, Location


@dataclass
class ParsedFile:
    """A file that parsed: what rules need to check it."""

    display_path: str
    source: str
    semantics: FileSemantics


def check_files(
    files: Sequence[Tuple[Path, str]], rules: Sequence[Type[Rule]], project: Optional[ProjectIndex] = None
) -> List[Finding]:
    """Run the static rules over (path, display path) pairs; problems with a file become NN0xx findings.

    Pass a ProjectIndex to keep what the parse learned (e.g. the model classes the graph pass discovers).
    """
    sources: List[Tuple[str, "str | Finding"]] = []
    for path, display in files:
        try:
            sources.append((display, read_source(path)[1]))
        except UnreadableSource as error:
            sources.append((display, UnreadableFile.finding(Location(display, error.line, 1), str(error))))
    return check_sources(sources, rules, project)


def check_sources(
    sources: Sequence[Tuple[str, "str | Finding"]], rules: Sequence[Type[Rule]], project: Optional[ProjectIndex] = None
) -> List[Finding]:
    """Run the static rules over (display path, text) pairs; a Finding in place of text is passed through."""
    findings: List[Finding] = []
    project = project if project is not None else ProjectIndex()
    project._parser = project._parser or _parse_for_index
    parsed: List[Tuple[ParsedFile, List[Type[Rule]]]] = []
    for display, source in sources:
        if isinstance(source, Finding):
            findings.append(source)
            continue
        active = rules_for_text(rules, source)
        if not active and _parses_quickly(source):
            project.add_deferred(display, source)  # nothing to visit here: parse only if asked about
            continue
        result = parse_source(display, source, project)
        if isinstance(result, Finding):
            findings.append(result)
        else:
            project.add(result.semantics)
            parsed.append((result, active))
    for item, active in parsed:
        findings.extend(run_rules(item, active))
    return findings


def rules_for_text(rules: Sequence[Type[Rule]], text: str) -> List[Type[Rule]]:
    """The rules with hooks whose needles occur in the text (a rule without needles always runs)."""
    return [rule for rule in rules if _has_hooks(rule) and (not rule.needles or any(n in text for n in rule.needles))]


def _has_hooks(rule: Type[Rule]) -> bool:
    return any(name.startswith(("visit_", "leave_")) for name in dir(rule))


def _parses_quickly(source: str) -> bool:
    """Python's own parser, ~20x faster than libcst: a file it rejects gets the full parse and its NN001."""
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _parse_for_index(display: str, source: str, project: ProjectIndex) -> Optional[FileSemantics]:
    result = parse_source(display, source, project)
    return None if isinstance(result, Finding) else result.semantics


def parse_source(display: str, source: str, project: ProjectIndex) -> "ParsedFile | Finding":
    """Parse one file's text and build its dataflow, or explain why it cannot be parsed."""
    try:
        module = cst.parse_module(source)
        semantics = FileSemantics(display, module, project)
    except cst.ParserSyntaxError as error:
        return _syntax_error(display, source, error)
    except RecursionError:
        return ParseError.finding(Location(display, 1, 1), "File is nested too deeply for nnlint to parse it.")
    return ParsedFile(display, source, semantics)


def _syntax_error(display: str, source: str, error: cst.ParserSyntaxError) -> Finding:
    # libcst's native parser gives rough positions; Python's own compiler says exactly where.
    line, column, message = error.raw_line, error.raw_column + 1, error.message
    try:
        ast.parse(source)
    except SyntaxError as precise:
        if precise.lineno:
            line, column = precise.lineno, max(precise.offset or 1, 1)
        message = precise.msg
    except (ValueError, RecursionError, MemoryError):
        pass
    return ParseError.finding(
        Location(display, max(line, 1), max(column, 1)),
        f"Syntax error: {message}. nnlint checks nothing else in this file until it parses.",
    )


def run_rules(item: ParsedFile, rules: Sequence[Type[Rule]]) -> List[Finding]:
    """Visit one parsed file once with all rules; a rule that raises is reported and switched off."""
    context = StaticContext(item.display_path, item.source, item.semantics)
    dispatcher = _Dispatcher([rule(context) for rule in rules], context)
    item.semantics.module.visit(dispatcher)
    return context.findings + dispatcher.errors


class _Dispatcher(cst.CSTVisitor):
    """Calls each rule's visit_/leave_ hooks for every node, isolating rules from each other's failures."""

    def __init__(self, rules: List[Rule], context: StaticContext) -> None:
        super().__init__()
        self.context = context
        self.errors: List[Finding] = []
        self._failed: set = set()
        self._hooks: Dict[str, List[Tuple[Rule, Callable]]] = {}
        for rule in rules:
            for attribute in dir(type(rule)):
                if attribute.startswith(("visit_", "leave_")):
                    self._hooks.setdefault(attribute, []).append((rule, getattr(rule, attribute)))

    def _call(self, hook: str, node: cst.CSTNode) -> None:
        for rule, method in self._hooks.get(hook, ()):
            if rule.code in self._failed:
                continue
            try:
                method(node)
            except Exception as error:  # a bug in a rule must not stop the others
                self._failed.add(rule.code)
                location = self.context.location(node) if node in self.context.semantics.positions else Location(self.context.path, 1, 1)
                self.errors.append(
                    InternalError.finding(
                        location,
                        f"Rule {rule.code} ({rule.name}) failed here with {type(error).__name__}: {error}. "
                        "This is a bug in nnlint; the other rules still checked the file. "
                        f"Silence it with `# nnlint: ignore[{rule.code}]` and report it.",
                    )
                )

    def on_visit(self, node: cst.CSTNode) -> bool:
        self._call("visit_" + type(node).__name__, node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._call("leave_" + type(original_node).__name__, original_node)
