"""Running probe examples in-process: call each `test_*` function of a file, collect every report's findings."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from typing import List

from nnlint.types import Finding

_COUNTER = itertools.count()


def probe_findings(
    source: str, folder: Path, name: str = "probe_example.py", expect_failure: bool = False
) -> List[Finding]:
    """Findings of every `nnlint.probe(...)` and `nnlint.watch(...)` call made by the example's `test_*` functions."""
    path = folder / name
    path.write_text(source, encoding="utf-8")
    return probe_file_findings(path, expect_failure)


def probe_file_findings(path: Path, expect_failure: bool = False) -> List[Finding]:
    """Findings of every `nnlint.probe(...)` call made by the `test_*` functions of the file at `path`, in
    file order. An AssertionError in a test function is raised unless `expect_failure` (rule pages end with
    `assert report.ok, report`, which their bad examples fail)."""
    import torch

    from nnlint.probe import api
    from nnlint.watch import handle

    reports = []
    original = api.probe
    original_watch = handle.watch

    def watching(*args, **kwargs):  # `nnlint.watch(...)` examples (NN102): their findings count as the report's
        watcher = original_watch(*args, **kwargs)
        reports.append(watcher)
        return watcher

    def recording(*args, **kwargs):
        report = original(*args, **kwargs)
        reports.append(report)
        return report

    # For a model defined outside the user's files (a bare nn.Linear), the probe blames the line that called it:
    # make it look past this wrapper to the example's own call.
    recording.__code__ = recording.__code__.replace(co_filename="<probe_support.recording>")
    api.probe = recording
    handle.watch = watching
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    module_name = f"probe_example_{next(_COUNTER)}"
    torch.manual_seed(0)  # examples build unseeded models: make each run the same
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # so that inspect finds the classes' source, as for any test file
        spec.loader.exec_module(module)
        for key, value in vars(module).items():
            if key.startswith("test_") and callable(value):
                torch.manual_seed(0)  # each test starts from the same state, whatever the ones before it drew
                try:
                    value()
                except AssertionError:
                    if not expect_failure:
                        raise
    finally:
        api.probe = original
        handle.watch = original_watch
        torch.set_num_threads(threads)
        sys.modules.pop(module_name, None)
    return [finding for report in reports for finding in report.findings]
