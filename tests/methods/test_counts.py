"""masktrainer.methods.counts: the sign counts of masks and effective weights that every
masked method records, and the arrays a run saves."""

import keras
import numpy as np

from masktrainer.methods.counts import (
    COUNT_FIELDS,
    ConnectivityStats,
    connectivity_stats,
    kept_fractions,
    mask_arrays,
    masked_layers,
    plain_kernel_arrays,
    sign_counts,
)
from masktrainer.methods.edge_popup.layers import EdgePopupLayers
from masktrainer.nn.seeds import LayerSeeds


def test_sign_counts_are_negative_zero_positive():
    assert sign_counts(np.array([-2.0, 0.0, 0.0, 1.0, 3.0])) == [1, 2, 2]


def test_stats_total_remaining_and_fractions():
    per_layer = [[6, 24, 30, 3, 24, 33], [0, 10, 30, 0, 10, 30]]
    stats = ConnectivityStats(["a", "b"], [60, 40], per_layer)
    assert stats.total == 100 and stats.remaining == 66  # all but the zero masks
    fractions = stats.fractions()
    assert list(fractions) == list(COUNT_FIELDS)
    assert fractions["zero_masks"] == 0.34 and fractions["pos_effective"] == 0.63


def test_a_models_masked_layers_are_counted_and_saved_and_plain_ones_kept_apart():
    factory = EdgePopupLayers(keep_ratio=0.25)
    inputs = keras.Input((12,))
    hidden = factory.dense(8, "relu", LayerSeeds(kernel=1, score=2), "masked")(inputs)
    outputs = keras.layers.Dense(3, use_bias=False, name="plain")(hidden)
    model = keras.Model(inputs, outputs)
    assert [layer.name for layer in masked_layers(model)] == ["masked"]
    stats = connectivity_stats(model)
    assert stats.layer_names == ["masked"] and stats.layer_sizes == [96]
    assert stats.per_layer[0][:3] == [0, 72, 24]  # edge-popup masks are 0/1: keeps 25 %
    assert kept_fractions(model) == [0.25]
    assert sum(stats.per_layer[0][3:]) == 96
    assert set(mask_arrays(model)) and all(key.startswith("masked") for key in mask_arrays(model))
    assert list(plain_kernel_arrays(model)) == ["plain"]
    assert plain_kernel_arrays(model)["plain"].shape == (8, 3)
