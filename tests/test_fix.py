"""The fix machinery: edits, re-parse guard, idempotence, atomic writes that keep encoding and endings."""

from __future__ import annotations

import os
import stat

import pytest

from nnlint import fix
from nnlint.types import Edit, Finding, Fix, Location, Pass, Severity


def _finding(edits, safe=True, line=1):
    return Finding(
        "NN408", "x", "m", Severity.ERROR, Pass.STATIC, Location("f.py", line, 1), Fix("t", tuple(edits), safe)
    )


def test_apply_edits_positions_are_one_based_end_exclusive():
    text = "ab\ncdef\n"
    assert fix.apply_edits(text, [Edit(2, 2, 2, 4, "XY")]) == "ab\ncXYf\n"
    assert fix.apply_edits(text, [Edit(1, 3, 1, 3, "!")]) == "ab!\ncdef\n"


def test_apply_edits_keeps_crlf_and_skips_overlaps():
    text = "a = f(x)\r\nb = g(y)\r\n"
    out = fix.apply_edits(text, [Edit(2, 7, 2, 7, ", z"), Edit(2, 5, 2, 9, "h()"), Edit(1, 8, 1, 8, ", w")])
    assert out == "a = f(x, w)\r\nb = h()\r\n"


def test_fix_text_refuses_a_fix_that_breaks_parsing():
    broken = _finding([Edit(1, 1, 1, 1, "def (")])
    text, applied = fix.fix_text("x = 1\n", [broken], lambda t: [])
    assert (text, applied) == ("x = 1\n", 0)


def test_fix_text_skips_unsafe_unless_asked():
    unsafe = _finding([Edit(1, 5, 1, 6, "2")], safe=False)
    assert fix.fix_text("x = 1\n", [unsafe], lambda t: [])[0] == "x = 1\n"
    assert fix.fix_text("x = 1\n", [unsafe], lambda t: [], unsafe=True)[0] == "x = 2\n"


def test_fix_text_relints_until_stable():
    rounds = []

    def relint(text):
        rounds.append(text)
        return [_finding([Edit(1, 5, 1, 6, str(int(text[4]) + 1))])] if text[4] < "3" else []

    text, applied = fix.fix_text("x = 1\n", relint("x = 1\n"), relint)
    assert text == "x = 3\n" and applied == 2


@pytest.mark.parametrize(
    "encoding,prefix,newline",
    [("utf-8", b"", "\n"), ("utf-8-sig", b"\xef\xbb\xbf", "\r\n"), ("latin-1", b"# -*- coding: latin-1 -*-\n", "\n")],
)
def test_write_keeps_encoding_bom_endings_and_mode(tmp_path, encoding, prefix, newline):
    path = tmp_path / "m.py"
    body = f"s = 'für'{newline}x = 1{newline}"
    original = prefix + body.encode("latin-1" if encoding == "latin-1" else "utf-8")
    path.write_bytes(original)
    os.chmod(path, 0o640)
    text = original.decode(encoding)
    fix.write_atomically(path, original, text.replace("x = 1", "x = 2"), encoding)
    written = path.read_bytes()
    assert written == original.replace(b"x = 1", b"x = 2")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]


def test_file_changed_on_disk_is_not_overwritten(tmp_path):
    path = tmp_path / "m.py"
    path.write_bytes(b"x = 1\n")
    with pytest.raises(fix.FileChanged):
        fix.write_atomically(path, b"x = 0\n", "x = 2\n", "utf-8")
    assert path.read_bytes() == b"x = 1\n"


def test_crash_mid_write_leaves_original_intact(tmp_path, monkeypatch):
    path = tmp_path / "m.py"
    path.write_bytes(b"x = 1\n")

    def crash(*args):
        raise KeyboardInterrupt  # as if the process were killed between write and rename

    monkeypatch.setattr(fix.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        fix.write_atomically(path, b"x = 1\n", "x = 2\n", "utf-8")
    assert path.read_bytes() == b"x = 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]


def test_symlink_target_is_written_and_link_kept(tmp_path):
    target = tmp_path / "real.py"
    target.write_bytes(b"x = 1\n")
    link = tmp_path / "link.py"
    link.symlink_to(target)
    fix.write_atomically(link, b"x = 1\n", "x = 2\n", "utf-8")
    assert link.is_symlink() and target.read_bytes() == b"x = 2\n"


def _fixable_at(display):
    return Finding(
        "NN408", "x", "m", Severity.ERROR, Pass.STATIC, Location(display, 1, 1), Fix("t", (Edit(1, 5, 1, 6, "2"),))
    )


def test_apply_all_writes_fixed_files_and_relints_them(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("x = 1\n", encoding="utf-8")
    texts = {"m.py": "x = 1\n"}
    outcome = fix.apply_all([_fixable_at("m.py")], {"m.py": path}, texts, lambda display, text: [])
    assert path.read_text(encoding="utf-8") == "x = 2\n" and texts["m.py"] == "x = 2\n"
    assert (outcome.fixed, outcome.findings, outcome.diffs, outcome.notes) == ({"m.py": 1}, [], [], [])


def test_apply_all_with_diff_writes_nothing_and_skips_files_changed_since_the_lint(tmp_path):
    (tmp_path / "m.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "n.py").write_text("x = 5\n", encoding="utf-8")
    paths = {name: tmp_path / name for name in ("m.py", "n.py")}
    findings = [_fixable_at("m.py"), _fixable_at("n.py")]
    texts = {"m.py": "x = 1\n", "n.py": "x = 1\n"}  # n.py was saved again after the lint read it
    outcome = fix.apply_all(findings, paths, texts, lambda display, text: [], diff=True)
    assert (tmp_path / "m.py").read_text(encoding="utf-8") == "x = 1\n" and texts["m.py"] == "x = 1\n"
    assert outcome.fixed == {"m.py": 1} and "+x = 2" in outcome.diffs[0]
    assert outcome.notes == ["n.py changed on disk while nnlint ran; it was not fixed (run nnlint again)"]
    assert outcome.findings == findings
