"""Evaluation protocols: which images train, which set selects the epoch, which is reported.

``--protocol`` is the one home of this fact (recorded in the run's config, shown on the run
line, in the run metrics' ``best``, in summary.md and in the compare and cross-check tables):

* ``original`` — the original's protocol, what every preset runs: the method's original
  split, evaluation and reporting. hidden-networks (edge-popup, supermask sampling, its
  dense baselines) and the LaPerm notebooks train on every training image and report the
  best *test* accuracy over epochs (selected on test); Slot Machines trains on its index
  split and reports test accuracy at the best-validation epoch (as its paper); self-pruning
  holds out the first 5,000 training images and evaluates validation and test each epoch.
* ``held_out`` — the library's default without a preset: train on the training head (Slot
  Machines: its index split), select the epoch on the held-out validation images, report
  test accuracy at that epoch. Nothing is selected on the test set.
* ``custom`` — the split and sets as given by hand (or a run directory of a version before
  ``--protocol`` that matches neither).

Every run reports test accuracy at its selected epoch; the selecting set is
:func:`selection_set`. No TensorFlow here.
"""

from __future__ import annotations

from typing import Any, Protocol

from masktrainer.errors import ConfigError

PROTOCOLS = ("original", "held_out", "custom")
HELD_OUT_SETS = ("val", "test")  # selects on val, reports test


class _Evaluated(Protocol):
    split: str
    eval_sets: str
    resnet_quirks: bool


def _sets(eval_sets: str) -> set[str]:
    return {part.strip() for part in eval_sets.split(",")}


def selection_set(cfg: _Evaluated) -> str:
    """The set whose accuracy picks the reported epoch: ``test`` when the validation images
    are the test set (``--split test``, ``--resnet_quirks``) or no validation set is
    evaluated, else ``val``."""
    if cfg.split == "test" or cfg.resnet_quirks or "val" not in _sets(cfg.eval_sets):
        return "test"
    return "val"


def check(cfg: Any, original_split: str, original_sets: str) -> None:
    """ConfigError if ``cfg``'s split or sets contradict its ``--protocol``
    (``original_*``: what the method's original uses)."""
    sets = _sets(cfg.eval_sets)
    if cfg.protocol == "original":
        if cfg.split != original_split:
            raise ConfigError(f"--split={cfg.split} is not the original's protocol "
                              f"(--split={original_split}); use --protocol held_out or custom")
        missing = sorted(_sets(original_sets) - sets)
        if missing:
            raise ConfigError(f"--eval_sets={cfg.eval_sets} drops {', '.join(missing)}, which "
                              f"the original's protocol evaluates; use --protocol custom")
    elif cfg.protocol == "held_out":
        if cfg.split == "test" or cfg.resnet_quirks:
            what = "--split=test" if cfg.split == "test" else "--resnet_quirks"
            raise ConfigError(f"--protocol held_out selects on held-out training images; "
                              f"{what} validates on the test set (use --protocol original "
                              "or custom)")
        missing = [name for name in HELD_OUT_SETS if name not in sets]
        if missing:
            raise ConfigError(f"--protocol held_out selects on val and reports test: "
                              f"--eval_sets needs {' and '.join(missing)}")


def describe(cfg: Any, sizes: dict[str, int] | None = None) -> str:
    """One line: the protocol, what trains, what selects and what is reported."""
    train = f" on {sizes['train']:,} images" if sizes else ""
    on = selection_set(cfg)
    if on == "test":
        chosen = "the best test top-1 over epochs reported (selected on test)"
    else:
        held = f" ({sizes['val']:,} images)" if sizes else ""
        chosen = f"epoch selected on validation{held}, test top-1 reported there"
    name = {"original": "the original's protocol", "held_out": "held-out protocol",
            "custom": "custom protocol"}[cfg.protocol]
    return f"{name}: trained{train} (--split {cfg.split}), {chosen}"


def label(protocol: str | None, selected_on: str | None) -> str:
    """A table cell: ``original (best test)`` or ``held_out (test at best val)``."""
    what = "best test" if selected_on == "test" else "test at best val"
    return f"{protocol or 'custom'} ({what})"
