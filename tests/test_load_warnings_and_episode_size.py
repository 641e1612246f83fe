"""ntm.catalogue.load_warnings (issue 12, item 6) and the stepper's episode-size cap (item 1)."""

from pathlib import Path

import pytest
import torch
from conftest import tiny_copy_model

import ntm
from ntm import catalogue, limits
from ntm.checkpoint import CheckpointError
from ntm.tasks import task_of

SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "models"


def saved_and_loaded(model, tmp_path, **metadata):
    path = ntm.save_model(model, tmp_path / "m.pt", task="copy",
                          task_params={"bits": 8, "min_length": 1, "max_length": 20}, **metadata)
    return ntm.load_model(path)


def test_a_sound_model_has_no_warnings(tmp_path):
    assert catalogue.load_warnings(saved_and_loaded(tiny_copy_model(), tmp_path)) == []


def test_non_finite_weights_are_named(tmp_path):
    model = tiny_copy_model()
    names = [n for n, _ in model.named_parameters()]
    with torch.no_grad():
        model.get_parameter(names[0]).view(-1)[0] = float("nan")
        model.get_parameter(names[-1]).view(-1)[-1] = float("inf")
    loaded = saved_and_loaded(model, tmp_path)
    [warning] = catalogue.load_warnings(loaded)
    assert "NaN or infinite" in warning and names[0] in warning and names[-1] in warning


def test_many_non_finite_weights_are_summarised():
    model = tiny_copy_model()
    model.nonfinite_weights = [f"w{i}" for i in range(9)]
    [warning] = catalogue.load_warnings(model)
    assert "w0, w1, w2, w3, w4 and 4 more" in warning and "w5" not in warning


def test_malformed_metadata_fields_are_listed(tmp_path):
    loaded = saved_and_loaded(tiny_copy_model(), tmp_path, sequences_seen="many",
                              wall_time="long", curve="abc")
    [warning] = catalogue.load_warnings(loaded)
    assert "shown as unknown" in warning
    assert "sequences_seen" in warning and "wall_time" in warning and "curve" in warning


def test_both_warnings_and_objects_without_the_attributes():
    model = tiny_copy_model()
    model.nonfinite_weights, model.metadata_problems = ["x"], ["bits"]
    assert len(catalogue.load_warnings(model)) == 2
    assert catalogue.load_warnings(tiny_copy_model()) == []  # built, not loaded
    model.nonfinite_weights, model.metadata_problems = None, "curve"  # not lists: ignored
    assert catalogue.load_warnings(model) == []
    assert catalogue.load_warnings(object()) == []


# ------------------------------------------------------------------ episode size


@pytest.mark.parametrize("name", ["copy", "repeat-copy", "associative-recall"])
def test_the_shipped_models_fit_at_their_largest_stepper_sizes(name):
    path = SHIPPED / f"{name}.pt"
    if not path.is_file():
        pytest.skip(f"{path} is not shipped in this checkout")
    model = ntm.load_model(path)
    task = task_of(model)
    sizes = {k: v.high for k, v in task.stepper_sizes().items()}
    steps = task.batch(1, torch.Generator().manual_seed(0), **sizes).inputs.shape[0]
    catalogue.check_episode_size(model, steps)  # no exception
    assert catalogue.episode_values(model, steps) * 2 < limits.MAX_EPISODE_VALUES  # comfortably


def big_model(rows, width, heads=1):
    with torch.device("meta"):  # the cap needs the config only
        return ntm.NTM(ntm.NTMConfig(input_size=9, output_size=8, memory_rows=rows,
                                     memory_width=width, controller_size=16, read_heads=heads,
                                     write_heads=heads))


def test_a_large_memory_over_a_long_episode_is_refused_with_a_clear_message():
    model = big_model(1024, 20)
    with pytest.raises(catalogue.EpisodeTooLarge) as caught:
        catalogue.check_episode_size(model, 241)  # copy at L = 120
    message = str(caught.value)
    assert isinstance(caught.value, CheckpointError)
    assert "memory (1024 × 20, 2 heads) over 241 steps is too large to step here" in message
    assert f"{limits.MAX_EPISODE_VALUES:,}" in message
    longest = catalogue.max_episode_steps(model)
    assert f"at most {longest:,} steps" in message
    catalogue.check_episode_size(model, longest)  # the longest allowed episode passes
    with pytest.raises(CheckpointError):
        catalogue.check_episode_size(model, longest + 1)
    catalogue.check_episode_size(model, 41)  # the same model at L = 20 is fine


def test_heads_count_as_well_as_memory():
    assert (catalogue.episode_values(big_model(1024, 2, heads=8), 1)
            == 1024 * (2 + 5 * 16))
    with pytest.raises(CheckpointError, match="16 heads"):
        catalogue.check_episode_size(big_model(1024, 2, heads=8), 241)


def test_the_largest_allowed_model_gets_a_message_even_for_one_step():
    model = big_model(limits.MAX_MEMORY_ROWS, limits.MAX_MEMORY_WIDTH, heads=limits.MAX_HEADS)
    longest = catalogue.max_episode_steps(model)
    assert longest >= 1  # a few steps still fit
    with pytest.raises(CheckpointError, match="too large to step here"):
        catalogue.check_episode_size(model, 241)
