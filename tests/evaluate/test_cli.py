"""`python -m masktrainer evaluate`: checkpoints written here (both layouts), finished runs, bad input."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from masktrainer.cli import main
from masktrainer.config import RunConfig
from masktrainer.data.sources import load_embedded_mnist
from masktrainer.methods import get_method
from masktrainer.methods.train_by_reconnect import LAPERM_NETS
from masktrainer.run.trainer import train

PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: relative path -> (size, mtime in ns)."""
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in sorted(folder.rglob("*"))}


def _f1_accuracy(kernel: np.ndarray) -> str:
    """The notebook's F1 on the MNIST test set, in NumPy: argmax of (x / 255) @ W."""
    raw = load_embedded_mnist()
    x = raw.x_test.reshape(len(raw.x_test), -1).astype(np.float32) / 255.0
    return f"test accuracy {100 * np.mean(np.argmax(x @ kernel, axis=1) == raw.y_test):.2f}%"


@pytest.mark.parametrize("whole_model", [False, True])
def test_an_f1_checkpoint_scores_what_its_kernel_scores(keras2, tmp_path, capsys, whole_model):
    kernel = keras2.agnostic_kernel(11 + whole_model)
    path = keras2.write(tmp_path / "F1.h5", keras2.f1_layers(kernel), whole_model=whole_model)
    before = _tree(tmp_path)
    code = main(["prog", "evaluate", "--traintype", "LaPerm", "--nettype", "F1",
                 "--weights", str(path)])
    out = capsys.readouterr().out
    assert code == 0
    assert _tree(tmp_path) == before  # nothing written beside the checkpoint
    assert "dropped 1 all-zero bias vector(s)" in out and "normalization scale01" in out
    assert out.strip().splitlines()[-1] == _f1_accuracy(kernel)


def test_every_notebook_model_has_a_preset_with_its_data_use():
    checkpoints = get_method("LaPerm").checkpoints
    configs = {net: RunConfig(**checkpoints.settings(net)) for net in LAPERM_NETS}
    assert {net: cfg.split for net, cfg in configs.items()} == dict.fromkeys(LAPERM_NETS, "test")
    assert {net: cfg.normalization for net, cfg in configs.items()} == {
        "F1": "scale01", "F2": "scale01", "Conv7": "scale01", "Conv2": "raw255",
        "Conv4": "raw255", "Conv13": "raw255", "ResNet50": "mean_only"}


def test_a_finished_run_is_evaluated_with_its_own_config(tmp_path, capsys):
    cfg = RunConfig(traintype="FreePruning", nettype="LeNet", maxepochs=0, seed=3,
                    outputpath=str(tmp_path), progress="none")
    result = train(cfg, echo=None)
    before = _tree(result.run_dir)
    code = main(["prog", "evaluate", "--run", str(result.run_dir)])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert _tree(result.run_dir) == before  # the run directory is only read
    recorded = result.metrics["testAccuracy"][-1]
    assert out[-1] == f"test accuracy {100 * recorded:.2f}%"
    assert "normalization train_stats" in "\n".join(out)


def _error(capsys, args) -> str:
    code = main(["prog", "evaluate", *args])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.startswith("masktrainer: error:")
    assert len(captured.err.strip().splitlines()) == 1
    return captured.err


def test_bad_checkpoints_are_one_line_errors_with_exit_2(keras2, tmp_path, capsys):
    good = keras2.write(tmp_path / "good.h5", keras2.f1_layers(keras2.agnostic_kernel(1)))
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[:3000])
    text = tmp_path / "text.h5"
    text.write_text("hello\n")
    wide = keras2.write(tmp_path / "wide.h5", keras2.f1_layers(keras2.agnostic_kernel(2, (784, 9))))
    bias = np.full(10, 0.01, np.float32)
    biased = keras2.write(tmp_path / "biased.h5",
                          keras2.f1_layers(keras2.agnostic_kernel(3), bias))
    f1 = ["--traintype", "LaPerm", "--nettype", "F1", "--weights"]
    assert "cannot be read (truncated or corrupt" in _error(capsys, [*f1, str(cut)])
    assert "is not an HDF5 file" in _error(capsys, [*f1, str(text)])
    assert "does not exist" in _error(capsys, [*f1, str(tmp_path / "none.h5")])
    assert "needs [(784, 10)]" in _error(capsys, [*f1, str(wide)])
    assert "is not zero (max |b| 0.01)" in _error(capsys, [*f1, str(biased)])
    assert "F2 has 3" in _error(capsys, ["--traintype", "LaPerm", "--nettype", "F2",
                                          "--weights", str(good)]).replace("model has", "F2 has")


@pytest.mark.parametrize("args, message", [
    ([], "give --weights"),
    (["--weights", "x.h5"], "needs --traintype LaPerm"),
    (["--traintype", "FreePruning", "--weights", "x.h5"], "needs --traintype LaPerm"),
    (["--traintype", "LaPerm", "--weights", "x.h5"], "needs --nettype"),
    (["--traintype", "LaPerm", "--nettype", "LeNet", "--weights", "x.h5"], "needs --nettype"),
    (["--weights", "x.h5", "--run", "."], "not both"),
    (["--run", "/no/such/run"], "does not exist"),
    (["--run", ".", "--nettype", "F1"], "drop --nettype"),
    (["--no_such_flag=1"], "no_such_flag"),
    (["stray"], "unexpected argument"),
    (["--run", ".", "--data_dir", "/no/such/folder"], "not a directory"),
])
def test_bad_command_lines_are_one_line_errors_with_exit_2(capsys, args, message):
    assert message in _error(capsys, args)


def test_incomplete_and_foreign_run_directories_are_refused(tmp_path, capsys):
    assert "not a run directory" in _error(capsys, ["--run", str(tmp_path)])
    (tmp_path / "config.json").write_text('{"resolved_seed": 1}')
    (tmp_path / "metrics.json").write_text('{"status": "running"}')
    assert "is incomplete" in _error(capsys, ["--run", str(tmp_path)])


def test_bad_input_is_refused_before_tensorflow_is_imported(keras2, tmp_path):
    """Flags, the .h5 file and the run directory are checked without TensorFlow."""
    text = tmp_path / "text.h5"
    text.write_text("hello\n")
    probe = ("import sys; from masktrainer.cli import main; "
             f"code = main(['prog', 'evaluate', '--traintype', 'LaPerm', '--nettype', 'F1', "
             f"'--weights', {str(text)!r}]); "
             "assert code == 2, code; "
             "loaded = {'tensorflow', 'keras'} & set(sys.modules); "
             "assert not loaded, loaded")
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "masktrainer: error:" in done.stderr and "is not an HDF5 file" in done.stderr


def test_a_run_whose_settings_do_not_fit_its_model_is_one_line(tmp_path, capsys):
    # The v0 fixture's model was trained on 4x4 images; its config.json says MNIST (28x28).
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "v0_runs" / "edgepopup_complete"
    assert main(["prog", "evaluate", "--run", str(fixture)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "takes inputs of shape (4, 4, 1)" in err and "(28, 28, 1)" in err
