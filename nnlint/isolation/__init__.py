"""Running user code in worker processes: a time limit per target, a memory cap, crashes become NN013 findings.

`supervise.py` (parent side) spawns and watches workers, `protocol.py` is the JSON written between them and
`worker.py` is the one worker loop. What a worker does for one target is a `WorkerKind` that each pass
registers in its own package (graph/isolated.py, probe/isolated.py). Nothing here imports torch.
"""
