"""Helpers of the run-safety tests (issue 13): small real runs and the checks every case
makes (exit status, one line without traceback, nothing outside the run changed).

The runs are LeNet FreePruning on the embedded MNIST with 1,000 training images
(``--validation_size=59000``), batch 100 (10 steps per epoch, a checkpoint after step 5 and at
the end of each), so the command line itself loads the data, trains and resumes in a few
seconds per epoch, in this process.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

import masktrainer
from masktrainer.run.rundir import RunDirectory, load_arrays

PACKAGE_ROOT = str(Path(masktrainer.__file__).resolve().parents[1])
EPOCHS = 2
RUN_ARGS = [f"--maxepochs={EPOCHS}", "--batchsize=100", "--seed=5", "--validation_size=59000",
            "--eval_batchsize=2000", "--checkpoint_every=5", "--progress=none", "--notensorboard"]
SERIES = ("trainLoss", "valLoss", "testLoss", "trainAccuracy", "valAccuracy", "testAccuracy",
          "remainingWeights", "remainingWeightsPerLayer")
# Lines TensorFlow's C++ start-up writes to a subprocess's stderr whatever the library does.
TF_NOISE = ("WARNING: All log messages before absl::InitializeLog()", "I0000 ", "E0000 ", "W0000 ")


def run_dir_of(root: Path) -> Path:
    found = sorted(p.parent for p in root.rglob("config.json"))
    assert len(found) == 1, found
    return found[0]


def one_line(err: str, prefix: str = "masktrainer: error: ") -> str:
    """The single line on stderr (TensorFlow's start-up chatter aside); asserts its form."""
    lines = [line for line in err.splitlines() if line and not line.startswith(TF_NOISE)]
    assert len(lines) == 1 and lines[0].startswith(prefix), err
    assert "Traceback" not in err, err
    return lines[0]


def snapshot(root: Path, skip: Path | None = None) -> dict[str, bytes]:
    """Every file below ``root`` (except below ``skip``) with its bytes (links: their target)."""
    found = {}
    for path in sorted(root.rglob("*")):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        if path.is_symlink():
            found[str(path)] = b"->" + os.readlink(path).encode()
        elif path.is_file():
            found[str(path)] = path.read_bytes()
    return found


def metrics_of(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def assert_same_run(reference: Path, run: Path) -> None:
    """Bit for bit: the metrics series, the masks and every weight of model.keras."""
    a, b = metrics_of(reference), metrics_of(run)
    assert b["status"] == "complete" and b["epochs_completed"] == EPOCHS
    for key in SERIES:
        assert a[key] == b[key], key
    for key, value in load_arrays(reference / "masks.npz").items():
        np.testing.assert_array_equal(load_arrays(run / "masks.npz")[key], value, err_msg=key)
    import keras

    from masktrainer import methods

    methods.register_keras_objects()
    want, got = (keras.models.load_model(path / "model.keras", compile=False)
                 for path in (reference, run))
    for w, g in zip(want.weights, got.weights):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w), err_msg=w.path)


def interrupt_after(monkeypatch, line_start: str, signum: int = signal.SIGINT) -> None:
    """Send ``signum`` to this process when the run logs a line starting with ``line_start``."""
    original = RunDirectory.log

    def log(self, line, *args, **kwargs):
        original(self, line, *args, **kwargs)
        if line.startswith(line_start):
            os.kill(os.getpid(), signum)

    monkeypatch.setattr(RunDirectory, "log", log)


def cli(args: list[str], **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT, "TF_CPP_MIN_LOG_LEVEL": "3",
           **kwargs.pop("env", {})}
    return subprocess.Popen([sys.executable, "-m", "masktrainer", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def export_cli(capsys, *args) -> tuple[int, str]:
    """``python -m masktrainer export ARGS`` in this process: (exit status, stderr)."""
    from masktrainer.cli import main

    capsys.readouterr()
    code = main(["masktrainer", "export", *map(str, args)])
    return code, capsys.readouterr().err

#: A file outside the run or output folder that no command may change.
VICTIM = b"precious data outside the run or output folder\n"
