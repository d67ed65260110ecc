"""SIGINT and SIGTERM while training: stop at the next step boundary, checkpoint, exit.

While :class:`StopSignals` is active, the first SIGINT or SIGTERM only records a request.
:class:`StopAtStepBoundary` (a Keras callback) then ends ``fit`` after the running step and
keeps the position and the running-metric accumulators, which the trainer checkpoints before
it marks the run ``interrupted`` (a request that arrives outside ``fit`` is honoured at the
end of the epoch, after its checkpoint). A second SIGINT stops at once
(``KeyboardInterrupt``); the run then resumes from its last checkpoint. The command line
exits with 128 + the signal number: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import signal
import threading

import keras

from masktrainer.run.checkpoints import metric_state
from masktrainer.run.monitors import step_after

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Context manager: SIGINT/SIGTERM request a stop instead of killing the process."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignals:
        # Handlers can only be installed from the main thread; elsewhere signals keep their
        # default behaviour.
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        if self.signum is None:
            self.signum = signum

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""


class StopAtStepBoundary(keras.callbacks.Callback):
    """End ``fit`` after the step during which a stop was requested; ``step`` (1-based, in
    the epoch) and ``metric_state`` say where it stopped."""

    def __init__(self, stop: StopSignals, offset: int = 0, steps: int | None = None) -> None:
        super().__init__()
        self.stop, self.offset, self.steps = stop, offset, steps
        self.step: int | None = None
        self.metric_state: list[list[float]] | None = None

    def on_train_batch_end(self, batch, logs=None) -> None:
        if self.stop.requested and self.step is None:
            self.step = step_after(batch, self.offset, self.steps)
            self.metric_state = metric_state(self.model)
            self.model.stop_training = True
