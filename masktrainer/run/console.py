"""What a run prints: the epoch line, a whole-run ETA, and a heartbeat in non-terminal logs.

The epoch line names only what was evaluated at that epoch (``--eval_sets``,
``--eval_every``); a run with a penalty on its masks (self-pruning's Min*) shows the
cross-entropy (``CE``) of every set and the penalty on their own, since their sum (the
original's ``*Loss`` keys) goes negative. The ETA is the mean duration of the epochs
trained so far times the epochs left. Without a progress bar (stdout not a terminal, or
``--progress none``), :class:`Heartbeat` prints a line every ``--heartbeat_minutes``
inside an epoch, so a long epoch is never silent in a log file.
"""

from __future__ import annotations

import re
import sys
import time
from typing import Any, Callable

import keras

from masktrainer.config import RunConfig
from masktrainer.text import pct

# (label on the console, metrics key prefix) of the evaluated sets, in line order.
LINE_SETS = (("train", "train"), ("train subset", "trainSubset"), ("val", "val"),
             ("test", "test"))


def progress_verbosity(cfg: RunConfig) -> int:
    """Keras' ``verbose``: 1 (a progress bar) for ``--progress bar`` or a terminal, else 0."""
    if cfg.progress == "bar":
        return 1
    return 1 if cfg.progress == "auto" and sys.stdout.isatty() else 0


def duration(seconds: float) -> str:
    """12s, 4m05s, 2h03m."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _at(metrics: dict[str, Any], key: str, epoch: int) -> float | None:
    series = metrics.get(key)
    return series[epoch] if isinstance(series, list) and len(series) > epoch else None


def epoch_line(cfg: RunConfig, epoch: int, metrics: dict[str, Any], extra: str,
               seconds: float, eta: float | None = None) -> str:
    """``epoch   3/20 | train loss ... | val ... | test ... | <method> | 12.3s | ETA 4m05s``."""
    penalised = "penalty" in metrics
    parts = [f"epoch {epoch:>3}/{cfg.maxepochs}"]
    for label, prefix in LINE_SETS:
        accuracy = _at(metrics, f"{prefix}Accuracy", epoch)
        if accuracy is None:
            continue  # not evaluated at this epoch
        loss_key, loss_name = ((f"{prefix}CrossEntropy", "CE") if penalised
                               else (f"{prefix}Loss", "loss"))
        loss = _at(metrics, loss_key, epoch)
        loss_text = "-" if loss is None else f"{loss:.4f}"
        parts.append(f"{label} {loss_name} {loss_text} acc {pct(accuracy)}")
    if penalised and _at(metrics, "penalty", epoch) is not None:
        parts.append(f"penalty {_at(metrics, 'penalty', epoch):.4f}")
    line = " | ".join(parts) + extra + f" | {seconds:.1f}s"
    return line if eta is None else f"{line} | ETA {duration(eta)}"


#: Columns of an epoch line on the console; the run's log holds the whole line.
TERMINAL_WIDTH = 100


def short_line(line: str, width: int = TERMINAL_WIDTH) -> str:
    """An epoch line cut to ``width`` columns for the console: the losses go first, then
    the method's statistics from the last, replaced by one ``…`` (the epoch, the
    accuracies and the times stay)."""
    if len(line) <= width:
        return line
    # "val loss 2.5882 acc 8.00%" -> "val 8.00%" (likewise "CE" under a penalty)
    parts = [re.sub(r" (loss|CE) \S+ acc ", " ", part) for part in line.split(" | ")]
    sets = tuple(f"{label} " for label, _ in LINE_SETS)

    def kept(part: str) -> bool:
        return (part.startswith(("epoch ", "ETA ")) or re.fullmatch(r"[0-9.]+s", part) is not None
                or (part.startswith(sets) and re.fullmatch(r"[a-z ]+ [0-9.]+%", part) is not None))

    while len(" | ".join(parts)) > width:
        extras = [i for i, part in enumerate(parts) if part != "…" and not kept(part)]
        if not extras:
            break
        last = extras[-1]
        if last + 1 < len(parts) and parts[last + 1] == "…":
            del parts[last]
        else:
            parts[last] = "…"
    text = " | ".join(parts)
    return text if len(text) <= width else text[: width - 1] + "…"


def final_lines(metrics: dict[str, Any], best: dict[str, Any] | None, summary: str,
                run_dir: Any) -> list[str]:
    """The best epoch (on the set the run selects on) and the final accuracies."""
    lines = []
    if best is not None and metrics.get("trained") is not False:
        def share(key: str) -> str:
            return "-" if best.get(key) is None else pct(best[key])

        on = best.get("selected_on", "val")
        text = (f"best {'validation' if on == 'val' else 'test'} accuracy "
                f"{share(on + 'Accuracy')} (top-5 {share(on + 'Top5Accuracy')}) at epoch "
                f"{best['epoch']}")
        if on == "val" and best.get("testAccuracy") is not None:
            text += f"; test there {share('testAccuracy')} (top-5 {share('testTop5Accuracy')})"
        if best.get("protocol"):
            text += f" [{best['protocol']} protocol: test accuracy reported at that epoch]"
        lines.append(text)
    final = [f"{name} accuracy {pct(value)}" for name in ("test", "val")
             if (value := (metrics.get(f"{name}Accuracy") or [None])[-1]) is not None]
    if final and lines:  # the line above reports the selected epoch: these are the last one's
        final[0] = f"last epoch's {final[0]}"
    if metrics.get("trained") is False:
        final.insert(0, "evaluated only, untrained (--maxepochs 0)")
    seconds = sum(s for s in metrics.get("epochSeconds") or [] if s is not None)
    lines.append(f"done: {', '.join(final) or 'nothing evaluated'}{summary}; "
                 f"total {duration(seconds)}; "
                 f"results in {run_dir}")
    return lines


class RunClock:
    """Durations of the epochs trained in this process, for the whole-run ETA."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def add(self, seconds: float) -> None:
        self.seconds.append(seconds)

    def eta(self, epochs_left: int) -> float | None:
        if not self.seconds or epochs_left <= 0:
            return None
        return sum(self.seconds) / len(self.seconds) * epochs_left


class Heartbeat(keras.callbacks.Callback):
    """A progress line every ``minutes`` during training and evaluation (0: never)."""

    def __init__(self, minutes: float, echo: Callable[[str], None] | None, epoch: int,
                 maxepochs: int, steps: int, done: int = 0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.every = minutes * 60.0
        self.echo, self.epoch, self.maxepochs = echo, epoch, maxepochs
        self.steps, self.done = steps, done
        self.phase = "training"
        self.clock = clock
        self.start = self.last = clock()

    def _due(self) -> bool:
        if self.echo is None or self.every <= 0:
            return False
        now = self.clock()
        if now - self.last < self.every:
            return False
        self.last = now
        return True

    def on_train_batch_end(self, batch, logs=None) -> None:
        if not self._due():
            return
        step = self.done + int(batch) + 1
        elapsed = self.clock() - self.start
        left = elapsed / max(step - self.done, 1) * (self.steps - step)
        loss = (logs or {}).get("loss")
        loss_text = "" if loss is None else f", loss {float(loss):.4f}"
        self.echo(f"  epoch {self.epoch}/{self.maxepochs}: step {step}/{self.steps} "
                  f"({pct(step / self.steps)}){loss_text}, {duration(elapsed)} into the "
                  f"epoch, about {duration(left)} to its end")

    def on_test_batch_end(self, batch, logs=None) -> None:
        if self._due():
            self.echo(f"  epoch {self.epoch}/{self.maxepochs}: {self.phase}, batch "
                      f"{int(batch) + 1}, {duration(self.clock() - self.start)} into "
                      "the epoch")


def heartbeat_for(cfg: RunConfig, echo: Callable[[str], None] | None, epoch: int, steps: int,
                  done: int = 0) -> Heartbeat | None:
    """The heartbeat of ``epoch`` (0: the evaluation before training), None with a bar."""
    if progress_verbosity(cfg):
        return None
    return Heartbeat(cfg.heartbeat_minutes, echo, epoch, cfg.maxepochs, steps, done)


def run_line(cfg: RunConfig, recipe: str, source: str, seed: int, replicas: int,
             sizes: dict[str, int]) -> str:
    """The run's header line: what trains on what, with which recipe, seed and precision
    (``recipe``: the method's own description of its options)."""
    optimizer = cfg.optimizer + (
        f" (momentum {cfg.momentum}, L2 {cfg.weight_decay})" if cfg.optimizer == "sgd" else "")
    return (f"{cfg.traintype} {cfg.nettype} on {cfg.dataset} ({source}); {recipe}, activation "
            f"{cfg.activation}, {optimizer}, lr {cfg.lr} {cfg.lr_schedule}, batch {cfg.batchsize}, "
            f"epochs {cfg.maxepochs}, seed {seed}, precision {cfg.precision}, distribute "
            f"{cfg.distribute} ({replicas} replica(s)); train/val/test "
            f"{'/'.join(str(n) for n in sizes.values())}")
