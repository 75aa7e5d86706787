"""Graph pass on a full-width Llama-style decoder (~6.7B parameters) built on the meta device: time and peak RSS.

    python bench/graph_llama.py                  # Llama-2-7B shapes, int64 input [1, 128]
    python bench/graph_llama.py --kv-heads 8     # grouped-query attention (4 query heads per key/value head)
    python bench/graph_llama.py --layers 2       # a quick look

Each measurement runs in a fresh process, so the peak RSS is that of one check (torch's import included):
  in-process: `check_target` called directly, with a breakdown of where the time goes;
  isolated:   `nnlint.graph.isolated.run_targets`, the path `nnlint` itself takes (a worker process).
Goal: under 10 s and under 1.5 GB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = "bench/graph_llama.py:llama"
CONFIG_ENV = "NNLINT_LLAMA_CONFIG"  # the factory's configuration, so the worker builds the same model


# --- the model: plain PyTorch, no nnlint -------------------------------------------------------------
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402


class RMSNorm(nn.Module):
    """Root-mean-square layer norm (no mean subtraction, no bias)."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


class RotaryEmbedding(nn.Module):
    """cos/sin tables for rotary position embeddings, computed for the positions of this forward."""

    def __init__(self, head_dim: int, base: float = 10000.0) -> None:
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, x: torch.Tensor, positions: torch.Tensor):
        freqs = positions[:, :, None].float() * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary(q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor):
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)  # [B, 1, T, D]: broadcast over heads
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """[B, kv_heads, T, D] -> [B, kv_heads * n_rep, T, D] (grouped-query attention)."""
    if n_rep == 1:
        return x
    b, kv_heads, t, d = x.shape
    return x[:, :, None, :, :].expand(b, kv_heads, n_rep, t, d).reshape(b, kv_heads * n_rep, t, d)


class Attention(nn.Module):
    def __init__(self, hidden: int, heads: int, kv_heads: int) -> None:
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, hidden // heads
        self.q_proj = nn.Linear(hidden, heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(hidden, kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(hidden, kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(heads * self.head_dim, hidden, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rotary(q, k, cos, sin)
        n_rep = self.heads // self.kv_heads
        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o_proj(out.transpose(1, 2).reshape(b, t, self.heads * self.head_dim))


class MLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, hidden: int, intermediate: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(hidden, intermediate, bias=False)
        self.up_proj = nn.Linear(hidden, intermediate, bias=False)
        self.down_proj = nn.Linear(intermediate, hidden, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, hidden: int, intermediate: int, heads: int, kv_heads: int) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(hidden)
        self.self_attn = Attention(hidden, heads, kv_heads)
        self.post_attention_layernorm = RMSNorm(hidden)
        self.mlp = MLP(hidden, intermediate)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    """A Llama-2-style causal language model: token ids [B, T] -> logits [B, T, vocab]."""

    def __init__(self, vocab=32000, hidden=4096, intermediate=11008, layers=32, heads=32, kv_heads=32) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, hidden)
        self.rotary = RotaryEmbedding(hidden // heads)
        self.layers = nn.ModuleList(DecoderLayer(hidden, intermediate, heads, kv_heads) for _ in range(layers))
        self.norm = RMSNorm(hidden)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.embed_tokens(input_ids)
        positions = (
            torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0).expand(input_ids.shape[0], -1)
        )
        cos, sin = self.rotary(x, positions)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.norm(x))


def llama() -> nn.Module:
    """The factory nnlint checks; its size comes from NNLINT_LLAMA_CONFIG (default: Llama-2-7B)."""
    return Llama(**json.loads(os.environ.get(CONFIG_ENV, "{}")))


# --- measuring -----------------------------------------------------------------------------------------
def _peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kB on Linux


def child_in_process(seq: int) -> dict:
    """Runs in a fresh process: torch import, then one check_target with a breakdown."""
    started = time.perf_counter()
    from nnlint import registry
    from nnlint.config import InputSpec
    from nnlint.graph.engine import check_target, warm_up
    from nnlint.graph.targets import GraphTarget
    from nnlint.types import Pass

    warm_up()
    imported = time.perf_counter()
    rules = [rule for rule in registry.BY_CODE.values() if Pass.GRAPH in rule.passes]
    target = GraphTarget(TARGET, inputs=(InputSpec((1, seq), "int64"),))
    cpu = time.process_time()
    result = check_target(target, ROOT, rules)
    done = time.perf_counter()
    cpu = time.process_time() - cpu
    with torch.device("meta"):
        params = sum(p.numel() for p in llama().parameters())
    inferred = check_target(GraphTarget(TARGET), ROOT, rules)
    return {
        "parameters": params,
        "import_s": imported - started,
        "check_s": done - imported,
        "check_cpu_s": cpu,
        "phases": getattr(result, "timings", {}),
        "method": result.method,
        "input": result.input_description,
        "findings": [f"{f.code} {f.message}" for f in result.findings],
        "inferred_check_s": inferred.seconds,
        "inferred_input": inferred.input_description,
        "inferred_findings": [f"{f.code} {f.message}" for f in inferred.findings],
        "peak_rss_mb": _peak_rss_mb(),
    }


def isolated(seq: int) -> dict:
    """The worker path, timed from here; the peak RSS is the worker's (RUSAGE_CHILDREN)."""
    from nnlint import registry
    from nnlint.config import InputSpec
    from nnlint.graph.isolated import run_targets
    from nnlint.graph.targets import GraphTarget
    from nnlint.isolation.supervise import Limits
    from nnlint.types import Pass

    codes = [code for code, rule in registry.BY_CODE.items() if Pass.GRAPH in rule.passes]
    started = time.perf_counter()
    [outcome] = run_targets(
        [GraphTarget(TARGET, inputs=(InputSpec((1, seq), "int64"),))], ROOT, codes, Limits(seconds=300)
    )
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall_s": time.perf_counter() - started,
        "worker_cpu_s": usage.ru_utime + usage.ru_stime,
        "check_s": outcome.seconds,
        "method": outcome.method,
        "findings": [f"{f.code} {f.message}" for f in outcome.findings],
        "worker_peak_rss_mb": _peak_rss_mb(resource.RUSAGE_CHILDREN),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=4096)
    parser.add_argument("--intermediate", type=int, default=11008)
    parser.add_argument("--heads", type=int, default=32)
    parser.add_argument("--kv-heads", type=int, default=32)
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--output", default=str(ROOT / "corpus" / "graph_llama.json"))
    parser.add_argument("--child", choices=["in-process", "isolated"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure = child_in_process if args.child == "in-process" else isolated
        print(json.dumps(measure(args.seq)))
        return 0
    config = {
        "vocab": args.vocab,
        "hidden": args.hidden,
        "intermediate": args.intermediate,
        "layers": args.layers,
        "heads": args.heads,
        "kv_heads": args.kv_heads,
    }
    env = dict(os.environ, **{CONFIG_ENV: json.dumps(config)})
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    report = {"config": config, "seq": args.seq, "python": sys.executable}
    for mode in ("in-process", "isolated"):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--seq", str(args.seq)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        report[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        report[mode]["process_wall_s"] = time.perf_counter() - started
    inproc, iso = report["in-process"], report["isolated"]
    print(f"Llama-style decoder: {inproc['parameters'] / 1e9:.2f}B parameters, {config}")
    print(f"input int64[1, {args.seq}] ({inproc['input']}), method {inproc['method']}")
    print(
        f"in-process: torch import + warm-up {inproc['import_s']:.2f} s, check_target {inproc['check_s']:.2f} s "
        f"({inproc['check_cpu_s']:.2f} s CPU), peak RSS {inproc['peak_rss_mb']:.0f} MB (whole process, torch included)"
    )
    if inproc["phases"]:
        print("  phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in inproc["phases"].items()))
    print(
        f"  zero-config (inferred input {inproc['inferred_input']}): {inproc['inferred_check_s']:.2f} s, "
        f"findings {len(inproc['inferred_findings'])}"
    )
    print(
        f"isolated (nnlint's worker): {iso['wall_s']:.2f} s wall from the parent ({iso['worker_cpu_s']:.2f} s CPU; worker "
        f"start and torch import included), check {iso['check_s']:.2f} s, worker peak RSS {iso['worker_peak_rss_mb']:.0f} MB"
    )
    findings = inproc["findings"] + iso["findings"] + inproc["inferred_findings"]
    for finding in findings:
        print("  finding:", finding[:300])
    check = max(inproc["check_s"], iso["check_s"])
    peak = max(iso["worker_peak_rss_mb"], inproc["peak_rss_mb"])
    ok = check < 10 and peak < 1536 and not findings
    print(
        f"goal: shape check {check:.2f} s < 10 s, peak RSS {peak:.0f} MB < 1536 MB, no findings: {'met' if ok else 'NOT met'}"
        f" (end to end, with the worker's start: {iso['wall_s']:.2f} s)"
    )
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
