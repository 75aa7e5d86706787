"""The worker process: imports torch once, runs a job's targets one by one, streams events to a file.

Run as `python -m nnlint.isolation.worker KIND JOB RESULTS` by supervise.py, where KIND names a WorkerKind
("nnlint.graph.isolated:GRAPH"). The parent watches RESULTS to know which target is running, and kills the
worker when a target hangs or the worker dies. This module imports no torch itself: the kind's functions do.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from nnlint.isolation import protocol
from nnlint.isolation.kind import resolve


def main(kind_reference: str, job_path: str, results_path: str) -> None:
    """Run every target of the job with the kind's function; one JSON line per event in the results file."""
    kind = resolve(kind_reference)
    job = protocol.Job.read(Path(job_path))
    with open(results_path, "a", encoding="utf-8") as out:
        emit = protocol.EventWriter(out)
        kind.warm_up()  # torch's import and first kernels cost seconds: not any target's time
        emit(protocol.ready())
        os.chdir(job.root)
        for index, target in enumerate(job.targets):
            emit(protocol.start(index))
            emit(protocol.done(index, kind.run(job, target).to_dict()))
    sys.stdout.flush()
    os._exit(0)  # user code may have left non-daemon threads running: do not wait for them


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
