"""Where a sample of `nnlint.watch` spends its time, on the ResNet-18 CPU run of `watch_overhead.py`.

Times each part of one sample against the same work without the watch, interleaved and taking the
minimum over the repeats (the machine's other load inflates single timings, never the minimum):

- the forwards a sample hooks (batch 8: eight, to see the 64 samples NN313 needs), each timed alone;
- the optimizer step hooks (gradient norms before the step, the weights' update after it);
- judging the sample (reading the figures back, the rules);
- a step between samples (`watcher.step(loss)` alone).

    PYTHONPATH=$PWD /work/venv/bin/python bench/watch_breakdown.py [--repeats 10] [--threads 1]
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Callable, Dict, List

import torch
from watch_overhead import BATCH, CRITERION, SIZE, resnet18

import nnlint
from nnlint.probe.setup import codes_for
from nnlint.rules.nn313_dead_relu import DeadRelu
from nnlint.types import Location
from nnlint.watch.checks import Judge
from nnlint.watch.sampling import Sample, Snapshot


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("nnlint.watch").setLevel(logging.CRITICAL)
    torch.manual_seed(0)
    model = resnet18()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    x, y = torch.randn(BATCH, 3, SIZE, SIZE), torch.randint(0, 10, (BATCH,))
    min_samples = int(DeadRelu.option_value("min_samples", {}))
    forwards = -(-min_samples // BATCH)
    judge = Judge(model, params, optimizer, CRITERION, None, codes_for(None, ()), {}, Location("model.py", 1, 1))

    def forward() -> torch.Tensor:
        return CRITERION(model(x), y)

    snapshot = Snapshot()  # kept by the watch from one sample to the next

    def sample() -> Sample:
        return Sample(0, model, params, optimizer, CRITERION, judge.saturation(), min_samples, snapshot=snapshot)

    hooked_times: List[List[float]] = [[] for _ in range(forwards)]  # per forward of a sample: each one timed

    def hooked_forwards() -> None:
        armed = sample()
        armed.remove_other_hooks()
        for number in range(forwards):
            started = time.perf_counter()
            forward()
            hooked_times[number].append(time.perf_counter() - started)
        assert armed.forward_done
        armed.close()

    def step() -> torch.Tensor:
        optimizer.zero_grad()
        loss = forward()
        loss.backward()
        optimizer.step()
        return loss

    def hooked_step() -> None:
        armed = sample()
        armed.remove_forward_hooks()
        step()
        armed.close()

    judged = sample()
    loss = step()
    judged.remove_forward_hooks()

    def judged_once() -> None:
        judge.judge(judged, loss, None, (0, 0, 1.0))

    cases: Dict[str, Callable[[], object]] = {
        "plain forward": forward,
        "hooked forwards": hooked_forwards,
        "plain step": step,
        "step with optimizer hooks": hooked_step,
        "judge": judged_once,
    }
    times: Dict[str, List[float]] = {name: [] for name in cases}
    for run in cases.values():
        run()  # warm-up
    for column in hooked_times:
        column.clear()
    for _ in range(args.repeats):
        for name, run in cases.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    best = {name: 1000 * min(values) for name, values in times.items()}
    # a step between samples: the watch's own call alone (its sample for step 0 waits for a forward)
    with nnlint.watch(model, optimizer, loss=CRITERION, echo=False, every=10**9) as watcher:
        watcher.step(loss)
        between = []
        for _ in range(1000):
            started = time.perf_counter()
            watcher.step(loss)
            between.append(time.perf_counter() - started)
    extra = {
        f"{forwards} hooked forwards": sum(1000 * min(column) - best["plain forward"] for column in hooked_times),
        "  of which the first": 1000 * min(hooked_times[0]) - best["plain forward"],
        "optimizer hooks": best["step with optimizer hooks"] - best["plain step"],
        "judge": best["judge"],
    }
    total = sum(v for k, v in extra.items() if not k.startswith(" "))
    print(
        f"nnlint.watch, one sample: ResNet-18, batch {BATCH}, {SIZE}x{SIZE}, SGD, {args.threads} thread(s), "
        f"minimum over {args.repeats} interleaved repeats; plain step {best['plain step']:.1f} ms"
    )
    print("part                     | ms    | % of a step")
    print("-------------------------|-------|------------")
    for name, ms in extra.items():
        print(f"{name:24} | {ms:5.1f} | {100 * ms / best['plain step']:5.1f}")
    print(f"{'one sample in all':24} | {total:5.1f} | {100 * total / best['plain step']:5.1f}")
    print(
        f"at every=50: {100 * total / (50 * best['plain step']):.2f}% of step time; a step between samples costs "
        f"{1e6 * min(between):.0f} µs"
    )


if __name__ == "__main__":
    main()
