"""Issue 14: a quiet, fast start; subcommands from one table; help grouped as a user thinks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import masktrainer
from masktrainer import commands
from masktrainer.cli import main

PACKAGE_ROOT = Path(masktrainer.__file__).resolve().parents[1]
CHECKOUT = Path(__file__).resolve().parents[1]  # setup.py lives here, not beside an install
NOISE = ("WARNING: All log messages before absl::InitializeLog()", "I0000 ", "E0000 ", "W0000 ")


def _masktrainer(*args: str, cwd: Path, importtime: bool = False) -> subprocess.CompletedProcess:
    """``python -m masktrainer ARGS`` as a user runs it (TF_CPP_MIN_LOG_LEVEL not set)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(PACKAGE_ROOT)
    extra = ["-X", "importtime"] if importtime else []
    return subprocess.run([sys.executable, *extra, "-m", "masktrainer", *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def _imported(stderr: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in stderr.splitlines()
            if line.startswith("import time:")}


def _other_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("import time:")]


@pytest.mark.parametrize("args", [["--help"], ["--lr=0"], ["--no_such_flag=1"],
                                  ["--traintype=Nope"], ["export", "--formats=onnx", "x"],
                                  ["--seeds=1,x"], ["--help", "--traintype=EdgePopup"]])
def test_help_and_bad_flags_answer_without_tensorflow_and_without_noise(args, tmp_path):
    done = _masktrainer(*args, f"--outputpath={tmp_path / 'o'}", cwd=tmp_path, importtime=True)
    imported = _imported(done.stderr)
    assert "absl.flags" in imported  # the import log is there
    assert not {"tensorflow", "keras"} & imported, sorted(imported & {"tensorflow", "keras"})
    lines = _other_lines(done.stderr)
    if "--help" in args:
        assert done.returncode == 0 and lines == [] and "Subcommands:" in done.stdout
    else:
        assert done.returncode == 2 and len(lines) == 1, done.stderr
        assert lines[0].startswith("masktrainer: error: ")
    assert not (tmp_path / "o").exists()


def test_a_real_run_starts_quietly_and_says_mirrored_found_one_replica(tmp_path):
    """No TensorFlow start-up lines on a run's stderr; --distribute=mirrored on one CPU
    device says so, and how to get more."""
    done = _masktrainer("--distribute=mirrored", "--maxepochs=0", "--seed=3",
                        "--validation_size=59000", "--eval_batchsize=2000", "--progress=none",
                        "--notensorboard", f"--outputpath={tmp_path / 'o'}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not [line for line in done.stderr.splitlines() if line.startswith(NOISE)], done.stderr
    notes = [line for line in done.stdout.splitlines() if "--distribute=mirrored" in line]
    assert len(notes) == 1 and "1 replica" in notes[0] and "--cpu_replicas=N" in notes[0]


def test_subcommands_dispatch_and_share_the_flag_convention(capsys, tmp_path):
    assert main(["masktrainer", "export", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: masktrainer export RUN_DIR") and "--[no]overwrite" in out
    assert main(["masktrainer", "export", str(tmp_path), "--no_such=1"]) == 2
    assert capsys.readouterr().err == "masktrainer: error: Unknown command line flag 'no_such'\n"
    # `train` is the default subcommand and may be named.
    assert main(["masktrainer", "train", "--lr=0"]) == 2
    assert capsys.readouterr().err.startswith("masktrainer: error: --lr must be")


def test_a_missing_subcommand_module_is_one_line(monkeypatch, capsys):
    monkeypatch.setitem(commands.SUBCOMMANDS, "evaluate",
                        commands.Subcommand("masktrainer.no_such_module", "main", "x", "x"))
    assert main(["masktrainer", "evaluate", "RUN"]) == 2
    assert capsys.readouterr().err == ("masktrainer: error: the evaluate subcommand is not "
                                       "available in this version\n")


def test_console_entry_point_is_declared():
    setup = (CHECKOUT / "setup.py").read_text()
    assert '"masktrainer = masktrainer.cli:main"' in setup and "console_scripts" in setup


@pytest.mark.parametrize("level", [None, "0"])
def test_the_filter_drops_start_up_lines_unless_the_user_chose_a_log_level(level, tmp_path):
    """What native code writes to descriptor 2 inside the filter (no TensorFlow needed)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(PACKAGE_ROOT)
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    code = ("import os; from masktrainer import quiet\n"
            "with quiet.filtered_stderr():\n"
            "    os.write(2, b'I0000 00:00:1.5   7 cudart_stub.cc:31] Could not find cuda\\n')\n"
            "    os.write(2, b'kept line\\n')\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    expected = ["kept line"] if level is None else [
        "I0000 00:00:1.5   7 cudart_stub.cc:31] Could not find cuda", "kept line"]
    assert done.stderr.splitlines() == expected
