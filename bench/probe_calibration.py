"""The probe's calibration bench: correct public architectures must stay silent, seeded bugs must be found.

Correct models: torchvision and timm architectures and small transformers (random init, 10 classes, small
inputs), plus the models of bench/probe_bench_models.py (RNN/transformer classifiers, regressors with ReLU,
sigmoid, softplus outputs, segmentation, multi-label, GNN layers, multi-input, BatchNorm at batch 4). Any
warning or error on them is a false alarm. Seeded bugs: one bug each, with the rule that must find it.

Prints one line per model (seconds, findings) and the per-rule table: false alarms on correct models, and
seeded bugs found by their intended rule. CPU only; the probe's own budget applies.

Usage: python bench/probe_calibration.py [--only SUBSTRING] [--limit N] [--correct | --bugs] [--seed S] [--json PATH]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

import probe_bench_models as small  # noqa: E402

import nnlint  # noqa: E402
from nnlint import registry  # noqa: E402
from nnlint.probe import engine  # noqa: E402
from nnlint.types import Pass, Severity  # noqa: E402

Built = Tuple[nn.Module, Dict[str, Any]]


def _images(batch: int = 8, size: int = 64) -> torch.Tensor:
    return torch.randn(batch, 3, size, size)


def _torchvision(name: str, size: int = 64, batch: int = 8, **kwargs: Any) -> Callable[[], Built]:
    def build() -> Built:
        import torchvision

        model = getattr(torchvision.models, name)(weights=None, num_classes=10, **kwargs)
        return model, dict(inputs=_images(batch, size), task="multiclass")

    return build


def _segmentation(name: str) -> Callable[[], Built]:
    def build() -> Built:
        import torchvision

        model = getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, num_classes=4)
        return model, dict(inputs=_images(4, 64), task="multiclass")

    return build


def _timm(name: str, size: int = 64, batch: int = 8, **kwargs: Any) -> Callable[[], Built]:
    def build() -> Built:
        import timm

        model = timm.create_model(name, pretrained=False, num_classes=10, **kwargs)
        return model, dict(inputs=_images(batch, size), task="multiclass")

    return build


def _hf(config_name: str, model_name: str, **config: Any) -> Callable[[], Built]:
    def build() -> Built:
        import transformers

        settings = dict(num_labels=3, vocab_size=200, **config)
        model = getattr(transformers, model_name)(getattr(transformers, config_name)(**settings))
        ids = torch.randint(3, 200, (8, 16))
        return model, dict(inputs={"input_ids": ids, "attention_mask": torch.ones_like(ids)}, task="multiclass")

    return build


def _hf_vision() -> Built:
    import transformers

    config = transformers.ViTConfig(
        image_size=32, patch_size=8, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=128, num_labels=5,
    )  # fmt: skip
    return transformers.ViTForImageClassification(config), dict(
        inputs={"pixel_values": _images(8, 32)}, task="multiclass"
    )


_SMALL_TEXT = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128)

PUBLIC: List[Tuple[str, Callable[[], Built]]] = [
    ("torchvision resnet18", _torchvision("resnet18")),
    ("torchvision resnet50", _torchvision("resnet50", batch=4)),
    ("torchvision mobilenet_v2", _torchvision("mobilenet_v2")),
    ("torchvision mobilenet_v3_small", _torchvision("mobilenet_v3_small")),
    ("torchvision shufflenet_v2_x0_5", _torchvision("shufflenet_v2_x0_5")),
    ("torchvision squeezenet1_1", _torchvision("squeezenet1_1")),
    ("torchvision mnasnet0_5", _torchvision("mnasnet0_5")),
    ("torchvision efficientnet_b0", _torchvision("efficientnet_b0")),
    ("torchvision regnet_y_400mf", _torchvision("regnet_y_400mf")),
    ("torchvision googlenet", _torchvision("googlenet", aux_logits=False, init_weights=True)),
    ("torchvision densenet121", _torchvision("densenet121", batch=4)),
    ("torchvision convnext_tiny", _torchvision("convnext_tiny", batch=4)),
    ("torchvision swin_t", _torchvision("swin_t", batch=4)),
    ("torchvision vit_b_16 (64px)", _torchvision("vit_b_16", batch=4, image_size=64)),
    ("torchvision lraspp_mobilenet_v3_large", _segmentation("lraspp_mobilenet_v3_large")),
    ("torchvision deeplabv3_mobilenet_v3_large", _segmentation("deeplabv3_mobilenet_v3_large")),
    ("timm resnet10t", _timm("resnet10t")),
    ("timm efficientnet_b0", _timm("efficientnet_b0")),
    ("timm mobilenetv3_small_050", _timm("mobilenetv3_small_050")),
    ("timm lcnet_050", _timm("lcnet_050")),
    ("timm regnetx_002", _timm("regnetx_002")),
    ("timm convnext_atto", _timm("convnext_atto")),
    ("timm vit_tiny_patch16 (64px)", _timm("vit_tiny_patch16_224", img_size=64)),
    ("timm deit_tiny_patch16 (64px)", _timm("deit_tiny_patch16_224", img_size=64)),
    ("timm mixer_s16 (64px)", _timm("mixer_s16_224", img_size=64)),
    ("timm mobilevit_xxs", _timm("mobilevit_xxs")),
    ("timm ghostnet_050", _timm("ghostnet_050")),
    ("timm repvgg_a0", _timm("repvgg_a0")),
    ("timm test_vit", _timm("test_vit", size=160)),
    ("timm test_convnext", _timm("test_convnext")),
    ("timm test_efficientnet", _timm("test_efficientnet")),
    ("timm test_byobnet", _timm("test_byobnet")),
    ("timm test_nfnet", _timm("test_nfnet")),
    ("hf bert", _hf("BertConfig", "BertForSequenceClassification", **_SMALL_TEXT)),
    (
        "hf distilbert",
        _hf("DistilBertConfig", "DistilBertForSequenceClassification", dim=64, n_layers=2, n_heads=4, hidden_dim=128),
    ),
    ("hf roberta", _hf("RobertaConfig", "RobertaForSequenceClassification", **_SMALL_TEXT)),
    ("hf albert", _hf("AlbertConfig", "AlbertForSequenceClassification", embedding_size=32, **_SMALL_TEXT)),
    ("hf electra", _hf("ElectraConfig", "ElectraForSequenceClassification", embedding_size=32, **_SMALL_TEXT)),
    ("hf gpt2", _hf("GPT2Config", "GPT2ForSequenceClassification", n_embd=64, n_layer=2, n_head=4, pad_token_id=0)),
    (
        "hf llama",
        _hf("LlamaConfig", "LlamaForSequenceClassification", pad_token_id=0, num_key_value_heads=2, **_SMALL_TEXT),
    ),
    ("hf vit", _hf_vision),
]


def _serious(report) -> List[Any]:
    return [f for f in report.findings if f.severity.rank >= Severity.WARNING.rank]


_captured: List[Any] = []
_judge = engine._judge


def _capturing_judge(setup, ctx) -> None:
    """The engine's judging step, keeping the facts for the calibration figures."""
    _captured.append(ctx.facts)
    _judge(setup, ctx)


engine._judge = _capturing_judge


def _rms(param) -> float:
    return param.grad_norm / max(1, int(torch.tensor(param.shape).prod())) ** 0.5


def margins(facts) -> Dict[str, float]:
    """The measured value each threshold is compared with, worst case over the model (for the calibration figures)."""
    found: Dict[str, float] = {}
    relus = [s.dead_units / s.units for s in facts.activations if s.kind == "relu" and s.units and s.samples >= 64]
    squashing = [s.saturated_units / s.units for s in facts.activations if s.kind != "relu" and s.units]
    weights = sorted(
        (p for p in facts.params if p.is_weight and p.grad_mean_abs > 0 and p.order >= 0), key=lambda p: p.order
    )
    if relus:
        found["NN313 dead share"] = max(relus)
    if squashing:
        found["NN314 saturated share"] = max(squashing)
    if weights:
        found["NN315 min mean|g|"] = min(p.grad_mean_abs for p in weights)
        relative = [p.grad_norm / p.weight_norm for p in weights if p.weight_norm > 0]
        if relative:
            found["NN316 max |g|/|w|"] = max(relative)
    first_steps = [
        p.first_update_ratio for p in facts.params if p.is_weight and p.weight_norm > 0 and p.first_update_ratio
    ]
    if first_steps:
        found["NN412 max first-step ratio"] = max(first_steps)
    if len(weights) >= 2:
        ratio = _rms(weights[0]) / max(_rms(weights[-1]), 1e-30)
        found["NN315 first/last rms"] = ratio
        found["NN316 last/first rms"] = 1 / max(ratio, 1e-30)
    ratios = [p.update_ratio for p in facts.params if p.is_weight and p.update_ratio]
    if ratios:
        found["NN412 min update ratio"], found["NN412 max update ratio"] = min(ratios), max(ratios)
    loss = facts.loss
    if loss is not None and loss.expected:
        found["NN207 loss/chance"] = loss.initial / loss.expected
    if facts.regularization is not None and facts.regularization.initial_data:
        found["NN208 reg/data"] = facts.regularization.initial_reg / facts.regularization.initial_data
    errors = [g.relative_error for g in facts.gradchecks if g.relative_error is not None]
    if errors:
        found["NN318 gradcheck error"] = max(errors)
    if facts.variance_shifts:
        found["NN401 variance ratio"] = min(v.ratio for v in facts.variance_shifts)
    return found


SEED = [0]  # --seed: of the weights, the inputs built here and the probe


def _run(name: str, build: Callable[[], Built]) -> Dict[str, Any]:
    torch.manual_seed(SEED[0])
    started = time.perf_counter()
    try:
        model, kwargs = build()
    except Exception as error:  # an architecture this environment cannot build: not counted
        return {"name": name, "skipped": f"{type(error).__name__}: {str(error)[:120]}"}
    _captured.clear()
    report = nnlint.probe(model, device="cpu", seed=SEED[0], **kwargs)
    return {
        "margins": margins(_captured[-1]) if _captured else {},
        "name": name,
        "seconds": round(time.perf_counter() - started, 2),
        "findings": [(f.code, f.severity.value, " ".join(f.message.split())[:160]) for f in _serious(report)],
        "overfit": report.overfit.get("status"),
        "timings": {k: v for k, v in report.timings.items() if not k.endswith("(cpu)")},
        "checks": report.checks,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="run models whose name contains this")
    parser.add_argument("--limit", type=int, help="at most N models of each group")
    parser.add_argument("--correct", action="store_true", help="only the correct models")
    parser.add_argument("--bugs", action="store_true", help="only the seeded bugs")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, inputs and probe (default 0)")
    options = parser.parse_args()
    SEED[0] = options.seed
    torch.set_num_threads(2)

    def chosen(items):
        picked = [item for item in items if not options.only or any(o in item[0] for o in options.only)]
        return picked[: options.limit] if options.limit else picked

    correct, seeded = [], []
    if not options.bugs:
        for name, build in chosen(small.correct_models() + PUBLIC):
            result = _run(name, build)
            correct.append(result)
            _line("ok ", result)
    if not options.correct:
        for name, code, build in chosen([(n, c, b) for n, c, b in small.bugs()]):
            result = dict(_run(name, build), intended=code)
            seeded.append(result)
            _line(code, result)
    _table(correct, seeded)
    if options.json:
        options.json.write_text(json.dumps({"correct": correct, "bugs": seeded}, indent=1), encoding="utf-8")
    return 0


def _line(tag: str, result: Dict[str, Any]) -> None:
    if "skipped" in result:
        print(f"{tag:6} {result['name']:42} skipped ({result['skipped']})", flush=True)
        return
    codes = ",".join(sorted({code for code, _, _ in result["findings"]})) or "-"
    print(
        f"{tag:6} {result['name']:42} {result['seconds']:6.1f} s  overfit {result['overfit'] or '-':12} {codes}",
        flush=True,
    )
    for code, severity, message in result["findings"]:
        print(f"         {code} {severity}: {message}", flush=True)


def _table(correct: List[Dict[str, Any]], seeded: List[Dict[str, Any]]) -> None:
    ran = [r for r in correct if "skipped" not in r]
    false_alarms = collections.Counter(code for r in ran for code in {c for c, _, _ in r["findings"]})
    intended = collections.Counter(r["intended"] for r in seeded if "skipped" not in r)
    found = collections.Counter(
        r["intended"] for r in seeded if "skipped" not in r and r["intended"] in {c for c, _, _ in r["findings"]}
    )
    codes = sorted(code for code, rule in registry.BY_CODE.items() if Pass.PROBE in rule.passes)
    print()
    print(f"correct models: {len(ran)} run ({len(correct) - len(ran)} skipped), "
          f"{sum(1 for r in ran if r['findings'])} with a warning/error")  # fmt: skip
    total, hits = sum(intended.values()), sum(found.values())
    print(f"seeded bugs: {hits}/{total} found by the intended rule ({hits / max(total, 1):.0%})")
    print(f"{'rule':8} {'false alarms':>13} {'bugs found':>11}")
    for code in codes:
        if false_alarms[code] or intended[code]:
            print(f"{code:8} {false_alarms[code]:>13} {found[code]:>5}/{intended[code]:<5}")
    _figures(ran, "correct models")
    _figures([s for s in seeded if "skipped" not in s], "seeded bugs")
    times = [r["seconds"] for r in ran + [s for s in seeded if "skipped" not in s]]
    if times:
        print(f"seconds per model: median {sorted(times)[len(times) // 2]:.1f}, max {max(times):.1f}")


def _figures(results: List[Dict[str, Any]], title: str) -> None:
    """Per measured quantity: its range over `results` (the calibration figures of the rule pages)."""
    values: Dict[str, List[Tuple[float, str]]] = collections.defaultdict(list)
    for result in results:
        for key, value in result.get("margins", {}).items():
            values[key].append((value, result["name"]))
    if not values:
        return
    print(f"\nmeasured on the {title} (min .. max, and which model):")
    for key in sorted(values):
        low, high = min(values[key]), max(values[key])
        print(f"  {key:24} {low[0]:10.3g} ({low[1][:28]}) .. {high[0]:10.3g} ({high[1][:28]})  n={len(values[key])}")


if __name__ == "__main__":
    sys.exit(main())
