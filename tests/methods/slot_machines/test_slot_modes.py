"""Slot Machines' other modes: the learned baseline from a random selection, --bn, and which runs
fine-tuning accepts."""

import json

import numpy as np
import pytest

from masktrainer import methods
from masktrainer.config import ConfigError, RunConfig
from masktrainer.methods.slot_machines.finetune import SourceRunError, load_source
from masktrainer.methods.slot_machines.layers import RandomSlotSelection, SlotValues


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


def _fake_source(tmp_path, selection):
    run = tmp_path / f"run-{selection}"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"traintype": "SlotMachine",
                                                 "selection": selection}))
    (run / "metrics.json").write_text(json.dumps({"epochs_completed": 3}))
    (run / "model.keras").write_bytes(b"not read before the checks")
    return run


def test_fine_tuning_takes_greedy_sources_unless_asked(tmp_path):
    probabilistic = _fake_source(tmp_path, "probabilistic")
    with pytest.raises(SourceRunError, match="greedy runs only.*--finetune_any_selection"):
        load_source(probabilistic, epoch=3)
    with pytest.raises(SourceRunError, match="cannot be loaded"):  # accepted: reads the model
        load_source(probabilistic, epoch=3, any_selection=True)
    with pytest.raises(SourceRunError, match="not a slot-machine run"):
        load_source(_fake_source(tmp_path, "learned"), epoch=3)
