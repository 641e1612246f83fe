"""What the trace player receives: one recorded episode, packed once, as binary.

The Model Stepper sends an :class:`~ntm.stepper.episode.Episode` to the browser once; from then
on the browser (``ntm/app/components/trace_player.js``) moves the cursor and redraws by itself.
:func:`episode_payload` builds that message:

* the **figures** as Plotly JSON, built once by the usual builders of :mod:`ntm.figures` at the
  opening step (so they keep their colour scales, hover texts and outlines), each tagged with
  the arrays the player restyles it from at every other step;
* the **arrays** of the trace, batch element 0, as float32 (ints and 0/1 flags as int16 and
  uint8), every ``N``-long array cut to the rows the heads use plus a margin
  (:meth:`Episode.head_rows`);
* the words: the narration, each step's phase, the model's summary.

Memory is not sent step by step: the browser rebuilds the window's rows from ``M_0``, the write
weightings and the erase and add vectors with eqs. 3--4 (as :func:`ntm.memory.write`: every
head erases, then every head adds), in float64. That is what keeps an L = 120 copy episode near
1 MB (a float32 ``T x N x M`` memory alone would be 2.5 MB); the browser test holds the rebuilt
rows to the trace's. ``previous[t]`` is ``weights[t - 1]``, so only ``previous[0]`` is sent.

Wire format (:func:`pack` / :func:`unpack`), little-endian::

    b"NTMTRACE" | 16-byte episode id | uint32 header length | header (UTF-8 JSON)
    | zero padding to a multiple of 8 | array bytes, each starting at a multiple of 8

The header's ``arrays`` maps each name to ``{"dtype", "shape", "offset"}`` (offset from the start
of the array section). Figures refer to arrays as ``{"$array": name}``; the player swaps in typed
arrays (2-D ones as rows of views). No Streamlit here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..figures import episode as episode_figures
from ..figures.addressing import kernel_bar
from ..figures.style import ARGMAX_COLOR, offset_labels
from .episode import Episode
from .narration import describe_episode
from .playback import DEFAULT_SPEED, SPEEDS

MAGIC = b"NTMTRACE"
FORMAT = "ntm-trace-player/1"
DTYPES = {"float32": np.float32, "int16": np.int16, "uint8": np.uint8, "int32": np.int32}
#: The bar colours of :func:`ntm.figures.episode.vector_bars` for signed vectors (a test keeps
#: the two in step): the player recolours the bars at every step.
POSITIVE_COLOR, NEGATIVE_COLOR = "#5aae61", "#9970ab"
ERASE_COLOR = "#9970ab"
#: Stage order of the stage panels (columns), as :data:`ntm.figures.episode.STAGE_NAMES`.
STAGES = ("previous", "content", "gated", "shifted", "weights")


class _Arrays:
    """Named arrays for the payload, converted once to their wire dtype."""

    def __init__(self) -> None:
        self.items: dict[str, np.ndarray] = {}

    def add(self, name: str, value: Any, dtype: str = "float32") -> dict[str, str]:
        if name in self.items:
            raise ValueError(f"array {name!r} added twice")
        self.items[name] = np.ascontiguousarray(np.asarray(value), dtype=DTYPES[dtype])
        return {"$array": name}


def pack(header: dict[str, Any], arrays: dict[str, np.ndarray], episode_id: bytes) -> bytes:
    """The wire format above: ``header`` gains ``arrays`` (name -> dtype, shape, offset)."""
    if len(episode_id) != 16:
        raise ValueError("the episode id is 16 bytes")
    table, blobs, offset = {}, [], 0
    for name, value in arrays.items():
        dtype = next(k for k, v in DTYPES.items() if value.dtype == v)
        data = value.astype(value.dtype.newbyteorder("<"), copy=False).tobytes()
        table[name] = {"dtype": dtype, "shape": list(value.shape), "offset": offset}
        pad = (-len(data)) % 8
        blobs += [data, b"\0" * pad]
        offset += len(data) + pad
    text = json.dumps({**header, "arrays": table}, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")
    head = MAGIC + episode_id + struct.pack("<I", len(text)) + text
    return head + b"\0" * ((-len(head)) % 8) + b"".join(blobs)


def unpack(payload: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the arrays of a payload (the inverse of :func:`pack`)."""
    if payload[:8] != MAGIC:
        raise ValueError("not a trace player payload")
    (length,) = struct.unpack_from("<I", payload, 24)
    header = json.loads(payload[28:28 + length].decode("utf-8"))
    start = 28 + length + (-(28 + length)) % 8
    arrays = {}
    for name, spec in header["arrays"].items():
        dtype = np.dtype(DTYPES[spec["dtype"]]).newbyteorder("<")
        count = int(np.prod(spec["shape"], dtype=np.int64))
        arrays[name] = np.frombuffer(payload, dtype, count, start + spec["offset"]).reshape(
            spec["shape"])
    header["id"] = payload[8:24].hex()
    return header, arrays


def _wire_figure(fig: Any, arrays: _Arrays, prefix: str) -> dict[str, Any]:
    """A figure's Plotly JSON with every numeric array moved into ``arrays`` (float32) and
    Plotly's own template left out (the player brings a small one that looks like Streamlit's)."""
    spec = fig.to_plotly_json()
    spec["layout"].pop("template", None)
    count = iter(range(10**6))

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "bdata" in node and "dtype" in node:  # a numpy array, as plotly >= 6 writes it
                raw = np.frombuffer(base64.b64decode(node["bdata"]), np.dtype(node["dtype"]))
                shape = node.get("shape")
                if shape is not None:
                    dims = [int(s) for s in str(shape).split(",")]
                    raw = raw.reshape(dims)
                return walk(raw)
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [walk(v) for v in node]
        if isinstance(node, np.ndarray):
            if node.dtype.kind in "fiub" and node.ndim in (1, 2):
                return arrays.add(f"{prefix}.{next(count)}", node.astype(np.float32))
            return walk(node.tolist())
        if isinstance(node, np.generic):
            return node.item()
        return node

    return walk(spec)


def _window_index(rows: list[int], n: int) -> np.ndarray:
    """``index[r]``: where memory row ``r`` sits in the window ``rows`` (-1: not shown)."""
    index = np.full(n, -1, dtype=np.int16)
    index[rows] = np.arange(len(rows), dtype=np.int16)
    return index


def episode_id(ep: Episode, rows: Iterable[int], look: str = "") -> bytes:
    """16 bytes that name this episode's data and ``look`` (e.g. the colour scale): the player
    keeps its cursor while the id stays, and redraws when it changes."""
    h = hashlib.blake2b(look.encode(), digest_size=16)
    tr = ep.trace
    for a in (ep.inputs, tr.logits, tr.write.weights, tr.read.weights, tr.initial_memory,
              np.asarray(list(rows))):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.digest()


def episode_payload(ep: Episode, start: int = 0, *, title: str = "",
                    colorscale: list | None = None) -> bytes:
    """Everything the trace player shows of ``ep``, opening at step ``start``.

    ``title`` names the model (shown in the player's text alternative); ``colorscale`` draws
    the weightings (default: the weighting scale). See the module docstring for the format and
    what is (and is not) sent.
    """
    tr = ep.trace
    steps, last = ep.steps, ep.steps - 1
    t0 = max(0, min(last, int(start)))
    rows, grid_rows = ep.head_rows(), ep.grid_rows()
    n, m = tr.memory.shape[2], tr.memory.shape[3]
    where = _window_index(rows, n)
    arrays = _Arrays()

    heads: dict[str, int] = {}
    for kind in ("write", "read"):
        head = getattr(tr, kind)
        count = head.weights.shape[2]
        for name in ("content", "gated", "shifted", "weights"):
            arrays.add(f"{kind}.{name}", getattr(head, name)[:, 0][..., rows])  # (T, H, R)
        arrays.add(f"{kind}.previous0", head.previous[0, 0][..., rows])  # (H, R)
        full = np.stack([getattr(head, s)[:, 0] for s in STAGES], axis=2)  # (T, H, 5, N)
        arrays.add(f"{kind}.argmax", where[full.argmax(axis=-1)], "int16")  # (T, H, 5)
        for name in ("key", "beta", "gate", "gamma", "shift", "erase", "add"):
            value = getattr(head, name)
            if value is not None:
                arrays.add(f"{kind}.{name}", value[:, 0])
        heads[kind] = count
    written = tr.write.weights[:, 0, 0].argmax(axis=-1)
    arrays.add("written", written, "int16")
    arrays.add("writtenIndex", where[written], "int16")
    arrays.add("reads", tr.reads[:, 0])
    arrays.add("memory0", tr.initial_memory[0][rows])
    arrays.add("inputs", ep.inputs)
    arrays.add("targets", ep.targets)
    arrays.add("outputs", ep.outputs)
    arrays.add("predicted", ep.predicted, "uint8")
    arrays.add("wrong", ep.wrong, "uint8")
    arrays.add("scored", ep.scored, "uint8")

    figures = _figures(ep, t0, rows, grid_rows, arrays, colorscale)
    n_rows = len(rows)
    zoom = f"rows {rows[0]}…{rows[-1]} of 0…{n - 1}" if n_rows < n else f"all {n} rows"
    header = {
        "format": FORMAT,
        "title": title,
        "task": ep.task.name,
        "steps": steps,
        "start": t0,
        "rows": [int(r) for r in rows],
        "gridRows": [int(r) for r in grid_rows],
        "memoryRows": int(n),
        "memoryWidth": int(m),
        "zoom": zoom,
        "heads": heads,
        "offsets": offset_labels(tr.write.shift.shape[-1] // 2),
        "scoredSteps": [int(s) for s in np.flatnonzero(ep.scored)],
        "phases": [ep.phase(t) for t in range(steps)],
        "narration": [[sentence, None if step is None else int(step)]
                      for sentence, step in describe_episode(ep)],
        "summary": f"{ep.bit_errors} bit errors on the whole sequence, cost "
                   f"{ep.cost_bits:.2f} bits.",
        "speeds": list(SPEEDS),
        "defaultSpeed": DEFAULT_SPEED,
        "colors": {"argmax": ARGMAX_COLOR, "positive": POSITIVE_COLOR,
                   "negative": NEGATIVE_COLOR},
        "figures": figures,
    }
    return pack(header, arrays.items, episode_id(ep, rows, json.dumps(colorscale)))


def _at(head: Any, t: int, h: int) -> Callable[[str], np.ndarray]:
    """``at(name)``: head ``h``'s array ``name`` at step ``t`` (batch element 0)."""
    return lambda name: getattr(head, name)[t, 0, h]


def _figures(ep: Episode, t: int, rows: list[int], grid_rows: list[int],
             arrays: _Arrays, colorscale: list | None = None) -> list[dict[str, Any]]:
    """Every figure at step ``t`` and how the player updates it (``kind`` and its arrays)."""
    tr = ep.trace
    figures: list[dict[str, Any]] = []

    def add(fid: str, kind: str, fig: Any, label: str, **bind: Any) -> None:
        figures.append({"id": fid, "kind": kind, "label": label,
                        "figure": _wire_figure(fig, arrays, f"fig.{fid}"), **bind})

    add("grid", "grid", episode_figures.episode_grid(
        ep.inputs, ep.outputs, tr.write.add[:, 0, 0], tr.reads[:, 0, 0], tr.write.weights[:, 0, 0],
        tr.read.weights[:, 0, 0], cursor=t, rows=grid_rows, colorscale=colorscale),
        "The whole episode (the paper's Figure 6)")
    panels = [(kind, h) for kind, head in (("write", tr.write), ("read", tr.read))
              for h in range(head.weights.shape[2])]
    add("stages", "stages", episode_figures.stage_panels(
        [[_at(getattr(tr, kind), t, h)(name) for name in STAGES] for kind, h in panels],
        rows=rows, colorscale=colorscale), "Every head's four addressing stages",
        panels=[{"head": kind, "index": h, "trace": k, "xref": "x" if k == 0 else f"x{k + 1}",
                 "yref": "y" if k == 0 else f"y{k + 1}"} for k, (kind, h) in enumerate(panels)])
    for kind, head in (("write", tr.write), ("read", tr.read)):
        for h in range(head.weights.shape[2]):
            at = _at(head, t, h)
            add(f"{kind}{h}.key", "bars", episode_figures.vector_bars(
                at("key"), title="key k (tanh)"), f"{kind} head {h} key",
                array=f"{kind}.key", index=h, signed=True)
            add(f"{kind}{h}.shift", "kernel", kernel_bar(at("shift"), title="shift s (softmax)"),
                f"{kind} head {h} shift kernel", array=f"{kind}.shift", index=h)
            if head.erase is not None:
                add(f"{kind}{h}.erase", "bars", episode_figures.vector_bars(
                    at("erase"), title="erase e (sigmoid)", value_range=(0, 1),
                    color=ERASE_COLOR), f"{kind} head {h} erase vector",
                    array=f"{kind}.erase", index=h, signed=False)
                add(f"{kind}{h}.add", "bars", episode_figures.vector_bars(
                    at("add"), title="add a (tanh)"), f"{kind} head {h} add vector",
                    array=f"{kind}.add", index=h, signed=True)
    written = int(tr.write.weights[t, 0, 0].argmax())
    add("memory", "memory", episode_figures.memory_change(
        tr.memory_before(t)[0], tr.memory[t, 0], mark_rows=[written], rows=rows),
        "Memory after the write and the change it made")
    for h in range(tr.reads.shape[2]):
        add(f"read{h}.vector", "bars", episode_figures.vector_bars(
            tr.reads[t, 0, h], title=f"read vector r (head {h})"), f"read vector of head {h}",
            array="reads", index=h, signed=True)
    scored = np.flatnonzero(ep.scored)
    if scored.size:
        # Built with the cursor on a scored step, so the figure has its cursor lines; the
        # player moves them (and hides them on steps that are not scored).
        add("targets", "targets", episode_figures.target_output(
            ep.targets, ep.outputs, ep.wrong, steps=scored,
            cursor=t if ep.scored[t] else int(scored[0]),
            title="Target and output on the scored steps"),
            "Target and output on the scored steps")
    for spec in figures:
        shapes = spec["figure"]["layout"].get("shapes", [])
        spec["cursorShapes"] = [i for i, s in enumerate(shapes)
                                if s.get("type") == "line" and s.get("line", {}).get("dash") == "dot"]
    return figures
