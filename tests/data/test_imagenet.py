"""The ImageNet path end to end on a tiny fake ILSVRC 2012 (official tarball layout) built here:
tfds prepares it from --manual_dir, the pipeline streams it, and a ResNet-18 trains under a
mirrored strategy on 2 logical CPUs."""

import json

import numpy as np
import pytest
import tensorflow as tf

from masktrainer.config import ConfigError, RunConfig
from masktrainer.data.imagenet import ImageNetData
from masktrainer.methods import epoch_learning_rate
from masktrainer.run.loading import load_data
from masktrainer.run.trainer import Trainer


def test_the_largescale_recipe_is_the_originals():
    cfg = RunConfig(traintype="EdgePopup", nettype="ResNet50", initializer="signed_constant")
    assert cfg.dataset == "imagenet2012" and cfg.split == "test"
    assert (cfg.lr, cfg.momentum, cfg.weight_decay, cfg.batchsize, cfg.maxepochs) == (
        0.256, 0.875, 2.0**-15, 256, 100)
    assert (cfg.warmup_epochs, cfg.label_smoothing, cfg.lr_schedule) == (5, 0.1, "cosine")
    assert (cfg.normalization, cfg.augment) == ("hidden_networks", "none")
    sc = RunConfig(traintype="EdgePopup", nettype="ResNet50", initializer="signed_constant",
                   scale_fan=True, keep_ratio=0.3)
    assert sc.lr == 0.1  # resnet50-sc-unsigned.yaml
    rates = [epoch_learning_rate(cfg, e) for e in range(7)]
    assert rates[:5] == pytest.approx([0.256 * (e + 1) / 5 for e in range(5)])
    assert rates[5] == pytest.approx(0.256) and rates[6] < 0.256
    assert RunConfig(traintype="SupermaskSampling", nettype="ResNet50").lr == 400.0
    with pytest.raises(ConfigError, match="imagenet2012"):
        RunConfig(traintype="EdgePopup", nettype="ResNet18", augment="crop_flip")
    with pytest.raises(ConfigError, match="--image_size applies"):
        RunConfig(traintype="EdgePopup", image_size=64)


def test_the_pipeline_streams_crops_and_normalises(fake_imagenet, tmp_path):
    data = ImageNetData(str(fake_imagenet), str(tmp_path / "tfds"), image_size=32)
    assert data.sizes() == {"train": 12, "val": 4, "test": 4} and data.input_shape == (32, 32, 3)
    batches = data.train_batches(5, seed=3)
    assert batches.steps == 3
    first = [x.numpy() for x, _ in batches.epoch(1)]
    again = [x.numpy() for x, _ in batches.epoch(1)]
    other = [x.numpy() for x, _ in batches.epoch(2)]
    assert [b.shape for b in first] == [(5, 32, 32, 3), (5, 32, 32, 3), (2, 32, 32, 3)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))  # a function of (seed, epoch)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    x, y = next(iter(data.evaluation("val", 4)["x"]))
    assert x.shape == (4, 32, 32, 3) and y.shape == (4, 1000)
    assert -2.2 < float(tf.reduce_min(x)) and float(tf.reduce_max(x)) < 2.7  # ImageNet mean/std
    assert isinstance(load_data(RunConfig(traintype="EdgePopup", nettype="ResNet18",
                                          manual_dir=str(fake_imagenet),
                                          tfds_data_dir=str(tmp_path / "tfds"), image_size=32)),
                      ImageNetData)


def test_a_resnet18_trains_on_the_stream_under_a_mirrored_strategy(fake_imagenet, tmp_path):
    # The dense baseline (largescale/baselines/resnet18-dense.yaml): edge-popup's top-k over
    # 11.7 M scores per step is the same code as on CIFAR and only makes this test slow.
    if len(tf.config.list_logical_devices("CPU")) < 2:
        pytest.skip("needs 2 logical CPU devices (set up in conftest.py)")
    cfg = RunConfig(traintype="DenseBaseline", nettype="ResNet18", manual_dir=str(fake_imagenet),
                    tfds_data_dir=str(tmp_path / "tfds"), image_size=32, maxepochs=1,
                    batchsize=4, seed=1, distribute="mirrored", outputpath=str(tmp_path / "out"),
                    progress="none", tensorboard=False)
    lines = []
    result = Trainer(cfg, echo=lines.append).run()
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["status"] == "complete" and len(metrics["testTop5Accuracy"]) == 2
    assert "2 replica(s)" in lines[1] and "train/val/test 12/4/4" in lines[1]
    assert metrics["layer_sizes"][-1] == 512 * 1000 and len(metrics["layer_names"]) == 21
    assert all(np.isfinite(metrics[key][-1]) for key in ("trainLoss", "valLoss", "testLoss"))
