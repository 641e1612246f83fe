"""The playground's inputs, built from its settings: the memory (a preset plus edited cells),
the key, the shift kernel, the previous weighting and the add vector.

Every random draw is seeded by the memory seed, so a link rebuilds the same memory and key.
"""

from __future__ import annotations

import math

import torch

from .settings import Settings, kernel_param, key_param

#: Rows 4 and 5 of the "near" preset are row 3 plus noise of this scale.
NEAR_ROWS = (3, 4, 5)
NEAR_NOISE = 0.15

#: The drinks preset: rows are drinks, columns are taste features (raw scores 0..1).
DRINK_FEATURES = ("roasted", "leafy", "creamy", "sweet", "fruity", "fizzy")
DRINKS = (
    ("water", (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)),
    ("tea", (0.2, 1.0, 0.0, 0.2, 0.0, 0.0)),
    ("milk", (0.0, 0.0, 1.0, 0.3, 0.0, 0.0)),
    ("coffee", (1.0, 0.0, 0.1, 0.1, 0.0, 0.0)),
    ("orange juice", (0.0, 0.0, 0.0, 0.7, 1.0, 0.0)),
    ("cola", (0.2, 0.0, 0.0, 1.0, 0.0, 1.0)),
    ("lemonade", (0.0, 0.0, 0.0, 0.7, 0.8, 0.5)),
    ("smoothie", (0.0, 0.0, 0.6, 0.6, 1.0, 0.0)),
    ("sparkling water", (0.0, 0.0, 0.0, 0.0, 0.0, 1.0)),
    ("espresso", (1.0, 0.0, 0.0, 0.0, 0.0, 0.0)),
    ("apple juice", (0.0, 0.0, 0.0, 0.8, 0.9, 0.0)),
    ("energy drink", (0.2, 0.0, 0.0, 1.0, 0.2, 0.8)),
    ("tomato juice", (0.0, 0.2, 0.1, 0.1, 0.6, 0.0)),
    ("kombucha", (0.0, 0.6, 0.0, 0.3, 0.4, 0.6)),
    ("ginger ale", (0.0, 0.2, 0.0, 0.7, 0.1, 0.9)),
    ("herbal tea", (0.0, 0.9, 0.0, 0.0, 0.4, 0.0)),
)
TEA_ROW, MILK_ROW = 1, 2


def _generator(seed: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed) * 1009 + stream)


def preset_memory(preset: str, rows: int, width: int, seed: int) -> torch.Tensor:
    """A memory preset ``(N, M)`` before cell edits.

    * ``random``: uniform in ``[-1, 1]``, seeded;
    * ``onehot``: row ``i`` is the unit vector ``e_{i mod M}`` (rows repeat every M rows, so
      content alone cannot tell them apart);
    * ``near``: random, but rows 4 and 5 are row 3 plus a little noise;
    * ``gradient``: row ``i`` is ``cos(2 pi i / N - 2 pi c / M)`` over columns ``c``, so the
      cosine similarity of two rows falls smoothly with their (circular) distance;
    * ``boba``: rows are drinks and columns taste features (``DRINKS``, scores 0..1, unused
      features 0); rows past the named drinks are random.
    """
    g = _generator(seed, 0)
    if preset == "onehot":
        mem = torch.zeros(rows, width)
        mem[torch.arange(rows), torch.arange(rows) % width] = 1.0
        return mem
    if preset == "gradient":
        phase = 2 * math.pi * torch.arange(rows).unsqueeze(1) / rows
        col = 2 * math.pi * torch.arange(width).unsqueeze(0) / width
        return torch.cos(phase - col)
    mem = torch.rand(rows, width, generator=g) * 2 - 1
    if preset == "near":
        base = NEAR_ROWS[0]
        for r in NEAR_ROWS[1:]:
            if r < rows:
                mem[r] = mem[base] + NEAR_NOISE * torch.randn(width, generator=g)
    elif preset == "boba":
        table = torch.tensor([v for _, v in DRINKS])  # (16, 6), scores in [0, 1]
        n, m = min(rows, table.shape[0]), min(width, table.shape[1])
        mem[:n] = 0.0
        mem[:n, :m] = table[:n, :m]
    return mem


def row_labels(settings: Settings) -> list[str] | None:
    """Names of the rows (the drinks preset only)."""
    if settings["mem"] != "boba":
        return None
    names = [name for name, _ in DRINKS]
    return [names[i] if i < len(names) else "" for i in range(settings.rows)]


def column_labels(settings: Settings) -> list[str]:
    """Column names: taste features for the drinks preset, else ``0 .. M-1``."""
    if settings["mem"] == "boba":
        return [
            DRINK_FEATURES[c] if c < len(DRINK_FEATURES) else str(c) for c in range(settings.width)
        ]
    return [str(c) for c in range(settings.width)]


def build_memory(settings: Settings) -> torch.Tensor:
    """The preset with the edited cells applied, ``(N, M)``."""
    mem = preset_memory(settings["mem"], settings.rows, settings.width, settings["seed"])
    for (r, c), v in settings.cells:
        mem[r, c] = v
    return mem


def build_key(settings: Settings, mem: torch.Tensor) -> torch.Tensor:
    """The key ``k`` ``(M,)``: a noisy copy of row i, a blend of rows i and j, or typed in.

    ``row``: ``k = M(i) + sigma * eps``; ``blend``: ``k = (1 - lambda) M(i) + lambda M(j) +
    sigma * eps`` with ``eps ~ N(0, 1)`` seeded by the memory seed.
    """
    mode = settings["kmode"]
    if mode == "custom":
        return torch.tensor([float(settings[key_param(c)]) for c in range(settings.width)])
    key = mem[settings["krow"]].clone()
    if mode == "blend":
        lam = float(settings["kmix"])
        key = (1 - lam) * key + lam * mem[settings["krow2"]]
    noise = torch.randn(settings.width, generator=_generator(settings["seed"], 1))
    return key + float(settings["noise"]) * noise


def raw_kernel(settings: Settings) -> list[float]:
    """The slider weights for offsets ``-R .. +R`` before normalising."""
    r = settings.radius
    return [float(settings[kernel_param(d)]) for d in range(-r, r + 1)]


def build_kernel(settings: Settings) -> torch.Tensor:
    """The shift kernel ``s`` ``(2R + 1,)``: the slider weights divided by their sum.

    All zero falls back to the identity kernel (all weight on offset 0).
    """
    raw = torch.tensor(raw_kernel(settings))
    total = float(raw.sum())
    if total <= 0:
        raw = torch.zeros_like(raw)
        raw[settings.radius] = 1.0
        total = 1.0
    return raw / total


def start_weighting(settings: Settings) -> torch.Tensor:
    """The focus before any step: one-hot at row j, or uniform."""
    n = settings.rows
    if settings["prev"] == "uniform":
        return torch.full((n,), 1.0 / n)
    w = torch.zeros(n)
    w[settings["prow"]] = 1.0
    return w


def build_vector(preset: str, key: torch.Tensor) -> torch.Tensor:
    """The add vector ``a`` ``(M,)`` for a preset of :data:`ADD_PRESETS`."""
    m = key.shape[0]
    if preset == "key":
        return key.clone()
    if preset == "ones":
        return torch.ones(m)
    if preset == "alternate":
        return torch.tensor([1.0 if c % 2 == 0 else -1.0 for c in range(m)])
    return torch.zeros(m)


def key_rows(settings: Settings) -> tuple[int, ...]:
    """The memory rows the key is made from (none when its components are typed in)."""
    mode = settings["kmode"]
    if mode == "row":
        return (int(settings["krow"]),)
    if mode == "blend":
        return int(settings["krow"]), int(settings["krow2"])
    return ()
