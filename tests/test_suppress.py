"""Suppression comments: `# noqa`, `# nnlint: ignore[...]`, `# nnlint: skip-file`."""

from __future__ import annotations

from nnlint.api import check_source
from nnlint.suppress import FileDirectives
from nnlint.types import Finding, Location, Pass, Severity

HEADER = "import torch.nn.functional as F\n"
BUG = "F.cross_entropy(F.softmax(x, 1), y)"


def _codes(line_suffix: str):
    return [f.code for f in check_source(HEADER + BUG + line_suffix + "\n")]


def test_unsuppressed_fires():
    assert _codes("") == ["NN201"]


def test_noqa_forms():
    assert _codes("  # noqa") == []
    assert _codes("  # noqa: NN201") == []
    assert _codes("  # NOQA:NN201,E501") == []
    assert _codes("  # noqa: E501") == ["NN201"]
    assert _codes("  # noqa: NN202") == ["NN201"]


def test_nnlint_ignore_by_code_or_name():
    assert _codes("  # nnlint: ignore[NN201]") == []
    assert _codes("  # nnlint: ignore[softmax-before-cross-entropy]") == []
    assert _codes("  # nnlint: ignore[NN401]") == ["NN201"]
    assert _codes("  # nnlint: ignore") == []


def test_comment_on_another_line_does_not_suppress():
    source = HEADER + "# noqa: NN201\n" + BUG + "\n"
    assert [f.code for f in check_source(source)] == ["NN201"]


def test_noqa_inside_a_string_is_not_a_comment():
    source = HEADER + BUG + "; s = '# noqa'\n"
    assert [f.code for f in check_source(source)] == ["NN201"]


def test_skip_file():
    assert check_source("# nnlint: skip-file\n" + HEADER + BUG + "\n") == []


def test_directives_apply_to_findings_of_every_pass():
    directives = FileDirectives("x = 1\ny = 2  # nnlint: ignore[NN301]\n")
    graph_finding = Finding("NN301", "shape-mismatch", "m", Severity.ERROR, Pass.GRAPH, Location("f.py", 2, 1))
    probe_finding = Finding("NN301", "shape-mismatch", "m", Severity.ERROR, Pass.PROBE, Location("f.py", 1, 1))
    assert directives.suppresses(graph_finding)
    assert not directives.suppresses(probe_finding)


def test_tokenize_failure_falls_back_to_line_scan():
    directives = FileDirectives("x = (1,\ny = 2  # noqa: NN201\n")
    finding = Finding("NN201", "softmax-before-cross-entropy", "m", Severity.ERROR, Pass.STATIC, Location("f.py", 2, 1))
    assert directives.suppresses(finding)


def test_a_line_that_cannot_hold_a_comment_takes_the_statements_last_line():
    in_string = HEADER + 'F.cross_entropy(F.softmax(x, 1), y) + len("""a\nb""")  # noqa: NN201\n'
    assert [f.code for f in check_source(in_string)] == []
    after_backslash = HEADER + "F.cross_entropy(F.softmax(x, 1), y) + \\\n    1  # noqa: NN201\n"
    assert [f.code for f in check_source(after_backslash)] == []
    # A line that could hold its own comment is not covered by the next line's.
    in_brackets = HEADER + "F.cross_entropy(F.softmax(x, 1),\n    y)  # noqa: NN201\n"
    assert [f.code for f in check_source(in_brackets)] == ["NN201"]
