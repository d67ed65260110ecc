"""``--maxepochs 0`` (evaluate only): every method evaluates its untrained model once."""

import json

import pytest
from run_support import random_splits

from masktrainer import methods
from masktrainer.config import RunConfig
from masktrainer.run.trainer import train

METHODS = {method.key: method for method in methods.METHODS}


@pytest.mark.parametrize("key", list(METHODS))
def test_evaluate_only_evaluates_epoch_0_for_every_method(key, tmp_path):
    method = METHODS[key]
    settings = {"traintype": method.train_types[0], **method.recipe.example()}
    cfg = RunConfig(**settings, maxepochs=0, batchsize=50, seed=3, progress="none",
                    tensorboard=False, outputpath=str(tmp_path))
    lines: list[str] = []
    result = train(cfg, data=random_splits(), echo=lines.append)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["epochs_completed"] == 0 and metrics["trained"] is False
    evaluated = [name for name in ("val", "test") if name in cfg.eval_sets.split(",")]
    assert evaluated, cfg.eval_sets
    for name in evaluated:  # what the method's original evaluates, once
        assert len(metrics[f"{name}Accuracy"]) == 1
        assert metrics[f"{name}Accuracy"][0] is not None
    done = [line for line in lines if line.startswith("done:")]
    assert len(done) == 1 and "evaluated only, untrained (--maxepochs 0)" in done[0]
    assert "nothing evaluated" not in done[0]
    assert not any(line.startswith("best ") for line in lines)
