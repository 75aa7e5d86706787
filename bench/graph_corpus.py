"""Graph pass on real, correct models: every torchvision classification model and a spread of timm models.

    corpus/graph-venv/bin/python bench/graph_corpus.py --timm 160           # everything, both input modes
    corpus/graph-venv/bin/python bench/graph_corpus.py --only 'resnet|vit_b' --modes inferred
    corpus/graph-venv/bin/python bench/graph_corpus.py --list --timm 160    # the selection, no run

Each model is a factory target (`bench/graph_corpus.py:torchvision_model` or `:timm_model`, with the model
name as keyword argument) checked by `nnlint.graph.isolated.run_targets` in worker processes, exactly as
`nnlint` checks a configured model, in two modes:
  configured: the documented input (3x224x224, 3x299x299 for Inception v3, timm's pretrained_cfg input_size);
  inferred:   no input given, so nnlint infers one from the first layer and tries several sizes.
These are correct models: every NN0xx finding is a failure of nnlint, and every other finding is a false
positive until shown otherwise. Weights are never downloaded (weights=None / pretrained=False).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
MODULE = "bench/graph_corpus.py"


def torchvision_model(name: str):
    """A torchvision classification model without weights (the factory nnlint builds on meta)."""
    import torchvision

    return torchvision.models.get_model(name, weights=None)


def timm_model(name: str):
    """A timm model without weights (the factory nnlint builds on meta)."""
    import timm

    return timm.create_model(name, pretrained=False)


def torchvision_selection() -> List[Tuple[str, Tuple[int, ...]]]:
    """(name, configured input) for every torchvision classification model."""
    import torchvision

    names = sorted(torchvision.models.list_models(module=torchvision.models))
    return [(name, (1, 3, 299, 299) if name == "inception_v3" else (1, 3, 224, 224)) for name in names]


# The best-known member of common families first, then the spread over timm's modules.
TIMM_ANCHORS = (
    "resnet50",
    "resnet18d",
    "efficientnet_b0",
    "tf_efficientnetv2_s",
    "vit_base_patch16_224",
    "vit_small_patch16_384",
    "deit_base_distilled_patch16_224",
    "convnext_tiny",
    "regnety_040",
    "mobilenetv3_large_100",
    "mobilenetv4_conv_small",
    "densenet121",
    "swin_tiny_patch4_window7_224",
    "maxvit_tiny_tf_224",
    "coat_lite_tiny",
    "levit_128",
    "mixer_b16_224",
    "resmlp_12_224",
    "nf_resnet50",
    "rexnet_100",
    "ghostnetv2_100",
    "dla34",
    "dpn68",
    "hrnet_w18",
    "inception_v3",
    "xception41",
    "cspresnet50",
    "gernet_s",
    "repvgg_a2",
    "tresnet_m",
    "edgenext_small",
    "poolformer_s12",
    "crossvit_9_240",
    "beit_base_patch16_224",
    "eva02_tiny_patch14_224",
    "convformer_s18",
    "seresnext50_32x4d",
    "mnasnet_100",
    "lcnet_050",
    "vgg16_bn",
)


def timm_selection(count: int) -> List[Tuple[str, Tuple[int, ...]]]:
    """`count` timm models: well-known members of common families (TIMM_ANCHORS), then a spread over its
    model modules (families): the first of each module in alphabetical order, then the second of each, and
    so on; each with its pretrained config's input size."""
    import timm
    from timm.models import get_pretrained_cfg

    available = set(timm.list_models())
    per_module = [sorted(timm.list_models(module=module)) for module in sorted(timm.list_modules())]
    picked: List[str] = [name for name in TIMM_ANCHORS if name in available][:count]
    depth = 0
    while len(picked) < count and any(depth < len(names) for names in per_module):
        for names in per_module:
            if depth < len(names) and len(picked) < count and names[depth] not in picked:
                picked.append(names[depth])
        depth += 1
    selection = []
    for name in picked:
        cfg = get_pretrained_cfg(name)
        size = tuple(cfg.input_size) if cfg is not None and cfg.input_size else (3, 224, 224)
        selection.append((name, (1,) + size))
    return selection


def _percentile(values: List[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


def summarize(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Coverage per method, failures and findings per code, and time per model, for each mode."""
    out: Dict[str, Any] = {}
    for mode in sorted({row["mode"] for row in rows}):
        mine = [row for row in rows if row["mode"] == mode]
        ok = [row for row in mine if not row["failures"]]
        seconds = [row["seconds"] for row in mine if row["seconds"]]
        cpu = [row["timings"]["cpu"] for row in mine if "cpu" in row["timings"]]
        out[mode] = {
            "models": len(mine),
            "ran_without_nn0xx": len(ok),
            "coverage": round(len(ok) / len(mine), 4) if mine else 0.0,
            "by_method": dict(Counter(row["method"] or "none" for row in ok)),
            "failures_by_code": dict(Counter(code for row in mine for code in {f["code"] for f in row["failures"]})),
            "findings_by_code": dict(Counter(f["code"] for row in mine for f in row["findings"])),
            "models_with_findings": sum(1 for row in mine if row["findings"]),
            "median_s": round(statistics.median(seconds), 3) if seconds else 0.0,
            "p95_s": round(_percentile(seconds, 0.95), 3),
            "max_s": round(max(seconds), 3) if seconds else 0.0,
            "median_cpu_s": round(statistics.median(cpu), 3) if cpu else 0.0,
            "p95_cpu_s": round(_percentile(cpu, 0.95), 3),
            "by_source": {
                source: {
                    "models": sum(1 for row in mine if row["source"] == source),
                    "ran_without_nn0xx": sum(1 for row in ok if row["source"] == source),
                }
                for source in sorted({row["source"] for row in mine})
            },
        }
    return out


def _write(path: str, rows: List[Dict[str, Any]], wall: float, partial: bool) -> None:
    """The JSON record (rewritten after each batch, so an interrupted run keeps what it measured)."""
    environment = {
        "python": platform.python_version(),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 1),
    }
    for package in ("torch", "torchvision", "timm"):
        try:
            from importlib.metadata import version

            environment[package] = version(package)
        except Exception:  # not installed
            pass
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(
        json.dumps(
            {
                "environment": environment,
                "partial": partial,
                "wall_s": round(wall, 1),
                "worker_peak_rss_mb": round(peak),
                "summary": summarize(rows),
                "models": rows,
            },
            indent=1,
        ),
        encoding="utf-8",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timm", type=int, default=160, help="number of timm models (0: none)")
    parser.add_argument("--no-torchvision", action="store_true", help="skip the torchvision models")
    parser.add_argument("--only", default="", help="regular expression on model names")
    parser.add_argument("--modes", default="configured,inferred", help="configured, inferred or both")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--seconds", type=float, default=300.0, help="time limit per model")
    parser.add_argument(
        "--batch", type=int, default=60, help="checks per run_targets call (progress and saves between)"
    )
    parser.add_argument("--output", default=str(ROOT / "corpus" / "graph_corpus.json"))
    parser.add_argument("--list", action="store_true", help="print the selection and exit")
    parser.add_argument("--quiet", action="store_true", help="no per-model table")
    args = parser.parse_args()

    from nnlint import registry
    from nnlint.config import InputSpec
    from nnlint.graph.isolated import run_targets
    from nnlint.graph.targets import GraphTarget
    from nnlint.isolation.supervise import Limits
    from nnlint.types import Pass

    models: List[Tuple[str, str, Tuple[int, ...]]] = []
    if not args.no_torchvision:
        models += [("torchvision", name, shape) for name, shape in torchvision_selection()]
    if args.timm:
        models += [("timm", name, shape) for name, shape in timm_selection(args.timm)]
    if args.only:
        models = [m for m in models if re.search(args.only, m[1])]
    if args.list:
        for source, name, shape in models:
            print(f"{source:12} {name:50} {list(shape)}")
        print(f"{len(models)} models")
        return 0

    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    jobs = []
    for source, name, shape in models:
        factory = f"{MODULE}:{'torchvision_model' if source == 'torchvision' else 'timm_model'}"
        for mode in modes:
            inputs = (InputSpec(shape),) if mode == "configured" else None
            jobs.append((source, name, mode, GraphTarget(factory, {"name": name}, inputs)))
    codes = sorted(code for code, rule in registry.BY_CODE.items() if Pass.GRAPH in rule.passes)
    print(
        f"checking {len(models)} models x {len(modes)} modes = {len(jobs)} checks with {args.workers} workers "
        f"(rules {', '.join(codes)})",
        flush=True,
    )
    started = time.perf_counter()
    rows: List[Dict[str, Any]] = []
    for first in range(0, len(jobs), args.batch):
        batch = jobs[first : first + args.batch]
        limits = Limits(seconds=args.seconds, workers=args.workers)
        outcomes = run_targets([job[3] for job in batch], ROOT, codes, limits)
        for (source, name, mode, target), outcome in zip(batch, outcomes):
            findings = [
                {"code": f.code, "message": f.message, "path": f.location.path, "line": f.location.line}
                for f in outcome.findings
            ]
            rows.append(
                {
                    "source": source,
                    "name": name,
                    "mode": mode,
                    "configured_input": list(target.inputs[0].shape) if target.inputs else None,
                    "input": outcome.input_description,
                    "method": outcome.method,
                    "seconds": round(outcome.seconds, 3),
                    "timings": {k: round(v, 3) for k, v in outcome.timings.items()},
                    "failures": [f for f in findings if f["code"].startswith("NN0")],
                    "findings": [f for f in findings if not f["code"].startswith("NN0")],
                }
            )
        flagged = sum(1 for row in rows if row["failures"] or row["findings"])
        print(
            f"  {len(rows)}/{len(jobs)} checked, {flagged} with failures or findings, "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        _write(args.output, rows, time.perf_counter() - started, partial=len(rows) < len(jobs))
    wall = time.perf_counter() - started
    summary = summarize(rows)

    if not args.quiet:
        print(f"\n{'model':58} {'mode':10} {'method':6} {'s':>6}  input / findings")
        for row in rows:
            codes_seen = " ".join(f["code"] for f in row["failures"] + row["findings"])
            print(
                f"{row['source'][:2]}:{row['name'][:55]:55} {row['mode']:10} {row['method'] or '-':6} {row['seconds']:6.2f}  "
                f"{row['input'][:40]} {codes_seen}"
            )
    print("\nfailures and findings:")
    for row in rows:
        for f in row["failures"] + row["findings"]:
            print(
                f"  {row['source']}:{row['name']} [{row['mode']}] {f['code']} {Path(f['path']).name}:{f['line']}: {f['message'][:400]}"
            )
    print(
        f"\n{'mode':11} {'models':>6} {'no NN0xx':>9} {'coverage':>8} {'fx':>5} {'hooks':>5} {'median s':>9} {'p95 s':>7} "
        f"{'max s':>7} {'median cpu':>10} {'p95 cpu':>8}  failures / findings"
    )
    for mode, s in summary.items():
        print(
            f"{mode:11} {s['models']:6} {s['ran_without_nn0xx']:9} {s['coverage']:8.1%} {s['by_method'].get('fx', 0):5} "
            f"{s['by_method'].get('hooks', 0):5} {s['median_s']:9.2f} {s['p95_s']:7.2f} {s['max_s']:7.2f} "
            f"{s['median_cpu_s']:10.2f} {s['p95_cpu_s']:8.2f}  {s['failures_by_code'] or '-'} / {s['findings_by_code'] or '-'}"
        )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"\nwall {wall:.0f} s for {len(jobs)} checks; largest worker peak RSS {peak:.0f} MB; load average now "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times grow with it, CPU times do not)"
    )

    _write(args.output, rows, wall, partial=False)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
