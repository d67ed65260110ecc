"""The methods, one subpackage each, and their registry.

Every subpackage of ``masktrainer/methods/`` that defines ``METHOD`` (a
:class:`~masktrainer.methods.base.Method`: its recipe, runtime, compatibility and figures
parts) is a method; adding one needs no other file. The subpackages:

* ``self_pruning`` — Ivan & Florian (2020): Baseline, FreePruning, MinPruning,
  FreeFlipping, MinFlipping;
* ``edge_popup`` — Ramanujan et al. (2020): top-k |score| per layer;
* ``slot_machines`` — Aladago & Torresani (2021): one of K values per connection;
* ``train_by_reconnect`` — Qiu & Suda (2020), LaPerm around Adam;
* ``supermask_sampling`` — Zhou et al. (2019): Bernoulli masks from sigmoid(score);
* ``biprop`` — Diffenderfer & Kailkhura (2021): edge-popup's mask over weights binarised
  to +-alpha per layer;
* ``dense_baseline`` — hidden-networks' learned-weights baselines.

Importing this package reads the methods' configuration only (no TensorFlow);
:func:`register_keras_objects` imports their layers.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any, Sequence

from masktrainer.errors import ConfigError
from masktrainer.methods.base import Method
from masktrainer.methods.figures import Figures
from masktrainer.text import choice_error

if TYPE_CHECKING:
    import keras

    from masktrainer.config import RunConfig


def _discover() -> tuple[Method, ...]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            method = getattr(importlib.import_module(f"{__name__}.{info.name}"), "METHOD", None)
            if isinstance(method, Method):
                found.append(method)
    return tuple(sorted(found, key=lambda m: (m.position, m.key)))


METHODS: tuple[Method, ...] = _discover()
_BY_TRAIN_TYPE = {train_type: m for m in METHODS for train_type in m.train_types}


def train_types() -> tuple[str, ...]:
    """Every --traintype, in the methods' order."""
    return tuple(_BY_TRAIN_TYPE)


def get_method(traintype: str) -> Method:
    """The method of a train type, or ConfigError."""
    try:
        return _BY_TRAIN_TYPE[traintype]
    except (KeyError, TypeError):
        raise ConfigError(choice_error("--traintype", traintype, _BY_TRAIN_TYPE)) from None


def method_of(cfg: RunConfig) -> Method:
    """The method of a configuration."""
    return get_method(cfg.traintype)


def figures_of(config: dict[str, Any]) -> Figures:
    """What the plotter draws for the run of ``config`` (the run config's values); runs of an
    unknown train type get the default."""
    try:
        return get_method(config.get("traintype")).figures
    except ConfigError:
        return Figures()


def owner_of(option: str) -> Method | None:
    """The method that declares ``--option`` (None for the shared options)."""
    for method in METHODS:
        if any(o.name == option for o in method.recipe.options):
            return method
    return None


def build_model(cfg: RunConfig, input_shape: Sequence[int], num_classes: int, run_seed: int,
                prepared: Any = None) -> keras.Model:
    """The model ``cfg`` describes before training, seeded from ``run_seed``."""
    register_keras_objects()
    return method_of(cfg).runtime.build_model(cfg, input_shape, num_classes, run_seed, prepared)


def epoch_learning_rate(cfg: RunConfig, epoch: int) -> float:
    """The learning rate of 0-based ``epoch`` of a run (its method's schedule)."""
    return method_of(cfg).runtime.learning_rate(cfg, epoch)


def register_keras_objects() -> None:
    """Import every module that registers a layer, initializer or optimizer with Keras, so
    ``keras.models.load_model`` can read any run's saved model."""
    for name in ("masktrainer.nn.initializers", "masktrainer.nn.augment", "masktrainer.nn.metrics",
                 "masktrainer.methods.optim", "laperm.optimizer"):
        importlib.import_module(name)
    for method in METHODS:
        for name in method.runtime.keras_modules:
            importlib.import_module(name)
