"""`nnlint.watch` under DDP: two CPU processes (gloo) each watch their replica; rank 0 reports each finding once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

pytestmark = [pytest.mark.torch, pytest.mark.slow]


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def _worker(rank: int, world: int, folder: str) -> None:
    import torch.distributed as dist

    import nnlint
    from nnlint.probe.stats import Recorder
    from nnlint.watch import reduce

    dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=rank, world_size=world)
    try:
        torch.manual_seed(0)  # the same initial weights on both ranks, as DDP expects
        model = nn.parallel.DistributedDataParallel(Net())
        optimizer = torch.optim.Adam(model.module.out.parameters(), lr=1e-3)  # `hidden` left out on every rank
        criterion = nn.CrossEntropyLoss()
        torch.manual_seed(1 + rank)  # each rank its own data
        with nnlint.watch(model, optimizer, loss=criterion, every=3, echo=False) as watcher:
            for _ in range(4):
                x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
                optimizer.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                watcher.step(loss)
        # the reduction of activation statistics: a unit alive on one rank only is alive; samples add up
        probe = Net()
        with torch.no_grad():
            probe.hidden.weight.zero_()
            probe.hidden.bias.fill_(-1.0)
            probe.hidden.bias[0] = 1.0 if rank == 1 else -1.0
        recorder = Recorder(probe)
        recorder.activations = True
        with recorder:
            probe(torch.randn(8, 4))
        reduce.recorder(recorder)
        sites, _, _ = recorder.read()
        result = {
            "messages": [f.message for f in watcher.findings],
            "codes": [f.code for f in watcher.findings],
            "samples": sites[0].samples,
            "dead": sites[0].dead_units,
        }
        Path(folder, f"rank{rank}.json").write_text(json.dumps(result), encoding="utf-8")
    finally:
        dist.destroy_process_group()


def test_two_ranks_report_once_with_the_ranks_that_saw_it(tmp_path):
    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available")
    torch.multiprocessing.spawn(_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    first = json.loads((tmp_path / "rank0.json").read_text(encoding="utf-8"))
    second = json.loads((tmp_path / "rank1.json").read_text(encoding="utf-8"))
    assert first["codes"] == ["NN411"] and second["codes"] == []
    assert first["messages"][0].endswith("(step 0) (seen on ranks 0, 1)")
    assert first["samples"] == second["samples"] == 16  # 8 samples on each rank
    assert first["dead"] == second["dead"] == 15  # unit 0 is alive on rank 1 only: alive
