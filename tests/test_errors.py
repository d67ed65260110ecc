"""masktrainer.errors: the shared error types; callers catch them by their built-in bases."""

import signal

import pytest

from masktrainer.errors import (
    ConfigError,
    DataError,
    RunInterrupted,
    RunStateError,
    RunWriteError,
    WorkerFailed,
)


def test_a_bad_setting_is_a_value_error_and_the_others_runtime_errors():
    assert issubclass(ConfigError, ValueError)
    for error in (DataError, RunStateError, RunWriteError, RunInterrupted, WorkerFailed):
        assert issubclass(error, RuntimeError) and not issubclass(error, ValueError)


def test_an_interruption_carries_its_signal_and_message():
    with pytest.raises(RuntimeError, match="stopped at step 7") as caught:
        raise RunInterrupted("stopped at step 7", signal.SIGTERM)
    assert caught.value.signum == signal.SIGTERM
