"""Hostile checkpoints: every bad file ends as one CheckpointError, within bounded memory.

Every hostile file is built here, inside ``tmp_path``; none is shipped.
"""

from __future__ import annotations

import dataclasses
import io
import random
import resource
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
import torch

import ntm
from ntm import limits
from ntm.baseline import LSTMBaselineConfig
from ntm.checkpoint import (
    CheckpointError,
    check_finite,
    clean_metadata,
    load_model,
    read_checkpoint,
    save_model,
    weights_are_finite,
)
from ntm.model import NTM, NTMConfig
from ntm.tasks import AssociativeRecallTask, CopyTask, RepeatCopyTask

CONFIG = NTMConfig(input_size=9, output_size=8, memory_rows=16, memory_width=4, controller_size=8)
META = {
    "task": "copy",
    "task_params": {"bits": 8, "min_length": 1, "max_length": 20},
    "sequences_seen": 1000,
    "wall_time": 12.5,
    "curve": [{"sequences": 500, "wall_time": 6.0, "cost": 9.5, "bit_errors": 2.0}],
    "command": "python -m ntm.train --task copy",
}
MODELS = Path(__file__).resolve().parents[1] / "assets" / "models"
GiB = 2**30


@pytest.fixture
def good(tmp_path) -> Path:
    torch.manual_seed(0)
    return save_model(NTM(CONFIG), tmp_path / "good.pt", **META)


def raw(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def write(payload: dict, path: Path) -> Path:
    torch.save(payload, path)
    return path


def refused(path: Path, match: str) -> CheckpointError:
    with pytest.raises(CheckpointError, match=match) as info:
        load_model(path)
    assert str(path) in str(info.value)
    return info.value


def rebuild_zip(src: Path, dst: Path, change=lambda out, name, data: False) -> Path:
    """Copy ``src``'s members to ``dst``; ``change(out, name, data)`` may write a member itself
    (returning True) instead of the plain copy."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as out:
        for info in zin.infolist():
            data = zin.read(info)
            if not change(out, info.filename, data):
                out.writestr(info, data)
    return dst


# ------------------------------------------------------------------------- 1. named limits

NTM_LIMITS = {
    "input_size": limits.MAX_IO_SIZE, "output_size": limits.MAX_IO_SIZE,
    "memory_rows": limits.MAX_MEMORY_ROWS, "memory_width": limits.MAX_MEMORY_WIDTH,
    "controller_size": limits.MAX_CONTROLLER_SIZE,
    "controller_layers": limits.MAX_CONTROLLER_LAYERS,
    "read_heads": limits.MAX_HEADS, "write_heads": limits.MAX_HEADS,
    "shift_range": limits.MAX_SHIFT_RANGE,
}


@pytest.mark.parametrize("field, limit", NTM_LIMITS.items())
def test_every_ntm_config_field_is_bounded(field, limit):
    NTMConfig(**{field: limit})  # the limit itself is allowed...
    with pytest.raises(ValueError, match=f"{field} must be an integer from .* to {limit}"):
        NTMConfig(**{field: limit + 1})  # ...one more is not
    for bad in (True, 2.0, "4", None, [4]):
        with pytest.raises(ValueError, match=field):
            NTMConfig(**{field: bad})


@pytest.mark.parametrize("field", ["controller", "memory_init"])
def test_string_fields_refuse_other_types(field):
    with pytest.raises(ValueError, match=field):
        NTMConfig(**{field: []})  # unhashable: a ValueError, not a TypeError


@pytest.mark.parametrize("field", NTM_LIMITS)
def test_config_over_limit_in_a_checkpoint_is_refused(good, field, tmp_path):
    payload = raw(good)
    payload["config"][field] = NTM_LIMITS[field] + 1
    refused(write(payload, tmp_path / "big.pt"), f"invalid model config: {field} must be")


@pytest.mark.parametrize("field, limit", [("input_size", limits.MAX_IO_SIZE),
                                          ("output_size", limits.MAX_IO_SIZE),
                                          ("hidden_size", limits.MAX_LSTM_HIDDEN),
                                          ("layers", limits.MAX_LSTM_LAYERS)])
def test_lstm_baseline_config_is_bounded(field, limit):
    LSTMBaselineConfig(**{field: limit})
    for bad in (limit + 1, 0, True, 1.5, "2"):
        with pytest.raises(ValueError, match=f"{field} must be an integer"):
            LSTMBaselineConfig(**{field: bad})


@pytest.mark.parametrize("task, field, limit", [
    (CopyTask, "bits", limits.MAX_BITS),
    (CopyTask, "max_length", limits.MAX_SEQUENCE_LENGTH),
    (RepeatCopyTask, "bits", limits.MAX_BITS),
    (RepeatCopyTask, "max_length", limits.MAX_SEQUENCE_LENGTH),
    (RepeatCopyTask, "max_repeats", limits.MAX_REPEATS),
    (AssociativeRecallTask, "bits", limits.MAX_BITS),
    (AssociativeRecallTask, "item_length", limits.MAX_ITEM_LENGTH),
    (AssociativeRecallTask, "max_items", limits.MAX_ITEMS),
])
def test_task_parameters_are_bounded(task, field, limit):
    task(**{field: limit})
    for bad in (limit + 1, True, 3.0, "8", None):
        with pytest.raises(ValueError, match=f"{field} must be an integer"):
            task(**{field: bad})


def test_task_ranges_must_be_ordered():
    with pytest.raises(ValueError, match="min_length must be an integer from 1 to 5"):
        CopyTask(min_length=6, max_length=5)
    with pytest.raises(ValueError, match="min_repeats"):
        RepeatCopyTask(min_repeats=4, max_repeats=3)
    with pytest.raises(ValueError, match="min_items"):
        AssociativeRecallTask(min_items=1)


@pytest.mark.parametrize("path", sorted(MODELS.glob("*.pt")), ids=lambda p: p.name)
def test_shipped_models_fit_the_limits_and_load_cleanly(path):
    model = load_model(path)
    assert model.metadata_problems == [] and model.nonfinite_weights == []


# ---------------------------------------------------------------------- 2. the zip archive


def deflated_zeros(n_mib: int) -> bytes:
    """A raw deflate stream of ``n_mib`` MiB of zeros, built in milliseconds: after a full
    flush every MiB compresses to the same bytes, so the stream is one block repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(2**20)) + c.flush(zlib.Z_FULL_FLUSH)
    return block * n_mib + c.flush()


def bomb(good: Path, dst: Path, member: str, n_mib: int) -> Path:
    """``good`` with ``member`` replaced by ``n_mib`` MiB of deflated zeros (declared as such
    in the zip's directory; the CRC is left unset: nothing may read the member anyway)."""
    stream = deflated_zeros(n_mib)

    def change(out, name, data):
        if not name.endswith(member):
            return False
        out.writestr(name, stream)
        info = out.filelist[-1]
        info.compress_type, info.file_size = zipfile.ZIP_DEFLATED, n_mib * 2**20
        return True

    return rebuild_zip(good, dst, change)


def test_the_bomb_is_real():
    stream = deflated_zeros(4096)
    inflater = zlib.decompressobj(-15)
    assert inflater.decompress(stream, 3 * 2**20) == bytes(3 * 2**20) and not inflater.eof
    assert len(stream) < 5 * 2**20  # 4 GiB of zeros in under 5 MiB


def test_zip_bomb_is_refused_before_torch_load_with_bounded_memory(good, tmp_path, monkeypatch):
    path = bomb(good, tmp_path / "bomb.pt", "data/0", 4096)  # a 4 GiB "tensor"

    def never(*a, **k):
        raise AssertionError("torch.load must not be called")

    monkeypatch.setattr(torch, "load", never)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        refused(path, "declares 4096.0 MiB uncompressed.*refused, not inflated")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 200 * 1024  # KiB


def test_small_bomb_is_refused_by_its_compression_ratio(good, tmp_path):
    path = bomb(good, tmp_path / "b.pt", "data/0", 8)  # 8 MiB: within the byte cap
    refused(path, r"would inflate .* \(more than 100 times: refused\)")


def test_large_pickle_is_refused(good, tmp_path):
    def big_pickle(out, name, data):
        if not name.endswith("data.pkl"):
            return False
        out.writestr(name, data + bytes(limits.MAX_PICKLE_BYTES))  # STOP comes first: valid
        return True

    refused(rebuild_zip(good, tmp_path / "p.pt", big_pickle), "pickle is .* bytes, more than")


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_zip_structure_is_checked(good, tmp_path):
    def dup(out, name, data):
        out.writestr(name, data)
        if name.endswith("data/0"):
            out.writestr(name, data)
        return True

    refused(rebuild_zip(good, tmp_path / "dup.pt", dup), "lists a member twice")

    def many(out, name, data):
        if name.endswith("byteorder"):
            for i in range(limits.MAX_ZIP_MEMBERS):
                out.writestr(f"archive/extra/{i}", b"")
        return False

    refused(rebuild_zip(good, tmp_path / "many.pt", many), "members, more than 1024")

    def long_names(out, name, data):
        if name.endswith("byteorder"):
            for i in range(300):
                out.writestr(f"archive/{i:01000d}", b"")
        return False

    refused(rebuild_zip(good, tmp_path / "dir.pt", long_names), "directory is .* bytes")

    def lying(out, name, data):
        if not name.endswith("data/0"):
            return False
        out.writestr(name, data)
        out.filelist[-1].file_size = 3 * GiB  # stored, yet declares more than it holds
        return True

    refused(rebuild_zip(good, tmp_path / "lie.pt", lying), "declares .* MiB uncompressed")


def test_deflated_checkpoint_still_loads(good, tmp_path):
    def deflate(out, name, data):
        out.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        return True

    model = load_model(rebuild_zip(good, tmp_path / "d.pt", deflate))
    assert model.task == "copy"


def test_legacy_and_foreign_formats_are_refused(good, tmp_path):
    legacy = tmp_path / "legacy.pt"
    torch.save(raw(good), legacy, _use_new_zipfile_serialization=False)
    refused(legacy, "not a readable checkpoint: not a zip archive")
    (tmp_path / "text.pt").write_text("hello")
    refused(tmp_path / "text.pt", "not a readable checkpoint")


# ------------------------------------------------------------- 3. shapes before allocation


def test_shapes_are_compared_on_the_meta_device_before_building(good, tmp_path, monkeypatch):
    payload = raw(good)
    payload["config"].update(memory_rows=1024, memory_width=256, controller_size=1024,
                             controller_layers=4, read_heads=8, write_heads=8)
    devices = []
    init = NTM.__init__

    def spy(self, *a, **k):
        devices.append(torch.empty(0).device.type)  # the device the model is built on
        init(self, *a, **k)

    monkeypatch.setattr(NTM, "__init__", spy)
    refused(write(payload, tmp_path / "huge.pt"),
            r"weights do not match the config: missing 'controller\.cells\.1\.weight_ih'")
    assert devices == ["meta"]  # the 190 MB model was never really built


def test_first_mismatching_key_is_named(good, tmp_path):
    payload = raw(good)
    payload["config"]["memory_rows"] = 20
    refused(write(payload, tmp_path / "rows.pt"),
            r"initial_read_logits has shape \(1, 16\), the config implies \(1, 20\)")
    payload = raw(good)
    del payload["state_dict"]["output.bias"]
    refused(write(payload, tmp_path / "missing.pt"), "missing 'output.bias'")
    payload = raw(good)
    payload["state_dict"]["extra"] = torch.zeros(1)
    refused(write(payload, tmp_path / "extra.pt"), "unexpected 'extra'")


@pytest.mark.parametrize("dtype", [torch.int32, torch.bool, torch.complex64, torch.uint8])
def test_weights_must_be_floating_tensors(good, tmp_path, dtype):
    payload = raw(good)
    payload["state_dict"]["output.weight"] = payload["state_dict"]["output.weight"].to(dtype)
    refused(write(payload, tmp_path / "dtype.pt"), f"output.weight is a {dtype}")


def test_other_float_dtypes_are_converted(good, tmp_path):
    payload = raw(good)
    payload["state_dict"] = {k: v.double() for k, v in payload["state_dict"].items()}
    model = load_model(write(payload, tmp_path / "f64.pt"))
    assert model.output.weight.dtype == torch.float32


# ---------------------------------------------------------------- 4. metadata is plain data


@pytest.mark.parametrize("value, match", [
    (torch.zeros(3), "metadata\\['x'\\] has type Tensor"),
    ({"a": {"b": torch.ones(1)}}, "metadata\\['x'\\]\\['a'\\]\\['b'\\] has type Tensor"),
    ({1: "one"}, "has a key 1 that is not a string"),
    ([[[[[[[[[[1]]]]]]]]]], "nested more than 8"),
    ([list(range(1000))] * (limits.MAX_METADATA_ITEMS // 1000), "more than 200000 values"),
    ("x" * (limits.MAX_STRING_LENGTH + 1), "string longer than 10000"),
    (2**64, "integer beyond 64 bits"),
    (torch.float32, "metadata must be plain data"),
])
def test_metadata_must_be_plain_data(good, tmp_path, value, match):
    payload = raw(good)
    payload["metadata"]["x"] = value
    refused(write(payload, tmp_path / "meta.pt"), match)


def test_resume_state_may_hold_tensors_and_integer_keys(good, tmp_path):
    payload = raw(good)
    payload["metadata"]["training_state"] = {"optimizer": {"state": {0: {"m": torch.ones(2)}}},
                                             "train_rng": torch.zeros(8, dtype=torch.uint8)}
    model = load_model(write(payload, tmp_path / "resume.pt"))
    state = model.metadata["training_state"]
    assert torch.equal(state["optimizer"]["state"][0]["m"], torch.ones(2))


def test_non_string_keys_and_model_types_are_refused(good, tmp_path):
    payload = raw(good)
    payload["state_dict"][3] = payload["state_dict"].pop("output.bias")
    refused(write(payload, tmp_path / "intkey.pt"), "state dict key 3 is not a string")
    payload = raw(good)
    payload["metadata"][7] = "seven"
    refused(write(payload, tmp_path / "metakey.pt"), "metadata key 7 is not a string")
    payload = raw(good)
    payload["model_type"] = []
    refused(write(payload, tmp_path / "type.pt"), r"unknown model type \[\]")
    payload = raw(good)
    payload["state_dict"]["output.bias"] = [0.0] * 8
    refused(write(payload, tmp_path / "list.pt"), "output.bias' has type list, not a tensor")
    payload = raw(good)
    payload["version"] = torch.ones(2)
    refused(write(payload, tmp_path / "version.pt"), "version tensor.* is not supported")


def test_save_refuses_metadata_it_could_not_load(tmp_path):
    with pytest.raises(CheckpointError, match="not saved: metadata\\['weights'\\] has type Tensor"):
        save_model(NTM(CONFIG), tmp_path / "m.pt", weights=torch.zeros(2))
    assert not (tmp_path / "m.pt").exists()


# ------------------------------------------------------------- 5. metadata types, cleaned


def test_metadata_of_the_wrong_type_is_cleaned_and_reported(good, tmp_path):
    payload = raw(good)
    payload["metadata"].update(sequences_seen="many", wall_time=None, command=["rm"],
                               task_params={"bits": 8.5}, curve=[{"bit_errors": "none"}],
                               converged=1, custom={"kept": True})
    model = load_model(write(payload, tmp_path / "m.pt"))
    assert model.metadata_problems == ["task_params", "sequences_seen", "wall_time", "curve",
                                       "command", "converged"]
    for field in model.metadata_problems:
        assert model.metadata[field] is None
    assert model.metadata["task"] == "copy" and model.metadata["custom"] == {"kept": True}


def test_clean_metadata_keeps_good_values_untouched():
    meta = {**META, "curve": [{"sequences": 1, "bit_errors": 0.5, "lr": 1e-4, "stage": 2}],
            "commands": ["a", "b"], "seed": 3, "converged": False, "bit_errors": 0}
    cleaned, problems = clean_metadata(meta)
    assert cleaned == meta and problems == []
    assert clean_metadata({"seed": True, "task": 3})[1] == ["seed", "task"]


# ------------------------------------------------------------------ 6. non-finite weights


def test_nan_weights_load_but_are_flagged(tmp_path):
    model = NTM(CONFIG)
    assert weights_are_finite(model)
    check_finite(model)  # no error
    with torch.no_grad():
        model.output.weight[0, 0] = float("nan")
        model.heads.addressing.bias[1] = float("inf")
    assert not weights_are_finite(model)
    with pytest.raises(CheckpointError, match="m.pt: the model has NaN or infinite weights in "
                                              "heads.addressing.bias, output.weight"):
        check_finite(model, tmp_path / "m.pt")
    loaded = load_model(save_model(model, tmp_path / "m.pt"))
    assert loaded.nonfinite_weights == ["heads.addressing.bias", "output.weight"]


# ------------------------------------------------------------------------ 7. one error type


@pytest.mark.parametrize("error", [RuntimeError("x"), TypeError("x"), KeyError("x"),
                                   AttributeError("x"), OverflowError("x"), MemoryError(),
                                   RecursionError("deep"), zipfile.BadZipFile("bad")])
def test_every_failure_is_a_checkpoint_error(good, monkeypatch, error):
    def fail(*a, **k):
        raise error

    monkeypatch.setattr(NTM, "load_state_dict", fail)
    refused(good, type(error).__name__)
    monkeypatch.setattr(torch, "load", fail)
    refused(good, "not a readable checkpoint")
    with pytest.raises(CheckpointError, match="good.pt"):
        read_checkpoint(good)


def test_bad_device_is_a_checkpoint_error(good):
    with pytest.raises(CheckpointError, match="good.pt"):
        load_model(good, device="no-such-device")


# ---------------------------------------------------------------------------- 8. fuzzing

HOSTILE = [10**9, -5, 0, 2.5, "7", None, [], {}, True, 2**70, float("nan"), torch.ones(2)]


def mutate_payload(payload: dict, rng: random.Random) -> str:
    """One random change to the checkpoint dict; returns what it did."""
    kind = rng.choice(["config", "shape", "dtype", "entry", "meta", "top"])
    sd, meta = payload["state_dict"], payload["metadata"]
    key = rng.choice(sorted(sd))
    if kind == "config":
        field = rng.choice([*NTM_LIMITS, "controller", "memory_init", "wings"])
        payload["config"][field] = value = rng.choice(HOSTILE)
        return f"config {field}={value!r:.30}"
    if kind == "shape":
        shape = [rng.choice([0, 1, 3, 17]) for _ in range(rng.randint(0, 3))]
        sd[key] = torch.zeros(shape)
        return f"{key} shape {shape}"
    if kind == "dtype":
        dtype = rng.choice([torch.int64, torch.bool, torch.complex64, torch.float64, torch.float16])
        sd[key] = sd[key].to(dtype)
        return f"{key} dtype {dtype}"
    if kind == "entry":
        choice = rng.choice([lambda: sd.pop(key), lambda: sd.update({5: sd.pop(key)}),
                             lambda: sd.update({key: rng.choice(HOSTILE)}),
                             lambda: sd.update({"x": torch.zeros(1)})])
        choice()
        return f"state dict entry {key}"
    if kind == "meta":
        field = rng.choice([*META, "x", "training_state"])
        value = rng.choice([*HOSTILE, {3: 4}, [[[[[[[[[[0]]]]]]]]]], [list(range(100))] * 200,
                            "s" * 20_000, [{"bit_errors": "a"}], {"bits": 2.5}])
        meta[field] = value
        return f"metadata {field}={value!r:.30}"
    field = rng.choice(["format", "version", "model_type", "config", "state_dict", "metadata"])
    payload[field] = value = rng.choice(HOSTILE)
    return f"top {field}={value!r:.30}"


def mutate_bytes(data: bytes, rng: random.Random, tmp: Path) -> tuple[bytes, str]:
    """One random change to the file's bytes or zip structure."""
    kind = rng.choice(["truncate", "flip", "duplicate", "sizes", "deflate"])
    if kind == "truncate":
        cut = rng.randrange(len(data))
        return data[:cut], f"truncated at {cut}"
    if kind == "flip":
        out = bytearray(data)
        spots = [rng.randrange(len(out)) for _ in range(rng.randint(1, 8))]
        for i in spots:
            out[i] ^= 1 << rng.randrange(8)
        return bytes(out), f"flipped {spots}"
    (tmp / "in.pt").write_bytes(data)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    target = rng.choice(names)
    size = rng.choice([0, 1, 2**31, 2**33, 10**6])

    def change(out, name, blob):
        method = zipfile.ZIP_DEFLATED if kind == "deflate" else zipfile.ZIP_STORED
        out.writestr(name, blob, compress_type=method)
        if name == target and kind == "duplicate":
            out.writestr(name, blob[::-1])
        if name == target and kind == "sizes":
            out.filelist[-1].file_size = size
        return True

    rebuild_zip(tmp / "in.pt", tmp / "out.pt", change)
    return (tmp / "out.pt").read_bytes(), f"{kind} {target} {size}"


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_fuzzed_checkpoints_load_or_fail_cleanly(good, tmp_path):
    base = good.read_bytes()
    path = tmp_path / "fuzz.pt"
    outcomes = {"loaded": 0, "refused": 0}
    load_model(good)  # warm up: first-use imports inside torch are slow under tracemalloc
    peak = 0  # Python allocations while loading (tracemalloc; torch's own are in ru_maxrss)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for seed in range(300):
        rng = random.Random(seed)
        if seed % 2:
            what = mutate_payload(payload := raw(good), rng)
            write(payload, path)
            del payload
        else:
            data, what = mutate_bytes(base, rng, tmp_path)
            path.write_bytes(data)
        tracemalloc.start()
        try:
            load_model(path)
            outcomes["loaded"] += 1
        except CheckpointError:
            outcomes["refused"] += 1
        except Exception as exc:  # pragma: no cover - the failure this test exists for
            pytest.fail(f"seed {seed} ({what}): {type(exc).__name__}: {exc}")
        finally:
            peak = max(peak, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
    assert peak < 200 * 2**20, f"Python allocations peaked at {peak / 2**20:.0f} MiB"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 400 * 1024  # KiB
    assert outcomes["refused"] > 100 and outcomes["loaded"] > 10, outcomes


def test_good_checkpoint_still_round_trips(good):
    model = load_model(good)
    assert model.metadata == META and model.metadata_problems == []
    assert dataclasses.asdict(model.config) == CONFIG.to_dict()
    assert isinstance(model, ntm.NTM) and not model.training
