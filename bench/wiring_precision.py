"""The wiring rules' graph hooks (NN206, NN303, NN401, NN402) on correct models: every finding must be explained.

    PYTHONPATH=$PWD /work/venv/bin/python bench/wiring_precision.py               # all models
    PYTHONPATH=$PWD /work/venv/bin/python bench/wiring_precision.py --only 'vgg|bert'

torchvision, timm and transformers models built with random weights (nothing is downloaded), checked in this
process by the graph engine exactly as a configured `[[tool.nnlint.models]]` factory target, with only these four
rules. `--library` keeps the findings the rules drop because they point into an installed package (what the
detection itself finds, to judge its precision). Prints, per model, how it was analysed (fx or hooks), the seconds, and each finding; then the counts per code.
These models are correct: a finding is a false positive unless it names a real (if harmless) wiring fact, such as a
convolution bias that a following BatchNorm cancels (torchvision's VGG-BN keeps it for its published weights).
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from pathlib import Path
from typing import List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
CODES = ("NN206", "NN303", "NN401", "NN402")

TORCHVISION = (
    "alexnet",
    "convnext_tiny",
    "densenet121",
    "efficientnet_b0",
    "googlenet",
    "inception_v3",
    "mnasnet0_5",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "regnet_y_400mf",
    "resnet18",
    "resnext50_32x4d",
    "shufflenet_v2_x0_5",
    "squeezenet1_0",
    "swin_t",
    "vgg11_bn",
    "vit_b_16",
    "wide_resnet50_2",
)
TIMM = (
    "coat_lite_tiny",
    "convnext_atto",
    "deit_tiny_distilled_patch16_224",
    "densenet121",
    "dla34",
    "efficientnet_b0",
    "ghostnet_100",
    "hrnet_w18_small",
    "levit_128",
    "mixer_s16_224",
    "mobilenetv3_large_100",
    "nf_resnet26",
    "pit_ti_224",
    "regnety_002",
    "resnet18d",
    "rexnet_100",
    "vit_tiny_patch16_224",
    "xception41",
)
# (model class, config kwargs): small configs, token inputs.
TRANSFORMERS = (
    ("BertForSequenceClassification", "BertConfig"),
    ("DistilBertForSequenceClassification", "DistilBertConfig"),
    ("GPT2LMHeadModel", "GPT2Config"),
    ("RobertaForMaskedLM", "RobertaConfig"),
    ("T5EncoderModel", "T5Config"),
    ("ViTForImageClassification", "ViTConfig"),
)
_SMALL = {
    "BertConfig": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128),
    "DistilBertConfig": dict(dim=64, n_layers=2, n_heads=2, hidden_dim=128),
    "GPT2Config": dict(n_embd=64, n_layer=2, n_head=2),
    "RobertaConfig": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128),
    "T5Config": dict(d_model=64, d_ff=128, num_layers=2, num_heads=2, d_kv=32),
    "ViTConfig": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128),
}


def torchvision_model(name: str):
    """A torchvision classification model without weights."""
    import torchvision

    return torchvision.models.get_model(name, weights=None)


def timm_model(name: str):
    """A timm model without weights."""
    import timm

    return timm.create_model(name, pretrained=False)


def transformers_model(name: str, config: str):
    """A small transformers model with random weights."""
    import transformers

    return getattr(transformers, name)(getattr(transformers, config)(**_SMALL[config]))


def targets() -> List[Tuple[str, object]]:
    """(label, GraphTarget) for every model."""
    from nnlint.config import InputSpec
    from nnlint.graph.targets import GraphTarget

    here = "bench/wiring_precision.py"
    image = (InputSpec((1, 3, 224, 224)),)
    found: List[Tuple[str, object]] = []
    for name in TORCHVISION:
        inputs = (InputSpec((1, 3, 299, 299)),) if name == "inception_v3" else image
        found.append((f"torchvision/{name}", GraphTarget(f"{here}:torchvision_model", {"name": name}, inputs)))
    for name in TIMM:
        found.append((f"timm/{name}", GraphTarget(f"{here}:timm_model", {"name": name}, None)))
    for name, config in TRANSFORMERS:
        inputs = image if name.startswith("ViT") else (InputSpec((1, 16), "int64", 0, 100),)
        kwargs = {"name": name, "config": config}
        found.append((f"transformers/{name}", GraphTarget(f"{here}:transformers_model", kwargs, inputs)))
    return found


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="regular expression on the model labels")
    parser.add_argument(
        "--library",
        action="store_true",
        help="also report findings inside installed packages (the rules drop them: not the user's to fix)",
    )
    args = parser.parse_args(argv)
    from nnlint import registry
    from nnlint.graph.context import GraphContext
    from nnlint.graph.engine import check_target, warm_up

    if args.library:
        GraphContext.in_library = lambda self, path: False  # type: ignore[method-assign]

    warm_up()
    rules = registry.rules_for(CODES)
    counts: Counter = Counter()
    methods: Counter = Counter()
    failed: List[str] = []
    started = time.perf_counter()
    for label, target in targets():
        if args.only and not re.search(args.only, label):
            continue
        result = check_target(target, ROOT, rules)  # type: ignore[arg-type]
        methods[result.method or "not analysed"] += 1
        print(f"{label}: {result.method or 'not analysed'}, {result.seconds:.1f} s")
        for finding in result.findings:
            counts[finding.code] += 1
            where = finding.location
            print(f"  {finding.code} {Path(where.path).name}:{where.line} {finding.message[:220]}")
            if not finding.code.startswith("NN3") and not finding.code.startswith("NN4") and finding.code != "NN206":
                failed.append(label)
    total = sum(methods.values())
    print(f"\n{total} models in {time.perf_counter() - started:.0f} s; analysed by {dict(methods)}")
    print("findings per code: " + ", ".join(f"{code} {counts.get(code, 0)}" for code in CODES))
    others = {code: n for code, n in counts.items() if code not in CODES}
    if others:
        print(f"engine findings (models nnlint could not analyse): {others} in {sorted(set(failed))}")


if __name__ == "__main__":
    main()
