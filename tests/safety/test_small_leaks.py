"""Issue 21, class 8: small leaks. Training and plotting write nothing into $HOME (no
~/.keras/keras.json, no matplotlib cache) unless the user has those folders already; the
resume command printed after an interrupt survives a path with a space; a --grid whose values
are equal once parsed never trains one run twice."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

from safety_support import PACKAGE_ROOT, RUN_ARGS

from masktrainer.cli import main
from masktrainer.run.resume import resume_command


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("KERAS_HOME", "MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    return {**env, "HOME": str(home), "PYTHONPATH": PACKAGE_ROOT, "MPLBACKEND": "Agg"}


def test_training_and_plotting_write_nothing_into_home(tmp_path):
    home, out = tmp_path / "home", tmp_path / "Outputs"
    home.mkdir()
    train = subprocess.run([sys.executable, "-m", "masktrainer", *RUN_ARGS, "--maxepochs=1",
                            f"--outputpath={out}"], env=_env(home), capture_output=True,
                           text=True, timeout=600)
    assert train.returncode == 0, train.stderr
    plot = subprocess.run([sys.executable, "-m", "plotting.plotter", "--runs", str(out),
                           "--out", str(tmp_path / "figures")], env=_env(home),
                          capture_output=True, text=True, timeout=600)
    assert plot.returncode == 0, plot.stderr
    assert list(home.rglob("*")) == []
    assert (tmp_path / "figures" / "summary.md").is_file()


def test_a_users_own_keras_folder_is_used_as_before(tmp_path):
    home = tmp_path / "home"
    (home / ".keras").mkdir(parents=True)
    probe = ("import masktrainer, os; print(os.environ.get('KERAS_HOME', '-'), "
             "os.environ.get('MPLCONFIGDIR', '-'))")
    result = subprocess.run([sys.executable, "-c", probe], env=_env(home), capture_output=True,
                            text=True, timeout=120)
    keras_home, mpl = result.stdout.split()
    assert keras_home == "-"  # ~/.keras exists: Keras reads the user's settings there
    assert mpl != "-" and not mpl.startswith(str(home))


def test_the_resume_command_survives_a_path_with_a_space_and_quotes():
    run = Path("/data/my runs/it's/run-1234567")
    command = resume_command(run, "ckpt-5")
    assert shlex.split(command) == ["python", "-m", "masktrainer", "--resume", str(run),
                                    "--resume_checkpoint", "ckpt-5"]


def test_grid_values_equal_once_parsed_are_refused(tmp_path, capsys):
    out = tmp_path / "Outputs"
    args = [a for a in RUN_ARGS if not a.startswith("--seed=")]
    capsys.readouterr()
    assert main(["prog", *args, "--seeds=5", "--grid", "lr=0.001,0.0010",
                 f"--outputpath={out}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("masktrainer: error: sweep members 'seed 5, lr=0.001' and "
                          "'seed 5, lr=0.0010' are the same run"), err
    assert not out.exists()
