"""ntm.native: the fused step's C loops are built once per machine, found again, rebuilt when
damaged, and skipped with one clear warning where they cannot be built (tests/test_fused.py
holds their numbers to the reference)."""

import os
import shutil
import subprocess
import sys
import warnings

import pytest
import torch

from ntm import NTM, NTMConfig, fused, native

SMALL = NTMConfig(input_size=5, output_size=4, memory_rows=12, memory_width=6, controller_size=16)
HAS_CC = shutil.which("cc") is not None


@pytest.fixture
def fresh_library(tmp_path, monkeypatch):
    """ntm.native with an empty cache folder and its memo cleared (and cleared again after)."""
    monkeypatch.setenv("NTM_NATIVE_CACHE", str(tmp_path))
    native.library.cache_clear()
    yield tmp_path
    native.library.cache_clear()


def run(model: NTM) -> torch.Tensor:
    torch.manual_seed(0)
    with torch.no_grad():
        return model(torch.rand(6, 2, SMALL.input_size))


@pytest.mark.skipif(not HAS_CC, reason="no C compiler (cc) here")
def test_built_once_then_loaded_from_the_cache(fresh_library):
    assert native.library() is not None
    [built] = fresh_library.glob("memory_step-*.so")
    stamp = built.stat().st_mtime_ns
    native.library.cache_clear()
    assert native.library() is not None
    assert built.stat().st_mtime_ns == stamp, "a second process loads the file, no rebuild"


@pytest.mark.skipif(not HAS_CC, reason="no C compiler (cc) here")
def test_a_damaged_library_file_is_rebuilt(fresh_library):
    """In a new process (this one keeps the file it loaded, whatever the name now holds)."""
    native.library()
    [built] = fresh_library.glob("memory_step-*.so")
    damaged = built.with_suffix(".tmp")  # a new file: the loaded one stays mapped, intact
    damaged.write_bytes(b"not a shared library")
    os.replace(damaged, built)
    subprocess.run([sys.executable, "-W", "error", "-c",
                    "from ntm import native; assert native.library() is not None"],
                   check=True, env={**os.environ, "NTM_NATIVE_CACHE": str(fresh_library)})
    assert built.read_bytes()[:4] == b"\x7fELF"


def test_without_a_compiler_the_tensor_step_runs_after_one_warning(fresh_library, monkeypatch):
    monkeypatch.setenv("CC", str(fresh_library / "no-such-compiler"))
    torch.manual_seed(0)
    model = NTM(SMALL)
    with pytest.warns(UserWarning, match="C memory step is unavailable.*no C compiler"):
        logits = run(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once, not at every step
        assert torch.equal(run(model), logits)
    model.fast = False
    torch.testing.assert_close(logits, run(model), atol=1e-6, rtol=0)


def test_ntm_native_0_turns_it_off_without_a_warning(fresh_library, monkeypatch):
    monkeypatch.setenv("NTM_NATIVE", "0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert native.library() is None
    assert not list(fresh_library.iterdir())


@pytest.mark.skipif(not HAS_CC, reason="no C compiler (cc) here")
def test_what_the_c_step_takes_and_leaves_to_the_tensor_step():
    layout = fused.Layout(1, 1, 4, 3)
    raw = torch.zeros(2, 2 * sum(layout.sizes) + 8)
    memory, previous = torch.zeros(2, 8, 4), torch.zeros(2, 2, 8)
    assert native.supports(raw, memory, previous, 3)
    assert native.supports(raw.double(), memory.double(), previous.double(), 3)
    assert not native.supports(raw, memory.double(), previous, 3)  # mixed precision
    assert not native.supports(raw.half(), memory.half(), previous.half(), 3)
    assert not native.supports(raw, memory[:, :2], previous[..., :2], 3)  # kernel wider than N
    native.enabled = False
    try:
        assert not native.supports(raw, memory, previous, 3)
    finally:
        native.enabled = True


def test_avx2_is_used_only_where_the_cpu_has_it():
    assert native.cpu_flags("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n") == [
        "-mavx2", "-mfma", "-ffp-contract=fast"]
    assert native.cpu_flags("flags\t\t: fpu sse2 avx avx2\n") == ["-mavx2"]
    assert native.cpu_flags("flags\t\t: fpu sse2 avx\n") == []
    assert native.cpu_flags("Features\t: fp asimd\n") == []  # an ARM CPU: no such line
