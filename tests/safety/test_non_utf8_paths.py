"""Issue 21, class 7: a path that is not valid UTF-8 (its undecodable bytes reach Python as lone
surrogates) is refused in one line before any run folder exists when a run would record it,
whether it comes on the command line, in a flag file or in a --config file; a --config file at
such a path is read as any other. A finished run moved to such a path still plots and exports,
and every path printed reaches even a strict UTF-8 console (as \\udcXX)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from masktrainer.cli import main

BAD = "o\udcff"  # the bytes b"o\xff" as os.fsdecode gives them


def _one_line(capsys, start):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"masktrainer: error: {start}"), err
    return err


@pytest.mark.parametrize("where", ["argv", "flagfile", "config"])
def test_a_non_utf8_outputpath_is_one_line_before_any_folder(tmp_path, capsys, monkeypatch,
                                                             where):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / BAD
    if where == "argv":
        args = [f"--outputpath={target}"]
    elif where == "flagfile":
        (tmp_path / "run.flags").write_bytes(b"--outputpath=" + os.fsencode(target) + b"\n")
        args = [f"--flagfile={tmp_path / 'run.flags'}"]
    else:
        (tmp_path / "run.json").write_text(json.dumps({"outputpath": str(target)}))
        args = [f"--config={tmp_path / 'run.json'}"]
    before = sorted(os.listdir(tmp_path))
    code = main(["prog", *args, "--maxepochs=0", "--progress=none"])
    assert code == 2
    assert "UTF-8" in _one_line(capsys, "")  # a flag file's own bytes, or the setting
    assert sorted(os.listdir(tmp_path)) == before and not target.exists()


def test_a_config_file_at_a_non_utf8_path_is_read(tmp_path, capsys):
    path = tmp_path / "c\udcff.json"
    path.write_text(json.dumps({"lr": 0.01}))
    assert main(["prog", f"--config={path}", "--print_config"]) == 0
    assert json.loads(capsys.readouterr().out)["lr"] == 0.01


FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "v0_runs" / "edgepopup_complete"


@pytest.mark.parametrize("command", [["plotting.plotter", "--runs"], ["masktrainer", "export"]])
def test_a_run_at_a_non_utf8_path_plots_and_exports_on_a_strict_console(tmp_path, command):
    run = tmp_path / BAD / "run"
    shutil.copytree(FIXTURE, run)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-m", *command, str(run)], capture_output=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    assert b"Traceback" not in result.stderr
    assert b"o\\udcff" in result.stdout  # the printed paths, escaped
    written = (run / "summary.md") if command[0] == "plotting.plotter" else (
        run / "export" / "compact.npz")
    assert written.is_file()
    if command[0] == "plotting.plotter":
        written.read_bytes().decode("utf-8")  # the summary stays valid UTF-8
