"""The interface every method implements: a :class:`Method` and its parts.

A :class:`Method` is one object per method (``METHOD`` in the method's subpackage;
:mod:`masktrainer.methods` finds them): who it is (key, title, train types) and its parts,
one per concern, each a small class with the shared behaviour that the method subclasses
where it differs:

* ``recipe`` (:class:`~masktrainer.methods.recipe.Recipe`, no TensorFlow): options, defaults,
  protocol, checks, run folder, description; a command line is checked before TensorFlow
  loads;
* ``runtime`` (:class:`~masktrainer.methods.runtime.Runtime`): layers, model, optimizer,
  learning rate, recorder (TensorFlow imported when called);
* ``compat`` (:class:`~masktrainer.methods.compat.Compat`): run directories of earlier
  versions;
* ``figures`` (:class:`~masktrainer.methods.figures.Figures`): what the plotter and the
  compare tables read of its finished runs;
* ``checkpoints`` (:class:`~masktrainer.methods.checkpoints.ReleasedCheckpoints`, or None):
  checkpoints its authors released.

Everything outside ``masktrainer/methods/`` asks the run's method; nothing there names a
method or tests a train type.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from masktrainer.errors import ConfigError
from masktrainer.methods.checkpoints import ReleasedCheckpoints
from masktrainer.methods.compat import Compat
from masktrainer.methods.figures import Figures
from masktrainer.methods.recipe import Recipe
from masktrainer.methods.runtime import Runtime
from masktrainer.methods.schedules import SHARED_SCHEDULES
from masktrainer.text import choice_error

if TYPE_CHECKING:  # types only: the config module itself is built from the methods
    from masktrainer.config import RunConfig


@dataclasses.dataclass(frozen=True, eq=False)
class Method:
    """A training method: who it is, and its parts."""

    key: str  # recorded as the run config's "method" (unless the recipe names a mode)
    title: str  # "edge-popup (Ramanujan et al. 2020)"
    train_types: tuple[str, ...]  # --traintype values
    recipe: Recipe
    runtime: Runtime
    summary: str = ""  # what trains, for --help
    position: int = 100  # order in --traintype and --help
    compat: Compat = Compat()
    figures: Figures = Figures()
    checkpoints: ReleasedCheckpoints | None = None

    @property
    def name(self) -> str:
        """How help and messages name the method: its train type, or its family for several."""
        return self.train_types[0] if len(self.train_types) == 1 else self.key.replace("_", "-")


def group_root(cfg: RunConfig) -> Path:
    """``<outputpath>/<traintype>/<nettype>[_x<width_mult>]``: where a method's folders start."""
    net = cfg.nettype if cfg.width_mult == 1.0 else f"{cfg.nettype}_x{cfg.width_mult}"
    return Path(cfg.outputpath) / cfg.traintype / net


def check_choice(label: str, value: Any, choices: Sequence[str], context: str = "") -> None:
    """ConfigError unless ``value`` is one of ``choices`` (``context`` ends the message)."""
    if value not in choices:
        raise ConfigError(choice_error(label, value, choices, context))


def all_lr_schedules(methods: Sequence[Method]) -> tuple[str, ...]:
    """The shared schedules, then every method's own."""
    return SHARED_SCHEDULES + tuple(s for m in methods for s in m.recipe.lr_schedules)
