"""Run safety and scale-out: determinism, kill + resume, tf.distribute, TensorBoard, NaN stop."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import masktrainer
from masktrainer.cli import main
from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.run.monitors import TrainingDiverged
from masktrainer.run.rundir import load_arrays
from masktrainer.run.trainer import train

PACKAGE_ROOT = str(Path(masktrainer.__file__).resolve().parents[1])
SERIES = ("trainLoss", "valLoss", "testLoss", "trainAccuracy", "valAccuracy", "testAccuracy")


def _subset(s: Splits, n: int) -> Splits:
    return Splits(s.x_train[:n], s.y_train[:n], s.x_val[:1000], s.y_val[:1000],
                  s.x_test[:2000], s.y_test[:2000], s.num_classes, s.source)


def _same_run(a: Path, b: Path) -> None:
    ma, mb = (json.loads((p / "metrics.json").read_text()) for p in (a, b))
    for key in SERIES:
        assert ma[key] == mb[key], key
    for key in ("remainingWeights", "remainingWeightsPerLayer", "slotHistogramPerLayer"):
        assert ma.get(key) == mb.get(key), key
    arrays = sorted(p.name for p in a.glob("*.npz"))
    assert arrays and arrays == sorted(p.name for p in b.glob("*.npz"))
    for name in arrays:  # masks, selections, final weights...
        xa, xb = load_arrays(a / name), load_arrays(b / name)
        assert sorted(xa) == sorted(xb)
        for key in xa:
            np.testing.assert_array_equal(xa[key], xb[key], err_msg=f"{name}:{key}")


def test_deterministic_runs_are_bitwise_identical(tmp_path):
    # In subprocesses: op determinism is process-wide and cannot be switched off again.
    args = ["--maxepochs=2", "--batchsize=250", "--seed=11", "--deterministic", "--progress=none",
            "--notensorboard", "--validation_size=50000", f"--outputpath={tmp_path}"]
    for _ in range(2):
        process = _cli(args)
        assert process.wait(timeout=600) == 0, process.stderr.read()[-2000:]
    runs = sorted(p.parent for p in tmp_path.rglob("metrics.json"))
    assert len(runs) == 2 and runs[0] != runs[1]
    _same_run(*runs)


def _cli(args, **kwargs):
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    command = [sys.executable, "-m", "masktrainer", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)


@pytest.mark.parametrize("every,method", [
    (0, []), (7, []),
    # sampling every step: the random-generator state must come back too
    (7, ["--traintype=SlotMachine", "--selection=probabilistic", "--split=head", "--lr=50"]),
    # 5 steps per execution: checkpoints at the ends of the executions passing 7, 14, ...
    (7, ["--steps_per_execution=5"]),
], ids=["epoch-end", "mid-epoch", "mid-epoch-probabilistic-slots", "mid-epoch-chunked"])
def test_run_killed_with_sigkill_then_resumed_equals_uninterrupted(tmp_path, every, method):
    """Killed mid-epoch 2, resumed from the last epoch end (every=0) or from the last
    step checkpoint inside epoch 2 (every=7): the end result is identical."""
    common = ["--maxepochs=3", "--batchsize=250", "--seed=5", "--deterministic",
              "--progress=none", "--notensorboard", "--validation_size=45000",
              f"--checkpoint_every={every}", *method]
    full = _cli([*common, f"--outputpath={tmp_path / 'full'}"])
    assert full.wait(timeout=600) == 0, full.stderr.read()[-2000:]

    def ready(state):
        if every:
            partial = state.get("partial")
            assert partial is None or partial["seconds"] > 0  # the epoch's time so far
            return state.get("partial", {}).get("epoch") == 2
        return state["epoch"] >= 1

    killed = _cli([*common, f"--outputpath={tmp_path / 'killed'}"])
    state_file, deadline = None, time.time() + 600
    while time.time() < deadline and killed.poll() is None:
        try:
            found = list((tmp_path / "killed").rglob("resume.json"))
            if found and ready(json.loads(found[0].read_text())):
                state_file = found[0]
                break
        except (ValueError, FileNotFoundError):  # TF's ckpt-N_temp folder went mid-scan
            pass
        time.sleep(0.02)
    assert state_file is not None, "the run never reached the kill point"
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    run_dir = state_file.parent.parent
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "running"

    resumed = _cli(["--resume", str(run_dir), "--progress=none"])
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err[-2000:]
    assert ("in epoch 2 after step" if every else "resuming") in out
    full_dir = next((tmp_path / "full").rglob("metrics.json")).parent
    _same_run(full_dir, run_dir)


def test_mirrored_strategy_matches_single_device(tmp_path, mnist_splits):
    if len(tf.config.list_logical_devices("CPU")) < 2:
        pytest.skip("needs 2 logical CPU devices (set up in conftest.py)")
    data = _subset(mnist_splits, 5000)
    results = {}
    for mode in ("none", "mirrored"):
        cfg = RunConfig(maxepochs=1, batchsize=100, seed=3, distribute=mode,
                        outputpath=str(tmp_path / mode), progress="none", tensorboard=False)
        results[mode] = train(cfg, data=data, echo=None)
    single, mirrored = results["none"].metrics, results["mirrored"].metrics
    # Same global batch and data order; only the gradient summation order differs.
    assert abs(single["testAccuracy"][-1] - mirrored["testAccuracy"][-1]) <= 0.005
    assert abs(single["trainLoss"][-1] - mirrored["trainLoss"][-1]) <= 0.01
    changed = abs(single["remainingWeights"][-1] - mirrored["remainingWeights"][-1])
    assert changed <= 0.01 * 266_200
    config = json.loads((results["mirrored"].run_dir / "config.json").read_text())
    assert config["distribute"] == "mirrored"


def test_tensorboard_scalars_and_histograms(tmp_path, mnist_splits):
    cfg = RunConfig(maxepochs=1, batchsize=200, seed=2, outputpath=str(tmp_path),
                    progress="none")
    run_dir = train(cfg, data=_subset(mnist_splits, 2000), echo=None).run_dir
    tags = {}
    for sub in ("train", "validation", "test"):  # Keras' subruns (tests/run/test_tensorboard)
        files = list((run_dir / "tensorboard" / sub).glob("events.out.tfevents.*"))
        assert files, sub
        for record in tf.data.TFRecordDataset([str(f) for f in files]):
            event = tf.compat.v1.Event.FromString(record.numpy())
            tags.setdefault(sub, set()).update(value.tag for value in event.summary.value)
    assert {"epoch_accuracy", "epoch_loss"} <= tags["test"] & tags["validation"]
    assert {"epoch_loss", "epoch_learning_rate", "remainingWeights"} <= tags["train"]
    assert "score/dense_1" in tags["train"]  # histograms of the scores
    assert "remainingWeightsPerLayer/dense_1/zero_masks" in tags["train"]  # per layer, named


@pytest.mark.parametrize("spe,where", [
    (1, r"at epoch 1, step \d+;"),
    (4, r"at epoch 1, the execution ending at step (\d+) \(checked every 4 steps\);"),
])
def test_non_finite_loss_stops_with_epoch_and_step(tmp_path, mnist_splits, spe, where):
    cfg = RunConfig(traintype="Baseline", lr=1e12, maxepochs=2, batchsize=100, seed=1,
                    outputpath=str(tmp_path), progress="none", tensorboard=False,
                    steps_per_execution=spe)
    with pytest.raises(TrainingDiverged, match=where) as raised:
        train(cfg, data=_subset(mnist_splits, 3000), echo=None)
    if spe > 1:  # an execution's end: a multiple of 4, or the epoch's last step (30)
        step = int(re.search(where, str(raised.value)).group(1))
        assert step % 4 == 0 or step == 30
    metrics = json.loads(next(tmp_path.rglob("metrics.json")).read_text())
    assert metrics["status"] == "diverged" and metrics["epochs_completed"] == 0


def test_mixed_precision_is_refused_on_cpu(tmp_path, capsys):
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is present")
    assert main(["prog", "--mixed_precision", f"--outputpath={tmp_path / 'o'}"]) == 2
    assert "--precision=mixed_float16 needs a GPU" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_divergence_exits_3(tmp_path, capsys):
    code = main(["prog", "--traintype=Baseline", "--lr=1e12", "--maxepochs=2", "--batchsize=500",
                 "--notensorboard", "--progress=none", f"--outputpath={tmp_path}"])
    assert code == 3
    assert "loss became" in capsys.readouterr().err
