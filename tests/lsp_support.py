"""A scripted LSP client for tests and bench/: `python -m nnlint server` in a subprocess, JSON-RPC over its stdio."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

PUBLISH = "textDocument/publishDiagnostics"


class LspClient:
    """Writes Content-Length framed requests and notifications; a thread reads what the server sends."""

    def __init__(self, cwd: Path, env: Optional[Dict[str, str]] = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nnlint", "server"],
            cwd=str(cwd),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        self.stderr: List[bytes] = []
        self._incoming: "queue.Queue[Optional[dict]]" = queue.Queue()
        self._unread: List[dict] = []
        self._next_id = 0
        self._writing = threading.Lock()  # the reader thread answers server requests too
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True).start()

    # --- the wire -------------------------------------------------------------------------------

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            headers = {}
            line = stream.readline()
            while line and line != b"\r\n":
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
                line = stream.readline()
            if not line:
                self._incoming.put(None)
                return
            message = json.loads(stream.read(int(headers["content-length"])))
            message["_received"] = time.perf_counter()
            if "method" in message and "id" in message:
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})  # e.g. client/registerCapability
            self._incoming.put(message)

    def send(self, message: Dict[str, Any]) -> float:
        """Write one message; returns when it was sent (perf_counter)."""
        body = json.dumps(message).encode("utf-8")
        with self._writing:
            self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            self.process.stdin.flush()
            return time.perf_counter()

    def notify(self, method: str, params: Any) -> float:
        """Send a notification; returns when it was sent."""
        return self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any = None, timeout: float = 10.0) -> Any:
        """Send a request and wait for its result (AssertionError on an error response)."""
        self._next_id += 1
        ident = self._next_id
        self.send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        response = self.wait_for(lambda m: m.get("id") == ident and "method" not in m, timeout)
        assert "error" not in response, response["error"]
        return response.get("result")

    def wait_for(self, wanted: Callable[[dict], bool], timeout: float = 10.0) -> dict:
        """The first message from the server, not yet taken, that `wanted` accepts."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self._unread:
                if wanted(message):
                    self._unread.remove(message)
                    return message
            try:
                message = self._incoming.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no such message within {timeout} s; stderr: {b''.join(self.stderr)[-2000:]!r}"
                ) from None
            if message is None:
                raise AssertionError(f"the server closed its output; stderr: {b''.join(self.stderr)[-2000:]!r}")
            self._unread.append(message)

    # --- LSP conveniences -------------------------------------------------------------------------

    def initialize(self, root: Path, options: Optional[dict] = None) -> dict:
        """initialize + initialized, as an editor with versioned workspace edits and UTF-16 positions does."""
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "capabilities": {
                    "general": {"positionEncodings": ["utf-16"]},
                    "workspace": {"workspaceEdit": {"documentChanges": True}},
                    "textDocument": {"publishDiagnostics": {"versionSupport": True}, "codeAction": {}},
                },
                "initializationOptions": options,
            },
        )
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str, version: int = 1) -> float:
        """didOpen; returns when it was sent."""
        item = {"uri": path.as_uri(), "languageId": "python", "version": version, "text": text}
        return self.notify("textDocument/didOpen", {"textDocument": item})

    def change(self, path: Path, version: int, text: str, edit_range: Optional[dict] = None) -> float:
        """didChange with the whole text, or with `text` replacing `edit_range`; returns when it was sent."""
        change: Dict[str, Any] = {"text": text}
        if edit_range is not None:
            change["range"] = edit_range
        return self.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": path.as_uri(), "version": version},
                "contentChanges": [change],
            },
        )

    def diagnostics(self, path: Path, version: Optional[int] = None, timeout: float = 10.0) -> dict:
        """The next publishDiagnostics for `path` (of `version`, when given): its params plus `_received`."""
        uri = path.as_uri()
        message = self.wait_for(
            lambda m: (
                m.get("method") == PUBLISH
                and m["params"]["uri"] == uri
                and (version is None or m["params"].get("version") == version)
            ),
            timeout,
        )
        return {**message["params"], "_received": message["_received"]}

    def shutdown(self, timeout: float = 10.0) -> int:
        """shutdown + exit; the server's exit code."""
        self.request("shutdown", None, timeout)
        self.notify("exit", None)
        return self.process.wait(timeout)

    def close(self) -> None:
        """Kill the server if it is still running (a failed test must not leave it behind)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except OSError:
                pass


def utf16_offset(text: str, line: int, character: int) -> int:
    """The string index of an LSP position counted in UTF-16 (written apart from the server's own code)."""
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)
    start = sum(len(part) for part in lines[:line])
    content = lines[line].rstrip("\r\n") if line < len(lines) else ""
    units = 0
    for index, char in enumerate(content):
        if units >= character:
            return start + index
        units += len(char.encode("utf-16-le")) // 2
    return start + len(content)


def apply_text_edits(text: str, edits: List[dict]) -> str:
    """Apply LSP TextEdits (all relative to `text`) the way an editor does."""
    spans = sorted(
        (
            (utf16_offset(text, **edit["range"]["start"]), utf16_offset(text, **edit["range"]["end"]), edit["newText"])
            for edit in edits
        ),
        reverse=True,
    )
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text
