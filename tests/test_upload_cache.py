"""Uploaded checkpoints (ntm.app.models): a cache bounded in entries and bytes, and every loading
failure as one CheckpointError naming the user's file."""

import pytest
import torch
from conftest import tiny_copy_model

import ntm
from ntm import limits
from ntm.app import models as M
from ntm.checkpoint import CheckpointError


def linear(n):
    return torch.nn.Linear(n, 1, bias=False)  # n float32 weights: 4 n bytes


def test_the_cache_is_bounded_in_entries_and_least_recently_used_goes_first():
    cache = M.ModelCache(entries=2, max_bytes=10**6)
    a, b, c = linear(1), linear(2), linear(3)
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is a  # a is now the most recently used
    cache.put("c", c)
    assert len(cache) == 2 and cache.get("b") is None and cache.get("a") is a


def test_the_cache_is_bounded_in_bytes():
    cache = M.ModelCache(entries=8, max_bytes=4 * 100)
    cache.put("a", linear(60))
    cache.put("b", linear(30))
    assert cache.total_bytes() == 360
    cache.put("c", linear(20))  # 440 > 400: a goes
    assert cache.get("a") is None and cache.total_bytes() == 200
    cache.put("huge", linear(101))  # larger than the whole cache: not kept, nothing dropped
    assert cache.get("huge") is None and len(cache) == 2


def test_the_server_cache_bounds_hold_for_the_largest_upload():
    assert M.UPLOAD_CACHE_ENTRIES == 8
    assert limits.MAX_CHECKPOINT_BYTES <= limits.MAX_UPLOAD_CACHE_BYTES <= 2**30
    assert M._uploads.max_bytes == limits.MAX_UPLOAD_CACHE_BYTES
    assert M.model_bytes(tiny_copy_model()) == sum(
        t.numel() * 4 for t in tiny_copy_model().state_dict().values())


@pytest.fixture
def good(tmp_path):
    path = ntm.save_model(tiny_copy_model(), tmp_path / "copy.pt", task="copy",
                          task_params={"bits": 8, "min_length": 1, "max_length": 20})
    M._uploads.clear()
    yield path.read_bytes()
    M._uploads.clear()


def test_an_upload_loads_once_and_is_shared(good, monkeypatch):
    calls = []
    real = M.load_ntm
    monkeypatch.setattr(M, "load_ntm", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = M.uploaded_model(good, "mine.pt", "cpu")
    assert M.uploaded_model(good, "another-name.pt", "cpu") is first and calls == [1]
    assert not any(p.requires_grad for p in first.parameters())


@pytest.mark.parametrize("error", [
    RuntimeError("[enforce fail at alloc_cpu.cpp:117] can't allocate memory"),
    TypeError("unhashable type: 'list'"), MemoryError(), KeyError(3), OSError("disk full"),
    ValueError("bad\nsecond line"),
])
def test_every_loading_failure_is_one_checkpoint_error(good, monkeypatch, error):
    def boom(path, device=None):
        raise error

    monkeypatch.setattr(M, "load_ntm", boom)
    with pytest.raises(CheckpointError) as caught:
        M.uploaded_model(good, "mine.pt", "cpu")
    message = str(caught.value)
    assert message.startswith("mine.pt: not a usable checkpoint: " + type(error).__name__)
    assert "\n" not in message and "ntm-upload-" not in message
    assert len(M._uploads) == 0  # nothing cached


def test_checkpoint_errors_name_the_users_file_not_the_temporary_copy(good):
    with pytest.raises(CheckpointError) as caught:
        M.uploaded_model(good[: len(good) // 2], "cut.pt", "cpu")
    assert str(caught.value).startswith("cut.pt: ") and "ntm-upload-" not in str(caught.value)
    with pytest.raises(CheckpointError, match="larger than the 100 MiB"):
        M.uploaded_model(b"\0" * (M.MAX_BYTES + 1), "big.pt", "cpu")


@pytest.mark.parametrize(("name", "shown"), [
    ("../../etc/passwd", "passwd"), ("a\n\nb.pt", "a  b.pt"), ("", "the uploaded file"),
    (None, "the uploaded file"), ("x" * 500, "x" * 99 + "…"), ("/", "the uploaded file"),
])
def test_upload_names_are_shown_on_one_bounded_line(name, shown):
    assert M.shown_name(name) == shown


def test_an_odd_upload_name_still_loads(good):
    assert M.uploaded_model(good, "", "cpu").task == "copy"
    M._uploads.clear()
    assert M.uploaded_model(good, "../x/..", "cpu").task == "copy"
