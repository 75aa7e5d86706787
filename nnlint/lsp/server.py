"""`nnlint server`: the pygls wiring. Documents come in; diagnostics and code actions go out.

Diagnostics follow typing: a change waits DEBOUNCE_SECONDS for the next one, then the static pass
runs on a worker thread, so the event loop keeps reading messages. The graph pass runs only on
save, in a subprocess, only when the client asked for it, and its findings join the static ones when it ends.
"""

from __future__ import annotations

import asyncio
import importlib.util
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from nnlint import __version__
from nnlint.api import check_document
from nnlint.config import Config, ConfigError, load_config
from nnlint.discover import SOURCE_SUFFIXES
from nnlint.lsp import actions
from nnlint.lsp.diagnostics import to_diagnostic
from nnlint.lsp.documents import Document
from nnlint.lsp.graph_on_save import GraphOnSave
from nnlint.lsp.neighbours import Neighbours
from nnlint.lsp.positions import UTF16, LineIndex
from nnlint.notebook import is_notebook
from nnlint.types import Finding

DEBOUNCE_SECONDS = 0.075  # a burst of keystrokes is linted once; short, since the lint itself takes ~150 ms


class NnlintServer(LanguageServer):
    """The server's state: open documents, the lint thread, the graph runs, and what the client supports."""

    def __init__(self) -> None:
        super().__init__("nnlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.open: Dict[str, Document] = {}
        # One thread: lints queue rather than compete for the GIL with the event loop.
        self.linter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnlint-lint")
        self.neighbours = Neighbours()
        self.graph_runs = GraphOnSave(self._graph_done)
        # Off until the client opts in: the graph pass imports the repository's code, and opening a folder in an
        # editor must not run it. A project's own config cannot switch it on: an untrusted clone would.
        self.graph_enabled = False
        self.encoding = UTF16
        self.versioned_edits = True
        self.shutdown_requested = False
        self._config_errors_shown: set = set()
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    # --- linting --------------------------------------------------------------------------------

    def config_for(self, path: Path) -> Tuple[Config, Optional[str]]:
        """The [tool.nnlint] config that applies at `path`; a broken one gives the defaults and its error."""
        try:
            return load_config([path]), None
        except ConfigError as error:
            return Config(), str(error)

    def lint_job(self, document: Document):
        """A function for the lint thread: static findings of the document's current text, and a config error."""
        path, text = document.path, document.text
        open_texts = {d.path: d.text for d in self.open.values() if d.uri != document.uri}

        def job() -> Tuple[List[Finding], Optional[str]]:
            config, error = self.config_for(path)
            neighbours = self.neighbours.of(path, open_texts)
            return check_document(text, path, neighbours, config), error

        return job

    def relint_job(self, document: Document):
        """A function that lints candidate texts of the document (fix-all re-lints after each round)."""
        path = document.path
        open_texts = {d.path: d.text for d in self.open.values() if d.uri != document.uri}

        def relint(text: str) -> List[Finding]:
            config, _ = self.config_for(path)
            return check_document(text, path, self.neighbours.of(path, open_texts), config)

        return relint

    def schedule(self, document: Document, delay: float) -> None:
        """Lint the document `delay` seconds from now, unless another change comes first."""
        if document.pending is not None:
            document.pending.cancel()
        document.pending = asyncio.ensure_future(self._lint_later(document.uri, delay))

    async def _lint_later(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        document = self.open.get(uri)
        if document is None:
            return
        version = document.version
        findings, error = await asyncio.get_running_loop().run_in_executor(self.linter, self.lint_job(document))
        if error is not None and error not in self._config_errors_shown:
            self._config_errors_shown.add(error)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"nnlint: {error}"))
        current = self.open.get(uri)
        if current is not document or document.version != version:
            return  # the text moved on: the newer change has its own lint scheduled
        document.static, document.linted = findings, version
        self.publish(document)

    async def current_findings(self, document: Document) -> List[Finding]:
        """Static findings of the document's current version, linting now if the last lint is older."""
        if document.linted == document.version:
            return document.static
        findings, _ = await asyncio.get_running_loop().run_in_executor(self.linter, self.lint_job(document))
        return findings

    def publish(self, document: Document) -> None:
        """Send the document's diagnostics: static findings and, merged in, those of the last graph run."""
        lines = LineIndex(document.text, self.encoding)
        diagnostics = [to_diagnostic(f, lines) for f in document.diagnosed()]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=document.uri, diagnostics=diagnostics, version=document.linted)
        )

    # --- the graph pass ---------------------------------------------------------------------------

    def start_graph(self, document: Document) -> None:
        """Run the graph pass on the saved file, unless switched off or torch is missing."""
        if not self.graph_enabled or importlib.util.find_spec("torch") is None or not document.path.is_file():
            return
        config, error = self.config_for(document.path)
        if error is not None or config.graph == "off":
            return
        document.saved_text = document.text
        self.graph_runs.start(document.uri, document.path, config.root or document.path.parent)

    def _graph_done(self, uri: str, findings: List[Finding]) -> None:
        # Called on the graph run's thread: hand over to the event loop, which owns the documents.
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._take_graph_findings, uri, findings)

    def _take_graph_findings(self, uri: str, findings: List[Finding]) -> None:
        document = self.open.get(uri)
        if document is not None:
            document.graph = findings
            self.publish(document)


def graph_opted_in(options: Dict[str, Any]) -> bool:
    """Whether the initialization options ask for the graph pass on save: `{"graph": true}` (or "on")."""
    return options.get("graph") in (True, "on")


def document_path(uri: str) -> Path:
    """The file behind a URI; an unsaved buffer (`untitled:`) is treated as a file in the working folder."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    if path:
        return Path(path)
    return Path.cwd() / "untitled.py"


def build_server() -> NnlintServer:
    """A server with nnlint's handlers registered."""
    server = NnlintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: NnlintServer, params: types.InitializeParams) -> None:
        ls._loop = asyncio.get_running_loop()
        options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
        ls.graph_enabled = graph_opted_in(options)
        ls.encoding = str(getattr(ls.workspace.position_encoding, "value", ls.workspace.position_encoding) or UTF16)
        edit = params.capabilities.workspace.workspace_edit if params.capabilities.workspace else None
        ls.versioned_edits = bool(edit and edit.document_changes)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: NnlintServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        if (item.language_id != "python" and not item.uri.endswith(SOURCE_SUFFIXES)) or is_notebook(item.uri):
            return  # a client that sends every file type: nnlint checks Python only (a notebook's JSON is not)
        document = Document(item.uri, document_path(item.uri), item.text, item.version)
        ls.open[item.uri] = document
        ls.schedule(document, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: NnlintServer, params: types.DidChangeTextDocumentParams) -> None:
        document = ls.open.get(params.text_document.uri)
        if document is None:
            return
        for change in params.content_changes:
            where = getattr(change, "range", None)
            span = (
                None
                if where is None
                else ((where.start.line, where.start.character), (where.end.line, where.end.character))
            )
            document.apply_change(change.text, span, ls.encoding)
        document.version = params.text_document.version
        ls.schedule(document, DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: NnlintServer, params: types.DidSaveTextDocumentParams) -> None:
        document = ls.open.get(params.text_document.uri)
        if document is None:
            return
        ls.start_graph(document)
        # Files beside it read it for cross-file questions: their findings may change with this save.
        for other in ls.open.values():
            if other is not document and other.path.parent == document.path.parent:
                ls.schedule(other, DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: NnlintServer, params: types.DidCloseTextDocumentParams) -> None:
        document = ls.open.pop(params.text_document.uri, None)
        if document is not None and document.pending is not None:
            document.pending.cancel()
        ls.graph_runs.stop(params.text_document.uri)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, actions.FIX_ALL]),
    )
    async def code_action(ls: NnlintServer, params: types.CodeActionParams) -> Optional[List[Any]]:
        document = ls.open.get(params.text_document.uri)
        if document is None:
            return None
        version, text = document.version, document.text
        findings = await ls.current_findings(document)
        target = actions.Target(document.uri, version, LineIndex(text, ls.encoding), ls.versioned_edits)
        only = params.context.only
        result: List[Any] = []
        if actions.wanted(types.CodeActionKind.QuickFix, only):
            result += actions.quick_fixes(target, findings, params.range)
        if actions.wanted(actions.FIX_ALL, only):
            loop = asyncio.get_running_loop()
            fix_all = await loop.run_in_executor(ls.linter, actions.fix_all, target, findings, ls.relint_job(document))
            if fix_all is not None:
                result.append(fix_all)
        return result

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: NnlintServer, *args: Any) -> None:
        ls.shutdown_requested = True
        ls.graph_runs.stop_all()
        for document in ls.open.values():
            if document.pending is not None:
                document.pending.cancel()
        ls.linter.shutdown(wait=False)

    return server


def serve() -> int:
    """Speak LSP on stdin/stdout until the client says exit; 0 after a proper shutdown, else 1 (as LSP asks)."""
    server = build_server()
    try:
        server.start_io()
    finally:
        server.graph_runs.stop_all()
    return 0 if server.shutdown_requested else 1
