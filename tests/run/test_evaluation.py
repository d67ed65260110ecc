"""End-of-epoch evaluation as the originals define it: top-5, Slot Machines' loss over batches,
LaPerm's training subset in evaluation mode, and the best epoch."""

import json

import keras
import numpy as np
import pytest
from run_support import random_splits as _data

from masktrainer import methods
from masktrainer.config import RunConfig
from masktrainer.run.evaluation import EpochEvaluator, best_epoch, compile_metrics
from masktrainer.run.trainer import train


def _model(cfg):
    method = methods.method_of(cfg)
    model = methods.build_model(cfg, (28, 28, 1), 10, 1)
    model.compile(optimizer=method.runtime.make_optimizer(cfg, 1),
                  loss=keras.losses.CategoricalCrossentropy(), metrics=compile_metrics(method))
    return method, model


def test_top5_and_the_sample_mean_loss():
    cfg = RunConfig(traintype="EdgePopup", seed=1)
    method, model = _model(cfg)
    data = _data()
    scores = EpochEvaluator(cfg, method, data, 1).split(model, "test")
    p = model.predict(data.x_test, verbose=0)
    labels = data.y_test.argmax(1)
    top5 = np.mean([label in np.argsort(row)[-5:] for row, label in zip(p, labels)])
    assert scores["top5"] == pytest.approx(top5)
    assert scores["accuracy"] == pytest.approx(np.mean(p.argmax(1) == labels))
    ce = -np.log(np.clip(p[np.arange(len(p)), labels], 1e-7, 1))
    assert scores["loss"] == pytest.approx(ce.mean(), rel=1e-5)


def test_slot_machines_average_the_loss_over_batches_of_the_training_batch_size():
    cfg = RunConfig(traintype="SlotMachine", batchsize=20, split="head", seed=1)
    method, model = _model(cfg)
    data = _data()
    evaluator = EpochEvaluator(cfg, method, data, 1)
    assert evaluator.batch_size == 20
    scores = evaluator.split(model, "val", limit=50)  # batches 20, 20, 10
    p = model.predict(data.x_val[:50], verbose=0)
    ce = -np.log(np.clip(p[np.arange(50), data.y_val[:50].argmax(1)], 1e-7, 1))
    batch_means = [ce[:20].mean(), ce[20:40].mean(), ce[40:].mean()]
    assert scores["loss"] == pytest.approx(np.mean(batch_means), rel=1e-5)
    assert scores["loss"] != pytest.approx(ce.mean(), rel=1e-5)


@pytest.mark.parametrize("traintype,extra", [("EdgePopup", {"eval_batchsize": 20}),
                                             ("SlotMachine", {"batchsize": 20, "split": "head"})])
def test_under_a_strategy_arrays_are_streamed_with_evaluates_scores(monkeypatch, traintype,
                                                                   extra):
    """Keras' evaluate of arrays under tf.distribute segfaults now and then (README): the
    evaluator streams them instead, with the scores evaluate gives on one device."""
    import tensorflow as tf

    data = _data()
    cfg = RunConfig(traintype=traintype, seed=1, **extra)
    method, model = _model(cfg)
    want = EpochEvaluator(cfg, method, data, 1).split(model, "val", limit=50)  # 20, 20, 10
    mirrored = RunConfig(traintype=traintype, seed=1, distribute="mirrored", **extra)
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        _, distributed = _model(mirrored)
    distributed.set_weights(model.get_weights())
    monkeypatch.setattr(distributed, "evaluate", lambda *a, **k: pytest.fail("evaluate called"))
    got = EpochEvaluator(mirrored, method, data, 1).split(distributed, "val", limit=50)
    assert got == pytest.approx(want, rel=1e-5)


def test_laperm_evaluates_a_seeded_training_subset_in_evaluation_mode(tmp_path):
    cfg = RunConfig(traintype="LaPerm", nettype="F1", maxepochs=1, batchsize=50, seed=3,
                    outputpath=str(tmp_path), progress="none", tensorboard=False,
                    protocol="original")
    method = methods.method_of(cfg)
    assert cfg.eval_sets == "test,train_subset" and cfg.eval_train_size == 30_000
    data = _data()
    evaluator = EpochEvaluator(cfg, method, data, 3)
    assert evaluator.subset_size == 150 and "trainSubsetAccuracy" in evaluator.series
    metrics = train(cfg, data=data, echo=None).metrics
    assert len(metrics["trainSubsetAccuracy"]) == 2 and len(metrics["trainSubsetLoss"]) == 2
    other = RunConfig(maxepochs=1, batchsize=50, seed=3, outputpath=str(tmp_path),
                      progress="none", tensorboard=False)
    assert "trainSubsetAccuracy" not in train(other, data=data, echo=None).metrics


def test_the_best_epoch_is_the_first_with_the_best_validation_accuracy(tmp_path):
    metrics = {"valAccuracy": [0.1, 0.5, 0.7, 0.7, 0.6], "testAccuracy": [0, 1, 2, 3, 4]}
    best = best_epoch(metrics)
    assert best["epoch"] == 2 and best["testAccuracy"] == 2 and best["valTop5Accuracy"] is None
    assert best_epoch({"valAccuracy": [0.3]})["epoch"] == 0
    lines = []
    cfg = RunConfig(maxepochs=2, batchsize=50, seed=2, outputpath=str(tmp_path),
                    progress="none", tensorboard=False)
    result = train(cfg, data=_data(), echo=lines.append)
    saved = json.loads((result.run_dir / "metrics.json").read_text())
    assert saved["best"] == best_epoch(saved, "val", "held_out")
    assert saved["best"]["epoch"] in (1, 2) and saved["best"]["protocol"] == "held_out"
    assert len(saved["valTop5Accuracy"]) == len(saved["testTop5Accuracy"]) == 3
    assert any(line.startswith("best validation accuracy") for line in lines)
