"""NaN or infinite weights are never scored without a word (issue 21, class 8): ``evaluate
--run`` on a run whose ``model.keras`` holds them is one line, exit 2, and the run is left as
it was (the ``.h5`` side is in test_hostile_h5.py); ``--resume`` from a checkpoint holding
them is refused the same way, naming the checkpoint to resume from instead."""

import numpy as np
import pytest
from safety_support import EPOCHS, RUN_ARGS, interrupt_after, one_line, run_dir_of, snapshot

from masktrainer.cli import main
from masktrainer.config import RunConfig
from masktrainer.run.trainer import train


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_evaluate_refuses_a_run_with_non_finite_weights(tmp_path, capsys, value):
    import keras

    from masktrainer import methods

    cfg = RunConfig(traintype="FreePruning", nettype="LeNet", maxepochs=0, seed=3,
                    outputpath=str(tmp_path), progress="none")
    run_dir = train(cfg, echo=None).run_dir
    methods.register_keras_objects()
    model = keras.models.load_model(run_dir / "model.keras", compile=False)
    weight = next(w for w in model.weights if w.dtype == "float32" and len(w.shape) == 2)
    values = np.asarray(weight).copy()
    values[0, 0] = value
    weight.assign(values)
    model.save(run_dir / "model.keras")
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    capsys.readouterr()
    code = main(["prog", "evaluate", "--run", str(run_dir)])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2 and "test accuracy" not in captured.out
    assert len(lines) == 1 and lines[0].startswith("masktrainer: error: "), captured.err
    assert "holds 1 NaN or infinite value(s); refusing to score" in lines[0]
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before


def test_resume_refuses_a_checkpoint_with_non_finite_weights(tmp_path, capsys, monkeypatch):
    from masktrainer.run.checkpoints import RunCheckpoint

    original = RunCheckpoint.save

    def save_poisoned(self, *args, **kwargs):  # the files hold a NaN; training goes on clean
        weight = next(w for w in self.checkpoint.model.weights if len(w.shape) == 2)
        clean = np.asarray(weight).copy()
        poisoned = clean.copy()
        poisoned[0, 0] = np.nan
        weight.assign(poisoned)
        try:
            original(self, *args, **kwargs)
        finally:
            weight.assign(clean)

    monkeypatch.setattr(RunCheckpoint, "save", save_poisoned)
    interrupt_after(monkeypatch, f"epoch   1/{EPOCHS}")
    assert main(["prog", *RUN_ARGS, f"--outputpath={tmp_path}"]) == 130
    monkeypatch.undo()
    run = run_dir_of(tmp_path)
    before = snapshot(run)
    capsys.readouterr()
    assert main(["prog", "--resume", str(run)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "holds 1 NaN or infinite value(s)" in line and "ckpt-10" in line
    assert "--resume_checkpoint ckpt-5" in line  # the previous one, named (it holds one too)
    assert snapshot(run) == before
