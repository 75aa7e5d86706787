"""Correct training code in the style of the official examples (bench/precision_snippets) stays silent.

Each file under minimal/ reproduces one false positive that a precision run found; none may come back.
The only findings allowed are the ones read and judged true by their rules' definitions.
"""

from __future__ import annotations

from pathlib import Path

from nnlint.config import Config
from nnlint.runner import GraphOptions, run

SNIPPETS = Path(__file__).resolve().parent.parent / "bench" / "precision_snippets"
# Judged true positives: `.log()` of softmax without eps (the official distillation tutorial), and
# Linear layers with a bias feeding BatchNorm.
ACCEPTED = {"NN308", "NN402"}


def test_correct_training_code_raises_no_false_positives():
    findings = run([SNIPPETS], Config(), SNIPPETS, graph=GraphOptions(enabled=False)).findings
    unexpected = [f"{f.location.path}:{f.location.line} {f.code}" for f in findings if f.code not in ACCEPTED]
    assert unexpected == []
