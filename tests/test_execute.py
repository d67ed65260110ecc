"""masktrainer.execute: how a train command's end becomes an exit status and one line."""

import signal

import pytest

from masktrainer.cli import parse_command
from masktrainer.errors import (
    ConfigError,
    DataError,
    RunInterrupted,
    RunStateError,
    RunWriteError,
    WorkerFailed,
)
from masktrainer.execute import run_command
from masktrainer.run.monitors import TrainingDiverged


def _failing(error):
    class Trainer:
        def __init__(self, *args, **kwargs):
            pass

        def run(self):
            raise error

    return Trainer


@pytest.mark.parametrize("error,status", [
    (ConfigError("bad setting"), 2), (DataError("no data"), 2), (RunStateError("edited"), 2),
    (RunWriteError("disk full"), 1), (WorkerFailed("worker died"), 1),
    (TrainingDiverged("loss is NaN"), 3),
    (RunInterrupted("stopped; resume with ...", signal.SIGTERM), 128 + signal.SIGTERM),
])
def test_each_ending_is_its_exit_status_and_one_line(error, status, monkeypatch, tmp_path,
                                                      capsys):
    monkeypatch.setattr("masktrainer.run.trainer.Trainer", _failing(error))
    command = parse_command(["prog", f"--outputpath={tmp_path}", "--maxepochs=1"])
    assert run_command(command) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(error) in err and "Traceback" not in err


def test_a_finished_run_is_status_0(monkeypatch, tmp_path):
    class Trainer:
        def __init__(self, *args, **kwargs):
            pass

        def run(self):
            return None

    monkeypatch.setattr("masktrainer.run.trainer.Trainer", Trainer)
    assert run_command(parse_command(["prog", f"--outputpath={tmp_path}"])) == 0
