"""Print how long the probe takes on a torchvision-style ResNet-18 at 64x64, batch 16.

Figures: `nnlint probe` wall time from the shell (worker start, torch import, build, probe, report),
with and without a task; then the probe's own work in-process (torch already imported) with the time
of each phase, wall and CPU. Usage: `python bench/probe_speed.py [--device cpu|cuda] [--repeat N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESNET = """
import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet18(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(64, 2)
        self.layer2 = self._make_layer(128, 2, 2)
        self.layer3 = self._make_layer(256, 2, 2)
        self.layer4 = self._make_layer(512, 2, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))
"""


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=1)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="nnlint-bench-"))
    (folder / "resnet.py").write_text(RESNET, encoding="utf-8")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; device {options.device}")
    for extra in ([], ["--task", "multiclass"]):
        for _ in range(options.repeat):
            command = [
                sys.executable,
                "-m",
                "nnlint",
                "probe",
                "resnet.py:ResNet18",
                "--input-shape",
                "16,3,64,64",
                "--device",
                options.device,
                "--format",
                "json",
                *extra,
            ]
            started, before = time.perf_counter(), os.times()
            done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
            after = os.times()
            cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
            codes = (
                sorted({f["code"] for f in json.loads(done.stdout or "[]")})
                if done.returncode in (0, 1)
                else done.stderr[-500:]
            )
            print(
                f"nnlint probe {' '.join(extra) or '(no task)'}: {time.perf_counter() - started:.2f} s wall, {cpu:.2f} s CPU; exit {done.returncode}; findings {codes}"
            )
    _in_process(folder, options.device, options.repeat)


def _in_process(folder: Path, device: str, repeat: int) -> None:
    """The probe's own work, torch already imported and the model built (the first probe of a process also
    pays torch's lazy imports behind the first optimizer step: the first run is a warm-up)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as in the CLI's workers; read when torch loads OpenMP
    import torch

    import nnlint

    sys.path.insert(0, str(folder))
    from resnet import ResNet18

    nnlint.probe(torch.nn.Linear(4, 2), torch.randn(8, 4), task="multiclass", device=device)  # warm-up
    for task in (None, "multiclass"):
        for _ in range(repeat):
            torch.manual_seed(0)
            model = ResNet18().to(device)
            inputs = torch.randn(16, 3, 64, 64, device=device)
            started, cpu = time.perf_counter(), time.process_time()
            report = nnlint.probe(model, inputs, task=task, device=device)
            wall, used = time.perf_counter() - started, time.process_time() - cpu
            phases = ", ".join(
                f"{name} {seconds:.2f}" for name, seconds in report.timings.items() if not name.endswith("(cpu)")
            )
            cpus = ", ".join(
                f"{name[:-6]} {seconds:.2f}" for name, seconds in report.timings.items() if name.endswith("(cpu)")
            )
            print(
                f"in-process probe, task {task}: {wall:.2f} s wall, {used:.2f} s CPU; overfit {report.overfit.get('status')} "
                f"after {report.overfit.get('steps')} steps; findings {[f.code for f in report.findings]}"
            )
            print(f"  wall per phase: {phases}")
            print(f"  CPU per phase:  {cpus}")


if __name__ == "__main__":
    main()
