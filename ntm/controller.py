"""NTM controllers: an LSTM (the paper's best performer) and a feed-forward network.

A controller maps its input (the external input concatenated with the previous read vectors)
to an output vector of ``hidden_size``. Its state is a tuple of tensors that is passed in and
returned, never stored on the module: ``(h, c)`` of shape ``(layers, B, hidden)`` for the LSTM,
``()`` for the feed-forward controller.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

ControllerState = tuple[Tensor, ...]


class LSTMController(nn.Module):
    """A stack of ``nn.LSTMCell`` with learned initial hidden and cell states."""

    def __init__(self, input_size: int, hidden_size: int, layers: int = 1) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.cells = nn.ModuleList(
            nn.LSTMCell(input_size if i == 0 else hidden_size, hidden_size) for i in range(layers)
        )
        self.h0 = nn.Parameter(torch.zeros(layers, 1, hidden_size))
        self.c0 = nn.Parameter(torch.zeros(layers, 1, hidden_size))

    def initial_state(self, batch: int) -> ControllerState:
        shape = (len(self.cells), batch, self.hidden_size)
        return self.h0.expand(shape), self.c0.expand(shape)

    def forward(self, x: Tensor, state: ControllerState) -> tuple[Tensor, ControllerState]:
        x, layers = self.step_layers(x, self.split_state(state))
        return x, self.join_state(layers)

    def split_state(self, state: ControllerState) -> list[tuple[Tensor, Tensor]]:
        """``(h, c)`` stacked over layers -> one ``(h, c)`` per layer."""
        return list(zip(state[0], state[1], strict=True))

    def join_state(self, layers: list[tuple[Tensor, Tensor]]) -> ControllerState:
        """The inverse of :meth:`split_state`."""
        hs, cs = zip(*layers, strict=True)
        return torch.stack(hs), torch.stack(cs)

    def step_layers(self, x: Tensor, layers: list[tuple[Tensor, Tensor]]
                    ) -> tuple[Tensor, list[tuple[Tensor, Tensor]]]:
        """One step on the per-layer state (:meth:`split_state`): no stacking per step, for
        loops over time that split once and join at the end (``NTM.run``)."""
        new = []
        for cell, state in zip(self.cells, layers, strict=True):
            x, c = cell(x, state)
            new.append((x, c))
        return x, new


class FeedforwardController(nn.Module):
    """``layers`` fully connected tanh layers. Stateless: all memory lives in the NTM memory."""

    def __init__(self, input_size: int, hidden_size: int, layers: int = 1) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.layers = nn.ModuleList(
            nn.Linear(input_size if i == 0 else hidden_size, hidden_size) for i in range(layers)
        )

    def initial_state(self, batch: int) -> ControllerState:
        return ()

    def forward(self, x: Tensor, state: ControllerState) -> tuple[Tensor, ControllerState]:
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x, ()

    def split_state(self, state: ControllerState) -> list:
        return []

    def join_state(self, layers: list) -> ControllerState:
        return ()

    def step_layers(self, x: Tensor, layers: list) -> tuple[Tensor, list]:
        return self(x, ())[0], []


CONTROLLERS = {"lstm": LSTMController, "feedforward": FeedforwardController}
