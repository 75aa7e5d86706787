"""The source of a file's functions whose names match a pattern, read with Python's own parser.

NN305 asks, for a class whose parameter is allocated uninitialised, whether some `init_weights`/`reset_parameters`
function anywhere in the project names the class. Parsing every file that mentions the class and "init" with libcst
to find those functions took gigabytes on large packages (torch: hundreds of files mention `Linear` and `init`);
`ast` reads the same functions for ~1/20 of the time and keeps no tree. Never imports torch.
"""

from __future__ import annotations

import ast
from typing import List, Optional, Pattern

from nnlint import python_syntax


def function_sources(text: str, name: Pattern[str], skip: str = "__init__") -> Optional[List[str]]:
    """The source (decorators and body) of every function or method, nested ones too, whose name `name` finds and is
    not `skip`, in file order; None when Python's parser cannot read the file."""
    try:
        tree = python_syntax.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = text.splitlines(keepends=True)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name != skip and name.search(node.name):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            found.append((first, "".join(lines[first - 1 : node.end_lineno])))
    return [source for _, source in sorted(found)]
