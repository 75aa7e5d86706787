"""Calibration of the graph pass on correct models: every warning or error is a false alarm; seeded twins measure recall.

    /work/venv/bin/python bench/graph_calibration.py                     # everything (about 180 models, 2 modes)
    /work/venv/bin/python bench/graph_calibration.py --only 'hf:|own:'   # a subset (regular expression on ids)
    /work/venv/bin/python bench/graph_calibration.py --list              # the selection, no run

The models (random init, built on meta, nothing downloaded):
  tv:    every torchvision classification, video and segmentation model;
  timm:  a spread over timm's families (bench/graph_corpus.py's selection);
  hf:    Hugging Face transformers at small widths: encoders, decoders (GPT-2, Llama, Mistral...), seq2seq with
         masks (T5, BART), vision (ViT, Swin), multimodal (CLIP, SigLIP), audio (Wav2Vec2, Whisper);
  own:   bench/calibration_models.py: 3D and 2D U-Nets, GNNs over edge_index or adj, seq2seq with masks,
         HF-style forward(input_ids, attention_mask=None, labels=None), multimodal, diffusion, ...
each checked as `nnlint` checks it, in worker processes, in two modes:
  zero-config: no input given, nnlint infers one (as for a discovered model: an NN0xx finding is a skip, info);
  configured:  the documented input, one entry per forward argument, keyword ones by name.
Prints the false alarms (warning/error findings on correct models), the skips, and the recall on the seeded-bug
twins (`bug=True` variants of the own models: a finding of warning/error level other than NN0xx counts as found).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
MODULE = "bench/graph_calibration.py"
OWN = "bench/calibration_models.py"


def torchvision_model(name: str):
    """A torchvision model without weights (segmentation models without backbone weights either)."""
    import torchvision

    if name in torchvision.models.list_models(module=torchvision.models.segmentation):
        return torchvision.models.get_model(name, weights=None, weights_backbone=None)
    return torchvision.models.get_model(name, weights=None)


def timm_model(name: str):
    """A timm model without weights."""
    import timm

    return timm.create_model(name, pretrained=False)


_TEXT = dict(vocab_size=128, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
_DECODER = dict(_TEXT, num_key_value_heads=2, max_position_embeddings=64)
_VISION = dict(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=4)
HF: Dict[str, Tuple[str, str, Dict[str, Any]]] = {  # name -> (model class, config class, config)
    "bert": ("BertForSequenceClassification", "BertConfig", dict(_TEXT, max_position_embeddings=64)),
    "roberta": ("RobertaForMaskedLM", "RobertaConfig", dict(_TEXT, max_position_embeddings=66)),
    "distilbert": ("DistilBertModel", "DistilBertConfig", dict(vocab_size=128, dim=32, n_layers=2, n_heads=4, hidden_dim=64)),
    "electra": ("ElectraForPreTraining", "ElectraConfig", dict(_TEXT, embedding_size=32, max_position_embeddings=64)),
    "albert": ("AlbertModel", "AlbertConfig", dict(_TEXT, embedding_size=16, max_position_embeddings=64)),
    "gpt2": ("GPT2LMHeadModel", "GPT2Config", dict(vocab_size=128, n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=1, eos_token_id=1)),
    "llama": ("LlamaForCausalLM", "LlamaConfig", _DECODER),
    "mistral": ("MistralForCausalLM", "MistralConfig", _DECODER),
    "qwen2": ("Qwen2ForCausalLM", "Qwen2Config", _DECODER),
    "gemma2": ("Gemma2ForCausalLM", "Gemma2Config", dict(_DECODER, head_dim=8)),
    "phi": ("PhiForCausalLM", "PhiConfig", _DECODER),
    "gpt_neox": ("GPTNeoXForCausalLM", "GPTNeoXConfig", dict(_TEXT, max_position_embeddings=64)),
    "opt": ("OPTForCausalLM", "OPTConfig", dict(vocab_size=128, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=64, max_position_embeddings=64, word_embed_proj_dim=32)),
    "t5": ("T5ForConditionalGeneration", "T5Config", dict(vocab_size=128, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)),
    "bart": ("BartForConditionalGeneration", "BartConfig", dict(vocab_size=128, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64)),
    "vit": ("ViTForImageClassification", "ViTConfig", dict(_VISION, intermediate_size=64)),
    "deit": ("DeiTForImageClassification", "DeiTConfig", dict(_VISION, intermediate_size=64)),
    "swin": ("SwinForImageClassification", "SwinConfig", dict(image_size=32, patch_size=4, embed_dim=16, depths=[1, 1], num_heads=[2, 2], window_size=4)),
    "convnext": ("ConvNextForImageClassification", "ConvNextConfig", dict(hidden_sizes=[16, 32], depths=[1, 1], num_stages=2)),
    "clip": ("CLIPModel", "CLIPConfig", dict(text_config=dict(_TEXT, max_position_embeddings=32), vision_config=dict(_VISION, intermediate_size=64), projection_dim=16)),
    "siglip": ("SiglipModel", "SiglipConfig", dict(text_config=dict(_TEXT, max_position_embeddings=32), vision_config=dict(_VISION, intermediate_size=64))),
    "wav2vec2": ("Wav2Vec2Model", "Wav2Vec2Config", dict(_TEXT, conv_dim=[16, 16], conv_kernel=[10, 3], conv_stride=[5, 2], num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)),
    "whisper": ("WhisperForConditionalGeneration", "WhisperConfig", dict(vocab_size=128, d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=16, max_source_positions=32, max_target_positions=32, pad_token_id=0, bos_token_id=1, eos_token_id=1, decoder_start_token_id=1)),
}  # fmt: skip


def hf_model(name: str):
    """A transformers model of the HF table, randomly initialised from its small config."""
    import transformers

    model_class, config_class, config = HF[name]
    return getattr(transformers, model_class)(getattr(transformers, config_class)(**config))


def _ids(length: int = 16, name: Optional[str] = None, high: int = 128):
    from nnlint.config import InputSpec

    return InputSpec((2, length), "int64", 0, high, name)


def _float(shape, name: Optional[str] = None):
    from nnlint.config import InputSpec

    return InputSpec(tuple(shape), "float32", None, None, name)


def InputSpec_(*fields):  # noqa: N802 - the config's InputSpec, imported late
    from nnlint.config import InputSpec

    return InputSpec(*fields)


def _spec(shape, dtype: str, low=None, high=None, batched: bool = True):
    from nnlint.config import InputSpec

    return InputSpec(tuple(shape), dtype, low, high, None, batched)


def hf_inputs(name: str) -> tuple:
    """The documented inputs of an HF model: ids and mask, decoder ids for seq2seq, pixels, audio."""
    mask = _ids(16, "attention_mask", 2)
    if name in ("t5", "bart"):
        return (_ids(), mask, _ids(8, "decoder_input_ids"))
    if name in ("vit", "deit", "swin", "convnext"):
        return (_float((2, 3, 32, 32)),)
    if name in ("clip", "siglip"):
        return (_ids(), _float((2, 3, 32, 32), "pixel_values"))
    if name == "wav2vec2":
        return (_float((2, 1600)),)
    if name == "whisper":
        return (_float((2, 16, 64)), _ids(8, "decoder_input_ids"))
    return (_ids(), mask)


# own models: name -> (configured inputs, has a seeded-bug twin)
OWN_MODELS: Dict[str, Tuple[tuple, bool]] = {
    "UNet3D": ((_float((2, 1, 16, 16, 16)),), True),
    "UNet2D": ((_float((2, 1, 64, 64)),), True),
    "ResidualNet": ((_float((2, 3, 32, 32)),), True),
    "ConvAutoencoder": ((_float((2, 3, 32, 32)),), True),
    "VAE": ((_float((2, 784)),), True),
    "PointNet": ((_float((2, 3, 256)),), True),
    "AudioCNN": ((_float((2, 1, 16000)),), False),
    "SiameseNet": ((_float((2, 1, 28, 28)), _float((2, 1, 28, 28))), True),
    "DiffusionUNet": ((_float((2, 3, 32, 32)), _spec((2,), "int64", 0, 1000)), True),
    "EdgeIndexGNN": ((_spec((10, 16), "float32", batched=False), _spec((2, 30), "int64", 0, 10, False)), True),
    "EdgeAttentionGNN": ((_spec((10, 16), "float32", batched=False), _spec((2, 30), "int64", 0, 10, False)), False),
    "DenseGCN": ((_spec((10, 16), "float32", batched=False), _spec((10, 10), "float32", batched=False)), True),
    "Seq2SeqTransformer": (
        (_ids(12, high=100), _ids(9, high=100), InputSpec_((12, 12), "float32", None, None, "src_mask", False)),
        True,
    ),
    "MaskedEncoder": ((_ids(12, high=100), _spec((2, 12), "bool")), False),
    "HFStyleClassifier": ((_ids(16, high=200), _ids(16, "attention_mask", 2)), True),
    "CausalLM": ((_ids(32),), True),
    "LSTMTagger": ((_ids(20, high=100),), True),
    "GRUForecaster": ((_float((2, 24, 6)),), False),
    "TextImageMatcher": ((_ids(12, high=100), _float((2, 3, 32, 32))), True),
    "VisualQuestionAnswering": ((_float((2, 3, 32, 32)), _ids(10, high=100)), True),
    "MultiTaskNet": ((_float((2, 20)),), True),
    "MixerBlockNet": ((_float((2, 3, 32, 32)),), True),
}


def selection(timm_count: int) -> List[Dict[str, Any]]:
    """Every case: id, factory target, kwargs, configured inputs, whether it is a seeded twin."""
    import torchvision

    sys.path.insert(0, str(ROOT / "bench"))
    from graph_corpus import timm_selection

    from nnlint.config import InputSpec

    cases: List[Dict[str, Any]] = []
    for name in sorted(torchvision.models.list_models(module=torchvision.models)):
        shape = (2, 3, 299, 299) if name == "inception_v3" else (2, 3, 224, 224)
        cases.append(
            dict(
                id=f"tv:{name}", target=f"{MODULE}:torchvision_model", kwargs={"name": name}, inputs=(InputSpec(shape),)
            )
        )
    for name in torchvision.models.list_models(module=torchvision.models.video):
        cases.append(
            dict(
                id=f"tv:{name}",
                target=f"{MODULE}:torchvision_model",
                kwargs={"name": name},
                inputs=(
                    InputSpec(
                        (1, 3, 16, 224, 224) if name.startswith(("mvit", "swin3d", "s3d")) else (1, 3, 16, 112, 112)
                    ),
                ),
            )
        )
    for name in torchvision.models.list_models(module=torchvision.models.segmentation):
        cases.append(
            dict(
                id=f"tv:{name}",
                target=f"{MODULE}:torchvision_model",
                kwargs={"name": name},
                inputs=(InputSpec((2, 3, 224, 224)),),
            )
        )
    for name, shape in timm_selection(timm_count):
        cases.append(
            dict(
                id=f"timm:{name}",
                target=f"{MODULE}:timm_model",
                kwargs={"name": name},
                inputs=(InputSpec((2,) + shape[1:]),),
            )
        )
    for name in HF:
        cases.append(dict(id=f"hf:{name}", target=f"{MODULE}:hf_model", kwargs={"name": name}, inputs=hf_inputs(name)))
    for name, (inputs, twin) in OWN_MODELS.items():
        cases.append(dict(id=f"own:{name}", target=f"{OWN}:{name}", kwargs={}, inputs=inputs))
        if twin:
            cases.append(
                dict(id=f"twin:{name}", target=f"{OWN}:{name}", kwargs={"bug": True}, inputs=inputs, twin=True)
            )
    return cases  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timm", type=int, default=40, help="number of timm models")
    parser.add_argument("--only", default="", help="regular expression on case ids (tv:resnet18, hf:t5, own:VAE)")
    parser.add_argument("--modes", default="zero-config,configured")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=180.0, help="time limit per check")
    parser.add_argument("--output", default=str(ROOT / "corpus" / "graph_calibration.json"))
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()

    from nnlint import registry
    from nnlint.graph.isolated import run_targets
    from nnlint.graph.targets import GraphTarget
    from nnlint.isolation.supervise import Limits
    from nnlint.types import Pass, Severity

    cases = [c for c in selection(args.timm) if re.search(args.only, c["id"])]
    if args.list:
        for case in cases:
            print(f"{case['id']:50} {case['target']} {case['kwargs']}")
        print(
            f"{sum(1 for c in cases if not c.get('twin'))} correct models, {sum(1 for c in cases if c.get('twin'))} twins"
        )
        return 0
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    jobs = []
    for case in cases:
        for mode in modes:
            inputs = case["inputs"] if mode == "configured" else None
            jobs.append(
                (case, mode, GraphTarget(case["target"], case["kwargs"], inputs, discovered=mode == "zero-config"))
            )
    codes = sorted(code for code, rule in registry.BY_CODE.items() if Pass.GRAPH in rule.passes)
    print(f"{len(cases)} cases x {len(modes)} modes = {len(jobs)} checks, {args.workers} workers", flush=True)
    started = time.perf_counter()
    rows: List[Dict[str, Any]] = []
    for first in range(0, len(jobs), 40):
        batch = jobs[first : first + 40]
        outcomes = run_targets(
            [job[2] for job in batch], ROOT, codes, Limits(seconds=args.seconds, workers=args.workers)
        )
        for (case, mode, _target), outcome in zip(batch, outcomes):
            findings = []
            for f in outcome.findings:
                severity = f.severity
                if mode == "zero-config" and f.code.startswith("NN0"):
                    severity = Severity.INFO  # as the runner reports a discovered model nnlint could not run
                findings.append({"code": f.code, "severity": severity.value, "message": f.message})
            rows.append(
                dict(
                    id=case["id"],
                    twin=bool(case.get("twin")),
                    mode=mode,
                    method=outcome.method,
                    input=outcome.input_description,
                    seconds=round(outcome.seconds, 2),
                    findings=findings,
                )
            )
        print(f"  {len(rows)}/{len(jobs)} checked, {time.perf_counter() - started:.0f} s", flush=True)
    wall = time.perf_counter() - started

    def loud(row):
        return [f for f in row["findings"] if f["severity"] in (Severity.WARNING.value, Severity.ERROR.value)]

    print("\nfalse alarms (warning/error on a correct model):")
    for row in rows:
        if not row["twin"]:
            for f in loud(row):
                print(f"  {row['id']} [{row['mode']}] {f['code']} {f['severity']}: {f['message'][:300]}")
    print("\nskipped or not analysed (NN0xx info):")
    for row in rows:
        if not row["twin"]:
            for f in row["findings"]:
                if f["code"].startswith("NN0") and f not in loud(row):
                    print(f"  {row['id']} [{row['mode']}] {f['code']}: {f['message'][:200]}")
    print("\nseeded twins:")
    for row in rows:
        if row["twin"]:
            found = [f["code"] for f in loud(row) if not f["code"].startswith("NN0")]
            print(f"  {row['id']:32} [{row['mode']}] {'found ' + ','.join(found) if found else 'missed'}")

    print(
        f"\n{'mode':12} {'models':>6} {'false alarms':>12} {'models w/ FA':>12} {'analysed':>8} {'fx':>4} {'hooks':>5}  twins found"
    )
    for mode in modes:
        correct = [r for r in rows if r["mode"] == mode and not r["twin"]]
        twins = [r for r in rows if r["mode"] == mode and r["twin"]]
        alarms = [f for r in correct for f in loud(r)]
        analysed = [r for r in correct if r["input"]]
        found = [r for r in twins if any(not f["code"].startswith("NN0") for f in loud(r))]
        methods = Counter(r["method"] for r in analysed)
        recall = f"{len(found)}/{len(twins)} ({len(found) / len(twins):.0%})" if twins else "-"
        print(
            f"{mode:12} {len(correct):6} {len(alarms):12} {sum(1 for r in correct if loud(r)):12} {len(analysed):8} "
            f"{methods.get('fx', 0):4} {methods.get('hooks', 0):5}  {recall}"
        )
        print(f"{'':12} false alarms by code: {dict(Counter(f['code'] for f in alarms)) or '-'}")
    twins = [r for r in rows if r["twin"]]
    found = [r for r in twins if any(not f["code"].startswith("NN0") for f in loud(r))]
    if twins:
        print(f"seeded twins found, both modes: {len(found)}/{len(twins)} ({len(found) / len(twins):.0%})")
    print(f"\nwall {wall:.0f} s")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({"wall_s": round(wall), "rows": rows}, indent=1), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
