"""Parse step of the static pass: one file's text to its libcst tree and dataflow, or the finding saying why not.

Deeply nested files are parsed (and later visited) on a thread with a big stack. Never imports torch.
"""

from __future__ import annotations

import ast
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple

import libcst as cst

from nnlint import python_syntax
from nnlint.rules.nn001_parse_error import ParseError
from nnlint.rules.nn004_unsupported_syntax import UnsupportedSyntax
from nnlint.rules.nn005_file_too_large import FileTooLarge
from nnlint.static.fastparse import parse_module
from nnlint.static.project import ProjectIndex
from nnlint.static.semantics import FileSemantics
from nnlint.types import Finding, Location

DEEP_LEVELS = 120  # deeper trees are checked on the big-stack thread: rules walk them with libcst's visitors
DEEP_RECURSION_LIMIT = 60_000
DEEP_STACK_BYTES = 512 * 1024 * 1024
# libcst keeps 3-5 KB per syntax node: 40,000 nodes bound one file's tree to ~160 MB (bench/static_memory.py; the
# largest model file of torchvision/timm/transformers, timm's vision_transformer.py, has 28,000 and takes 75 MB).
MAX_SYNTAX_NODES = 40_000
COUNT_NODES_ABOVE = 150_000  # source characters: counting costs; ordinary code below it stays under the limit


@dataclass
class ParsedFile:
    """A file that parsed: what rules need to check it."""

    display_path: str
    source: str
    semantics: FileSemantics
    deep: bool = False  # nested deeper than DEEP_LEVELS: its rules run on a thread with a big stack


def parse_source(display: str, source: str, project: ProjectIndex) -> "ParsedFile | Finding":
    """Parse one file's text and build its dataflow, or explain why it cannot be parsed."""

    def build() -> ParsedFile:
        module = parse_module(source)
        semantics = FileSemantics(display, module, project, text=source)
        return ParsedFile(display, source, semantics, deep=semantics.depth > DEEP_LEVELS)

    too_large = _too_large(display, source)
    if too_large is not None:
        return too_large
    try:
        try:
            return build()
        except RecursionError:
            parsed = on_big_stack(build)
            parsed.deep = True
            return parsed
    except cst.ParserSyntaxError as error:
        return _syntax_error(display, source, error)
    except cst.CSTValidationError as error:  # libcst's parser accepted what its own nodes refuse (a newer
        return _invalid_node(display, source, error)  # Unicode letter as a name): CPython's verdict decides
    except RecursionError:
        return ParseError.finding(Location(display, 1, 1), "File is nested too deeply for nnlint to parse it.")


def _too_large(display: str, source: str) -> Optional[Finding]:
    """NN005 for a file whose tree would take more memory than one file may (files that do not parse are left to
    the parser's own verdict)."""
    if len(source) <= COUNT_NODES_ABOVE:
        return None
    try:
        nodes = sum(1 for _ in ast.walk(python_syntax.parse(source)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if nodes <= MAX_SYNTAX_NODES:
        return None
    return FileTooLarge.finding(
        Location(display, 1, 1),
        f"This file has {nodes:,} syntax nodes, more than the static pass analyses ({MAX_SYNTAX_NODES:,}: its tree "
        f"alone would take ~{nodes * 4 // 1000} MB), so no rule checked it. Keep model and training code in "
        "modules of ordinary size; exclude generated data files in `[tool.nnlint]`.",
    )


def parse_for_index(display: str, source: str, project: ProjectIndex) -> Optional[FileSemantics]:
    """parse_source as a ProjectIndex parser: the dataflow of a file asked about, None if it does not parse."""
    result = parse_source(display, source, project)
    return None if isinstance(result, Finding) else result.semantics


def on_big_stack(call: Callable[[], Any]) -> Any:
    """`call()` on a thread with a large stack and a high recursion limit. libcst's visitors recurse about
    three frames per level of nesting, so a 2,000-part implicit string concatenation (the standard
    library's pydoc_data/topics.py) or a 400-term `a + b + ...` exceeds Python's default limit of 1,000."""
    outcome: List[Tuple[bool, Any]] = []

    def target() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as error:  # handed to the caller's thread
            outcome.append((False, error))

    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size(DEEP_STACK_BYTES)
    sys.setrecursionlimit(max(old_limit, DEEP_RECURSION_LIMIT))
    try:
        thread = threading.Thread(target=target, name="nnlint-deep")
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def _invalid_node(display: str, source: str, error: cst.CSTValidationError) -> Finding:
    try:
        python_syntax.parse(source)
    except SyntaxError as precise:
        return ParseError.finding(
            Location(display, max(precise.lineno or 1, 1), max(precise.offset or 1, 1)),
            f"Syntax error: {precise.msg}. nnlint checks nothing else in this file until it parses.",
        )
    except (ValueError, RecursionError, MemoryError):
        pass
    return UnsupportedSyntax.finding(
        Location(display, 1, 1),
        f"Python accepts this file but nnlint's parser (libcst) does not ({error}), so no rule checked the file.",
    )


def _syntax_error(display: str, source: str, error: cst.ParserSyntaxError) -> Finding:
    # libcst's native parser gives rough positions; Python's own compiler says exactly where.
    line, column, message = error.raw_line, error.raw_column + 1, error.message
    try:
        python_syntax.parse(source)
    except SyntaxError as precise:
        if precise.lineno:
            line, column = precise.lineno, max(precise.offset or 1, 1)
        message = precise.msg
    except (ValueError, RecursionError, MemoryError):
        pass
    else:
        # The running Python accepts it: a construct libcst's grammar lacks, such as `(x): int = 1`.
        return UnsupportedSyntax.finding(
            Location(display, max(line, 1), max(column, 1)),
            "Python accepts this file but nnlint's parser (libcst) does not support the construct here, so no "
            "rule checked the file. Rewrite the construct (for example `(x): int = 1` as `x: int = 1`) to have it checked.",
        )
    return ParseError.finding(
        Location(display, max(line, 1), max(column, 1)),
        f"Syntax error: {message}. nnlint checks nothing else in this file until it parses.",
    )
