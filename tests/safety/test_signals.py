"""Issue 13, class 3: SIGINT and SIGTERM stop at a step boundary, checkpoint, record
``status: interrupted``, print one line saying how to resume, exit 130/143; the run then
resumes bit for bit."""

import json
import os
import signal
import time

import pytest
from safety_support import (
    RUN_ARGS,
    assert_same_run,
    cli,
    interrupt_after,
    metrics_of,
    one_line,
    run_dir_of,
)

from masktrainer.cli import main
from masktrainer.run import signals as run_signals


def _signal_at_step(monkeypatch, global_step: int, *signums: int, pause: float = 0.0) -> None:
    """Send ``signums`` to this process when the optimizer reaches ``global_step`` (after
    ``pause`` seconds there: time the epoch spent before the stop)."""
    original = run_signals.StopAtStepBoundary.on_train_batch_end

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == global_step:
            time.sleep(pause)
            for signum in signums:
                os.kill(os.getpid(), signum)
        original(self, batch, logs)

    monkeypatch.setattr(run_signals.StopAtStepBoundary, "on_train_batch_end", on_train_batch_end)


def _interrupted_line(capsys, run, where: str, signame: str) -> None:
    out, err = capsys.readouterr()
    assert "interrupted by" not in out  # printed once, on stderr
    line = one_line(err, prefix="masktrainer: interrupted")
    assert line == (f"masktrainer: interrupted by {signame} {where} (checkpointed); resume with: "
                    f"python -m masktrainer --resume {run}")
    assert metrics_of(run)["status"] == "interrupted"


def test_sigint_inside_an_epoch_checkpoints_there_and_resumes_exactly(tmp_path, capsys,
                                                                      monkeypatch,
                                                                      reference_run):
    handler = signal.getsignal(signal.SIGINT)
    with monkeypatch.context() as patch:
        _signal_at_step(patch, 14, signal.SIGINT, pause=1.5)  # epoch 2, step 4 of 10
        assert main(["prog", *RUN_ARGS, f"--outputpath={tmp_path}"]) == 130
    assert signal.getsignal(signal.SIGINT) is handler  # the run's handlers are gone again
    run = run_dir_of(tmp_path)
    _interrupted_line(capsys, run, "in epoch 2 after step 4", "SIGINT")
    state = json.loads((run / "checkpoint" / "resume.json").read_text())
    assert state["partial"]["step"] == 4 and state["checkpoint"] == "ckpt-14"
    assert state["partial"]["seconds"] >= 1.5  # the epoch's time so far, pause included
    assert main(["prog", "--resume", str(run)]) == 0
    assert_same_run(reference_run, run)
    # the resumed epoch's time is the whole epoch's: before the stop plus after the resume
    assert metrics_of(run)["epochSeconds"][2] > state["partial"]["seconds"]


@pytest.mark.parametrize("line,where", [
    ("epoch   1/", "after epoch 1"),
    ("run directory:", "after epoch 0"),  # during the evaluation before training
])
def test_sigterm_between_steps_stops_after_the_epoch_and_resumes_exactly(
        tmp_path, capsys, monkeypatch, reference_run, line, where):
    with monkeypatch.context() as patch:
        interrupt_after(patch, line, signal.SIGTERM)
        assert main(["prog", *RUN_ARGS, f"--outputpath={tmp_path}"]) == 143
    run = run_dir_of(tmp_path)
    _interrupted_line(capsys, run, where, "SIGTERM")
    assert main(["prog", "--resume", str(run)]) == 0
    assert_same_run(reference_run, run)


def test_a_second_sigint_stops_at_once_and_the_run_stays_resumable(tmp_path, capsys,
                                                                  monkeypatch, reference_run):
    with monkeypatch.context() as patch:
        _signal_at_step(patch, 14, signal.SIGINT, signal.SIGINT)
        assert main(["prog", *RUN_ARGS, f"--outputpath={tmp_path}"]) == 130
    run = run_dir_of(tmp_path)
    out, err = capsys.readouterr()
    assert "interrupted by" not in out  # printed once, on stderr
    line = one_line(err, prefix="masktrainer: interrupted")
    assert line == f"masktrainer: interrupted; resume with: python -m masktrainer --resume {run}"
    assert metrics_of(run)["status"] == "running"  # no time was taken to record anything
    assert main(["prog", "--resume", str(run)]) == 0
    assert_same_run(reference_run, run)


def test_an_interrupt_before_the_run_exists_writes_nothing(tmp_path, capsys, monkeypatch):
    def interrupted(cfg):
        raise KeyboardInterrupt

    monkeypatch.setattr("masktrainer.run.trainer.load_data", interrupted)
    assert main(["prog", *RUN_ARGS, f"--outputpath={tmp_path}"]) == 130
    out, err = capsys.readouterr()
    assert "interrupted by" not in out  # printed once, on stderr
    line = one_line(err, prefix="masktrainer: interrupted")
    assert "nothing was written" in line
    assert list(tmp_path.iterdir()) == []


def test_real_processes_stopped_by_sigint_and_sigterm_resume_exactly(tmp_path, capsys,
                                                                    reference_run):
    processes = {signum: cli([*RUN_ARGS, f"--outputpath={tmp_path / signum.name}"])
                 for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum, process in processes.items():
        # The run's record first appears once its handlers are installed; signalling then
        # leaves both epochs ahead as margin. (Waiting for epoch 1 raced: while the test
        # waited on the first process, the second could finish its last epoch, restore the
        # default handlers and die of the signal.)
        metrics, deadline = tmp_path / signum.name, time.time() + 600
        while time.time() < deadline and process.poll() is None:
            if list(metrics.rglob("metrics.json")):
                break
            time.sleep(0.02)
        assert process.poll() is None, process.communicate()[1][-2000:]
        process.send_signal(signum)
    for signum, process in processes.items():
        _, err = process.communicate(timeout=600)
        assert process.returncode == 128 + signum, err[-2000:]
        run = run_dir_of(tmp_path / signum.name)
        line = one_line(err, prefix="masktrainer: interrupted")
        assert f"by {signum.name}" in line and line.endswith(f"--resume {run}")
        assert metrics_of(run)["status"] == "interrupted"
        assert main(["prog", "--resume", str(run)]) == 0
        assert_same_run(reference_run, run)
