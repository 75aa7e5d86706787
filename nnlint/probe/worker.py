"""The probe's worker process: imports torch once, probes targets one by one, streams results to a file.

Run as `python -m nnlint.probe.worker JOB RESULTS` by graph/isolation.py (job kind "probe"), which
watches RESULTS to know which target is running and kills the worker when a target runs too long.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(job_path: str, results_path: str) -> None:
    """Probe every target of the job; one JSON line per event in the results file."""
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    with open(results_path, "a", encoding="utf-8") as out:

        def emit(event: dict) -> None:
            out.write(json.dumps(event) + "\n")
            out.flush()

        from nnlint.probe.job import probe_target, warm_up
        from nnlint.probe.targets import ProbeTarget

        warm_up()  # torch's import and first kernels cost seconds: not any target's time
        emit({"event": "ready"})
        root = Path(job["root"])
        os.chdir(root)
        for index, data in enumerate(job["targets"]):
            emit({"event": "start", "index": index})
            report = probe_target(ProbeTarget.from_json(data), root, job["codes"], job.get("options") or {})
            emit(
                {
                    "event": "done",
                    "index": index,
                    "findings": [f.to_dict() for f in report.findings],
                    "seconds": report.seconds,
                    "input": report.input,
                    "report": report.to_dict(),
                }
            )
    sys.stdout.flush()
    os._exit(0)  # user code may have left non-daemon threads running: do not wait for them


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
