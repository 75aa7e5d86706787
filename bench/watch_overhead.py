"""Overhead of `nnlint.watch` on a ResNet-18-sized CPU training run, with the default `every` (50).

Times the same run (60 steps, batch 8, 64x64 images, SGD) without and with the watch, alternating the two
runs so that machine load hits both alike, and prints the step times and the overhead.

    PYTHONPATH=$PWD /work/venv/bin/python bench/watch_overhead.py [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import List, Tuple

import torch
import torch.nn as nn

import nnlint

BATCH, SIZE = 8, 64
STEPS = 60  # --steps: 60 by default (two samples, one paying the one-off start); a real run has thousands


def resnet18() -> nn.Module:
    """torchvision's ResNet-18 when importable, else the same layout written here (11.7M parameters)."""
    try:
        from torchvision.models import resnet18 as tv_resnet18

        return tv_resnet18(num_classes=10)
    except ImportError:
        return _ResNet18()


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.down = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout
            else nn.Identity()
        )

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.down(x))


class _ResNet18(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)
        )
        widths = [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]
        self.layers = nn.Sequential(*[nn.Sequential(_Block(a, b, s), _Block(b, b, 1)) for a, b, s in widths])
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        return self.fc(self.layers(self.stem(x)).mean((2, 3)))


def lockstep(seed: int, steps: int) -> Tuple[List[float], List[float], List[float]]:
    """Per-step seconds of a plain and a watched run of the same model, data and optimizer, trained in lockstep
    (step i of one, then step i of the other) so that a burst of load on the machine hits both alike, and the
    seconds of each `watcher.step()` call alone."""
    runs = []
    for watched in (False, True):
        torch.manual_seed(seed)
        model = resnet18()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        watcher = nnlint.watch(model, optimizer, loss=CRITERION, echo=False) if watched else None
        runs.append((model, optimizer, watcher, []))
    data = [(torch.randn(BATCH, 3, SIZE, SIZE), torch.randint(0, 10, (BATCH,))) for _ in range(steps)]
    calls = []
    for x, y in data:
        for model, optimizer, watcher, times in runs:
            started = time.perf_counter()
            optimizer.zero_grad()
            loss = CRITERION(model(x), y)
            loss.backward()
            optimizer.step()
            if watcher is not None:
                called = time.perf_counter()
                watcher.step(loss)
                calls.append(time.perf_counter() - called)
            times.append(time.perf_counter() - started)
    started = time.perf_counter()
    runs[1][2].close()
    runs[1][3][-1] += time.perf_counter() - started  # judging the last sample is part of the cost
    return runs[0][3], runs[1][3], calls


CRITERION = nn.CrossEntropyLoss()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=STEPS, help="training steps per run (every 50th is sampled)")
    args = parser.parse_args()
    steps = args.steps
    torch.set_num_threads(args.threads)
    logging.getLogger("nnlint.watch").setLevel(logging.CRITICAL)
    lockstep(-1, min(steps, 60))  # warm-up: allocator, kernels, lazy imports
    plain_runs, watched_runs, call_runs = [], [], []
    for repeat in range(args.repeats):
        plain, watched, calls = lockstep(repeat, steps)
        plain_runs.append(plain)
        watched_runs.append(watched)
        call_runs.append(calls)
    # per step, the fastest of the repeats: what the step costs without the machine's other load
    plain_best = [min(run[i] for run in plain_runs) for i in range(steps)]
    watched_best = [min(run[i] for run in watched_runs) for i in range(steps)]
    sampled = sorted({i for i in range(steps) if watched_best[i] > 1.05 * plain_best[i]})
    print(
        f"nnlint.watch overhead: ResNet-18 ({sum(p.numel() for p in resnet18().parameters()) / 1e6:.1f}M parameters), "
        f"{steps} steps, batch {BATCH}, {SIZE}x{SIZE}, SGD, every=50 (default), {args.threads} threads, "
        f"per-step minimum over {args.repeats} lockstep repeats"
    )
    print("run        | seconds per run (sum of per-step minima) | ms per step | sums per repeat")
    print("-----------|------------------------------------------|-------------|----------------")
    for name, best, runs in (("plain", plain_best, plain_runs), ("with watch", watched_best, watched_runs)):
        print(
            f"{name:10} | {sum(best):40.2f} | {1000 * sum(best) / steps:11.1f} | "
            f"{', '.join(f'{sum(r):.2f}' for r in runs)}"
        )
    print(f"overhead: {100 * (sum(watched_best) / sum(plain_best) - 1):+.2f}% of step time")
    # the sample at step 50 is what every later sample costs; step 0's also pays the run's one-off start
    # (first judgement: reading the model's source for locations, importing the rules)
    first = sum(w - p for w, p in zip(watched_best[:50], plain_best[:50]))
    later = sum(w - p for w, p in zip(watched_best[50:], plain_best[50:]))
    step = sum(plain_best) / steps
    samples = len(range(50, steps, 50))
    print(
        f"extra seconds: steps 0-49 {first:+.3f} (sample at step 0, with the one-off start), steps 50-{steps - 1} "
        f"{later:+.3f} ({samples} samples); steady state, one sample per 50 steps: "
        f"{100 * later / max(1, samples * 50) / step:+.2f}% of step time"
    )
    print(f"steps more than 5% slower with the watch: {sampled or 'none'}")
    window_estimate(plain_best, watched_best, [min(run[i] for run in call_runs) for i in range(steps)])


def window_estimate(plain: List[float], watched: List[float], calls: List[float]) -> None:
    """The steady-state overhead from the steps a sample spans only: a sample hooks the forwards of steps
    s..s+7 (batch 8: 64 samples) and judges at s+7; every other step runs the watch's `step()` call alone,
    timed by itself. Under load the other 42 steps' differences are noise around zero that the sums above
    add up; this estimate leaves them out."""
    span = -(-64 // BATCH)
    starts = list(range(50, len(plain) - span + 1, 50))
    if not starts:
        return
    inside = {i for s in starts for i in range(s, s + span)}
    per_sample = sorted(sum(watched[i] - plain[i] for i in range(s, s + span)) for s in starts)
    between = sum(c for i, c in enumerate(calls[50:], 50) if i not in inside) / len(starts)
    step = sorted(plain)[len(plain) // 2]
    cost = per_sample[len(per_sample) // 2] + between
    print(
        f"sample windows: per sample {1000 * per_sample[len(per_sample) // 2]:+.1f} ms (median of "
        f"{', '.join(f'{1000 * x:+.1f}' for x in per_sample)}), the {50 - span} steps between "
        f"{1000 * between:+.2f} ms in all; median step {1000 * step:.1f} ms: {100 * cost / (50 * step):+.2f}% of "
        "step time at every=50"
    )


if __name__ == "__main__":
    main()
