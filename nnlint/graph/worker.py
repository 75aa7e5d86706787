"""The worker process: imports torch once, checks model targets one by one, streams results to a file.

Run as `python -m nnlint.graph.worker JOB RESULTS`. The parent (isolation.py) watches RESULTS to know
which target is running, and kills the worker when a target hangs or the worker dies.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(job_path: str, results_path: str) -> None:
    """Check every target of the job; one JSON line per event in the results file."""
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    with open(results_path, "a", encoding="utf-8") as out:

        def emit(event: dict) -> None:
            out.write(json.dumps(event) + "\n")
            out.flush()

        from nnlint import registry
        from nnlint.graph.engine import check_target, warm_up
        from nnlint.graph.targets import GraphTarget

        warm_up()  # torch's import and first meta kernels cost seconds: not any target's time
        emit({"event": "ready"})

        rules = registry.rules_for(job["codes"])
        root = Path(job["root"])
        os.chdir(root)
        for index, data in enumerate(job["targets"]):
            emit({"event": "start", "index": index})
            options = (job.get("options") or {}).get("rules")
            result = check_target(GraphTarget.from_json(data), root, rules, job.get("summary", False), options)
            emit(
                {
                    "event": "done",
                    "index": index,
                    "findings": [finding.to_dict() for finding in result.findings],
                    "method": result.method,
                    "input": result.input_description,
                    "seconds": result.seconds,
                    "summary": result.summary,
                    "timings": result.timings,
                }
            )
    sys.stdout.flush()
    os._exit(0)  # user code may have left non-daemon threads running: do not wait for them


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
