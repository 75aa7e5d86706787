"""The rule pages (rules/NNxxx.md): found in the installed package or, in a checkout, beside it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional

_PACKAGED = Path(__file__).resolve().parent / "_pages"
_CHECKOUT = Path(__file__).resolve().parent.parent / "rules"
_HEADING = re.compile(r"#{1,2}\s")

PROJECT_URL = "https://github.com/nnlint/nnlint"
DOCS_URL = PROJECT_URL + "/blob/main/rules/"


def pages_dir() -> Path:
    """Where the rule pages are: packaged with the wheel, else the repository's rules/ folder."""
    return _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT


def page_text(code: str) -> Optional[str]:
    """The markdown page of a rule code, or None if it has none."""
    path = pages_dir() / f"{code}.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def page_url(code: str) -> str:
    """The public web address of a rule's page."""
    return f"{DOCS_URL}{code}.md"


def page_section(code: str, heading: str) -> Optional[str]:
    """The text under `## heading` of a rule's page, or None if the page or a non-empty section is missing."""
    text = page_text(code)
    return None if text is None else markdown_section(text, heading)


def markdown_section(text: str, heading: str) -> Optional[str]:
    """The stripped body of the `#`/`##` heading named `heading` (any case), up to the next such heading."""
    body: Optional[List[str]] = None
    fence: Optional[str] = None
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None and _HEADING.match(stripped):
            if body is not None:
                break
            if stripped.lstrip("#").strip().lower() == heading.strip().lower():
                body = []
                continue
        if stripped.startswith(("```", "~~~")):
            # a `## comment` inside a code block is not a heading
            fence = stripped[:3] if fence is None else (None if stripped.startswith(fence) else fence)
        if body is not None:
            body.append(line)
    section = "\n".join(body).strip() if body is not None else ""
    return section or None
