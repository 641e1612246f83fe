"""An episode as files to download: every trace array as ``.npz``, the per-step parameters as JSON.
"""

from __future__ import annotations

import io
import json

import numpy as np

from .episode import Episode


def trace_npz(ep: Episode) -> bytes:
    """The episode as a compressed ``.npz`` (every trace array, batch element 0)."""
    arrays = {"inputs": ep.inputs, "targets": ep.targets, "scored": ep.scored,
              "outputs": ep.outputs, "logits": ep.trace.logits[:, 0],
              "reads": ep.trace.reads[:, 0], "memory": ep.trace.memory[:, 0],
              "initial_memory": ep.trace.initial_memory[0]}
    for kind, head in (("read", ep.trace.read), ("write", ep.trace.write)):
        for name, value in vars(head).items():
            if value is not None:
                arrays[f"{kind}_{name}"] = value[:, 0]
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def trace_json(ep: Episode) -> str:
    """The episode as JSON: per step, each head's parameters and final weighting."""
    steps = []
    for t in range(ep.steps):
        step = {"t": t, "phase": ep.phase(t), "input": ep.inputs[t].tolist(),
                "target": ep.targets[t].tolist() if ep.scored[t] else None,
                "output": np.round(ep.outputs[t], 5).tolist()}
        for kind, head in (("read", ep.trace.read), ("write", ep.trace.write)):
            step[kind] = [
                {name: np.round(getattr(head, name)[t, 0, h], 5).tolist()
                 for name in ("key", "beta", "gate", "shift", "gamma", "weights", "erase", "add")
                 if getattr(head, name) is not None}
                for h in range(head.weights.shape[2])
            ]
        steps.append(step)
    return json.dumps({"task": ep.task.name, "info": ep.info, "bit_errors": ep.bit_errors,
                       "steps": steps})
