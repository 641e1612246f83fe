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
        h_prev, c_prev = state
        hs, cs = [], []
        for layer, cell in enumerate(self.cells):
            h, c = cell(x, (h_prev[layer], c_prev[layer]))
            hs.append(h)
            cs.append(c)
            x = h
        return x, (torch.stack(hs), torch.stack(cs))


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


CONTROLLERS = {"lstm": LSTMController, "feedforward": FeedforwardController}
