"""What Slot Machines runs record (masktrainer.methods.slot_machines.recorder): selections,
histograms, changed fractions, the saved arrays and the selection snapshots."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from masktrainer.methods.slot_machines.layers import SlotMachineLayers
from masktrainer.methods.slot_machines.recorder import (
    SNAPSHOT_FOLDER,
    SlotRecorder,
    batchnorm_arrays,
    changed_fractions,
    changed_since_epoch_0,
    selected_kernel_arrays,
    slot_histograms,
    slot_layers,
    slot_selections,
    slot_value_arrays,
    snapshot_name,
)
from masktrainer.run.rundir import RunDirectory

SLOTS = 4


def _model() -> keras.Model:
    """Two slot layers (3x5 and 5x2 connections) with a BatchNormalization between."""
    factory = SlotMachineLayers(slots=SLOTS, selection="greedy")
    inputs = keras.Input((3,))
    x = factory.dense(5, "relu", None, "first")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    return keras.Model(inputs, factory.dense(2, None, None, "second")(x))


def _select(layer, index: np.ndarray) -> None:
    """Make ``index`` the argmax slot of every connection of ``layer``."""
    layer.score.assign(np.eye(SLOTS, dtype=np.float32)[index])


@pytest.fixture()
def model() -> keras.Model:
    model = _model()
    _select(model.get_layer("first"), np.zeros((3, 5), int))
    _select(model.get_layer("second"), np.arange(10).reshape(5, 2) % SLOTS)
    return model


def test_selections_histograms_and_kernels_follow_the_scores(model):
    assert [layer.name for layer in slot_layers(model)] == ["first", "second"]
    selections = slot_selections(model)
    assert selections["first"].dtype == np.uint8 and selections["first"].shape == (3, 5)
    assert selections["second"].ravel().tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
    assert slot_histograms(selections, SLOTS) == [[15, 0, 0, 0], [3, 3, 2, 2]]
    values = slot_value_arrays(model)
    assert values["first"].shape == (3, 5, SLOTS)
    kernels = selected_kernel_arrays(model)
    np.testing.assert_array_equal(kernels["first"], values["first"][..., 0])
    np.testing.assert_array_equal(
        kernels["second"],
        np.take_along_axis(values["second"], selections["second"][..., None].astype(int),
                           -1)[..., 0])


def test_changed_fractions_per_layer():
    before = {"a": np.array([0, 1, 2, 3]), "b": np.array([[1, 1]])}
    after = {"a": np.array([0, 1, 0, 0]), "b": np.array([[1, 1]])}
    assert changed_fractions(before, after) == [0.5, 0.0]


def test_the_recorder_measures_changes_since_the_previous_epoch(model):
    recorder = SlotRecorder(model)
    assert recorder.layer_names == ["first", "second"] and recorder.layer_sizes == [15, 10]
    assert recorder.per_layer_fields() == {
        "slotHistogramPerLayer": ["slot0", "slot1", "slot2", "slot3"],
        "slotChangedFractionPerLayer": ["changed_fraction"]}
    first = recorder.measure(model)
    assert first["slotChangedFraction"] is None
    assert first["slotChangedFractionPerLayer"] == [[None], [None]]
    assert recorder.describe(first) == " | selection changed - | slots used 72.0/12.0/8.0/8.0%"
    index = np.zeros((3, 5), int)
    index[0] = 1  # 5 of the first layer's 15 connections move
    _select(model.get_layer("first"), index)
    second = recorder.measure(model)
    assert second["slotChangedFractionPerLayer"] == [[pytest.approx(1 / 3)], [0.0]]
    assert second["slotChangedFraction"] == pytest.approx(5 / 25)
    assert second["slotHistogramPerLayer"][0] == [10, 5, 0, 0]
    assert recorder.describe(second).startswith(" | selection changed 20.00% |")
    assert recorder.measure(model)["slotChangedFraction"] == 0.0


def test_saved_arrays_and_snapshots(model):
    recorder = SlotRecorder(model, snapshot_every=5, last_epoch=12)
    assert list(recorder.initial_arrays(model)) == ["slot_values.npz"]
    assert sorted(recorder.final_arrays(model)) == ["selected_weights.npz", "selections.npz"]
    assert snapshot_name(7) == f"{SNAPSHOT_FOLDER}/epoch_0007.npz"
    assert [epoch for epoch in range(14) if recorder.epoch_arrays(model, epoch)] == [0, 5, 10, 12]
    (snapshot,) = recorder.epoch_arrays(model, 5).values()
    assert sorted(snapshot) == ["bn/bn/0", "bn/bn/1", "bn/bn/2", "bn/bn/3", "first", "second"]
    assert sorted(batchnorm_arrays(model)) == ["bn/bn/0", "bn/bn/1", "bn/bn/2", "bn/bn/3"]
    only_last = SlotRecorder(model, last_epoch=3)
    assert [epoch for epoch in range(5) if only_last.epoch_arrays(model, epoch)] == [3]


def test_changed_since_epoch_0_reads_the_snapshots(model, tmp_path):
    run = RunDirectory.create(tmp_path, echo=None)
    recorder = SlotRecorder(model, snapshot_every=1, last_epoch=2)
    assert changed_since_epoch_0(run.path, 2) is None  # no snapshots kept
    for name, arrays in recorder.epoch_arrays(model, 0).items():
        run.save_arrays(name, arrays)
    index = np.zeros((3, 5), int)
    index[:, :2] = 3  # 6 of 25 connections move; the BatchNorm statistics are not counted
    _select(model.get_layer("first"), index)
    model.get_layer("bn").moving_mean.assign(np.ones(5, np.float32))
    for name, arrays in recorder.epoch_arrays(model, 2).items():
        run.save_arrays(name, arrays)
    assert changed_since_epoch_0(run.path, 2) == pytest.approx(6 / 25)
    assert changed_since_epoch_0(run.path, 1) is None
