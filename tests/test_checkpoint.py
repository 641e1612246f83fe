"""Checkpoints: round trip, atomic saves, and clear refusals of bad files."""

import io
import os
import pickle
import zipfile

import pytest
import torch

import ntm
from ntm.checkpoint import CheckpointError, load_model, save_model
from ntm.model import NTM, NTMConfig

CONFIG = NTMConfig(input_size=5, output_size=4, memory_rows=10, memory_width=4, controller_size=8)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return NTM(CONFIG)


def test_round_trip_gives_identical_outputs_and_metadata(model, tmp_path):
    path = tmp_path / "copy.pt"
    curve = [{"sequences": 100, "cost": 5.0, "bit_errors": 3.5}]
    save_model(model, path, task="copy", sequences_seen=100, curve=curve)
    loaded = ntm.load_model(path)
    x = torch.rand(9, 3, 5)
    assert torch.equal(loaded(x), model(x))
    assert loaded.config == CONFIG
    assert loaded.task == "copy" and loaded.metadata["curve"] == curve
    assert not loaded.training


def test_round_trip_for_every_option(tmp_path):
    torch.manual_seed(1)
    model = NTM(CONFIG, controller="feedforward", memory_init="learned", read_heads=2, shift_range=2)
    save_model(model, tmp_path / "m.pt")
    x = torch.rand(4, 2, 5)
    assert torch.equal(load_model(tmp_path / "m.pt")(x), model(x))


def test_lstm_baseline_round_trip(tmp_path):
    torch.manual_seed(2)
    model = ntm.LSTMBaseline(ntm.LSTMBaselineConfig(hidden_size=8, layers=2))
    save_model(model, tmp_path / "lstm.pt", task="copy")
    loaded = load_model(tmp_path / "lstm.pt")
    x = torch.rand(4, 2, 9)
    assert isinstance(loaded, ntm.LSTMBaseline) and torch.equal(loaded(x), model(x))


def test_save_is_atomic_and_leaves_no_temp_files(model, tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    save_model(model, path, task="copy")
    good = path.read_bytes()

    def broken_save(obj, f, *a, **k):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_model(model, path, task="other")
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["m.pt"]


def expect_refusal(path, match):
    with pytest.raises(CheckpointError, match=match) as info:
        load_model(path)
    assert str(path) in str(info.value)  # names the file


def test_missing_empty_and_random_files(tmp_path):
    expect_refusal(tmp_path / "nope.pt", "no such checkpoint")
    (tmp_path / "empty.pt").write_bytes(b"")
    expect_refusal(tmp_path / "empty.pt", "empty")
    (tmp_path / "noise.pt").write_bytes(os.urandom(4096))
    expect_refusal(tmp_path / "noise.pt", "not a readable checkpoint")


def test_truncated_file_is_refused(model, tmp_path):
    path = tmp_path / "m.pt"
    save_model(model, path)
    data = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    expect_refusal(tmp_path / "cut.pt", "not a readable checkpoint")


def test_foreign_torch_file_is_refused(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    expect_refusal(tmp_path / "foreign.pt", "not an NTM Explorer checkpoint")


def test_wrong_config_is_refused(model, tmp_path):
    path = tmp_path / "m.pt"
    save_model(model, path)
    payload = torch.load(path, weights_only=True)

    payload["config"]["memory_rows"] = 20  # weights no longer fit
    torch.save(payload, tmp_path / "size.pt")
    expect_refusal(tmp_path / "size.pt", "weights do not match the config")

    payload["config"]["memory_rows"] = -3
    torch.save(payload, tmp_path / "bad.pt")
    expect_refusal(tmp_path / "bad.pt", "invalid model config: memory_rows")

    payload["config"] = {**CONFIG.to_dict(), "wings": 2}
    torch.save(payload, tmp_path / "unknown.pt")
    expect_refusal(tmp_path / "unknown.pt", "unknown NTM config keys: wings")

    payload["config"] = CONFIG.to_dict()
    payload["model_type"] = "transformer"
    torch.save(payload, tmp_path / "type.pt")
    expect_refusal(tmp_path / "type.pt", "unknown model type")

    payload["model_type"] = "ntm"
    payload["version"] = 99
    torch.save(payload, tmp_path / "version.pt")
    expect_refusal(tmp_path / "version.pt", "version 99")


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_that_would_run_code_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    # a torch (zip) checkpoint holding the exploit
    torch.save({"format": "ntm-explorer-checkpoint", "x": _Exploit(str(marker))}, tmp_path / "evil.pt")
    expect_refusal(tmp_path / "evil.pt", "refused, not run")
    # and a raw pickle
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(_Exploit(str(marker))))
    expect_refusal(tmp_path / "evil.pkl", "not a readable checkpoint")
    assert not marker.exists()


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.pt"
    with open(path, "wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: 200 MiB without writing it

    def never(*a, **k):
        raise AssertionError("torch.load must not be called")

    monkeypatch.setattr(torch, "load", never)
    expect_refusal(path, "larger than")


def test_zip_with_wrong_content_is_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", b"not a pickle")
    (tmp_path / "z.pt").write_bytes(buf.getvalue())
    expect_refusal(tmp_path / "z.pt", "not a readable checkpoint")


def test_saved_file_has_ordinary_permissions(model, tmp_path):
    old = os.umask(0o022)
    try:
        path = save_model(model, tmp_path / "m.pt")
    finally:
        os.umask(old)
    assert (path.stat().st_mode & 0o777) == 0o644
