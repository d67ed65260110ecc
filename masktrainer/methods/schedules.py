"""The shared per-epoch learning-rate schedules (no TensorFlow: configurations check them).

The learning rate is set once at the start of every epoch, as the originals do.
A method may add schedules of its own (LaPerm's notebook schedules) through
:meth:`masktrainer.methods.runtime.Runtime.learning_rate`.
"""

from __future__ import annotations

import math

from masktrainer.errors import ConfigError

# cosine_restarts: a cosine from lr towards 0 restarted at each of --lr_milestones (the Slot
# Machines paper's "SGD with warm restarts at epochs 25 and 75").
SHARED_SCHEDULES = ("constant", "cosine", "multistep", "cosine_restarts")
MILESTONE_SCHEDULES = ("multistep", "cosine_restarts")
# The self-pruning original's ResNet ignores --lr: Adam 1e-3 (see --resnet_quirks).
RESNET_QUIRKS_LR = 1e-3


def parse_milestones(text: str) -> list[int]:
    """'80' or '60,120' -> [80] / [60, 120] (strictly increasing positive epochs)."""
    try:
        values = [int(part) for part in str(text).split(",")]
    except ValueError:
        raise ConfigError(f"--lr_milestones must be comma-separated epochs (got {text!r})") from None
    if not values or any(v < 1 for v in values) or values != sorted(set(values)):
        raise ConfigError(f"--lr_milestones must be increasing epochs >= 1 (got {text!r})")
    return values


def shared_learning_rate(schedule: str, lr: float, epoch: int, maxepochs: int,
                         milestones: str | None = None, resnet_quirks: bool = False,
                         warmup: int = 0) -> float:
    """Learning rate of 0-based ``epoch``: constant, cosine over ``maxepochs``, x0.1 steps, or
    a cosine restarted at every milestone (each segment from ``lr`` towards 0),
    after ``warmup`` epochs of linear warm-up ``lr * (epoch + 1) / warmup`` (hidden-networks:
    the cosine then spans the remaining ``maxepochs - warmup`` epochs)."""
    if warmup and epoch < warmup:
        return float(lr) * (epoch + 1) / warmup
    if schedule == "constant":
        return float(lr)
    if schedule == "cosine":
        total = max(int(maxepochs) - warmup, 1)
        return 0.5 * (1.0 + math.cos(math.pi * (epoch - warmup) / total)) * float(lr)
    if schedule == "cosine_restarts":
        starts = [0, *(m for m in parse_milestones(milestones) if m < maxepochs)]
        start = max(m for m in starts if m <= epoch)
        end = next((m for m in starts if m > epoch), max(int(maxepochs), epoch + 1))
        return 0.5 * (1.0 + math.cos(math.pi * (epoch - start) / (end - start))) * float(lr)
    if schedule == "multistep":
        passed = sum(1 for milestone in parse_milestones(milestones) if epoch >= milestone)
        base = RESNET_QUIRKS_LR if resnet_quirks else float(lr)
        return base * 0.1**passed
    raise ValueError(f"unknown lr_schedule {schedule!r}")
