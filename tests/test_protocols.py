"""The two named protocols on tiny real runs (LeNet, a few hundred MNIST images): which images
train, which set selects the epoch and which is reported; Slot Machines reports test accuracy
at its best-validation epoch; a protocol contradicted by --split/--eval_sets is an error."""

import dataclasses

import numpy as np
import pytest

from masktrainer.config import RunConfig
from masktrainer.errors import ConfigError
from masktrainer.protocols import describe, label, selection_set
from masktrainer.run import loading
from masktrainer.run.trainer import train

TRAIN, TEST, HELD_OUT = 600, 200, 100


@pytest.fixture
def few_mnist(monkeypatch):
    """The embedded MNIST cut to its first 600 training and 200 test images."""
    real = loading.load_raw

    def load(*args):
        raw = real(*args)
        return dataclasses.replace(raw, x_train=raw.x_train[:TRAIN], y_train=raw.y_train[:TRAIN],
                                   x_test=raw.x_test[:TEST], y_test=raw.y_test[:TEST])

    monkeypatch.setattr(loading, "load_raw", load)


def _cfg(tmp_path, **options):
    return RunConfig(**{"nettype": "LeNet", "maxepochs": 3, "batchsize": 100, "seed": 5,
                        "outputpath": str(tmp_path), "progress": "none", "tensorboard": False,
                        "data_source": "embedded", **options})


def _evaluated(metrics, key):
    return [e for e, value in enumerate(metrics[key]) if value is not None]


def _reported_where_selected(metrics, selected_on):
    best = metrics["best"]
    accuracy = metrics[f"{selected_on}Accuracy"]
    trained = [e for e in range(1, len(accuracy)) if accuracy[e] is not None]
    assert best["selected_on"] == selected_on
    assert best["epoch"] == max(trained, key=lambda e: (accuracy[e], -e))
    assert best["reported"] == "testAccuracy"
    assert best["testAccuracy"] == metrics["testAccuracy"][best["epoch"]]


def test_the_original_protocol_trains_on_every_image_and_reports_the_best_test_epoch(
        few_mnist, tmp_path):
    cfg = _cfg(tmp_path, traintype="EdgePopup", protocol="original")
    assert (cfg.split, cfg.eval_sets, selection_set(cfg)) == ("test", "test", "test")
    data = loading.load_data(cfg)
    assert data.sizes() == {"train": TRAIN, "val": TEST, "test": TEST}  # val is the test set
    assert np.array_equal(data.x_val, data.x_test)
    lines = []
    metrics = train(cfg, data=data, echo=lines.append).metrics
    assert _evaluated(metrics, "testAccuracy") == [1, 2, 3]
    _reported_where_selected(metrics, "test")
    assert metrics["best"]["protocol"] == "original"
    assert any(line.startswith(f"the original's protocol: trained on {TRAIN} images "
                               "(--split test), the best test top-1") for line in lines)
    assert label("original", "test") == "original (best test)"


def test_the_held_out_protocol_selects_on_validation_and_reports_test_there(few_mnist,
                                                                           tmp_path):
    cfg = _cfg(tmp_path, traintype="EdgePopup", validation_size=HELD_OUT)
    assert (cfg.protocol, cfg.split, cfg.eval_sets) == ("held_out", "head", "val,test")
    data = loading.load_data(cfg)
    assert data.sizes() == {"train": TRAIN - HELD_OUT, "val": HELD_OUT, "test": TEST}
    lines = []
    metrics = train(cfg, data=data, echo=lines.append).metrics
    assert _evaluated(metrics, "valAccuracy") == _evaluated(metrics, "testAccuracy") == [1, 2, 3]
    _reported_where_selected(metrics, "val")
    assert metrics["best"]["protocol"] == "held_out"
    assert (f"held-out protocol: trained on {TRAIN - HELD_OUT} images (--split head), epoch "
            f"selected on validation ({HELD_OUT} images), test top-1 reported there") in lines


def test_slot_machines_reports_test_accuracy_at_its_best_validation_epoch(few_mnist, tmp_path):
    original = RunConfig(traintype="SlotMachine", protocol="original")
    assert (original.split, original.eval_sets) == ("slot_machines", "val,test")
    # Its index split needs all 60k images: on the few here, the head split holds out.
    cfg = _cfg(tmp_path, traintype="SlotMachine", slots=2, split="head",
               validation_size=HELD_OUT, lr=0.1)
    assert selection_set(cfg) == "val"
    metrics = train(cfg, data=loading.load_data(cfg), echo=None).metrics
    assert _evaluated(metrics, "testAccuracy") == [1, 2, 3]
    _reported_where_selected(metrics, "val")


def test_the_slot_machines_index_split_sizes():
    cfg = RunConfig(traintype="SlotMachine", protocol="original", data_source="embedded")
    assert loading.load_data(cfg).sizes() == {"train": 50_000, "val": 10_000, "test": 10_000}


@pytest.mark.parametrize("options, message", [
    ({"traintype": "EdgePopup", "protocol": "original", "split": "head"},
     "--split=head is not the original's protocol"),
    ({"traintype": "EdgePopup", "protocol": "held_out", "split": "test"},
     "--protocol held_out selects on held-out training images"),
    ({"traintype": "EdgePopup", "eval_sets": "test"}, "--eval_sets needs val"),
    ({"traintype": "SlotMachine", "protocol": "original", "eval_sets": "val"}, "drops test"),
    ({"traintype": "FreePruning", "nettype": "ResNet", "resnet_quirks": True,
      "protocol": "held_out"}, "--resnet_quirks validates on the test set"),
    ({"traintype": "EdgePopup", "protocol": "best"}, "--protocol='best' is not one of"),
])
def test_a_contradicted_protocol_is_a_one_line_error(options, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig(**options)


def test_custom_takes_the_split_and_sets_as_given_and_says_so():
    cfg = RunConfig(traintype="EdgePopup", protocol="custom", split="head", eval_sets="test")
    assert selection_set(cfg) == "test"
    assert describe(cfg).startswith("custom protocol: trained (--split head), the best test")


@pytest.mark.parametrize("options, inferred", [
    # the version before --protocol: edge-popup trained on the head and selected on test
    ({"traintype": "EdgePopup", "split": "head", "eval_sets": "test"}, "custom"),
    ({"traintype": "EdgePopup", "split": "test", "eval_sets": "test"}, "original"),
    ({"traintype": "SlotMachine", "eval_sets": "val"}, "custom"),  # test never evaluated
    ({"traintype": "LaPerm", "nettype": "F1", "split": "test"}, "original"),
    ({"traintype": "FreePruning"}, "original"),
])
def test_a_run_directory_without_a_protocol_reads_as_what_it_ran(options, inferred):
    from masktrainer.methods.upgrade import config_values

    config = RunConfig(protocol="custom", **options).to_dict()
    del config["protocol"]
    assert config_values(config)["protocol"] == inferred
    assert RunConfig.from_dict(config_values(config)).protocol == inferred


def test_resnet_quirks_default_to_the_original_protocol():
    """The quirky ResNet validated on the test set: its default protocol is the original's."""
    assert RunConfig(nettype="ResNet", resnet_quirks=True).protocol == "original"
    assert RunConfig(nettype="ResNet").protocol == "held_out"
