"""Which sets a run evaluates, and at which epochs (no TensorFlow: the configuration checks it).

``--eval_sets`` names the sets evaluated at the end of an epoch: ``val``, ``test`` and
``train_subset`` (a random subset of ``--eval_train_size`` training images in evaluation
mode; 0: the whole training split). Each method's default is what its original evaluates
(its ``defaults``). ``--eval_every N`` evaluates at every N-th epoch and at the last;
``--initial_eval`` says what epoch 0 (before training) evaluates: ``full`` (the sets and
the whole training split, as self-pruning's original), ``sets`` or ``none``. A set that is
not evaluated at an epoch is recorded as ``null``. ``--maxepochs 0`` (evaluate only) always
evaluates epoch 0: the sets, and the training split too where ``--initial_eval full``.
"""

from __future__ import annotations

from typing import Protocol

from masktrainer.errors import ConfigError

EVAL_SETS = ("val", "test", "train_subset")
INITIAL_EVALS = ("full", "sets", "none")


class _Schedule(Protocol):
    eval_every: int
    initial_eval: str
    maxepochs: int


def parse_sets(value: str) -> tuple[str, ...]:
    """"val,test" -> ("val", "test"); ConfigError for an unknown, repeated or missing set."""
    names = tuple(part.strip() for part in value.split(","))
    unknown = [name for name in names if name not in EVAL_SETS]
    if unknown or not value.strip():
        raise ConfigError(f"--eval_sets takes a comma list of {', '.join(EVAL_SETS)} "
                          f"(got {value!r})")
    if len(set(names)) != len(names):
        raise ConfigError(f"--eval_sets names a set twice (got {value!r})")
    return names


def evaluates(cfg: _Schedule, epoch: int) -> bool:
    """Whether the end of ``epoch`` (0: before training) is evaluated."""
    if epoch == 0:  # evaluate only: epoch 0 is the run's one evaluation, whatever the method
        return cfg.initial_eval != "none" or cfg.maxepochs == 0
    return epoch % cfg.eval_every == 0 or epoch == cfg.maxepochs
