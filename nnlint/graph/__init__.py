"""The graph pass: build models on the meta device, trace them with torch.fx, propagate shapes, check wiring.

Only `engine.py` and what it imports touch torch, inside a worker (nnlint/isolation/); the parent process
(isolated.py, result.py, targets.py, discovery.py) stays light so `--no-graph` runs never pay for it.
"""
