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


@pytest.mark.parametrize("stop,code,signame", [(_interrupt, 130, "SIGINT"),
                                              (_terminate, 143, "SIGTERM")])
def test_an_interrupted_export_is_one_line_and_leaves_the_earlier_export(run, capsys,
                                                                        monkeypatch, stop,
                                                                        code, signame):
    """Ctrl-C, and SIGTERM taking the same path: no temporaries, the handler put back."""
    assert export_cli(capsys, run)[0] == 0
    before = snapshot(run)
    monkeypatch.setattr(export_cli_module, "_write_export", stop)
    status, err = export_cli(capsys, run, "--overwrite")
    assert status == code
    assert one_line(err).startswith(f"masktrainer: error: export interrupted ({signame})")
    assert snapshot(run) == before
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.parametrize("stop,code,signame", [(_interrupt, 130, "SIGINT"),
                                              (_terminate, 143, "SIGTERM")])
def test_an_interrupted_evaluate_is_one_line(run, capsys, monkeypatch, stop, code, signame):
    monkeypatch.setattr(evaluate_cli, "evaluate", stop)
    before = snapshot(run)
    capsys.readouterr()
    assert main(["masktrainer", "evaluate", "--run", str(run)]) == code
    assert one_line(capsys.readouterr().err) == (f"masktrainer: error: evaluate interrupted "
                                                 f"({signame}); nothing was written")
    assert snapshot(run) == before
