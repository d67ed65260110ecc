"""A control character (a newline, a tab, ESC...) in any path the user gives is refused in one
line with exit status 2, before any work: otherwise a folder name holding a newline is created
and every message naming it comes out on two lines. One check (safe_io.control_character) does
it for every command: given paths, the output folders and the string settings."""

import json
import os
import shutil
from pathlib import Path

import pytest

from experiments.compare.__main__ import main as compare_main
from experiments.crosscheck.__main__ import main as crosscheck_main
from masktrainer.cli import main
from plotting import plotter

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "v0_runs" / "edgepopup_complete"

COMMANDS = {
    "outputpath": (main, ["prog", "--outputpath={bad}", "--maxepochs=1"]),
    "data_dir": (main, ["prog", "--data_dir={bad}", "--maxepochs=1"]),
    "resume": (main, ["prog", "--resume", "{bad}"]),
    "config": (main, ["prog", "--config", "{bad}"]),
    "flagfile": (main, ["prog", "--flagfile={bad}"]),
    "export-run": (main, ["prog", "export", "{bad}"]),
    "export-out": (main, ["prog", "export", "{run}", "--out", "{bad}"]),
    "evaluate-run": (main, ["prog", "evaluate", "--run", "{bad}"]),
    "evaluate-data_dir": (main, ["prog", "evaluate", "--run", "{run}", "--data_dir", "{bad}"]),
    "evaluate-weights": (main, ["prog", "evaluate", "--traintype", "LaPerm", "--nettype", "F1",
                                "--weights", "{bad}"]),
    "plotter-runs": (plotter.main, ["--runs", "{bad}"]),
    "plotter-out": (plotter.main, ["--runs", "{run}", "--out", "{bad}"]),
    "crosscheck": (crosscheck_main, ["--outputpath", "{bad}"]),
    "compare": (compare_main, ["--outputpath", "{bad}"]),
}


@pytest.mark.parametrize("char", ["\n", "\t", "\x1b"], ids=["newline", "tab", "escape"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_control_character_in_a_given_path_is_one_line_and_exit_2(tmp_path, capsys,
                                                                    monkeypatch, command, char):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    bad = tmp_path / f"a{char}b"
    run_main, args = COMMANDS[command]
    before = sorted(os.listdir(tmp_path))
    code = run_main([arg.format(bad=bad, run=run) for arg in args])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err, err
    assert "control character" in err and repr(char)[1:-1] in err, err
    assert char not in err[:-1] and out == ""
    assert sorted(os.listdir(tmp_path)) == before  # nothing created, the run untouched


@pytest.mark.parametrize("where", ["flagfile", "config"])
def test_a_newline_from_a_flag_file_or_a_config_file_is_refused(tmp_path, capsys, monkeypatch,
                                                                where):
    monkeypatch.chdir(tmp_path)
    target = str(tmp_path / "out\x1b[2Jputs")
    if where == "flagfile":
        (tmp_path / "run.flags").write_text(f"--outputpath={target}\n")
        args = [f"--flagfile={tmp_path / 'run.flags'}"]
    else:
        (tmp_path / "run.json").write_text(json.dumps({"outputpath": "a\nb"}))
        args = [f"--config={tmp_path / 'run.json'}"]
    before = sorted(os.listdir(tmp_path))
    assert main(["prog", *args, "--maxepochs=1", "--progress=none"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--outputpath must not contain a control character" in err
    assert sorted(os.listdir(tmp_path)) == before
