"""Slot Machines: short real-MNIST runs (+ fine-tuning) with their run directories, statistics
and floors; the learned baseline from a random selection, and --bn."""

import csv
import json

import keras
import numpy as np
import pytest

from masktrainer import methods
from masktrainer.config import ConfigError, RunConfig
from masktrainer.data.preprocessing import Splits
from masktrainer.methods.slot_machines.layers import RandomSlotSelection, SlotValues
from masktrainer.run.rundir import load_arrays
from masktrainer.run.trainer import train

SIZES = [235_200, 30_000, 1_000]


def _subset(splits: Splits, n_train: int) -> Splits:
    return Splits(splits.x_train[:n_train], splits.y_train[:n_train], splits.x_val[:2000],
                  splits.y_val[:2000], splits.x_test[:2000], splits.y_test[:2000],
                  splits.num_classes, splits.source)


@pytest.fixture(scope="module")
def slot_run(tmp_path_factory, mnist_splits):
    out = tmp_path_factory.mktemp("slots")
    # The original evaluates its validation split only, after each epoch; these tests also
    # look at the test set and at the network before training.
    cfg = RunConfig(traintype="SlotMachine", slots=8, selection="greedy", maxepochs=2, seed=11,
                    outputpath=str(out), progress="none", jit_compile="on",
                    eval_sets="val,test", initial_eval="sets")
    return cfg, train(cfg, data=_subset(mnist_splits, 20_000), echo=None)


def test_slot_machine_learns_and_records_its_statistics(slot_run):
    cfg, result = slot_run
    m = result.metrics
    assert m["testAccuracy"][0] < 0.3
    assert m["testAccuracy"][-1] >= 0.93  # floor: 20k images, 2 epochs (measured ~95.5 %)
    assert m["layer_names"] == ["dense_1", "dense_2", "output"] and m["layer_sizes"] == SIZES
    assert m["slotChangedFraction"][0] is None and 0 < m["slotChangedFraction"][1] < 0.5
    for epoch in range(3):
        assert [sum(h) for h in m["slotHistogramPerLayer"][epoch]] == SIZES
        assert all(len(h) == 8 for h in m["slotHistogramPerLayer"][epoch])
    assert "remainingWeights" not in m
    run = result.run_dir
    assert run.parent == result.run_dir.parents[0]
    assert run.parent.relative_to(cfg.outputpath).parts == (
        "SlotMachine", "LeNet", "K_8", "greedy_relu_LR0.1")
    config = json.loads((run / "config.json").read_text())
    assert config["method"] == "slot_machines" and config["optimizer"] == "sgd"
    with open(run / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["slotChangedFraction"] == "" and float(rows[2]["slotChangedFraction"]) > 0
    assert int(rows[1]["output:slot3"]) == m["slotHistogramPerLayer"][1][2][3]


def test_slot_run_arrays_hold_a_selection_of_the_initial_values(slot_run):
    _, result = slot_run
    run = result.run_dir
    values = load_arrays(run / "slot_values.npz")
    selections = load_arrays(run / "selections.npz")
    selected = load_arrays(run / "selected_weights.npz")
    for name in ("dense_1", "dense_2", "output"):
        assert values[name].shape == (*selected[name].shape, 8)
        picked = np.take_along_axis(values[name], selections[name][..., None].astype(np.int64), -1)
        np.testing.assert_array_equal(picked[..., 0], selected[name])
    model = keras.models.load_model(run / "model.keras")
    layer = model.get_layer("dense_1")
    np.testing.assert_array_equal(layer.values.numpy(), values["dense_1"])  # values frozen
    np.testing.assert_array_equal(np.argmax(layer.score.numpy(), -1), selections["dense_1"])


def test_finetuning_starts_from_the_selection_and_trains_weights(slot_run, mnist_splits, tmp_path):
    _, source = slot_run
    cfg = RunConfig(traintype="SlotMachine", finetune_from=str(source.run_dir), maxepochs=1,
                    seed=12, outputpath=str(tmp_path), progress="none", finetune_epoch=2,
                    eval_sets="val,test", initial_eval="sets")
    assert (cfg.lr, cfg.method, cfg.train_weights) == (0.01, "slot_finetune", True)
    result = train(cfg, data=_subset(mnist_splits, 20_000), echo=None)
    m = result.metrics
    assert m["testAccuracy"][0] == pytest.approx(source.metrics["testAccuracy"][-1], abs=1e-6)
    assert m["testAccuracy"][-1] >= m["testAccuracy"][0] - 0.01
    initial = load_arrays(result.run_dir / "initial_weights.npz")
    selected = load_arrays(source.run_dir / "selected_weights.npz")
    final = load_arrays(result.run_dir / "final_weights.npz")
    for name in selected:
        np.testing.assert_array_equal(initial[name], selected[name])
    assert not np.array_equal(final["dense_1"], initial["dense_1"])
    config = json.loads((result.run_dir / "config.json").read_text())
    assert config["finetune_source"]["slots"] == 8


def test_finetune_rejects_an_incompatible_run(slot_run):
    from masktrainer.methods.slot_machines.finetune import SourceRunError
    from masktrainer.run.trainer import Trainer

    _, source = slot_run
    cfg = RunConfig(traintype="SlotMachine", finetune_from=str(source.run_dir), slots=2,
                    finetune_epoch=2)
    with pytest.raises(SourceRunError, match="slots"):
        Trainer(cfg, data=None, echo=None)


def test_finetune_epoch_reads_that_epochs_selection(slot_run, mnist_splits, tmp_path):
    from masktrainer.methods.slot_machines.finetune import SourceRunError, load_source
    from masktrainer.run.trainer import Trainer

    _, source = slot_run
    values = load_arrays(source.run_dir / "slot_values.npz")
    start = load_arrays(source.run_dir / "selections" / "epoch_0000.npz")  # the initial argmax
    assert sorted(start) == ["dense_1", "dense_2", "output"] and start["output"].dtype == np.uint8
    cfg = RunConfig(traintype="SlotMachine", finetune_from=str(source.run_dir), maxepochs=0,
                    finetune_epoch=0, outputpath=str(tmp_path), progress="none", tensorboard=False)
    result = train(cfg, data=_subset(mnist_splits, 2000), echo=None)
    initial = load_arrays(result.run_dir / "initial_weights.npz")
    for name, index in start.items():
        expected = np.take_along_axis(values[name], index[..., None].astype(np.int64), -1)[..., 0]
        np.testing.assert_array_equal(initial[name], expected)
    assert json.loads((result.run_dir / "config.json").read_text())["finetune_source"]["epoch"] == 0
    with pytest.raises(SourceRunError, match="epochs 0 and 2"):
        load_source(source.run_dir, epoch=1)
    with pytest.raises(SourceRunError, match="--finetune_epoch=100"):
        Trainer(RunConfig(traintype="SlotMachine", finetune_from=str(source.run_dir)), echo=None)


def test_random_selection_picks_one_of_the_slot_values_uniformly():
    shape, k = (300, 100), 8
    values = SlotValues(seed=5)((*shape, k)).numpy()
    kernel = RandomSlotSelection(k, selection_seed=9, seed=5)(shape).numpy()
    matches = values == kernel[..., None]
    assert matches.any(-1).all()  # every weight is one of its K candidates
    counts = np.bincount(matches.argmax(-1).ravel(), minlength=k) / kernel.size
    np.testing.assert_allclose(counts, 1 / k, atol=0.01)
    again = RandomSlotSelection(k, selection_seed=9, seed=5)(shape).numpy()
    np.testing.assert_array_equal(again, kernel)
    other = RandomSlotSelection(k, selection_seed=10, seed=5)(shape).numpy()
    assert not np.array_equal(other, kernel)


def test_learned_mode_trains_the_weights_of_a_random_selection_of_the_same_candidates():
    learned = RunConfig(traintype="SlotMachine", selection="learned", seed=4)
    assert (learned.method, learned.lr, learned.maxepochs, learned.train_weights) == (
        "slot_learned", 0.01, 220, True)
    greedy = RunConfig(traintype="SlotMachine", seed=4)
    plain = methods.build_model(learned, (28, 28, 1), 10, 4)
    slots = methods.build_model(greedy, (28, 28, 1), 10, 4)
    for name in ("dense_1", "dense_2", "output"):
        kernel = plain.get_layer(name).kernel.numpy()
        candidates = slots.get_layer(name).values.numpy()
        assert (candidates == kernel[..., None]).any(-1).all(), name
        assert plain.get_layer(name).kernel.trainable
    with pytest.raises(ConfigError, match="do not apply to trained weights"):
        RunConfig(traintype="SlotMachine", selection="learned", eval_selection="sample")


def test_bn_puts_non_affine_batchnorm_after_every_conv():
    cfg = RunConfig(traintype="SlotMachine", nettype="Conv4", bn=True)
    model = methods.build_model(cfg, (32, 32, 3), 10, 1)
    bns = [layer for layer in model.layers if type(layer).__name__ == "BatchNormalization"]
    assert len(bns) == 4 and not any(bn.center or bn.scale for bn in bns)
    plain = methods.build_model(RunConfig(traintype="SlotMachine", nettype="Conv4"), (32, 32, 3),
                                10, 1)
    assert not any(type(layer).__name__ == "BatchNormalization" for layer in plain.layers)
    assert RunConfig(traintype="SlotMachine", nettype="VGG19").bn is True
    # Two slots: the layers are the same, with a quarter of the default K=8's memory.
    vgg = methods.build_model(RunConfig(traintype="SlotMachine", nettype="VGG19", bn=False,
                                        slots=2), (32, 32, 3), 10, 1)
    assert not any(type(layer).__name__ == "BatchNormalization" for layer in vgg.layers)
    with pytest.raises(ConfigError, match="--bn applies"):
        RunConfig(traintype="SlotMachine", bn=True)
