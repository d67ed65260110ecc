"""Extending a run: ``--resume RUN --maxepochs N`` past the run's own ``maxepochs``.

Allowed where the recipe allows: the learning rate of every epoch the run has trained
must stay what it was, so the run continues as if it had asked for N epochs from the
start. A constant rate continues unchanged, a multistep schedule keeps its milestones
(absolute epochs), a warm-up is over; a cosine schedule spans ``maxepochs``, so a longer
one would have trained the past epochs at other rates: refused, with the reason. Shorter
than the epochs trained is refused too. No TensorFlow is imported here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from masktrainer import layout
from masktrainer.config import RunConfig
from masktrainer.errors import ConfigError
from masktrainer.methods.upgrade import config_values

#: The run config's list of extensions: {"from": old maxepochs, "to": new, "after_epoch": E}.
EXTENDED_KEY = "extended"


def _rates(cfg: RunConfig, first: int, stop: int) -> list[float]:
    from masktrainer import methods

    method = methods.get_method(cfg.traintype)
    return [method.runtime.learning_rate(cfg, epoch) for epoch in range(first, stop)]


def extended_config(cfg: RunConfig, maxepochs: int, completed: int) -> tuple[RunConfig, str]:
    """``cfg`` with ``maxepochs`` and a line saying how the rate continues; ConfigError
    (one line, the reason) where the recipe does not allow it."""
    if maxepochs < completed:
        raise ConfigError(f"--maxepochs {maxepochs} is below the {completed} epoch(s) the run "
                          "has trained")
    if maxepochs < cfg.maxepochs:
        raise ConfigError(f"--maxepochs {maxepochs} would shorten the run's {cfg.maxepochs} "
                          "epochs; only extending is supported")
    longer = RunConfig.from_dict({**cfg.to_dict(), "maxepochs": maxepochs})
    for epoch, (was, now) in enumerate(zip(_rates(cfg, 0, completed),
                                           _rates(longer, 0, completed))):
        if was != now:
            raise ConfigError(
                f"--maxepochs {maxepochs} cannot extend this run: its {cfg.lr_schedule} "
                f"learning-rate schedule spans --maxepochs, so epoch {epoch + 1} would have "
                f"trained at lr {now:g}, not {was:g}; start a new run with --maxepochs "
                f"{maxepochs}")
    if maxepochs == cfg.maxepochs:
        return longer, ""
    rates = _rates(longer, completed, maxepochs)
    span = f"{rates[0]:g}" if min(rates) == max(rates) else f"{rates[0]:g} to {rates[-1]:g}"
    return longer, (f"extending the run from {cfg.maxepochs} to {maxepochs} epochs; the "
                    f"{cfg.lr_schedule} learning rate continues: epochs {completed + 1}-"
                    f"{maxepochs} at lr {span}")


def record_extension(run_dir: Path, config: dict[str, Any], metrics: dict[str, Any],
                     cfg: RunConfig, completed: int) -> str:
    """Rewrite the run's config for ``cfg.maxepochs`` (the extension listed under
    :data:`EXTENDED_KEY`) and reopen its metrics; returns the line the run logs."""
    from masktrainer import safe_io

    old = RunConfig.from_dict(config_values(config))
    _, line = extended_config(old, cfg.maxepochs, completed)
    history = [*config.get(EXTENDED_KEY, []),
               {"from": config["maxepochs"], "to": cfg.maxepochs, "after_epoch": completed}]
    safe_io.atomic_write_json(run_dir / layout.CONFIG_FILE,
                              {**config, "maxepochs": cfg.maxepochs, EXTENDED_KEY: history})
    metrics["status"] = layout.RUNNING
    for key in ("best", "trained"):  # set again when the extended run finishes
        metrics.pop(key, None)
    return line
