"""``--resume RUN --maxepochs N``: a finished run extended where its recipe allows."""

import json

import pytest
from run_support import random_splits

from masktrainer.cli import UsageError, parse_commands
from masktrainer.config import RunConfig
from masktrainer.run.trainer import Trainer, train


def _finished(tmp_path, maxepochs=1, **settings):
    cfg = RunConfig(**settings, maxepochs=maxepochs, batchsize=50, seed=3, progress="none",
                    tensorboard=False, outputpath=str(tmp_path))
    return train(cfg, data=random_splits(), echo=None).run_dir


def _resume_args(run_dir, *extra):
    return ["masktrainer", f"--resume={run_dir}", *extra]


def test_a_finished_constant_lr_run_is_extended(tmp_path):
    run_dir = _finished(tmp_path, traintype="FreePruning")
    before = json.loads((run_dir / "metrics.json").read_text())
    with pytest.raises(UsageError, match="already complete.*--maxepochs"):
        parse_commands(_resume_args(run_dir))
    [command] = parse_commands(_resume_args(run_dir, "--maxepochs=3")).commands
    assert command.cfg.maxepochs == 3 and command.resume_dir == run_dir
    lines: list[str] = []
    Trainer(command.cfg, data=random_splits(), echo=lines.append, resume_dir=run_dir,
            resolved_seed=command.resolved_seed).run()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    assert metrics["status"] == "complete" and metrics["epochs_completed"] == 3
    assert len(metrics["testAccuracy"]) == 4
    assert metrics["testAccuracy"][:2] == before["testAccuracy"]  # the trained epochs kept
    assert metrics["trained"] is True and metrics["best"] is not None
    assert config["maxepochs"] == 3
    assert config["extended"] == [{"from": 1, "to": 3, "after_epoch": 1}]
    assert any("extending the run from 1 to 3 epochs; the constant learning rate continues: "
               "epochs 2-3 at lr 0.001" in line for line in lines)
    assert sum(line.startswith("epoch ") for line in lines) == 2  # epochs 2 and 3 only


def test_a_cosine_schedule_is_not_extended(tmp_path):
    # (after one epoch it could: cosine's first epoch runs at lr whatever the length)
    run_dir = _finished(tmp_path, 2, traintype="EdgePopup", keep_ratio=0.3,
                        initializer="signed_constant", lr=0.1)
    with pytest.raises(UsageError, match="its cosine learning-rate schedule spans --maxepochs, "
                       "so epoch 2 would have trained at lr 0.075, not 0.05"):
        parse_commands(_resume_args(run_dir, "--maxepochs=3"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "complete" and metrics["epochs_completed"] == 2


def test_fewer_epochs_than_trained_is_refused(tmp_path):
    run_dir = _finished(tmp_path, traintype="FreePruning")
    with pytest.raises(UsageError, match="already complete"):
        parse_commands(_resume_args(run_dir, "--maxepochs=1"))
    with pytest.raises(UsageError, match="already complete"):
        parse_commands(_resume_args(run_dir, "--maxepochs=0"))


def test_other_flags_are_still_refused_with_resume(tmp_path):
    run_dir = _finished(tmp_path, traintype="FreePruning")
    with pytest.raises(UsageError, match="drop --lr"):
        parse_commands(_resume_args(run_dir, "--maxepochs=3", "--lr=0.1"))
