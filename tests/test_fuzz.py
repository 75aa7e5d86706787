"""Fuzzing the static pass: whatever the input, nnlint answers with an exit code of 0, 1 or 2 and a finding or
a message, never a traceback, and never an internal error (NN003).

- Valid programs (hypothesmith's grammar-based generator, and programs composed from the statements of
  fixtures/ and bench/precision_snippets/ nested in functions, classes and blocks) must parse (no NN001).
- Byte-level mutations of real model files (truncation, garbage, NUL bytes, re-encodings, mixed encodings,
  shuffled lines and line endings) may be rejected, but only with NN001/NN002, and never when CPython
  itself compiles the bytes.
- Very long lines and 500-level nesting run in a subprocess (a native parser could overflow the stack).

Default runs are small (NNLINT_FUZZ_EXAMPLES, default 40 per property); `-m slow` runs 10x more.
"""

from __future__ import annotations

import ast
import codecs
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import tokenize
import warnings
from pathlib import Path
from typing import List, Tuple

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from nnlint.cli import main  # noqa: E402
from nnlint.rules import ALL_RULES  # noqa: E402

try:
    import hypothesmith
except ImportError:  # the composed programs below still run
    hypothesmith = None

pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles odd but valid code

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("NNLINT_FUZZ_EXAMPLES", "40"))
SLOW_EXAMPLES = EXAMPLES * 10
HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large, HealthCheck.large_base_example]
# The default run is derandomized, so it gives the same verdict on every machine; the slow run explores.
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=HEALTH, database=None, derandomize=True)
SLOW = settings(max_examples=SLOW_EXAMPLES, deadline=None, suppress_health_check=HEALTH, database=None)

# Every rule's needles in a comment, so that every rule walks the generated code (rules skip files without them).
NEEDLES = "# " + " ".join(sorted({needle.replace("\n", " ") for rule in ALL_RULES for needle in rule.needles})) + "\n"
HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch import optim\n" + NEEDLES


def _model_files() -> List[Path]:
    files = sorted((REPO / "fixtures").rglob("*.py")) + sorted((REPO / "bench" / "precision_snippets").rglob("*.py"))
    # fixtures/NN002 holds deliberately mis-encoded files (Latin-1 without a coding line): CPython
    # tolerates such bytes in comments, nnlint reports them, so they are no base for "parses => no NN002".
    return [path for path in files if path.stat().st_size < 200_000 and "NN002" not in path.parts]


MODEL_FILES = _model_files()
MODEL_BYTES = [path.read_bytes() for path in MODEL_FILES]


def lint(data: bytes, name: str = "m.py") -> Tuple[int, list, str]:
    """`nnlint --no-graph --no-cache --select ALL --format json FILE` in this process on `data`:
    (exit code, findings, stderr); checks the answer is well formed."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = main(["--no-graph", "--no-cache", "--select", "ALL", "--format", "json", "--jobs", "1", str(path)])
    stdout, stderr = out.getvalue(), err.getvalue()
    assert "Traceback" not in stdout + stderr, stdout + stderr
    assert code in (0, 1, 2), (code, stderr)
    if code == 2:
        assert stderr.strip(), "exit code 2 without a message"
        return code, [], stderr
    findings = json.loads(stdout)
    assert (code == 1) == any(f["severity"] in ("warning", "error") for f in findings), (code, findings)
    internal = [f for f in findings if f["code"] == "NN003"]
    assert not internal, internal
    return code, findings, stderr


def cpython_compiles(data: bytes) -> bool:
    """Whether this Python compiles the bytes as a module (encoding detection included)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "m.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def cpython_parses(data: bytes) -> bool:
    """Whether CPython's parser accepts the bytes (compile-time checks such as `return` outside a function are
    not syntax errors to a linter's parser)."""
    try:
        # CPython before 3.12 does not check that comments are valid in the file's encoding; 3.12 does, as nnlint does
        text = data.decode(tokenize.detect_encoding(io.BytesIO(data).readline)[0])
        if "\x00" in text:  # before 3.12 a NUL that decoding produces (UTF-7 "+AAA-") silently ends the source
            return False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "m.py", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, UnicodeError, LookupError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def assert_valid_program_is_understood(source: str) -> None:
    data = source.encode("utf-8")
    assume(cpython_compiles(data))
    code, findings, stderr = lint(data)
    assert code in (0, 1), stderr
    unparsed = [f for f in findings if f["code"] in ("NN001", "NN002")]
    assert not unparsed, (unparsed, source)


# --- valid programs ----------------------------------------------------------------------------


def _statements() -> List[str]:
    """Top-level statements (with their decorators) of every fixture and snippet that parses."""
    pool: List[str] = []
    for data in MODEL_BYTES:
        try:
            text = data.decode("utf-8")
            tree = ast.parse(text)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        lines = text.splitlines(keepends=True)
        for node in tree.body:
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            pool.append("".join(lines[start - 1 : node.end_lineno]))
    return pool


STATEMENTS = _statements()
WRAPPERS = [
    "def wrapped(self, x, *args, **kwargs):\n{body}\n",
    "async def wrapped(x):\n{body}\n",
    "class Wrapped(nn.Module):\n{body}\n",
    "if condition:\n{body}\nelse:\n    pass\n",
    "for step, (x, y) in enumerate(loader):\n{body}\n",
    "while running:\n{body}\n",
    "with torch.no_grad():\n{body}\n",
    "try:\n{body}\nexcept Exception as error:\n    raise\nfinally:\n    pass\n",
    "def outer():\n    def wrapped(self):\n{body2}\n    return wrapped\n",
    "if True:\n{body}\n",
]


@st.composite
def composed_programs(draw) -> str:
    """Fixture statements, shuffled and nested in functions, classes, loops, `with` and `try` blocks."""
    body = "".join(draw(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=6)))
    for wrapper in draw(st.lists(st.sampled_from(WRAPPERS), max_size=3)):
        body = wrapper.format(body=textwrap.indent(body, "    "), body2=textwrap.indent(body, "        "))
    return HEADER + body


def _check_composed(source: str) -> None:
    assert_valid_program_is_understood(source)


@FAST
@given(composed_programs())
def test_composed_programs_parse_and_never_crash_a_rule(source):
    _check_composed(source)


@pytest.mark.slow
@SLOW
@given(composed_programs())
def test_composed_programs_many(source):
    _check_composed(source)


needs_hypothesmith = pytest.mark.skipif(hypothesmith is None, reason="hypothesmith is not installed")


@needs_hypothesmith
@FAST
@given(st.builds(lambda body: HEADER + body, hypothesmith.from_grammar() if hypothesmith else st.nothing()))
def test_grammar_generated_programs_parse(source):
    """Programs from Python's grammar (hypothesmith): whatever CPython compiles, nnlint parses and checks."""
    assert_valid_program_is_understood(source)


@needs_hypothesmith
@FAST
@given(hypothesmith.from_node() if hypothesmith else st.nothing())
def test_cst_generated_programs_parse(source):
    """Programs built from libcst nodes (hypothesmith.from_node), with the needles so every rule walks them."""
    assert_valid_program_is_understood(HEADER + source)


@pytest.mark.slow
@needs_hypothesmith
@SLOW
@given(st.builds(lambda body: HEADER + body, hypothesmith.from_grammar() if hypothesmith else st.nothing()))
def test_grammar_generated_programs_many(source):
    assert_valid_program_is_understood(source)


# --- byte-level mutations of real model files ----------------------------------------------------


def _reencode(data: bytes, codec: str, declare: bool, bom: bool = False) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    if declare:
        text = f"# -*- coding: {codec} -*-\n" + text
    try:
        out = text.encode(codec, errors="replace")
    except LookupError:
        return data
    return (codecs.BOM_UTF8 if bom else b"") + out


MUTATIONS = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=40)),
    st.tuples(st.just("overwrite"), st.floats(0, 1), st.binary(min_size=1, max_size=40)),
    st.tuples(st.just("nul"), st.floats(0, 1)),
    st.tuples(
        st.just("high-bytes"),
        st.floats(0, 1),
        st.sampled_from([b"\xe9", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\xf0\x9f"]),
    ),
    st.tuples(
        st.just("reencode"),
        st.sampled_from(["latin-1", "utf-16", "utf-16-le", "utf-32", "cp1252", "shift_jis", "utf-7"]),
        st.booleans(),
    ),
    st.tuples(st.just("utf8-bom-latin1-body"), st.booleans()),
    st.tuples(st.just("mixed"), st.floats(0, 1)),
    st.tuples(st.just("endings"), st.sampled_from([b"\r\n", b"\r", b"\n\n", b"\x0c\n", b"\\\n"])),
    st.tuples(st.just("shuffle-lines"), st.randoms(use_true_random=False)),
    st.tuples(st.just("dedent"), st.floats(0, 1)),
    st.tuples(st.just("unicode"), st.floats(0, 1), st.text(min_size=1, max_size=8)),
)


def mutate(data: bytes, mutation: tuple) -> bytes:
    kind, *args = mutation
    at = int(args[0] * len(data)) if args and isinstance(args[0], float) else 0
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + args[1] + data[at:]
    if kind == "overwrite":
        return data[:at] + args[1] + data[at + len(args[1]) :]
    if kind == "nul":
        return data[:at] + b"\x00" + data[at:]
    if kind == "high-bytes":
        return data[:at] + args[1] + data[at:]
    if kind == "reencode":
        return _reencode(data, args[0], args[1])
    if kind == "utf8-bom-latin1-body":
        return (
            codecs.BOM_UTF8
            + (b"# -*- coding: latin-1 -*-\n" if args[0] else b"")
            + "caf\xe9 = 1\n".encode("latin-1")
            + data
        )
    if kind == "mixed":  # the first part UTF-8, the rest latin-1: an editor saved half a file
        text = data.decode("utf-8", errors="replace") + '\ns = "na\xefve"\n'
        cut = int(args[0] * len(text))
        return text[:cut].encode("utf-8") + text[cut:].encode("latin-1", errors="replace")
    if kind == "endings":
        return data.replace(b"\n", args[0])
    if kind == "shuffle-lines":
        lines = data.splitlines(keepends=True)
        args[0].shuffle(lines)
        return b"".join(lines)
    if kind == "dedent":
        lines = data.splitlines(keepends=True)
        index = int(args[0] * len(lines)) if lines else 0
        if lines:
            lines[min(index, len(lines) - 1)] = lines[min(index, len(lines) - 1)].lstrip()
        return b"".join(lines)
    if kind == "unicode":
        return data[:at] + args[1].encode("utf-8", errors="surrogatepass") + data[at:]
    raise AssertionError(kind)


def _check_mutant(base: bytes, mutations: list) -> None:
    data = base
    for mutation in mutations:
        data = mutate(data, mutation)
    code, findings, stderr = lint(data)
    if cpython_parses(data):
        unparsed = [f for f in findings if f["code"] in ("NN001", "NN002")]
        assert not unparsed, (unparsed, data[:2000])
    else:
        assert code == 1 and any(f["code"] in ("NN001", "NN002") for f in findings), (
            code,
            findings,
            stderr,
            data[:2000],
        )


@FAST
@given(st.sampled_from(MODEL_BYTES), st.lists(MUTATIONS, min_size=1, max_size=3))
def test_mutated_model_files_give_a_finding_or_clean_output(base, mutations):
    """A mutant that CPython rejects is NN001/NN002 (exit 1); one it compiles is checked without either."""
    _check_mutant(base, mutations)


@pytest.mark.slow
@SLOW
@given(st.sampled_from(MODEL_BYTES), st.lists(MUTATIONS, min_size=1, max_size=4))
def test_mutated_model_files_many(base, mutations):
    _check_mutant(base, mutations)


def test_bom_with_another_declared_encoding_is_nn002():
    """Found by test_mutated_model_files_many: a BOM says UTF-8, the coding line says latin-1 (Python:
    "encoding problem: latin-1 with BOM"). nnlint must not check the file as if it were fine."""
    data = codecs.BOM_UTF8 + b"# -*- coding: latin-1 -*-\nimport torch\n"
    assert not cpython_parses(data)
    code, findings, _ = lint(data)
    assert [f["code"] for f in findings] == ["NN002"]


def test_a_letter_newer_than_pythons_unicode_is_a_parse_error():
    """Found by test_mutated_model_files_many: U+1E4D0 (Unicode 15) is a letter to libcst's parser but not to
    CPython 3.11, and libcst's own node check then raised: an internal error, exit 2. It is NN001 on the
    Pythons that reject it."""
    data = "import torch.nn as nn\nx = 1\n\U0001e4d0\n".encode("utf-8")
    code, findings, _ = lint(data)
    if cpython_parses(data):
        assert code in (0, 1) and not [f for f in findings if f["code"] in ("NN001", "NN002")]
    else:
        assert code == 1 and [f["code"] for f in findings] == ["NN001"]


def test_nul_decoded_from_utf7_is_a_parse_error():
    """Found by test_mutated_model_files_many: UTF-7's "+AAA-" decodes to NUL, which CPython before 3.12 takes as
    the end of the file (so a syntax error after it goes unseen). nnlint reports the file, as 3.12 does."""
    data = b"# -*- coding: utf-7 -*-\n+AAA-import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def forward(self, x)\n"
    assert not cpython_parses(data)
    code, findings, _ = lint(data)
    assert code == 1 and [f["code"] for f in findings] in (["NN001"], ["NN002"])


@pytest.mark.parametrize("path", MODEL_FILES[::7], ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_truncation_point_of_a_file(path):
    """Truncated at 20 evenly spaced offsets (an editor crashed while saving)."""
    data = path.read_bytes()
    for cut in sorted({len(data) * i // 20 for i in range(20)}):
        _check_mutant(data, [("truncate", cut / max(len(data), 1))])


# --- pathological sizes and depths, each in a fresh interpreter ----------------------------------

DEPTH = 500
PATHOLOGICAL = {
    "1mb-string-line": "x = '" + "a" * (1 << 20) + "'\n",
    "1mb-comment-line": "# " + "x" * (1 << 20) + "\nx = 1\n",
    "1mb-bytes-line": "x = b'" + "\\x00" * (1 << 18) + "'\n",
    "1mb-fstring-line": "x = f'{a}" + "b" * (1 << 20) + "'\n",
    "1mb-list-line": "x = [" + "1, " * (1 << 18) + "]\n",
    "1mb-call-line": "y = F.dropout(x, p=0.1)\nz = f(" + ", ".join(f"a{i}" for i in range(100000)) + ")\n",
    "nested-parens": "x = " + "(" * DEPTH + "1" + ")" * DEPTH + "\n",
    "nested-lists": "x = " + "[" * DEPTH + "]" * DEPTH + "\n",
    "nested-calls": "x = " + "nn.Sequential(" * DEPTH + ")" * DEPTH + "\n",
    "nested-ifs": "".join(" " * i + "if x:\n" for i in range(DEPTH)) + " " * DEPTH + "pass\n",
    "nested-defs": "".join(" " * i + f"def f{i}(self):\n" for i in range(0, DEPTH))
    + " " * DEPTH
    + "return F.dropout(x)\n",
    "nested-classes": "".join(" " * i + f"class C{i}(nn.Module):\n" for i in range(DEPTH)) + " " * DEPTH + "pass\n",
    "nested-unary": "x = " + "-" * DEPTH + "1\n",
    "nested-not": "x = " + "not " * DEPTH + "y\n",
    "nested-lambda": "f = " + "lambda: " * DEPTH + "1\n",
    "nested-subscript": "x = a" + "[0]" * DEPTH + "\n",
    "nested-attribute": "x = self" + ".m" * DEPTH + "(x)\n",
    "long-binop": "loss = " + " + ".join(["criterion(out, y)"] * DEPTH) + "\nloss.backward()\n",
    "long-compare": "x = " + " < ".join(["a"] * DEPTH) + "\n",
    "long-boolop": "x = " + " and ".join(["a"] * DEPTH) + "\n",
    "long-string-concat": "x = " + " ".join(["'a'"] * DEPTH) + "\n",
    "many-defs": "".join(f"def f{i}(x):\n    return F.dropout(x)\n" for i in range(5000)),
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_input_in_subprocess(tmp_path, name):
    """Exit code 0/1 within the time limit, no traceback, no NN002/NN003, and no NN001 on a file CPython parses
    unless it says the file is nested too deeply for nnlint."""
    data = (HEADER + PATHOLOGICAL[name]).encode("utf-8")
    path = tmp_path / f"{name}.py"
    path.write_bytes(data)
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("NNLINT_DEBUG", None)
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "nnlint",
                "--no-graph",
                "--no-cache",
                "--select",
                "ALL",
                "--format",
                "json",
                path.name,
            ],
            cwd=str(tmp_path),
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:  # each takes seconds; this catches a parser that goes quadratic
        pytest.fail(f"{name}: nnlint ran for more than 600 s on a {len(data)}-byte file")
    assert result.returncode in (0, 1, 2), (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-3000:]
    assert result.returncode != 2, result.stderr[-2000:]
    findings = json.loads(result.stdout)
    assert not [f for f in findings if f["code"] in ("NN002", "NN003")], findings
    if cpython_parses_in_subprocess(path):
        # Known limit: libcst's visitors recurse about three frames per level, so around 330 levels of
        # nesting (or a 330-term `a + b + ...`) exceed Python's recursion limit. nnlint must then say so
        # plainly, and nothing else may call valid code a syntax error.
        wrong = [f for f in findings if f["code"] == "NN001" and "nested too deeply" not in f["message"]]
        assert not wrong, wrong
    # Where CPython rejects the file (e.g. more than 200 nested parentheses), libcst may still accept it:
    # NN001 or a clean result are both answers; the checks above are what matters.


@pytest.mark.parametrize(
    "name, source",
    [
        ("topics-like-concatenation", "topics = {'a': " + "\n    ".join(["'x'"] * 2200) + "}\n"),
        ("long-loss-sum", "loss = " + " + ".join(["criterion(out, y)"] * 400) + "\nloss.backward()\n"),
    ],
)
def test_deep_but_valid_code_is_checked(tmp_path, name, source):
    """Valid code that is deep only for libcst (Python's own parser is not recursive here) is checked, not NN001."""
    path = tmp_path / f"{name}.py"
    path.write_text(HEADER + source, encoding="utf-8")
    assert cpython_parses_in_subprocess(path)
    result = subprocess.run(
        [sys.executable, "-m", "nnlint", "--no-graph", "--no-cache", "--select", "ALL", "--format", "json", path.name],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert [f["code"] for f in json.loads(result.stdout) if f["code"].startswith("NN0")] == []


def cpython_parses_in_subprocess(path: Path) -> bool:
    """Whether CPython's parser accepts the file (ast.parse: the compiler's own limits, such as 20 nested
    blocks, are not syntax), asked in a fresh interpreter so a crash there cannot take pytest down."""
    result = subprocess.run(
        [sys.executable, "-c", "import ast, sys; ast.parse(open(sys.argv[1], 'rb').read())", str(path)],
        capture_output=True,
        timeout=120,
    )
    return result.returncode == 0


def test_nul_bytes_and_binary_garbage_via_subprocess(tmp_path):
    """A few hostile files through `python -m nnlint` on a folder: one answer per file, no traceback."""
    files = {
        "nul.py": b"import torch\x00\nx = 1\n",
        "garbage.py": bytes(range(256)) * 4,
        "utf16.py": "import torch\nx = 1\n".encode("utf-16"),
        "bom_then_latin1.py": codecs.BOM_UTF8 + "x = 'caf\xe9'\n".encode("latin-1"),
        "empty.py": b"",
        "only_bom.py": codecs.BOM_UTF8,
        "lone_cr.py": b"import torch\rx = 1\r",
        "fine.py": b"import torch\nx = 1\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    result = subprocess.run(
        [sys.executable, "-m", "nnlint", "--no-graph", "--no-cache", "--select", "ALL", "--format", "json", "."],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    by_file = {}
    for finding in json.loads(result.stdout):
        by_file.setdefault(finding["path"], []).append(finding["code"])
    assert by_file == {
        "nul.py": ["NN002"],
        "garbage.py": ["NN002"],
        "utf16.py": ["NN002"],
        "bom_then_latin1.py": ["NN002"],
    }, by_file
