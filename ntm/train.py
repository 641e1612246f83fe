"""``python -m ntm.train``: train an NTM (or the LSTM baseline) on a task.

The command line is :mod:`ntm.training.cli`, the loop :func:`ntm.training.loop.fit` and the
settings :class:`ntm.training.config.TrainConfig`; this module keeps the short name.
"""

import sys

from .training.cli import main

if __name__ == "__main__":
    sys.exit(main())
