"""The GitHub Action (action.yml) run locally: its steps in order, with inputs, outputs and `if:` conditions
evaluated as Actions does for the forms it uses, and the SARIF it writes validated against the schema."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from adopt_support import make_repo, nnlint
from test_reporters import sarif_errors

ROOT = Path(__file__).resolve().parent.parent
_EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
_TERM = re.compile(r"\s*([\w.-]+)\s*(==|!=)\s*'([^']*)'\s*")


def load_action() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with pre-commit, a test dependency")
    return yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


class LocalRun:
    """A job that uses the action once: which steps ran, the actions they would call, and the outcome."""

    def __init__(self, workspace: Path, inputs: Dict[str, str]) -> None:
        self.action = load_action()
        self.workspace = workspace
        self.inputs = {name: str(spec.get("default", "")) for name, spec in self.action["inputs"].items()}
        unknown = set(inputs) - set(self.inputs)
        assert not unknown, f"not inputs of the action: {unknown}"
        self.inputs.update(inputs)
        self.outputs: Dict[str, Dict[str, str]] = {}
        self.ran: List[str] = []
        self.used: List[dict] = []
        self.stdout = ""
        self.failed_with: Optional[int] = None
        self.summary = workspace / "summary.md"

    def value(self, expression: str) -> str:
        parts = expression.split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            return self.inputs[parts[1]]
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return self.outputs.get(parts[1], {}).get(parts[3], "")
        raise AssertionError(f"the local runner does not know the expression {expression!r}")

    def substitute(self, text: str) -> str:
        return _EXPRESSION.sub(lambda match: self.value(match.group(1)), str(text))

    def condition(self, text: str) -> bool:
        result = True
        for term in text.split("&&"):
            match = _TERM.fullmatch(term)
            assert match, f"the local runner does not know the condition {term!r}"
            left, operator, right = match.groups()
            result = result and ((self.value(left) == right) == (operator == "=="))
        return result

    def run(self) -> "LocalRun":
        for step in self.action["runs"]["steps"]:
            if "if" in step and not self.condition(step["if"]):
                continue
            self.ran.append(step["name"])
            if "uses" in step:
                self.used.append({"uses": step["uses"], **{k: self.substitute(v) for k, v in step["with"].items()}})
                continue
            assert "${{" not in step["run"], "inputs reach scripts through env only (no expression injection)"
            outputs = self.workspace / f".outputs-{len(self.ran)}"
            outputs.write_text("", encoding="utf-8")
            env = {
                **os.environ,
                **{name: self.substitute(value) for name, value in step.get("env", {}).items()},
                "GITHUB_ACTION_PATH": str(ROOT),
                "GITHUB_OUTPUT": str(outputs),
                "GITHUB_STEP_SUMMARY": str(self.summary),
                "PYTHONPATH": str(ROOT),
            }
            done = subprocess.run(
                ["bash", "-c", step["run"]], cwd=str(self.workspace), env=env, capture_output=True, text=True
            )
            self.stdout += done.stdout
            if "id" in step:
                lines = outputs.read_text(encoding="utf-8").splitlines()
                self.outputs[step["id"]] = dict(line.split("=", 1) for line in lines if "=" in line)
            if done.returncode != 0:
                self.failed_with = done.returncode
                break
        return self

    def sarif(self) -> dict:
        return json.loads((self.workspace / self.outputs["run"]["sarif-file"]).read_text(encoding="utf-8"))


LOCAL = {"install": "false", "python": sys.executable}


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return make_repo(tmp_path / "repo")


def test_findings_are_annotated_uploaded_as_valid_sarif_and_fail_the_job(repo):
    job = LocalRun(repo, {**LOCAL, "args": "--no-graph --no-cache"}).run()
    assert job.ran == ["Run nnlint", "Upload SARIF to code scanning", "Fail on findings"]
    assert job.outputs["run"] == {"exit-code": "1", "findings": "4", "sarif-file": "nnlint.sarif", "fail": "true"}
    assert job.failed_with == 1
    assert job.used == [
        {"uses": "github/codeql-action/upload-sarif@v3", "sarif_file": "nnlint.sarif", "category": "nnlint"}
    ]
    log = job.sarif()
    assert sarif_errors(log) == []
    assert sorted(r["ruleId"] for r in log["runs"][0]["results"]) == ["NN201", "NN306", "NN402", "NN408"]
    annotations = [line for line in job.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 4 and any(a.startswith("::error file=train.py,line=13,") for a in annotations)
    assert "| 1 | NN201 | softmax-before-cross-entropy | error |" in job.summary.read_text(encoding="utf-8")


def test_a_baseline_in_the_arguments_passes_the_job_and_uploads_an_empty_log(repo, capsys, monkeypatch):
    monkeypatch.chdir(repo)
    nnlint(capsys, "--write-baseline", "nnlint-baseline.json", ".")
    job = LocalRun(repo, {**LOCAL, "args": "--no-graph --no-cache --baseline nnlint-baseline.json"}).run()
    assert job.failed_with is None and job.outputs["run"]["exit-code"] == "0"
    assert job.ran == ["Run nnlint", "Upload SARIF to code scanning"]
    assert job.sarif()["runs"][0]["results"] == [] and sarif_errors(job.sarif()) == []


def test_findings_can_be_reported_without_failing_and_without_uploading(repo):
    job = LocalRun(repo, {**LOCAL, "args": "--no-graph", "fail-on-findings": "false", "upload-sarif": "false"}).run()
    assert job.ran == ["Run nnlint"] and job.failed_with is None
    assert job.outputs["run"]["exit-code"] == "1"


def test_a_usage_error_fails_the_job_and_uploads_nothing(repo):
    job = LocalRun(repo, {**LOCAL, "paths": "missing/", "args": "--no-graph"}).run()
    assert job.outputs["run"]["sarif-file"] == "" and job.outputs["run"]["exit-code"] == "2"
    assert job.ran == ["Run nnlint", "Fail on findings"] and job.failed_with == 2


@pytest.mark.parametrize(
    ("inputs", "spec"),
    [
        ({}, f"{ROOT}"),
        ({"torch": "true", "pip-args": "--extra-index-url https://download.pytorch.org/whl/cpu"}, f"{ROOT}[torch]"),
        ({"version": "0.9.0"}, "nnlint==0.9.0"),
    ],
)
def test_the_install_step_installs_this_copy_or_a_released_version(tmp_path, inputs, spec):
    fake = tmp_path / "python"
    fake.write_text('#!/usr/bin/env bash\necho "$@" > "$(dirname "$0")/pip-args"\n', encoding="utf-8")
    fake.chmod(0o755)
    job = LocalRun(tmp_path, {"python": str(fake), "upload-sarif": "false", **inputs})
    job.action["runs"]["steps"] = job.action["runs"]["steps"][:1]  # the install step only
    job.run()
    words = (tmp_path / "pip-args").read_text(encoding="utf-8").split()
    assert words[:2] == ["-m", "pip"] and words[-1] == spec
    if "pip-args" in inputs:
        assert "--extra-index-url" in words


def test_every_input_and_output_is_documented_in_the_readme_with_a_workflow():
    action = load_action()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## GitHub Action") :]
    section = section[: section.index("\n## ", 1)]
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"`{name}`" in section, f"README's GitHub Action section does not document `{name}`"
    assert "uses: " in section and "--no-graph" in section and "security-events: write" in section
