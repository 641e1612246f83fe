"""Upper bounds on every size a checkpoint, a config or a task may ask for.

A checkpoint is untrusted input (the stepper page accepts uploads), and a config value such as
``memory_rows = 10**9`` would make us allocate, or loop, without end. Each bound below is far
above what the paper, the shipped models (N = 128, M = 20, controller 100, one head of each kind,
R = 1; LSTM baseline 3 x 256) and the tests use, and far below what would hurt a classroom server.
:func:`check_int` is the one place that turns a bound into a clear ``ValueError``.
"""

from __future__ import annotations

# --- NTM (ntm.model.NTMConfig) -------------------------------------------------------------
#: Input/output channels: the paper's tasks need at most bits + 2 = 10 (8-bit vectors plus
#: delimiter and repeat channels); 64 leaves room for wider bit vectors (MAX_BITS + 2 = 34).
MAX_IO_SIZE = 64
#: Memory rows N: the paper uses 128; the heatmaps stop being readable long before 1024.
MAX_MEMORY_ROWS = 1024
#: Memory width M: the paper uses 20; 256 is plenty for any bit vector we generate.
MAX_MEMORY_WIDTH = 256
#: Controller units: the paper's NTMs use 100 (512 for priority sort); ours ship with 100.
MAX_CONTROLLER_SIZE = 1024
#: Controller layers: the paper uses one; deeper stacks only slow the stepper down.
MAX_CONTROLLER_LAYERS = 4
#: Read heads, and separately write heads: the paper uses one of each (five for priority sort).
MAX_HEADS = 8
#: Shift radius R (kernel of 2R + 1 offsets): the paper uses R = 1; the playground shows R = 3.
MAX_SHIFT_RANGE = 8

# --- LSTM baseline (ntm.baseline.LSTMBaselineConfig) ---------------------------------------
#: Units per layer: the paper's baseline is 3 x 256; twice that is still a small network.
MAX_LSTM_HIDDEN = 512
#: Stacked layers: the paper's baseline has 3.
MAX_LSTM_LAYERS = 4

# --- Tasks (ntm.tasks) ---------------------------------------------------------------------
#: Bits per vector: the paper uses 8 (copy, repeat copy) and 6 (associative recall).
MAX_BITS = 32
#: Longest training sequence (copy, repeat copy): the paper trains on 20 and tests up to 120.
MAX_SEQUENCE_LENGTH = 200
#: Most repeats (repeat copy): the paper trains on 1-10 and tests up to 20; the stepper stops
#: at 20 too.
MAX_REPEATS = 20
#: Vectors per item (associative recall): the paper uses 3.
MAX_ITEM_LENGTH = 8
#: Most items (associative recall): the paper trains on 2-6 and tests longer episodes; the
#: stepper goes up to 20.
MAX_ITEMS = 32

# --- Checkpoint files (ntm.checkpoint) -----------------------------------------------------
#: A file, and the sum of its members' declared uncompressed sizes, may not exceed this.
#: The largest shipped checkpoint (the 3 x 256 LSTM baseline) is about 5.1 MiB.
MAX_CHECKPOINT_BYTES = 100 * 1024 * 1024
#: Members of the zip: a checkpoint has one record per tensor (about 20) plus a few small files;
#: a training checkpoint adds the optimiser's moments (three per parameter).
MAX_ZIP_MEMBERS = 1024
#: Bytes of the zip's central directory. ``zipfile`` turns every entry (46 bytes and a name)
#: into a Python object ten times that size, so the directory is bounded before it is parsed;
#: a checkpoint's directory is about 60 bytes per member (1 KiB for the shipped models).
MAX_ZIP_DIRECTORY_BYTES = 256 * 1024
#: Uncompressed / compressed size of one member. ``torch.save`` stores records uncompressed
#: (ratio 1); zeros deflate about 1000:1, which is how a zip bomb is built. Members declaring
#: less than RATIO_CHECKED_FROM bytes are exempt (a small zero tensor compresses well too).
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM = 1024 * 1024
#: The pickle (``data.pkl``) holds only the plain-data part (config, metadata, tensor
#: references): 6-11 KiB in the shipped models, about 90 bytes per learning-curve point, so
#: 1 MiB holds a curve of over 10,000 points. Unpickling can turn one byte into a 64-byte
#: Python object (an empty dict), so this bound also caps unpickling at about 80 MB.
MAX_PICKLE_BYTES = 1024 * 1024
#: Metadata: nesting depth, total number of values, and length of one string. The shipped
#: metadata is 3 deep, under 1,000 values, and its longest string is a 215-character command.
MAX_METADATA_DEPTH = 8
MAX_METADATA_ITEMS = 200_000
MAX_STRING_LENGTH = 10_000

# --- Serving (the stepper page, the upload cache) --------------------------------------------
#: Values one stepper episode records: steps x memory rows x (memory width + 5 weightings per
#: head), i.e. the memory after every step plus each head's addressing stages. The shipped
#: models at their largest stepper sizes record at most 1.6 million (repeat copy, length 20 x 20
#: repeats: 422 steps x 128 rows x (20 + 10)); copy at L = 120 records 0.9 million. A model
#: with 1024 rows of width 20 at L = 120 would record 7.4 million and is refused; 4 million
#: float32 values are 16 MB of trace per session, before any chart is drawn.
MAX_EPISODE_VALUES = 4_000_000
#: Weights (bytes) the server keeps of uploaded models, all cached uploads together (at most
#: 8 models). One upload's weights are at most MAX_CHECKPOINT_BYTES; the shipped NTMs hold
#: about 0.3 MiB each.
MAX_UPLOAD_CACHE_BYTES = 256 * 1024 * 1024


def check_int(name: str, value: object, low: int, high: int) -> None:
    """Raise ``ValueError`` unless ``value`` is an ``int`` (not a bool) in ``[low, high]``.

    The message names the field and the bound, e.g. ``memory_rows must be an integer from 1 to
    1024, got 5000``.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
