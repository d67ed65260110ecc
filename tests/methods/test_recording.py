"""What a run records per method (masktrainer.methods.recording): the plain recorder and the
mask counts of every masked method, their console lines and saved arrays."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from masktrainer import layout
from masktrainer.methods.counts import COUNT_FIELDS
from masktrainer.methods.edge_popup.layers import EdgePopupLayers
from masktrainer.methods.recording import CORE_KEYS, MaskCountRecorder, Recorder
from masktrainer.nn.seeds import LayerSeeds


@pytest.fixture(scope="module")
def model() -> keras.Model:
    """A masked layer keeping 24 of its 96 weights, then a plain 8x3 Dense."""
    factory = EdgePopupLayers(keep_ratio=0.25)
    inputs = keras.Input((12,))
    hidden = factory.dense(8, "relu", LayerSeeds(kernel=1, score=2), "masked")(inputs)
    outputs = keras.layers.Dense(3, use_bias=False, name="plain")(hidden)
    return keras.Model(inputs, outputs)


def test_the_plain_recorder_records_nothing_and_saves_the_plain_kernels(model):
    recorder = Recorder(model)
    assert CORE_KEYS == layout.CORE_SERIES and recorder.flat_keys == ()
    assert recorder.layer_names == ["plain"] and recorder.layer_sizes == [24]
    assert recorder.per_layer_fields() == {} and recorder.measure(model) == {}
    assert recorder.describe({}) == "" and recorder.legend() == "" and recorder.summary({}) == ""
    assert recorder.epoch_arrays(model, 1) == {}
    initial = recorder.initial_arrays(model)
    assert list(initial) == [layout.INITIAL_WEIGHTS_FILE] and list(initial[
        layout.INITIAL_WEIGHTS_FILE]) == ["plain"]
    final = recorder.final_arrays(model)[layout.FINAL_WEIGHTS_FILE]["plain"]
    np.testing.assert_array_equal(final, model.get_layer("plain").kernel.numpy())


def test_mask_counts_measure_the_masked_layers(model):
    recorder = MaskCountRecorder(model)
    assert recorder.flat_keys == (layout.REMAINING_KEY,)
    assert recorder.layer_names == ["masked"] and recorder.layer_sizes == [96]
    assert recorder.per_layer_fields() == {layout.PER_LAYER_KEY: list(COUNT_FIELDS)}
    values = recorder.measure(model)
    assert values[layout.REMAINING_KEY] == 24
    (counts,) = values[layout.PER_LAYER_KEY]
    assert counts[:3] == [0, 72, 24] and sum(counts[3:]) == 96


def test_the_console_line_reports_remaining_or_flipped_shares(model):
    values = MaskCountRecorder(model).measure(model)
    neg, zero, pos = values[layout.PER_LAYER_KEY][0][3:]
    weights = f"{100 * neg / 96:.2f}%/{100 * zero / 96:.2f}%/{100 * pos / 96:.2f}%"
    assert MaskCountRecorder(model).describe(values) == (
        f" | remaining 25.00% (24/96) | masks -/0/+ 0.00%/75.00%/25.00% | weights -/0/+ {weights}")
    signed = MaskCountRecorder(model, signed=True).describe(values)
    assert signed.startswith(" | flipped 0.00% (0/96) | masks -/0/+ 0.00%/75.00%/25.00%")
    assert "0 prunes" in MaskCountRecorder(model).legend()
    assert "a negative mask flips its weight" in MaskCountRecorder(model, signed=True).legend()


def test_the_summary_reads_the_last_epoch(model):
    metrics = {"layer_sizes": [60, 40], "remainingWeights": [100, 80, 25],
               layout.PER_LAYER_KEY: [[[0, 0, 60, 0, 0, 60], [0, 0, 40, 0, 0, 40]],
                                      [[6, 0, 54, 6, 0, 54], [4, 0, 36, 4, 0, 36]]]}
    assert MaskCountRecorder(model).summary(metrics) == ", remaining 25.00%"
    assert MaskCountRecorder(model, signed=True).summary(metrics) == ", flipped 10.00%"


def test_masked_runs_save_kernels_and_masks(model):
    initial = MaskCountRecorder(model).initial_arrays(model)
    assert list(initial) == [layout.INITIAL_WEIGHTS_FILE]
    np.testing.assert_array_equal(initial[layout.INITIAL_WEIGHTS_FILE]["masked"],
                                  model.get_layer("masked").kernel.numpy())
    final = MaskCountRecorder(model).final_arrays(model)
    assert list(final) == [layout.MASKS_FILE]
    assert all(key.startswith("masked") for key in final[layout.MASKS_FILE])
    kept = MaskCountRecorder(model, keep_kernels=True).final_arrays(model)
    assert sorted(kept) == sorted([layout.MASKS_FILE, layout.FINAL_WEIGHTS_FILE])
    assert list(kept[layout.FINAL_WEIGHTS_FILE]) == ["masked"]
