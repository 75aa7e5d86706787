"""The graph pass: build models on the meta device, trace them with torch.fx, propagate shapes, check wiring.

Only `worker.py` and what it imports touch torch; the parent process (isolation.py, targets.py,
discovery.py) stays light so `--no-graph` runs never pay for it.
"""
