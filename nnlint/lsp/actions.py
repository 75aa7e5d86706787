"""Code actions: a quick fix for each fixable finding in the requested range, and `source.fixAll.nnlint`."""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence

from lsprotocol import types

from nnlint import fix
from nnlint.lsp.diagnostics import client_range, edit_range, finding_range, to_diagnostic
from nnlint.lsp.positions import LineIndex
from nnlint.types import Finding

FIX_ALL = "source.fixAll.nnlint"


class Target:
    """The document version the actions edit, and whether the client takes versioned edits (documentChanges)."""

    def __init__(self, uri: str, version: Optional[int], lines: LineIndex, versioned: bool = True) -> None:
        self.uri, self.version, self.lines, self.versioned = uri, version, lines, versioned

    def workspace_edit(self, edits: List[types.TextEdit]) -> types.WorkspaceEdit:
        """The edits as a WorkspaceEdit; a versioned one is refused by the client if the text moved on."""
        if not self.versioned:
            return types.WorkspaceEdit(changes={self.uri: edits})
        document = types.OptionalVersionedTextDocumentIdentifier(uri=self.uri, version=self.version)
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=document, edits=edits)])


def wanted(kind: str, only: Optional[Sequence[str]]) -> bool:
    """Whether the client asked for this kind; kinds are hierarchical (`source.fixAll` includes ours)."""
    return not only or any(kind == asked or kind.startswith(asked + ".") for asked in only)


def quick_fixes(target: Target, findings: Sequence[Finding], requested: types.Range) -> List[types.CodeAction]:
    """One `quickfix` per finding with a fix whose range touches `requested`; unsafe ones say so and are not preferred."""
    actions = []
    for finding in findings:
        if finding.fix is None or not _touches(finding_range(finding, target.lines), requested):
            continue
        title = f"{finding.fix.title} ({finding.code})"
        if not finding.fix.safe:
            title += " [unsafe: may change behaviour]"
        edits = [types.TextEdit(range=edit_range(edit, target.lines), new_text=edit.text) for edit in finding.fix.edits]
        actions.append(
            types.CodeAction(
                title=title,
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[to_diagnostic(finding, target.lines)],
                edit=target.workspace_edit(edits),
                is_preferred=finding.fix.safe,
            )
        )
    return actions


def fix_all(
    target: Target, findings: Sequence[Finding], relint: Callable[[str], Sequence[Finding]]
) -> Optional[types.CodeAction]:
    """All safe fixes, re-linting until stable as `nnlint --fix` does; None if there is nothing to fix."""
    if not fix.fixable(findings, unsafe=False):
        return None
    text = target.lines.text
    fixed, _ = fix.fix_text(text, findings, relint)
    if fixed == text:
        return None
    return types.CodeAction(
        title="nnlint: apply all safe fixes",
        kind=FIX_ALL,
        edit=target.workspace_edit([_smallest_edit(text, fixed, target.lines)]),
    )


def _touches(a: types.Range, b: types.Range) -> bool:
    def key(position: types.Position) -> tuple:
        return (position.line, position.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _smallest_edit(before: str, after: str, lines: LineIndex) -> types.TextEdit:
    """One edit replacing only the changed middle, so the editor keeps the cursor and folds elsewhere."""
    limit = min(len(before), len(after))
    start = 0
    while start < limit and before[start] == after[start]:
        start += 1
    if 0 < start and before[start - 1] == "\r":
        start -= 1  # never split a \r\n: LSP positions cannot point between its halves
    end = 0
    while end < limit - start and before[len(before) - 1 - end] == after[len(after) - 1 - end]:
        end += 1
    if end and before[len(before) - end] == "\n" and len(before) - end > 0 and before[len(before) - end - 1] == "\r":
        end -= 1
    replaced = client_range(lines.client_position_of(start), lines.client_position_of(len(before) - end))
    return types.TextEdit(range=replaced, new_text=after[start : len(after) - end])
