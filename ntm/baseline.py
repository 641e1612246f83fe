"""The paper's LSTM baseline: a plain (stacked) LSTM with no external memory.

Used to show why memory matters: it fits the training lengths but does not generalise to longer
sequences (Graves et al. 2014, Figures 3-5).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from torch import Tensor, nn

from . import limits


@dataclass(frozen=True)
class LSTMBaselineConfig:
    input_size: int = 9
    output_size: int = 8
    hidden_size: int = 256
    layers: int = 3

    def __post_init__(self) -> None:
        """Refuse anything but integers within :mod:`ntm.limits` (configs come from uploads)."""
        bounds = {"input_size": limits.MAX_IO_SIZE, "output_size": limits.MAX_IO_SIZE,
                  "hidden_size": limits.MAX_LSTM_HIDDEN, "layers": limits.MAX_LSTM_LAYERS}
        for name, high in bounds.items():
            limits.check_int(name, getattr(self, name), 1, high)

    @classmethod
    def from_dict(cls, data: dict) -> LSTMBaselineConfig:
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown LSTM baseline config keys: {', '.join(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)


class LSTMBaseline(nn.Module):
    """``model(x)``: ``(T, B, C_in)`` -> logits ``(T, B, C_out)``, like :class:`ntm.NTM`."""

    model_type = "lstm"

    def __init__(self, config: LSTMBaselineConfig | None = None, **overrides) -> None:
        super().__init__()
        config = config or LSTMBaselineConfig()
        if overrides:
            config = LSTMBaselineConfig.from_dict({**config.to_dict(), **overrides})
        self.config = config
        self.metadata: dict = {}
        self.lstm = nn.LSTM(config.input_size, config.hidden_size, config.layers)
        self.output = nn.Linear(config.hidden_size, config.output_size)

    @property
    def task(self) -> str | None:
        return self.metadata.get("task")

    def forward(self, x: Tensor) -> Tensor:
        hidden, _ = self.lstm(x)
        return self.output(hidden)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["LSTMBaseline", "LSTMBaselineConfig", "parameter_count"]
