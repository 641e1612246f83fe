"""NTM Explorer's library: an exact, batched, traced Neural Turing Machine in PyTorch.

``ntm.addressing`` holds the paper's addressing equations (5-9), ``ntm.memory`` reading and
writing (2-4), ``ntm.NTM`` the full model with explicit state and traces, and
``ntm.save_model`` / ``ntm.load_model`` the checkpoint format. Nothing here imports Streamlit.
"""

from . import addressing, memory
from .baseline import LSTMBaseline, LSTMBaselineConfig
from .checkpoint import CheckpointError, load_model, save_model
from .model import NTM, HeadTrace, NTMConfig, NTMState, Trace

__all__ = [
    "NTM",
    "CheckpointError",
    "HeadTrace",
    "LSTMBaseline",
    "LSTMBaselineConfig",
    "NTMConfig",
    "NTMState",
    "Trace",
    "addressing",
    "load_model",
    "memory",
    "save_model",
]
__version__ = "0.1.0"
