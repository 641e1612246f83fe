"""The fused memory step's loops in C (``ntm/csrc/memory_step.*``), built at first use.

:class:`ntm.fused.MemoryStep` runs eqs. 2-9 and their backward pass with tensor operations;
on a CPU at these sizes most of that time goes to dispatching some hundred small operations
and to passing over the ``(B, N, M)`` memory a dozen times. The C version does the same
arithmetic in a few loops per sequence. It is built once per machine with the system's C
compiler (``$CC`` or ``cc``; about a second) into ``~/.cache/ntm-explorer/`` (or
``$NTM_NATIVE_CACHE``) and loaded with :mod:`ctypes`, so it needs no Python headers and no
build step at install.

Where there is no compiler, or ``NTM_NATIVE=0``, :func:`library` returns ``None`` (saying why
once, in a warning) and the fused step keeps to its tensor operations: same numbers to
float rounding, slower. ``tests/test_fused.py`` checks both against the reference.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor

from .addressing import EPS, LOG_FLOOR

SOURCES = [Path(__file__).parent / "csrc" / name
           for name in ("memory_step.c", "memory_step.h", "lstm_cell.h")]
FLAGS = ["-O3", "-fopenmp-simd", "-fno-math-errno", "-std=c99", "-shared", "-fPIC"]
SUFFIX = {torch.float32: "f32", torch.float64: "f64"}
#: False makes :func:`supports` answer no: the tensor-operation step (tests, benchmarks).
enabled = True

_INPUTS = ["raw", "memory", "previous"]
_OUTPUTS = ["reads", "new_memory", "w"]
_KEPT = ["acts", "content", "gated", "cosine", "log_w", "slope", "norm_m", "norm_k"]
_GRADS_IN = ["d_reads", "d_new", "d_w"]
_GRADS_OUT = [f"d_{name}" for name in _INPUTS]


class Step(ctypes.Structure):
    """``struct step`` of memory_step.h: sizes, then a pointer per array."""

    _fields_ = ([(name, ctypes.c_int64) for name in ("B", "N", "M", "H", "Hr", "S", "P")]
                + [("eps", ctypes.c_double), ("log_floor", ctypes.c_double)]
                + [(name, ctypes.c_void_p)
                   for name in _INPUTS + _OUTPUTS + _KEPT + _GRADS_IN + _GRADS_OUT])


def _cache_dir() -> Path:
    if os.environ.get("NTM_NATIVE_CACHE"):
        return Path(os.environ["NTM_NATIVE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ntm-explorer"


def cpu_flags(cpuinfo: str | None = None) -> list[str]:
    """``-mavx2`` where this CPU has AVX2 (Linux's /proc/cpuinfo; none where it cannot be read):
    the loops then take four doubles or eight floats at a time. The whole C step, forward and
    backward, took 0.80x the time at copy's sizes (B = 32). Where it also has FMA,
    ``-mfma -ffp-contract=fast`` lets the compiler fuse ``a * b + c`` (one rounding instead of
    two): the forward took 0.88x the time (the series in the vector exp and log are chains of
    them); the float64 tests still hold it to 1e-12. Not ``-march=native``: with AVX-512 it
    was 1.1x slower on the machine this was measured on. The flags are part of the built
    file's name, so a cache shared by different CPUs keeps one build per kind."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return []
    words = next((line.split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    if "avx2" not in words:
        return []
    return ["-mavx2", "-mfma", "-ffp-contract=fast"] if "fma" in words else ["-mavx2"]


def _build(compiler: str, target: Path, flags: list[str]) -> None:
    """Compile to a temporary name, then rename: two processes building at once both succeed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        subprocess.run([compiler, *flags, "-o", tmp, str(SOURCES[0]), "-lm"], check=True,
                       capture_output=True, text=True, timeout=120)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


@functools.cache
def library() -> ctypes.CDLL | None:
    """The compiled step, building it if needed; ``None`` (with one warning) if it cannot be."""
    if os.environ.get("NTM_NATIVE", "1") == "0":
        return None
    compiler = shutil.which(os.environ.get("CC", "cc"))
    flags = FLAGS + cpu_flags()
    digest = hashlib.sha256(b" ".join([*(p.read_bytes() for p in SOURCES),
                                       " ".join(flags).encode()])).hexdigest()[:16]
    target = _cache_dir() / f"memory_step-{digest}.so"
    try:
        try:
            lib = ctypes.CDLL(str(target))
        except OSError:  # not built yet, or a damaged file: (re)build it
            if compiler is None:
                raise OSError("no C compiler (cc, or $CC) on the PATH") from None
            _build(compiler, target, flags)
            lib = ctypes.CDLL(str(target))
    except (OSError, subprocess.SubprocessError) as exc:
        detail = str(getattr(exc, "stderr", None) or exc).strip()[-300:]
        warnings.warn(f"NTM: the C memory step is unavailable ({detail}); the fused step uses "
                      "tensor operations instead (same results, slower)", stacklevel=2)
        return None
    for suffix in SUFFIX.values():
        for name in ("ntm_forward", "ntm_backward"):
            fn = getattr(lib, f"{name}_{suffix}")
            fn.argtypes, fn.restype = [ctypes.POINTER(Step)], ctypes.c_int
        for name, arrays, sizes in (("lstm_forward", 6, 1), ("lstm_backward", 7, 0)):
            fn = getattr(lib, f"{name}_{suffix}")
            fn.argtypes = ([ctypes.c_int64] * 2 + [ctypes.c_void_p] * arrays
                           + [ctypes.c_int64] * sizes)
            fn.restype = ctypes.c_int
    return lib


def supports(raw: Tensor, memory: Tensor, previous: Tensor, shift_width: int) -> bool:
    """Whether the C step can run these inputs: enabled, on the CPU, all float32 or all
    float64, a shift kernel no wider than the memory (eq. 8), the library built."""
    return (enabled and memory.device.type == "cpu" and memory.dtype in SUFFIX
            and raw.dtype == previous.dtype == memory.dtype
            and raw.device == previous.device == memory.device
            and shift_width <= memory.shape[1] and library() is not None)


def _call(name: str, step: Step, dtype: torch.dtype) -> None:
    if getattr(library(), f"{name}_{SUFFIX[dtype]}")(ctypes.byref(step)) != 0:
        raise MemoryError("NTM: the C memory step could not allocate its scratch space")


def _pointers(step: Step, tensors: dict[str, Tensor]) -> None:
    for name, tensor in tensors.items():
        setattr(step, name, tensor.data_ptr())


class Kept(NamedTuple):
    """What :func:`backward` needs from :func:`forward`: the filled-in ``struct step`` and the
    tensors its pointers refer to, held here so that they stay alive -- all but the output
    ``w``, which the caller must keep with ``ctx.save_for_backward``: an output held on the
    autograd node would be a reference cycle (output -> grad_fn -> ctx -> output), freed only
    by Python's garbage collector, so every batch's memory would pile up until then."""

    step: Step
    inputs: tuple[Tensor, Tensor, Tensor]  #: raw, memory, previous
    buffer: Tensor  #: the _KEPT arrays, one after another


def _kept_sizes(batch: int, rows: int, heads: int, raw_size: int) -> list[int]:
    """The _KEPT arrays' sizes: acts (raw's layout), five (B, H, N) stages, norm_m, norm_k."""
    return [batch * raw_size] + [batch * heads * rows] * 5 + [batch * rows, batch * heads]


def scratch_size(batch: int, rows: int, heads: int, raw_size: int) -> int:
    """How many numbers :func:`forward_into`'s ``buffer`` holds: the _KEPT arrays."""
    return sum(_kept_sizes(batch, rows, heads, raw_size))


def forward(raw: Tensor, memory: Tensor, previous: Tensor, read_heads: int,
            shift_width: int) -> tuple[Tensor, Tensor, Tensor, Kept]:
    """The head activations, eqs. 5-9, 2 and 3-4 (shapes as :func:`ntm.fused.memory_step`):
    returns ``(reads, new_memory, w, kept)``, ``kept`` for :func:`backward`."""
    (batch, rows, width), heads = memory.shape, previous.shape[1]
    reads = memory.new_empty(batch, read_heads, width)
    new_memory, w = memory.new_empty(batch, rows, width), memory.new_empty(batch, heads, rows)
    buffer = memory.new_empty(scratch_size(batch, rows, heads, raw.shape[1]))
    kept = forward_into(raw, memory, previous, shift_width, reads, new_memory, w, buffer)
    return reads, new_memory, w, kept


def forward_into(raw: Tensor, memory: Tensor, previous: Tensor, shift_width: int, reads: Tensor,
                 new_memory: Tensor, w: Tensor, buffer: Tensor) -> Kept:
    """:func:`forward` into given contiguous outputs ``reads`` ``(B, Hr, M)``, ``new_memory``
    and ``w``, with ``buffer`` (:func:`scratch_size` numbers) for what the backward needs: no
    allocation when the inputs are contiguous (``ntm.sequence`` takes them all from one block)."""
    inputs = raw.contiguous(), memory.contiguous(), previous.contiguous()
    (batch, rows, width), heads = memory.shape, previous.shape[1]
    step = Step(batch, rows, width, heads, reads.shape[1], shift_width, raw.shape[1], EPS,
                LOG_FLOOR)
    outputs = dict(reads=reads, new_memory=new_memory, w=w)
    _pointers(step, dict(zip(_INPUTS, inputs, strict=True)) | outputs)
    address, size = buffer.data_ptr(), buffer.element_size()
    for name, count in zip(_KEPT, _kept_sizes(batch, rows, heads, raw.shape[1]), strict=True):
        setattr(step, name, address)
        address += count * size
    _call("ntm_forward", step, memory.dtype)
    return Kept(step, inputs, buffer)


def backward(kept: Kept, d_reads: Tensor, d_new: Tensor, d_w: Tensor) -> tuple[Tensor, ...]:
    """``(d_raw, d_memory, d_previous)`` given the gradients of the step's outputs (forward's
    ``w`` must still be alive: see :class:`Kept`)."""
    grads = [torch.empty_like(x) for x in kept.inputs]  # _GRADS_OUT
    given = (d_reads.contiguous(), d_new.contiguous(), d_w.contiguous())
    _pointers(kept.step, dict(zip(_GRADS_IN, given, strict=True))
              | dict(zip(_GRADS_OUT, grads, strict=True)))
    _call("ntm_backward", kept.step, kept.buffer.dtype)
    return tuple(grads)


def lstm_cell(gates: Tensor, c_prev: Tensor, h_out: Tensor, c: Tensor, acts: Tensor,
              tanh_c: Tensor) -> None:
    """``nn.LSTMCell``'s arithmetic on its pre-activations ``gates`` ``(B, 4H)`` (torch's order
    ``i, f, g, o``; ``ntm/csrc/lstm_cell.h``): writes ``h_t`` into ``h_out`` (``(B, H)``, its
    rows may be strided), ``c_t`` into ``c``, the activations into ``acts`` ``(B, 4H)`` and
    ``tanh(c_t)`` into ``tanh_c``. All but ``h_out`` contiguous; one dtype; on the CPU."""
    batch, size = c_prev.shape
    getattr(library(), f"lstm_forward_{SUFFIX[gates.dtype]}")(
        batch, size, gates.data_ptr(), c_prev.data_ptr(), acts.data_ptr(), c.data_ptr(),
        tanh_c.data_ptr(), h_out.data_ptr(), h_out.stride(0))


def lstm_cell_backward(d_h: Tensor, d_c: Tensor, c_prev: Tensor, acts: Tensor, tanh_c: Tensor,
                       d_gates: Tensor) -> Tensor:
    """The backward of :func:`lstm_cell`: writes ``dL/dgates`` into ``d_gates`` (contiguous);
    returns ``dL/dc_{t-1}``. ``d_c`` is ``dL/dc_t`` from later steps, without ``h_t``'s share."""
    batch, size = c_prev.shape
    d_h, d_c, d_c_prev = d_h.contiguous(), d_c.contiguous(), torch.empty_like(c_prev)
    getattr(library(), f"lstm_backward_{SUFFIX[d_h.dtype]}")(
        batch, size, d_h.data_ptr(), d_c.data_ptr(), c_prev.data_ptr(), acts.data_ptr(),
        tanh_c.data_ptr(), d_gates.data_ptr(), d_c_prev.data_ptr())
    return d_c_prev
