"""The wheel: it carries the rule pages and the console script, and an installed copy finds its pages."""

import configparser
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from this checkout by pip, the way users and CI build it."""
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    wheels = list(out.glob("nnlint-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_carries_every_rule_page(wheel):
    """Each rules/*.md of the checkout is in the wheel as nnlint/_pages/<name>.md."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    pages = sorted(path.name for path in (ROOT / "rules").glob("*.md"))
    assert any(name.startswith("NN") for name in pages), "rules/ has no NNxxx.md page"
    missing = [page for page in pages if f"nnlint/_pages/{page}" not in names]
    assert not missing, f"pages missing from the wheel: {missing}"


def test_wheel_declares_console_script(wheel):
    """The wheel's entry points declare `nnlint = nnlint.cli:main`."""
    with zipfile.ZipFile(wheel) as archive:
        entry_points = next(name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt"))
        parser = configparser.ConfigParser()
        parser.read_string(archive.read(entry_points).decode("utf-8"))
    assert parser.get("console_scripts", "nnlint").strip() == "nnlint.cli:main"


def test_wheel_has_no_stray_files(wheel):
    """Only the package and its metadata: no tests, fixtures or bench scripts."""
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
    extra = tops - {"nnlint"}
    assert len(extra) == 1 and extra.pop().endswith(".dist-info"), tops


def test_installed_wheel_prints_pages_and_checks(wheel, tmp_path):
    """A non-editable install reads its packaged pages and lints the demo (outside the checkout)."""
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    # PYTHONPATH comes before the editable install's .pth entry, so the installed copy is the one imported.
    env = {**os.environ, "PYTHONPATH": str(target), "NO_COLOR": "1"}
    where = subprocess.run(
        [sys.executable, "-c", "import nnlint, nnlint.pages as p; print(nnlint.__file__); print(p.pages_dir())"],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert where.returncode == 0, where.stderr
    module_file, pages_dir = where.stdout.splitlines()
    assert Path(module_file).resolve().is_relative_to(target.resolve()), module_file
    assert Path(pages_dir).name == "_pages", pages_dir

    page = subprocess.run(
        [sys.executable, "-m", "nnlint", "rule", "NN201"],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert page.returncode == 0, page.stderr
    assert page.stdout.startswith("# NN201"), page.stdout[:200]

    check = subprocess.run(
        [sys.executable, "-m", "nnlint", "--no-graph", "--format", "text", str(ROOT / "fixtures" / "demo")],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 1, check.stdout + check.stderr
    assert "NN201" in check.stdout and "NN401" in check.stdout, check.stdout
