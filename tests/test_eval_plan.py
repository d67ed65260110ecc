"""What a run evaluates, and when: each original's sets by default, --eval_every,
--eval_train_size and --initial_eval; a set or an epoch not evaluated records null, and a
run with thinned evaluation resumes exactly."""

import json

import pytest
from run_support import random_splits as _data

from masktrainer.config import RunConfig
from masktrainer.errors import ConfigError
from masktrainer.run.evaluation import best_epoch
from masktrainer.run.trainer import Trainer, train


class Stop(Exception):
    pass


def _cfg(tmp_path, **options):
    return RunConfig(**{"maxepochs": 3, "batchsize": 50, "seed": 4, "outputpath": str(tmp_path),
                        "progress": "none", "tensorboard": False, **options})


def _evaluated(metrics, key):
    return [epoch for epoch, value in enumerate(metrics[key]) if value is not None]


@pytest.mark.parametrize("traintype, split, sets, initial", [
    ("FreePruning", "head", "val,test", "full"),  # MaskTrainer.py: train, val, test first
    ("EdgePopup", "test", "test", "none"),  # hidden-networks: its validation loader = test
    ("SupermaskSampling", "test", "test", "none"),
    ("DenseBaseline", "test", "test", "none"),
    ("SlotMachine", "slot_machines", "val,test", "none"),  # train.py's split; the paper: test
    ("LaPerm", "test", "test,train_subset", "sets"),  # LaPermTrainLoop: test and a 30k subset
])
def test_the_original_protocol_evaluates_what_each_original_does(traintype, split, sets,
                                                                  initial):
    extra = {"nettype": "F1"} if traintype == "LaPerm" else {}
    cfg = RunConfig(traintype=traintype, protocol="original", **extra)
    assert (cfg.split, cfg.eval_sets, cfg.initial_eval, cfg.eval_every) == (
        split, sets, initial, 1)
    assert cfg.eval_train_size == 30_000


@pytest.mark.parametrize("traintype, split, sets", [
    ("FreePruning", "head", "val,test"),
    ("EdgePopup", "head", "val,test"),
    ("SupermaskSampling", "head", "val,test"),
    ("DenseBaseline", "head", "val,test"),
    ("SlotMachine", "slot_machines", "val,test"),  # its index split holds images out too
    ("LaPerm", "head", "val,test,train_subset"),
])
def test_without_a_preset_every_method_runs_the_held_out_protocol(traintype, split, sets):
    extra = {"nettype": "F1"} if traintype == "LaPerm" else {}
    cfg = RunConfig(traintype=traintype, **extra)
    assert (cfg.protocol, cfg.split, cfg.eval_sets) == ("held_out", split, sets)


def test_the_old_behaviour_stays_reachable_and_epochs_can_be_thinned(tmp_path):
    cfg = _cfg(tmp_path, traintype="EdgePopup", eval_sets="val,test", initial_eval="full",
               eval_every=2, maxepochs=5)
    metrics = train(cfg, data=_data(), echo=None).metrics
    assert _evaluated(metrics, "trainLoss") == [0, 1, 2, 3, 4, 5]  # epoch 0: the full split
    assert _evaluated(metrics, "valAccuracy") == [0, 2, 4, 5]  # every 2nd and the last
    assert _evaluated(metrics, "testTop5Accuracy") == [0, 2, 4, 5]
    assert len(metrics["remainingWeights"]) == 6  # the method's statistics every epoch


def test_edge_popup_evaluates_only_the_test_set_and_selects_on_it(tmp_path):
    lines = []
    cfg = _cfg(tmp_path, traintype="EdgePopup", protocol="original")
    metrics = train(cfg, data=_data(), echo=lines.append).metrics
    assert _evaluated(metrics, "testAccuracy") == [1, 2, 3]  # nothing before training
    assert _evaluated(metrics, "trainLoss") == [1, 2, 3]
    assert metrics["best"]["selected_on"] == "test" and metrics["best"]["epoch"] >= 1
    assert metrics["best"]["protocol"] == "original"
    epoch0 = next(line for line in lines if line.startswith("epoch   0/3"))
    assert "test" not in epoch0 and "val" not in epoch0
    assert any(line.startswith("best test accuracy") for line in lines)
    assert any(line.startswith("the original's protocol: trained on") for line in lines)


def test_sets_only_at_epoch_0_and_a_training_subset_of_a_chosen_size(tmp_path):
    cfg = _cfg(tmp_path, traintype="FreePruning", initial_eval="sets", protocol="custom",
               eval_sets="val,train_subset", eval_train_size=40)
    assert Trainer(cfg, data=_data(), echo=None).evaluator.subset_size == 40
    metrics = train(cfg, data=_data(), echo=None).metrics
    assert metrics["trainLoss"][0] is None and _evaluated(metrics, "valAccuracy") == [0, 1, 2, 3]
    assert _evaluated(metrics, "trainSubsetAccuracy") == [0, 1, 2, 3]
    assert _evaluated(metrics, "testAccuracy") == []
    assert best_epoch(metrics, "val")["selected_on"] == "val"
    whole = _cfg(tmp_path, traintype="LaPerm", nettype="F1", eval_train_size=0)
    assert Trainer(whole, data=_data(), echo=None).evaluator.subset_size == 150


@pytest.mark.parametrize("options, message", [
    ({"eval_sets": "val,train"}, "--eval_sets takes a comma list"),
    ({"eval_sets": "test,test"}, "names a set twice"),
    ({"eval_every": 0}, "--eval_every"),
    ({"initial_eval": "some"}, "--initial_eval"),
    ({"eval_train_size": 10}, "--eval_train_size applies to --eval_sets with train_subset"),
    ({"heartbeat_minutes": -1.0}, "--heartbeat_minutes"),
])
def test_bad_evaluation_flags_are_one_line_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig(traintype="FreePruning", **options)


def test_a_run_with_thinned_evaluation_resumes_exactly(tmp_path):
    def cfg(out):
        return _cfg(tmp_path / out, traintype="LaPerm", nettype="F1", eval_every=2,
                    eval_train_size=60, maxepochs=3)

    full = train(cfg("a"), data=_data(), echo=None).run_dir

    def stop(line):
        if line.startswith("epoch   1/3"):
            raise Stop()

    with pytest.raises(Stop):
        Trainer(cfg("b"), data=_data(), echo=stop, resolved_seed=4).run()
    stopped = next((tmp_path / "b").rglob("config.json")).parent
    Trainer(cfg("b"), data=_data(), echo=None, resume_dir=stopped, resolved_seed=4).run()
    a, b = (json.loads((p / "metrics.json").read_text()) for p in (full, stopped))
    for key in ("trainLoss", "testAccuracy", "testLoss", "trainSubsetAccuracy", "valAccuracy"):
        assert a[key] == b[key], key
    assert _evaluated(b, "testAccuracy") == [0, 2, 3]
