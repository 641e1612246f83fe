"""What a step computes: the scene its view draws and its questions are about.

* steps 1–8: a playground state, :class:`ntm.playground.Result` (:func:`addressing_scene`);
* step 9: the shipped copy model's run on one sequence, :class:`EpisodeScene`;
* step 10: the stored evaluations of the NTM and the LSTM, :class:`EvaluationScene`.

A scene's values are the step's preset, then the teacher's locks, then (once the step's
questions are answered) what the student set with the controls: :func:`scene_values`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import playground as pg
from ..stepper.episode import Episode, focus_window
from ..stepper.narration import describe_episode, head_focus
from .controls import MOMENTS, to_settings

Scene = Any  #: pg.Result | EpisodeScene | EvaluationScene


def scene_values(preset: Mapping[str, Any], controls: Sequence[str], locks: Mapping[str, Any],
                 chosen: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A step's values: its preset, the locks of its controls, then the student's choices for
    the controls that are neither locked nor hidden (the caller leaves those out)."""
    values = dict(preset)
    values.update({k: v for k, v in (chosen or {}).items() if k in controls and k not in locks})
    values.update({k: v for k, v in locks.items() if k in controls})
    return values


def addressing_scene(values: Mapping[str, Any]) -> pg.Result:
    """Every stage of one addressing step (eqs. 2–9) for a step's values."""
    return pg.compute(to_settings(values))


def variant(result: pg.Result, name: str, value: Any) -> pg.Result:
    """The same scene with one lesson value changed (``kernel`` by its name)."""
    return addressing_scene({**result.settings.values, name: value})


@dataclass(frozen=True)
class EpisodeScene:
    """The copy model's run on one sequence, as step 9 shows and asks about it."""

    episode: Episode
    length: int
    window: list[int]  #: the memory rows worth drawing (where the heads focus), in order
    notes: list = field(default_factory=list)  #: the stepper's narration of this run

    @property
    def rows(self) -> int:
        return self.episode.trace.memory.shape[2]

    def weights(self, kind: str) -> np.ndarray:
        """``(T, N)`` weightings of the first read or write head."""
        return getattr(self.episode.trace, kind).weights[:, 0, 0]

    @property
    def jump_step(self) -> int:
        """The delimiter's step, where the read head goes back to the start."""
        return self.length

    @property
    def first_row(self) -> int:
        return int(self.weights("write")[0].argmax())

    @property
    def last_row(self) -> int:
        return int(self.weights("write")[self.length - 1].argmax())

    @property
    def jump_gate(self) -> float:
        return float(self.episode.trace.read.gate[self.jump_step, 0, 0])

    @property
    def jump_content_share(self) -> float:
        """Of the weight eq. 7 gave the read head's new row at the delimiter, the share from
        the content lookup (:attr:`ntm.tasks.focus.HeadFocus.content_share`)."""
        return float(head_focus(self.episode.trace, "read").content_share[self.jump_step])

    @property
    def stages(self) -> dict[str, np.ndarray]:
        return {"read_jump": self.weights("read")[self.jump_step]}

    def moment_step(self, moment: str) -> tuple[int, str]:
        """The step a moment of :data:`~ntm.lessons.controls.MOMENTS` stops at, and its head."""
        steps = {"write": (min(2, self.length - 1), "write"), "jump": (self.jump_step, "read"),
                 "read": (min(self.length + 3, self.episode.steps - 1), "read")}
        return steps[moment if moment in MOMENTS else "jump"]


def episode_scene(episode: Episode) -> EpisodeScene:
    """Step 9's scene from a copy run: the rows the heads use while storing and reading back."""
    length = int(episode.info["length"])
    tr = episode.trace
    used = np.concatenate([tr.write.weights[:length, 0, 0], tr.read.weights[length:, 0, 0]])
    return EpisodeScene(episode, length, focus_window(used, margin=2, min_rows=8),
                        describe_episode(episode))


@dataclass(frozen=True)
class EvaluationScene:
    """% of bits wrong against sequence length, per model, from the stored evaluations."""

    percent: dict[str, dict[int, float]]
    train_max: int = 20

    def at(self, model: str, length: int) -> float:
        return self.percent[model][length]


def evaluation_scene(rows: Mapping[str, Sequence[Mapping]], train_max: int = 20
                     ) -> EvaluationScene:
    """From ``{"NTM": rows, "LSTM": rows}`` of :func:`ntm.catalogue.load_evaluation`."""
    percent = {name: {int(r["length"]): float(r["bits_wrong_pct"]) for r in table
                      if "length" in r and "bits_wrong_pct" in r}
               for name, table in rows.items()}
    return EvaluationScene(percent, train_max)


def stage_weights(scene: Scene, stage: str) -> np.ndarray:
    """The weighting a row question asks about."""
    return np.asarray(scene.stages[stage], dtype=np.float64)
