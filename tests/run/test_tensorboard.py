"""TensorBoard as Keras lays it out: train/, validation/ and test/ subruns holding the same
tags (their curves overlay), and only per-epoch series (no layer sizes)."""

import tensorflow as tf
from run_support import random_splits as _data

from masktrainer.config import RunConfig
from masktrainer.run.monitors import subrun_tag
from masktrainer.run.trainer import train


def _tags(folder):
    found = {}
    for path in folder.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append(event.step)
    return found


def test_keys_map_to_keras_subruns_and_tags():
    assert subrun_tag("trainLoss") == ("train", "epoch_loss")
    assert subrun_tag("valAccuracy") == ("validation", "epoch_accuracy")
    assert subrun_tag("testTop5Accuracy") == ("test", "epoch_top5_accuracy")
    assert subrun_tag("trainSubsetLoss") == ("train_subset", "epoch_loss")
    assert subrun_tag("valCrossEntropy") == ("validation", "epoch_cross_entropy")
    assert subrun_tag("remainingWeights") == ("train", "remainingWeights")


def test_subrun_folders_overlay_per_metric(tmp_path):
    cfg = RunConfig(traintype="MinPruning", maxepochs=2, batchsize=50, seed=3,
                    outputpath=str(tmp_path), progress="none", eval_every=2)
    board = train(cfg, data=_data(), echo=None).run_dir / "tensorboard"
    assert {p.name for p in board.iterdir() if p.is_dir()} == {"train", "validation", "test"}
    assert set(_tags(board)) >= {"_hparams_/session_start_info", "reported/test_accuracy"}
    train_tags, val_tags = _tags(board / "train"), _tags(board / "validation")
    assert {"epoch_loss", "epoch_accuracy", "epoch_cross_entropy"} <= set(val_tags)
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate", "penalty"} <= set(train_tags)
    assert val_tags["epoch_accuracy"] == [0, 2]  # epoch 1 was not evaluated: nothing written
    assert train_tags["epoch_loss"] == [0, 1, 2]
    assert not any(tag.startswith(("layer_sizes", "layer_names")) for tag in train_tags)
    assert any(tag.startswith("remainingWeightsPerLayer/") for tag in train_tags)
    assert set(_tags(board / "test")) == {"epoch_loss", "epoch_accuracy", "epoch_top5_accuracy",
                                          "epoch_cross_entropy"}
