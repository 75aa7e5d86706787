"""`nnlint.watch`: the probe's rules on sampled steps of a real training loop (tiny models, few steps)."""

from __future__ import annotations

import json
import logging

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import nnlint  # noqa: E402
from nnlint.watch.checks import restate  # noqa: E402

pytestmark = pytest.mark.torch


class MLP(nn.Module):
    def __init__(self, log_features: bool = False, squash: bool = False, outputs: int = 4):
        super().__init__()
        self.fc1 = nn.Linear(8, 32)
        self.fc2 = nn.Linear(32, outputs)
        self.log_features, self.squash = log_features, squash

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        if self.log_features:
            h = torch.log(h)  # -inf where the ReLU is zero
        out = self.fc2(h)
        return torch.sigmoid(out) if self.squash else out


def classes(n: int = 64):
    teacher = torch.randn(8, 4, generator=torch.Generator().manual_seed(1))

    def batch():
        x = torch.randn(n, 8)
        return x, (x @ teacher).argmax(1)

    return batch


def train(model, optimizer, criterion, batch, steps, **options):
    """A plain training loop under watch; returns the closed watch."""
    torch.manual_seed(0)
    with nnlint.watch(model, optimizer, loss=criterion, **options) as watcher:
        for _ in range(steps):
            x, y = batch()
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            watcher.step(loss)
    return watcher


def codes(watcher):
    return sorted({f.code for f in watcher.findings})


def test_a_healthy_run_has_no_findings():
    torch.manual_seed(0)
    model = MLP()
    watcher = train(model, torch.optim.Adam(model.parameters(), 1e-3), nn.CrossEntropyLoss(), classes(), 40, every=10)
    assert watcher.findings == [] and watcher.ok
    assert [h.step for h in watcher.history] == [0, 10, 20, 30, 39]  # the last: the final window, judged at close
    assert json.loads(watcher.to_json()) == []


def test_hooks_are_attached_only_around_sampled_steps():
    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    criterion = nn.CrossEntropyLoss()
    watcher = nnlint.watch(model, optimizer, loss=criterion, every=5)
    batch = classes()
    hooked = []
    for _ in range(7):
        x, y = batch()
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        watcher.step(loss)
        hooked.append(bool(model._forward_hooks) or bool(optimizer._optimizer_step_pre_hooks))
    watcher.close()
    # armed for step 0 and again after step 4 (for step 5); nothing at all after close
    assert hooked == [False, False, False, False, True, False, False]
    assert not model._forward_hooks and not model._forward_pre_hooks and not optimizer._optimizer_step_pre_hooks
    assert not model.fc1._forward_hooks


def test_a_layer_missing_from_the_optimizer_is_reported_once_with_its_step(caplog):
    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.Adam(model.fc2.parameters(), 1e-3)
    with caplog.at_level(logging.WARNING, logger="nnlint.watch"):
        watcher = train(model, optimizer, nn.CrossEntropyLoss(), classes(), 25, every=5)
    assert codes(watcher) == ["NN411"]
    (finding,) = watcher.findings
    assert "`fc1.weight`, `fc1.bias` are trainable" in finding.message and finding.message.endswith("(step 0)")
    assert finding.location.line == MLP.__init__.__code__.co_firstlineno + 2  # `self.fc1 = nn.Linear(8, 32)`
    assert sum("NN411" in r.getMessage() for r in caplog.records) == 1


def test_nan_from_a_log_of_zero_names_the_operation_and_line():
    torch.manual_seed(0)
    model = MLP(log_features=True)
    watcher = train(model, torch.optim.Adam(model.parameters(), 1e-3), nn.CrossEntropyLoss(), classes(), 6, every=2)
    nonfinite = [f for f in watcher.findings if f.code == "NN317"]
    assert len(nonfinite) == 1 and codes(watcher) == ["NN317"]  # the NaN's consequences (dead units) are not reported
    assert "`torch.log` produced NaN/Inf from finite inputs" in nonfinite[0].message
    assert "in the first step (forward)" in nonfinite[0].message


def test_dead_relu_at_initialisation():
    torch.manual_seed(0)
    model = MLP()
    nn.init.constant_(model.fc1.bias, -50.0)
    watcher = train(model, torch.optim.Adam(model.parameters(), 1e-3), nn.CrossEntropyLoss(), classes(), 3, every=50)
    assert "NN313" in codes(watcher)
    (dead,) = [f for f in watcher.findings if f.code == "NN313"]
    assert "32 of 32 units (100%)" in dead.message and dead.message.endswith("(step 0)")


def test_initial_loss_against_the_chance_level_of_the_real_labels():
    torch.manual_seed(0)
    model = MLP()
    with torch.no_grad():
        model.fc2.weight.mul_(200.0)
    watcher = train(model, torch.optim.Adam(model.parameters(), 1e-3), nn.CrossEntropyLoss(), classes(), 2, every=50)
    (far,) = [f for f in watcher.findings if f.code == "NN207"]
    assert "ln(4)" in far.message


def test_a_squashed_output_puts_a_floor_under_the_loss():
    torch.manual_seed(0)
    model = MLP(squash=True, outputs=1)

    def batch():
        x = torch.randn(64, 8)
        return x, 2 + 2 * torch.tanh(x[:, :1])

    options = {"NN102": {"windows": 3}}
    watcher = train(
        model, torch.optim.Adam(model.parameters(), 1e-3), nn.MSELoss(), batch, 12, every=4, options=options
    )
    (floor,) = [f for f in watcher.findings if f.code == "NN102"]
    assert "the loss cannot fall below" in floor.message and "a sigmoid" in floor.message


def test_a_diverging_loss_is_reported():
    torch.manual_seed(0)
    model = MLP()
    watcher = train(model, torch.optim.SGD(model.parameters(), lr=30.0), nn.CrossEntropyLoss(), classes(), 8, every=4)
    assert codes(watcher) == ["NN102", "NN412"]
    (diverges,) = [f for f in watcher.findings if f.code == "NN102"]
    assert diverges.message.startswith("The training loss diverges: its mean over steps 1-4 is")


def test_regularization_terms_passed_by_name():
    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    criterion = nn.CrossEntropyLoss()
    batch = classes()
    with nnlint.watch(model, optimizer, loss=criterion, every=50) as watcher:
        for _ in range(2):
            x, y = batch()
            optimizer.zero_grad()
            data = criterion(model(x), y)
            l2 = 1.0 * sum(p.pow(2).sum() for p in model.parameters())
            (data + l2).backward()
            optimizer.step()
            watcher.step({"loss": data + l2, "data": data, "l2": l2})
    (reg,) = [f for f in watcher.findings if f.code == "NN208"]
    assert "the loss terms `l2`" in reg.message


def test_evaluation_forwards_between_steps_are_not_recorded():
    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    criterion = nn.CrossEntropyLoss()
    watcher = nnlint.watch(model, optimizer, loss=criterion, every=50)
    model.eval()
    with torch.no_grad():
        model(torch.randn(4, 8))
    model.train()
    assert watcher._sample is not None and watcher._sample.forwards == 0
    watcher.close()


def test_selected_codes_and_sarif_output():
    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.Adam(model.fc2.parameters(), 1e-3)
    watcher = train(model, optimizer, nn.CrossEntropyLoss(), classes(), 2, every=50, ignore=["NN411"])
    assert watcher.findings == []
    watcher = train(model, optimizer, nn.CrossEntropyLoss(), classes(), 2, every=50)
    sarif = json.loads(watcher.to_sarif())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["NN411"]


def test_figures_go_to_a_summary_writer():
    class Writer:
        def __init__(self):
            self.scalars = []

        def add_scalar(self, tag, value, step):
            self.scalars.append((tag, step))

    writer = Writer()
    torch.manual_seed(0)
    model = MLP()
    train(
        model,
        torch.optim.Adam(model.parameters(), 1e-3),
        nn.CrossEntropyLoss(),
        classes(),
        6,
        every=5,
        tensorboard=writer,
    )
    tags = {tag for tag, _ in writer.scalars}
    assert {"nnlint/loss", "nnlint/grad_mean_abs/fc1.weight", "nnlint/update_ratio/fc1.weight"} <= tags
    assert {step for _, step in writer.scalars} >= {0, 5}


def test_plot_needs_matplotlib(tmp_path):
    torch.manual_seed(0)
    model = MLP()
    watcher = train(model, torch.optim.Adam(model.parameters(), 1e-3), nn.CrossEntropyLoss(), classes(), 6, every=5)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        from nnlint.probe.plot import PlotUnavailable

        with pytest.raises(PlotUnavailable, match="pip install matplotlib"):
            watcher.plot(tmp_path / "flow.png")
    else:
        watcher.plot(tmp_path / "flow.png")
        assert (tmp_path / "flow.png").stat().st_size > 0


def test_probe_messages_are_restated_for_the_watched_step():
    text = "At initialisation the term is 3. The gradient at initialisation (median ||Δθ||/||θ|| over steps 3-10; x)"
    assert restate(text, 0, []) == text + " (step 0)"
    assert restate(text, 150, [50, 150]) == (
        "At step 150 the term is 3. The gradient at step 150 (median ||Δθ||/||θ|| over the watched steps 50-150; x)"
        " (step 150)"
    )


def test_a_param_group_with_lr_zero_is_never_updated():
    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.SGD(
        [{"params": model.fc1.parameters(), "lr": 0.0}, {"params": model.fc2.parameters(), "lr": 0.1}]
    )
    watcher = train(model, optimizer, nn.CrossEntropyLoss(), classes(), 2, every=50)
    (frozen,) = [f for f in watcher.findings if f.code == "NN411"]
    assert "Its param group has lr = 0." in frozen.message


def test_gradient_accumulation_is_not_a_missed_update():
    """Steps where the optimizer does not step (accumulating gradients) measure no update, and report none."""
    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    criterion = nn.CrossEntropyLoss()
    batch = classes()
    with nnlint.watch(model, optimizer, loss=criterion, every=5) as watcher:
        for number in range(12):
            x, y = batch()
            loss = criterion(model(x), y) / 2
            loss.backward()
            if number % 2 == 1:
                optimizer.step()
                optimizer.zero_grad()
            watcher.step(loss)
    assert watcher.findings == []


class _Inner(nn.Module):
    """ReLUs of every kind the recorder meets: in place (a module), functional on [B, T, F], and one fed an
    all-zero input for some units (untouched units are not dead)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 32)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(32, 16)
        with torch.no_grad():
            self.fc1.bias[:20] = -50.0  # 20 of 32 units dead
            self.fc2.weight[:4] = 0.0  # 4 units with an all-zero input: untouched
            self.fc2.bias[:4] = 0.0
            self.fc2.bias[4:8] = -50.0  # 4 dead

    def forward(self, x):
        h = self.act(self.fc1(x))
        return torch.relu(self.fc2(h.unsqueeze(1).expand(-1, 3, -1)))


def test_the_watch_recorder_counts_what_the_probe_recorder_counts():
    from nnlint.probe.stats import Recorder
    from nnlint.watch.activations import ActivationRecorder

    torch.manual_seed(0)
    model = _Inner()
    batches = [torch.randn(8, 8) for _ in range(4)]
    probe, watch = Recorder(model), ActivationRecorder(model)
    probe.activations = True
    for number, x in enumerate(batches):
        with probe:
            model(x)
        # as a Sample does: recording starts in the model's forward pre-hook and ends in its forward hook
        handles = [
            model.register_forward_pre_hook(lambda module, args: watch.begin(module, args)),
            model.register_forward_hook(lambda *_: watch.__exit__(None, None, None)),
        ]
        model(x)
        for handle in handles:
            handle.remove()
        if number == 0:
            watch.narrow()
    assert watch._hooked == [model, model.act]  # the modules the ReLUs ran in, not fc1 and fc2
    expected = [(s.name, s.units, s.samples, s.dead_units) for s in probe.read()[0]]
    assert [(s.name, s.units, s.samples, s.dead_units) for s in watch.read()[0]] == expected
    # fc2: 4 units dead by their bias, 1 by chance; its 4 untouched units are not counted
    assert expected == [("act", 32, 32, 20), ("(model):relu", 16, 32, 5)]


def test_a_child_module_called_by_the_training_loop_gets_its_samples_over_several_forwards():
    """A LightningModule's training_step calls `self.net(x)`: each forward of the child adds to the same sites."""

    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = MLP()
            nn.init.constant_(self.net.fc1.bias, -50.0)

    torch.manual_seed(0)
    model = Wrapper()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()
    batch = classes(8)
    with nnlint.watch(model, optimizer, loss=criterion, echo=False) as watcher:
        for _ in range(10):
            x, y = batch()
            optimizer.zero_grad()
            loss = criterion(model.net(x), y)
            loss.backward()
            optimizer.step()
            watcher.step(loss)
    (dead,) = [f for f in watcher.findings if f.code == "NN313"]
    assert "32 of 32 units (100%) are ≤ 0 for all 64 samples" in dead.message


def test_the_weights_before_a_step_are_copied_into_kept_buffers_on_cpu():
    from nnlint.watch.sampling import Snapshot

    snapshot = Snapshot()
    weights = [torch.ones(3), torch.zeros(2, 2)]
    first = snapshot.take(weights)
    first[0].sub_(1.0)  # the caller subtracts the weights after the step in place
    second = snapshot.take(weights)
    assert second is first and second[0].data_ptr() == first[0].data_ptr()  # no new allocation
    assert torch.equal(second[0], weights[0]) and torch.equal(second[1], weights[1])
    assert snapshot.take([torch.ones(4)])[0].shape == (4,)  # another shape: new buffers
    snapshot.release()
    assert snapshot.buffers == []
