"""Run directories written by the previous version (tests/fixtures/v0_runs) still plot, export
and resume.

The fixtures were written by commit 4b2081f (before the methods package): LeNet (and
LaPerm's F1) on MNIST average-pooled to 4x4, the first 600/200/200 train/val/test images,
seed 7, batch 100, no TensorBoard; see tests/fixtures/v0_runs/README.md.
"""

import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

import plotting
from masktrainer.config import RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.export.cli import export_run
from masktrainer.export.compact import load_compact
from masktrainer.methods import register_keras_objects
from masktrainer.methods.upgrade import config_values
from masktrainer.run.rundir import load_arrays
from masktrainer.run.trainer import Trainer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "v0_runs"
COMPLETE = ("freepruning_complete", "edgepopup_complete", "slotmachine_complete",
            "laperm_complete")


def _pool(x: np.ndarray) -> np.ndarray:  # 28x28x1 -> 4x4x1 by 7x7 means, as the fixtures
    return x.reshape(len(x), 4, 7, 4, 7, 1).mean(axis=(2, 4)).astype(np.float32)


@pytest.fixture(scope="module")
def fixture_data(mnist_splits) -> Splits:
    s = mnist_splits
    return Splits(_pool(s.x_train[:600]), s.y_train[:600], _pool(s.x_val[:200]), s.y_val[:200],
                  _pool(s.x_test[:200]), s.y_test[:200], 10, s.source)


@pytest.fixture()
def runs(tmp_path) -> Path:
    root = tmp_path / "v0_runs"
    shutil.copytree(FIXTURES, root, ignore=shutil.ignore_patterns("README.md"))
    return root


def test_old_runs_still_plot(runs, tmp_path):
    figures = plotting.plot_runs(runs, out=tmp_path / "figures", compare="traintype")
    assert {"accuracy_loss", "compare_traintype", "weight_profiles"} <= set(figures)
    written = {p.name for p in (tmp_path / "figures").iterdir()}
    assert {"accuracy_loss.png", "compare_traintype.png", "summary.md"} <= written
    summary = (tmp_path / "figures" / "summary.md").read_text()
    for traintype in ("FreePruning", "EdgePopup", "SlotMachine", "LaPerm"):
        assert traintype in summary


@pytest.mark.parametrize("name", COMPLETE)
def test_old_runs_still_export_plain_and_compact(runs, name, tmp_path):
    run_dir = runs / name
    result = export_run(run_dir, tmp_path / "export", echo=None)
    register_keras_objects()
    trained = keras.models.load_model(run_dir / "model.keras", compile=False)
    plain = keras.models.load_model(result.files["plain"], compile=False)
    x = np.random.RandomState(0).rand(32, *trained.input_shape[1:]).astype(np.float32)
    np.testing.assert_allclose(plain.predict(x, verbose=0), trained.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    rebuilt = load_compact(result.files["compact"])
    for got, want in zip(rebuilt.weights, plain.weights):
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=want.path)


def test_old_interrupted_run_resumes_like_a_new_run(runs, fixture_data, tmp_path):
    run_dir = runs / "freepruning_interrupted"
    config = json.loads((run_dir / "config.json").read_text())
    before = json.loads((run_dir / "metrics.json").read_text())
    cfg = RunConfig.from_dict({**config_values(config), "progress": "none"})
    Trainer(cfg, data=fixture_data, echo=None, resume_dir=run_dir,
            resolved_seed=config["resolved_seed"]).run()
    resumed = json.loads((run_dir / "metrics.json").read_text())
    assert resumed["status"] == "complete" and resumed["epochs_completed"] == 2
    assert resumed["testAccuracy"][:2] == before["testAccuracy"][:2]  # recorded epochs kept

    # The recorded epochs and the checkpoint were computed on the machine that wrote the
    # fixture; a fresh run here may differ from them in the last bits (CPUs and oneDNN kernels
    # differ), so floats agree within float32 rounding and counts agree exactly.
    fresh = Trainer(cfg.replace(outputpath=str(tmp_path / "fresh")), data=fixture_data,
                    echo=None, resolved_seed=config["resolved_seed"]).run()
    for key in ("trainLoss", "valLoss", "testLoss", "testAccuracy"):
        assert len(resumed[key]) == len(fresh.metrics[key]), key
        np.testing.assert_allclose(resumed[key], fresh.metrics[key], rtol=1e-5, err_msg=key)
    assert resumed["remainingWeights"] == fresh.metrics["remainingWeights"]
    for key, mask in load_arrays(fresh.run_dir / "masks.npz").items():
        np.testing.assert_array_equal(load_arrays(run_dir / "masks.npz")[key], mask)


def test_old_runs_get_the_protocol_they_followed(runs, tmp_path):
    # Before --protocol (and --eval_sets) every run held out the head and evaluated val and
    # test each epoch: the held-out protocol (Slot Machines and self-pruning: their original's).
    expected = {"freepruning_complete": "original", "edgepopup_complete": "held_out",
                "slotmachine_complete": "held_out", "laperm_complete": "held_out"}
    for name, protocol in expected.items():
        config = json.loads((runs / name / "config.json").read_text())
        assert "protocol" not in config
        cfg = RunConfig.from_dict(config_values(config))
        assert cfg.protocol == protocol, name
    plotting.plot_runs(runs, out=tmp_path / "figures")
    summary = (tmp_path / "figures" / "summary.md").read_text()
    assert "held_out (test at best val)" in summary
