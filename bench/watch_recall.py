"""Recall and precision of `nnlint.watch` on short real training runs, each with one seeded problem.

Each case trains a small model (MLP, CNN or transformer) on synthetic but learnable data with a plain loop,
once with the problem and once without. The problem must be caught by its code within the run; the correct
run must produce no warning or error. Prints a table.

    PYTHONPATH=$PWD /work/venv/bin/python bench/watch_recall.py
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

import nnlint

STEPS, BATCH = 300, 32


class MLP(nn.Module):
    def __init__(self, inputs: int = 20, hidden: int = 256, outputs: int = 4, log_features: bool = False) -> None:
        super().__init__()
        self.fc1 = nn.Linear(inputs, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, outputs)
        self.log_features = log_features

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        if self.log_features:
            h = torch.log(h)  # seeded: log of the ReLU's zeros is -inf
        return self.out(torch.relu(self.fc2(h)))


class SquashedRegressor(nn.Module):
    def __init__(self, squash: bool) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Linear(64, 1)
        self.squash = squash

    def forward(self, x):
        y = self.head(self.body(x))
        return torch.sigmoid(y) if self.squash else y  # seeded: targets lie in [0, 4], a sigmoid stays in [0, 1]


class CNN(nn.Module):
    def __init__(self, dead_init: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)
        self.head = nn.Linear(32, 4)
        if dead_init:  # seeded: a bias so negative that no pre-activation is ever positive
            nn.init.constant_(self.conv2.bias, -20.0)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        return self.head(x.mean((2, 3)))


class TinyTransformer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(16, 64)
        layer = nn.TransformerEncoderLayer(64, 4, 256, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(64, 16)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens)).mean(1))


def classification(dim: int = 20, classes: int = 4, seed: int = 1) -> Callable[[], Tuple[torch.Tensor, torch.Tensor]]:
    teacher = torch.randn(dim, classes, generator=torch.Generator().manual_seed(seed))

    def batch():
        x = torch.randn(BATCH, dim)
        return x, (x @ teacher).argmax(1)

    return batch


def images() -> Callable[[], Tuple[torch.Tensor, torch.Tensor]]:
    def batch():
        y = torch.randint(0, 4, (BATCH,))
        x = torch.randn(BATCH, 3, 16, 16) * 0.5
        x[torch.arange(BATCH), y % 3, :, :] += 1.0  # the class shows in one channel's brightness...
        x[:, :, :8, :] *= (1 + (y >= 3).float()).view(-1, 1, 1, 1)  # ...and the fourth in the top half
        return x, y

    return batch


def tokens() -> Callable[[], Tuple[torch.Tensor, torch.Tensor]]:
    def batch():
        x = torch.randint(0, 16, (BATCH, 12))
        return x, x.max(1).values  # the largest token in the sequence

    return batch


def regression() -> Callable[[], Tuple[torch.Tensor, torch.Tensor]]:
    w = torch.randn(8, generator=torch.Generator().manual_seed(3))

    def batch():
        x = torch.randn(BATCH, 8)
        return x, (2 + torch.tanh(x @ w) * 2).unsqueeze(1)  # targets in [0, 4]

    return batch


@dataclass
class Case:
    problem: str
    expected: str
    build: Callable[[bool], Tuple[nn.Module, torch.optim.Optimizer, nn.Module, Callable]]
    data: Callable[[], Callable[[], Tuple[torch.Tensor, torch.Tensor]]]
    l2: Callable[[bool], float] = lambda seeded: 0.0


def lr_case(seeded: bool):
    model = TinyTransformer()
    return model, torch.optim.Adam(model.parameters(), lr=3e-2 if seeded else 3e-3), nn.CrossEntropyLoss()


def dead_case(seeded: bool):
    model = CNN(dead_init=seeded)
    return model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss()


def frozen_case(seeded: bool):
    model = MLP()
    params = list(model.fc2.parameters()) + list(model.out.parameters())  # seeded: fc1 left out
    return model, torch.optim.Adam(params if seeded else model.parameters(), lr=1e-3), nn.CrossEntropyLoss()


def nan_case(seeded: bool):
    model = MLP(log_features=seeded)
    return model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss()


def l2_case(seeded: bool):
    model = MLP()
    return model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss()


def squash_case(seeded: bool):
    model = SquashedRegressor(squash=seeded)
    return model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.MSELoss()


CASES = [
    Case("learning rate 10x too high (transformer, Adam 3e-2)", "NN412", lr_case, tokens),
    Case("dead-ReLU init (CNN, conv bias -20)", "NN313", dead_case, images),
    Case("frozen layer (fc1 missing from the optimizer)", "NN411", frozen_case, classification),
    Case("NaN from log of zero (log of ReLU features)", "NN317", nan_case, classification),
    Case(
        "regularisation weight 100x too high (L2 1e-2)", "NN208", l2_case, classification, lambda s: 1e-2 if s else 1e-4
    ),
    Case("plateau from a squashed output (sigmoid, targets 0-4)", "NN102", squash_case, regression),
]


def train(case: Case, seeded: bool, seed: int = 0) -> Tuple[List[str], float]:
    torch.manual_seed(seed)
    model, optimizer, criterion = case.build(seeded)
    batch = case.data()
    lam = case.l2(seeded)
    started = time.perf_counter()
    with nnlint.watch(model, optimizer, loss=criterion, echo=False) as watcher:
        for _ in range(STEPS):
            x, y = batch()
            optimizer.zero_grad()
            data_loss = criterion(model(x), y)
            if lam:
                l2 = lam * sum(p.pow(2).sum() for p in model.parameters())
                loss = data_loss + l2
                loss.backward()
                optimizer.step()
                watcher.step({"loss": loss, "data": data_loss, "l2": l2})
            else:
                data_loss.backward()
                optimizer.step()
                watcher.step(data_loss)
    serious = [f.code for f in watcher.findings if f.severity.rank >= 1]
    return sorted(set(serious)), time.perf_counter() - started


def main() -> int:
    torch.set_num_threads(1)
    logging.getLogger("nnlint.watch").setLevel(logging.CRITICAL)
    rows: List[Dict[str, str]] = []
    caught = clean = 0
    for case in CASES:
        found, seconds = train(case, seeded=True)
        correct, seconds_ok = train(case, seeded=False)
        caught += case.expected in found
        clean += not correct
        rows.append(
            {
                "problem": case.problem,
                "expected": case.expected,
                "found": ", ".join(found) or "-",
                "correct run": ", ".join(correct) or "none",
                "seconds": f"{seconds:.1f} / {seconds_ok:.1f}",
            }
        )
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in rows[0]}
    print(f"nnlint.watch recall: {STEPS} steps, batch {BATCH}, every=50 (default), torch {torch.__version__}, 1 thread")
    print(" | ".join(k.ljust(widths[k]) for k in rows[0]))
    print("-|-".join("-" * widths[k] for k in rows[0]))
    for row in rows:
        print(" | ".join(row[k].ljust(widths[k]) for k in row))
    print(f"caught {caught}/{len(CASES)} by the expected code; correct runs without warnings: {clean}/{len(CASES)}")
    return 0 if caught == clean == len(CASES) else 1


if __name__ == "__main__":
    sys.exit(main())
