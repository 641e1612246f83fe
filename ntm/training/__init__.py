"""Training: one loop for the CLI, the live page and the benchmarks.

* :mod:`~ntm.training.config` -- :class:`TrainConfig`, every setting of a run, checked;
* :mod:`~ntm.training.loop` -- :func:`fit`, the loop, yielding steps and evaluations;
* :mod:`~ntm.training.state` -- saving a run and resuming it exactly;
* :mod:`~ntm.training.cli` -- ``python -m ntm.train``;
* :mod:`~ntm.training.live` -- runs in background threads for the Train-it-yourself page;
* :mod:`~ntm.training.manager` -- the server's slots, queue and per-client limits
  (:mod:`~ntm.training.clients`: who is asking, and the limits' values).
"""

from .config import TrainConfig
from .loop import Evaluation, Finished, Run, Step, fit, make_model, make_optimizer, make_task, start

__all__ = [
    "Evaluation",
    "Finished",
    "Run",
    "Step",
    "TrainConfig",
    "fit",
    "make_model",
    "make_optimizer",
    "make_task",
    "start",
]
