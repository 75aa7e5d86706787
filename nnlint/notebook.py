"""Jupyter notebooks as one Python program: code cells in order, IPython syntax blanked out, and the way back.

The static pass never sees a notebook, only its *program*: every code cell, in cell order, each after a
marker line `#%% nnlint-cell N` (N counts every cell of the notebook, markdown included, from 1), with
IPython-only lines (`%timeit`, `!pip install`, `x = !ls`, `obj?`, whole `%%bash` cells) replaced by a
placeholder `pass` that keeps their indentation. The program is plain text, so caching, suppression
comments, fixes and re-linting work on it unchanged; the markers alone say which line is which cell's, so
findings are mapped back (`cell`, line within the cell) and fixed programs are turned back into cells
without any other state.
"""

from __future__ import annotations

import ast
import difflib
import functools
import json
import re
from dataclasses import replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

from nnlint import python_syntax
from nnlint.text import split_lines
from nnlint.types import Finding, Fix, Location

SUFFIX = ".ipynb"
MARKER = "#%% nnlint-cell {}"
PLACEHOLDER = "pass  #%% nnlint-ipython"
_MARKER = re.compile(r"#%% nnlint-cell (\d+)\Z")

# A line IPython rewrites before Python sees it: magics, shell escapes, help, and assignments from them.
_LINE_MAGIC = re.compile(r"\s*(?:[%!]|\?{1,2}\s*[\w.]|[\w.\[\]]+\?{1,2}\s*\Z|[\w.,\[\]() ]+=\s*[%!])")


class NotebookError(Exception):
    """The file is not a notebook nnlint can read (or write back); the message is a full sentence."""


def is_notebook(name: str) -> bool:
    """Whether a path names a Jupyter notebook."""
    return name.endswith(SUFFIX)


# --- reading -------------------------------------------------------------------------------------------


def load(raw: bytes) -> Dict[str, Any]:
    """The notebook's JSON, checked to have the shape nnlint relies on."""
    try:
        notebook = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise NotebookError(f"Notebook is not valid UTF-8 (byte 0x{raw[error.start]:02x}).") from None
    except ValueError as error:
        raise NotebookError(f"Notebook is not valid JSON ({error}).") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError("Notebook has no list of cells: it is not in Jupyter's nbformat 4.")
    for number, cell in enumerate(notebook["cells"], 1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f"Cell {number} of the notebook is not a cell (no cell_type).")
        source = cell.get("source", "")
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            raise NotebookError(f"Cell {number} of the notebook has a source that is neither text nor a list of lines.")
    return notebook


def program(raw: bytes) -> str:
    """The Python program the static pass checks for a notebook's bytes."""
    notebook = load(raw)
    parts: List[str] = []
    for number, cell in enumerate(notebook["cells"], 1):
        if cell["cell_type"] == "code":
            parts.append(MARKER.format(number) + "\n")
            parts.append(_python_of(_source_text(cell)))
    return "".join(parts)


def _source_text(cell: Dict[str, Any]) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def _python_of(source: str) -> str:
    """A cell's text with IPython-only lines replaced; always ends with a newline."""
    lines = source.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if first.lstrip().startswith("%%"):
        lines = [PLACEHOLDER] * len(lines)  # a cell magic (%%bash, %%time...): not Python, or not ours to judge
    elif python_syntax.parses(source):
        pass  # `(a\n % b)` starts a line with % and is plain Python
    else:
        lines = [_indent(line) + PLACEHOLDER if _LINE_MAGIC.match(line) else line for line in lines]
    return "".join(line + "\n" for line in lines)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def definitions(text: str) -> str:
    """A notebook's program cut down to what defines its models, for the graph pass to run: top-level
    imports, functions, classes and constant assignments. Every other statement (training, plotting,
    downloads) becomes blank lines, so line numbers stay those of the program."""
    try:
        tree = python_syntax.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""
    lines = text.splitlines(keepends=True)
    keep = [False] * len(lines)
    for statement in tree.body:
        if _defines(statement):
            first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
            for index in range(first - 1, (statement.end_lineno or statement.lineno)):
                keep[index] = True
    for statement in tree.body:  # `import torch; train()` on one line: the line goes
        if not _defines(statement):
            for index in range(statement.lineno - 1, statement.end_lineno or statement.lineno):
                keep[index] = False
    return "".join(line if kept else "\n" for line, kept in zip(lines, keep))


def _defines(statement: ast.stmt) -> bool:
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
        try:
            ast.literal_eval(statement.value)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            return False
        return True
    return False


# --- mapping findings to cells --------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)  # asked once per finding (mapping, snippets, fingerprints) of the same program
def cell_positions(text: str) -> Tuple[Optional[Tuple[int, int]], ...]:
    """For each line of a notebook's program (index = line - 1): (cell, line within the cell), None on markers."""
    positions: List[Optional[Tuple[int, int]]] = []
    cell, row = 0, 0
    for line in _lines(text):
        marker = _MARKER.match(line)
        if marker:
            cell, row = int(marker.group(1)), 0
            positions.append(None)
        else:
            row += 1
            positions.append((cell, row) if cell else None)
    return tuple(positions)


def to_cells(finding: Finding, text: str) -> Finding:
    """A finding on a notebook's program, pointing at the cell and the line within it instead."""
    positions = cell_positions(text)
    at = _position(positions, finding.location.line)
    if at is None:
        return finding
    loc = finding.location
    end = _position(positions, loc.end_line) if loc.end_line is not None else None
    end_line, end_column = loc.end_line, loc.end_column
    if loc.end_line is not None:
        if end is not None and end[0] == at[0]:
            end_line = end[1]
        else:  # a span reaching into another cell ends with its first line
            end_line, end_column = at[1], None
    location = replace(loc, line=at[1], end_line=end_line, end_column=end_column, cell=at[0])
    message = _LINE_REFERENCE.sub(lambda match: _cell_reference(match, positions, at[0]), finding.message)
    return replace(finding, location=location, message=message, fix=_fix_in_cells(finding.fix, positions, at[0]))


# Rules name other places of the same file as "line N" (`nn.Conv2d` (line 11) has a bias...).
_LINE_REFERENCE = re.compile(r"\bline (\d+)\b")


def _cell_reference(match: "re.Match[str]", positions: Sequence[Optional[Tuple[int, int]]], cell: int) -> str:
    at = _position(positions, int(match.group(1)))
    if at is None:
        return match.group(0)
    return f"line {at[1]}" if at[0] == cell else f"cell {at[0]}, line {at[1]}"


def _position(positions: Sequence[Optional[Tuple[int, int]]], line: int) -> Optional[Tuple[int, int]]:
    return positions[line - 1] if 1 <= line <= len(positions) else None


def _fix_in_cells(fix: Optional[Fix], positions: Sequence[Optional[Tuple[int, int]]], cell: int) -> Optional[Fix]:
    """The fix with cell-relative edits; a fix that would reach outside its cell is not offered."""
    if fix is None:
        return None
    edits = []
    for edit in fix.edits:
        start, end = _position(positions, edit.line), _position(positions, edit.end_line)
        if start is None or end is None or start[0] != cell or end[0] != cell:
            return None
        edits.append(replace(edit, line=start[1], end_line=end[1], cell=cell))
    return replace(fix, edits=tuple(edits))


def line_of(text: Optional[str], location: Location) -> Optional[str]:
    """The source line a location points at, in a plain file or in a notebook's cell."""
    if text is None:
        return None
    lines = _lines(text)
    if location.cell is None:
        return lines[location.line - 1] if 1 <= location.line <= len(lines) else None
    for index, at in enumerate(cell_positions(text)):
        if at == (location.cell, location.line):
            return lines[index]
    return None


@functools.lru_cache(maxsize=16)  # reporters ask once per finding of the same file
def _lines(text: str) -> Tuple[str, ...]:
    return tuple(split_lines(text))


# --- writing fixes back ---------------------------------------------------------------------------------


def cells_of(text: str) -> Dict[int, str]:
    """Each code cell's text in a (fixed) program, IPython placeholders still in place."""
    cells: Dict[int, List[str]] = {}
    current: Optional[List[str]] = None
    for line in text.splitlines(keepends=True):
        marker = _MARKER.match(line.rstrip("\r\n"))
        if marker:
            current = cells.setdefault(int(marker.group(1)), [])
        elif current is not None:
            current.append(line)
    return {number: "".join(lines) for number, lines in cells.items()}


def rebuild(raw: bytes, fixed_program: str) -> bytes:
    """The notebook's bytes with its code cells replaced by those of `fixed_program`; outputs, metadata and
    the JSON layout stay as they were. Raises NotebookError where that cannot be guaranteed."""
    notebook = load(raw)
    text = raw.decode("utf-8-sig")
    dump = _layout_of(notebook, text)
    new_cells = cells_of(fixed_program)
    code_numbers = [n for n, cell in enumerate(notebook["cells"], 1) if cell["cell_type"] == "code"]
    if sorted(new_cells) != code_numbers:
        raise NotebookError("The fixed program no longer has the notebook's cells; the notebook was not changed.")
    for number in code_numbers:
        cell = notebook["cells"][number - 1]
        original = _source_text(cell)
        restored = _restore(original, new_cells[number])
        if restored != original:
            cell["source"] = restored if isinstance(cell.get("source"), str) else restored.splitlines(keepends=True)
    prefix = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
    return (prefix + dump(notebook)).encode("utf-8")


def _restore(original: str, fixed: str) -> str:
    """A fixed cell's text with its IPython lines put back and the original's (lack of a) final newline."""
    originals = [
        line for line, python in zip(original.splitlines(), _python_of(original).splitlines()) if line != python
    ]
    lines = fixed.splitlines()
    if sum(1 for line in lines if line.strip() == PLACEHOLDER) != len(originals):
        raise NotebookError("A fix touched an IPython line; the notebook was not changed.")
    replacements = iter(originals)
    restored = [next(replacements) if line.strip() == PLACEHOLDER else line for line in lines]
    newline = "\r\n" if "\r\n" in original else "\n"
    return newline.join(restored) + (newline if original.endswith(("\n", "\r")) else "")


def _layout_of(notebook: Dict[str, Any], text: str):
    """The json.dumps settings that reproduce the file byte for byte, so only fixed cells change."""
    newline = "\r\n" if "\r\n" in text else "\n"
    for indent in (1, 2, 4, None, 3, "\t"):
        for sort_keys in (True, False):
            for ensure_ascii in (False, True):

                def dump(data: Any, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii) -> str:
                    out = json.dumps(data, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii)
                    out = out.replace("\n", newline)
                    return out + text[len(text.rstrip("\r\n")) :]

                if dump(notebook) == text:
                    return dump
    raise NotebookError(
        "The notebook's JSON layout is not one nnlint can reproduce exactly, so fixing it would "
        "rewrite the whole file; it was not changed (save it from Jupyter once and run again)."
    )


def cell_diff(display: str, before: str, after: str) -> str:
    """`--diff` for a notebook: a unified diff per changed cell, named `path:cell N`."""
    old, new = cells_of(before), cells_of(after)
    pieces = []
    for number in sorted(set(old) | set(new)):
        a, b = old.get(number, ""), new.get(number, "")
        if a != b:
            name = f"{display}:cell {number}"
            pieces.append(
                "".join(
                    difflib.unified_diff(
                        a.splitlines(keepends=True),
                        b.splitlines(keepends=True),
                        fromfile=f"a/{name}",
                        tofile=f"b/{name}",
                    )
                )
            )
    return "".join(pieces)
