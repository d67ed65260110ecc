"""Issue 21, class 7: Ctrl-C in export and evaluate is one line and exit status 130, never a
traceback; an interrupted export leaves every earlier file whole."""

import os
import shutil
import signal

import pytest
from safety_support import export_cli, one_line, snapshot

import masktrainer.evaluate.cli as evaluate_cli
import masktrainer.export.cli as export_cli_module
from masktrainer.cli import main


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def _terminate(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)  # the command's handler raises before this returns
    raise AssertionError("SIGTERM was not handled")


@pytest.fixture()
def run(reference_run, tmp_path):
    target = tmp_path / "run"
    shutil.copytree(reference_run, target)
    return target


def test_an_interrupted_export_is_one_line_and_leaves_the_earlier_export(run, capsys,
                                                                        monkeypatch):
    assert export_cli(capsys, run)[0] == 0
    before = snapshot(run)
    monkeypatch.setattr(export_cli_module, "_write_export", _interrupt)
    code, err = export_cli(capsys, run, "--overwrite")
    assert code == 130
    assert one_line(err).startswith("masktrainer: error: export interrupted")
    assert snapshot(run) == before


def test_an_interrupted_evaluate_is_one_line(run, capsys, monkeypatch):
    monkeypatch.setattr(evaluate_cli, "evaluate", _interrupt)
    before = snapshot(run)
    capsys.readouterr()
    assert main(["masktrainer", "evaluate", "--run", str(run)]) == 130
    assert one_line(capsys.readouterr().err) == ("masktrainer: error: evaluate interrupted "
                                                 "(SIGINT); nothing was written")
    assert snapshot(run) == before


def test_sigterm_stops_export_like_ctrl_c_and_leaves_no_temporaries(run, capsys, monkeypatch):
    assert export_cli(capsys, run)[0] == 0
    before = snapshot(run)
    monkeypatch.setattr(export_cli_module, "_write_export", _terminate)
    code, err = export_cli(capsys, run, "--overwrite")
    assert code == 143
    assert one_line(err).startswith("masktrainer: error: export interrupted (SIGTERM)")
    assert snapshot(run) == before
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


def test_sigterm_stops_evaluate_like_ctrl_c(run, capsys, monkeypatch):
    monkeypatch.setattr(evaluate_cli, "evaluate", _terminate)
    capsys.readouterr()
    assert main(["masktrainer", "evaluate", "--run", str(run)]) == 143
    assert one_line(capsys.readouterr().err) == ("masktrainer: error: evaluate interrupted "
                                                 "(SIGTERM); nothing was written")
